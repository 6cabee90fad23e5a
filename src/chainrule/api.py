"""The public math namespace: NumPy names and signatures, always returning tensors.

Elementwise functions are the primitives themselves behind a wrapper that turns raw inputs into
tensors; functions whose NumPy signature has non-tensor arguments (``axis``, shapes, bounds) are
spelled out below.
"""

from __future__ import annotations

import builtins
import functools
import inspect
import string
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from . import backends, ops
from .dtypes import as_dtype
from .ops import describe
from .tensor import _NO_PARAMS, Tensor, array_of, to_array


def _tensor(value: Any) -> Tensor:
    if isinstance(value, Tensor):
        return value
    if isinstance(value, (list, tuple)) and builtins.any(isinstance(v, Tensor) for v in value):
        return ops.stack([_tensor(v) for v in value])  # differentiable, unlike np.array
    return Tensor._wrap(to_array(value))


def _elementwise(prim: Callable, name: str, doc: str | None = None,
                 as_tensor: Callable = _tensor) -> Callable:
    """The public function of an elementwise primitive: its op on the arguments, raw ones
    made tensors by ``as_tensor`` first. Its signature and docstring are set on the function
    itself (ops/describe.py), so ``help()`` and the API reference show ``sin(x, /)``."""
    apply = prim.apply

    def function(*args: Any) -> Tensor:
        for arg in args:
            if isinstance(arg, Tensor):
                return apply(args, _NO_PARAMS)
        return apply(tuple([as_tensor(a) for a in args]), _NO_PARAMS)

    function.__name__ = function.__qualname__ = name
    function.__module__ = ops.__name__  # (the op table's function: its samples are the op's)
    function.__signature__ = describe.signature(prim, name)
    function.__doc__ = doc or describe.elementwise_doc(prim, name)
    return function


# NumPy's elementwise functions: the op of the same name, on raw inputs made tensors.
add = _elementwise(ops.add, "add")
subtract = _elementwise(ops.subtract, "subtract")
multiply = _elementwise(ops.multiply, "multiply")
true_divide = _elementwise(ops.true_divide, "true_divide")
power = _elementwise(ops.power, "power")
negative = _elementwise(ops.negative, "negative")
square = _elementwise(ops.square, "square")
reciprocal = _elementwise(ops.reciprocal, "reciprocal")
sqrt = _elementwise(ops.sqrt, "sqrt")
absolute = _elementwise(ops.absolute, "absolute")
exp = _elementwise(ops.exp, "exp")
expm1 = _elementwise(ops.expm1, "expm1")
log = _elementwise(ops.log, "log")
log1p = _elementwise(ops.log1p, "log1p")
log2 = _elementwise(ops.log2, "log2")
log10 = _elementwise(ops.log10, "log10")
sin = _elementwise(ops.sin, "sin")
cos = _elementwise(ops.cos, "cos")
tan = _elementwise(ops.tan, "tan")
arcsin = _elementwise(ops.arcsin, "arcsin")
arccos = _elementwise(ops.arccos, "arccos")
arctan = _elementwise(ops.arctan, "arctan")
arctan2 = _elementwise(ops.arctan2, "arctan2")
sinh = _elementwise(ops.sinh, "sinh")
cosh = _elementwise(ops.cosh, "cosh")
tanh = _elementwise(ops.tanh, "tanh")
sigmoid = _elementwise(ops.sigmoid, "sigmoid")
relu = _elementwise(ops.relu, "relu")
maximum = _elementwise(ops.maximum, "maximum")
minimum = _elementwise(ops.minimum, "minimum")
remainder = _elementwise(ops.remainder, "remainder")
equal = _elementwise(ops.equal, "equal")
not_equal = _elementwise(ops.not_equal, "not_equal")
less = _elementwise(ops.less, "less")
less_equal = _elementwise(ops.less_equal, "less_equal")
greater = _elementwise(ops.greater, "greater")
greater_equal = _elementwise(ops.greater_equal, "greater_equal")
logical_not = _elementwise(ops.logical_not, "logical_not")
logical_and = _elementwise(ops.logical_and, "logical_and")
logical_or = _elementwise(ops.logical_or, "logical_or")
logical_xor = _elementwise(ops.logical_xor, "logical_xor")
isnan = _elementwise(ops.isnan, "isnan")
isinf = _elementwise(ops.isinf, "isinf")
isfinite = _elementwise(ops.isfinite, "isfinite")
sign = _elementwise(ops.sign, "sign")
floor = _elementwise(ops.floor, "floor")
ceil = _elementwise(ops.ceil, "ceil")
trunc = _elementwise(ops.trunc, "trunc")
rint = _elementwise(ops.rint, "rint")
floor_divide = _elementwise(ops.floor_divide, "floor_divide")
real = _elementwise(ops.real, "real")
imag = _elementwise(ops.imag, "imag")
conj = _elementwise(ops.conj, "conj")
for _name in ("arccosh", "arcsinh", "arctanh", "deg2rad", "exp2", "fabs", "fix", "fmax", "fmin",
              "fmod", "hypot", "logaddexp", "logaddexp2", "rad2deg", "sinc"):
    globals()[_name] = _elementwise(getattr(ops, _name), _name)
divide = true_divide
abs = absolute  # noqa: A001
pow = power  # noqa: A001
mod = remainder
conjugate = conj
radians = globals()["deg2rad"]
degrees = globals()["rad2deg"]



def where(condition: Any, x: Any, y: Any) -> Tensor:
    """``x`` where ``condition`` holds, else ``y`` (gradients flow to the chosen side).

    >>> import chainrule as cr
    >>> cr.where(cr.tensor([True, False]), cr.tensor([1.0, 2.0]), 0.0)
    tensor([1., 0.])
    """
    condition = backends.asarray(array_of(condition))  # (in its library: a Dask mask stays lazy)
    if not isinstance(x, Tensor) and not isinstance(y, Tensor):
        x = _tensor(x)
    return ops.where(condition, x, y)


def clip(a: Any, a_min: Any = None, a_max: Any = None) -> Tensor:
    """Limit values to ``[a_min, a_max]`` (numbers, arrays or tensors, or None for no bound).
    The gradient goes to whichever of ``a``, ``a_min``, ``a_max`` each element takes.

    >>> import chainrule as cr
    >>> cr.clip(cr.tensor([-1.0, 0.5, 2.0]), 0, 1)
    tensor([0. , 0.5, 1. ])
    """
    if a_min is None and a_max is None:
        raise ValueError("clip needs a_min or a_max (or both); got neither")
    return ops.clip(_tensor(a), a_min, a_max)


def _reduction(prim: Callable, name: str, example: str) -> Callable:
    if isinstance(prim, ops.Primitive):  # straight to its apply: the argument is a tensor
        apply = prim.apply

        def function(a: Any, axis: Any = None, keepdims: bool = False) -> Tensor:
            return apply((_tensor(a),), {"axis": axis, "keepdims": keepdims})
    else:  # a composite (mean)

        def function(a: Any, axis: Any = None, keepdims: bool = False) -> Tensor:
            return prim(_tensor(a), axis=axis, keepdims=keepdims)

    function.__name__ = function.__qualname__ = name
    function.__doc__ = (
        f"``{name}`` over ``axis`` (an int, a tuple or None for all), NumPy's signature.\n\n"
        f"    >>> import chainrule as cr\n    >>> {example}\n"
    )
    return function


sum = _reduction(ops.sum, "sum", "cr.sum(cr.tensor([[1.0, 2.0], [3.0, 4.0]]), axis=0)\n"
                 "    tensor([4., 6.])")  # noqa: A001
prod = _reduction(ops.prod, "prod", "cr.prod(cr.tensor([1.0, 2.0, 3.0]))\n    tensor(6.)")
max = _reduction(ops.amax, "max", "cr.max(cr.tensor([1.0, 3.0, 2.0]))\n    tensor(3.)")  # noqa: A001
min = _reduction(ops.amin, "min", "cr.min(cr.tensor([1.0, 3.0, 2.0]))\n    tensor(1.)")  # noqa: A001
amax, amin = max, min
mean = _reduction(ops.mean, "mean", "cr.mean(cr.tensor([1.0, 2.0]))\n    tensor(1.5)")
argmax = _reduction(ops.argmax, "argmax", "cr.argmax(cr.tensor([1.0, 3.0, 2.0]))\n    tensor(1)")
argmin = _reduction(ops.argmin, "argmin", "cr.argmin(cr.tensor([1.0, 3.0, 2.0]))\n    tensor(0)")


def var(a: Any, axis: Any = None, ddof: int = 0, keepdims: bool = False) -> Tensor:
    """Variance (NumPy's default ``ddof=0``).

    >>> import chainrule as cr
    >>> cr.var(cr.tensor([1.0, 2.0, 3.0, 4.0]))
    tensor(1.25)
    """
    return ops.var(_tensor(a), axis=axis, ddof=ddof, keepdims=keepdims)


def std(a: Any, axis: Any = None, ddof: int = 0, keepdims: bool = False) -> Tensor:
    """Standard deviation (NumPy's default ``ddof=0``).

    >>> import chainrule as cr
    >>> cr.std(cr.tensor([1.0, 3.0]))
    tensor(1.)
    """
    return ops.std(_tensor(a), axis=axis, ddof=ddof, keepdims=keepdims)


def cumsum(a: Any, axis: int | None = None) -> Tensor:
    """Cumulative sum along ``axis`` (the flattened tensor when None).

    >>> import chainrule as cr
    >>> cr.cumsum(cr.tensor([1.0, 2.0, 3.0]))
    tensor([1., 3., 6.])
    """
    a = _tensor(a)
    if axis is None:
        a, axis = ops.reshape(a, shape=(-1,)), 0
    return ops.cumsum(a, axis=axis)


def logsumexp(a: Any, axis: Any = None, keepdims: bool = False) -> Tensor:
    """``log(sum(exp(a)))``, stable for large values (SciPy's name).

    >>> import chainrule as cr
    >>> cr.logsumexp(cr.tensor([1000.0, 1000.0]))
    tensor(1000.6932)
    """
    return ops.logsumexp(_tensor(a), axis=axis, keepdims=keepdims)


def softmax(x: Any, axis: int = -1) -> Tensor:
    """Softmax along ``axis`` (SciPy's ``scipy.special.softmax``, default last axis).

    >>> import chainrule as cr
    >>> cr.softmax(cr.tensor([0.0, 0.0]))
    tensor([0.5, 0.5])
    """
    return ops.softmax(_tensor(x), axis=axis)


def log_softmax(x: Any, axis: int = -1) -> Tensor:
    """``x - logsumexp(x)`` along ``axis``.

    >>> import chainrule as cr
    >>> cr.exp(cr.log_softmax(cr.tensor([0.0, 0.0])))
    tensor([0.5, 0.5])
    """
    return ops.log_softmax(_tensor(x), axis=axis)


# ---------------------------------------------------------------- shapes


def reshape(a: Any, shape: Any) -> Tensor:
    """The same data with a new shape (one entry may be -1).

    >>> import chainrule as cr
    >>> cr.reshape(cr.arange(6), (2, -1)).shape
    (2, 3)
    """
    return ops.reshape(_tensor(a), shape=shape)


def transpose(a: Any, axes: Any = None) -> Tensor:
    """Permute the axes (reverse them by default).

    >>> import chainrule as cr
    >>> cr.transpose(cr.zeros((2, 3))).shape
    (3, 2)
    """
    return ops.transpose(_tensor(a), axes=None if axes is None else tuple(axes))


def swapaxes(a: Any, axis1: int, axis2: int) -> Tensor:
    """Exchange two axes.

    >>> import chainrule as cr
    >>> cr.swapaxes(cr.zeros((2, 3, 4)), 0, 2).shape
    (4, 3, 2)
    """
    return ops.swapaxes(_tensor(a), axis1, axis2)


def moveaxis(a: Any, source: Any, destination: Any) -> Tensor:
    """Move axes to new positions.

    >>> import chainrule as cr
    >>> cr.moveaxis(cr.zeros((2, 3, 4)), 0, -1).shape
    (3, 4, 2)
    """
    return ops.moveaxis(_tensor(a), source, destination)


def expand_dims(a: Any, axis: Any) -> Tensor:
    """Insert size-1 axes.

    >>> import chainrule as cr
    >>> cr.expand_dims(cr.zeros(3), 0).shape
    (1, 3)
    """
    return ops.expand_dims(_tensor(a), axis)


def squeeze(a: Any, axis: Any = None) -> Tensor:
    """Remove size-1 axes.

    >>> import chainrule as cr
    >>> cr.squeeze(cr.zeros((1, 3, 1))).shape
    (3,)
    """
    return ops.squeeze(_tensor(a), axis)


def broadcast_to(a: Any, shape: Any) -> Tensor:
    """Broadcast to ``shape``; the gradient sums back over the repeated axes.

    >>> import chainrule as cr
    >>> cr.broadcast_to(cr.tensor([1.0, 2.0]), (2, 2))
    tensor([[1., 2.],
            [1., 2.]])
    """
    return ops.broadcast_to(_tensor(a), shape=tuple(np.atleast_1d(shape)))


def concatenate(arrays: Sequence[Any], axis: int = 0) -> Tensor:
    """Join tensors along an existing axis.

    >>> import chainrule as cr
    >>> cr.concatenate([cr.ones(2), cr.zeros(1)])
    tensor([1., 1., 0.])
    """
    arrays = [_tensor(a) for a in arrays]
    return ops.concatenate(*arrays, axis=axis)


def stack(arrays: Sequence[Any], axis: int = 0) -> Tensor:
    """Join tensors of one shape along a new axis.

    >>> import chainrule as cr
    >>> cr.stack([cr.ones(2), cr.zeros(2)]).shape
    (2, 2)
    """
    return ops.stack([_tensor(a) for a in arrays], axis=axis)


def split(a: Any, indices_or_sections: Any, axis: int = 0) -> list[Tensor]:
    """Split into a list of tensors along ``axis``.

    >>> import chainrule as cr
    >>> [p.shape for p in cr.split(cr.arange(6), 3)]
    [(2,), (2,), (2,)]
    """
    return ops.split(_tensor(a), indices_or_sections, axis=axis)


def flip(a: Any, axis: Any = None) -> Tensor:
    """Reverse the order of elements along ``axis`` (all axes by default).

    >>> import chainrule as cr
    >>> cr.flip(cr.tensor([1.0, 2.0, 3.0]))
    tensor([3., 2., 1.])
    """
    return ops.flip(_tensor(a), axis=axis)


def tile(a: Any, reps: Any) -> Tensor:
    """Repeat a tensor ``reps`` times along each axis.

    >>> import chainrule as cr
    >>> cr.tile(cr.tensor([1.0, 2.0]), 2)
    tensor([1., 2., 1., 2.])
    """
    return ops.tile(_tensor(a), reps)


def ravel(a: Any) -> Tensor:
    """Flatten to one axis.

    >>> import chainrule as cr
    >>> cr.ravel(cr.zeros((2, 3))).shape
    (6,)
    """
    return ops.ravel(_tensor(a))


# ---------------------------------------------------------------- products


def matmul(a: Any, b: Any) -> Tensor:
    """Matrix product with NumPy's broadcasting rules (also ``a @ b``).

    >>> import chainrule as cr
    >>> cr.matmul(cr.eye(2), cr.tensor([1.0, 2.0]))
    tensor([1., 2.])
    """
    if not isinstance(a, Tensor) and not isinstance(b, Tensor):
        a = _tensor(a)
    return ops.matmul(a, b)


def dot(a: Any, b: Any) -> Tensor:
    """NumPy's ``dot``.

    >>> import chainrule as cr
    >>> x = cr.arange(4.0)
    >>> cr.dot(x, x)
    tensor(14.)
    """
    if not isinstance(a, Tensor) and not isinstance(b, Tensor):
        a = _tensor(a)
    return ops.dot(a, b)


def vdot(a: Any, b: Any) -> Tensor:
    """Dot product of the flattened tensors.

    >>> import chainrule as cr
    >>> cr.vdot(cr.ones((2, 2)), cr.ones((2, 2)))
    tensor(4.)
    """
    return ops.vdot(_tensor(a), b)


def inner(a: Any, b: Any) -> Tensor:
    """Sum product over the last axes (NumPy's ``inner``).

    >>> import chainrule as cr
    >>> cr.inner(cr.tensor([1.0, 2.0]), cr.tensor([3.0, 4.0]))
    tensor(11.)
    """
    return ops.inner(_tensor(a), b)


def outer(a: Any, b: Any) -> Tensor:
    """Outer product of the flattened tensors.

    >>> import chainrule as cr
    >>> cr.outer(cr.tensor([1.0, 2.0]), cr.tensor([1.0, 10.0]))
    tensor([[ 1., 10.],
            [ 2., 20.]])
    """
    return ops.outer(_tensor(a), b)


def tensordot(a: Any, b: Any, axes: Any = 2) -> Tensor:
    """Sum products over ``axes``: an int (the last axes of ``a`` with the first of ``b``) or
    a pair of axis lists, as ``numpy.tensordot``.

    >>> import chainrule as cr
    >>> cr.tensordot(cr.ones((2, 3, 4)), cr.ones((4, 3, 5)), axes=([1, 2], [1, 0])).shape
    (2, 5)
    """
    return ops.tensordot(_tensor(a), b, axes=axes)


def einsum(subscripts: Any, *operands: Any) -> Tensor:
    """Einstein summation of ``*operands``, as ``numpy.einsum``: the string form (with ``...``
    and an implicit output) or the interleaved form ``einsum(a, [0, 1], b, [1, 2], [0, 2])``.
    Its derivatives are einsums too, so any order works.

    >>> import chainrule as cr
    >>> a = cr.tensor([[1.0, 2.0], [3.0, 4.0]])
    >>> cr.einsum("ij,ij->i", a, a)
    tensor([ 5., 25.])
    >>> cr.einsum("ii", a)
    tensor(5.)
    >>> cr.einsum(a, [0, 1], a, [1, 2], [0, 2])  # a @ a
    tensor([[ 7., 10.],
            [15., 22.]])
    """
    if not isinstance(subscripts, str):
        subscripts, operands = _interleaved_subscripts((subscripts,) + operands)
    if not builtins.any(isinstance(x, Tensor) for x in operands):
        operands = tuple(_tensor(x) for x in operands)
    return ops.einsum(*operands, subscripts=subscripts)


def _interleaved_subscripts(args: tuple) -> tuple[str, tuple]:
    """``(a, [0, 1], b, [1, 2], [0, 2])`` as ``("ab,bc->ac", (a, b))``."""
    output = args[-1] if len(args) % 2 else None
    pairs = args[: len(args) - 1] if output is not None else args
    operands, sublists = pairs[0::2], pairs[1::2]

    def letters(sublist: Any) -> str:
        if isinstance(sublist, str) or not isinstance(sublist, (list, tuple)):
            raise TypeError(
                f"einsum's interleaved form takes operand, sublist, operand, sublist, ... "
                f"[, output sublist], each sublist a list of ints or Ellipsis; got {sublist!r}"
            )
        out = []
        for item in sublist:
            if item is Ellipsis:
                out.append("...")
            elif isinstance(item, (int, np.integer)) and 0 <= item < 52:
                out.append(string.ascii_letters[item])
            else:
                raise ValueError(
                    f"einsum subscript {item!r} is not an int in [0, 52) or Ellipsis"
                )
        return "".join(out)

    subscripts = ",".join(letters(sublist) for sublist in sublists)
    if output is not None:
        subscripts += "->" + letters(output)
    return subscripts, operands


def diagonal(a: Any, offset: int = 0, axis1: int = 0, axis2: int = 1) -> Tensor:
    """The diagonal over ``axis1`` and ``axis2``, placed last (``numpy.diagonal``).

    >>> import chainrule as cr
    >>> cr.diagonal(cr.tensor([[1.0, 2.0], [3.0, 4.0]]))
    tensor([1., 4.])
    """
    return ops.diagonal(_tensor(a), offset, axis1, axis2)


def trace(a: Any, offset: int = 0, axis1: int = 0, axis2: int = 1) -> Tensor:
    """Sum along a diagonal (``numpy.trace``).

    >>> import chainrule as cr
    >>> cr.trace(cr.tensor([[1.0, 2.0], [3.0, 4.0]]))
    tensor(5.)
    """
    return ops.trace(_tensor(a), offset, axis1, axis2)


def diag(v: Any, k: int = 0) -> Tensor:
    """A vector's values on the ``k``-th diagonal of a square matrix, or a matrix's ``k``-th
    diagonal (``numpy.diag``).

    >>> import chainrule as cr
    >>> cr.diag(cr.tensor([1.0, 2.0]))
    tensor([[1., 0.],
            [0., 2.]])
    >>> cr.diag(cr.tensor([[1.0, 2.0], [3.0, 4.0]]), k=1)
    tensor([2.])
    """
    return ops.diag(_tensor(v), k)


def astype(a: Any, dtype: Any) -> Tensor:
    """A copy converted to ``dtype`` (gradients are converted back).

    >>> import chainrule as cr
    >>> cr.astype(cr.arange(2), "float64").dtype
    dtype('float64')
    """
    return ops.astype(_tensor(a), dtype=as_dtype(dtype))


def stop_gradient(x: Any) -> Tensor:
    """The same values, cut off from the graph (JAX's and TensorFlow's name for ``detach``).

    >>> import chainrule as cr
    >>> x = cr.tensor(2.0, requires_grad=True)
    >>> cr.stop_gradient(x * x).requires_grad
    False
    """
    return ops.stop_gradient(_tensor(x))


# ---------------------------------------------------------------- NumPy's further functions
# (chainrule.ops.arrange, differences, join, reduce): the parameters that take arrays, by
# NumPy's names, are made tensors, and so are the results.
_ARRAY_PARAMETERS = frozenset("a m ary arr f x z array b values weights".split())
_ARRAY_SEQUENCES = frozenset(("tup", "arys", "choicelist"))


def _tensors(value: Any) -> Any:
    if isinstance(value, (list, tuple)):
        return type(value)(_tensors(v) for v in value)
    return value if isinstance(value, Tensor) else Tensor._wrap(backends.asarray(value))


def _numpy_function(fn: Callable) -> Callable:
    signature = inspect.signature(fn)

    @functools.wraps(fn)
    def function(*args: Any, **kwargs: Any) -> Any:
        bound = signature.bind(*args, **kwargs)
        for name, value in bound.arguments.items():
            if name in _ARRAY_PARAMETERS and value is not None:
                bound.arguments[name] = _tensor(value)
            elif name in _ARRAY_SEQUENCES and isinstance(value, (list, tuple)):
                bound.arguments[name] = type(value)(_tensor(v) for v in value)
        return _tensors(fn(*bound.args, **bound.kwargs))

    return function


for _name in ops.NUMPY_FUNCTIONS:
    globals()[_name] = _numpy_function(getattr(ops, _name))


class _TensorConcatenator(ops.AxisConcatenator):
    """``cr.r_[...]``, ``cr.c_[...]``: NumPy's index-expression joining, as a tensor."""

    def __getitem__(self, key: Any) -> Tensor:
        return _tensors(super().__getitem__(key))


r_, c_ = (_TensorConcatenator(**vars(joining)) for joining in (ops.r_, ops.c_))

# The names numpy_protocol routes NumPy's functions on tensors by (``np.dot(t, t)``,
# ``np.sort(t)``).
__all__ = sorted(
    name for name, value in list(globals().items())
    if not name.startswith("_") and callable(value)
    and name not in {"Any", "Callable", "Sequence", "Tensor", "as_dtype", "to_array"}
)
