"""Primitives: the one op table (DESIGN.md decision 1).

A primitive is a NumPy function whose positional parameters are its inputs and whose
keyword-only parameters are static (``axis``, ``keepdims``...). Right under it stand its rules:
one reverse rule (vjp) and one tangent rule (jvp) per input::

    @primitive
    def sin(x):
        return np.sin(x)

    sin.defrules(vjp=lambda g, x: g * cos(x),
                 jvp=lambda t, x: t * cos(x))

A rule's first parameter receives the cotangent (vjp) or tangent (jvp); the others are looked up
*by name*: an input name (``x``), ``ans`` (the output), a static parameter (``axis``), or
``<input>_shape``. Naming is how the engine knows what to save: ``multiply`` keeps ``y`` only if
``x`` needs a gradient. ``None`` marks an input without a derivative; ``"linear"`` as a jvp
reuses the primitive itself with the tangent in that input's place (right for linear and
bilinear ops: ``sum``, ``reshape``, ``multiply``, ``matmul``).

Rules are written with chainrule's own ops, which accept raw arrays (fast first-order path) as
well as tensors (recorded, for higher orders). They must also accept *batched* cotangents and
tangents: extra leading axes in front of the value's own shape, which is how ``jacrev`` and
``jacfwd`` push a whole identity through at once. So rules index axes from the end (reductions
normalize ``axis`` to negative integers) and build shapes with :func:`batch_shape`.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any

import numpy as np

from ..engine import Node
from ..modes import state
from ..tensor import Tensor, is_differentiable_dtype

REGISTRY: dict[str, Primitive] = {}


def batch_shape(flow: Any, ndim: int) -> tuple:
    """The leading batch axes of a cotangent or tangent whose value has ``ndim`` dimensions."""
    shape = np.shape(flow)
    return shape[: len(shape) - ndim]


class Rule:
    """A derivative rule and where each of its parameters comes from."""

    __slots__ = ("fn", "spec")

    # kinds of parameter sources
    INPUT, ANS, STATIC, SHAPE, ANS_SHAPE, INDEX, SHAPES, INPUTS = range(8)

    def __init__(self, fn: Callable, prim: Primitive) -> None:
        self.fn = fn
        names = list(inspect.signature(fn).parameters)[1:]
        spec = []
        for name in names:
            if name == "ans":
                spec.append((Rule.ANS, None))
            elif name in prim.inputs:
                spec.append((Rule.INPUT, prim.inputs.index(name)))
            elif name in prim.statics:
                spec.append((Rule.STATIC, name))
            elif name.endswith("_shape") and name[:-6] in prim.inputs:
                spec.append((Rule.SHAPE, prim.inputs.index(name[:-6])))
            elif name == "ans_shape":
                spec.append((Rule.ANS_SHAPE, None))
            elif prim.variadic and name in ("index", "shapes", prim.variadic):
                kind = {"index": Rule.INDEX, "shapes": Rule.SHAPES}.get(name, Rule.INPUTS)
                spec.append((kind, None))
            else:
                raise TypeError(
                    f"rule of {prim.name} asks for {name!r}, which is not an input "
                    f"{prim.inputs}, 'ans', 'ans_shape', a static parameter {prim.statics} "
                    "or <input>_shape"
                )
        self.spec = tuple(spec)

    def reads(self, count: int) -> tuple[set, bool]:
        """The inputs (by position) and whether the output, that this rule reads."""
        inputs = {key for kind, key in self.spec if kind == Rule.INPUT}
        if any(kind == Rule.INPUTS for kind, _ in self.spec):
            inputs = set(range(count))
        return inputs, any(kind == Rule.ANS for kind, _ in self.spec)

    def __call__(
        self, flow: Any, inputs: tuple, ans: Any, params: dict, shapes: tuple, index: int,
        ans_shape: tuple,
    ) -> Any:
        args = [flow]
        for kind, key in self.spec:
            if kind == 0:
                args.append(inputs[key])
            elif kind == 1:
                args.append(ans)
            elif kind == 2:
                args.append(params[key])
            elif kind == 3:
                args.append(shapes[key])
            elif kind == 4:
                args.append(ans_shape)
            elif kind == 5:
                args.append(index)
            elif kind == 6:
                args.append(shapes)
            else:
                args.append(inputs)
        return self.fn(*args)


class _Linear:
    """jvp of an input the primitive is linear in: the primitive applied to the tangent."""

    __slots__ = ("prim", "index")

    def __init__(self, prim: Primitive, index: int) -> None:
        self.prim = prim
        self.index = index

    def reads(self, count: int) -> tuple[set, bool]:
        return set(range(count)) - {self.index}, False

    def __call__(
        self, flow: Any, inputs: tuple, ans: Any, params: dict, shapes: tuple, index: int,
        ans_shape: tuple,
    ) -> Any:
        args = list(inputs)
        args[index] = flow
        return self.prim(*args, **params)


class Primitive:
    """An operation with a NumPy forward and its derivative rules side by side."""

    def __init__(
        self,
        impl: Callable,
        *,
        name: str | None = None,
        differentiable: bool = True,
        normalize: Callable | None = None,
        broadcasting: bool = False,
    ) -> None:
        self.impl = impl
        self.name = name or impl.__name__
        self.title = "".join(part.capitalize() for part in self.name.split("_"))
        params = inspect.signature(impl).parameters.values()
        kinds = (inspect.Parameter.POSITIONAL_ONLY, inspect.Parameter.POSITIONAL_OR_KEYWORD)
        self.inputs = tuple(p.name for p in params if p.kind in kinds)
        # A variadic primitive (``def concatenate(*xs, axis)``) has one rule for all inputs,
        # which may ask for ``index`` (which input), ``shapes`` and ``xs`` (all of them).
        self.variadic = next(
            (p.name for p in params if p.kind is inspect.Parameter.VAR_POSITIONAL), None
        )
        self.statics = tuple(p.name for p in params if p.kind is inspect.Parameter.KEYWORD_ONLY)
        # Rules look static parameters up by name, so omitted ones get their defaults.
        self.defaults = {
            p.name: p.default for p in params
            if p.kind is inspect.Parameter.KEYWORD_ONLY and p.default is not inspect.Parameter.empty
        }
        self.differentiable = differentiable
        self.normalize = normalize
        # Elementwise: inputs broadcast against each other (forward.py pads nested tangents).
        self.broadcasting = broadcasting
        self.vjps: tuple = ()
        self.jvps: tuple = ()
        self._plans: dict[tuple, tuple] = {}
        self.__doc__ = impl.__doc__
        if self.name in REGISTRY:
            raise ValueError(f"primitive {self.name!r} is declared twice")
        REGISTRY[self.name] = self

    def __repr__(self) -> str:
        return f"<primitive {self.name}>"

    def defrules(self, *, vjp: Any, jvp: Any) -> Primitive:
        """Declare the reverse and tangent rules, one per input (a bare rule for one input)."""
        count = 1 if self.variadic else len(self.inputs)
        vjps = vjp if isinstance(vjp, tuple) else (vjp,)
        jvps = jvp if isinstance(jvp, tuple) else (jvp,)
        if len(vjps) != count or len(jvps) != count:
            raise TypeError(f"{self.name} has {count} inputs; give one vjp and one jvp for each")
        self.vjps = tuple(None if r is None else Rule(r, self) for r in vjps)
        self.jvps = tuple(
            None if r is None else _Linear(self, i) if r == "linear" else Rule(r, self)
            for i, r in enumerate(jvps)
        )
        return self

    # ------------------------------------------------------------------ application
    def __call__(self, *args: Any, **params: Any) -> Any:
        """Apply to raw arrays (raw result) or tensors (tensor result, recorded)."""
        for arg in args:
            if isinstance(arg, Tensor):
                return self.apply(args, params)
        return self.impl(*args, **params)

    def apply(self, args: tuple, params: dict) -> Tensor:
        if self.normalize is not None:
            params = self.normalize(*args, **params)
        if len(params) < len(self.statics) and self.defaults:
            params = {**self.defaults, **params}
        raws = []
        cls = None
        grad_args = False
        levels = None
        ceiling = state.ceiling
        for arg in args:
            if isinstance(arg, Tensor):
                raws.append(arg.data)
                if cls is None:
                    cls = arg._op_class
                if arg._rg:
                    grad_args = True
                if arg._tangents:
                    for level in arg._tangents:
                        if level < ceiling:
                            levels = {level} if levels is None else levels | {level}
            else:
                raws.append(arg)
        out = self.impl(*raws, **params)
        if not self.differentiable or not is_differentiable_dtype(out.dtype):
            return Tensor._wrap(out, None, cls)
        node = None
        box = [0]
        if type(out) is np.ndarray and out.base is not None:
            # A view (reshape, slicing...) shares its base's version counter, so an in-place
            # write through either one is seen by every node that saved the other.
            for arg in args:
                if isinstance(arg, Tensor) and np.may_share_memory(out, arg.data):
                    box = arg._version
                    break
        if grad_args and state.grad_enabled and (state.recording or not cls._record_only):
            node = self._record(args, raws, params, out, box, levels is not None)
        result = Tensor._wrap(out, node, cls)
        result._version = box
        if levels is not None:
            from ..forward import push

            push(self, args, params, result, sorted(levels))
        return result

    def _plan(self, needs: tuple) -> tuple:
        """Which inputs and whether the output must be saved, for this set of needed grads."""
        plan = self._plans.get(needs)
        if plan is None:
            inputs: set = set()
            ans = False
            for needed, rule in zip(needs, self.rules(self.vjps, len(needs)), strict=True):
                if needed:
                    rule_inputs, rule_ans = rule.reads(len(needs))
                    inputs |= rule_inputs
                    ans = ans or rule_ans
            plan = self._plans[needs] = (tuple(i in inputs for i in range(len(needs))), ans)
        return plan

    def _record(self, args, raws, params, out, box, tensor_mode) -> Node | None:
        needs = tuple(
            isinstance(arg, Tensor) and arg._rg and rule is not None
            for arg, rule in zip(args, self.rules(self.vjps, len(args)), strict=True)
        )
        if True not in needs:
            return None
        keep, keep_ans = self._plan(needs)
        saved = []
        versions = []
        for arg, raw, flag in zip(args, raws, keep, strict=True):
            if not flag:
                saved.append(None)
            elif isinstance(arg, Tensor):
                saved.append(arg if tensor_mode else raw)
                versions.append((arg._version, arg._version[0]))
            else:
                saved.append(raw)
        if keep_ans:
            versions.append((box, box[0]))
        parents = tuple(
            (arg._node or arg) if needed else None for arg, needed in zip(args, needs, strict=True)
        )
        shapes = tuple(np.shape(raw) for raw in raws)
        dtypes = tuple(
            arg.data.dtype if needed else None for arg, needed in zip(args, needs, strict=True)
        )
        # In tensor mode the output's tangents are filled in by forward.push afterwards.
        ans = (Tensor._wrap(out) if tensor_mode else out) if keep_ans else None
        return Node(
            self, params, parents, tuple(saved), ans, shapes, dtypes, tuple(versions),
            np.shape(out),
        )

    def rules(self, rules: tuple, count: int) -> tuple:
        """Per-input rules (a variadic primitive uses its one rule for every input)."""
        return rules * count if self.variadic else rules

    # ------------------------------------------------------------------ reverse rule
    def pullback(self, node: Node, cotangent: Any, differentiable: bool) -> list:
        """Apply the vjp rules of ``node``: one cotangent (or None) per input."""
        saved = node.saved
        ans = node.ans
        parents = node.parents
        if differentiable or isinstance(ans, Tensor):
            saved = tuple(
                _linked(value, parent) for value, parent in zip(saved, parents, strict=True)
            )
            if ans is not None:
                linked = Tensor._wrap(ans.data if isinstance(ans, Tensor) else ans, node)
                if isinstance(ans, Tensor):
                    linked._tangents = ans._tangents
                ans = linked
        params = node.params
        shapes = node.shapes
        ans_shape = node.ans_shape
        grads = []
        for index, (parent, rule) in enumerate(
            zip(parents, self.rules(self.vjps, len(parents)), strict=True)
        ):
            if parent is None:
                grads.append(None)
            else:
                grads.append(rule(cotangent, saved, ans, params, shapes, index, ans_shape))
        return grads


def _linked(value: Any, parent: Any) -> Any:
    """A saved raw value as a tensor connected to the graph it came from."""
    if value is None or isinstance(value, Tensor) or parent is None:
        return value
    if type(parent) is Node:
        return Tensor._wrap(value, parent)
    return parent  # a leaf tensor: the value is its data


def primitive(impl: Callable | None = None, **options: Any) -> Any:
    """Decorator form of :class:`Primitive`."""
    if impl is None:
        return lambda fn: Primitive(fn, **options)
    return Primitive(impl, **options)


def elementwise(impl: Callable) -> Primitive:
    """A primitive that applies elementwise, broadcasting its inputs against each other."""
    return Primitive(impl, broadcasting=True)


def nondifferentiable(impl: Callable) -> Primitive:
    """A primitive whose output never carries a gradient (comparisons, argmax, floor...)."""
    if isinstance(impl, np.ufunc):  # ufuncs have no Python signature: give them one
        ufunc = impl
        impl = (lambda x: ufunc(x)) if ufunc.nin == 1 else (lambda x, y: ufunc(x, y))
        impl.__name__ = ufunc.__name__
    return Primitive(impl, differentiable=False)


def reduce_axes(x: Any, axis: Any = None, **params: Any) -> dict:
    """Normalize ``axis`` to a tuple of negative integers (batch-safe, see module docstring)."""
    ndim = np.ndim(x.data if isinstance(x, Tensor) else x)
    if axis is None:
        axes = tuple(range(-ndim, 0))
    else:
        axes = tuple(axis) if isinstance(axis, (tuple, list)) else (axis,)
        normalized = []
        for a in axes:
            a = int(a)
            if not -ndim <= a < max(ndim, 1):
                raise np.exceptions.AxisError(
                    f"axis {a} is out of bounds for a tensor of dimension {ndim}"
                )
            normalized.append(a - ndim if a >= 0 else a)
        axes = tuple(sorted(set(normalized)))
    params["axis"] = axes
    return params
