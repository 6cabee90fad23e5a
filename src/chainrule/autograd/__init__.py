"""HIPS autograd's spelling: switch by changing the import.

>>> import chainrule.autograd.numpy as np      # was: import autograd.numpy as np
>>> from chainrule.autograd import grad         # was: from autograd import grad
>>> grad(lambda x: np.sum(x ** 3))(np.array([1.0, 2.0]))
array([ 3., 12.])

The submodules mirror HIPS's: ``numpy`` (with ``linalg``, ``fft``, ``random``), ``extend``,
``builtins``, ``misc`` and ``test_util``. The dialect maps names and conventions onto
chainrule's op table and transforms and holds no derivative rule of its own. Where
conventions differ it converts at its boundary: results on plain inputs are NumPy values,
Python floats are float64, and complex gradients are HIPS's (``grad(|z|**2) == 2 * conj(z)``,
the conjugate of the native API's).

Its transforms and primitives compose with ``cr.jit``: ``cr.jit(grad(loss))`` replays the
eager results, bit for bit (a NumPy scalar where the eager call returns one); inside the
trace the arguments are ``cr.jit``'s tracing arrays, which the dialect keeps as they are
(``vspace``, ``np.asarray``, a primitive's plain NumPy result) and looks through
(``isinstance``, ``type``) without turning their values into guarded constants.
"""

from .builtins import dict, isinstance, list, tuple, type  # noqa: A004
from .differential_operators import (
    checkpoint,
    deriv,
    elementwise_grad,
    grad,
    grad_and_aux,
    grad_named,
    hessian,
    hessian_tensor_product,
    hessian_vector_product,
    holomorphic_grad,
    jacobian,
    make_ggnvp,
    make_hvp,
    make_jvp,
    make_vjp,
    multigrad_dict,
    tensor_jacobian_product,
    value_and_grad,
    vector_jacobian_product,
)

__all__ = [
    "checkpoint", "deriv", "dict", "elementwise_grad", "grad", "grad_and_aux", "grad_named",
    "hessian", "hessian_tensor_product", "hessian_vector_product", "holomorphic_grad", "isinstance",
    "jacobian", "list", "make_ggnvp", "make_hvp", "make_jvp", "make_vjp", "multigrad_dict",
    "tensor_jacobian_product", "tuple", "type", "value_and_grad", "vector_jacobian_product",
]

