"""chainrule: automatic differentiation on NumPy.

>>> import chainrule as cr
>>> x = cr.arange(4.0, requires_grad=True)
>>> y = 2 * cr.dot(x, x)
>>> y.backward()
>>> x.grad
tensor([ 0.,  4.,  8., 12.])
"""

# ruff: noqa: F401, I001 - this module re-exports the public names, in import order
# isort: off
from .tensor import Tensor, bool_, float16, float32, float64, int32, int64  # the op table needs it
# isort: on
from . import linalg, random
from .api import *  # noqa: F403
from .api import abs, divide, max, min, pow, sum  # noqa: A004
from .creation import (
    arange, empty, eye, from_numpy, full, full_like, linspace, ones, ones_like, tensor, zeros,
    zeros_like,
)
from .engine import gradients
from .node import Node
from .functional import grad, hessian, hvp, jacfwd, jacobian, jacrev, jvp, value_and_grad, vjp
from .gradcheck import gradcheck
from .modes import enable_grad, is_grad_enabled, no_grad, pause, record, set_grad_enabled
from .viz import explain, graph, plot  # matplotlib is imported only when plotting
from .tape import GradientTape

__version__ = "0.1.0"
