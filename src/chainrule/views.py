"""Views: tensors that share memory with another tensor, and in-place writes through them.

A primitive whose output shares memory with its input (indexing with slices, ``reshape``,
``transpose``, ``flip``...) makes a *view*. The values a view holds can change without the view
being written: a write through the view changes its base, and a write into the base (or into
another view of it) changes the view. Autograd follows both ways, as PyTorch does:

* A view remembers its root base and the steps (primitive and static parameters) that make it
  from that base (:class:`View`). Writing into a view while recording rewrites the *base's*
  history: the base becomes "the old base with the new values put in the view's place",
  recorded with each step's ``unview`` (``setitem`` for indexing, the inverse permutation for
  ``transpose``...), so gradients reach both what was written and what was not overwritten.
* A view's own history is good as long as the memory it shares has not been written since it
  was made: base and views share one version counter. When it has, the view's history is made
  again from the base's current one by replaying the steps, lazily, when it is next read. The
  class of a view reads ``_node``, ``_requires_grad`` and ``_tangents`` through properties that
  compare the versions first (:func:`view_class`); tensors that are not views pay nothing.

Writing into a view of a leaf that requires grad is refused while recording (the leaf's
values would change under its own gradient), as in PyTorch.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

from .modes import state
from .tensor import Tensor

# The slots a view reads through properties, as plain descriptors of Tensor's slots.
_NODE, _REQUIRES_GRAD, _TANGENTS = Tensor._node, Tensor._requires_grad, Tensor._tangents


class View:
    """How a view is made from its root base: ``steps`` of ``(primitive, params, index,
    args)`` (``args`` None when the primitive has one input, else the arguments, the viewed
    one at ``index``), and the version of the shared memory its history was made at."""

    __slots__ = ("base", "steps", "seen")

    def __init__(self, base: Tensor, steps: tuple, seen: int) -> None:
        self.base = base
        self.steps = steps
        self.seen = seen

    def sync(self, view: Tensor) -> None:
        """Make ``view``'s history again from its base's current one."""
        self.seen = view._version[0]  # (first: reading the view below needs no sync)
        with _recorded(True):  # (a view's history is recorded, whatever the mode)
            value = self.replay()[-1]
        view._move_history(value._node, value._requires_grad)
        _TANGENTS.__set__(view, value._tangents)

    def replay(self) -> list:
        """The base, then what each step makes of the one before, from the base's current
        history (the last is the view)."""
        values = [self.base]
        for step in self.steps:
            values.append(_apply_step(step, values[-1]))
        return values


@contextlib.contextmanager
def _recorded(flag: bool) -> Iterator[None]:
    """Record (or not) whatever the mode and the tensors' class (MXNet's record-only ones)."""
    previous = state.grad_enabled, state.recording
    state.grad_enabled = state.recording = flag
    try:
        yield
    finally:
        state.grad_enabled, state.recording = previous


def _apply_step(step: tuple, value: Tensor) -> Tensor:
    prim, params, index, args = step
    if args is None:
        return prim.apply((value,), params)
    args = list(args)
    args[index] = value
    return prim.apply(tuple(args), params)


def make_view(result: Tensor, prim: Any, params: dict, args: tuple, index: int) -> Tensor:
    """Turn ``result``, which shares memory with ``args[index]``, into a view of its root base."""
    arg = args[index]
    parent = arg._view
    base, steps = (parent.base, parent.steps) if parent is not None else (arg, ())
    step = (prim, params, index, None if len(args) == 1 else args)
    result.__class__ = view_class(type(result))
    result._view = View(base, (*steps, step), result._version[0])
    return result


def alias(view: Tensor, out: Tensor) -> Tensor:
    """``out``, another tensor object over ``view``'s data and history (``Tensor._derive``), as a
    view of the same base."""
    record = view._view
    out.__class__ = view_class(type(out))
    out._view = View(record.base, record.steps, record.seen)
    return out


def check_writable(view: Tensor) -> None:
    """Refuse, before anything is written, a write into ``view`` whose history cannot be
    rewritten: a view of a leaf that requires grad, or made by a step without ``unview``."""
    record = view._view
    base = record.base
    if base._node is None and base._requires_grad:
        raise RuntimeError(
            "a view of a leaf tensor that requires grad is being used in an in-place "
            "operation; wrap the update in `with cr.no_grad():` (as optimizers do), or write "
            "into a copy (x.copy()) instead of a view of x"
        )
    for prim, _, _, args in record.steps:
        if prim.unview is None or args is not None:
            raise RuntimeError(
                f"this tensor is a view made by {prim.name}, and a write into it while "
                f"recording cannot be followed back to its base; write into a copy "
                f"(y = y.copy()) or into the base itself"
            )


def write_through(view: Tensor, value: Tensor, record_it: bool) -> Tensor:
    """The base's new value, with ``value`` written in ``view``'s place, from the base's
    current history (``value`` has the view's shape and dtype); recorded if ``record_it``
    (tangents are carried either way)."""
    steps = view._view.steps
    with _recorded(record_it):
        below = view._view.replay()[:-1]  # the base, and each view the steps make of it
        for (prim, params, _, _), inner in zip(reversed(steps), reversed(below), strict=True):
            value = prim.unview(inner, value, **params)
    return value


def _synced(slot: Any) -> property:
    """A property over one of Tensor's slots that first makes a stale view's history again."""
    get, put = slot.__get__, slot.__set__

    def read(self: Tensor) -> Any:
        record = self._view
        if record is not None and record.seen != self._version[0]:
            record.sync(self)  # (a tensor made with type(view) but no record is no view)
        return get(self)

    return property(read, put)


_VIEW_CLASSES: dict[type, type] = {}


def view_class(cls: type) -> type:
    """The class of views of tensors of class ``cls``: the same class, but for reading
    ``_node``, ``_requires_grad`` and ``_tangents`` (see the module docstring)."""
    if cls._view_of:
        return cls
    view = _VIEW_CLASSES.get(cls)
    if view is None:
        view = _VIEW_CLASSES[cls] = type(cls.__name__, (cls,), {
            "__slots__": (), "__module__": cls.__module__, "__qualname__": cls.__qualname__,
            "__doc__": cls.__doc__, "_op_class": cls._op_class, "_view_of": True,
            "_node": _synced(_NODE), "_requires_grad": _synced(_REQUIRES_GRAD),
            "_tangents": _synced(_TANGENTS),
        })
    return view
