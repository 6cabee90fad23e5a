"""The op table: primitives by family, and composites built from them.

Functions here are *polymorphic*: given raw arrays they compute raw arrays (this is what the
fast first-order backward path runs), given tensors they record. The public ``chainrule.*``
functions wrap them so that they always return tensors.
"""

from __future__ import annotations

import numpy as np

from .arrange import (
    argpartition,
    argsort,
    fliplr,
    flipud,
    pad,
    partition,
    repeat,
    roll,
    rollaxis,
    rot90,
    sort,
    tril,
    triu,
)
from .differences import angle, cross, diff, gradient, kron, real_if_close, select
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
from .join import (
    AxisConcatenator,
    append,
    array_split,
    atleast_1d,
    atleast_2d,
    atleast_3d,
    c_,
    column_stack,
    concatenate,
    dsplit,
    dstack,
    hsplit,
    hstack,
    r_,
    row_stack,
    split,
    stack,
    vsplit,
    vstack,
)
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
    average,
    cumprod,
    cumprod_along,
    cumsum,
    log_softmax,
    logsumexp,
    mean,
    nancumprod,
    nancumsum,
    nanmax,
    nanmean,
    nanmin,
    nanprod,
    nanstd,
    nansum,
    nanvar,
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
from .ufuncs import (
    arccosh,
    arcsinh,
    arctanh,
    around,
    deg2rad,
    exp2,
    fabs,
    fix,
    fmax,
    fmin,
    fmod,
    hypot,
    logaddexp,
    logaddexp2,
    nan_to_num,
    rad2deg,
    replace_non_finite,
    round,  # noqa: A004
    rounded,
    sinc,
)

# NumPy's other names for the same ops.
max = amax  # noqa: A001
min = amin  # noqa: A001
abs = absolute  # noqa: A001
divide = true_divide
pow = power  # noqa: A001
mod = remainder
conjugate = conj
radians = deg2rad
degrees = rad2deg


# The ops NumPy's ufuncs stand for, by the ufunc's name: Tensor.__array_ufunc__ runs them for
# ``np.sin(t)`` and ``array * t``.
UFUNCS = {
    name: prim for name, prim in REGISTRY.items() if isinstance(getattr(np, name, None), np.ufunc)
}
UFUNCS.update({"divide": true_divide, "absolute": absolute, "add": add, "multiply": multiply,
               "subtract": subtract, "maximum": maximum, "minimum": minimum,
               "radians": deg2rad, "degrees": rad2deg, "conjugate": conj})

# The NumPy functions built on the op table, beyond the primitives (chainrule.api makes each
# a public function that returns tensors).
NUMPY_FUNCTIONS = (
    "angle", "append", "argpartition", "argsort", "around", "array_split", "atleast_1d",
    "atleast_2d", "atleast_3d", "average", "column_stack", "cross", "cumprod", "diff", "dsplit",
    "dstack", "fliplr", "flipud", "gradient", "hsplit", "hstack", "kron", "nan_to_num",
    "nancumprod", "nancumsum", "nanmax", "nanmean", "nanmin", "nanprod", "nanstd", "nansum",
    "nanvar", "pad", "partition", "real_if_close", "repeat", "roll", "rollaxis", "rot90",
    "round", "row_stack", "select", "sort", "tril", "triu", "vsplit", "vstack",
)

__all__ = [
    "abs", "absolute", "add", "adjugate", "amax", "amin", "angle", "append", "arccos",
    "arccosh", "arcsin", "arcsinh", "arctan", "arctan2", "arctanh", "argmax", "argmin",
    "argpartition", "argsort", "around", "array_split", "astype", "atleast_1d", "atleast_2d",
    "atleast_3d", "average", "AxisConcatenator", "broadcast_to", "c_", "ceil", "cholesky",
    "clip", "column_stack", "concatenate", "conj", "conjugate", "copy", "cos", "cosh", "cross",
    "cumprod", "cumprod_along", "cumsum", "deg2rad", "degrees", "det", "det_sign", "diag",
    "diagonal", "diff", "divide", "dot", "dsplit", "dstack", "einsum", "equal", "exp", "exp2",
    "expand_dims", "expm1", "fabs", "fix", "flip", "fliplr", "flipud", "floor", "floor_divide",
    "fmax", "fmin", "fmod", "getitem", "gradient", "greater", "greater_equal", "hsplit",
    "hstack", "hypot", "identity", "imag", "inner", "inv", "isfinite", "isinf", "isnan", "kron",
    "less", "less_equal", "log", "log10", "log1p", "log2", "log_softmax", "logabsdet",
    "logaddexp", "logaddexp2", "logical_and", "logical_not", "logical_or", "logical_xor",
    "logsumexp", "matmul", "max", "maximum", "mean", "min", "minimum", "mod", "moveaxis",
    "multiply", "nan_to_num", "nancumprod", "nancumsum", "nanmax", "nanmean", "nanmin",
    "nanprod", "nanstd", "nansum", "nanvar", "negative", "norm", "not_equal", "NUMPY_FUNCTIONS",
    "outer", "pad", "partition", "pow", "power", "Primitive", "prod", "r_", "rad2deg",
    "radians", "ravel", "real", "real_if_close", "reciprocal", "REGISTRY", "relu", "remainder",
    "repeat", "replace_non_finite", "reshape", "rint", "roll", "rollaxis", "rot90", "round",
    "rounded", "row_stack", "scatter_add", "select", "setitem", "sigmoid", "sign", "sin",
    "sinc", "sinh", "slogdet", "softmax", "solve", "solve_matrix", "sort", "split", "sqrt",
    "square", "squeeze", "stack", "std", "stop_gradient", "subtract", "sum", "swapaxes", "tan",
    "tanh", "tensordot", "tile", "trace", "transpose", "tril", "triu", "true_divide", "trunc",
    "UFUNCS", "var", "vdot", "vector_norm", "vsplit", "vstack", "where",
]
