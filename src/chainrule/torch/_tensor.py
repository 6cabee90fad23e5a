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
import functools
import inspect
from collections import namedtuple
from collections.abc import Callable
from typing import Any, NamedTuple

import numpy as np

import chainrule as cr

from .. import ops
from ..in_place import assign
from ..tensor import as_dtype
from ._promotion import DEFAULT_FLOAT, can_cast, cast, promoted, result_type


class Size(tuple):
    """PyTorch's ``torch.Size``: a tuple of dimensions."""

    def __repr__(self) -> str:
        return f"torch.Size({list(self)})"

    def numel(self) -> int:
        return int(np.prod(self, dtype=np.int64))


class dtype:  # noqa: N801 - PyTorch's name
    """``torch.dtype``: prints as ``torch.float32`` and is a NumPy dtype everywhere else."""

    __slots__ = ("dtype",)

    def __init__(self, name: Any) -> None:
        self.dtype = np.dtype(name)

    def __repr__(self) -> str:
        return f"torch.{self.dtype.name}"

    def __eq__(self, other: object) -> bool:
        try:
            return self.dtype == np.dtype(other)  # type: ignore[arg-type]
        except TypeError:
            return NotImplemented

    def __hash__(self) -> int:
        return hash(self.dtype)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.dtype, name)

    @property
    def is_floating_point(self) -> bool:
        return self.dtype.kind == "f"

    @property
    def is_complex(self) -> bool:
        return self.dtype.kind == "c"

    @property
    def is_signed(self) -> bool:
        return self.dtype.kind in "ifc"


DTYPES = {np.dtype(name): dtype(name) for name in (
    "float16", "float32", "float64", "int8", "int16", "int32", "int64", "uint8", "bool",
    "complex64", "complex128")}


values_indices = {name: namedtuple(name, ["values", "indices"]) for name in ("max", "min")}


class device:  # noqa: N801 - PyTorch's name
    """``torch.device``: where a tensor lives; here always the CPU.

    >>> import chainrule.torch as torch
    >>> torch.device("cpu"), torch.zeros(2).device == "cpu"
    (device(type='cpu'), True)
    """

    __slots__ = ("type", "index")

    def __init__(self, type: Any = "cpu", index: int | None = None) -> None:  # noqa: A002
        if isinstance(type, device):
            type, index = type.type, type.index  # noqa: A001
        name, _, number = str(type).partition(":")
        self.type = name
        self.index = builtins.int(number) if number else index

    def __repr__(self) -> str:
        index = "" if self.index is None else f", index={self.index}"
        return f"device(type='{self.type}'{index})"

    def __str__(self) -> str:
        return self.type if self.index is None else f"{self.type}:{self.index}"

    def __eq__(self, other: object) -> bool:
        if isinstance(other, str):
            other = device(other)
        if not isinstance(other, device):
            return NotImplemented
        return (self.type, self.index) == (other.type, other.index)

    def __hash__(self) -> int:
        return hash((self.type, self.index))


CPU = device("cpu")


def check_device(where: Any) -> None:
    """Accept ``device=None``, ``"cpu"`` or ``torch.device("cpu")``; refuse the others as a
    PyTorch built without CUDA does."""
    if where is None or where is CPU:
        return
    kind = device(where).type
    if kind == "cpu":
        return
    if kind == "cuda":
        raise AssertionError(
            "Torch not compiled with CUDA enabled: chainrule computes on the CPU only; use "
            "device='cpu' (or leave device out), and test torch.cuda.is_available() first"
        )
    raise RuntimeError(
        f"device {str(where)!r} is not available: chainrule computes on the CPU only; use "
        "device='cpu' (or leave device out)"
    )


def _axis(dim: Any) -> Any:
    """A PyTorch ``dim`` (int, list, tuple or None) as a NumPy ``axis``."""
    if isinstance(dim, (list, tuple)):
        return tuple(dim) if dim else None
    return dim


def _sizes(sizes: tuple) -> tuple:
    if len(sizes) == 1 and isinstance(sizes[0], (tuple, list)):
        return tuple(sizes[0])
    return tuple(sizes)


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


class Tensor(cr.Tensor):
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
        return Tensor._wrap(self._array, cls=type(self)._op_class)

    @data.setter
    def data(self, value: Any) -> None:
        self._array = value._array if isinstance(value, cr.Tensor) else np.asarray(value)

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
            title = self._node.prim.title
            extras.append(f"grad_fn=<{_NODE_NAMES.get(title, title)}Backward0>")
        elif self._rg:
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
        return self._rg

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
        if self._rg and not force:
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
            return _cast(self, dtype)
        return self if self._array.dtype.kind in "fc" else _cast(self, "int64")

    def _floating_only(self, name: str, dtype: Any = None) -> Tensor:
        """The input of a reduction that PyTorch computes for floating dtypes only."""
        if dtype is not None:
            return _cast(self, dtype)
        if self._array.dtype.kind not in "fc":
            raise RuntimeError(
                f"{name}(): could not infer output dtype. Input dtype must be either a floating "
                f"point or complex dtype. Got: {_scalar_name(self._array.dtype)} (convert the "
                f"tensor first, e.g. x.float().{name}(), or pass dtype=torch.float32)"
            )
        return self

    def sum(self, dim: Any = None, keepdim: bool = False, *, dtype: Any = None) -> Tensor:
        return cr.sum(self._accumulating(dtype), axis=_axis(dim), keepdims=keepdim)

    def mean(self, dim: Any = None, keepdim: bool = False, *, dtype: Any = None) -> Tensor:
        return cr.mean(self._floating_only("mean", dtype), axis=_axis(dim), keepdims=keepdim)

    def prod(self, dim: Any = None, keepdim: bool = False, *, dtype: Any = None) -> Tensor:
        return cr.prod(self._accumulating(dtype), axis=dim, keepdims=keepdim)

    def _extreme(self, name: str, dim: Any, keepdim: bool) -> Any:
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

    def max(self, dim: Any = None, keepdim: bool = False) -> Any:
        """The largest value, or with ``dim`` the pair ``(values, indices)``."""
        return self._extreme("max", dim, keepdim)

    def min(self, dim: Any = None, keepdim: bool = False) -> Any:
        return self._extreme("min", dim, keepdim)

    def amax(self, dim: Any = None, keepdim: bool = False) -> Tensor:
        return cr.max(self, axis=_axis(dim), keepdims=keepdim)

    def amin(self, dim: Any = None, keepdim: bool = False) -> Tensor:
        return cr.min(self, axis=_axis(dim), keepdims=keepdim)

    def argmax(self, dim: Any = None, keepdim: bool = False) -> Tensor:
        return _as(cr.argmax(self, axis=dim, keepdims=keepdim))

    def argmin(self, dim: Any = None, keepdim: bool = False) -> Tensor:
        return _as(cr.argmin(self, axis=dim, keepdims=keepdim))

    def var(self, dim: Any = None, unbiased: bool = True, keepdim: bool = False, *,
            correction: Any = None) -> Tensor:
        """Variance, unbiased (divides by ``n - 1``) unless ``unbiased=False``."""
        if isinstance(dim, bool):
            dim, unbiased = None, dim
        ddof = (1 if unbiased else 0) if correction is None else correction
        return cr.var(self._floating_only("var"), axis=_axis(dim), ddof=ddof, keepdims=keepdim)

    def std(self, dim: Any = None, unbiased: bool = True, keepdim: bool = False, *,
            correction: Any = None) -> Tensor:
        self._floating_only("std")
        return cr.sqrt(self.var(dim, unbiased, keepdim, correction=correction))

    def norm(self, p: Any = "fro", dim: Any = None, keepdim: bool = False) -> Tensor:  # type: ignore[override]
        """The 2-norm of all elements (or ``p``-norm, along ``dim``)."""
        x = self._floating_only("norm")
        if dim is None and p not in ("fro", 2, 2.0):
            x, dim = cr.reshape(x, (-1,)), 0
        ord_ = None if p in ("fro", 2, 2.0) else p
        return ops.norm(x, ord=ord_, axis=_axis(dim), keepdims=keepdim)

    def logsumexp(self, dim: Any, keepdim: bool = False) -> Tensor:
        x = self if self._array.dtype.kind in "fc" else _cast(self, DEFAULT_FLOAT)
        return cr.logsumexp(x, axis=_axis(dim), keepdims=keepdim)

    def cumsum(self, dim: int, *, dtype: Any = None) -> Tensor:  # type: ignore[override]
        return cr.cumsum(self._accumulating(dtype), axis=dim)

    def all(self, dim: Any = None, keepdim: bool = False) -> Tensor:  # type: ignore[override]
        return _as(cr.Tensor.all(self, dim, keepdim))

    def any(self, dim: Any = None, keepdim: bool = False) -> Tensor:  # type: ignore[override]
        return _as(cr.Tensor.any(self, dim, keepdim))

    # ---------------------------------------------------------------- shapes
    def reshape(self, *shape: Any) -> Tensor:
        """A tensor of the same elements in ``shape``: a view when the memory allows, else a
        copy (PyTorch's ``reshape``)."""
        shape = _sizes(shape)
        try:
            return cr.reshape(self, shape)
        except ValueError:
            raise RuntimeError(
                f"shape '{list(shape)}' is invalid for input of size {self._array.size} (the "
                f"tensor has shape {list(self._array.shape)}; at most one size may be -1)"
            ) from None

    def view(self, *shape: Any) -> Tensor:
        """Always a view of this tensor's memory (PyTorch's ``view``): refused where only a
        copy can have ``shape`` (a transpose flattened, say)."""
        out = self.reshape(*shape)
        if out._array.size and not np.shares_memory(out._array, self._array):
            raise RuntimeError(
                "view size is not compatible with input tensor's size and stride (at least one "
                "dimension spans across two contiguous subspaces). Use .reshape(...) instead."
            )
        return out

    def view_as(self, other: cr.Tensor) -> Tensor:
        return self.view(other._array.shape)

    reshape_as = view_as

    def flatten(self, start_dim: int = 0, end_dim: int = -1) -> Tensor:  # type: ignore[override]
        shape = self._array.shape
        if not shape:
            return cr.reshape(self, (1,))
        start, end = start_dim % len(shape), end_dim % len(shape)
        return cr.reshape(self, shape[:start] + (-1,) + shape[end + 1:])

    def unsqueeze(self, dim: int) -> Tensor:
        return cr.expand_dims(self, dim if dim >= 0 else dim + self._array.ndim + 1)

    def squeeze(self, dim: Any = None) -> Tensor:
        if dim is not None and self._array.shape[dim] != 1:
            return self  # PyTorch leaves a dimension that is not of size 1
        return cr.squeeze(self, dim)

    def permute(self, *dims: Any) -> Tensor:
        dims = _sizes(dims)
        if len(dims) != self._array.ndim:
            raise RuntimeError(
                f"permute(): number of dimensions in the tensor input does not match the length "
                f"of the desired ordering of dimensions i.e. input.dim() = {self._array.ndim} is "
                f"not equal to len(dims) = {len(dims)}"
            )
        return _runtime_errors(cr.transpose)(self, dims)

    def transpose(self, dim0: int, dim1: int) -> Tensor:  # type: ignore[override]
        return cr.swapaxes(self, dim0, dim1)

    def t(self) -> Tensor:
        if self._array.ndim > 2:
            raise RuntimeError(f"t() expects a tensor with <= 2 dimensions, but self is "
                               f"{self._array.ndim}D")
        return cr.transpose(self)

    def expand(self, *sizes: Any) -> Tensor:
        sizes = _sizes(sizes)
        if len(sizes) < self._array.ndim:
            raise RuntimeError(
                f"expand: the number of sizes provided ({len(sizes)}) must be greater or equal "
                f"to the number of dimensions in the tensor ({self._array.ndim})"
            )
        shape = (1,) * (len(sizes) - self._array.ndim) + self._array.shape
        target = tuple(s if n == -1 else n for n, s in zip(sizes, shape, strict=True))
        for position, (old, new) in enumerate(zip(shape, target, strict=True)):
            if old != 1 and old != new:
                raise RuntimeError(
                    f"The expanded size of the tensor ({new}) must match the existing size "
                    f"({old}) at non-singleton dimension {position}.  Target sizes: "
                    f"{list(sizes)}.  Tensor sizes: {list(self._array.shape)} (only dimensions "
                    "of size 1 can be expanded)"
                )
        return cr.broadcast_to(self, target)

    def expand_as(self, other: cr.Tensor) -> Tensor:
        return cr.broadcast_to(self, other._array.shape)

    def repeat(self, *sizes: Any) -> Tensor:
        return cr.tile(self, _sizes(sizes))

    def flip(self, *dims: Any) -> Tensor:
        return cr.flip(self, _sizes(dims))

    def gather(self, dim: int, index: Any) -> Tensor:
        """``out[i][j] = self[i][index[i][j]]`` for ``dim=1`` (PyTorch's ``gather``)."""
        index = np.asarray(getattr(index, "_array", index))
        dim = dim % self._array.ndim
        grid = np.indices(index.shape, sparse=True)
        return self[tuple(index if axis == dim else grid[axis]
                          for axis in range(self._array.ndim))]

    def masked_fill(self, mask: Any, value: Any) -> Tensor:
        """``value`` where ``mask`` holds, in this tensor's dtype (as PyTorch)."""
        return cr.where(mask, _cast(value, self._array.dtype), self)

    def split(self, split_size: Any, dim: int = 0) -> list:
        size = self._array.shape[dim]
        if isinstance(split_size, int):
            edges = list(range(split_size, size, split_size))
        else:
            edges = list(np.cumsum(split_size)[:-1])
        return cr.split(self, edges, axis=dim)

    # ---------------------------------------------------------------- elementwise
    def clamp(self, min: Any = None, max: Any = None) -> Tensor:  # noqa: A002
        """Values limited to ``[min, max]``, in the promoted dtype of the three."""
        x, low, high = _promote(_CLAMP, (self, min, max))
        numbers = [bound for bound in (min, max) if not isinstance(bound, (cr.Tensor, type(None)))]
        if x._array.dtype.kind == "b" and numbers:
            raise NotImplementedError(  # (PyTorch has tensor bounds for bool tensors only)
                "clamp with a number as a bound is not implemented for 'Bool' tensors; pass "
                "the bounds as tensors, or convert the tensor first (e.g. with .int())"
            )
        return cr.clip(x, _raw(low), _raw(high))

    clip = clamp

    def clamp_min(self, min: Any) -> Tensor:  # noqa: A002
        return self.clamp(min, None)

    def _float_input(self, name: str, dtype: Any) -> Tensor:
        if dtype is not None:
            return _cast(self, dtype)
        if self._array.dtype.kind not in "fc":
            raise NotImplementedError(  # (PyTorch's class here, a RuntimeError)
                f"{name}() is computed for floating tensors only, this one is "
                f"{self.dtype}; convert it first (x.float()) or pass dtype=torch.float32"
            )
        return self

    def softmax(self, dim: int, dtype: Any = None) -> Tensor:
        return cr.softmax(self._float_input("softmax", dtype), axis=dim)

    def log_softmax(self, dim: int, dtype: Any = None) -> Tensor:
        return cr.log_softmax(self._float_input("log_softmax", dtype), axis=dim)

    def pow(self, exponent: Any) -> Tensor:
        return self ** exponent

    def neg(self) -> Tensor:
        if self._array.dtype.kind == "b":
            raise RuntimeError(
                "Negation, the `-` operator, on a bool tensor is not supported. If you are "
                "trying to invert a mask, use the `~` or `logical_not()` operator instead."
            )
        return ops.negative.apply((self,), _NO_PARAMS)

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
            quotient = cr.trunc(_apply(_OPS["truediv"], (x, y)))
            return _cast(quotient, x._array.dtype)
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
        other_dtype = _raw(other).dtype
        if other_dtype != self._array.dtype:
            raise RuntimeError(
                f"expected m1 and m2 to have the same dtype, but got: {self.dtype} != "
                f"{DTYPES.get(other_dtype, other_dtype)} (PyTorch does not promote in matrix "
                "products; convert one of them, e.g. with .float())"
            )
        try:
            return ops.matmul.apply((self, other), _NO_PARAMS)
        except ValueError:
            shapes = (list(self._array.shape), list(np.shape(_raw(other))))
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
        if self._array.ndim != 1 or np.ndim(_raw(other)) != 1:
            raise RuntimeError(
                f"1D tensors expected, but got {self._array.ndim}D and {np.ndim(_raw(other))}D "
                "tensors"
            )
        if self._array.shape != np.shape(_raw(other)):
            raise RuntimeError(
                f"inconsistent tensor size, expected tensor [{self._array.shape[0]}] and src "
                f"[{np.shape(_raw(other))[0]}] to have the same number of elements"
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
                    f"result type {_scalar_name(result._array.dtype)} can't be cast to the "
                    f"desired output type {_scalar_name(dtype)} (an in-place operation keeps "
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


def _raw(value: Any) -> Any:
    return value._array if isinstance(value, cr.Tensor) else value


def _cast(value: Any, dtype: Any) -> Any:
    """A tensor (recorded) or a value in ``dtype``, unchanged if it has it already."""
    dtype = as_dtype(dtype)
    if isinstance(value, cr.Tensor):
        return value if value._array.dtype == dtype else cr.astype(value, dtype)
    return np.asarray(value, dtype)


def _as(tensor: Any) -> Tensor:
    """The same tensor (data, history) as a PyTorch-spelled one."""
    if type(tensor) is Tensor:
        return tensor
    if not isinstance(tensor, cr.Tensor):
        return Tensor._wrap(cr.tensor(tensor)._array, cls=Tensor)
    return tensor._as_class(Tensor)


# ---------------------------------------------------------------- PyTorch's promotion
# Operators, methods and ``torch.*`` functions all come here: the operands are cast to
# PyTorch's result dtype (see _promotion), then the core's primitive runs on them.
_NO_PARAMS: dict = {}


class _Op(NamedTuple):
    """How PyTorch computes an elementwise operation: its primitive, the kinds of result dtype
    it has a kernel for (it refuses the others), whether the result is at least the default
    float dtype (true division, the floating functions), and its name in messages."""

    prim: Any
    kinds: str = "biufc"
    floating: bool = False
    name: str = ""


_OPS = {
    "add": _Op(ops.add), "sub": _Op(ops.subtract), "mul": _Op(ops.multiply),
    "truediv": _Op(ops.true_divide, "fc", True, "div"), "pow": _Op(ops.power, "iufc"),
    "floordiv": _Op(ops.floor_divide, "iuf", name="div_floor"),
    "mod": _Op(ops.remainder, "iuf", name="remainder"),
    "eq": _Op(ops.equal), "ne": _Op(ops.not_equal), "lt": _Op(ops.less, "biuf"),
    "le": _Op(ops.less_equal, "biuf"), "gt": _Op(ops.greater, "biuf"),
    "ge": _Op(ops.greater_equal, "biuf"), "maximum": _Op(ops.maximum, "biuf"),
    "minimum": _Op(ops.minimum, "biuf"),
}
# The floating functions (``torch.exp`` is the method, see __init__).
_FLOATING = {
    name: _Op(prim, "fc", True, name) for name, prim in {
        "exp": ops.exp, "expm1": ops.expm1, "log": ops.log, "log1p": ops.log1p,
        "log2": ops.log2, "log10": ops.log10, "sqrt": ops.sqrt, "reciprocal": ops.reciprocal,
        "sin": ops.sin, "cos": ops.cos, "tan": ops.tan, "asin": ops.arcsin,
        "acos": ops.arccos, "atan": ops.arctan, "sinh": ops.sinh, "cosh": ops.cosh,
        "tanh": ops.tanh, "sigmoid": ops.sigmoid,
    }.items()
}
# Whether a Python number leaves a dimensioned tensor's dtype as it is, by the tensor's kind
# (with NumPy 1's value-based casting as with NumPy 2's weak scalars): the common case, which
# needs no promotion.
_KEEPS = {float: "fc", int: "iufc"}
_KEEPS_FLOAT = {float: "fc", int: "fc"}
# What PyTorch's operators refuse as an operand (a list is not a tensor there).
_NOT_OPERANDS = (str, bytes, list, tuple, dict, set)


def _promote(op: _Op, operands: tuple) -> tuple:
    """``operands`` cast to the dtype PyTorch computes ``op`` in, or PyTorch's refusal."""
    if op.prim is ops.subtract and builtins.any(_is_bool(operand) for operand in operands):
        raise RuntimeError(
            "Subtraction, the `-` operator, with a bool tensor is not supported. If you are "
            "trying to invert a mask, use the `~` or `logical_not()` operator instead."
        )
    dtype = result_type(*operands)
    if op.floating and dtype.kind not in "fc":
        dtype = DEFAULT_FLOAT
    if dtype.kind not in op.kinds:
        raise NotImplementedError(  # (a RuntimeError, as PyTorch's)
            f'"{op.name}" not implemented for \'{_scalar_name(dtype)}\': PyTorch has no kernel '
            f"for it in {dtype}; convert the operands first (e.g. with .float())"
        )
    return tuple([cast(operand, dtype) for operand in operands])


def _is_bool(value: Any) -> builtins.bool:
    if isinstance(value, (builtins.bool, np.bool_)):
        return True
    dtype = getattr(_raw(value), "dtype", None)
    return dtype is not None and dtype.kind == "b"


def _binary(op: _Op, reflected: bool = False) -> Callable:
    """``self <op> other`` (``other <op> self`` if ``reflected``) with PyTorch's promotion."""
    apply = op.prim.apply
    fast_kinds = "fc" if op.floating else op.kinds.replace("b", "")
    keeps = {kind: "".join(k for k in kinds if k in fast_kinds)
             for kind, kinds in (_KEEPS_FLOAT if op.floating else _KEEPS).items()}

    def operator(self: Tensor, other: Any) -> Tensor:
        data = self._array
        if isinstance(other, cr.Tensor):  # the fast path: operands of the same dtype
            same = other._array.dtype is data.dtype and data.dtype.kind in fast_kinds
        else:
            same = data.ndim and data.dtype.kind in keeps.get(type(other), "")
        operands = (other, self) if reflected else (self, other)
        if not same:
            if other is None or isinstance(other, _NOT_OPERANDS):
                return NotImplemented  # Python's TypeError, as PyTorch's (x == None is False)
            operands = _promote(op, operands)
        try:
            return apply(operands, _NO_PARAMS)
        except (ValueError, TypeError) as error:
            raise _runtime_error(error, operands) from None

    return operator


def _apply(op: _Op, operands: tuple) -> Tensor:
    """The general form of :func:`_binary`, for any number of operands in any order."""
    operands = _promote(op, operands)
    try:
        return _as(op.prim.apply(operands, _NO_PARAMS))
    except (ValueError, TypeError) as error:
        raise _runtime_error(error, operands) from None


def _floating(op: _Op) -> Callable:
    """A floating function (``exp``, ``sqrt``...): integers and booleans become the default
    float dtype first, as in PyTorch (NumPy would give float64)."""
    apply = op.prim.apply

    def function(self: Tensor) -> Tensor:
        if self._array.dtype.kind not in "fc":
            self = cr.astype(self, DEFAULT_FLOAT)
        return apply((self,), _NO_PARAMS)

    function.__name__ = op.name
    return function


def _shape_of(value: Any) -> tuple:
    return tuple(np.shape(value._array if isinstance(value, cr.Tensor) else value))


def _runtime_error(error: Exception, operands: tuple = ()) -> Exception:
    """PyTorch's exception for what NumPy reports as a ValueError or a TypeError (no loop for
    these dtypes): a RuntimeError, with PyTorch's wording for shapes that do not broadcast. (An
    ``AxisError`` is also an IndexError, PyTorch's class for a dimension out of range: it is
    kept.)"""
    if isinstance(error, IndexError):
        return error
    shapes = [_shape_of(operand) for operand in operands if operand is not None]
    ndim = builtins.max((len(shape) for shape in shapes), default=0)
    for position in range(1, ndim + 1):
        sizes = [shape[-position] for shape in shapes if len(shape) >= position]
        sizes = [size for size in sizes if size != 1]
        if len(set(sizes)) > 1:
            return RuntimeError(
                f"The size of tensor a ({sizes[0]}) must match the size of tensor b "
                f"({sizes[1]}) at non-singleton dimension {ndim - position}; the shapes "
                f"{' and '.join(str(list(shape)) for shape in shapes)} do not broadcast "
                "(reshape or unsqueeze one of them)"
            )
    return RuntimeError(str(error))


def _runtime_errors(method: Callable) -> Callable:
    """``method`` raising RuntimeError where the core raises ValueError (as PyTorch does)."""

    @functools.wraps(method)
    def converted(*args: Any, **kwargs: Any) -> Any:
        try:
            return method(*args, **kwargs)
        except ValueError as error:
            raise _runtime_error(error) from None

    return converted


# PyTorch's names for the dtypes in its messages ("result type Float can't be cast...").
_SCALAR_NAMES = {
    "bool": "Bool", "uint8": "Byte", "int8": "Char", "int16": "Short", "int32": "Int",
    "int64": "Long", "float16": "Half", "float32": "Float", "float64": "Double",
    "complex64": "ComplexFloat", "complex128": "ComplexDouble",
}


def _scalar_name(dtype: np.dtype) -> str:
    return _SCALAR_NAMES.get(dtype.name, dtype.name)


for _name, _op in _OPS.items():
    _op = _op._replace(name=_op.name or _name)
    _OPS[_name] = _op
    if _name in ("maximum", "minimum"):
        setattr(Tensor, _name, _binary(_op))
        continue
    setattr(Tensor, f"__{_name}__", _binary(_op))
    if _name in ("eq", "ne", "lt", "le", "gt", "ge"):
        setattr(Tensor, _name, _binary(_op))
    else:
        setattr(Tensor, f"__r{_name}__", _binary(_op, reflected=True))
Tensor.__hash__ = cr.Tensor.__hash__  # (defining __eq__ drops it)
for _name, _op in _FLOATING.items():
    setattr(Tensor, _name, _floating(_op))
Tensor.arcsin, Tensor.arccos, Tensor.arctan = Tensor.asin, Tensor.acos, Tensor.atan

_CLAMP = _Op(ops.clip, "biuf", name="clamp")
# A NumPy number on the left of an operator (``np.float64(2) * x``) reaches the tensor as a
# ufunc: binary ufuncs promote as PyTorch's operators do. (Unary ones keep NumPy's rules, as
# PyTorch's tensors do: ``np.exp`` of an integer tensor is float64 there too.)
# NumPy's binary ufuncs on PyTorch tensors promote as PyTorch's operators do.
Tensor._ufunc_routes = {
    getattr(np, name): (lambda *inputs, op=_OPS[op]: _apply(op, inputs)) for name, op in {
        "add": "add", "subtract": "sub", "multiply": "mul", "true_divide": "truediv",
        "power": "pow", "floor_divide": "floordiv", "remainder": "mod", "maximum": "maximum",
        "minimum": "minimum", "equal": "eq", "not_equal": "ne", "less": "lt",
        "less_equal": "le", "greater": "gt", "greater_equal": "ge",
    }.items()
}


def _accepts_numpy_names(method: Callable) -> Callable:
    """``method`` also taking NumPy's ``axis`` and ``keepdims`` for ``dim`` and ``keepdim``, as
    PyTorch's functions do (``x.sum(axis=0, keepdims=True)``)."""
    parameters = inspect.signature(method).parameters
    aliases = tuple((numpy_name, name) for numpy_name, name in (("axis", "dim"),
                                                                 ("keepdims", "keepdim"))
                    if name in parameters and numpy_name not in parameters)
    if not aliases:
        return method

    @functools.wraps(method)
    def aliased(*args: Any, **kwargs: Any) -> Any:
        for numpy_name, name in aliases:
            if numpy_name in kwargs:
                if name in kwargs:
                    raise TypeError(f"{method.__name__}() got both {name}= and {numpy_name}=, "
                                    f"which are the same argument; pass one of them")
                kwargs[name] = kwargs.pop(numpy_name)
        return method(*args, **kwargs)

    return aliased


for _name, _method in list(vars(Tensor).items()):
    if inspect.isfunction(_method) and not _name.startswith("__"):
        setattr(Tensor, _name, _accepts_numpy_names(_method))
