"""One call of a user's derivative rules, applied as one op of the table.

Every spelling of custom rules (``custom_jvp``, ``custom_vjp``, the dialects' ``Function`` and
``custom_gradient``) makes a :class:`Call` and applies a carrier primitive to the call's
inputs, with the call as the op's one static parameter. The carrier's reverse rule asks the call
for all input cotangents at once (the user's rule sees every output cotangent together) and its
tangent rule asks for all output tangents at once; batched cotangents and tangents (``jacrev``,
``jacfwd``) are fed to the user's rules one row at a time, so rules are written for unbatched
values.
"""

from __future__ import annotations

import contextlib
import math
from collections.abc import Callable, Iterator
from typing import Any

import numpy as np

from .. import api, backends
from ..modes import state
from ..ops.primitive import Primitive
from ..tensor import Tensor, array_of, is_differentiable_dtype
from ..tree_util import tree_flatten


def name_of(fn: Callable) -> str:
    return getattr(fn, "__qualname__", None) or getattr(fn, "__name__", repr(fn))


@contextlib.contextmanager
def naming(what: str) -> Iterator[None]:
    """An error raised inside a user's rule (a NumPy conversion of a tensor that is being
    differentiated again, a bug in the rule) says which rule it came from, as a note."""
    try:
        yield
    except Exception as error:
        if hasattr(error, "add_note"):  # (Python 3.11 and later)
            error.add_note(f"(raised in {what})")
        raise


def visible_tangents(leaf: Any) -> bool:
    """Whether ``leaf`` carries a tangent that the rule running now may see."""
    return isinstance(leaf, Tensor) and bool(leaf._tangents) and any(
        level < state.ceiling for level in leaf._tangents
    )


def active(leaves: list) -> bool:
    """Whether anything differentiates this call: an input that requires grad while recording,
    or one carrying tangents the current rule may see."""
    for leaf in leaves:
        if isinstance(leaf, Tensor) and (
            leaf._requires_grad and state.grad_enabled or visible_tangents(leaf)
        ):
            return True
    return False


def closed_over(outputs: list, inputs: list) -> Iterator[Tensor]:
    """The leaf tensors requiring grad that the graph of ``outputs`` reaches other than
    through ``inputs`` (tensors a function closes over), as they are met."""
    own = {id(x) for x in inputs if isinstance(x, Tensor)}
    stop = {x._node for x in inputs if isinstance(x, Tensor) and x._node is not None}
    stack: list = []
    for value in outputs:
        if isinstance(value, Tensor) and value._node is not None:
            stack.append(value._node)
        elif isinstance(value, Tensor) and value._requires_grad and id(value) not in own:
            yield value
    seen: set = set()
    while stack:
        node = stack.pop()
        if node in stop or node in seen:
            continue
        seen.add(node)
        for parent in node.parents:
            if isinstance(parent, Tensor):
                if id(parent) not in own:
                    yield parent
            elif parent is not None:
                stack.append(parent)


def zeros(shape: tuple, dtype: np.dtype) -> Tensor:
    return Tensor._wrap(np.zeros(shape, dtype))


def _shape_dtype(value: Any) -> tuple[tuple, np.dtype]:
    array = value._array if isinstance(value, Tensor) else backends.asarray(value)
    return array.shape, array.dtype


class Call:
    """One call of a custom function: what its rules need (the carrier's static parameter).

    ``function`` is whatever holds the user's rules; the carrier's reverse and tangent rules are
    given when the carrier is made (:func:`carrier`).
    """

    __slots__ = (
        "function", "static", "treedef", "leaves", "out_treedef", "out_shapes", "out_dtypes",
        "value", "residuals", "cache", "last", "weak",
    )

    def __init__(self, function: Any, static: tuple, treedef: Any, leaves: list) -> None:
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
        arrays = [backends.asarray(array_of(leaf)) for leaf in leaves]  # (kept in its library)
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

    def apply(self, prim: Primitive, leaves: list) -> list:
        """The carrier applied to ``leaves``: the output leaves (one recorded op, then the
        recorded ops that unpack it)."""
        value = self.value
        for leaf in leaves:
            if isinstance(leaf, Tensor) and backends.may_share_memory(value, leaf._array):
                value = self.value = value.copy()
        packed = prim.apply(tuple(leaves), {"call": self})
        self.value = None  # (the output's memory is the output's: the node does not keep it)
        return self.unpack(packed, ())

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
                value if isinstance(value, Tensor) else Tensor._wrap(backends.asarray(value, dtype))
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


def carrier(name: str, vjp: Callable, jvp: Callable, title: str | None = None) -> Primitive:
    """A primitive that applies a :class:`Call`: ``vjp(g, xs, index, call)`` and
    ``jvp(t, xs, index, call)`` are its rules; ``title`` names its nodes (``<titleBackward>``)."""

    def impl(*xs: Any, call: Any) -> np.ndarray:
        return call.value

    impl.__name__ = name
    # (not in the op table's catalogue: it carries the user's rules, tested with them)
    prim = Primitive(impl, catalogued=False).defrules(vjp=vjp, jvp=jvp)
    if title:
        prim.title = title
    return prim


def checked(value: Any, shape: tuple, dtype: np.dtype, differentiable: bool, what: str,
            k: int) -> Any:
    """One cotangent from a user's rule, checked against its input leaf ``k``."""
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
    if isinstance(value, Tensor) and value._tangents:  # (forward over reverse: keep them)
        return value
    if differentiable:
        return value if isinstance(value, Tensor) else Tensor._wrap(backends.asarray(value, dtype))
    return backends.asarray(array_of(value), dtype)


def pull_rows(call: Call, g: Any, once: Callable) -> list:
    """Every input's cotangent from ``once(call, g, differentiable)``, which takes one
    unbatched cotangent; batched cotangents go through it one row at a time."""
    differentiable = isinstance(g, Tensor)
    lead = tuple(np.shape(g))[: np.ndim(g) - call.packed_ndim]
    if not lead:
        return once(call, g, differentiable)
    count = math.prod(lead)
    flat = (api.reshape if differentiable else np.reshape)(g, (count,) + np.shape(g)[len(lead):])
    rows = [once(call, flat[row], differentiable) for row in range(count)]
    results: list = []
    for k, (shape, dtype) in enumerate(call.leaves):
        column = [row[k] for row in rows]
        if all(c is None for c in column):
            results.append(None)
            continue
        column = [np.zeros(shape, dtype) if c is None else c for c in column]
        tensors = differentiable or any(isinstance(c, Tensor) for c in column)
        stacked = api.stack(column) if tensors else np.stack(column)
        results.append((api.reshape if tensors else np.reshape)(stacked, lead + shape))
    return results


def push_rows(t: Any, xs: Any, index: int, call: Call, push: Callable) -> Any:
    """The packed output tangent from ``push(call, xs, tangents)``, which takes every input's
    unbatched tangent (None: none) at once: computed at the first input that has one (the
    others add nothing). Batched tangents go through it one row at a time."""
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
        return push(call, xs, tangents)
    count = math.prod(lead)
    flat = [
        None if v is None else api.reshape(v, (count,) + shape)
        for v, (shape, _) in zip(tangents, call.leaves, strict=True)
    ]
    rows = [
        push(call, xs, [None if v is None else v[row] for v in flat]) for row in range(count)
    ]
    out = api.stack(rows)
    return api.reshape(out, lead + tuple(out.shape[1:]))
