"""The op table: primitives by family, and composites built from them.

Functions here are *polymorphic*: given raw arrays they compute raw arrays (this is what the
fast first-order backward path runs), given tensors they record. The public ``chainrule.*``
functions wrap them so that they always return tensors.
"""

from __future__ import annotations

import numpy as np

from .elementwise import (
    absolute,
    add,
    arccos,
    arcsin,
    arctan,
    arctan2,
    astype,
    ceil,
    clip,
    conj,
    copy,
    cos,
    cosh,
    equal,
    exp,
    expm1,
    floor,
    floor_divide,
    greater,
    greater_equal,
    identity,
    imag,
    isfinite,
    isinf,
    isnan,
    less,
    less_equal,
    log,
    log1p,
    log2,
    log10,
    logical_and,
    logical_not,
    logical_or,
    logical_xor,
    maximum,
    minimum,
    multiply,
    negative,
    not_equal,
    power,
    real,
    reciprocal,
    relu,
    remainder,
    rint,
    sigmoid,
    sign,
    sin,
    sinh,
    sqrt,
    square,
    stop_gradient,
    subtract,
    tan,
    tanh,
    true_divide,
    trunc,
    where,
)
from .index import getitem, scatter_add, setitem
from .join import concatenate, split, stack
from .linalg import (
    adjugate,
    cholesky,
    det,
    det_sign,
    diag,
    diagonal,
    dot,
    einsum,
    inner,
    inv,
    logabsdet,
    matmul,
    norm,
    outer,
    slogdet,
    solve,
    solve_matrix,
    tensordot,
    trace,
    vdot,
)
from .primitive import REGISTRY, Primitive
from .reduce import (
    amax,
    amin,
    argmax,
    argmin,
    cumsum,
    log_softmax,
    logsumexp,
    mean,
    prod,
    softmax,
    std,
    sum,
    var,
    vector_norm,
)
from .shape import (
    broadcast_to,
    expand_dims,
    flip,
    moveaxis,
    ravel,
    reshape,
    squeeze,
    swapaxes,
    tile,
    transpose,
)

# NumPy's other names for the same ops.
max = amax  # noqa: A001
min = amin  # noqa: A001
abs = absolute  # noqa: A001
divide = true_divide
pow = power  # noqa: A001


# The ops NumPy's ufuncs stand for, by the ufunc's name: Tensor.__array_ufunc__ runs them for
# ``np.sin(t)`` and ``array * t``.
UFUNCS = {
    name: prim for name, prim in REGISTRY.items() if isinstance(getattr(np, name, None), np.ufunc)
}
UFUNCS.update({"divide": true_divide, "absolute": absolute, "add": add, "multiply": multiply,
               "subtract": subtract, "maximum": maximum, "minimum": minimum})

__all__ = [
    "REGISTRY", "Primitive", "UFUNCS", "abs", "absolute", "add", "adjugate", "amax", "amin",
    "arccos", "arcsin", "arctan", "arctan2", "argmax", "argmin", "astype", "broadcast_to",
    "ceil", "cholesky", "clip", "concatenate", "conj", "copy", "cos", "cosh", "cumsum", "det",
    "det_sign", "diag", "diagonal", "divide", "dot", "einsum", "equal", "exp", "expand_dims",
    "expm1", "flip", "floor", "floor_divide", "getitem", "greater", "greater_equal",
    "identity", "imag", "inner", "inv", "isfinite", "isinf", "isnan", "less", "less_equal",
    "log", "log10", "log1p", "log2", "log_softmax", "logabsdet", "logical_and", "logical_not",
    "logical_or", "logical_xor", "logsumexp", "matmul", "max", "maximum", "mean", "min",
    "minimum", "moveaxis", "multiply", "negative", "norm", "not_equal", "outer", "pow",
    "power", "prod", "ravel", "real", "reciprocal", "relu", "remainder", "reshape", "rint",
    "scatter_add", "setitem", "sigmoid", "sign", "sin", "sinh", "slogdet", "softmax", "solve",
    "solve_matrix", "split", "sqrt", "square", "squeeze", "stack", "std", "stop_gradient",
    "subtract", "sum", "swapaxes", "tan", "tanh", "tensordot", "tile", "trace", "transpose",
    "true_divide", "trunc", "var", "vdot", "vector_norm", "where",
]
