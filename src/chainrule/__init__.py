"""chainrule: automatic differentiation on NumPy.

>>> import chainrule as cr
>>> x = cr.arange(4.0, requires_grad=True)
>>> y = 2 * cr.dot(x, x)
>>> y.backward()
>>> x.grad
tensor([ 0.,  4.,  8., 12.])
"""

# The tensor first: the op table, which the other modules import, needs the class.
# isort: off
from .tensor import Tensor
# isort: on
from . import api, linalg, random, tree_util
from .api import (  # noqa: A004
    abs,
    absolute,
    add,
    amax,
    amin,
    arccos,
    arcsin,
    arctan,
    arctan2,
    argmax,
    argmin,
    astype,
    broadcast_to,
    ceil,
    clip,
    concatenate,
    conj,
    cos,
    cosh,
    cumsum,
    diag,
    diagonal,
    divide,
    dot,
    einsum,
    equal,
    exp,
    expand_dims,
    expm1,
    flip,
    floor,
    floor_divide,
    greater,
    greater_equal,
    imag,
    inner,
    isfinite,
    isinf,
    isnan,
    less,
    less_equal,
    log,
    log1p,
    log2,
    log10,
    log_softmax,
    logical_and,
    logical_not,
    logical_or,
    logical_xor,
    logsumexp,
    matmul,
    max,
    maximum,
    mean,
    min,
    minimum,
    moveaxis,
    multiply,
    negative,
    not_equal,
    outer,
    pow,
    power,
    prod,
    ravel,
    real,
    reciprocal,
    relu,
    remainder,
    reshape,
    rint,
    sigmoid,
    sign,
    sin,
    sinh,
    softmax,
    split,
    sqrt,
    square,
    squeeze,
    stack,
    std,
    stop_gradient,
    subtract,
    sum,
    swapaxes,
    tan,
    tanh,
    tensordot,
    tile,
    trace,
    transpose,
    true_divide,
    trunc,
    var,
    vdot,
    where,
)
from .checkpoint import checkpoint
from .creation import (
    arange,
    empty,
    eye,
    from_numpy,
    full,
    full_like,
    linspace,
    ones,
    ones_like,
    tensor,
    zeros,
    zeros_like,
)
from .custom import custom_jvp, custom_vjp
from .dtypes import bool_, float16, float32, float64, int32, int64
from .engine import gradients
from .functional import grad, hessian, hvp, jacfwd, jacobian, jacrev, jvp, value_and_grad, vjp
from .gradcheck import gradcheck
from .modes import enable_grad, is_grad_enabled, no_grad, pause, record, set_grad_enabled
from .node import Node
from .ops.primitive import primitive
from .tape import GradientTape
from .viz import explain, graph, plot  # matplotlib is imported only when plotting

__version__ = "0.1.0"

__all__ = [
    "GradientTape", "Node", "Tensor", "abs", "absolute", "add", "amax", "amin", "api", "arange",
    "arccos", "arcsin", "arctan", "arctan2", "argmax", "argmin", "astype", "bool_",
    "broadcast_to", "ceil",
    "checkpoint", "clip", "concatenate", "conj", "cos", "cosh", "cumsum", "custom_jvp",
    "custom_vjp", "diag",
    "diagonal", "divide", "dot", "einsum", "empty", "enable_grad", "equal", "exp",
    "expand_dims", "explain", "expm1", "eye", "flip", "float16", "float32", "float64", "floor",
    "floor_divide", "from_numpy", "full", "full_like", "grad", "gradcheck", "gradients",
    "graph", "greater", "greater_equal", "hessian", "hvp", "imag", "inner", "int32", "int64",
    "is_grad_enabled", "isfinite", "isinf", "isnan", "jacfwd", "jacobian", "jacrev", "jvp",
    "less", "less_equal", "linalg", "linspace", "log", "log10", "log1p", "log2", "log_softmax",
    "logical_and", "logical_not", "logical_or", "logical_xor", "logsumexp", "matmul", "max",
    "maximum", "mean", "min", "minimum", "moveaxis", "multiply", "negative", "no_grad",
    "not_equal", "ones", "ones_like", "outer", "pause", "plot", "pow", "power", "primitive", "prod",
    "random", "ravel", "real", "reciprocal", "record", "relu", "remainder", "reshape", "rint",
    "set_grad_enabled", "sigmoid", "sign", "sin", "sinh", "softmax", "split", "sqrt", "square",
    "squeeze", "stack", "std", "stop_gradient", "subtract", "sum", "swapaxes", "tan", "tanh",
    "tensor", "tensordot", "tile", "trace", "transpose", "tree_util", "true_divide", "trunc",
    "value_and_grad", "var", "vdot", "vjp", "where", "zeros", "zeros_like",
]
