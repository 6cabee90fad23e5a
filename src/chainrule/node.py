"""The recorded graph's node: one application of a primitive (the ``grad_fn`` of its output).

This module is the bottom layer: it imports nothing of chainrule but the code generator. The op
table makes nodes (``ops/recording.py``), the engine runs them (``engine.py``), the drawing tools
read them.
"""

from __future__ import annotations

import itertools
import weakref
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from .codegen import constructor, parameters

creation_order = itertools.count()  # Node.seq (tape.py numbers its records from it too)


class Node:
    """One recorded application of a primitive (the ``grad_fn`` of its output)."""

    # Every field of a node and the value it starts with: ``{name}`` is given by whoever records
    # it (the parameters of ``Node(...)``, in this order), anything else is the same for every
    # node. ``Node.__init__`` and the recording code generated for each primitive
    # (ops/recording.py) are both made from this declaration, so a field is added here only.
    FIELDS = {
        "prim": "{prim}",
        "params": "{params}",  # the static parameters
        "parents": "{parents}",  # per input: its node, a leaf tensor, or None (no gradient)
        "saved": "{saved}",  # per input: its value if a rule reads it, else None
        "ans": "{ans}",  # the output if a rule reads it, else None
        # The counters and versions of the saved values, flat: (counter, version, ...).
        "versions": "{versions}",
        "ans_shape": "{ans_shape}",
        "ans_dtype": "{ans_dtype}",
        # The inputs' shapes, only for primitives whose rules read them (``x_shape``). The
        # engine sums and casts a rule's result to the shape and dtype of its parent's value.
        "shapes": "{shapes}",
        # Creation order: a node's parents were all made before it (see ``engine.backpropagate``).
        "seq": "next(creation_order)",
        "hooks": "None",
        # Saved values are tensors carrying forward-mode tangents (see forward.py), so the
        # rules must run on tensors even on the first-order path.
        "saves_tensors": "{saves_tensors}",
    }
    __slots__ = (*FIELDS, "__weakref__")
    if TYPE_CHECKING:  # the fields' types, for type checkers (FIELDS makes them)
        prim: Any
        params: dict
        parents: tuple
        saved: tuple | None
        ans: Any
        versions: tuple
        ans_shape: tuple
        ans_dtype: Any
        shapes: tuple | None
        seq: int
        hooks: list[Callable | Retain] | None
        saves_tensors: bool
    _OPTIONAL = {"shapes": "None", "saves_tensors": "False"}  # parameters with a default
    __init__ = constructor(
        f"__init__(self, {parameters(FIELDS, _OPTIONAL)})", FIELDS, None,
        {"creation_order": creation_order}, "Node.__init__",
    )

    def __repr__(self) -> str:
        return f"<{backward_name(self.prim)}>"

    @property
    def name(self) -> str:
        return self.prim.name

    @property
    def next_functions(self) -> tuple:
        """The parents, as PyTorch names them: nodes, leaf tensors, or None."""
        return self.parents

    def add_hook(self, hook: Callable | Retain) -> None:
        if self.hooks is None:
            self.hooks = []
        self.hooks.append(hook)
        # As in PyTorch, ``retain_grad`` keeps the gradient after every other hook has run.
        self.hooks.sort(key=lambda h: type(h) is Retain)

    def retain(self, tensor: Any) -> None:
        self.add_hook(Retain(tensor))

    def release(self, tensor: Any) -> bool:
        """Stop retaining ``tensor``'s gradient here; whether it was retained."""
        kept = [h for h in self.hooks if not (type(h) is Retain and h.ref() is tensor)]
        released = len(kept) != len(self.hooks)
        self.hooks = kept or None
        return released


    def check(self) -> None:
        """Raise if the saved values were freed or changed in place since recording."""
        if self.saved is None:
            raise RuntimeError(
                f"trying to backward through the graph a second time: the values saved by "
                f"{self!r} were freed by the first backward. Pass retain_graph=True to the "
                f"first backward (or gradient/GradientTape call) if you need to run it twice."
            )
        versions = self.versions
        for i in range(0, len(versions), 2):
            counter, version = versions[i], versions[i + 1]
            if counter[0] != version:
                raise RuntimeError(
                    f"a value saved by {self!r} for backward was modified by an in-place "
                    f"operation (its version is now {counter[0]}, expected {version}). Use the "
                    f"out-of-place form (y = y + 1 instead of y += 1), or .copy() first."
                )


def backward_name(prim: Any) -> str:
    """The name of a primitive's backward function, as PyTorch names them: ``LogBackward``."""
    return f"{prim.title}Backward"


class Retain:
    """The hook ``retain_grad`` adds to a node: the gradient its tensor receives (after the
    other hooks) is written into that tensor's ``.grad`` when the pass commits, with the
    leaves' gradients, so that a pass that fails writes nothing."""

    __slots__ = ("ref",)

    def __init__(self, tensor: Any) -> None:
        self.ref = weakref.ref(tensor)
