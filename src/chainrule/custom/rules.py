"""User rules on flat lists of tensors: what the dialects' ``Function`` and
``custom_gradient`` are made of.

:func:`apply_rules` records outputs computed by the user as one op of the inputs, whose reverse
rule is ``vjp(cotangents) -> input cotangents`` and whose tangent rule is
``jvp(tangents) -> output tangents``, both on flat lists. It is the same carrier as
``custom_vjp``'s (:mod:`chainrule.custom.call`): a ``vjp`` written with chainrule's ops
differentiates again (its cotangents are then recorded tensors), batched cotangents and tangents
reach it one row at a time, and what it returns is checked against the inputs' shapes and dtypes
where it is produced, with the rule's name in the message.
"""

from __future__ import annotations

import weakref
from collections.abc import Callable, Sequence
from typing import Any

from ..hooks import conj_if_complex
from ..ops.primitive import Primitive
from ..saved_hooks import pack_saved, unpacked
from ..tensor import Tensor
from .call import Call, carrier, checked, naming, pull_rows, push_rows

__all__ = ["SavedOutput", "apply_rules"]


class Rules:
    """The user's rules of one call, and how messages name them."""

    __slots__ = ("vjp", "jvp", "what")

    def __init__(self, vjp: Callable, jvp: Callable | None, what: str) -> None:
        self.vjp, self.jvp, self.what = vjp, jvp, what


def _pull_once(call: Call, g: Any, differentiable: bool) -> list:
    rules = call.function
    # The dialects' rules see complex cotangents in the user's (PyTorch's) convention, the
    # conjugate of the engine's (see hooks.conj_if_complex), both ways.
    cotangents = [
        conj_if_complex(v if isinstance(v, Tensor) else Tensor._wrap(v))
        for v in call.unpack(g, ())
    ]
    with naming(rules.what):
        returned = rules.vjp(cotangents)
    results = [None if r is None else conj_if_complex(r) for r in returned]
    if len(results) != len(call.leaves):
        raise TypeError(
            f"{rules.what} returned {len(results)} cotangent(s), but the function has "
            f"{len(call.leaves)} input(s): one per input (None for none)"
        )
    return [
        checked(value, shape, dtype, differentiable, rules.what, k)
        for k, (value, (shape, dtype)) in enumerate(zip(results, call.leaves, strict=True))
    ]


def _cotangent(g: Any, xs: Any, index: int, call: Call) -> Any:
    return call.cotangents_once(g, xs, index, lambda call, g, xs: pull_rows(call, g, _pull_once))


def _push(call: Call, xs: Any, tangents: list) -> Any:
    rules = call.function
    if rules.jvp is None:
        raise TypeError(f"{rules.what} has no forward-mode (jvp) rule")
    with naming(rules.what):
        returned = list(rules.jvp(tangents))
    return call.pack(returned, (), rules.what)


def _tangent(t: Any, xs: Any, index: int, call: Call) -> Any:
    return push_rows(t, xs, index, call, _push)


_CARRIERS: dict[str, Primitive] = {}


def apply_rules(
    title: str, inputs: Sequence[Any], outputs: Sequence[Any], vjp: Callable,
    jvp: Callable | None = None, what: str | None = None,
) -> list[Tensor]:
    """``outputs`` (arrays or tensors, computed by the caller) recorded as one op of
    ``inputs``, whose nodes print as ``<{title}Backward>``.

    ``vjp(cotangents)``: one cotangent tensor per output in, one cotangent per input out (None
    for none). ``jvp(tangents)``: one tangent per input in (None for none), one per output out
    (None for zero). ``what`` names the rules in error messages.

    >>> import chainrule as cr
    >>> x = cr.tensor([1.0, 2.0], requires_grad=True)
    >>> (y,) = apply_rules("Twice", [x], [2 * x.detach().numpy()], vjp=lambda gs: [2 * gs[0]])
    >>> y.sum().backward()
    >>> x.grad
    tensor([2., 2.])
    """
    rules = Rules(vjp, jvp, what or f"the rules of {title}")
    inputs = list(inputs)
    call = Call(rules, (), None, inputs)
    call.set_output(list(outputs), rules.what)
    prim = _CARRIERS.get(title)
    if prim is None:
        prim = _CARRIERS[title] = carrier(title, _cotangent, _tangent, title)
    return call.apply(prim, inputs)


class SavedOutput:
    """An output of :func:`apply_rules` that the user's rules read (saved for backward). The
    output's node holds the rules, so the tensor is not held (that would be a reference
    cycle): its node is held weakly and the tensor made again at each access, as PyTorch's
    saved variables are; a change in place since is an error, not a silently different
    gradient. Its values go through the saved-value hooks in force (:mod:`chainrule.saved_hooks`),
    as an op's saved output does."""

    __slots__ = ("array", "node", "tangents", "cls", "counter", "version")

    def __init__(self, tensor: Tensor) -> None:
        self.array = pack_saved(tensor._array)
        self.tangents, self.cls = tensor._tangents, type(tensor)
        # (no node: forward mode alone recorded nothing)
        self.node = None if tensor._node is None else weakref.ref(tensor._node)
        self.counter, self.version = tensor._version, tensor._version[0]

    def unpack(self) -> Tensor:
        node = None if self.node is None else self.node()
        if self.counter[0] != self.version:
            raise RuntimeError(
                f"an output of {node!r} saved for backward was modified by an in-place "
                f"operation (its version is now {self.counter[0]}, expected {self.version}). "
                f"Use the out-of-place form, or .clone() it first."
            )
        tensor = Tensor._wrap(unpacked(self.array), node, self.cls)
        tensor._version, tensor._tangents = self.counter, self.tangents
        return tensor
