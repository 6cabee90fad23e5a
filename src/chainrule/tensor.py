"""The Tensor: a NumPy array plus what autograd needs to know about it.

A tensor is a leaf (created by the user) or the output of a recorded operation, in which case
``grad_fn`` is the :class:`~chainrule.node.Node` that made it. Operators and methods delegate
to the op table in :mod:`chainrule.ops`; this module holds no derivative rules.
"""

# ruff: noqa: F405 - the op table's names are star-imported at the bottom (an import cycle)
from __future__ import annotations

import builtins
import inspect
import warnings
from typing import Any

import numpy as np

from .codegen import constructor
from .modes import live, state

float32 = np.dtype("float32")
float64 = np.dtype("float64")
float16 = np.dtype("float16")
int32 = np.dtype("int32")
int64 = np.dtype("int64")
bool_ = np.dtype("bool")

_GRAD_REQS = ("write", "add", "null")
# Operators call the op table's ``apply`` directly with these (never mutated) parameters.
_NO_PARAMS: dict = {}


def as_dtype(dtype: Any) -> np.dtype | None:
    """Accept a NumPy dtype, a string such as ``"float64"``, a Python type or ``cr.float32``."""
    if dtype is None:
        return None
    try:
        return np.dtype(dtype)
    except TypeError:
        raise TypeError(
            f"dtype {dtype!r} is not understood; use a NumPy dtype, a string such as "
            "'float32', or cr.float32 / cr.float64"
        ) from None


# The dtypes of Python numbers in a new tensor: the frameworks' defaults, not NumPy's float64.
_PYTHON_NUMBERS = {bool: bool_, int: int64, float: float32, complex: np.dtype("complex64")}
_NUMERIC_KINDS = frozenset("biufc")


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
    dtype = as_dtype(dtype)
    if isinstance(data, Tensor):
        data = data._array
        return np.array(data, dtype=dtype) if dtype is not None else np.array(data)
    default = _PYTHON_NUMBERS.get(type(data))
    if default is not None:  # a Python number (the common case, kept fast)
        return np.array(data, dtype=dtype or default)
    if isinstance(data, (list, tuple)) and any(isinstance(item, Tensor) for item in data):
        data = [to_array(item) for item in data]
        return np.array(np.stack(data) if data else data, dtype=dtype)
    typed = isinstance(data, (np.ndarray, np.generic)) or (
        not isinstance(data, (list, tuple)) and hasattr(data, "__array__")
    )
    array = np.array(data)  # an array-like (pandas...) becomes a NumPy array of its dtype
    if array.dtype.kind not in _NUMERIC_KINDS:
        _refuse(data, array)
    if dtype is not None:
        return array.astype(dtype, copy=False)
    if typed or array.dtype.kind == "b":
        return array
    return array.astype(_default_dtype(data, promote_types), copy=False)


def _leaves(data: Any) -> Any:
    """The numbers (and arrays) in nested lists and tuples."""
    for item in data:
        if isinstance(item, (list, tuple)):
            yield from _leaves(item)
        else:
            yield item


_PYTHON_ORDER = (bool, int, float, complex)


def _default_dtype(data: Any, promote_types: Any) -> np.dtype:
    """The dtype of a new tensor from nested lists: the Python numbers count as one, with the
    default dtype of the highest kind among them (``[1.0, 2]`` is float32), combined with the
    own dtypes of the NumPy scalars and arrays among them."""
    kinds = set(map(type, _leaves(data)))
    python = [kind for kind in _PYTHON_ORDER if kind in kinds]
    result = _PYTHON_NUMBERS[python[-1]] if python else None
    for kind in kinds.difference(_PYTHON_ORDER):
        if issubclass(kind, np.generic):
            result = np.dtype(kind) if result is None else promote_types(result, np.dtype(kind))
        else:  # an array or array-like among the numbers: its own dtype
            for leaf in _leaves(data):
                if type(leaf) is kind:
                    dtype = np.asarray(leaf).dtype
                    result = dtype if result is None else promote_types(result, dtype)
    return float32 if result is None else result


def _refuse(data: Any, array: np.ndarray) -> None:
    """Raise the error for data that are not numbers, naming what was found."""
    numbers = (bool, int, float, complex, np.number, np.bool_)
    missing = object()
    if isinstance(data, (list, tuple)):
        culprit = next((leaf for leaf in _leaves(data) if not isinstance(leaf, numbers) and (
            not isinstance(leaf, np.ndarray) or leaf.dtype.kind not in _NUMERIC_KINDS)), missing)
    elif array.dtype.kind == "O":
        culprit = next((item for item in array.flat if not isinstance(item, numbers)), missing)
    else:
        culprit = array.flat[0].item() if array.size else data
    if culprit is missing:  # all numbers, and yet objects: an int too large for any dtype
        raise OverflowError(
            "a number in this data does not fit in a tensor's dtype (int64 or float64); use "
            "floats or smaller integers"
        )
    verb = "is" if array.ndim == 0 else "contains"
    raise TypeError(
        f"Could not infer dtype of {type(culprit).__name__}: a tensor holds numbers (bool, int, "
        f"float, complex), and this data {verb} {culprit!r:.40}; convert it to numbers first "
        "(e.g. float(value)) or leave it out"
    )


def is_differentiable_dtype(dtype: np.dtype) -> bool:
    return dtype.kind in "fc"


class Tensor:
    """An n-dimensional array that can record the operations applied to it.

    >>> import chainrule as cr
    >>> x = cr.tensor([1.0, 2.0, 3.0], requires_grad=True)
    >>> y = (x * x).sum()
    >>> y.backward()
    >>> x.grad
    tensor([2., 4., 6.])
    """

    __slots__ = (
        "_array", "_rg", "_grad", "_node", "_version", "_tangents", "_grad_req", "_hooks", "_view",
        "__weakref__",
    )
    __array_priority__ = 1000
    # pandas hands ``series + t`` to the tensor (which converts the Series) instead of
    # converting the tensor itself, which would drop its gradient.
    __pandas_priority__ = 5000
    # Options that dialects select (DESIGN.md decision 8): MXNet sums a non-scalar output
    # implicitly before backward; PyTorch and the native API ask for ``gradient``.
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
        self._array = to_array(data, dtype)
        self._rg = False
        self._grad = None
        self._node = None
        self._version = [0]
        self._tangents = None
        self._grad_req = None
        self._hooks = None  # a leaf's hooks (a result's are its node's)
        self._view = None  # how a view is made from its base (views.py)
        if requires_grad:
            self.requires_grad = True

    # ---------------------------------------------------------------- attributes
    @property
    def data(self) -> Any:
        """The array this tensor wraps (shared memory, no history); assigning replaces it.
        (The core reads it as ``_array``; PyTorch's dialect gives a detached tensor here.)"""
        return self._array

    @data.setter
    def data(self, value: Any) -> None:
        self._array = value._array if isinstance(value, Tensor) else np.asarray(value)

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

    def __reduce_ex__(self, protocol: Any) -> tuple:
        """Pickling (and ``copy.deepcopy``) keeps the values, ``requires_grad`` and ``.grad``
        of a tensor in its own class; a view comes back as a tensor of its own. A result that
        requires grad is refused, as in PyTorch: its history cannot cross a process."""
        if self._node is not None:
            raise RuntimeError(
                "can't pickle (or deepcopy) a tensor that requires grad and is the result of "
                "an operation: its history does not cross process boundaries; call detach() "
                "on it first if the values are what you need"
            )
        return (_rebuild, (self._op_class if type(self)._view_of else type(self),
                           self._array, self._rg, self._grad, self._grad_req))

    # ---------------------------------------------------------------- conversion
    def numpy(self) -> np.ndarray:
        """The data as a NumPy array, sharing memory with the tensor (no history).

        Refused for a tensor that requires grad while operations are recorded, or that carries
        forward-mode tangents (as PyTorch's ``numpy()``): NumPy's result would silently lose
        the derivative. ``x.detach().numpy()`` says that this is meant.

        >>> import chainrule as cr
        >>> x = cr.tensor([1.0, 2.0], requires_grad=True)
        >>> x.detach().numpy()
        array([1., 2.], dtype=float32)
        """
        if self._rg or self._tangents:
            self._check_convertible("numpy()")
        return np.asarray(self._array)

    asnumpy = numpy

    def _loses_derivative(self) -> bool:
        """Whether NumPy's copy of this tensor would silently lose a derivative: it requires
        grad and operations on it are recorded now, or it carries tangents of a running jvp."""
        return bool(live(self._tangents)) or (
            self._rg and self._recording() and not self._converts_freely
        )

    def _check_convertible(self, what: str) -> None:
        if self._loses_derivative():
            raise RuntimeError(
                f"can't call {what} on a tensor that requires grad (or carries forward-mode "
                f"tangents): NumPy's result would not carry its derivative. Use chainrule's "
                f"functions on the tensor (cr.stack instead of filling a NumPy buffer), or "
                f"tensor.detach().numpy() if no derivative is needed (inside cr.no_grad() "
                f"conversion is allowed)"
            )

    def item(self) -> Any:
        if self._array.size != 1:
            raise ValueError(
                f"item() needs a tensor with exactly one element, this one has shape "
                f"{self.shape}; index it or reduce it first"
            )
        return self._array.item()

    def tolist(self) -> Any:
        return self._array.tolist()

    def __array__(self, dtype: Any = None, copy: Any = None) -> np.ndarray:
        """NumPy's conversion protocol: ``np.asarray(t)`` shares memory, ``np.array(t)``
        copies (NumPy passes ``copy=True``). Refused as :meth:`numpy` is."""
        if self._rg or self._tangents:
            self._check_convertible("np.asarray() (or another NumPy conversion)")
        array = np.asarray(self._array)
        if dtype is not None and array.dtype != np.dtype(dtype):
            return array.astype(dtype)
        return array.copy() if copy else array

    def __array_ufunc__(self, ufunc, method, *inputs, **kwargs):
        op = None
        if method == "__call__" and not kwargs:
            route = self._ufunc_routes.get(ufunc)
            if route is not None:  # a dialect's (its type promotion first)
                return route(*inputs)
            op = _UFUNCS.get(ufunc.__name__)
        if op is None:
            if any(isinstance(a, Tensor) and (a._rg or a._tangents) for a in inputs):
                raise TypeError(
                    f"numpy.{ufunc.__name__} has no derivative rule in chainrule; call the "
                    f"chainrule function instead, or detach() the tensor first"
                )
            arrays = [a._array if isinstance(a, Tensor) else a for a in inputs]
            out = kwargs.get("out")
            targets = [o for o in out or () if isinstance(o, Tensor)]
            if method == "at" and isinstance(inputs[0], Tensor):
                targets.append(inputs[0])
            if targets:  # what NumPy writes in place: checked in-place updates of tensors
                name = f"numpy.{ufunc.__name__}{'.at' if method == 'at' else ''}"

                def call(copies: dict) -> Any:
                    raw = [copies.get(id(a), r) for a, r in zip(inputs, arrays)]
                    if out is not None:
                        kwargs["out"] = tuple(copies.get(id(o), o) for o in out)
                    return getattr(ufunc, method)(*raw, **kwargs)

                result = _write_numpy(name, targets, "where" in kwargs or method == "at", call)
            else:
                result = getattr(ufunc, method)(*arrays, **kwargs)
            if out is not None:  # NumPy returns the ``out`` arguments themselves
                return out[0] if len(out) == 1 else out
            if result is None:  # ufunc.at works in place
                return None
            if isinstance(result, tuple):
                return tuple(Tensor._wrap(r) for r in result)
            return Tensor._wrap(result)
        return op(*inputs)

    def __array_function__(self, func, types, args, kwargs):
        """NumPy's function protocol (NEP 18): ``np.dot(x, x)``, ``np.linalg.norm(x)``,
        ``np.concatenate([a, b])``... run chainrule's function of the same name, so the result
        is a recorded tensor; functions chainrule does not have (``np.allclose``,
        ``np.array_equal``, ``np.argsort``...) run on the tensors' arrays and return NumPy's
        result unchanged.

        >>> import numpy as np, chainrule as cr
        >>> x = cr.tensor([1.0, 2.0], requires_grad=True)
        >>> np.dot(x, x).backward(); x.grad
        tensor([2., 4.])
        >>> np.allclose(x, [1.0, 2.0])
        True
        """
        route = _array_function_route(func)
        if route is not None:
            try:
                call_args, call_kwargs = route.translate(args, kwargs)
            except TypeError as error:
                method = route.method_call(args, kwargs)  # np.sum(t, dtype=...): t.sum(...)
                if method is not None:
                    return method()
                if _carries_graph(args) or _carries_graph(kwargs):
                    raise TypeError(route.message(args, kwargs, error)) from None
                # Nothing to differentiate: NumPy's own function loses nothing.
            else:
                return route.target(*call_args, **call_kwargs)
        writes = _numpy_writes(func, args, kwargs)
        if writes is not None:  # (np.copyto, np.put..., out=): in-place updates, checked
            return _numpy_write(func, args, kwargs, writes)
        result = func(*_to_arrays(args), **_to_arrays(kwargs))
        if _floating(result) and (_carries_graph(args) or _carries_graph(kwargs)):
            # np.sort, np.round, np.pad... would hand back plain numbers cut off from the graph
            raise TypeError(
                f"numpy.{func.__name__} has no chainrule version, so its result would carry no "
                f"gradient; use chainrule's operations instead, or call it on x.detach() if "
                f"you do not need the gradient"
            )
        return result

    def __bool__(self) -> bool:
        if self._array.size != 1:
            raise ValueError(
                f"the truth value of a tensor with {self._array.size} elements is ambiguous; "
                "use .any() or .all()"
            )
        return bool(self._array)

    def __float__(self) -> float:
        # float() is also how NumPy stores a tensor into one element of an array (``buffer[i]
        # = t``), which loses the gradient. Python code calls float() for plain numbers too
        # (logging a loss), so, as PyTorch does, this warns instead of refusing: ``t.item()``
        # says that a plain number is meant.
        if (self._rg or self._tangents) and self._loses_derivative():
            warnings.warn(
                "converting a tensor that requires grad (or carries tangents) to a Python float "
                "drops its derivative; this is also what storing it into a NumPy array element "
                "(buffer[i] = t) does. Use t.item() if a plain number is meant, or keep tensors "
                "(cr.stack instead of a NumPy buffer)",
                UserWarning, stacklevel=2,
            )
        return float(self.item())

    def __int__(self) -> int:
        return int(self.item())

    def __index__(self) -> int:
        if self._array.dtype.kind not in "iub" or self._array.ndim != 0:
            raise TypeError("only 0-d integer tensors can be used as an index")
        return int(self._array)

    def __repr__(self) -> str:
        data = np.asarray(self._array)
        body = np.array2string(data, separator=", ", prefix="tensor(")
        extras = []
        if data.dtype not in (float32, int64, bool_):
            extras.append(f"dtype={data.dtype}")
        if self._node is not None:
            extras.append(f"grad_fn={self._node!r}")
        elif self._rg:
            extras.append("requires_grad=True")
        return "tensor(" + ", ".join([body, *extras]) + ")"

    def __str__(self) -> str:
        return self.__repr__()

    def __format__(self, spec: str) -> str:
        if spec and self._array.size == 1:
            return format(self.item(), spec)
        return str(self)

    # ---------------------------------------------------------------- autograd state
    # Every field of a new tensor and its value; ``{array}``, ``{node}`` and ``{version}`` are
    # filled in by whoever makes it. ``_wrap`` below and the code generated for each primitive
    # (ops/recording.py) are both made from this declaration, so a field is added here only.
    _FIELDS = {
        "_array": "{array}", "_rg": "{node} is not None", "_grad": "None", "_node": "{node}",
        "_version": "{version}", "_tangents": "None", "_grad_req": "None", "_hooks": "None",
        "_view": "None",
    }
    # ``_wrap(data, node=None, cls=None)``: a tensor around an existing array, without copying
    # or checking it, with a version counter of its own.
    _wrap = staticmethod(constructor(
        "_wrap(data, node=None, cls=None)", _FIELDS,
        {"array": "data", "node": "node", "version": "[0]"}, globals(), "Tensor._wrap",
        new="object.__new__(cls or Tensor)",
    ))

    @property
    def grad(self) -> Tensor | None:
        """The gradient accumulated by backward (None until then); assigning checks that it
        is a tensor of this tensor's shape and dtype (or None)."""
        return self._grad

    @grad.setter
    def grad(self, value: Any) -> None:
        if value is not None:
            if not isinstance(value, Tensor):
                raise TypeError(
                    f"assigned grad must be a tensor or None, got {type(value).__name__}"
                )
            if value._array.shape != self._array.shape:
                raise RuntimeError(
                    f"attempting to assign a gradient of shape {value._array.shape} to a tensor "
                    f"of shape {self._array.shape}; they must be the same shape"
                )
            if value._array.dtype != self._array.dtype:
                raise RuntimeError(
                    f"attempting to assign a gradient of dtype {value._array.dtype} to a tensor "
                    f"of dtype {self._array.dtype}; cast it first (g.astype(x.dtype))"
                )
        self._grad = value

    @property
    def requires_grad(self) -> bool:
        return self._rg

    @requires_grad.setter
    def requires_grad(self, value: bool) -> None:
        value = bool(value)
        if self._node is not None:
            if not value:
                raise RuntimeError(
                    "requires_grad can only be changed on a leaf tensor; this one is the "
                    f"output of {self._node!r}. Use y = x.detach() to get a tensor without "
                    "history."
                )
            return
        if value and not is_differentiable_dtype(self._array.dtype):
            raise TypeError(
                f"only floating-point and complex tensors can require gradients, this one has "
                f"dtype {self._array.dtype}; convert it first, e.g. x.astype('float32')"
            )
        self._rg = value
        if value:
            self._view = None  # a leaf of its own now: its history is no longer its base's

    def requires_grad_(self, requires_grad: bool = True) -> Tensor:
        """Make this leaf record operations; ``.grad`` starts as None and accumulates.

        >>> import chainrule as cr
        >>> x = cr.arange(3.0).requires_grad_()
        >>> x.grad is None
        True
        """
        self.requires_grad = requires_grad
        return self

    def attach_grad(self, grad_req: str = "write") -> None:
        """MXNet's ``attach_grad``: allocate ``.grad`` as zeros, then each backward writes it.

        ``grad_req="add"`` accumulates instead and ``"null"`` never writes it. Attaching to the
        output of an operation detaches it from its history, as in MXNet.

        >>> import chainrule as cr
        >>> x = cr.arange(3.0); x.attach_grad(); x.grad
        tensor([0., 0., 0.])
        """
        if grad_req not in _GRAD_REQS:
            raise ValueError(f"grad_req must be one of {_GRAD_REQS}, got {grad_req!r}")
        if not is_differentiable_dtype(self._array.dtype):
            raise TypeError(
                f"only floating-point tensors can have gradients, this one has dtype "
                f"{self._array.dtype}; create it with a float dtype (e.g. arange(4.0))"
            )
        self._node = None
        self._rg = True
        self._view = None  # a leaf of its own (see requires_grad)
        self._grad_req = grad_req
        self._grad = Tensor._wrap(np.zeros_like(self._array), cls=self._op_class)

    @property
    def is_leaf(self) -> bool:
        return self._node is None

    @property
    def grad_fn(self) -> Any:
        return self._node

    @property
    def grad_req(self) -> str | None:
        return self._grad_req

    def retain_grad(self) -> None:
        """Keep ``.grad`` for a non-leaf tensor after backward (PyTorch's ``retain_grad``).

        >>> import chainrule as cr
        >>> x = cr.tensor([1.0, 2.0], requires_grad=True)
        >>> h = x * 3; h.retain_grad()
        >>> (h * h).sum().backward(); h.grad
        tensor([ 6., 12.])
        """
        if self._node is None or self.retains_grad:
            return
        self._node.retain(self)

    @property
    def retains_grad(self) -> bool:
        """Whether ``retain_grad()`` was called on this non-leaf tensor."""
        from .node import Retain

        hooks = self._node.hooks if self._node is not None else None
        return bool(hooks) and any(type(h) is Retain and h.ref() is self for h in hooks)

    def register_hook(self, hook) -> None:
        """Call ``hook(grad)`` with this tensor's gradient (a tensor) during backward; a result
        that is not None replaces the gradient. On a leaf it runs before ``.grad`` is written.

        >>> import chainrule as cr
        >>> x = cr.tensor([1.0, 2.0], requires_grad=True)
        >>> x.register_hook(lambda grad: grad * 10)
        >>> (x * x).sum().backward(); x.grad
        tensor([20., 40.])
        """
        if not self._rg:
            raise RuntimeError(
                "cannot register a hook on a tensor that does not require grad; call "
                "x.requires_grad_() first"
            )
        if self._node is None:  # kept on the tensor: a hook that refers to it dies with it
            self._hooks = [*(self._hooks or ()), hook]
        else:
            self._node.add_hook(hook)

    def _as_class(self, cls: type) -> Tensor:
        """This tensor (same data, history, version counter and tangents) as a ``cls``: how a
        dialect hands back the core's results in its own tensor type."""
        out = Tensor._wrap(self._array, self._node, cls)
        out._rg = self._rg
        out._version = self._version
        out._tangents = self._tangents
        if self._view is not None:
            from .views import alias

            alias(self, out)
        return out

    def detach(self) -> Tensor:
        """A tensor with the same data (shared memory) and no history.

        >>> import chainrule as cr
        >>> x = cr.tensor([1.0], requires_grad=True)
        >>> (x * 2).detach().requires_grad
        False
        """
        out = Tensor._wrap(self._array, cls=self._op_class)
        out._version = self._version
        return out

    def detach_(self) -> Tensor:
        self._node = None
        self._rg = False
        self._tangents = None
        return self

    def backward(
        self,
        gradient: Any = None,
        retain_graph: bool | None = None,
        create_graph: bool = False,
        inputs: Any = None,
    ) -> None:
        """Backpropagate from this tensor and accumulate into the leaves' ``.grad``.

        >>> import chainrule as cr
        >>> x = cr.arange(4.0, requires_grad=True)
        >>> y = 2 * cr.dot(x, x)
        >>> y.backward()
        >>> x.grad
        tensor([ 0.,  4.,  8., 12.])
        """
        from .engine import backward

        backward(self, gradient, retain_graph, create_graph, inputs)

    # ---------------------------------------------------------------- in-place updates
    def _recording(self) -> bool:
        """Whether operations on this tensor are being recorded now."""
        return state.grad_enabled and (state.recording or not self._record_only)

    def _check_in_place(self) -> None:
        """Refuse to overwrite a leaf that requires grad, or a view of one, while recording
        (PyTorch's rule), and a write through a view that cannot be followed back."""
        if isinstance(self._array, np.ndarray) and not self._array.flags.writeable:
            raise ValueError(
                "this tensor's memory is read-only (a view from broadcast_to or diagonal, as "
                "NumPy's, or read-only memory it was made from), so it cannot be written in "
                "place; write into a copy (y = y.copy()) instead"
            )
        if not self._recording():
            return
        if self._node is None and self._rg and self._view is None:
            raise RuntimeError(
                "a leaf tensor that requires grad is being used in an in-place operation; "
                "wrap the update in `with cr.no_grad():` (as optimizers do) or work on a copy"
            )
        if self._view is not None:
            from .views import check_writable

            check_writable(self)

    def _assign(self, result: Any) -> Tensor:
        """Write ``result`` into this tensor's own buffer and take over its history.

        The buffer is the same object before and after, and the version counter goes up, so
        that a recorded operation that saved the old values refuses to backpropagate. Written
        into a view while recording, the history rewritten is the base's (views.py).
        """
        if not isinstance(result, Tensor):
            result = Tensor._wrap(np.asarray(result))
        self._check_in_place()
        data = self._array
        new = result._array
        if np.shape(new) != data.shape:
            raise ValueError(
                f"in-place operation would change the shape from {data.shape} to "
                f"{np.shape(new)}; use the out-of-place form instead"
            )
        if not np.can_cast(np.result_type(new), data.dtype, casting="same_kind"):
            raise TypeError(
                f"in-place operation would write {np.result_type(new)} values into a "
                f"{data.dtype} tensor; use the out-of-place form, or cast the values first"
            )
        recording = self._recording()
        if (result._rg or result._tangents) and result._array.dtype != data.dtype:
            result = astype(result, dtype=data.dtype)  # the history has this tensor's dtype
        if recording and result._rg and result._node is None:
            result = identity(result)  # a leaf written here: its gradient goes through a node
        if recording:
            _keep_what_is_overwritten(result, self)
        base = None
        if self._view is not None:
            from .views import write_through

            base = self._view.base
            carried = base._tangents or result._tangents
            if (base._rg or result._rg or carried) and (recording or carried):
                base_value = write_through(self, result, recording)  # (before any write)
            else:
                base = None  # nothing to follow: constants in and out, or not recording
        if isinstance(data, np.ndarray):  # (writable: _check_in_place said so)
            np.copyto(data, new, casting="same_kind")
        else:  # a NumPy scalar, immutable: replaced
            self._array = np.array(new, dtype=data.dtype)
        self._version[0] += 1
        if base is not None:  # the base takes the history; this view is made again from it
            if recording:
                base._move_history(base_value._node, base_value._rg)
            base._tangents = base_value._tangents
        elif self._view is None:
            if recording:
                # the recorded update is now this tensor's history; something without one
                # (fill_, copy_ of a constant) makes it a constant from now on. Under no_grad
                # an update is invisible to autograd and the history stays, as in PyTorch.
                self._move_history(result._node, result._rg)
            self._tangents = result._tangents
        return self

    def _move_history(self, node: Any, rg: bool) -> None:
        """Give this tensor a new history (an in-place update): ``retain_grad`` follows it."""
        old = self._node
        if old is not None and old.hooks and old.release(self) and node is not None:
            node.retain(self)
        self._node, self._rg = node, rg

    def __iadd__(self, other: Any) -> Tensor:
        return self._assign(add(self, other))

    def __isub__(self, other: Any) -> Tensor:
        return self._assign(subtract(self, other))

    def __imul__(self, other: Any) -> Tensor:
        return self._assign(multiply(self, other))

    def __itruediv__(self, other: Any) -> Tensor:
        return self._assign(true_divide(self, other))

    def add_(self, other: Any, alpha: Any = 1) -> Tensor:
        return self._assign(add(self, other if alpha == 1 else multiply(other, alpha)))

    def sub_(self, other: Any, alpha: Any = 1) -> Tensor:
        return self._assign(subtract(self, other if alpha == 1 else multiply(other, alpha)))

    def mul_(self, other: Any) -> Tensor:
        return self._assign(multiply(self, other))

    def div_(self, other: Any) -> Tensor:
        return self._assign(true_divide(self, other))

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
        return self._assign(Tensor._wrap(np.full_like(self._array, value)))

    def copy_(self, src: Any) -> Tensor:
        """Write ``src`` (broadcast to this shape, cast to this dtype) into this tensor's buffer;
        the gradient flows to ``src``."""
        if not isinstance(src, Tensor):
            src = Tensor._wrap(np.asarray(src))
        if src._array.shape != self._array.shape:
            src = broadcast_to(src, shape=self._array.shape)
        return self._assign(src)

    def __setitem__(self, index: Any, value: Any) -> None:
        self._check_in_place()
        self._assign(setitem(self, value, index=index))

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
        if len(axes) == 1 and isinstance(axes[0], (tuple, list)):
            axes = tuple(axes[0])
        return transpose(self, axes=axes or None)

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
        from .ops.linalg import norm

        return norm(self, ord=ord, axis=axis, keepdims=keepdims)


Tensor._op_class = Tensor


def _rebuild(cls: type, array: Any, requires_grad: bool, grad: Any, grad_req: Any) -> Tensor:
    """A pickled tensor (``Tensor.__reduce_ex__``)."""
    tensor = Tensor._wrap(array, cls=cls)
    tensor._rg, tensor._grad, tensor._grad_req = requires_grad, grad, grad_req
    return tensor


def _keep_what_is_overwritten(result: Tensor, target: Tensor) -> None:
    """An in-place update records the out-of-place operation, whose node may have saved the
    very values the update is about to overwrite (``y *= x`` saves ``y`` for ``x``'s
    gradient), and so may the nodes that computed its tangents (reverse over forward): those
    values are replaced by copies, as PyTorch saves the original of what an in-place operation
    overwrites. Saved values that are not overwritten keep their check."""
    nodes = [result._node] if result._node is not None else []
    if result._tangents:
        # the nodes recorded while the tangents were computed, made after the result's
        from .node import Node

        floor = result._node.seq if result._node is not None else -1
        stack = [t._node for t in result._tangents.values()
                 if isinstance(t, Tensor) and t._node is not None and t._node.seq > floor]
        seen = set()
        while stack:
            node = stack.pop()
            if id(node) in seen:
                continue
            seen.add(id(node))
            nodes.append(node)
            stack += [p for p in node.parents if type(p) is Node and p.seq > floor]
    for node in nodes:
        _keep_saved_values(node, target)


def _keep_saved_values(node: Any, target: Tensor) -> None:
    saved = node.saved
    box, pairs = target._version, node.versions
    if not saved or any(
        pairs[i] is box and pairs[i + 1] != box[0] for i in range(0, len(pairs), 2)
    ):
        return  # (already overwritten since: the version check will say so)
    data = target._array
    values = []
    copied = False
    for value in saved:
        raw = value._array if isinstance(value, Tensor) else value
        if type(raw) is np.ndarray and np.may_share_memory(raw, data):
            copied = True
            if isinstance(value, Tensor):
                kept = Tensor._wrap(raw.copy(), value._node, value._op_class)
                kept._rg, kept._tangents = value._rg, value._tangents
                value = kept
            else:
                value = raw.copy()
        values.append(value)
    if not copied:
        return
    node.saved = tuple(values)
    # The version check of the written memory stays only for saved values still in it.
    storage = target._view.base._array if target._view is not None else data
    if not any(
        type(raw) is np.ndarray and np.may_share_memory(raw, storage)
        for raw in (v._array if isinstance(v, Tensor) else v for v in values)
    ):
        node.versions = tuple(
            item for i in range(0, len(pairs), 2) if pairs[i] is not box
            for item in pairs[i : i + 2]
        )

# NumPy reductions that, on objects other than arrays, call the object's method of the same
# name with NumPy's keywords: a call chainrule's function does not take (``np.sum(t,
# dtype="float64")``) goes to the tensor's method, which honours ``dtype`` and refuses ``out``.
_METHOD_REDUCTIONS = frozenset("sum mean prod max min var std cumsum argmax argmin".split())


_NUMPY_RENAMED = {"newshape": "shape"}


def _parameters(signature: inspect.Signature, *kinds: Any) -> list[str]:
    return [p.name for p in signature.parameters.values() if p.kind in kinds]


class _ArrayFunctionRoute:
    """How a call to one NumPy function reaches chainrule's function of the same name.

    Arguments are matched by NumPy's parameter names, not by position (``np.sum(t, 0,
    "float64")`` passes a dtype third, ``cr.sum`` takes ``keepdims`` third), then passed to
    chainrule's function by keyword; NumPy's name for the array argument (``m``, ``A``,
    ``ary``...) becomes chainrule's (``a``). Functions with a variable number of arguments
    (``einsum``) pass them on as they are.
    """

    __slots__ = ("numpy_name", "target", "signature", "numpy_signature", "rename",
                 "var_keyword", "method_signature", "method_name", "fast")

    def __init__(self, func: Any, target: Any, method_name: str | None) -> None:
        self.numpy_name = f"{func.__module__}.{func.__name__}"
        self.target = target
        self.signature = inspect.signature(target)
        try:
            numpy_signature = inspect.signature(func)
        except (TypeError, ValueError):  # a builtin without a text signature
            numpy_signature = None
        P = inspect.Parameter  # noqa: N806
        self.numpy_signature = self.var_keyword = self.fast = None
        self.rename: dict[str, str] = {}
        if numpy_signature is not None and not (
            _parameters(numpy_signature, P.VAR_POSITIONAL)
            or _parameters(self.signature, P.VAR_POSITIONAL)
        ):
            self.numpy_signature = numpy_signature
            kinds = (P.POSITIONAL_ONLY, P.POSITIONAL_OR_KEYWORD)
            numpy_first = _parameters(numpy_signature, *kinds)[:1]
            own_first = _parameters(self.signature, *kinds)[:1]
            if numpy_first and own_first:
                self.rename = {numpy_first[0]: own_first[0]}
            # Names NumPy has since changed (reshape's ``newshape`` until NumPy 2.1).
            self.rename.update(
                (old, new) for old, new in _NUMPY_RENAMED.items()
                if old in numpy_signature.parameters and new in self.signature.parameters
            )
            self.var_keyword = (_parameters(numpy_signature, P.VAR_KEYWORD) or [None])[0]
            # The common case needs no binding: positional arguments where both functions
            # have the same parameters in the same order, keywords both spell the same way.
            numpy_positional = _parameters(numpy_signature, *kinds)
            own_positional = _parameters(self.signature, *kinds)
            same = 1 if numpy_positional and own_positional else 0
            while (same < builtins.min(len(numpy_positional), len(own_positional))
                   and self.rename.get(numpy_positional[same], numpy_positional[same])
                   == own_positional[same]):
                same += 1
            required = builtins.sum(
                1 for p in self.signature.parameters.values()
                if p.kind in kinds and p.default is P.empty
            )
            keywords = frozenset(own_positional[1:]) & frozenset(numpy_signature.parameters)
            keywords |= frozenset(_parameters(self.signature, P.KEYWORD_ONLY)) & frozenset(
                _parameters(numpy_signature, P.KEYWORD_ONLY)
            )
            self.fast = (required, same, keywords)
        self.method_name = method_name
        self.method_signature = None
        if method_name is not None and self.numpy_signature is not None:
            self.method_signature = inspect.signature(getattr(Tensor, method_name))

    def _named(self, args: tuple, kwargs: dict) -> dict:
        """The call's arguments by NumPy's parameter names (only those given)."""
        bound = self.numpy_signature.bind(*args, **kwargs).arguments
        named = dict(bound.pop(self.var_keyword, None) or {})
        for name, value in bound.items():
            named[self.rename.get(name, name)] = value
        return named

    def translate(self, args: tuple, kwargs: dict) -> tuple[tuple, dict]:
        """The arguments for chainrule's function; TypeError when it does not take them."""
        if self.fast is not None:
            required, same, keywords = self.fast
            if required <= len(args) <= same and keywords.issuperset(kwargs):
                return args, kwargs
        if self.numpy_signature is None:
            self.signature.bind(*args, **kwargs)
            return args, kwargs
        named = self._named(args, kwargs)
        self.signature.bind(**named)
        return (), named

    def method_call(self, args: tuple, kwargs: dict) -> Any:
        """``np.sum(t, 0, "float64")`` as ``t.sum(axis=0, dtype="float64")`` (by keyword, as
        NumPy itself calls methods), or None when that is not a reduction the method takes."""
        if self.method_signature is None:
            return None
        try:
            named = self._named(args, kwargs)
        except TypeError:
            return None
        first = next(iter(self.signature.parameters))
        tensor = named.pop(first, None)
        if not isinstance(tensor, Tensor):
            return None
        try:
            self.method_signature.bind(tensor, **named)
        except TypeError:
            return None
        return lambda: getattr(tensor, self.method_name)(**named)

    def message(self, args: tuple, kwargs: dict, error: TypeError) -> str:
        """Why the call cannot be differentiated, and what to do instead."""
        try:
            given = kwargs if self.numpy_signature is None else self._named(args, kwargs)
        except TypeError:
            given = kwargs
        unknown = [name for name in given if name not in self.signature.parameters]
        empty = inspect.Parameter.empty
        signature = self.signature.replace(
            parameters=[p.replace(annotation=empty) for p in self.signature.parameters.values()],
            return_annotation=empty,
        )
        own_name = f"{self.target.__module__.replace('.api', '')}.{self.target.__name__}"
        if unknown:
            what = ", ".join(f"{name}=" for name in unknown)
            problem, fix = f"does not accept {what}", f"call it without {what}"
        else:
            problem, fix = "does not accept these arguments", f"call it as {own_name}{signature}"
        return (
            f"{self.numpy_name} was called on a tensor that requires grad, so it runs "
            f"{own_name}{signature} to keep the gradient, and that {problem} ({error}); "
            f"{fix}, or call {self.numpy_name} on .detach()-ed tensors (or np.asarray(t)) if "
            f"no gradient is needed"
        )


# NEP 18 dispatch: NumPy function -> its route to chainrule, or None when chainrule has no
# function of that name; filled on first use of each function.
_ARRAY_FUNCTIONS: dict[Any, _ArrayFunctionRoute | None] = {}


def _array_function_route(func: Any) -> _ArrayFunctionRoute | None:
    """The route to chainrule's function standing in for the NumPy function ``func``: the same
    name in ``chainrule.api`` for ``numpy.*``, in ``chainrule.linalg`` for ``numpy.linalg.*``."""
    try:
        return _ARRAY_FUNCTIONS[func]
    except KeyError:
        pass
    from . import api, linalg

    namespace = {"numpy": api, "numpy.linalg": linalg}.get(getattr(func, "__module__", None))
    name = getattr(func, "__name__", None)
    route = None
    if namespace is not None and name in namespace.__all__:
        method = name if namespace is api and name in _METHOD_REDUCTIONS else None
        route = _ArrayFunctionRoute(func, getattr(namespace, name), method)
    _ARRAY_FUNCTIONS[func] = route
    return route


# NumPy functions that write into one of their arguments (besides ``out=``): its position and
# name (some are C functions without a signature to bind against, in NumPy < 2.3).
_NUMPY_WRITERS = {
    np.copyto: (0, "dst"), np.put: (0, "a"), np.place: (0, "arr"), np.putmask: (0, "a"),
    np.put_along_axis: (0, "arr"), np.fill_diagonal: (0, "a"),
}


def _numpy_writes(func: Any, args: tuple, kwargs: dict) -> list | None:
    """The tensors a NumPy function would write into (its ``out=`` and the argument it writes,
    for the functions that do), or None when it writes nothing."""
    targets = []
    out = kwargs.get("out")
    for item in out if isinstance(out, tuple) else (out,):
        if item is not None:
            targets.append(item)
    written = _NUMPY_WRITERS.get(func)
    if written is not None:
        position, name = written
        target = args[position] if len(args) > position else kwargs.get(name)
        if target is not None:
            targets.append(target)
    return targets if targets else None


def _numpy_write(func: Any, args: tuple, kwargs: dict, targets: list) -> Any:
    """Run a NumPy function that writes into ``targets`` (``_write_numpy``); values of a tensor
    that requires grad are not written anywhere while recording (their gradient would be lost).
    """
    written = [t for t in targets if isinstance(t, Tensor)]
    name = f"numpy.{func.__name__}"
    for source in (*args, *kwargs.values()):
        if not any(source is t for t in written):
            for tensor in _tensors_in(source):
                tensor._check_convertible(name)

    def call(copies: dict) -> Any:
        def raw(value: Any) -> Any:
            if isinstance(value, Tensor) and id(value) in copies:
                return copies[id(value)]
            if isinstance(value, tuple) and any(isinstance(v, Tensor) for v in value):
                return tuple(raw(v) for v in value)
            return _to_arrays(value)

        return func(*[raw(a) for a in args], **{k: raw(v) for k, v in kwargs.items()})

    result = _write_numpy(name, written, True, call)
    out = kwargs.get("out")
    return out if out is not None else result  # (NumPy returns the out= arguments themselves)


def _write_numpy(name: str, targets: list, partial: bool, call: Any) -> Any:
    """Run a NumPy call that writes into the tensors ``targets``: ``call(copies)`` writes into
    copies of their arrays (by id), then each copy is the tensor's in-place update (checked,
    versioned, its history made constant while recording, as ``fill_``). A ``partial`` write
    into a tensor that has a history is refused while recording: the values it keeps would
    keep a history NumPy cannot follow."""
    for tensor in targets:
        tensor._check_in_place()
        if partial and tensor._rg and tensor._recording():
            raise TypeError(
                f"{name} would write into part of a tensor that has a history, which chainrule "
                f"cannot follow; use chainrule's operations (x.copy_(v), x[index] = v, "
                f"cr.where) or work on x.detach()"
            )
    copies = {id(t): np.array(t._array) for t in targets}
    result = call(copies)
    for tensor in targets:
        tensor._assign(Tensor._wrap(copies[id(tensor)]))
    return result


def _tensors_in(value: Any) -> list:
    if isinstance(value, Tensor):
        return [value]
    if isinstance(value, (list, tuple)):
        return [t for item in value for t in _tensors_in(item)]
    if isinstance(value, dict):
        return [t for item in value.values() for t in _tensors_in(item)]
    return []


def _floating(value: Any) -> bool:
    """Whether a NumPy result holds floating-point numbers (which a gradient could follow)."""
    if isinstance(value, (tuple, list)):
        return any(_floating(v) for v in value)
    return isinstance(value, (np.ndarray, np.floating, np.complexfloating)) and (
        np.result_type(value).kind in "fc"
    )


def _carries_graph(value: Any) -> bool:
    """Whether a tensor that requires grad or carries tangents is in ``value`` (looking into
    lists, tuples and dicts, as NumPy's sequence arguments)."""
    if isinstance(value, Tensor):
        return bool(value._rg or value._tangents)
    if isinstance(value, (list, tuple)):
        return any(_carries_graph(item) for item in value)
    if isinstance(value, dict):
        return any(_carries_graph(item) for item in value.values())
    return False


def _to_arrays(value: Any) -> Any:
    """``value`` with every tensor (also inside lists, tuples and dicts) replaced by its
    array."""
    if isinstance(value, Tensor):
        return value._array
    if isinstance(value, (list, tuple)):
        if not any(isinstance(item, (Tensor, list, tuple, dict)) for item in value):
            return value
        items = [_to_arrays(item) for item in value]
        return items if isinstance(value, list) else tuple(items)
    if isinstance(value, dict):
        return {key: _to_arrays(item) for key, item in value.items()}
    return value


# The op table imports Tensor, so the names the methods above use are bound last.
from .ops import *  # noqa: E402, F403
from .ops import _UFUNCS  # noqa: E402, F401
