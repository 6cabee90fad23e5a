"""Forward mode: tangents carried by tensors, one per nesting level.

Each running ``jvp`` owns a *level*, a positive integer never reused; inner (nested) ones own
higher numbers.
A tensor's ``_tangents`` maps levels to tangents, so the perturbations of nested transforms never
mix. Invariant: the tangent stored at level L carries tangents of levels below L only. The
output of a primitive gets, for each level L present in its inputs, the sum over inputs of the
primitive's jvp rule applied to that input's level-L tangent.

While the rule for level L runs, every tangent at level L or above is hidden (``state.ceiling``
= L). Otherwise ``sin``'s rule ``t * cos(x)`` would see ``x``'s level-L tangent again, push it
through ``cos``, whose rule calls ``sin``... and never stop; hidden, the rule's result carries
exactly the lower-level tangents it should (second-order terms for nested jvps) and the reverse
graph, because the rules run on the very tensors that were recorded.

Tangents may have extra leading batch axes (``jacfwd`` pushes a whole identity at once); the
rules are written for that, see :mod:`chainrule.ops.primitive`. When transforms nest, a rule of
an inner level (or a batched backward pass) combines a flow with its own batch axes, say
``(M, *s)``, with a value of shape ``s`` whose lower-level tangent is batched ``(N, *s)``. For
broadcasting primitives (elementwise ones) such a tangent is padded to
``(N, 1, *s)`` before its rule runs, so the two batches form an outer product ``(N, M, *s)``
instead of colliding (or, worse, silently pairing up when ``N == M``). ``matmul``'s rules
line flows up themselves (1-D operands are promoted first), see :mod:`chainrule.ops.linalg`.
"""

from __future__ import annotations

import itertools
from typing import Any

import numpy as np

from .anomaly import check_tangent
from .anomaly import mode as anomaly
from .backends import asarray
from .modes import state
from .ops import astype, broadcast_to, identity, real, reshape
from .ops.recording import install_forward_mode
from .saved_hooks import Packed
from .tensor import Tensor


def push(prim: Any, args: tuple, params: dict, result: Tensor, levels: list[int]) -> None:
    """Fill ``result._tangents`` from the tangents of ``args`` (ascending levels)."""
    shapes = tuple(a._array.shape if isinstance(a, Tensor) else np.shape(a) for a in args)
    out_shape = result._array.shape
    out_dtype = result._array.dtype
    out_ndim = len(out_shape)
    rules = prim.rules(prim.jvps, len(args))
    pad = len(args) > 1 and prim.elementwise
    # Attached now: the rule of a higher level reads the output's lower-level tangents.
    tangents: dict[int, Any] = {}
    result._tangents = tangents
    previous = state.ceiling
    try:
        for level in levels:
            state.ceiling = level
            total = None
            batch: tuple = ()
            for index, arg in enumerate(args):
                if not isinstance(arg, Tensor) or not arg._tangents:
                    continue
                tangent = arg._tangents.get(level)
                rule = rules[index]
                if tangent is None or rule is None:
                    continue
                ndim = len(shapes[index])
                tangent_shape = tangent.shape
                lead = tangent_shape[: len(tangent_shape) - ndim]
                if lead and pad and ndim < out_ndim:
                    tangent = _padded(tangent, lead, out_ndim - ndim, shapes[index])
                part = rule.call(tangent, args, result, params, shapes, index, out_shape)
                if part is None:  # a symbolic zero (sign's tangent for real values, say)
                    continue
                if anomaly.checking:
                    check_tangent(prim, index, part)
                if total is None:
                    total = part
                    batch = lead
                else:
                    total = total + part
            if total is None:
                continue
            if total.shape != batch + out_shape or total.dtype != out_dtype:
                total = _as_output(total, batch + out_shape, out_dtype, prim)
            tangents[level] = total
    finally:
        state.ceiling = previous
    if not tangents:
        result._tangents = None
    # The node (if any) saved a tangent-free copy of the output: give it the tangents too.
    node = result._node
    if node is not None and isinstance(node.ans, Tensor):
        node.ans._tangents = result._tangents
    elif node is not None and type(node.ans) is Packed:  # (by saved-value hooks)
        node.ans.tangents = result._tangents


def _padded(tangent: Any, lead: tuple, missing: int, shape: tuple) -> Any:
    """A batched tangent with axes of 1 between its batch and its value's shape, so that it
    broadcasts against the output's batch instead of pairing with it (see above)."""
    return reshape(tangent, shape=lead + (1,) * missing + shape)


def _as_output(total: Any, shape: tuple, dtype: np.dtype, prim: Any) -> Any:
    """The summed tangent in the output's (batched) shape and dtype: broadcast up (a tangent
    of an input that broadcast: broadcasting primitives only, anything else is a wrong rule),
    cast, and real for a real output."""
    if total.shape != shape:
        if not prim.broadcasting:
            raise RuntimeError(
                f"the tangent rule of {prim.name} returned shape {tuple(total.shape)}, but its "
                f"output (with the tangents' batch axes) has shape {shape}: a tangent rule must "
                f"return the output's shape ({prim.name} is not declared broadcasting)"
            )
        total = broadcast_to(total, shape=shape)
    if total.dtype != dtype:
        if total.dtype.kind == "c" and dtype.kind != "c":
            total = real(total)  # a real output's tangent is real
        total = astype(total, dtype=dtype)
    return total


# Level numbers are never reused: a tensor that escapes a finished jvp (stored aside by the
# function, say) keeps a tangent at a dead level, which no later jvp will mistake for its own.
# Nesting still gives inner levels higher numbers, which is all the ceiling needs.
_level_ids = itertools.count(1)


def new_level() -> int:
    """Open a forward-mode level (``state.live_levels`` holds the open ones)."""
    level = next(_level_ids)
    state.live_levels.add(level)
    return level


def end_level(level: int) -> None:
    state.live_levels.discard(level)




def with_tangent(primal: Any, tangent: Any, level: int) -> Tensor:
    """A tensor sharing ``primal``'s data and history, carrying ``tangent`` at ``level``."""
    if isinstance(primal, Tensor):
        tangents: dict = dict(primal._tangents or {})
        if primal._node is None and primal._requires_grad:
            # A leaf that requires grad: route gradients to it through an identity op.
            out = identity(primal)
            out._tangents = tangents
        else:
            out = primal._derive(tangents=tangents)
    else:
        out = Tensor._wrap(asarray(primal))
        out._tangents = {}
    out._tangents[level] = tangent
    return out


def tangent_of(value: Any, level: int) -> Any:
    """The level-``level`` tangent of ``value`` (None when it has none: a symbolic zero)."""
    if isinstance(value, Tensor) and value._tangents:
        return value._tangents.get(level)
    return None


def strip(value: Any, level: int) -> Any:
    """``value`` without its level-``level`` tangent (same data and history)."""
    if not isinstance(value, Tensor) or not value._tangents or level not in value._tangents:
        return value
    rest = {k: v for k, v in value._tangents.items() if k != level} or None
    if value._node is not None or not value._requires_grad:
        return value._derive(tangents=rest)
    out = identity(value)  # keep gradients flowing to the leaf
    out._tangents = rest
    return out


install_forward_mode(push)
