"""``chainrule.torch.Tensor``: the core tensor with PyTorch's method names and defaults.

Every method is a translation: ``dim``/``keepdim`` become ``axis``/``keepdims``, ``var`` and
``std`` default to the unbiased estimate, ``max(dim)`` returns ``(values, indices)``. The
semantics (accumulating ``.grad``, the scalar-only ``backward``) are the core's defaults.
"""

from __future__ import annotations

import builtins
from collections import namedtuple
from typing import Any

import numpy as np

import chainrule as cr

from .. import ops


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


DTYPES = {np.dtype(name): dtype(name) for name in (
    "float16", "float32", "float64", "int8", "int16", "int32", "int64", "uint8", "bool",
    "complex64", "complex128")}


values_indices = {name: namedtuple(name, ["values", "indices"]) for name in ("max", "min")}


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

    def __repr__(self) -> str:
        data = np.asarray(self.data)
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
        return DTYPES.get(self.data.dtype) or dtype(self.data.dtype)

    @property
    def shape(self) -> Size:
        return Size(self.data.shape)

    def size(self, dim: int | None = None) -> Any:  # type: ignore[override]
        return Size(self.data.shape) if dim is None else self.data.shape[dim]

    def numel(self) -> int:
        return int(self.data.size)

    def dim(self) -> int:
        return self.data.ndim

    ndimension = dim

    @property
    def device(self) -> str:
        return "cpu"

    def cpu(self) -> Tensor:
        return self

    def contiguous(self) -> Tensor:
        return self

    def is_contiguous(self) -> bool:
        return True

    # ---------------------------------------------------------------- conversion
    def numpy(self, force: bool = False) -> np.ndarray:
        if self._rg and not force:
            raise RuntimeError(
                "Can't call numpy() on Tensor that requires grad. Use tensor.detach().numpy() "
                "instead."
            )
        return np.asarray(self.data)

    def clone(self) -> Tensor:
        return cr.ops.copy(self)

    def to(self, *args: Any, **kwargs: Any) -> Tensor:
        dtype = kwargs.get("dtype")
        for arg in args:
            if not isinstance(arg, str):
                dtype = arg
        return self if dtype is None else cr.astype(self, dtype)

    def type(self, dtype: Any = None) -> Any:
        if dtype is None:
            return f"torch.{self.data.dtype}"
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
    def sum(self, dim: Any = None, keepdim: bool = False, *, dtype: Any = None,
            axis: Any = None) -> Tensor:
        out = cr.sum(self, axis=_axis(dim if axis is None else axis), keepdims=keepdim)
        return out if dtype is None else cr.astype(out, dtype)

    def mean(self, dim: Any = None, keepdim: bool = False, *, dtype: Any = None,
             axis: Any = None) -> Tensor:
        return cr.mean(self, axis=_axis(dim if axis is None else axis), keepdims=keepdim)

    def prod(self, dim: Any = None, keepdim: bool = False) -> Tensor:
        return cr.prod(self, axis=dim, keepdims=keepdim)

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

    def argmax(self, dim: Any = None, keepdim: bool = False, *, axis: Any = None) -> Tensor:
        return _as(cr.argmax(self, axis=dim if axis is None else axis, keepdims=keepdim))

    def argmin(self, dim: Any = None, keepdim: bool = False, *, axis: Any = None) -> Tensor:
        return _as(cr.argmin(self, axis=dim if axis is None else axis, keepdims=keepdim))

    def var(self, dim: Any = None, unbiased: bool = True, keepdim: bool = False, *,
            correction: Any = None) -> Tensor:
        """Variance, unbiased (divides by ``n - 1``) unless ``unbiased=False``."""
        if isinstance(dim, bool):
            dim, unbiased = None, dim
        ddof = (1 if unbiased else 0) if correction is None else correction
        return cr.var(self, axis=_axis(dim), ddof=ddof, keepdims=keepdim)

    def std(self, dim: Any = None, unbiased: bool = True, keepdim: bool = False, *,
            correction: Any = None) -> Tensor:
        return cr.sqrt(self.var(dim, unbiased, keepdim, correction=correction))

    def norm(self, p: Any = "fro", dim: Any = None, keepdim: bool = False) -> Tensor:  # type: ignore[override]
        """The 2-norm of all elements (or ``p``-norm, along ``dim``)."""
        x = self
        if dim is None and p not in ("fro", 2, 2.0):
            x, dim = cr.reshape(self, (-1,)), 0
        ord_ = None if p in ("fro", 2, 2.0) else p
        return ops.norm(x, ord=ord_, axis=_axis(dim), keepdims=keepdim)

    def logsumexp(self, dim: Any, keepdim: bool = False) -> Tensor:
        return cr.logsumexp(self, axis=_axis(dim), keepdims=keepdim)

    def cumsum(self, dim: int) -> Tensor:  # type: ignore[override]
        return cr.cumsum(self, axis=dim)

    def all(self, dim: Any = None, keepdim: bool = False) -> Tensor:  # type: ignore[override]
        return _as(cr.Tensor.all(self, dim, keepdim))

    def any(self, dim: Any = None, keepdim: bool = False) -> Tensor:  # type: ignore[override]
        return _as(cr.Tensor.any(self, dim, keepdim))

    # ---------------------------------------------------------------- shapes
    def view(self, *shape: Any) -> Tensor:
        return cr.reshape(self, _sizes(shape))

    def reshape(self, *shape: Any) -> Tensor:
        return cr.reshape(self, _sizes(shape))

    def view_as(self, other: cr.Tensor) -> Tensor:
        return cr.reshape(self, other.data.shape)

    reshape_as = view_as

    def flatten(self, start_dim: int = 0, end_dim: int = -1) -> Tensor:  # type: ignore[override]
        shape = self.data.shape
        if not shape:
            return cr.reshape(self, (1,))
        start, end = start_dim % len(shape), end_dim % len(shape)
        return cr.reshape(self, shape[:start] + (-1,) + shape[end + 1:])

    def unsqueeze(self, dim: int) -> Tensor:
        return cr.expand_dims(self, dim if dim >= 0 else dim + self.data.ndim + 1)

    def squeeze(self, dim: Any = None) -> Tensor:
        if dim is not None and self.data.shape[dim] != 1:
            return self  # PyTorch leaves a dimension that is not of size 1
        return cr.squeeze(self, dim)

    def permute(self, *dims: Any) -> Tensor:
        return cr.transpose(self, _sizes(dims))

    def transpose(self, dim0: int, dim1: int) -> Tensor:  # type: ignore[override]
        return cr.swapaxes(self, dim0, dim1)

    def t(self) -> Tensor:
        if self.data.ndim > 2:
            raise RuntimeError(f"t() expects a tensor with <= 2 dimensions, but self is "
                               f"{self.data.ndim}D")
        return cr.transpose(self)

    def expand(self, *sizes: Any) -> Tensor:
        sizes = _sizes(sizes)
        shape = (1,) * (len(sizes) - self.data.ndim) + self.data.shape
        return cr.broadcast_to(self, tuple(s if n == -1 else n for n, s in zip(sizes, shape,
                                                                               strict=True)))

    def expand_as(self, other: cr.Tensor) -> Tensor:
        return cr.broadcast_to(self, other.data.shape)

    def repeat(self, *sizes: Any) -> Tensor:
        return cr.tile(self, _sizes(sizes))

    def flip(self, *dims: Any) -> Tensor:
        return cr.flip(self, _sizes(dims))

    def gather(self, dim: int, index: Any) -> Tensor:
        """``out[i][j] = self[i][index[i][j]]`` for ``dim=1`` (PyTorch's ``gather``)."""
        index = np.asarray(getattr(index, "data", index))
        dim = dim % self.data.ndim
        grid = np.indices(index.shape, sparse=True)
        return self[tuple(index if axis == dim else grid[axis]
                          for axis in range(self.data.ndim))]

    def masked_fill(self, mask: Any, value: Any) -> Tensor:
        if isinstance(value, cr.Tensor):  # a tensor's gradient flows (PyTorch: 0-d only)
            return cr.where(mask, value.astype(self.dtype), self)
        return cr.where(mask, cr.tensor(value, dtype=self.dtype), self)

    def split(self, split_size: Any, dim: int = 0) -> list:
        size = self.data.shape[dim]
        if isinstance(split_size, int):
            edges = list(range(split_size, size, split_size))
        else:
            edges = list(np.cumsum(split_size)[:-1])
        return cr.split(self, edges, axis=dim)

    # ---------------------------------------------------------------- elementwise
    def clamp(self, min: Any = None, max: Any = None) -> Tensor:  # noqa: A002
        return cr.clip(self, min, max)

    clip = clamp

    def clamp_min(self, min: Any) -> Tensor:  # noqa: A002
        return cr.clip(self, min, None)

    def softmax(self, dim: int) -> Tensor:
        return cr.softmax(self, axis=dim)

    def log_softmax(self, dim: int) -> Tensor:
        return cr.log_softmax(self, axis=dim)

    def pow(self, exponent: Any) -> Tensor:
        return self ** exponent

    def neg(self) -> Tensor:
        return -self

    def add(self, other: Any, alpha: Any = 1) -> Tensor:
        return self + (other if alpha == 1 else other * alpha)

    def sub(self, other: Any, alpha: Any = 1) -> Tensor:
        return self - (other if alpha == 1 else other * alpha)

    def mul(self, other: Any) -> Tensor:
        return self * other

    def div(self, other: Any) -> Tensor:
        return self / other

    def matmul(self, other: Any) -> Tensor:
        return cr.matmul(self, other)

    mm = mv = matmul

    def eq(self, other: Any) -> Tensor:
        return self == other

    def ne(self, other: Any) -> Tensor:
        return self != other

    def lt(self, other: Any) -> Tensor:
        return self < other

    def le(self, other: Any) -> Tensor:
        return self <= other

    def gt(self, other: Any) -> Tensor:
        return self > other

    def ge(self, other: Any) -> Tensor:
        return self >= other

    def log1p(self) -> Tensor:
        return cr.log1p(self)

    def sign(self) -> Tensor:
        return cr.sign(self)

    def item(self) -> Any:
        if self.data.size != 1:
            raise RuntimeError(
                f"a Tensor with {self.data.size} elements cannot be converted to Scalar"
            )
        return self.data.item()


def _as(tensor: Any) -> Tensor:
    """The same tensor (data, history) as a PyTorch-spelled one."""
    if type(tensor) is Tensor:
        return tensor
    if not isinstance(tensor, cr.Tensor):
        return Tensor._wrap(cr.tensor(tensor).data, cls=Tensor)
    return tensor._as_class(Tensor)


def _promoting(name: str, division: bool = False) -> Any:
    """PyTorch's type promotion: an integer tensor meeting a Python float, or divided, gives the
    default float dtype (float32), where NumPy would give float64."""
    operator = getattr(cr.Tensor, name)

    def method(self: Tensor, other: Any) -> Any:
        if self.data.dtype.kind in "biu" and (division or isinstance(other, float)):
            return operator(cr.astype(self, "float32"), other)
        return operator(self, other)

    method.__name__ = name
    return method


for _name in ("__add__", "__radd__", "__sub__", "__rsub__", "__mul__", "__rmul__", "__pow__",
              "__rpow__"):
    setattr(Tensor, _name, _promoting(_name))
for _name in ("__truediv__", "__rtruediv__"):
    setattr(Tensor, _name, _promoting(_name, division=True))
