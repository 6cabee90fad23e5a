"""``chainrule.torch.Tensor``: the core tensor with PyTorch's method names and defaults.

Every method is a translation: ``dim``/``keepdim`` become ``axis``/``keepdims`` (and, as in
PyTorch, NumPy's ``axis``/``keepdims`` are accepted too), ``var`` and ``std`` default to the
unbiased estimate, ``max(dim)`` returns ``(values, indices)``. The semantics (accumulating
``.grad``, the scalar-only ``backward``) are the core's defaults.

Two things are converted at this boundary rather than left to the core: dtypes, which follow
PyTorch's promotion (:mod:`._promotion`: operands are cast to PyTorch's result dtype before the
core op runs), and exceptions, which are the classes PyTorch raises (``RuntimeError`` where
NumPy raises ``ValueError``), so that code catching them keeps working.
"""

from __future__ import annotations

import builtins
import inspect
from typing import Any

import numpy as np

import chainrule as cr

from .. import backends, ops
from ..dtypes import as_dtype
from ..in_place import assign
from ..tensor import array_of
from ._elementwise import (
    CLAMP,
    FLOATING,
    NO_PARAMS,
    OPS,
    Op,
    accepts_numpy_names,
    binary,
    floating,
    promote,
    runtime_error,
)
from ._promotion import DEFAULT_FLOAT, can_cast, cast, promoted
from ._shapes import ShapeMethods
from ._types import CPU, DTYPES, Size, check_device, device, dtype, scalar_name, values_indices


def _axis(dim: Any) -> Any:
    """A PyTorch ``dim`` (int, list, tuple or None) as a NumPy ``axis``."""
    if isinstance(dim, (list, tuple)):
        return tuple(dim) if dim else None
    return dim



# PyTorch's names for the backward nodes, where they differ from ours.
_NODE_NAMES = {
    "Multiply": "Mul", "Subtract": "Sub", "TrueDivide": "Div", "Power": "Pow",
    "Negative": "Neg", "Absolute": "Abs", "Amax": "Max", "Amin": "Min", "Matmul": "Mm",
    "Getitem": "Index", "Reshape": "View", "Transpose": "Permute", "Concatenate": "Cat",
}


def _format_floats(array: np.ndarray) -> Any:
    """PyTorch's print style: whole numbers as ``1.``, else 4 decimals or scientific."""
    finite = np.abs(array[np.isfinite(array)])
    if finite.size == 0 or np.all(finite == np.round(finite)) and finite.max() < 1e8:
        return None
    nonzero = finite[finite > 0]
    low, high = (nonzero.min(), nonzero.max()) if nonzero.size else (1.0, 1.0)
    pattern = "{:.4e}" if high >= 1e8 or low < 1e-4 or high / low > 1000 else "{:.4f}"
    width = builtins.max(len(pattern.format(v)) for v in array.ravel())
    return lambda v: pattern.format(v).rjust(width)


class Tensor(ShapeMethods, cr.Tensor):
    """A chainrule tensor spelled the PyTorch way.

    >>> import chainrule.torch as torch
    >>> x = torch.arange(6.0).reshape(2, 3)
    >>> x.sum(1, keepdim=True)
    tensor([[ 3.],
            [12.]])
    >>> x.max(dim=1).indices
    tensor([2, 2])
    """

    __slots__ = ()

    @property
    def data(self) -> Tensor:
        """PyTorch's ``.data``: a tensor sharing this one's memory, with no history and a
        version counter of its own (so ``x.grad.data.zero_()`` works, and is not tracked)."""
        return self._derive(self._op_class, data=self._array, history=False, tangents=None)

    @data.setter
    def data(self, value: Any) -> None:
        """Bind another array (PyTorch's: sharing ``value``'s memory). While ``cr.jit`` traces,
        it is bound traced: a replay cannot bind it, and cr.jit, seeing an array stored into
        state, traces such a call again instead of replaying on the old one."""
        array = value._array if isinstance(value, cr.Tensor) else np.asarray(value)
        (self._array,) = backends.lift((array,))

    def __repr__(self) -> str:
        data = np.asarray(self._array)
        if data.dtype.kind == "b":
            formatter = {"bool": lambda v: str(v).rjust(5 if data.size > 1 and not data.all()
                                                        else 0)}
        elif data.dtype.kind == "f":
            float_format = _format_floats(data)
            formatter = {"float_kind": float_format} if float_format else None
        else:
            formatter = None
        body = np.array2string(data, separator=", ", prefix="tensor(", formatter=formatter)
        extras = []
        if data.dtype not in (cr.float32, cr.int64, cr.bool_):
            extras.append(f"dtype=torch.{data.dtype}")
        if self._node is not None:
            prim = self._node.prim
            # PyTorch numbers its built-in nodes (MulBackward0) but not a Function's (ExpBackward).
            suffix = "Backward0" if ops.REGISTRY.get(prim.name) is prim else "Backward"
            extras.append(f"grad_fn=<{_NODE_NAMES.get(prim.title, prim.title)}{suffix}>")
        elif self._requires_grad:
            extras.append("requires_grad=True")
        return "tensor(" + ", ".join([body, *extras]) + ")"

    # ---------------------------------------------------------------- sizes
    @property
    def dtype(self) -> dtype:  # type: ignore[override]
        return DTYPES.get(self._array.dtype) or dtype(self._array.dtype)

    @property
    def shape(self) -> Size:
        return Size(self._array.shape)

    def size(self, dim: int | None = None) -> Any:  # type: ignore[override]
        return Size(self._array.shape) if dim is None else self._array.shape[dim]

    def numel(self) -> int:
        return int(self._array.size)

    def dim(self) -> int:
        return self._array.ndim

    ndimension = dim

    @property
    def device(self) -> device:
        return CPU

    @property
    def is_cuda(self) -> builtins.bool:
        return False

    def cpu(self) -> Tensor:
        return self

    def cuda(self, device: Any = None) -> Tensor:
        check_device("cuda")
        return self

    def contiguous(self) -> Tensor:
        """This tensor if its memory is in row-major order, else a row-major copy (recorded),
        as PyTorch's."""
        return self if self._array.flags.c_contiguous else _as(self.copy())

    def is_contiguous(self) -> bool:
        return bool(self._array.flags.c_contiguous)

    # ---------------------------------------------------------------- autograd state
    @property
    def requires_grad(self) -> builtins.bool:
        return self._requires_grad

    @requires_grad.setter
    def requires_grad(self, value: builtins.bool) -> None:
        if value and self._node is None and self._array.dtype.kind not in "fc":
            raise RuntimeError(
                f"Only Tensors of floating point and complex dtype can require gradients, this "
                f"one is {self.dtype}; create it with a floating dtype (e.g. "
                f"torch.tensor(data, dtype=torch.float32)) or convert it with .float()"
            )
        cr.Tensor.requires_grad.fset(self, value)

    # ---------------------------------------------------------------- conversion
    def __bool__(self) -> builtins.bool:
        if self._array.size != 1:
            raise RuntimeError(
                f"Boolean value of Tensor with more than one value is ambiguous (this one has "
                f"{self._array.size}); use .any() or .all()"
            )
        return builtins.bool(self._array)

    def __float__(self) -> builtins.float:
        return builtins.float(self._scalar())

    def __int__(self) -> builtins.int:
        return builtins.int(self._scalar())

    def _scalar(self) -> Any:
        if self._array.size != 1:
            raise ValueError(
                f"only one element tensors can be converted to Python scalars, this one has "
                f"{self._array.size}; index it or reduce it first"
            )
        return self._array.item()

    def numpy(self, force: bool = False) -> np.ndarray:
        # As PyTorch: refused only where the result would silently drop a recorded gradient.
        if self._requires_grad and not force and cr.is_grad_enabled():
            raise RuntimeError(
                "Can't call numpy() on Tensor that requires grad. Use tensor.detach().numpy() "
                "instead."
            )
        return np.asarray(self._array)

    def clone(self) -> Tensor:
        return cr.ops.copy(self)

    def to(self, *args: Any, **kwargs: Any) -> Tensor:
        """``x.to(torch.float64)``, ``x.to("cpu")``, ``x.to(other)``, ``x.to(device, dtype)``."""
        dtype = kwargs.get("dtype")
        check_device(kwargs.get("device"))
        for arg in args:
            if isinstance(arg, (str, device)):
                check_device(arg)
            elif isinstance(arg, cr.Tensor):
                dtype = arg._array.dtype
            else:
                dtype = arg
        return self if dtype is None or self._array.dtype == dtype else cr.astype(self, dtype)

    def type(self, dtype: Any = None) -> Any:
        if dtype is None:
            return f"torch.{self._array.dtype}"
        return cr.astype(self, dtype)

    def float(self) -> Tensor:
        return cr.astype(self, "float32")

    def double(self) -> Tensor:
        return cr.astype(self, "float64")

    def long(self) -> Tensor:
        return cr.astype(self, "int64")

    def int(self) -> Tensor:
        return cr.astype(self, "int32")

    def bool(self) -> Tensor:
        return cr.astype(self, "bool")

    # ---------------------------------------------------------------- reductions
    def _accumulating(self, dtype: Any) -> Tensor:
        """The input of a sum or product: in ``dtype`` if given, else integers and booleans
        in int64 (PyTorch's accumulation type; NumPy would keep uint8 as uint64)."""
        if dtype is not None:
            return cast(self, as_dtype(dtype))
        return self if self._array.dtype.kind in "fc" else cast(self, np.dtype("int64"))

    def _floating_only(self, name: str, dtype: Any = None) -> Tensor:
        """The input of a reduction that PyTorch computes for floating dtypes only."""
        if dtype is not None:
            return cast(self, as_dtype(dtype))
        if self._array.dtype.kind not in "fc":
            raise RuntimeError(
                f"{name}(): could not infer output dtype. Input dtype must be either a floating "
                f"point or complex dtype. Got: {scalar_name(self._array.dtype)} (convert the "
                f"tensor first, e.g. x.float().{name}(), or pass dtype=torch.float32)"
            )
        return self

    def sum(self, dim: Any = None, keepdim: builtins.bool = False, *, dtype: Any = None) -> Tensor:
        return cr.sum(self._accumulating(dtype), axis=_axis(dim), keepdims=keepdim)

    def mean(self, dim: Any = None, keepdim: builtins.bool = False, *, dtype: Any = None) -> Tensor:
        return cr.mean(self._floating_only("mean", dtype), axis=_axis(dim), keepdims=keepdim)

    def prod(self, dim: Any = None, keepdim: builtins.bool = False, *, dtype: Any = None) -> Tensor:
        return cr.prod(self._accumulating(dtype), axis=dim, keepdims=keepdim)

    def _extreme(self, name: str, dim: Any, keepdim: builtins.bool) -> Any:
        if isinstance(dim, cr.Tensor):
            return (cr.maximum if name == "max" else cr.minimum)(self, dim)
        if dim is None:
            return (cr.max if name == "max" else cr.min)(self)
        pick = cr.argmax if name == "max" else cr.argmin
        indices = pick(self, axis=dim, keepdims=True)
        values = self.gather(dim, indices)
        if not keepdim:
            values, indices = cr.squeeze(values, dim), cr.squeeze(indices, dim)
        return values_indices[name](values, _as(indices))

    def max(self, dim: Any = None, keepdim: builtins.bool = False) -> Any:
        """The largest value, or with ``dim`` the pair ``(values, indices)``."""
        return self._extreme("max", dim, keepdim)

    def min(self, dim: Any = None, keepdim: builtins.bool = False) -> Any:
        return self._extreme("min", dim, keepdim)

    def amax(self, dim: Any = None, keepdim: builtins.bool = False) -> Tensor:
        return cr.max(self, axis=_axis(dim), keepdims=keepdim)

    def amin(self, dim: Any = None, keepdim: builtins.bool = False) -> Tensor:
        return cr.min(self, axis=_axis(dim), keepdims=keepdim)

    def argmax(self, dim: Any = None, keepdim: builtins.bool = False) -> Tensor:
        return _as(cr.argmax(self, axis=dim, keepdims=keepdim))

    def argmin(self, dim: Any = None, keepdim: builtins.bool = False) -> Tensor:
        return _as(cr.argmin(self, axis=dim, keepdims=keepdim))

    def var(self, dim: Any = None, unbiased: builtins.bool = True,
            keepdim: builtins.bool = False, *, correction: Any = None) -> Tensor:
        """Variance, unbiased (divides by ``n - 1``) unless ``unbiased=False``."""
        if isinstance(dim, bool):
            dim, unbiased = None, dim
        ddof = (1 if unbiased else 0) if correction is None else correction
        return cr.var(self._floating_only("var"), axis=_axis(dim), ddof=ddof, keepdims=keepdim)

    def std(self, dim: Any = None, unbiased: builtins.bool = True,
            keepdim: builtins.bool = False, *, correction: Any = None) -> Tensor:
        self._floating_only("std")
        return cr.sqrt(self.var(dim, unbiased, keepdim, correction=correction))

    def norm(self, p: Any = "fro", dim: Any = None, keepdim: builtins.bool = False) -> Tensor:  # type: ignore[override]
        """The 2-norm of all elements (or ``p``-norm, along ``dim``)."""
        x = self._floating_only("norm")
        if dim is None and p not in ("fro", 2, 2.0):
            x, dim = cr.reshape(x, (-1,)), 0
        ord_ = None if p in ("fro", 2, 2.0) else p
        return ops.norm(x, ord=ord_, axis=_axis(dim), keepdims=keepdim)

    def logsumexp(self, dim: Any, keepdim: builtins.bool = False) -> Tensor:
        x = self if self._array.dtype.kind in "fc" else cast(self, DEFAULT_FLOAT)
        return cr.logsumexp(x, axis=_axis(dim), keepdims=keepdim)

    def cumsum(self, dim: builtins.int, *, dtype: Any = None) -> Tensor:  # type: ignore[override]
        return cr.cumsum(self._accumulating(dtype), axis=dim)

    def all(self, dim: Any = None, keepdim: builtins.bool = False) -> Tensor:  # type: ignore[override]
        return _as(cr.Tensor.all(self, dim, keepdim))

    def any(self, dim: Any = None, keepdim: builtins.bool = False) -> Tensor:  # type: ignore[override]
        return _as(cr.Tensor.any(self, dim, keepdim))


    # ---------------------------------------------------------------- elementwise
    def clamp(self, min: Any = None, max: Any = None) -> Tensor:  # noqa: A002
        """Values limited to ``[min, max]``, in the promoted dtype of the three."""
        x, low, high = promote(CLAMP, (self, min, max))
        numbers = [bound for bound in (min, max) if not isinstance(bound, (cr.Tensor, type(None)))]
        if x._array.dtype.kind == "b" and numbers:
            raise NotImplementedError(  # (PyTorch has tensor bounds for bool tensors only)
                "clamp with a number as a bound is not implemented for 'Bool' tensors; pass "
                "the bounds as tensors, or convert the tensor first (e.g. with .int())"
            )
        return cr.clip(x, array_of(low), array_of(high))

    clip = clamp

    def clamp_min(self, min: Any) -> Tensor:  # noqa: A002
        return self.clamp(min, None)

    def _float_input(self, name: str, dtype: Any) -> Tensor:
        if dtype is not None:
            return cast(self, as_dtype(dtype))
        if self._array.dtype.kind not in "fc":
            raise NotImplementedError(  # (PyTorch's class here, a RuntimeError)
                f"{name}() is computed for floating tensors only, this one is "
                f"{self.dtype}; convert it first (x.float()) or pass dtype=torch.float32"
            )
        return self

    def softmax(self, dim: builtins.int, dtype: Any = None) -> Tensor:
        return cr.softmax(self._float_input("softmax", dtype), axis=dim)

    def log_softmax(self, dim: builtins.int, dtype: Any = None) -> Tensor:
        return cr.log_softmax(self._float_input("log_softmax", dtype), axis=dim)

    def pow(self, exponent: Any) -> Tensor:
        return self ** exponent

    def neg(self) -> Tensor:
        if self._array.dtype.kind == "b":
            raise RuntimeError(
                "Negation, the `-` operator, on a bool tensor is not supported. If you are "
                "trying to invert a mask, use the `~` or `logical_not()` operator instead."
            )
        return ops.negative.apply((self,), NO_PARAMS)

    __neg__ = negative = neg

    def add(self, other: Any, alpha: Any = 1) -> Tensor:
        return self + (other if alpha == 1 else other * alpha)

    def sub(self, other: Any, alpha: Any = 1) -> Tensor:
        return self - (other if alpha == 1 else other * alpha)

    subtract = sub

    def mul(self, other: Any) -> Tensor:
        return self * other

    multiply = mul

    def div(self, other: Any, *, rounding_mode: str | None = None) -> Tensor:
        """True division, or with ``rounding_mode`` "floor" or "trunc" rounded in the
        promoted dtype."""
        if rounding_mode is None:
            return self / other
        if rounding_mode == "floor":
            return self // other
        if rounding_mode == "trunc":
            x, y = promoted((self, other))
            quotient = cr.trunc(_apply(OPS["truediv"], (x, y)))
            return cast(quotient, x._array.dtype)
        raise RuntimeError(
            f"div expected rounding_mode to be one of None, 'trunc', or 'floor' but found "
            f"{rounding_mode!r}"
        )

    divide = true_divide = div

    def floor_divide(self, other: Any) -> Tensor:
        return self // other

    def remainder(self, other: Any) -> Tensor:
        return self % other

    def matmul(self, other: Any) -> Tensor:
        """Matrix product; PyTorch refuses operands of different dtypes here."""
        if not isinstance(other, cr.Tensor):
            other = np.asarray(other)
        other_dtype = array_of(other).dtype
        if other_dtype != self._array.dtype:
            raise RuntimeError(
                f"expected m1 and m2 to have the same dtype, but got: {self.dtype} != "
                f"{DTYPES.get(other_dtype, other_dtype)} (PyTorch does not promote in matrix "
                "products; convert one of them, e.g. with .float())"
            )
        try:
            return ops.matmul.apply((self, other), NO_PARAMS)
        except ValueError:
            shapes = (list(self._array.shape), list(np.shape(array_of(other))))
            raise RuntimeError(
                f"mat1 and mat2 shapes cannot be multiplied ({shapes[0]} and {shapes[1]}): the "
                "last dimension of the first must equal the first (or second-to-last) of the "
                "second"
            ) from None

    __matmul__ = mm = mv = bmm = matmul

    def __rmatmul__(self, other: Any) -> Tensor:
        return _as(other).matmul(self)

    def dot(self, other: Any) -> Tensor:
        """Inner product of two 1-D tensors."""
        if self._array.ndim != 1 or np.ndim(array_of(other)) != 1:
            raise RuntimeError(
                f"1D tensors expected, but got {self._array.ndim}D and {np.ndim(array_of(other))}D "
                "tensors"
            )
        if self._array.shape != np.shape(array_of(other)):
            raise RuntimeError(
                f"inconsistent tensor size, expected tensor [{self._array.shape[0]}] and src "
                f"[{np.shape(array_of(other))[0]}] to have the same number of elements"
            )
        return self.matmul(other)

    def sign(self) -> Tensor:
        return cr.sign(self)

    def conj(self) -> Tensor:
        return cr.conj(self) if self._array.dtype.kind == "c" else self

    # ---------------------------------------------------------------- in place
    def _in_place(self, result: cr.Tensor) -> Tensor:
        """Write ``result`` into this tensor, in its dtype: PyTorch refuses a result of a higher
        category (a float into an integer tensor), before anything is written."""
        dtype = self._array.dtype
        if result._array.dtype != dtype:
            if not can_cast(result._array.dtype, dtype):
                raise RuntimeError(
                    f"result type {scalar_name(result._array.dtype)} can't be cast to the "
                    f"desired output type {scalar_name(dtype)} (an in-place operation keeps "
                    "the tensor's dtype; use the out-of-place form, e.g. x = x + y)"
                )
            result = cr.astype(result, dtype)
        return assign(self, result)

    def __iadd__(self, other: Any) -> Tensor:
        return self._in_place(self + other)

    def __isub__(self, other: Any) -> Tensor:
        return self._in_place(self - other)

    def __imul__(self, other: Any) -> Tensor:
        return self._in_place(self * other)

    def __itruediv__(self, other: Any) -> Tensor:
        return self._in_place(self / other)

    def add_(self, other: Any, alpha: Any = 1) -> Tensor:
        return self._in_place(self.add(other, alpha))

    def sub_(self, other: Any, alpha: Any = 1) -> Tensor:
        return self._in_place(self.sub(other, alpha))

    def mul_(self, other: Any) -> Tensor:
        return self._in_place(self * other)

    def div_(self, other: Any, *, rounding_mode: str | None = None) -> Tensor:
        return self._in_place(self.div(other, rounding_mode=rounding_mode))

    def clamp_(self, min: Any = None, max: Any = None) -> Tensor:  # noqa: A002
        return self._in_place(self.clamp(min, max))

    def item(self) -> Any:
        if self._array.size != 1:
            raise RuntimeError(
                f"a Tensor with {self._array.size} elements cannot be converted to Scalar"
            )
        return self._array.item()


def _as(tensor: Any) -> Tensor:
    """The same tensor (data, history) as a PyTorch-spelled one."""
    if type(tensor) is Tensor:
        return tensor
    if not isinstance(tensor, cr.Tensor):
        return Tensor._wrap(cr.tensor(tensor)._array, cls=Tensor)
    return tensor._derive(Tensor)


def _apply(op: Op, operands: tuple) -> Tensor:
    """The general form of :func:`binary`, for any number of operands in any order."""
    operands = promote(op, operands)
    try:
        return _as(op.prim.apply(operands, NO_PARAMS))
    except (ValueError, TypeError) as error:
        raise runtime_error(error, operands) from None


# The operators and the floating functions, from the table of elementwise operations.
for _name, _op in OPS.items():
    if _name in ("maximum", "minimum"):
        setattr(Tensor, _name, binary(_op))
        continue
    setattr(Tensor, f"__{_name}__", binary(_op))
    if _name in ("eq", "ne", "lt", "le", "gt", "ge"):
        setattr(Tensor, _name, binary(_op))
    else:
        setattr(Tensor, f"__r{_name}__", binary(_op, reflected=True))
Tensor.__hash__ = cr.Tensor.__hash__  # (defining __eq__ drops it)
for _name, _op in FLOATING.items():
    setattr(Tensor, _name, floating(_op))
Tensor.arcsin, Tensor.arccos, Tensor.arctan = Tensor.asin, Tensor.acos, Tensor.atan

# A NumPy number on the left of an operator (``np.float64(2) * x``) reaches the tensor as a
# ufunc: binary ufuncs promote as PyTorch's operators do. (Unary ones keep NumPy's rules, as
# PyTorch's tensors do: ``np.exp`` of an integer tensor is float64 there too.)
Tensor._ufunc_routes = {
    getattr(np, name): (lambda *inputs, op=OPS[op]: _apply(op, inputs)) for name, op in {
        "add": "add", "subtract": "sub", "multiply": "mul", "true_divide": "truediv",
        "power": "pow", "floor_divide": "floordiv", "remainder": "mod", "maximum": "maximum",
        "minimum": "minimum", "equal": "eq", "not_equal": "ne", "less": "lt",
        "less_equal": "le", "greater": "gt", "greater_equal": "ge",
    }.items()
}

# PyTorch also takes NumPy's argument names (``axis``, ``keepdims``).
for _class in (ShapeMethods, Tensor):
    for _name, _method in list(vars(_class).items()):
        if inspect.isfunction(_method) and not _name.startswith("__"):
            setattr(_class, _name, accepts_numpy_names(_method))
