"""Saved-value hooks: what a node keeps for its rules passes through the user's functions.

Inside ``with cr.saved_tensors_hooks(pack, unpack):`` (PyTorch's
``torch.autograd.graph.saved_tensors_hooks``) each value an op saves for its derivative rules
(its inputs, its output, an array constant), and each value a user's rules keep (a
``custom_vjp`` residual, a tensor given to ``ctx.save_for_backward``: :func:`pack_saved`) goes
through ``pack(tensor)`` when the op is recorded, and the node keeps whatever ``pack``
returns instead; when the rules run, ``unpack(that)`` gives back a tensor (or NumPy array)
of the same shape and dtype. A user can compress saved values or move them to disk this way.
As in PyTorch:

- the hooks of the block open when an op is recorded are the ones its node uses, even if the
  backward pass runs outside the block or inside another;
- blocks nest, the innermost applies; they are per thread;
- ``pack`` gets an input as the very tensor passed to the op, and the op's output as a tensor
  without history (so that a ``pack`` returning its argument does not make the node hold
  itself); it runs with recording off. ``unpack`` runs in the backward pass's mode (recording
  with ``create_graph``), each time the rules need the value.

What holds without hooks holds with them: an in-place change to a saved value after it was
saved raises at backward (the version counters are checked whatever ``pack`` did), except
that an in-place update of a value its own recorded operation saves (``y *= w`` saves ``y``)
packs a copy of what it overwrites (:meth:`Packed.repacked`, ``pack`` called once more), as
PyTorch packs the original, forward-mode
tangents are kept beside the packed value, and the rules of a node whose values were packed
never overwrite a buffer (:mod:`chainrule.donation`): what ``unpack`` returns may be the user's.

Off (no block open in any thread) it costs nothing: recording calls observers only while one is
installed (:mod:`chainrule.ops.recording`), and the engine reaches this module only for a node
whose values were packed.
"""

from __future__ import annotations

import contextlib
import threading
import weakref
from collections.abc import Callable, Iterator
from typing import Any

import numpy as np

from . import backends
from .modes import state
from .node import Node
from .ops.recording import add_observer, remove_observer
from .tensor import Tensor, array_of

__all__ = ["pack_saved", "save_on_cpu", "saved_tensors_hooks", "unpacked"]


class _Stack(threading.local):
    def __init__(self) -> None:
        self.hooks: list = []  # (pack, unpack) of the blocks open in this thread, innermost last


_local = _Stack()
_open = [0]  # blocks open in all threads
_lock = threading.Lock()


def _name(fn: Callable) -> str:
    return getattr(fn, "__qualname__", None) or repr(fn)


class saved_tensors_hooks:  # noqa: N801 - PyTorch's name
    """Pass the values that ops save for their derivative rules through ``pack_hook`` when they
    are recorded, and ``unpack_hook`` when the rules run.

    >>> import numpy as np, chainrule as cr
    >>> x = cr.tensor([1.0, 2.0], requires_grad=True)
    >>> with cr.saved_tensors_hooks(lambda t: t.numpy().astype(np.float16),  # half the bytes
    ...                             lambda a: cr.tensor(a.astype(np.float32))):
    ...     y = cr.sin(x)
    >>> y.sum().backward(); x.grad             # cos(x), from x kept in float16
    tensor([ 0.5403023, -0.4161468])
    """

    def __init__(self, pack_hook: Callable[[Tensor], Any], unpack_hook: Callable[[Any], Any]):
        for role, hook in (("pack_hook", pack_hook), ("unpack_hook", unpack_hook)):
            if not callable(hook):
                raise TypeError(
                    f"saved_tensors_hooks: {role} must be a function, got "
                    f"{type(hook).__name__}"
                )
        self.pack_hook, self.unpack_hook = pack_hook, unpack_hook

    def __enter__(self) -> saved_tensors_hooks:
        # (the observer is installed and removed under the lock: a block closing in one thread
        # while another opens must not leave the other's block without it)
        with _lock:
            _local.hooks.append((self.pack_hook, self.unpack_hook))
            _open[0] += 1
            add_observer(_pack_node)
        return self

    def __exit__(self, *exc: object) -> None:
        with _lock:
            _local.hooks.pop()
            _open[0] -= 1
            if not _open[0]:
                remove_observer(_pack_node)


@contextlib.contextmanager
def suspended() -> Iterator[None]:
    """No packing in this thread for the block: a checkpointed function's runs, whose graphs
    are dropped (the first) or used at once (the rerun), as PyTorch's checkpoint keeps them
    from the user's hooks. A block opened inside applies again."""
    _local.hooks.append(None)
    try:
        yield
    finally:
        _local.hooks.pop()


class save_on_cpu(saved_tensors_hooks):  # noqa: N801 - PyTorch's name
    """PyTorch's block that keeps saved values in host memory. chainrule's arrays live there
    already (NumPy), so the values are kept as they are, as PyTorch does for CPU tensors;
    ``pin_memory`` and ``device_type`` are accepted for compatibility."""

    def __init__(self, pin_memory: bool = False, device_type: str = "cuda") -> None:
        super().__init__(_detached, _as_is)


def _detached(tensor: Tensor) -> Tensor:
    return tensor.detach()


def _as_is(tensor: Tensor) -> Tensor:
    return tensor


# ------------------------------------------------------------------ packing, at record time
class PackedValues(tuple):
    """A node's saved values some of which (or its output) went through ``pack``; ``linked``:
    whether, without hooks, they would have been tensors carrying tangents."""

    linked: bool


class Packed:
    """What ``pack`` returned for one saved value, with what is needed to give it back: the
    ``unpack`` hook of its block, the value's shape and dtype and, for a tensor, the class to
    give it back as, its node and tangents (a leaf that requires grad: the leaf itself, which
    its gradient reaches by identity). ``pack`` and ``source`` (the tensor saved, held weakly)
    let an in-place update about to overwrite that tensor pack a copy of it in its place
    (:meth:`repacked`)."""

    __slots__ = (
        "value", "pack", "unpack", "shape", "dtype", "tensor", "cls", "node", "tangents",
        "leaf", "source",
    )

    def __init__(self, pack: Callable, unpack: Callable, original: Any, value: Any) -> None:
        raw = array_of(original)
        self.pack, self.unpack, self.shape, self.dtype = pack, unpack, raw.shape, raw.dtype
        self.tensor = isinstance(original, Tensor)
        self.cls = Tensor  # (a rule's own values: their class, see pack_saved)
        self.node = original._node if self.tensor else None
        self.tangents = original._tangents if self.tensor else None
        self.leaf = original if self.tensor and self.node is None and (
            original._requires_grad) else None
        self.source = weakref.ref(original) if self.tensor else None
        self.value = pack(value)

    def repacked(self, array: np.ndarray) -> Packed:
        """The same saved value packed again from ``array``, a copy of its memory taken
        before an in-place update overwrites it (as PyTorch packs the original of what an
        in-place operation overwrites)."""
        original = Tensor._wrap(array, self.node, self.cls) if self.tensor else array
        if self.tensor:
            original._tangents = self.tangents
        previous = state.grad_enabled
        state.grad_enabled = False
        try:
            packed = Packed(self.pack, self.unpack, original, Tensor._wrap(array))
        finally:
            state.grad_enabled = previous
        packed.leaf, packed.cls = self.leaf, self.cls
        return packed

    def open(self) -> Any:
        """The value as it was saved: ``unpack``'s array, as a tensor if it was one."""
        result = self.unpack(self.value)
        array = result._array if isinstance(result, Tensor) else result
        if type(array) is not np.ndarray and not backends.is_foreign(array):
            raise TypeError(
                f"Output of saved tensor unpack_hook expected to be a Tensor but got result "
                f"of type {type(result).__name__} (from {_name(self.unpack)})"
            )
        if array.shape != self.shape or array.dtype != self.dtype:
            raise RuntimeError(
                f"the unpack hook {_name(self.unpack)} returned a {array.dtype} value of shape "
                f"{tuple(array.shape)}, but the value packed was {self.dtype} of shape "
                f"{self.shape}; unpack must give back what pack was given"
            )
        if not self.tensor:
            return array
        if self.leaf is not None:
            return self.leaf
        tensor = Tensor._wrap(array, self.node, self.cls)
        tensor._tangents = self.tangents
        return tensor


def pack_saved(value: Any) -> Any:
    """A value that a user's rule keeps for backward (a ``custom_vjp`` residual leaf, a tensor
    given to ``ctx.save_for_backward``) through the pack hook of this thread's innermost block,
    as the values ops save go: a :class:`Packed` (:func:`unpacked` gives it back), or the value
    itself when no block is open or it is no array."""
    if not _local.hooks or _local.hooks[-1] is None or not isinstance(
        value, (Tensor, np.ndarray)
    ):
        return value  # (a residual may be any object: only arrays are the hooks' business)
    pack, unpack = _local.hooks[-1]
    previous = state.grad_enabled
    state.grad_enabled = False
    try:
        packed = _packed(array_of(value), value, pack, unpack)
    finally:
        state.grad_enabled = previous
    if isinstance(value, Tensor):
        packed.cls = type(value)
    return packed


def unpacked(value: Any) -> Any:
    """What :func:`pack_saved` was given."""
    return value.open() if type(value) is Packed else value


def _pack_node(node: Node, args: tuple) -> None:
    """The recording observer while a block is open in some thread: pack the node's saved
    values with the hooks of this thread's innermost block, if any."""
    if not _local.hooks or _local.hooks[-1] is None:
        return
    pack, unpack = _local.hooks[-1]
    previous = state.grad_enabled
    state.grad_enabled = False  # (pack's own operations are not recorded)
    try:
        saved = PackedValues([
            _packed(value, arg, pack, unpack) for value, arg in zip(node.saved, args)
        ])
        ans = node.ans
        if ans is not None:
            ans = Packed(pack, unpack, ans, Tensor._wrap(array_of(ans)))
    finally:
        state.grad_enabled = previous
    saved.linked = node.saves_tensors
    node.saved, node.ans = saved, ans
    node.saves_tensors = True  # (the engine then prepares them: see engine.link)


def _packed(value: Any, arg: Any, pack: Callable, unpack: Callable) -> Any:
    """One saved value through ``pack``: an input as the tensor passed (without its tangents,
    which are kept beside), an array constant as a tensor of it; numbers (and nothing) as they
    are."""
    if value is None or not hasattr(array_of(value), "shape") or isinstance(value, np.generic):
        return value
    if not isinstance(arg, Tensor):
        return Packed(pack, unpack, value, Tensor._wrap(value))
    return Packed(pack, unpack, arg, arg._derive(tangents=None) if arg._tangents else arg)


# ------------------------------------------------------------------ unpacking, when rules run
def unpack_saved(node: Node) -> tuple[tuple, Any, bool]:
    """A packed node's saved values and output as they would have been saved without hooks,
    and whether they are linked tensors (see :class:`PackedValues`)."""
    saved = node.saved
    values = tuple([unpacked(value) for value in saved])
    return values, unpacked(node.ans), saved.linked
