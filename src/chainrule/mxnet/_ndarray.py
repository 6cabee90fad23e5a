"""``mxnet.np.ndarray``: the core tensor with MXNet's semantics selected.

Two core options, which dialects select, make the difference: ``_record_only`` (operations are
recorded only inside ``autograd.record()``) and ``_implicit_sum`` (``backward()`` on a
non-scalar differentiates the sum of its elements). ``attach_grad()`` is the core's: ``.grad``
starts as zeros and each backward overwrites it. Arithmetic promotes dtypes as MXNet does
(:mod:`._promotion`), by casting the operands before the core op runs.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as onp

import chainrule as cr

from .. import ops
from ._promotion import cast, floating_dtype, result_type


class ndarray(cr.Tensor):  # noqa: N801 - MXNet's name
    """An MXNet NumPy-interface array.

    >>> from chainrule.mxnet import autograd, np
    >>> x = np.arange(3)
    >>> x.attach_grad()
    >>> with autograd.record():
    ...     y = x * x
    >>> y.backward()
    >>> x.grad
    array([0., 2., 4.])
    """

    __slots__ = ()
    _record_only = True
    _converts_freely = True  # as TensorFlow and MXNet hand values to NumPy while recording
    _implicit_sum = True

    def __repr__(self) -> str:
        text = repr(onp.asarray(self._array))
        return text.replace(", dtype=float32)", ")")

    def __str__(self) -> str:
        return str(onp.asarray(self._array))

    def __getitem__(self, index: Any) -> Any:
        """MXNet indexes with float32 arrays too (its default dtype): they are cast to int."""
        if isinstance(index, tuple):
            index = tuple(_integral(item) for item in index)
        else:
            index = _integral(index)
        return super().__getitem__(index)

    def asnumpy(self) -> onp.ndarray:
        """A NumPy copy of the data."""
        return onp.array(self._array)

    def asscalar(self) -> Any:
        return self.item()

    def as_np_ndarray(self) -> ndarray:
        return self

    as_nd_ndarray = as_np_ndarray

    def astype(self, dtype: Any, copy: bool = True) -> ndarray:
        return cr.astype(self, dtype)

    def backward(self, out_grad: Any = None, retain_graph: bool = False,  # type: ignore[override]
                 train_mode: bool = True) -> None:
        """Backpropagate; a non-scalar array is summed first (MXNet's convention)."""
        super().backward(out_grad, retain_graph=retain_graph)

    def attach_grad(self, grad_req: str = "write", stype: Any = None) -> None:
        super().attach_grad(grad_req)

    def copyto(self, other: Any) -> Any:
        if isinstance(other, cr.Tensor):
            other[...] = self
            return other
        return _as(cr.ops.copy(self))


# ---------------------------------------------------------------- MXNet's promotion
_NO_PARAMS: dict = {}


def promoted(operands: tuple, divide: bool = False) -> tuple:
    """Two operands cast to MXNet's result dtype for them."""
    dtype = result_type(*operands, divide=divide)
    return tuple([cast(operand, dtype) for operand in operands])


def _binary(prim: Any, reflected: bool = False, divide: bool = False) -> Callable:
    """``self <op> other`` (``other <op> self`` if ``reflected``) with MXNet's promotion; a
    fast path when the operands already share the result's dtype."""
    apply = prim.apply
    keeps = {float: "f", int: "f" if divide else "iuf"}

    def operator(self: ndarray, other: Any) -> Any:
        data = self._array
        if isinstance(other, cr.Tensor):
            same = other._array.dtype is data.dtype and (not divide or data.dtype.kind == "f")
        else:  # a number of the array's kind leaves its dtype as it is (NumPy 1 and 2 agree)
            same = data.ndim and data.dtype.kind in keeps.get(type(other), "")
        operands = (other, self) if reflected else (self, other)
        return apply(operands if same else promoted(operands, divide), _NO_PARAMS)

    return operator


def binary(prim: Any, divide: bool = False) -> Callable:
    """``mxnet.np.<name>(x1, x2)``: the operator's promotion, for any operands."""

    def function(x1: Any, x2: Any) -> Any:
        if not isinstance(x1, cr.Tensor) and not isinstance(x2, cr.Tensor):
            x1 = cr.tensor(x1)
        return _as(prim.apply(promoted((x1, x2), divide), _NO_PARAMS))

    return function


def floating(prim: Any) -> Callable:
    """A floating function (``sqrt``, ``exp``...): int32 and int64 arrays give float32, smaller
    integers and bools float16, as in MXNet."""

    def function(x: Any) -> Any:
        x = x if isinstance(x, cr.Tensor) else cr.tensor(x)
        return _as(prim.apply((cast(x, floating_dtype(x._array.dtype)),), _NO_PARAMS))

    return function


_ARITHMETIC = {"add": ops.add, "sub": ops.subtract, "mul": ops.multiply, "pow": ops.power,
               "floordiv": ops.floor_divide, "mod": ops.remainder}
for _name, _prim in _ARITHMETIC.items():
    setattr(ndarray, f"__{_name}__", _binary(_prim))
    setattr(ndarray, f"__r{_name}__", _binary(_prim, reflected=True))
ndarray.__truediv__ = _binary(ops.true_divide, divide=True)
ndarray.__rtruediv__ = _binary(ops.true_divide, reflected=True, divide=True)
_COMPARISONS = {"eq": ops.equal, "ne": ops.not_equal, "lt": ops.less, "le": ops.less_equal,
                "gt": ops.greater, "ge": ops.greater_equal}
for _name, _prim in _COMPARISONS.items():
    setattr(ndarray, f"__{_name}__", _binary(_prim))
ndarray.__hash__ = cr.Tensor.__hash__

# NumPy's ufuncs on MXNet arrays (``onp.float64(2) * x``, ``onp.exp(x)``) are MXNet's, as MXNet
# arrays dispatch them to ``mxnet.np``.
_FLOATING = "sqrt exp expm1 log log1p log2 log10 sin cos tan arcsin arccos arctan sinh cosh tanh"
UFUNCS = {getattr(onp, name): floating(getattr(ops, name)) for name in _FLOATING.split()}
UFUNCS.update({getattr(onp, name): binary(prim) for name, prim in {
    "add": ops.add, "subtract": ops.subtract, "multiply": ops.multiply, "power": ops.power,
    "floor_divide": ops.floor_divide, "remainder": ops.remainder, "maximum": ops.maximum,
    "minimum": ops.minimum, "equal": ops.equal, "not_equal": ops.not_equal, "less": ops.less,
    "less_equal": ops.less_equal, "greater": ops.greater,
    "greater_equal": ops.greater_equal}.items()})
UFUNCS[onp.true_divide] = binary(ops.true_divide, divide=True)


ndarray._ufunc_routes = UFUNCS  # (NumPy's ufuncs promote as MXNet's operators)


def _integral(item: Any) -> Any:
    if isinstance(item, cr.Tensor) and item._array.dtype.kind == "f":
        return item._array.astype(onp.int64)
    return item


def _as(value: Any) -> Any:
    """A result of the core as an MXNet array (tuples and lists element by element)."""
    if isinstance(value, (tuple, list)):
        return type(value)(_as(v) for v in value)
    if not isinstance(value, cr.Tensor) or type(value) is ndarray:
        return value
    return value._derive(ndarray)
