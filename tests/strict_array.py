"""A strict duck array: the test backend that stands in for CuPy on machines without a GPU.

``StrictArray`` wraps a NumPy array and implements NumPy's dispatch protocols
(``__array_ufunc__``, ``__array_function__``) by delegating to NumPy, as CuPy and Dask do. Like
CuPy it refuses every conversion to NumPy (``np.asarray``, ``np.array``, the buffer
protocol) and every NumPy array mixed into its operations, so that a hidden conversion in
chainrule, which would break CuPy (or make a Dask array eager), fails on every machine. Python
numbers and NumPy scalars mix freely, as they do with CuPy. Of a ufunc only the call and
``outer`` are dispatched (``np.add.reduce``, ``np.add.at`` are not), as with Dask.

    >>> x = StrictArray(np.arange(3.0))
    >>> np.sin(x)                                  # doctest: +ELLIPSIS
    StrictArray([0. ...])
    >>> np.asarray(x)
    Traceback (most recent call last):
    TypeError: StrictArray refuses conversion to NumPy (np.asarray / np.array / __array__)
"""

from __future__ import annotations

import operator
from typing import Any

import numpy as np


class ConversionRefused(TypeError):
    pass


def _unwrap(value: Any) -> Any:
    if type(value) is StrictArray:
        return value._a
    if isinstance(value, np.ndarray):
        raise ConversionRefused(
            f"StrictArray does not mix with NumPy arrays (got one of shape {value.shape} and "
            f"dtype {value.dtype}); as with CuPy, make it an array of the same library first"
        )
    if isinstance(value, (list, tuple)):
        return type(value)(_unwrap(item) for item in value)
    if isinstance(value, dict):
        return {key: _unwrap(item) for key, item in value.items()}
    return value


def _index(key: Any) -> Any:
    """An index: NumPy's integer and boolean arrays are accepted in it, as CuPy accepts them."""
    if isinstance(key, np.ndarray) and key.dtype.kind in "biu":
        return key
    if isinstance(key, tuple):
        return tuple(_index(item) for item in key)
    return _unwrap(key)


def _wrap(value: Any) -> Any:
    if isinstance(value, np.ndarray):
        return StrictArray(value)
    if isinstance(value, np.generic) and not isinstance(value, (np.str_, np.bytes_)):
        return StrictArray(np.asarray(value))  # (CuPy gives 0-d arrays, not scalars)
    if isinstance(value, tuple):
        return tuple(_wrap(item) for item in value)
    if isinstance(value, list):
        return [_wrap(item) for item in value]
    return value


def _binary(op: Any) -> Any:
    def method(self, other):
        if isinstance(other, np.ndarray) and type(other) is not StrictArray:
            _unwrap(other)  # (raises)
        if not isinstance(other, (StrictArray, int, float, complex, bool, np.generic)):
            return NotImplemented
        return _wrap(op(self._a, _unwrap(other)))

    def reflected(self, other):
        if not isinstance(other, (int, float, complex, bool, np.generic)):
            return NotImplemented
        return _wrap(op(other, self._a))

    return method, reflected


def _inplace(op: Any) -> Any:
    def method(self, other):
        op(self._a, _unwrap(other))
        return self

    return method


_TRANSFERS = (np.asarray, np.array, np.asanyarray, np.ascontiguousarray)


class StrictArray:
    """An array that behaves as NumPy's through the dispatch protocols and never converts."""

    __slots__ = ("_a",)
    __array_priority__ = 50

    def __init__(self, array: Any) -> None:
        if type(array) is StrictArray:
            array = array._a
        self._a = np.asarray(array)

    # ------------------------------------------------------------ protocols
    def __array_ufunc__(self, ufunc, method, *inputs, **kwargs):
        if method not in ("__call__", "outer"):  # (as Dask: np.add.reduce, np.add.at...)
            return NotImplemented
        out = kwargs.get("out")
        inputs = _unwrap(inputs)
        kwargs = _unwrap(kwargs)
        result = getattr(ufunc, method)(*inputs, **kwargs)
        if out is not None:
            return out[0] if len(out) == 1 else out
        return _wrap(result)

    def __array_function__(self, func, types, args, kwargs):
        if not all(issubclass(t, (StrictArray, np.ndarray)) for t in types):
            return NotImplemented
        if func in _TRANSFERS:  # np.asarray(numpy_array, like=x): an explicit transfer, as
            return StrictArray(func(*args, **kwargs))  # cupy.asarray(numpy_array) is
        result = func(*_unwrap(args), **_unwrap(kwargs))
        if func is np.may_share_memory or func is np.shares_memory:
            return result
        return _wrap(result)

    def __array__(self, dtype=None, copy=None):
        raise ConversionRefused(
            "StrictArray refuses conversion to NumPy (np.asarray / np.array / __array__)"
        )

    # ------------------------------------------------------------ attributes
    shape = property(lambda self: self._a.shape)
    dtype = property(lambda self: self._a.dtype)
    ndim = property(lambda self: self._a.ndim)
    size = property(lambda self: self._a.size)
    nbytes = property(lambda self: self._a.nbytes)
    itemsize = property(lambda self: self._a.itemsize)
    strides = property(lambda self: self._a.strides)
    T = property(lambda self: StrictArray(self._a.T))
    mT = property(lambda self: StrictArray(np.swapaxes(self._a, -1, -2)))
    flags = property(lambda self: self._a.flags)

    @property
    def base(self):
        return None if self._a.base is None else StrictArray(self._a.base)

    @property
    def real(self):
        return StrictArray(self._a.real)

    @real.setter
    def real(self, value):
        self._a.real = _unwrap(value)

    @property
    def imag(self):
        return StrictArray(self._a.imag)

    @imag.setter
    def imag(self, value):
        self._a.imag = _unwrap(value)

    def __getattr__(self, name):
        if name.startswith("__") or name in ("ctypes", "data", "tobytes", "view", "flat"):
            raise AttributeError(f"StrictArray has no attribute {name!r}")
        attribute = getattr(self._a, name)
        if not callable(attribute):
            return _wrap(attribute)
        return lambda *args, **kwargs: _wrap(attribute(*_unwrap(args), **_unwrap(kwargs)))

    # ------------------------------------------------------------ Python protocols
    def __getitem__(self, key):
        return _wrap(self._a[_index(key)])

    def __setitem__(self, key, value):
        self._a[_index(key)] = _unwrap(value)

    def __len__(self):
        return len(self._a)

    def __iter__(self):
        return (_wrap(item) for item in self._a)

    def __bool__(self):
        return bool(self._a)

    def __float__(self):
        return float(self._a)

    def __int__(self):
        return int(self._a)

    def __complex__(self):
        return complex(self._a)

    def __index__(self):
        return operator.index(self._a)

    def __repr__(self):
        return "Strict" + repr(self._a)

    def __neg__(self):
        return StrictArray(-self._a)

    def __pos__(self):
        return StrictArray(+self._a)

    def __abs__(self):
        return StrictArray(abs(self._a))

    def __invert__(self):
        return StrictArray(~self._a)

    def __copy__(self):
        return StrictArray(self._a.copy())

    def __deepcopy__(self, memo):
        return StrictArray(self._a.copy())

    def __reduce__(self):
        return (StrictArray, (self._a,))

    __hash__ = None


for _name, _op in {
    "add": operator.add, "sub": operator.sub, "mul": operator.mul,
    "truediv": operator.truediv, "floordiv": operator.floordiv, "mod": operator.mod,
    "pow": operator.pow, "matmul": operator.matmul, "and": operator.and_, "or": operator.or_,
    "xor": operator.xor, "lshift": operator.lshift, "rshift": operator.rshift,
}.items():
    _method, _reflected = _binary(_op)
    setattr(StrictArray, f"__{_name}__", _method)
    setattr(StrictArray, f"__r{_name}__", _reflected)
    setattr(StrictArray, f"__i{_name}__", _inplace(getattr(operator, f"i{_name}")))
for _name in ("lt", "le", "gt", "ge", "eq", "ne"):
    setattr(StrictArray, f"__{_name}__", _binary(getattr(operator, _name))[0])


def strict(value: Any) -> Any:
    """NumPy arrays in ``value`` (nested in lists and tuples) as StrictArrays."""
    if isinstance(value, np.ndarray):
        return StrictArray(value)
    if isinstance(value, (list, tuple)):
        return type(value)(strict(item) for item in value)
    return value


def unstrict(value: Any) -> Any:
    """StrictArrays in ``value`` as the NumPy arrays they wrap (for the tests' comparisons)."""
    if type(value) is StrictArray:
        return value._a
    if isinstance(value, (list, tuple)):
        return type(value)(unstrict(item) for item in value)
    return value
