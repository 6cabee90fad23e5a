"""Custom derivative rules with JAX's names: ``custom_jvp`` and ``custom_vjp``.

A call of a decorated function that something differentiates is one application of a primitive
of the op table (``custom_jvp_call`` or ``custom_vjp_call``): its inputs are the leaves of the
differentiated arguments, its output the function's result leaves packed into one array (then
unpacked by recorded ops), and its one static parameter the call itself (:class:`_Call`), which
holds the user's rules. So recording, the engine, forward mode, hooks and the tape treat it as
any other op.

- ``custom_jvp``: forward mode calls the user's tangent rule; reverse mode transposes it (the
  rule is linear in the tangents): the rule is recorded on fresh tangents that require grad and
  the cotangent is pulled back through that recording by the engine. Rules written with
  chainrule's ops give derivatives of any order.
- ``custom_vjp``: ``fwd`` runs on the arguments themselves, so its residuals keep their history
  (``bwd`` written with chainrule's ops is differentiable again); forward mode refuses.

Batched cotangents and tangents (``jacrev``, ``jacfwd``) are fed to the user's rules one row at
a time, so rules are written for unbatched values, as in JAX.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from ..backends import is_foreign
from ..engine import gradients
from ..hooks import conj_if_complex
from ..modes import enable_grad, state
from ..saved_hooks import pack_saved, unpacked
from ..tensor import Tensor, array_of, is_differentiable_dtype
from ..tree_util import tree_flatten, tree_unflatten
from .call import Call as _Call
from .call import active as _active
from .call import carrier, checked, closed_over, naming, pull_rows, push_rows
from .call import name_of as _name
from .call import visible_tangents as _visible_tangents
from .call import zeros as _zeros

__all__ = ["custom_jvp", "custom_vjp"]


class _Function:
    """What ``custom_jvp`` and ``custom_vjp`` share: splitting a call's arguments."""

    kind = ""

    def __init__(self, fun: Callable, nondiff_argnums: Sequence[int] = ()) -> None:
        self.fun = fun
        self.nondiff_argnums = tuple(sorted(int(n) for n in nondiff_argnums))
        functools.update_wrapper(self, fun)

    def _split(self, args: tuple) -> tuple[tuple, tuple, list, Any]:
        """(the non-differentiated arguments, the differentiated ones, their leaves, treedef)."""
        for num in self.nondiff_argnums:
            if not -len(args) <= num < len(args):
                raise ValueError(
                    f"{_name(self.fun)}: nondiff_argnums names argument {num}, but it was called "
                    f"with {len(args)} positional argument(s)"
                )
        nums = {num % len(args) for num in self.nondiff_argnums}
        static = tuple(args[i] for i in sorted(nums))
        diff = tuple(arg for i, arg in enumerate(args) if i not in nums)
        leaves, treedef = tree_flatten(diff)
        for leaf in leaves:
            if not isinstance(leaf, (Tensor, np.ndarray, np.generic, float, int, complex)) \
                    and not is_foreign(leaf):  # (another library's array, a traced one)
                raise TypeError(
                    f"{_name(self.fun)}: argument leaf of type {type(leaf).__name__} is not an "
                    f"array; pass it through nondiff_argnums"
                )
        return static, diff, leaves, treedef

    def _merge(self, static: tuple, diff: tuple) -> tuple:
        """The full argument tuple from its two parts."""
        count = len(static) + len(diff)
        nums = sorted({num % count for num in self.nondiff_argnums})
        static_it, diff_it = iter(static), iter(diff)
        return tuple(next(static_it) if i in nums else next(diff_it) for i in range(count))

    def _apply(self, call: _Call, leaves: list) -> Any:
        """The call as one op of the table; the result unpacked into its pytree."""
        return tree_unflatten(call.out_treedef, call.apply(_PRIMITIVES[self.kind], leaves))


# ---------------------------------------------------------------------------- custom_jvp


class custom_jvp(_Function):  # noqa: N801 - JAX's name
    """A function with a custom tangent rule, JAX's ``jax.custom_jvp``.

    ``f.defjvp(rule)`` with ``rule(primals, tangents) -> (primal_out, tangent_out)``; the
    arguments named in ``nondiff_argnums`` come first, before ``primals``. The rule must be
    linear in the tangents: reverse mode transposes it. Written with chainrule's ops, it gives
    derivatives of any order.

    >>> import chainrule as cr
    >>> @cr.custom_jvp
    ... def log1pexp(x):
    ...     return cr.log(1.0 + cr.exp(x))
    >>> @log1pexp.defjvp
    ... def log1pexp_jvp(primals, tangents):
    ...     (x,), (t,) = primals, tangents
    ...     return log1pexp(x), t * (1.0 - 1.0 / (1.0 + cr.exp(x)))
    >>> import numpy as np
    >>> with np.errstate(over="ignore"):  # exp(100.0) overflows float32: the rule copes
    ...     cr.grad(log1pexp)(100.0)
    tensor(1.)
    >>> cr.jvp(log1pexp, (cr.tensor(0.0),), (cr.tensor(2.0),))[1]
    tensor(1.)
    """

    kind = "custom_jvp"

    def __init__(self, fun: Callable, nondiff_argnums: Sequence[int] = ()) -> None:
        super().__init__(fun, nondiff_argnums)
        self.jvp: Callable | None = None

    def defjvp(self, jvp: Callable) -> Callable:
        """Declare the tangent rule (usable as a decorator); returns it."""
        self.jvp = jvp
        return jvp

    def __call__(self, *args: Any) -> Any:
        if self.jvp is None:
            raise AttributeError(
                f"No JVP defined for custom_jvp function {_name(self.fun)} using defjvp."
            )
        static, diff, leaves, treedef = self._split(args)
        if not _active(leaves):
            return self.fun(*args)
        call = _Call(self, static, treedef, leaves)
        detached = [
            leaf._derive(history=False, tangents=None) if isinstance(leaf, Tensor) else leaf
            for leaf in leaves
        ]
        out = self.fun(*self._merge(static, tree_unflatten(treedef, detached)))
        call.set_output(out, _name(self.fun))
        # Tensors the function closes over that are differentiated: the output's dependence on
        # them is the function's own (no rule says otherwise), carried by one more input.
        out_leaves = tree_flatten(out)[0]
        if any(isinstance(v, Tensor) and (v._requires_grad and state.grad_enabled
                                          or _visible_tangents(v)) for v in out_leaves):
            leaves = [*leaves, call.pack(out_leaves, (), _name(self.fun))]
        return self._apply(call, leaves)


def _push_jvp(call: _Call, xs: Any, tangents: list) -> Any:
    """The user's tangent rule on unbatched tangents (None: zero), its tangents packed."""
    function = call.function
    what = f"the custom_jvp rule {_name(function.jvp)} of {_name(function.fun)}"
    filled = [
        _zeros(shape, dtype) if t is None else t
        for t, (shape, dtype) in zip(tangents, call.leaves, strict=True)
    ]
    primals = tree_unflatten(call.treedef, list(xs))
    with naming(what):
        result = function.jvp(*call.static, primals, tree_unflatten(call.treedef, filled))
    if not isinstance(result, (tuple, list)) or len(result) != 2:
        raise TypeError(f"{what} must return a pair (primal_out, tangent_out)")
    values, _ = tree_flatten(result[1], is_leaf=lambda v: v is None)
    return call.pack(values, (), what)


def jvp_tangent(t: Any, xs: Any, index: int, call: _Call) -> Any:
    """custom_jvp_call's tangent rule: the user's rule once per level, with every input's
    tangent (at the first input that has one; the others add nothing). Batched tangents go
    through it one row at a time."""
    if index == len(call.leaves):  # the closed-over tensors' part (see custom_jvp.__call__)
        return t
    return push_rows(t, xs, index, call, _push_jvp)


def _transpose(call: _Call, g: Any, xs: tuple) -> list:
    """Every input's cotangent: the tangent rule recorded on fresh tangents that require grad,
    and ``g`` pulled back through it (the transpose of a linear map)."""
    # tensors in: tensors out (they carry tangents, or record); record only when the engine does
    differentiable = isinstance(g, Tensor) or any(isinstance(x, Tensor) for x in xs)
    create_graph = state.grad_enabled
    fresh = [
        Tensor(np.zeros(shape, dtype), requires_grad=True)
        if is_differentiable_dtype(dtype) else None
        for shape, dtype in call.leaves
    ]
    with enable_grad():
        packed = _push_jvp(call, xs, fresh)
    wanted = [t for t in fresh if t is not None]
    results: list = [None] * len(xs)
    if not wanted or not isinstance(packed, Tensor) or not packed._requires_grad:
        return results
    # (``gradients`` speaks the user's convention for complex cotangents: the conjugate)
    grads = iter(gradients(
        [packed], wanted, [conj_if_complex(g)], create_graph=create_graph, allow_unused=True,
        batch_ndim=np.ndim(g) - call.packed_ndim,
    ))
    for index, t in enumerate(fresh):
        if t is not None:
            grad = next(grads)
            grad = None if grad is None else conj_if_complex(grad)
            results[index] = grad if differentiable or grad is None else grad._array
    return results


def jvp_cotangent(g: Any, xs: Any, index: int, call: _Call) -> Any:
    """custom_jvp_call's reverse rule: the transposed tangent rule."""
    if index == len(call.leaves):  # the closed-over tensors' part (see custom_jvp.__call__)
        return g
    return call.cotangents_once(g, xs[: len(call.leaves)], index, _transpose)


# ---------------------------------------------------------------------------- custom_vjp


class custom_vjp(_Function):  # noqa: N801 - JAX's name
    """A function with a custom reverse rule, JAX's ``jax.custom_vjp``.

    ``f.defvjp(fwd, bwd)``: ``fwd(*args) -> (out, residuals)`` takes ``f``'s arguments;
    ``bwd(residuals, cotangent_out)`` returns one cotangent per argument (a tuple; ``None`` for
    none), the ``nondiff_argnums`` arguments coming first. ``fwd`` runs on the arguments
    themselves, so a ``bwd`` written with chainrule's ops differentiates again (grad of grad);
    one written with NumPy gives first derivatives. Forward mode is refused: use custom_jvp.

    >>> import chainrule as cr
    >>> @cr.custom_vjp
    ... def clip_gradient(lo, hi, x):
    ...     return x
    >>> def fwd(lo, hi, x):
    ...     return x, (lo, hi)
    >>> def bwd(res, g):
    ...     lo, hi = res
    ...     return None, None, cr.clip(g, lo, hi)
    >>> clip_gradient.defvjp(fwd, bwd)
    >>> cr.grad(lambda x: 10.0 * clip_gradient(-1.0, 1.0, x))(2.0)
    tensor(1.)
    """

    kind = "custom_vjp"

    def __init__(self, fun: Callable, nondiff_argnums: Sequence[int] = ()) -> None:
        super().__init__(fun, nondiff_argnums)
        self.fwd: Callable | None = None
        self.bwd: Callable | None = None
        self._in_fwd = 0  # fwd calls the function itself (as JAX's examples do): just run it

    def defvjp(self, fwd: Callable, bwd: Callable) -> None:
        """Declare the forward (with residuals) and backward rules."""
        self.fwd, self.bwd = fwd, bwd

    def __call__(self, *args: Any) -> Any:
        name = _name(self.fun)
        if self.fwd is None:
            raise AttributeError(f"No VJP defined for custom_vjp function {name} using defvjp.")
        static, diff, leaves, treedef = self._split(args)
        if any(_visible_tangents(leaf) for leaf in leaves):
            raise TypeError(
                f"can't apply forward-mode autodiff (jvp) to a custom_vjp function: {name} has "
                f"a reverse rule only. Use cr.custom_jvp to give it a rule that works in both "
                f"modes (or differentiate it in reverse mode: grad, vjp, jacrev)."
            )
        if self._in_fwd or not _active(leaves):
            return self.fun(*args)
        call = _Call(self, static, treedef, leaves)
        self._in_fwd += 1
        try:
            result = self.fwd(*args)
        finally:
            self._in_fwd -= 1
        if not isinstance(result, (tuple, list)) or len(result) != 2:
            raise TypeError(
                f"the custom_vjp fwd rule {_name(self.fwd)} of {name} must return a pair "
                f"(output, residuals)"
            )
        call.set_output(result[0], f"the fwd rule {_name(self.fwd)} of {name}")
        residuals, res_treedef = tree_flatten(result[1])
        if any(isinstance(array_of(leaf), np.ndarray)
               and np.may_share_memory(call.value, array_of(leaf)) for leaf in residuals):
            # an update in place of the output must not change what bwd reads
            call.value = call.value.copy()
        call.residuals = tree_unflatten(res_treedef, [pack_saved(leaf) for leaf in residuals])
        out_leaves = tree_flatten(result[0])[0]
        # (the arguments carry no tangents: any on the output come from a closed-over tensor)
        closes_over = next(closed_over(out_leaves, leaves), None) is not None
        if closes_over or any(_visible_tangents(v) for v in out_leaves):
            # Its output depends on differentiated tensors it closes over: that dependence is
            # the function's own, carried by one more input (the function run on the
            # arguments without their history).
            detached = [
                leaf._derive(history=False, tangents=None) if isinstance(leaf, Tensor) else leaf
                for leaf in leaves
            ]
            out = self.fun(*self._merge(static, tree_unflatten(treedef, detached)))
            leaves = [*leaves, call.pack(tree_flatten(out)[0], (), name)]
        return self._apply(call, leaves)


def vjp_tangent(t: Any, xs: Any, index: int, call: _Call) -> Any:
    if index == len(call.leaves):  # the closed-over tensors' part (see custom_vjp.__call__)
        return t
    raise TypeError(
        f"can't apply forward-mode autodiff (jvp) to a custom_vjp function "
        f"{_name(call.function.fun)}; use cr.custom_jvp"
    )


def _bwd_once(call: _Call, g: Any, differentiable: bool) -> list:
    """The user's bwd on one unbatched cotangent: checked cotangents, one per input leaf."""
    function = call.function
    what = f"the custom_vjp bwd rule {_name(function.bwd)} of {_name(function.fun)}"
    leaves, treedef = tree_flatten(call.residuals)
    leaves = [unpacked(leaf) for leaf in leaves]
    residuals = tree_unflatten(treedef, leaves if differentiable else list(map(array_of, leaves)))
    cotangent = tree_unflatten(call.out_treedef, call.unpack(g, ()))
    with naming(what):
        result = function.bwd(*call.static, residuals, cotangent)
    count = len(call.treedef.children)
    if not isinstance(result, (tuple, list)) or len(result) != count:
        found = len(result) if isinstance(result, (tuple, list)) else type(result).__name__
        raise TypeError(
            f"{what} must return a tuple of {count} cotangent(s), one per differentiated "
            f"argument of {_name(function.fun)} (None for none), got {found}"
        )
    values: list = []
    for k, (part, child) in enumerate(zip(result, call.treedef.children, strict=True)):
        found = [None] * child.num_leaves if part is None else tree_flatten(
            part, is_leaf=lambda v: v is None
        )[0]
        if len(found) != child.num_leaves:
            raise TypeError(
                f"{what} returned {len(found)} leaves for argument {k}, which has "
                f"{child.num_leaves}: a cotangent has its argument's structure"
            )
        values.extend(found)
    return [
        None if call.weak[k] else checked(value, shape, dtype, differentiable, what, k)
        for k, (value, (shape, dtype)) in enumerate(zip(values, call.leaves, strict=True))
    ]


def _pull_bwd(call: _Call, g: Any, xs: tuple) -> list:
    """Every input's cotangent from bwd."""
    return pull_rows(call, g, _bwd_once)


def vjp_cotangent(g: Any, xs: Any, index: int, call: _Call) -> Any:
    """custom_vjp_call's reverse rule: the user's bwd, once per cotangent."""
    if index == len(call.leaves):  # the closed-over tensors' part (see custom_vjp.__call__)
        return g
    return call.cotangents_once(g, xs[: len(call.leaves)], index, _pull_bwd)


_PRIMITIVES = {
    "custom_jvp": carrier("custom_jvp_call", jvp_cotangent, jvp_tangent),
    "custom_vjp": carrier("custom_vjp_call", vjp_cotangent, vjp_tangent),
}
