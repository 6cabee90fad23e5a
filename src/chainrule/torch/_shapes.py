"""PyTorch's shape methods of ``chainrule.torch.Tensor`` (``view``, ``permute``, ``expand``...),
each a translation to the core's: sizes as separate arguments or one sequence, and PyTorch's
exceptions."""

from __future__ import annotations

from typing import Any

import numpy as np

import chainrule as cr

from ._elementwise import runtime_errors
from ._promotion import cast


def sizes_of(sizes: tuple) -> tuple:
    """PyTorch's sizes, given as separate arguments or as one sequence, as a tuple."""
    if len(sizes) == 1 and isinstance(sizes[0], (tuple, list)):
        return tuple(sizes[0])
    return tuple(sizes)



class ShapeMethods:
    """A mixin of ``chainrule.torch.Tensor``."""

    __slots__ = ()

    def reshape(self, *shape: Any) -> cr.Tensor:
        """A tensor of the same elements in ``shape``: a view when the memory allows, else a
        copy (PyTorch's ``reshape``)."""
        shape = sizes_of(shape)
        try:
            return cr.reshape(self, shape)
        except ValueError:
            raise RuntimeError(
                f"shape '{list(shape)}' is invalid for input of size {self._array.size} (the "
                f"tensor has shape {list(self._array.shape)}; at most one size may be -1)"
            ) from None

    def view(self, *shape: Any) -> cr.Tensor:
        """Always a view of this tensor's memory (PyTorch's ``view``): refused where only a
        copy can have ``shape`` (a transpose flattened, say)."""
        out = self.reshape(*shape)
        if out._array.size and not np.shares_memory(out._array, self._array):
            raise RuntimeError(
                "view size is not compatible with input tensor's size and stride (at least one "
                "dimension spans across two contiguous subspaces). Use .reshape(...) instead."
            )
        return out

    def view_as(self, other: cr.Tensor) -> cr.Tensor:
        return self.view(other._array.shape)

    reshape_as = view_as

    def flatten(self, start_dim: int = 0, end_dim: int = -1) -> cr.Tensor:  # type: ignore[override]
        shape = self._array.shape
        if not shape:
            return cr.reshape(self, (1,))
        start, end = start_dim % len(shape), end_dim % len(shape)
        return cr.reshape(self, shape[:start] + (-1,) + shape[end + 1:])

    def unsqueeze(self, dim: int) -> cr.Tensor:
        return cr.expand_dims(self, dim if dim >= 0 else dim + self._array.ndim + 1)

    def squeeze(self, dim: Any = None) -> cr.Tensor:
        if dim is not None and self._array.shape[dim] != 1:
            return self  # PyTorch leaves a dimension that is not of size 1
        return cr.squeeze(self, dim)

    def permute(self, *dims: Any) -> cr.Tensor:
        dims = sizes_of(dims)
        if len(dims) != self._array.ndim:
            raise RuntimeError(
                f"permute(): number of dimensions in the tensor input does not match the length "
                f"of the desired ordering of dimensions i.e. input.dim() = {self._array.ndim} is "
                f"not equal to len(dims) = {len(dims)}"
            )
        return runtime_errors(cr.transpose)(self, dims)

    def transpose(self, dim0: int, dim1: int) -> cr.Tensor:  # type: ignore[override]
        return cr.swapaxes(self, dim0, dim1)

    def t(self) -> cr.Tensor:
        if self._array.ndim > 2:
            raise RuntimeError(f"t() expects a tensor with <= 2 dimensions, but self is "
                               f"{self._array.ndim}D")
        return cr.transpose(self)

    def expand(self, *sizes: Any) -> cr.Tensor:
        sizes = sizes_of(sizes)
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

    def expand_as(self, other: cr.Tensor) -> cr.Tensor:
        return cr.broadcast_to(self, other._array.shape)

    def repeat(self, *sizes: Any) -> cr.Tensor:
        return cr.tile(self, sizes_of(sizes))

    def flip(self, *dims: Any) -> cr.Tensor:
        return cr.flip(self, sizes_of(dims))

    def gather(self, dim: int, index: Any) -> cr.Tensor:
        """``out[i][j] = self[i][index[i][j]]`` for ``dim=1`` (PyTorch's ``gather``)."""
        index = np.asarray(getattr(index, "_array", index))
        dim = dim % self._array.ndim
        grid = np.indices(index.shape, sparse=True)
        return self[tuple(index if axis == dim else grid[axis]
                          for axis in range(self._array.ndim))]

    def masked_fill(self, mask: Any, value: Any) -> cr.Tensor:
        """``value`` where ``mask`` holds, in this tensor's dtype (as PyTorch)."""
        return cr.where(mask, cast(value, self._array.dtype), self)

    def split(self, split_size: Any, dim: int = 0) -> list:
        size = self._array.shape[dim]
        if isinstance(split_size, int):
            edges = list(range(split_size, size, split_size))
        else:
            edges = list(np.cumsum(split_size)[:-1])
        return cr.split(self, edges, axis=dim)
