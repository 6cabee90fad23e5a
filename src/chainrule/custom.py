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
import math
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from . import api
from .engine import gradients
from .modes import enable_grad, state
from .ops.primitive import Primitive
from .tensor import Tensor, array_of, is_differentiable_dtype
from .tree_util import tree_flatten, tree_unflatten

__all__ = ["custom_jvp", "custom_vjp"]


def _name(fn: Callable) -> str:
    return getattr(fn, "__qualname__", None) or getattr(fn, "__name__", repr(fn))


def _visible_tangents(leaf: Any) -> bool:
    return isinstance(leaf, Tensor) and bool(leaf._tangents) and any(
        level < state.ceiling for level in leaf._tangents
    )


def _shape_dtype(value: Any) -> tuple[tuple, np.dtype]:
    array = value._array if isinstance(value, Tensor) else np.asarray(value)
    return array.shape, array.dtype


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
            if not isinstance(leaf, (Tensor, np.ndarray, np.generic, float, int, complex)):
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
        value = call.value
        for leaf in leaves:
            if isinstance(leaf, Tensor) and np.may_share_memory(value, leaf._array):
                value = call.value = value.copy()
        prim = _PRIMITIVES[self.kind]
        packed = prim.apply(tuple(leaves), {"call": call})
        return tree_unflatten(call.out_treedef, call.unpack(packed, ()))


class _Call:
    """One call of a custom function: what its rules need (the op's static parameter)."""

    __slots__ = (
        "function", "static", "treedef", "leaves", "out_treedef", "out_shapes", "out_dtypes",
        "value", "residuals", "cache", "last", "weak",
    )

    def __init__(self, function: _Function, static: tuple, treedef: Any, leaves: list) -> None:
        self.function, self.static, self.treedef = function, static, treedef
        self.leaves = [_shape_dtype(leaf) for leaf in leaves]
        # Python numbers are weakly typed (as in JAX): their cotangents may have any float dtype
        self.weak = [isinstance(leaf, (float, int, complex)) for leaf in leaves]
        self.residuals: Any = None
        self.cache: tuple | None = None
        # the last input a gradient flows to (after its cotangent the cache is dropped)
        needed = [
            i for i, leaf in enumerate(leaves) if isinstance(leaf, Tensor) and leaf._requires_grad
        ]
        self.last = max(needed, default=-1)

    def set_output(self, out: Any, what: str) -> None:
        leaves, self.out_treedef = tree_flatten(out)
        if not leaves:
            raise TypeError(f"{what} returned no array")
        arrays = [np.asarray(array_of(leaf)) for leaf in leaves]
        self.out_shapes = [a.shape for a in arrays]
        self.out_dtypes = [a.dtype for a in arrays]
        if len(arrays) == 1:
            self.value = arrays[0]
        else:
            dtype = np.result_type(*arrays)
            self.value = np.concatenate([a.ravel().astype(dtype) for a in arrays])

    @property
    def packed_ndim(self) -> int:
        return len(self.out_shapes[0]) if len(self.out_shapes) == 1 else 1

    def unpack(self, packed: Any, lead: tuple) -> list:
        """The output leaves (with leading batch axes ``lead``) from the packed array."""
        if len(self.out_shapes) == 1:
            return [packed]
        if not isinstance(packed, Tensor):  # (a raw cotangent: NumPy does it)
            return self._unpack_raw(packed, lead)
        parts, start = [], 0
        for shape, dtype in zip(self.out_shapes, self.out_dtypes, strict=True):
            size = math.prod(shape)
            index = (Ellipsis, slice(start, start + size))
            part = api.reshape(packed[index], lead + shape)
            parts.append(part if part.dtype == dtype else api.astype(part, dtype))
            start += size
        return parts

    def _unpack_raw(self, packed: np.ndarray, lead: tuple) -> list:
        parts, start = [], 0
        for shape, dtype in zip(self.out_shapes, self.out_dtypes, strict=True):
            size = math.prod(shape)
            parts.append(packed[..., start:start + size].reshape(lead + shape).astype(dtype))
            start += size
        return parts

    def pack(self, values: list, lead: tuple, what: str) -> Any:
        """Tangent leaves (checked against the outputs) as one packed tensor."""
        if len(values) != len(self.out_shapes):
            raise TypeError(
                f"{what} returned {len(values)} tangent leaves, but the function has "
                f"{len(self.out_shapes)} output leaves"
            )
        checked = []
        for k, (value, shape, dtype) in enumerate(
            zip(values, self.out_shapes, self.out_dtypes, strict=True)
        ):
            if value is None:
                value = np.zeros(lead + shape, dtype)
            found = tuple(np.shape(value))
            if found != lead + shape:
                raise ValueError(
                    f"{what} returned a tangent of shape {found} for output leaf {k}, which has "
                    f"shape {shape}"
                )
            checked.append(
                value if isinstance(value, Tensor) else Tensor._wrap(np.asarray(value, dtype))
            )
        if len(checked) == 1:
            return checked[0]
        dtype = np.result_type(*self.out_dtypes)
        flat = [api.reshape(api.astype(v, dtype), lead + (-1,)) for v in checked]
        return api.concatenate(flat, axis=-1)

    def cotangents_once(self, g: Any, xs: tuple, index: int, pull: Callable) -> Any:
        """The engine asks for one input's cotangent at a time: all are computed at the first
        ask for a cotangent ``g`` and handed out from then on."""
        cache = self.cache
        if cache is None or cache[0] is not g:
            self.cache = cache = (g, pull(self, g, xs))
        if index >= self.last:
            self.cache = None
        return cache[1][index]


_PRIMITIVES: dict[str, Primitive] = {}


def _declare(kind: str, vjp: Callable, jvp: Callable) -> None:
    def impl(*xs: Any, call: Any) -> np.ndarray:
        return call.value

    impl.__name__ = f"{kind}_call"
    # (not in the op table's catalogue: it carries the user's rules, tested with them)
    _PRIMITIVES[kind] = Primitive(impl, catalogued=False).defrules(vjp=vjp, jvp=jvp)


def _active(leaves: list) -> bool:
    """Whether anything differentiates this call: an input that requires grad while recording,
    or one carrying tangents the current rule may see."""
    for leaf in leaves:
        if isinstance(leaf, Tensor) and (
            leaf._requires_grad and state.grad_enabled or _visible_tangents(leaf)
        ):
            return True
    return False


def _zeros(shape: tuple, dtype: np.dtype) -> Tensor:
    return Tensor._wrap(np.zeros(shape, dtype))


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
    level = state.ceiling
    xs = xs[: len(call.leaves)]
    tangents = [
        x._tangents.get(level) if isinstance(x, Tensor) and x._tangents else None for x in xs
    ]
    if index != next(i for i, v in enumerate(tangents) if v is not None):
        return None
    ndim = len(call.leaves[index][0])
    lead = tuple(np.shape(t))[: np.ndim(t) - ndim]
    if not lead:
        return _push_jvp(call, xs, tangents)
    count = math.prod(lead)
    flat = [
        None if v is None else api.reshape(v, (count,) + shape)
        for v, (shape, _) in zip(tangents, call.leaves, strict=True)
    ]
    rows = [
        _push_jvp(call, xs, [None if v is None else v[row] for v in flat]) for row in range(count)
    ]
    out = api.stack(rows)
    return api.reshape(out, lead + tuple(out.shape[1:]))


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
    grads = iter(gradients(
        [packed], wanted, [g], create_graph=create_graph, allow_unused=True,
        batch_ndim=np.ndim(g) - call.packed_ndim,
    ))
    for index, t in enumerate(fresh):
        if t is not None:
            grad = next(grads)
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
        call.residuals = result[1]
        out_leaves = tree_flatten(result[0])[0]
        # (the arguments carry no tangents: any on the output come from a closed-over tensor)
        if any(_visible_tangents(v) for v in out_leaves) or _closes_over(out_leaves, leaves):
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


def _closes_over(outputs: list, inputs: list) -> bool:
    """Whether the graph of ``outputs`` reaches a tensor that requires grad other than through
    ``inputs`` (a tensor the function closes over)."""
    own = {id(x) for x in inputs if isinstance(x, Tensor)}
    stop = {x._node for x in inputs if isinstance(x, Tensor) and x._node is not None}
    stack = [v._node for v in outputs if isinstance(v, Tensor) and v._node is not None]
    if any(isinstance(v, Tensor) and v._node is None and v._requires_grad and id(v) not in own
           for v in outputs):
        return True
    seen: set = set()
    while stack:
        node = stack.pop()
        if node in stop or node in seen:
            continue
        seen.add(node)
        for parent in node.parents:
            if parent is None:
                continue
            if isinstance(parent, Tensor):
                if id(parent) not in own:
                    return True
            else:
                stack.append(parent)
    return False


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
    residuals = call.residuals
    if not differentiable:
        leaves, treedef = tree_flatten(residuals)
        residuals = tree_unflatten(treedef, [array_of(leaf) for leaf in leaves])
    cotangent = tree_unflatten(call.out_treedef, call.unpack(g, ()))
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
        None if call.weak[k] else _checked(value, shape, dtype, differentiable, what, k)
        for k, (value, (shape, dtype)) in enumerate(zip(values, call.leaves, strict=True))
    ]


def _checked(value: Any, shape: tuple, dtype: np.dtype, differentiable: bool, what: str,
             k: int) -> Any:
    """One cotangent from bwd, checked against its input leaf ``k``."""
    if value is None or not is_differentiable_dtype(dtype):
        return None
    if differentiable and state.grad_enabled and isinstance(value, (np.ndarray, np.generic)):
        raise TypeError(
            f"{what} returned a NumPy array for input leaf {k} while differentiating it again "
            f"(create_graph, grad of grad): write it with chainrule's ops to get higher "
            f"derivatives"
        )
    found_shape, found_dtype = tuple(np.shape(value)), getattr(value, "dtype", None)
    if found_shape != shape:
        raise ValueError(
            f"{what} returned a cotangent of shape {found_shape} for input leaf {k}, which has "
            f"shape {shape}: a cotangent has its input's shape and dtype"
        )
    if found_dtype is not None and found_dtype != dtype:
        raise TypeError(
            f"{what} returned a cotangent of dtype {found_dtype} for input leaf {k}, which has "
            f"dtype {dtype}: a cotangent has its input's shape and dtype"
        )
    if differentiable:
        return value if isinstance(value, Tensor) else Tensor._wrap(np.asarray(value, dtype))
    return np.asarray(array_of(value), dtype)


def _pull_bwd(call: _Call, g: Any, xs: tuple) -> list:
    """Every input's cotangent from bwd; batched cotangents one row at a time."""
    differentiable = isinstance(g, Tensor)
    lead = tuple(np.shape(g))[: np.ndim(g) - call.packed_ndim]
    if not lead:
        return _bwd_once(call, g, differentiable)
    count = math.prod(lead)
    flat = (api.reshape if differentiable else np.reshape)(g, (count,) + np.shape(g)[len(lead):])
    rows = [_bwd_once(call, flat[row], differentiable) for row in range(count)]
    results = []
    for k, (shape, dtype) in enumerate(call.leaves):
        column = [row[k] for row in rows]
        if all(c is None for c in column):
            results.append(None)
            continue
        column = [np.zeros(shape, dtype) if c is None else c for c in column]
        stacked = api.stack(column) if differentiable else np.stack(column)
        results.append((api.reshape if differentiable else np.reshape)(stacked, lead + shape))
    return results


def vjp_cotangent(g: Any, xs: Any, index: int, call: _Call) -> Any:
    """custom_vjp_call's reverse rule: the user's bwd, once per cotangent."""
    if index == len(call.leaves):  # the closed-over tensors' part (see custom_vjp.__call__)
        return g
    return call.cotangents_once(g, xs[: len(call.leaves)], index, _pull_bwd)


_declare("custom_jvp", jvp_cotangent, jvp_tangent)
_declare("custom_vjp", vjp_cotangent, vjp_tangent)
