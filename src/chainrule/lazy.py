"""Lazy values (Dask): computing and persisting several tensors together.

A tensor over a Dask array is lazy: its operations, and the backward pass through them, build a
task graph and compute nothing. :func:`compute` computes several values in one pass, so that
work they share (the forward pass feeding both a loss and its gradient) runs once, as
``dask.compute`` does; :func:`persist` computes them and keeps them in memory (on a cluster: on
its workers) as arrays of the same library. Values of other libraries pass through unchanged.

A result keeps its history: the derivative of a computed or persisted tensor still flows to
the inputs it was made from (through a recorded copy where the tensor is a leaf), so that
``x.persist()`` halfway through a model is safe.
"""

from __future__ import annotations

from typing import Any

from . import backends, ops
from .tensor import Tensor
from .tree_util import tree_flatten, tree_unflatten


def compute(*values: Any) -> tuple:
    """The values of ``*values`` (tensors, arrays and pytrees of them), lazy ones computed
    together.

    Returns a tuple with one result per argument, of the same structure: a tensor over a Dask
    array becomes a tensor over the computed NumPy array (its history kept), a Dask array a
    NumPy array; anything else is returned as it is.

    >>> import chainrule as cr
    >>> cr.compute(cr.tensor([1.0, 2.0]), {"a": 3.0})
    (tensor([1., 2.]), {'a': 3.0})
    """
    return _apply(values, backends.compute)


def persist(*values: Any) -> tuple:
    """``*values`` (tensors, arrays and pytrees of them) with lazy ones computed together and
    kept in memory (on a Dask cluster: on its workers), still lazy arrays of their library, so
    that later work starts from them. Returns a tuple with one result per argument."""
    return _apply(values, backends.persist)


def _apply(values: tuple, how: Any) -> tuple:
    leaves, treedef = tree_flatten(values)
    arrays = [leaf._array if isinstance(leaf, Tensor) else leaf for leaf in leaves]
    done = how(arrays)
    results = [
        _with_array(leaf, array) if isinstance(leaf, Tensor) and array is not leaf._array
        else array if not isinstance(leaf, Tensor) else leaf
        for leaf, array in zip(leaves, done, strict=True)
    ]
    return tuple(tree_unflatten(treedef, results))


def _with_array(tensor: Tensor, array: Any) -> Tensor:
    """``tensor`` over ``array`` (the same values), its derivative still flowing to its inputs."""
    if tensor._node is None and tensor._requires_grad and tensor._recording():
        out = ops.copy(tensor)  # a leaf: a recorded copy, whose gradient reaches the leaf
        out._array = array
        return out
    return tensor._derive(data=array)
