"""Writing a finished backward pass's gradients into ``.grad``.

A later backward adds into the existing ``.grad`` buffer in place (the user may hold references
to it), so a buffer must belong to its ``.grad`` alone: :func:`adopt` takes the engine's own
fresh arrays and copies anything the user or another gradient may hold. Nothing here can fail
once the pass has run (``.grad`` is checked when assigned), so a backward writes all of its
gradients or none.
"""

from __future__ import annotations

import threading
from typing import Any

import numpy as np

from . import backends
from .backends import asarray, copy, is_numpy
from .tensor import Tensor

# One backward's writes happen together under this lock, so that threads running backward into
# the same leaves lose no addition (np.add releases the GIL).
_GRAD_LOCK = threading.Lock()


def adopt(array: Any, taken: set) -> np.ndarray:
    """``array`` itself if it may become a ``.grad`` buffer, else a copy.

    The arrays the engine hands over are results of the rules, with two exceptions handled where
    they arise: the user's ``gradient=`` is copied on entry and so is what a hook returns. What
    remains is sharing *within* one pass: a rule that passes its cotangent through unchanged
    (``add``) gives the same array to two inputs, so ``taken`` holds the ids already adopted.
    Views and read-only arrays (from ``reshape``, ``broadcast_to``) are always copied.
    """
    if (
        type(array) is np.ndarray
        and array.base is None
        and array.flags.writeable
        and id(array) not in taken
    ):
        taken.add(id(array))
        return array
    return copy(array)


def commit(writes: list, retained: list, create_graph: bool) -> None:
    """Write ``writes`` (tensor, gradient) by each tensor's ``grad_req``, and the gradients of
    tensors that ``retain_grad`` (summed into their ``.grad``)."""
    taken: set = set()
    with _GRAD_LOCK:
        for tensor, grad in writes:
            _accumulate(tensor, grad, create_graph, taken)
        for ref, grad in retained:
            owner = ref()
            if owner is not None:
                owner._grad = grad if owner._grad is None else owner._grad + grad


def _accumulate(leaf: Tensor, grad: Any, create_graph: bool, taken: set) -> None:
    """Write one backward's gradient into ``leaf.grad`` by the leaf's ``grad_req``."""
    req = leaf._grad_req
    if req == "null" or not leaf._requires_grad:  # (requires_grad_(False) since the graph was made)
        return
    current = leaf._grad
    if create_graph or isinstance(grad, Tensor):
        grad = grad if isinstance(grad, Tensor) else Tensor._wrap(grad, cls=leaf._op_class)
        leaf._grad = grad if req == "write" or current is None else current + grad
        return
    if type(grad) is not type(leaf._array) and not is_numpy(leaf._array):
        grad = asarray(grad, like=leaf._array)  # (a gradient that came through a transfer)
    if current is None:
        leaf._grad = Tensor._wrap(adopt(grad, taken), cls=leaf._op_class)
        return
    buffer = current._array
    if not is_numpy(buffer):  # another library's array: a new one (Dask's are values)
        current._array = grad if req == "write" else buffer + grad
        backends.bump(current._version)
        return
    if not (isinstance(buffer, np.ndarray) and buffer.flags.writeable):
        current._array = buffer = np.array(buffer)
    # Reuse the buffer the user already has (and may hold references to).
    grad = backends.lift((grad,))[0]  # (cr.jit: the write recorded)
    if req == "write":
        np.copyto(buffer, grad)
    else:
        np.add(buffer, grad, out=buffer)
    backends.bump(current._version)
