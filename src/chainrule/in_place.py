"""In-place updates: a tensor's buffer written, its version counter raised, its history
replaced by the recorded out-of-place operation.

A recorded operation that saved a tensor's values refuses to backpropagate once they are
overwritten (the version check); what an update overwrites that its own recorded operation
saved is copied first. Written into a view while recording, the history rewritten is the
base's (views.py).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from . import backends
from .backends import asarray
from .node import Node
from .ops import astype, identity
from .saved_hooks import Packed, PackedValues
from .tensor import Tensor, array_of
from .views import check_writable, write_through


def check_in_place(tensor: Tensor) -> None:
    """Refuse to overwrite a leaf that requires grad, or a view of one, while recording
    (PyTorch's rule), and a write through a view that cannot be followed back."""
    if isinstance(tensor._array, np.ndarray) and not tensor._array.flags.writeable:
        raise ValueError(
            "this tensor's memory is read-only (a view from broadcast_to or diagonal, as "
            "NumPy's, or read-only memory it was made from), so it cannot be written in "
            "place; write into a copy (y = y.copy()) instead"
        )
    if not tensor._recording():
        return
    if tensor._node is None and tensor._requires_grad and tensor._view is None:
        raise RuntimeError(
            "a leaf tensor that requires grad is being used in an in-place operation; "
            "wrap the update in `with cr.no_grad():` (as optimizers do) or work on a copy"
        )
    if tensor._view is not None:
        check_writable(tensor)


def assign(target: Tensor, result: Any) -> Tensor:
    """Write ``result`` into ``target``'s own buffer, and ``target`` takes over its history.

    The buffer is the same object before and after, and the version counter goes up, so
    that a recorded operation that saved the old values refuses to backpropagate. Written
    into a view while recording, the history rewritten is the base's (views.py).
    """
    if not isinstance(result, Tensor):
        result = Tensor._wrap(asarray(result))
    check_in_place(target)
    data = target._array
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
    if getattr(backends.tracing, "trace", None) is not None:  # (cr.jit: the write recorded)
        data, new = backends.lift((data, new))
    recording = target._recording()
    if (result._requires_grad or result._tangents) and result._array.dtype != data.dtype:
        result = astype(result, dtype=data.dtype)  # the history has this tensor's dtype
    if recording and result._requires_grad and result._node is None:
        result = identity(result)  # a leaf written here: its gradient goes through a node
    if recording:
        _keep_what_is_overwritten(result, target)
    base = None
    if target._view is not None:
        base = target._view.base
        carried = base._tangents or result._tangents
        if (base._requires_grad or result._requires_grad or carried) and (recording or carried):
            base_value = write_through(target, result, recording)  # (before any write)
        else:
            base = None  # nothing to follow: constants in and out, or not recording
    if isinstance(data, np.ndarray):  # (writable: check_in_place said so)
        np.copyto(data, new, casting="same_kind")
    elif isinstance(data, np.generic):  # a NumPy scalar, immutable: replaced
        target._array = np.array(new, dtype=data.dtype)
    else:  # another library's array, written by its own item assignment (CuPy's memory is
        data[...] = new  # written, a Dask array takes the new values' graph; cr.jit's record)
    backends.bump(target._version)
    if base is not None:  # the base takes the history; this view is made again from it
        if recording:
            base._move_history(base_value._node, base_value._requires_grad)
        base._tangents = base_value._tangents
    elif target._view is None:
        if recording:
            # the recorded update is now this tensor's history; something without one
            # (fill_, copy_ of a constant) makes it a constant from now on. Under no_grad
            # an update is invisible to autograd and the history stays, as in PyTorch.
            target._move_history(result._node, result._requires_grad)
        target._tangents = result._tangents
    return target


def _keep_what_is_overwritten(result: Tensor, target: Tensor) -> None:
    """An in-place update records the out-of-place operation, whose node may have saved the
    very values the update is about to overwrite (``y *= x`` saves ``y`` for ``x``'s
    gradient), and so may the nodes that computed its tangents (reverse over forward): those
    values are replaced by copies, as PyTorch saves the original of what an in-place operation
    overwrites. Saved values that are not overwritten keep their check."""
    nodes: list = [result._node] if result._node is not None else []
    if result._tangents:
        # the nodes recorded while the tangents were computed, made after the result's
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
    counter, pairs = target._version, node.versions
    if not saved or any(
        pairs[i] is counter and pairs[i + 1] != counter[0] for i in range(0, len(pairs), 2)
    ):
        return  # (already overwritten since: the version check will say so)
    data = target._array
    values = []
    copied = False
    for value in saved:
        if type(value) is Packed:  # (saved-value hooks: the target packed again, from a copy)
            if value.source is not None and value.source() is target:
                copied = True
                value = value.repacked(data.copy())
            values.append(value)
            continue
        raw = array_of(value)
        if type(raw) is np.ndarray and np.may_share_memory(raw, data):
            copied = True
            if isinstance(value, Tensor):
                value = value._derive(value._op_class, data=raw.copy())
            else:
                value = raw.copy()
        values.append(value)
    if not copied:
        return
    node.saved = type(saved)(values)
    if type(saved) is PackedValues:
        node.saved.linked = saved.linked
    # The version check of the written memory stays only for saved values still in it.
    storage = target._view.base._array if target._view is not None else data
    if not any(
        type(raw) is np.ndarray and np.may_share_memory(raw, storage)
        for raw in map(array_of, values)
    ):
        node.versions = tuple(
            item for i in range(0, len(pairs), 2) if pairs[i] is not counter
            for item in pairs[i : i + 2]
        )
