"""Arrays of any library of the array API standard, seen by chainrule as dispatch-protocol arrays.

chainrule's op table calls NumPy's functions on the arrays it holds, and a library's arrays
follow them through NumPy's dispatch protocols (``__array_ufunc__``, ``__array_function__``:
Dask, CuPy). A library that implements only the array API standard (``__array_namespace__``:
array-api-strict, and any other such library) does not: :func:`adapt` wraps such an array in
an :class:`Adapted` array that implements the protocols by calling the namespace's function
for NumPy's (``np.arcsin`` -> ``xp.asin``, ``np.concatenate`` -> ``xp.concat``, keywords
translated where the standard differs), with NumPy dtypes outside (chainrule reads
``dtype.kind``) and the library's inside. A NumPy function the standard lacks raises
NotImplementedError naming it and the library: nothing is converted to NumPy.

A tensor holds the adapted array; the user gets the library's own array back (:func:`unwrap`,
``tensor.data``). This module imports no library and nothing of chainrule.
"""

from __future__ import annotations

import inspect
import operator
from typing import Any

import numpy as np

# NumPy's name -> the standard's, where they differ (ufuncs and functions alike).
_NAMES = {
    "arcsin": "asin", "arccos": "acos", "arctan": "atan", "arctan2": "atan2",
    "arcsinh": "asinh", "arccosh": "acosh", "arctanh": "atanh", "power": "pow",
    "absolute": "abs", "true_divide": "divide", "conjugate": "conj", "amax": "max",
    "amin": "min", "concatenate": "concat", "transpose": "permute_dims", "rint": "round",
    "invert": "bitwise_invert", "left_shift": "bitwise_left_shift",
    "right_shift": "bitwise_right_shift", "cumsum": "cumulative_sum",
    "cumprod": "cumulative_prod", "array": "asarray",
}
# NumPy's keyword -> the standard's.
_KEYWORDS = {"ddof": "correction", "a_min": "min", "a_max": "max", "newshape": "shape",
             "rcond": "rtol"}
# NumPy's array methods that are NumPy's functions of the array.
_METHODS = frozenset({
    "any", "all", "sum", "prod", "max", "min", "mean", "std", "var", "argmax", "argmin",
    "cumsum", "cumprod", "ravel", "clip", "swapaxes", "squeeze", "round", "nonzero",
    "diagonal", "trace", "repeat", "take", "conjugate", "sort", "argsort",
})


class Adapted:
    """An array of an array-API library behind NumPy's dispatch protocols. One subclass per
    library (:func:`adapt`), named by its module, so that chainrule's library checks
    (backends.library_of) see the library's own name: an adapted array and a raw one of the
    same library mix, two libraries do not."""

    __slots__ = ("_a",)
    __array_priority__ = 50
    _xp: Any = None  # the namespace (set on each library's subclass)

    def __init__(self, array: Any) -> None:
        self._a = array

    # ------------------------------------------------------------ protocols
    def __array_ufunc__(self, ufunc, method, *inputs, **kwargs):
        if getattr(np, ufunc.__name__, None) is not ufunc:  # (SciPy's: no standard counterpart)
            raise NotImplementedError(
                f"the ufunc {ufunc.__name__} is not NumPy's and has no counterpart in the array "
                f"API standard, and {self._library} arrays implement only the standard"
            )
        if method == "outer":  # a[..., None, ...] op b
            a, b = (_raw(self, v) for v in inputs)
            a = self._xp.reshape(a, a.shape + (1,) * b.ndim)
            return self._call(ufunc, "numpy", (a, b), kwargs)
        if method != "__call__":
            raise NotImplementedError(
                f"np.{ufunc.__name__}.{method} on {self._library} arrays: the array API "
                f"standard has no ufunc methods"
            )
        return self._call(ufunc, "numpy", inputs, kwargs)

    def __array_function__(self, func, types, args, kwargs):
        if not all(issubclass(t, (Adapted, np.ndarray)) for t in types):
            return NotImplemented
        return self._call(func, func.__module__, args, kwargs)

    def _call(self, func: Any, module: str, args: tuple, kwargs: dict) -> Any:
        """NumPy's ``func(*args, **kwargs)`` run as the namespace's function."""
        name, xp = func.__name__, self._xp
        if name in ("asarray", "array") and isinstance(args[0], (np.ndarray, np.generic)):
            args = (_transfer(xp, args[0]), *args[1:])  # (np.asarray(data, like=x): explicit)
        translate = _SPECIAL.get(name)
        if translate is not None:
            return _wrap(self, translate(xp, *_raw(self, args), **_raw(self, kwargs)))
        function = _find(xp, module, _NAMES.get(name, name))
        if function is None:
            raise NotImplementedError(
                f"{module}.{name} has no counterpart in the array API standard, and "
                f"{self._library} arrays implement only the standard"
            )
        args, kwargs = _arguments(self, func, function, args, kwargs)
        args = _as_numpy_would(xp, name, module, list(args), isinstance(func, np.ufunc))
        return _wrap(self, function(*args, **kwargs))

    @property
    def _library(self) -> str:
        return type(self).__module__.partition(".")[0]

    def __array__(self, dtype=None, copy=None):
        raise TypeError(
            f"chainrule does not convert {self._library} arrays to NumPy implicitly; "
            f"tensor.numpy() does it explicitly"
        )

    def get(self) -> np.ndarray:
        """The values as a NumPy array: an explicit transfer (as CuPy's ``get``), through
        DLPack, which the standard requires."""
        return np.from_dlpack(self._a)

    # ------------------------------------------------------------ attributes
    shape = property(lambda self: tuple(self._a.shape))
    ndim = property(lambda self: self._a.ndim)
    size = property(lambda self: int(np.prod(self._a.shape)))
    dtype = property(lambda self: _dtypes(self._xp)[1][self._a.dtype])
    T = property(lambda self: _wrap(self, self._xp.permute_dims(
        self._a, tuple(range(self._a.ndim))[::-1])))
    mT = property(lambda self: _wrap(self, self._xp.matrix_transpose(self._a)))
    real = property(np.real)
    imag = property(np.imag)

    def astype(self, dtype, copy=True):
        return _wrap(self, self._xp.astype(self._a, _raw(self, np.dtype(dtype)), copy=copy))

    def copy(self):
        return _wrap(self, self._xp.asarray(self._a, copy=True))

    def reshape(self, *shape):
        shape = shape[0] if len(shape) == 1 and isinstance(shape[0], (tuple, list)) else shape
        return _wrap(self, self._xp.reshape(self._a, tuple(shape)))

    def transpose(self, *axes):
        axes = axes[0] if len(axes) == 1 and not isinstance(axes[0], int) else axes or None
        return np.transpose(self, axes)

    def conj(self):
        return _wrap(self, self._xp.conj(self._a))

    def __getattr__(self, name):
        """NumPy's array methods that are its functions (``x.any()``, ``x.sum(axis)``)."""
        if name not in _METHODS:
            raise AttributeError(f"{type(self).__name__} has no attribute {name!r}")
        function = getattr(np, name)
        return lambda *args, **kwargs: function(self, *args, **kwargs)

    def item(self):
        return self.get().item()

    def tolist(self):
        return self.get().tolist()

    # ------------------------------------------------------------ Python protocols
    def __getitem__(self, key):
        key = _clamped(self._xp, self._a.shape, _index(self, key))
        arrays = [i for i, k in enumerate(key) if _kind(self._xp, k) == "integral" and k.ndim]
        if not arrays or len(key) == self.ndim and all(
                i in arrays or isinstance(k, int) for i, k in enumerate(key)):
            return _wrap(self, self._a[key])  # (the standard's integer-array indexing)
        if len(arrays) > 1 or any(k is None or isinstance(k, int) for k in key):
            raise NotImplementedError(self._fancy("indexing"))
        return _wrap(self, _take_index(self._xp, self._a, key, arrays[0]))

    def __setitem__(self, key, value):
        key = _clamped(self._xp, self._a.shape, _index(self, key))
        if any(_kind(self._xp, k) == "integral" and k.ndim for k in key):
            raise NotImplementedError(self._fancy("assignment"))
        self._a[key] = _raw(self, value)

    def _fancy(self, what: str) -> str:
        return (f"NumPy's integer-array {what} in this form has no counterpart in the array API "
                f"standard, and {self._library} arrays implement only the standard")

    def __len__(self):
        return self._a.shape[0]

    def __iter__(self):
        return (self[i] for i in range(len(self)))

    def __repr__(self):
        return repr(self._a)  # (the user sees their own array)

    def __copy__(self):
        return self.copy()

    def __deepcopy__(self, memo):
        return self.copy()

    __hash__ = None


def _unary(op: Any) -> Any:
    return lambda self: _wrap(self, op(self._a)) if op in _WRAPPED else op(self._a)


def _binary(op: Any, reflected: bool) -> Any:
    def method(self, other):
        if not isinstance(other, (Adapted, int, float, complex, np.generic)) and type(
                other) is not type(self._a):
            return NotImplemented
        pair = _as_numpy_would(self._xp, op.__name__, "", [self._a, _raw(self, other)], True)
        return _wrap(self, op(*pair[::-1]) if reflected else op(*pair))

    return method


_WRAPPED = {operator.neg, operator.pos, operator.abs, operator.invert}
for _op in (*_WRAPPED, bool, float, int, complex, operator.index):
    setattr(Adapted, f"__{_op.__name__.strip('_')}__", _unary(_op))
for _name in ("add", "sub", "mul", "truediv", "floordiv", "mod", "pow", "matmul", "and", "or",
              "xor", "lshift", "rshift"):
    _op = getattr(operator, f"{_name}_" if _name in ("and", "or") else _name)
    setattr(Adapted, f"__{_name}__", _binary(_op, False))
    setattr(Adapted, f"__r{_name}__", _binary(_op, True))
for _name in ("lt", "le", "gt", "ge", "eq", "ne"):
    setattr(Adapted, f"__{_name}__", _binary(getattr(operator, _name), False))


# ---------------------------------------------------------------- adapting and unwrapping

_CLASSES: dict[type, type] = {}


def adapt(array: Any) -> Any:
    """``array`` behind NumPy's dispatch protocols when it has only the array API's namespace
    (an :class:`Adapted`); anything else as it is."""
    kind = type(array)
    cls = _CLASSES.get(kind)
    if cls is None:
        if hasattr(kind, "__array_function__") or not hasattr(kind, "__array_namespace__"):
            return array
        cls = _CLASSES[kind] = type(f"Adapted{kind.__name__}", (Adapted,), {
            "__slots__": (), "__module__": kind.__module__,
            "_xp": array.__array_namespace__()})
    return cls(array)


def unwrap(value: Any) -> Any:
    """The library's own array for an adapted one; anything else as it is."""
    return value._a if isinstance(value, Adapted) else value


def _raw(owner: Adapted, value: Any) -> Any:
    """An argument as the namespace takes it: arrays of ``owner``'s library unwrapped, NumPy
    dtypes and scalars as the library's; a NumPy array is refused (it would be converted)."""
    if isinstance(value, Adapted):
        if value._xp is not owner._xp:
            raise TypeError(f"arrays of two libraries, {owner._library} and {value._library}")
        return value._a
    if isinstance(value, np.ndarray):
        raise TypeError(
            f"a NumPy array (shape {value.shape}) mixed with {owner._library} arrays: "
            f"make it a {owner._library} array first"
        )
    if isinstance(value, np.dtype) or (isinstance(value, type) and issubclass(value, np.generic)):
        return _dtypes(owner._xp)[0][np.dtype(value)]
    if isinstance(value, (np.integer, np.bool_)):  # (an axis, a count)
        return value.item()
    if isinstance(value, np.generic):  # a NumPy float keeps its dtype in promotion, as in NumPy
        return _transfer(owner._xp, value)
    if isinstance(value, (list, tuple)):
        return _rebuilt(value, [_raw(owner, item) for item in value])
    if isinstance(value, dict):
        return {key: _raw(owner, item) for key, item in value.items()}
    return value


def _wrap(owner: Adapted, value: Any) -> Any:
    """A result as chainrule takes it: the library's arrays adapted, its dtypes NumPy's."""
    if type(value) is type(owner._a):
        return type(owner)(value)
    back = _dtypes(owner._xp)[1]
    if type(value) is type(next(iter(back))):
        return back[value]
    if isinstance(value, (list, tuple)):
        return _rebuilt(value, [_wrap(owner, item) for item in value])
    return value


def _transfer(xp: Any, value: np.ndarray | np.generic) -> Any:
    """NumPy data as the library's array, through DLPack (the standard's transfer)."""
    array = np.asarray(value, order="C")
    if not array.flags.writeable:  # (NumPy 2.0 cannot export read-only memory through DLPack)
        array = array.copy()
    return xp.from_dlpack(array)


def _rebuilt(sequence: list | tuple, items: list) -> list | tuple:
    """A list, tuple or named tuple (eigh's, svd's results) of the same type with ``items``."""
    return type(sequence)(*items) if hasattr(sequence, "_fields") else type(sequence)(items)


def _index(owner: Adapted, key: Any) -> Any:
    """An index: NumPy's integer and boolean arrays become the library's, as CuPy takes them."""
    if isinstance(key, np.ndarray) and key.dtype.kind in "biu":
        return _transfer(owner._xp, key)
    if isinstance(key, np.integer):
        return int(key)
    if isinstance(key, list):  # (NumPy reads a list as an integer or boolean array)
        return owner._xp.asarray(key)
    if isinstance(key, tuple):
        return tuple(_index(owner, item) for item in key)
    return _raw(owner, key)


def _take_index(xp: Any, a: Any, key: tuple, position: int) -> Any:
    """``a[key]`` for a key of slices and one integer array (at ``position``), which the
    standard's indexing does not take: the slices, then ``take`` along the array's axis."""
    index = key[position]
    before = any(k is Ellipsis for k in key[:position])
    axis = a.ndim - (len(key) - position) if before else position
    a = a[key[:position] + (slice(None),) + key[position + 1:]]
    index = xp.where(index < 0, index + a.shape[axis], index)
    taken = xp.take(a, xp.reshape(index, (-1,)), axis=axis)
    return xp.reshape(taken, a.shape[:axis] + tuple(index.shape) + a.shape[axis + 1:])


def _clamped(xp: Any, shape: tuple, key: Any) -> Any:
    """A key as the standard takes it: a tuple, slices clamped to the axes they index and the
    axes not indexed left to an Ellipsis, as NumPy does (the standard leaves both unspecified)."""
    key = key if isinstance(key, tuple) else (key,)
    sizes = [0 if k is Ellipsis or k is None else k.ndim if _kind(xp, k) == "bool" else 1
             for k in key]
    if not any(k is Ellipsis for k in key) and sum(sizes) < len(shape):
        key, sizes = (*key, Ellipsis), [*sizes, 0]
    out, axis = [], 0
    for k, size in zip(key, sizes, strict=True):
        if k is Ellipsis:
            axis += len(shape) - sum(sizes)
        elif type(k) is slice:
            start, stop, step = k.indices(shape[axis])
            empty = not range(start, stop, step)
            k = slice(0, 0) if empty else slice(start, None if stop < 0 or stop >= shape[
                axis] else stop, step)
        axis += size
        out.append(k)
    return tuple(out)


def _arguments(owner: Adapted, func: Any, target: Any, args: tuple, kwargs: dict) -> tuple:
    """NumPy's arguments as the standard's function takes them, by NumPy's signature: as many
    positionally as the standard's function takes so, the rest by (translated) name; a NumPy
    argument the standard lacks is dropped at its default and refused otherwise."""
    args, kwargs = _raw(owner, args), _raw(owner, kwargs)
    try:
        ours, theirs = inspect.signature(func), inspect.signature(target).parameters
    except (TypeError, ValueError):  # a ufunc, or a library's builtin: as given, None dropped
        ours = None
    if ours is None or any(p.kind is p.VAR_POSITIONAL for p in ours.parameters.values()):
        # (NumPy's ufuncs say nothing of their parameters before NumPy 2.2)
        return args, {key: value for key, value in kwargs.items() if value is not None}
    if any(p.kind is p.VAR_POSITIONAL for p in theirs.values()):
        return args, kwargs  # (broadcast_arrays, meshgrid: arrays, as given)
    positional = sum(p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)
                     for p in theirs.values())
    out_args, out_kwargs = [], {}
    for index, (key, value) in enumerate(ours.bind(*args, **kwargs).arguments.items()):
        parameter, key = ours.parameters[key], _KEYWORDS.get(key, key)
        if index < positional and parameter.kind is not parameter.KEYWORD_ONLY:
            out_args.append(value)
        elif _is_default(value, parameter.default):
            continue  # (the standard's default means the same)
        elif key in theirs:
            out_kwargs[key] = value
        else:
            raise NotImplementedError(
                f"np.{func.__name__}(..., {parameter.name}={value!r}): the array API standard "
                f"has no {parameter.name!r}, and {owner._library} arrays implement only the "
                f"standard"
            )
    return out_args, out_kwargs


def _is_default(value: Any, default: Any) -> bool:
    return value is default or (
        type(value) is type(default) and isinstance(value, (bool, int, float, str))
        and value == default)


def _find(xp: Any, module: str, name: str) -> Any:
    for part in module.split(".")[1:]:  # numpy.linalg -> xp.linalg
        xp = getattr(xp, part, None)
    return getattr(xp, name, None)


_DTYPE_CACHE: dict[int, tuple[dict, dict]] = {}


def _dtypes(xp: Any) -> tuple[dict, dict]:
    """NumPy's dtypes -> the library's, and back, by the standard's names."""
    found = _DTYPE_CACHE.get(id(xp))
    if found is None:
        by_name = xp.__array_namespace_info__().dtypes()
        to_xp = {np.dtype(name): dtype for name, dtype in by_name.items()}
        found = _DTYPE_CACHE[id(xp)] = (to_xp, {v: k for k, v in to_xp.items()})
    return found


# ---------------------------------------------------------------- NumPy's promotions
# Where NumPy promotes and the standard refuses (booleans in arithmetic, real input to a complex
# FFT...), the arguments are promoted as NumPy would: a NumPy program means NumPy's result.

_LOGICAL = frozenset({"logical_and", "logical_or", "logical_xor", "logical_not"})
_INTEGER_TOTALS = frozenset({"sum", "prod", "cumsum", "cumprod"})  # bool -> int64
_FLOAT_MEANS = frozenset({"mean", "std", "var"})  # bool, int -> float64
_COMPLEX_INPUT = frozenset({"fft", "ifft", "fftn", "ifftn", "irfft", "irfftn", "hfft"})


def _as_numpy_would(xp: Any, name: str, module: str, args: list, elementwise: bool) -> list:
    """``args`` of NumPy's ``name`` promoted as NumPy would where the standard refuses: the
    operands of an elementwise function to NumPy's common dtype (a boolean or integer array
    with a float...)."""
    first = args[0] if args else None
    if not hasattr(first, "dtype") and not elementwise:
        return args
    if name in _LOGICAL:
        return [xp.astype(v, xp.bool) if _kind(xp, v) not in ("bool", None) else v
                for v in args]
    if name in _INTEGER_TOTALS and _kind(xp, first) == "bool":
        return [xp.astype(first, xp.int64), *args[1:]]
    if name in _FLOAT_MEANS and _kind(xp, first) in ("bool", "integral"):
        return [xp.astype(first, xp.float64), *args[1:]]
    if module == "numpy.fft" and name in _COMPLEX_INPUT and _kind(xp, first) == "real floating":
        return [xp.astype(first, xp.result_type(first, xp.complex64)), *args[1:]]
    if not elementwise or len(args) < 2:
        return args
    numpy_dtypes = _dtypes(xp)[1]
    target = np.result_type(*[numpy_dtypes[v.dtype] if hasattr(v, "dtype") else v
                              for v in args])
    return [xp.astype(v, _dtypes(xp)[0][target])
            if hasattr(v, "dtype") and numpy_dtypes[v.dtype] != target else v for v in args]


def _kind(xp: Any, value: Any) -> str | None:
    """The standard's kind of an array's dtype (None for a scalar)."""
    if not hasattr(value, "dtype"):
        return None
    kinds = ("bool", "integral", "real floating", "complex floating")
    return next(kind for kind in kinds if xp.isdtype(value.dtype, kind))


# ---------------------------------------------------------------- NumPy's signatures
# NumPy functions whose arguments differ from the standard's: f(xp, *args, **kwargs) with the
# arguments already the library's.


def _axes(ndim: int, axis: Any) -> tuple:
    return tuple(range(ndim)) if axis is None else (axis,) if isinstance(axis, int) else axis


def _transpose(xp, a, axes=None):
    return xp.permute_dims(a, tuple(range(a.ndim))[::-1] if axes is None else tuple(axes))


def _swapaxes(xp, a, axis1, axis2):
    order = list(range(a.ndim))
    order[axis1], order[axis2] = order[axis2], order[axis1]
    return xp.permute_dims(a, tuple(order))


def _flat(xp, a):
    return xp.reshape(a, (-1,))


def _concatenate(xp, arrays, axis=0, out=None, dtype=None):
    if axis is None:
        return xp.concat([_flat(xp, a) for a in arrays])
    return xp.concat(list(arrays), axis=axis)


def _cumulative(name):
    def cumulative(xp, a, axis=None, dtype=None, out=None):
        if axis is None:
            a, axis = _flat(xp, a), 0
        return getattr(xp, name)(a, axis=axis, dtype=dtype)

    return cumulative


def _squeeze(xp, a, axis=None):
    if axis is None:
        axis = tuple(i for i, n in enumerate(a.shape) if n == 1)
    return xp.squeeze(a, axis=axis)


def _reshape(xp, a, shape=None, order="C", newshape=None, copy=None):
    shape = newshape if shape is None else shape
    return xp.reshape(a, (shape,) if isinstance(shape, int) else tuple(shape), copy=copy)


def _take(xp, a, indices, axis=None, out=None, mode="raise"):
    if axis is None:
        a, axis = _flat(xp, a), 0
    return xp.take(a, indices, axis=axis)


def _zeros_like(fill):
    def like(xp, a, dtype=None, order="K", subok=True, shape=None):
        return xp.full(a.shape if shape is None else shape, fill,
                       dtype=a.dtype if dtype is None else dtype)

    return like


def _ravel(xp, a, order="C"):
    return _flat(xp, a)


def _expand_dims(xp, a, axis):
    axes = _axes(a.ndim, axis)
    for position in sorted(i % (a.ndim + len(axes)) for i in axes):
        a = xp.expand_dims(a, axis=position)
    return a


def _clip(xp, a, a_min=None, a_max=None, out=None, *, min=None, max=None):  # noqa: A002
    """NumPy's clip, minimum(maximum(a, low), high), also where low > high (the standard's
    clip leaves that unspecified)."""
    low, high = (a_min if min is None else min), (a_max if max is None else max)
    if low is not None:
        a = xp.maximum(*_as_numpy_would(xp, "maximum", "", [a, low], True))
    return a if high is None else xp.minimum(*_as_numpy_would(xp, "minimum", "", [a, high], True))


def _where(xp, condition, x=None, y=None):
    if x is None and y is None:
        return xp.nonzero(condition)
    if not hasattr(x, "dtype") and not hasattr(y, "dtype"):  # (two scalars: the standard
        x = xp.asarray(x, dtype=_dtypes(xp)[0][np.result_type(x, y)])  # refuses them)
    return xp.where(condition, *_as_numpy_would(xp, "where", "", [x, y], True))


def _real(xp, a):
    return xp.real(a) if xp.isdtype(a.dtype, "complex floating") else a


def _imag(xp, a):  # (NumPy gives a real array's zero imaginary part, the standard refuses)
    return xp.imag(a) if xp.isdtype(a.dtype, "complex floating") else xp.zeros_like(a)



def _svd(xp, a, full_matrices=True, compute_uv=True, hermitian=False):
    if hermitian:
        raise NotImplementedError("np.linalg.svd(..., hermitian=True): the array API standard "
                                  "has no 'hermitian'")
    if not compute_uv:
        return xp.linalg.svdvals(a)
    return xp.linalg.svd(a, full_matrices=full_matrices)


def _argsort(xp, a, axis=-1, kind=None, order=None, *, stable=None):
    return xp.argsort(a, axis=axis, stable=bool(stable) or kind == "stable")


def _tile(xp, a, reps):
    return xp.tile(a, (reps,) if isinstance(reps, int) else tuple(reps))


def _repeat(xp, a, repeats, axis=None):
    if axis is None:
        a, axis = _flat(xp, a), 0
    if isinstance(repeats, (list, tuple)):
        repeats = xp.asarray(repeats)
    return xp.repeat(a, repeats, axis=axis)


def _pad(xp, a, pad_width, mode="constant", constant_values=0, **_):
    """NumPy's constant padding: the standard's ``full`` and a slice assignment."""
    if mode != "constant" or not isinstance(constant_values, (int, float, complex)):
        raise NotImplementedError(f"np.pad(..., mode={mode!r}) has no counterpart in the array "
                                  f"API standard (constant padding by a number has)")
    widths = np.broadcast_to(np.asarray(pad_width, dtype=int), (a.ndim, 2)).tolist()
    out = xp.full(tuple(n + lo + hi for n, (lo, hi) in zip(a.shape, widths, strict=True)),
                  constant_values, dtype=a.dtype)
    out[tuple(slice(lo, lo + n) for n, (lo, _) in zip(a.shape, widths, strict=True))] = a
    return out


_SPECIAL = {
    "shape": lambda xp, a: tuple(a.shape), "ndim": lambda xp, a: a.ndim,
    "size": lambda xp, a, axis=None: int(np.prod(a.shape if axis is None else a.shape[axis])),
    "pad": _pad, "tile": _tile, "repeat": _repeat,
    "copy": lambda xp, a, **_: xp.asarray(a, copy=True),
    "real": _real, "imag": _imag, "clip": _clip, "where": _where, "svd": _svd, "argsort": _argsort,
    "transpose": _transpose, "swapaxes": _swapaxes, "concatenate": _concatenate,
    "cumsum": _cumulative("cumulative_sum"), "cumprod": _cumulative("cumulative_prod"),
    "squeeze": _squeeze, "reshape": _reshape, "take": _take, "ravel": _ravel,
    "zeros_like": _zeros_like(0), "ones_like": _zeros_like(1), "empty_like": _zeros_like(0),
    "expand_dims": _expand_dims,
}
