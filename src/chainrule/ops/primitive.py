"""Primitives: the one op table.

A primitive is a NumPy function whose positional parameters are its inputs and whose
keyword-only parameters are static (``axis``, ``keepdims``...). Right under it stand its rules:
one reverse rule (vjp) and one tangent rule (jvp) per input::

    @primitive
    def sin(x):
        return np.sin(x)

    sin.defrules(vjp=lambda g, x: g * cos(x),
                 jvp=lambda t, x: t * cos(x))

A rule's first parameter receives the cotangent (vjp) or tangent (jvp); the others are looked up
*by name*: an input name (``x``), ``ans`` (the output), a static parameter (``axis``),
``<input>_shape``, or ``donated`` (the ids of the arrays a reverse rule may overwrite, see
chainrule.donation). Naming is how the engine knows what to save: ``multiply`` keeps ``y`` only if
``x`` needs a gradient. ``None`` marks an input without a derivative; ``"linear"`` as a jvp
reuses the primitive itself with the tangent in that input's place (right for linear and
bilinear ops: ``sum``, ``reshape``, ``multiply``, ``matmul``).

Rules are written with chainrule's own ops, which accept raw arrays (fast first-order path) as
well as tensors (recorded, for higher orders). They must also accept *batched* cotangents and
tangents: extra leading axes in front of the value's own shape, which is how ``jacrev`` and
``jacfwd`` push a whole identity through at once. So rules index axes from the end (reductions
normalize ``axis`` to negative integers) and build shapes with :func:`batch_shape`.

Speed. Every recorded op runs ``apply``, so what can be decided once is: rules are compiled into
direct calls (:class:`Rule`), and a primitive of fixed arity gets an ``apply`` generated for it
(see :mod:`chainrule.ops.recording`, where applying and recording are written down once).
"""

from __future__ import annotations

import inspect
import types
from collections.abc import Callable
from typing import Any

import numpy as np

from ..codegen import compile_function
from ..tensor import Tensor
from .recording import apply_plain, generate_apply

REGISTRY: dict[str, Primitive] = {}
_PLANS_KEPT = 256  # plans remembered per primitive
_BUILTIN_SIGNATURES = {1: lambda x: None, 2: lambda x, y: None}


def batch_shape(flow: Any, ndim: int) -> tuple:
    """The leading batch axes of a cotangent or tangent whose value has ``ndim`` dimensions."""
    shape = flow.shape if isinstance(flow, (np.ndarray, np.generic, Tensor)) else np.shape(flow)
    return shape[: len(shape) - ndim]


class Rule:
    """A derivative rule, compiled once into a direct call that fetches its parameters."""

    __slots__ = ("fn", "spec", "call", "donates")

    # kinds of parameter sources, and the expression that fetches each in ``call``
    INPUT, ANS, STATIC, SHAPE, ANS_SHAPE, INDEX, SHAPES, INPUTS, DONATED = range(9)
    _FETCH = (
        "inputs[{key}]", "ans", "params[{key!r}]", "shapes[{key}]", "ans_shape", "index",
        "shapes", "inputs", "donated",
    )

    def __init__(self, fn: Callable, prim: Primitive, label: str = "rule") -> None:
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
            elif name == "donated":
                spec.append((Rule.DONATED, None))
            elif prim.variadic and name in ("index", "shapes", prim.variadic):
                kind = {"index": Rule.INDEX, "shapes": Rule.SHAPES}.get(name, Rule.INPUTS)
                spec.append((kind, None))
            else:
                raise TypeError(
                    f"rule of {prim.name} asks for {name!r}, which is not an input "
                    f"{prim.inputs}, 'ans', 'ans_shape', 'donated', a static parameter "
                    f"{prim.statics} or <input>_shape"
                )
        self.spec = tuple(spec)
        # A rule that asks for ``donated`` gets the ids of the arrays it may overwrite (the
        # engine holds the only reference to them: see engine.run); every other caller gives ().
        self.donates = any(kind == Rule.DONATED for kind, _ in spec)
        # Every backward step calls a rule, so resolving the names is done here, once: the
        # generated ``call`` is e.g. ``return fn(flow, inputs[1])`` for multiply's first rule.
        fetched = ", ".join(["flow"] + [Rule._FETCH[kind].format(key=key) for kind, key in spec])
        self.call = compile_function(
            "def call(flow, inputs, ans, params, shapes, index, ans_shape, donated=()):\n"
            f"    return fn({fetched})\n", {"fn": fn}, f"{prim.name}.{label}",
        )

    def reads(self, count: int) -> tuple[set, bool]:
        """The inputs (by position) and whether the output, that this rule reads."""
        inputs = {key for kind, key in self.spec if kind == Rule.INPUT}
        if any(kind == Rule.INPUTS for kind, _ in self.spec):
            inputs = set(range(count))
        return inputs, any(kind == Rule.ANS for kind, _ in self.spec)

    def __call__(self, *args: Any) -> Any:
        return self.call(*args)


class _Linear:
    """jvp of an input the primitive is linear in: the primitive applied to the tangent."""

    __slots__ = ("prim", "call")

    def __init__(self, prim: Primitive) -> None:
        self.prim = prim
        self.call = self.__call__

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
        elementwise: bool = False,
        catalogued: bool = True,
    ) -> None:
        self.impl = impl
        self.name = name or impl.__name__
        self.title = "".join(part.capitalize() for part in self.name.split("_"))
        # A NumPy ufunc or an ``operator`` function is its own forward (no Python frame in
        # between): its inputs are named x (and y), and it has no static parameters.
        if isinstance(impl, np.ufunc):
            signature = inspect.signature(_BUILTIN_SIGNATURES[impl.nin])
        elif isinstance(impl, types.BuiltinFunctionType):
            count = len(inspect.signature(impl).parameters)
            signature = inspect.signature(_BUILTIN_SIGNATURES[count])
        else:
            signature = inspect.signature(impl)
        params = signature.parameters.values()
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
        # Broadcasting: a reverse rule may return its cotangent in the shape an input was
        # broadcast to, which the engine sums down (matmul's stack axes, broadcast_to...).
        # Elementwise (so broadcasting): the inputs broadcast against each other, and forward
        # mode pads a tangent of fewer dimensions than its input's (forward.py).
        self.broadcasting = broadcasting or elementwise
        self.elementwise = elementwise
        self.vjps: tuple = ()
        self.jvps: tuple = ()
        # For a primitive whose output may share memory with its input (a view): the base
        # with new values written in the view's place, ``unview(base, value, **params)``.
        self.unview: Callable | None = None
        self._plans: dict = {}  # (bitmask of inputs needing gradients, input count) -> plan
        self.reads_shapes = False  # whether a reverse rule asks for the inputs' shapes
        self._rule_mask = 0  # bit i: input i has a reverse rule
        self.prepare = self._preparer()
        self.__doc__ = impl.__doc__
        if catalogued:  # (a custom rule's carrier is applied and recorded alike, unlisted)
            _catalogue(self)
        if not differentiable and not self.variadic and 1 <= len(self.inputs) <= 3:
            self.apply = generate_apply(self)  # (differentiable ones once their rules are known)

    def __repr__(self) -> str:
        return f"<primitive {self.name}>"

    def _preparer(self) -> Callable | None:
        """What ``apply`` does to the static parameters first: normalize them, fill in the
        defaults the caller left out (rules look them up by name); None when nothing to do."""
        normalize, defaults, count = self.normalize, self.defaults, len(self.statics)
        if normalize is None and not defaults:
            return None

        def prepare(args: tuple, params: dict) -> dict:
            if normalize is not None:
                params = normalize(*args, **params)
            if defaults and len(params) < count:
                params = {**defaults, **params}
            return params

        return prepare

    def defrules(self, *, vjp: Any, jvp: Any) -> Primitive:
        """Declare the reverse and tangent rules, one per input (a bare rule for one input)."""
        count = 1 if self.variadic else len(self.inputs)
        vjps = vjp if isinstance(vjp, tuple) else (vjp,)
        jvps = jvp if isinstance(jvp, tuple) else (jvp,)
        if len(vjps) != count or len(jvps) != count:
            raise TypeError(f"{self.name} has {count} inputs; give one vjp and one jvp for each")
        self.vjps = tuple(
            None if r is None else Rule(r, self, f"vjp[{i}]") for i, r in enumerate(vjps)
        )
        self._rule_mask = sum(1 << i for i, rule in enumerate(self.vjps) if rule is not None)
        self.reads_shapes = any(
            kind in (Rule.SHAPE, Rule.SHAPES) for rule in self.vjps if rule for kind, _ in rule.spec
        )
        self.jvps = tuple(
            None if r is None else _Linear(self) if r == "linear" else Rule(r, self, f"jvp[{i}]")
            for i, r in enumerate(jvps)
        )
        if not self.variadic and self.differentiable and 1 <= len(self.inputs) <= 3:
            self.apply = generate_apply(self)
        return self

    def defview(self, unview: Callable) -> Primitive:
        """Declare how a write into this view primitive's output goes back to its input:
        ``unview(base, value, **params)`` is ``base`` with ``value`` in the view's place
        (see :mod:`chainrule.views`)."""
        self.unview = unview
        return self

    # ------------------------------------------------------------------ application
    def __call__(self, *args: Any, **params: Any) -> Any:
        """Apply to raw arrays (raw result) or tensors (tensor result, recorded)."""
        for arg in args:
            if isinstance(arg, Tensor):
                return self.apply(args, params)
        return self.impl(*args, **params)

    def apply(self, args: tuple, params: dict) -> Tensor:
        """Apply to arguments of which at least one is a tensor: the tensor result, recorded.

        The plain path (ops/recording.py); a primitive of fixed arity replaces it by code
        generated for its arity (``self.apply``, shown by ``self.source``).
        """
        return apply_plain(self, args, params)

    @property
    def source(self) -> str:
        """The source of what ``apply`` runs: this primitive's generated code, or the plain
        path (variadic primitives, and differentiable ones before their rules are declared)."""
        return inspect.getsource(self.__dict__.get("apply", apply_plain))

    def _plan(self, mask: int, count: int) -> tuple[tuple, bool]:
        """What to save when the inputs in bitmask ``mask`` need gradients: the positions of
        the inputs the rules read, and whether they read the output."""
        plan = self._plans.get((mask, count))
        if plan is None:
            inputs: set = set()
            ans = False
            for index, rule in enumerate(self.rules(self.vjps, count)):
                if mask >> index & 1:
                    rule_inputs, rule_ans = rule.reads(count)
                    inputs |= rule_inputs
                    ans = ans or rule_ans
            plan = (tuple(sorted(inputs)), ans)
            # (a variadic primitive has a mask per subset of its inputs: remember only so many)
            if len(self._plans) < _PLANS_KEPT:
                self._plans[mask, count] = plan
        return plan

    def rules(self, rules: tuple, count: int) -> tuple:
        """Per-input rules (a variadic primitive uses its one rule for every input)."""
        return rules * count if self.variadic else rules




def _catalogue(prim: Primitive) -> None:
    """List ``prim`` in the op table's catalogue (REGISTRY), which the op samples cover."""
    if prim.name in REGISTRY:
        raise ValueError(f"primitive {prim.name!r} is declared twice")
    REGISTRY[prim.name] = prim


def primitive(impl: Callable | None = None, **options: Any) -> Any:
    """Declare a primitive: ``@primitive`` on its NumPy forward, or ``@primitive(**options)``
    with the keyword arguments of :class:`Primitive` (``name``, ``differentiable``,
    ``normalize``, ``broadcasting``, ``elementwise``, ``catalogued``). Its rules follow with
    ``defrules(vjp=..., jvp=...)`` (see the module's docstring)."""
    if impl is None:
        return lambda fn: Primitive(fn, **options)
    return Primitive(impl, **options)
