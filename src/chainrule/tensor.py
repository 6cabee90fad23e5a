"""The Tensor: a NumPy array plus what autograd needs to know about it.

A tensor is a leaf (created by the user) or the output of a recorded operation, in which case
``grad_fn`` is the :class:`~chainrule.node.Node` that made it. Operators and methods delegate
to the op table in :mod:`chainrule.ops`; this module holds no derivative rules.

Mixed in from below (modules that do not use the op table): ``conversion.py`` (to NumPy and
Python numbers) and ``grad_state.py`` (``requires_grad``, ``.grad``, hooks, ``backward``).
Imported at the end, as they use both the class and the op table: ``in_place.py``,
``numpy_protocol.py`` (NumPy's ufunc and function protocols) and ``views.py``.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from . import backends
from .backends import asarray, seen, unwrap
from .codegen import constructor
from .conversion import ConversionMethods
from .dtypes import (
    as_dtype,
    is_differentiable_dtype,  # noqa: F401 (functional.py and tape.py read it here)
    numbers_to_array,
)
from .grad_state import GradState

# Operators call the op table's ``apply`` directly with these (never mutated) parameters.
_NO_PARAMS: dict = {}


def to_array(data: Any, dtype: Any = None, promote_types: Any = np.promote_types) -> np.ndarray:
    """Convert ``data`` to an array with the frameworks' defaults.

    Python floats (and lists of them) become float32, Python complex numbers complex64, Python
    ints int64; whatever has a dtype of its own keeps it unless ``dtype`` is given: tensors,
    NumPy arrays and scalars (``np.float64(1.0)``, also inside lists), and array-likes such as
    pandas objects. In a list that mixes them, the dtypes are combined by ``promote_types``
    (NumPy's rule by default; a dialect passes its framework's). Data that are not numbers
    (None, strings, objects) raise TypeError.

    >>> import numpy as np, chainrule as cr
    >>> cr.tensor([1.0, 2.0]).dtype, cr.tensor([np.float64(1.0), 2.0]).dtype
    (dtype('float32'), dtype('float64'))
    """
    if isinstance(data, Tensor):
        return backends.copy(data._array, as_dtype(dtype))
    if isinstance(data, (list, tuple)) and any(isinstance(item, Tensor) for item in data):
        data = [to_array(item) for item in data]
        return backends.copy(np.stack(data), as_dtype(dtype))
    return numbers_to_array(data, dtype, promote_types)


def array_of(value: Any) -> Any:
    """The array behind a tensor, or ``value`` itself (a number, an array)."""
    return value._array if isinstance(value, Tensor) else value


class Tensor(ConversionMethods, GradState):
    """An n-dimensional array that can record the operations applied to it.

    >>> import chainrule as cr
    >>> x = cr.tensor([1.0, 2.0, 3.0], requires_grad=True)
    >>> y = (x * x).sum()
    >>> y.backward()
    >>> x.grad
    tensor([2., 4., 6.])
    """

    # Every field of a new tensor and its value; ``{array}``, ``{node}`` and ``{version}`` are
    # filled in by whoever makes it. ``__init__``, ``_wrap`` and the code generated for each
    # primitive (ops/recording.py) are all made from this declaration: a field is added here.
    _FIELDS = {
        "_array": "{array}", "_requires_grad": "{node} is not None", "_grad": "None",
        "_node": "{node}",
        "_version": "{version}", "_tangents": "None", "_grad_req": "None",
        "_hooks": "None",  # a leaf's hooks (a result's are its node's)
        "_view": "None",  # how a view is made from its base (views.py)
    }
    __slots__ = (*_FIELDS, "__weakref__")
    __array_priority__ = 1000
    # pandas hands ``series + t`` to the tensor (which converts the Series) instead of
    # converting the tensor itself, which would drop its gradient.
    __pandas_priority__ = 5000
    # Options that dialects select: MXNet sums a non-scalar output implicitly before
    # backward; PyTorch and the native API ask for ``gradient``.
    _implicit_sum = False
    # MXNet records operations only inside ``record()``, not whenever grad mode is on.
    _record_only = False
    # TensorFlow and MXNet hand a recorded tensor's values to NumPy (losing the derivative, as
    # those frameworks do); PyTorch and the native API refuse while recording.
    _converts_freely = False
    # Whether this is the class of views of another (views.view_class).
    _view_of = False
    # NumPy ufunc -> the function a dialect calls for it, on the inputs (``np.add(t, u)``
    # promotes as the dialect's ``t + u`` does); the core's own are found by name.
    _ufunc_routes: dict = {}
    # The class that results of operations on this tensor take: its own class unless a
    # subclass names another (a TensorFlow variable makes plain tensors).
    _op_class: type

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if "_op_class" not in cls.__dict__:
            cls._op_class = cls

    def __init__(self, data: Any, dtype: Any = None, requires_grad: bool = False) -> None:
        Tensor._fill(self, to_array(data, dtype))
        if requires_grad:
            self.requires_grad = True

    # ---------------------------------------------------------------- attributes
    @property
    def data(self) -> Any:
        """The array this tensor wraps (shared memory, no history; an array-API library's own
        array); assigning replaces it. (The core reads ``_array``; PyTorch's dialect: a tensor.)"""
        return unwrap(backends.lifted(self._array))  # (cr.jit: read, traced)

    @data.setter
    def data(self, value: Any) -> None:
        array = value._array if isinstance(value, Tensor) else asarray(seen(value))
        backends.rebind(self, array)  # (cr.jit: recorded, and made again at each replay)

    @property
    def shape(self) -> tuple[int, ...]:
        return self._array.shape

    @property
    def ndim(self) -> int:
        return self._array.ndim

    @property
    def size(self) -> int:
        return self._array.size

    @property
    def dtype(self) -> np.dtype:
        return self._array.dtype

    @property
    def T(self) -> Tensor:  # noqa: N802
        return transpose(self)

    @property
    def mT(self) -> Tensor:  # noqa: N802
        return swapaxes(self, -1, -2)

    @property
    def real(self) -> Tensor:
        return real(self)

    @real.setter
    def real(self, value: Any) -> None:  # (z.real *= 2 and z.real = t write the real part)
        real(self).copy_(value)

    @property
    def imag(self) -> Tensor:
        return imag(self)

    @imag.setter
    def imag(self, value: Any) -> None:
        imag(self).copy_(value)

    def __len__(self) -> int:
        if self._array.ndim == 0:
            raise TypeError("len() of a 0-d tensor")
        return self._array.shape[0]

    def __iter__(self):
        if self._array.ndim == 0:
            raise TypeError("iteration over a 0-d tensor")
        return (self[i] for i in range(self._array.shape[0]))

    __hash__ = object.__hash__

    def __array_ufunc__(self, ufunc: Any, method: str, *inputs: Any, **kwargs: Any) -> Any:
        """NumPy's ufunc protocol: ``np.sin(t)`` and ``array * t`` run chainrule's op."""
        return array_ufunc(self, ufunc, method, inputs, kwargs)

    def __array_function__(self, func: Any, types: Any, args: tuple, kwargs: dict) -> Any:
        """NumPy's function protocol (NEP 18): see numpy_protocol.array_function."""
        return array_function(func, args, kwargs)

    # ---------------------------------------------------------------- autograd state
    # ``_wrap(data, node=None, cls=None)``: a tensor around an existing array, without copying
    # or checking it, with a version counter of its own. ``_fill(tensor, data)``: the fields of
    # a new leaf (``__init__``).
    _wrap = staticmethod(constructor(
        "_wrap(data, node=None, cls=None)", _FIELDS,
        {"array": "data", "node": "node", "version": "[0]"}, globals(), "Tensor._wrap",
        new="object.__new__(cls or Tensor)",
    ))
    _fill = staticmethod(constructor(
        "_fill(self, data)", _FIELDS, {"array": "data", "node": "None", "version": "[0]"},
        {}, "Tensor.__init__",
    ))

    def _derive(
        self, cls: type | None = None, *, data: Any = None, history: bool = True,
        tangents: Any = True,
    ) -> Tensor:
        """Another tensor object made from this one: the one way to derive a tensor from
        another, so that each field is carried over in one place.

        Over this tensor's memory (``data`` None) it shares the version counter, so that the
        checks of either see a write through the other, and a view stays a view of its base;
        over ``data`` (a copy of the values, or this memory counted apart, as PyTorch's
        ``.data``) it counts its own versions. ``cls`` is its class
        (this tensor's by default). It keeps the history (``requires_grad`` and the node)
        unless ``history`` is False, and the tangents if ``tangents`` is True; None or a dict
        of tangents replaces them.
        """
        out = Tensor._wrap(self._array if data is None else data, None, cls or type(self))
        if history:
            out._node, out._requires_grad = self._node, self._requires_grad
        out._tangents = self._tangents if tangents is True else tangents
        if data is None:
            out._version = self._version
            if history and self._view is not None:
                alias(self, out)
        return out

    def compute(self) -> Tensor:
        """This tensor with a lazy array (Dask) computed: :func:`chainrule.compute`; several
        at once share their work (``cr.compute(loss, w.grad)``)."""
        from .lazy import compute

        return compute(self)[0]

    def persist(self) -> Tensor:
        """This tensor with a lazy array (Dask) computed and kept in memory, still lazy
        (:func:`chainrule.persist`)."""
        from .lazy import persist

        return persist(self)[0]

    def detach(self) -> Tensor:
        """A tensor with the same data (shared memory) and no history.

        >>> import chainrule as cr
        >>> x = cr.tensor([1.0], requires_grad=True)
        >>> (x * 2).detach().requires_grad
        False
        """
        return self._derive(self._op_class, history=False, tangents=None)

    # ---------------------------------------------------------------- in-place updates
    # Each writes into this tensor's own buffer and takes over the recorded operation's
    # history (in_place.assign).
    def __iadd__(self, other: Any) -> Tensor:
        return assign(self, add(self, other))

    def __isub__(self, other: Any) -> Tensor:
        return assign(self, subtract(self, other))

    def __imul__(self, other: Any) -> Tensor:
        return assign(self, multiply(self, other))

    def __itruediv__(self, other: Any) -> Tensor:
        return assign(self, true_divide(self, other))

    def add_(self, other: Any, alpha: Any = 1) -> Tensor:
        return assign(self, add(self, other if alpha == 1 else multiply(other, alpha)))

    def sub_(self, other: Any, alpha: Any = 1) -> Tensor:
        return assign(self, subtract(self, other if alpha == 1 else multiply(other, alpha)))

    def mul_(self, other: Any) -> Tensor:
        return assign(self, multiply(self, other))

    def div_(self, other: Any) -> Tensor:
        return assign(self, true_divide(self, other))

    def zero_(self) -> Tensor:
        """Set every element to zero in place (the same buffer)."""
        return self.fill_(0)

    def fill_(self, value: Any) -> Tensor:
        """Set every element to ``value`` (a number or a 0-d tensor, whose gradient flows) in
        place (the same buffer)."""
        if isinstance(value, Tensor):
            if value._array.ndim:
                raise ValueError(
                    f"fill_ takes a number or a 0-d tensor, got a tensor of shape "
                    f"{value.shape}; use copy_ to write a tensor that broadcasts"
                )
            return self.copy_(value)
        return assign(self, Tensor._wrap(np.full_like(self._array, value)))

    def copy_(self, src: Any) -> Tensor:
        """Write ``src`` (broadcast to this shape, cast to this dtype) into this tensor's buffer;
        the gradient flows to ``src``."""
        if not isinstance(src, Tensor):
            src = Tensor._wrap(np.asarray(src))
        if src._array.shape != self._array.shape:
            src = broadcast_to(src, shape=self._array.shape)
        return assign(self, src)

    def __setitem__(self, index: Any, value: Any) -> None:
        check_in_place(self)
        assign(self, setitem(self, value, index=index))

    # ---------------------------------------------------------------- operators
    def __neg__(self) -> Tensor:
        return negative.apply((self,), _NO_PARAMS)

    def __pos__(self) -> Tensor:
        return self

    def __abs__(self) -> Tensor:
        return absolute(self)

    def __add__(self, other: Any) -> Tensor:
        return add.apply((self, other), _NO_PARAMS)

    def __radd__(self, other: Any) -> Tensor:
        return add.apply((other, self), _NO_PARAMS)

    def __sub__(self, other: Any) -> Tensor:
        return subtract.apply((self, other), _NO_PARAMS)

    def __rsub__(self, other: Any) -> Tensor:
        return subtract.apply((other, self), _NO_PARAMS)

    def __mul__(self, other: Any) -> Tensor:
        return multiply.apply((self, other), _NO_PARAMS)

    def __rmul__(self, other: Any) -> Tensor:
        return multiply.apply((other, self), _NO_PARAMS)

    def __truediv__(self, other: Any) -> Tensor:
        return true_divide.apply((self, other), _NO_PARAMS)

    def __rtruediv__(self, other: Any) -> Tensor:
        return true_divide.apply((other, self), _NO_PARAMS)

    def __pow__(self, other: Any) -> Tensor:
        return power.apply((self, other), _NO_PARAMS)

    def __rpow__(self, other: Any) -> Tensor:
        return power.apply((other, self), _NO_PARAMS)

    def __matmul__(self, other: Any) -> Tensor:
        return matmul.apply((self, other), _NO_PARAMS)

    def __rmatmul__(self, other: Any) -> Tensor:
        return matmul.apply((other, self), _NO_PARAMS)

    def __floordiv__(self, other: Any) -> Tensor:
        return floor_divide(self, other)

    def __rfloordiv__(self, other: Any) -> Tensor:
        return floor_divide(other, self)

    def __mod__(self, other: Any) -> Tensor:
        return remainder(self, other)

    def __eq__(self, other: Any) -> Tensor:  # type: ignore[override]
        return equal(self, other)

    def __ne__(self, other: Any) -> Tensor:  # type: ignore[override]
        return not_equal(self, other)

    def __lt__(self, other: Any) -> Tensor:
        return less(self, other)

    def __le__(self, other: Any) -> Tensor:
        return less_equal(self, other)

    def __gt__(self, other: Any) -> Tensor:
        return greater(self, other)

    def __ge__(self, other: Any) -> Tensor:
        return greater_equal(self, other)

    def __invert__(self) -> Tensor:
        return logical_not(self)

    def __and__(self, other: Any) -> Tensor:
        return logical_and(self, other)

    def __or__(self, other: Any) -> Tensor:
        return logical_or(self, other)

    def __getitem__(self, index: Any) -> Tensor:
        return getitem(self, index=index)

    # ---------------------------------------------------------------- methods (NumPy names)
    def _for_numpy(self, dtype: Any, out: Any) -> Tensor:
        """Honour the ``dtype``/``out`` keywords NumPy passes when ``np.sum(t)`` calls
        ``t.sum(...)``: a dtype converts first; ``out`` cannot hold a recorded result. (They
        are keyword-only: positionally the methods keep ``(axis, keepdims)``.)"""
        if out is not None:
            raise TypeError(
                "out= is not supported on tensors (the result must be a new tensor to be "
                "recorded); assign the result instead"
            )
        return self if dtype is None else self.astype(dtype)

    def reshape(self, *shape: Any) -> Tensor:
        if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
            shape = tuple(shape[0])
        return reshape(self, shape=shape)

    def transpose(self, *axes: Any) -> Tensor:
        if len(axes) == 1 and (axes[0] is None or isinstance(axes[0], (tuple, list))):
            axes = axes[0]  # NumPy's a.transpose(None) and a.transpose((1, 0))
        elif not axes:
            axes = None  # a.transpose(): reversed (but a.transpose(()) names no axes)
        return transpose(self, axes=axes)

    def swapaxes(self, axis1: int, axis2: int) -> Tensor:
        return swapaxes(self, axis1, axis2)

    def flatten(self) -> Tensor:
        return reshape(self, shape=(-1,))

    ravel = flatten

    def squeeze(self, axis: Any = None) -> Tensor:
        return squeeze(self, axis)

    def expand_dims(self, axis: Any) -> Tensor:
        return expand_dims(self, axis)

    def astype(self, dtype: Any) -> Tensor:
        return astype(self, dtype=as_dtype(dtype))

    def copy(self) -> Tensor:
        return copy(self)

    def sum(
        self, axis: Any = None, keepdims: bool = False, *, dtype: Any = None, out: Any = None
    ) -> Tensor:
        return sum(self._for_numpy(dtype, out), axis=axis, keepdims=keepdims)

    def mean(
        self, axis: Any = None, keepdims: bool = False, *, dtype: Any = None, out: Any = None
    ) -> Tensor:
        return mean(self._for_numpy(dtype, out), axis=axis, keepdims=keepdims)

    def prod(
        self, axis: Any = None, keepdims: bool = False, *, dtype: Any = None, out: Any = None
    ) -> Tensor:
        return prod(self._for_numpy(dtype, out), axis=axis, keepdims=keepdims)

    def max(self, axis: Any = None, keepdims: bool = False, *, out: Any = None) -> Tensor:
        return max(self._for_numpy(None, out), axis=axis, keepdims=keepdims)

    def min(self, axis: Any = None, keepdims: bool = False, *, out: Any = None) -> Tensor:
        return min(self._for_numpy(None, out), axis=axis, keepdims=keepdims)

    def var(
        self, axis: Any = None, ddof: int = 0, keepdims: bool = False, *, dtype: Any = None,
        out: Any = None,
    ) -> Tensor:
        return var(self._for_numpy(dtype, out), axis=axis, ddof=ddof, keepdims=keepdims)

    def std(
        self, axis: Any = None, ddof: int = 0, keepdims: bool = False, *, dtype: Any = None,
        out: Any = None,
    ) -> Tensor:
        return std(self._for_numpy(dtype, out), axis=axis, ddof=ddof, keepdims=keepdims)

    def cumsum(self, axis: Any = None, *, dtype: Any = None, out: Any = None) -> Tensor:
        x = self._for_numpy(dtype, out)
        if axis is None:
            return cumsum(reshape(x, shape=(-1,)), axis=0)
        return cumsum(x, axis=axis)

    def argmax(self, axis: Any = None, keepdims: bool = False, *, out: Any = None) -> Tensor:
        return argmax(self._for_numpy(None, out), axis=axis, keepdims=keepdims)

    def argmin(self, axis: Any = None, keepdims: bool = False, *, out: Any = None) -> Tensor:
        return argmin(self._for_numpy(None, out), axis=axis, keepdims=keepdims)

    def any(self, axis: Any = None, keepdims: bool = False, *, out: Any = None) -> Tensor:
        self._for_numpy(None, out)
        return Tensor._wrap(np.any(self._array, axis=axis, keepdims=keepdims))

    def all(self, axis: Any = None, keepdims: bool = False, *, out: Any = None) -> Tensor:
        self._for_numpy(None, out)
        return Tensor._wrap(np.all(self._array, axis=axis, keepdims=keepdims))

    def dot(self, other: Any) -> Tensor:
        return dot(self, other)

    def clip(self, min: Any = None, max: Any = None) -> Tensor:  # noqa: A002
        return clip(self, min, max)

    def conj(self) -> Tensor:
        return conj(self)

    conjugate = conj

    def sin(self) -> Tensor:
        return sin(self)

    def cos(self) -> Tensor:
        return cos(self)

    def tan(self) -> Tensor:
        return tan(self)

    def tanh(self) -> Tensor:
        return tanh(self)

    def exp(self) -> Tensor:
        return exp(self)

    def log(self) -> Tensor:
        return log(self)

    def sqrt(self) -> Tensor:
        return sqrt(self)

    def square(self) -> Tensor:
        return square(self)

    def abs(self) -> Tensor:
        return absolute(self)

    def sigmoid(self) -> Tensor:
        return sigmoid(self)

    def relu(self) -> Tensor:
        return relu(self)

    def norm(self, ord: Any = None, axis: Any = None, keepdims: bool = False) -> Tensor:  # noqa: A002
        return norm(self, ord=ord, axis=axis, keepdims=keepdims)


Tensor._op_class = Tensor


# The op table and the modules below make and read tensors, and the methods above call them:
# they are imported once Tensor exists (the cycle that operator overloading needs).
from .in_place import assign, check_in_place  # noqa: E402
from .numpy_protocol import array_function, array_ufunc  # noqa: E402
from .ops import (  # noqa: E402, A004
    absolute,
    add,
    argmax,
    argmin,
    astype,
    broadcast_to,
    clip,
    conj,
    copy,
    cos,
    cumsum,
    dot,
    equal,
    exp,
    expand_dims,
    floor_divide,
    getitem,
    greater,
    greater_equal,
    imag,
    less,
    less_equal,
    log,
    logical_and,
    logical_not,
    logical_or,
    matmul,
    max,
    mean,
    min,
    multiply,
    negative,
    norm,
    not_equal,
    power,
    prod,
    real,
    relu,
    remainder,
    reshape,
    setitem,
    sigmoid,
    sin,
    sqrt,
    square,
    squeeze,
    std,
    subtract,
    sum,
    swapaxes,
    tan,
    tanh,
    transpose,
    true_divide,
    var,
)
from .views import alias  # noqa: E402

