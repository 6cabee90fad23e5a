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
*by name*: an input name (``x``), ``ans`` (the output), a static parameter (``axis``),
``<input>_shape``, or ``donated`` (the ids of the arrays a reverse rule may overwrite, see
engine.run). Naming is how the engine knows what to save: ``multiply`` keeps ``y`` only if
``x`` needs a gradient. ``None`` marks an input without a derivative; ``"linear"`` as a jvp
reuses the primitive itself with the tangent in that input's place (right for linear and
bilinear ops: ``sum``, ``reshape``, ``multiply``, ``matmul``).

Rules are written with chainrule's own ops, which accept raw arrays (fast first-order path) as
well as tensors (recorded, for higher orders). They must also accept *batched* cotangents and
tangents: extra leading axes in front of the value's own shape, which is how ``jacrev`` and
``jacfwd`` push a whole identity through at once. So rules index axes from the end (reductions
normalize ``axis`` to negative integers) and build shapes with :func:`batch_shape`.

Speed. Every recorded op runs ``apply``, so what can be decided once is: rules are compiled into
direct calls (:class:`Rule`), and a primitive of fixed arity gets an ``apply`` compiled for it
(``_compile_apply``): straight-line code with the recording for each set of inputs that need
gradients written out, so that an op costs about one Python call beyond its NumPy work.
"""

from __future__ import annotations

import inspect
import types
from collections.abc import Callable
from typing import Any

import numpy as np

from ..modes import state
from ..node import Node, creation_order
from ..tensor import Tensor
from ..views import make_view

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
        self.call = _compile(
            "call(flow, inputs, ans, params, shapes, index, ans_shape, donated=())",
            [f"return fn({fetched})"], fn=fn,
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

    __slots__ = ("prim", "index", "call")

    def __init__(self, prim: Primitive, index: int) -> None:
        self.prim = prim
        self.index = index
        self.call = self.__call__

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
        # Elementwise: inputs broadcast against each other (forward.py pads nested tangents).
        self.broadcasting = broadcasting
        self.vjps: tuple = ()
        self.jvps: tuple = ()
        # For a primitive whose output may share memory with its input (a view): the base
        # with new values written in the view's place, ``unview(base, value, **params)``.
        self.unview: Callable | None = None
        self._plans: dict = {}  # needs bitmask (and input count if variadic) -> plan
        self.reads_shapes = False  # whether a reverse rule asks for the inputs' shapes
        self._rule_mask = 0  # bit i: input i has a reverse rule
        self._recorders: dict[int, Callable] = {}  # needs bitmask -> compiled _record
        self.prepare = self._preparer()
        self._general = Primitive.apply.__get__(self)  # the general apply, bound
        self.__doc__ = impl.__doc__
        if self.name in REGISTRY:
            raise ValueError(f"primitive {self.name!r} is declared twice")
        REGISTRY[self.name] = self
        if not differentiable and not self.variadic and 1 <= len(self.inputs) <= 3:
            self._compile_apply()  # (differentiable ones once their rules are declared)

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
        self.vjps = tuple(None if r is None else Rule(r, self) for r in vjps)
        self._rule_mask = sum(1 << i for i, rule in enumerate(self.vjps) if rule is not None)
        self.reads_shapes = any(
            kind in (Rule.SHAPE, Rule.SHAPES) for rule in self.vjps if rule for kind, _ in rule.spec
        )
        self.jvps = tuple(
            None if r is None else _Linear(self, i) if r == "linear" else Rule(r, self)
            for i, r in enumerate(jvps)
        )
        if not self.variadic and self.differentiable and 1 <= len(self.inputs) <= 3:
            self._compile_apply()
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

        The general form: for variadic primitives, and for arguments that carry forward-mode
        tangents. Primitives of fixed arity replace it (``self.apply``) by straight-line code
        compiled for their arity (``_compile_apply``), which comes back here for those.
        """
        if self.prepare is not None:
            params = self.prepare(args, params)
        raws = []
        cls = None
        mask = 0  # bit i: input i is a tensor that requires grad
        bit = 1
        levels = None
        for arg in args:
            if isinstance(arg, Tensor):
                raws.append(arg._array)
                if cls is None:
                    cls = arg._op_class
                if arg._rg:
                    mask |= bit
                if arg._tangents:
                    levels = _visible_levels(arg, levels)
            else:
                raws.append(arg if type(arg) in _PLAIN else _constant(arg))
            bit <<= 1
        out = self.impl(*raws, **params) if params else self.impl(*raws)
        if not self.differentiable or out.dtype.kind not in "fc":
            return Tensor._wrap(out, None, cls)
        # A view (reshape, slicing, identity...) shares its base's version counter, so an
        # in-place write through either one is seen by every node that saved the other.
        box = viewed = None
        if type(out) is np.ndarray:
            view = out.base is not None
            for index, arg in enumerate(args):
                if isinstance(arg, Tensor) and (
                    arg._array is out or view and np.may_share_memory(out, arg._array)
                ):
                    box, viewed = arg._version, index
                    break
        if box is None:
            box = [0]
        node = None
        if mask and (not cls._record_only or state.recording) and state.grad_enabled:
            if self.variadic:
                node = self._record(args, raws, params, out, box, levels is not None)
            else:
                mask &= self._rule_mask  # inputs without a rule get no gradient
                if mask:
                    recorder = self._recorders.get(mask) or self._recorder(mask)
                    node = recorder(self, args, raws, params, out, box, levels is not None)
        result = Tensor._wrap(out, node, cls)
        result._version = box
        if viewed is not None:
            make_view(result, self, params, args, viewed)
        if levels is not None:
            from ..forward import push

            push(self, args, params, result, sorted(levels))
        return result

    def _plan(self, mask: int, count: int) -> tuple:
        """What to save when the inputs in bitmask ``mask`` need gradients: the positions of
        the inputs the rules read, whether they read the output, and the saved tuple to use
        when nothing is read (cached per mask)."""
        inputs: set = set()
        ans = False
        for index, rule in enumerate(self.rules(self.vjps, count)):
            if mask >> index & 1:
                rule_inputs, rule_ans = rule.reads(count)
                inputs |= rule_inputs
                ans = ans or rule_ans
        plan = (tuple(sorted(inputs)), ans, (None,) * count)
        # (a variadic primitive has a mask per subset of its inputs: remember only so many)
        if len(self._plans) < _PLANS_KEPT:
            self._plans[mask if not self.variadic else (mask, count)] = plan
        return plan

    def _record_source(self, mask: int, tensor_mode: bool | None) -> list[str]:
        """Straight-line code that records one application whose inputs in bitmask ``mask``
        need gradients: it reads the locals ``a0, a1...`` (arguments), ``r0, r1...`` (their
        raw values), ``out``, ``box`` and ``params`` and sets ``node``. ``tensor_mode`` None
        reads it from a local of that name. For ``multiply`` with only ``x`` needing a
        gradient, on raw values::

            parents = (a0._node or a0, None)
            versions = ()
            if isinstance(a1, Tensor):
                s1 = r1
                versions += (a1._version, a1._version[0])
            else:
                s1 = r1
            saved = (None, s1)
            ans = None
            node = _new(Node)
            node.prim = prim
            ...
        """
        count = len(self.inputs)
        keep, keep_ans, _ = self._plan(mask, count)
        parents = [f"a{i}._node or a{i}" if mask >> i & 1 else "None" for i in range(count)]
        lines = [f"parents = ({', '.join(parents)},)", "versions = ()"]
        for i in keep:
            value = {None: f"a{i} if tensor_mode else r{i}", True: f"a{i}", False: f"r{i}"}
            save = [
                f"s{i} = {value[tensor_mode]}", f"versions += (a{i}._version, a{i}._version[0])"
            ]
            if mask >> i & 1:  # a tensor, known
                lines += save
            else:  # maybe a tensor, maybe a constant
                lines.append(f"if isinstance(a{i}, Tensor):")
                lines += ["    " + line for line in save]
                lines += ["else:", f"    s{i} = r{i}"]
        saved = [f"s{i}" if i in keep else "None" for i in range(count)]
        lines.append(f"saved = ({', '.join(saved)},)")
        if keep_ans:
            # In tensor mode the output's tangents are filled in by forward.push afterwards.
            lines.append("versions += (box, box[0])")
            ans = {None: "Tensor._wrap(out) if tensor_mode else out", True: "Tensor._wrap(out)"}
            lines.append(f"ans = {ans.get(tensor_mode, 'out')}")
        else:
            lines.append("ans = None")
        raws = ", ".join(f"r{i}" for i in range(count))
        # The node is made field by field rather than by calling Node(...): one Python call
        # less per recorded op. Every slot is set, as Node.__init__ does.
        fields = {
            "prim": "prim", "params": "params", "parents": "parents", "saved": "saved",
            "ans": "ans", "versions": "versions", "ans_shape": "out.shape",
            "ans_dtype": "out.dtype",
            "shapes": f"_shapes(({raws},))" if self.reads_shapes else "None",
            "seq": "next(_order)", "hooks": "None",
            "tensor_mode": "tensor_mode" if tensor_mode is None else str(tensor_mode),
        }
        assert set(fields) | {"__weakref__"} == set(Node.__slots__)
        lines.append("node = _new(Node)")
        lines += [f"node.{name} = {value}" for name, value in fields.items()]
        return lines

    def _recorder(self, mask: int) -> Callable:
        """``_record`` for a primitive of fixed arity whose inputs in bitmask ``mask`` need
        gradients, compiled once (as rules are, see :class:`Rule`) from ``_record_source``."""
        count = len(self.inputs)
        lines = [f"a{i} = args[{i}]" for i in range(count)]
        lines += [f"r{i} = raws[{i}]" for i in range(count)]
        lines += self._record_source(mask, None)
        lines.append("return node")
        recorder = self._recorders[mask] = _compile(
            "record(prim, args, raws, params, out, box, tensor_mode)", lines
        )
        return recorder

    def _compile_apply(self) -> None:
        """Replace ``apply`` by straight-line code for this primitive's arity: the arguments
        unpacked, the forward called directly, and for each set of inputs that may need
        gradients the recording inline (``_record_source``). Forward-mode tangents go to the
        general ``apply``. For ``sin``::

            def apply(args, params):
                if len(args) != 1:
                    return general(args, params)
                a0, = args
                cls = None
                mask = 0
                if isinstance(a0, Tensor):
                    if a0._tangents:
                        return general(args, params)
                    r0 = a0._array
                    ...
                out = impl(r0)
                ...
                if mask and (not cls._record_only or state.recording) and state.grad_enabled:
                    if mask == 1:
                        parents = (a0._node or a0,)
                        ...
                result = _new(cls)
                ...
        """
        count = len(self.inputs)
        names = ", ".join(f"a{i}" for i in range(count))
        raws = ", ".join(f"r{i}" for i in range(count))
        if self.statics:
            lines = [f"if len(args) != {count}:", "    return general(args, params)"]
        else:  # keywords it does not take are the general path's to refuse
            lines = [f"if len(args) != {count} or params:", "    return general(args, params)"]
        if self.prepare is not None:
            lines.append("params = prepare(args, params)")
        differentiable = self.differentiable
        lines += [f"{names}, = args", "cls = None"] + (["mask = 0"] if differentiable else [])
        for i in range(count):
            lines.append(f"if isinstance(a{i}, Tensor):")
            if differentiable:
                lines += [f"    if a{i}._tangents:", "        return general(args, params)"]
            lines.append(f"    r{i} = a{i}._array")
            lines += ["    cls = a0._op_class"] if i == 0 else [
                "    if cls is None:", f"        cls = a{i}._op_class"
            ]
            if differentiable:
                lines += [f"    if a{i}._rg:", f"        mask |= {1 << i}"]
            lines += [
                "else:",  # (numbers and arrays as they are: the common constants, checked first)
                f"    r{i} = a{i} if type(a{i}) in plain else constant(a{i})",
            ]
        lines.append(f"out = impl({raws}, **params)" if self.statics else f"out = impl({raws})")
        if not differentiable:  # comparisons, floor...: a constant, whatever the inputs
            lines.append("return Tensor._wrap(out, None, cls)")
            self.apply = _compile(
                "apply(args, params)", lines, general=self._general, prepare=self.prepare,
                impl=self.impl,
            )
            return
        lines += [
            'if out.dtype.kind not in "fc":',
            "    return Tensor._wrap(out, None, cls)",
            "box = viewed = None",
            "if type(out) is ndarray:",  # a view shares its base's version counter
            "    view = out.base is not None",
        ]
        for i in range(count):
            lines += [
                f"    {'if' if i == 0 else 'elif'} isinstance(a{i}, Tensor) and "
                f"(r{i} is out or view and may_share_memory(out, r{i})):",
                f"        box, viewed = a{i}._version, {i}",
            ]
        lines += [
            "if box is None:",
            "    box = [0]",
            "node = None",
            f"mask &= {self._rule_mask}",
            "if mask and (not cls._record_only or state.recording) and state.grad_enabled:",
        ]
        masks = [m for m in range(1, 1 << count) if m & self._rule_mask == m]
        if not masks:  # no input has a rule: nothing is ever recorded
            lines.append("    pass")
        for number, mask in enumerate(masks):
            body = self._record_source(mask, False)
            if len(masks) == 1:  # (one input, one possibility)
                lines += ["    " + line for line in body]
                break
            if number == len(masks) - 1:
                lines.append("    else:")
            else:
                lines.append(f"    {'if' if number == 0 else 'elif'} mask == {mask}:")
            lines += ["        " + line for line in body]
        fields = {
            "_array": "out", "_rg": "node is not None", "_grad": "None", "_node": "node",
            "_version": "box", "_tangents": "None", "_grad_req": "None", "_hooks": "None",
            "_view": "None",
        }
        assert set(fields) | {"__weakref__"} == set(Tensor.__slots__)
        lines.append("result = _new(cls)")
        lines += [f"result.{name} = {value}" for name, value in fields.items()]
        lines += ["if viewed is not None:", "    make_view(result, prim, params, args, viewed)"]
        lines.append("return result")
        self.apply = _compile(
            "apply(args, params)", lines,
            prim=self, general=self._general, prepare=self.prepare, impl=self.impl,
        )

    def _record(self, args, raws, params, out, box, tensor_mode) -> Node | None:
        """The node of one application of a variadic primitive (the others use compiled
        recorders, see ``_recorder``): its parents, and what its rules will read."""
        count = len(args)
        rule = self.vjps[0]
        mask = 0
        bit = 1
        parents = []
        for arg in args:
            if isinstance(arg, Tensor) and arg._rg and rule is not None:
                mask |= bit
                parents.append(arg._node or arg)
            else:
                parents.append(None)
            bit <<= 1
        if not mask:
            return None
        keep, keep_ans, saved = self._plans.get((mask, count)) or self._plan(mask, count)
        versions: tuple = ()
        if keep:
            saved = list(saved)
            for index in keep:
                arg = args[index]
                if isinstance(arg, Tensor):
                    saved[index] = arg if tensor_mode else raws[index]
                    versions += (arg._version, arg._version[0])
                else:
                    saved[index] = raws[index]
            saved = tuple(saved)
        if keep_ans:
            versions += (box, box[0])
            ans = Tensor._wrap(out) if tensor_mode else out
        else:
            ans = None
        shapes = _shapes(raws) if self.reads_shapes else None
        node = Node(
            self, params, tuple(parents), saved, ans, versions, out.shape, out.dtype, shapes
        )
        node.tensor_mode = tensor_mode
        return node

    def rules(self, rules: tuple, count: int) -> tuple:
        """Per-input rules (a variadic primitive uses its one rule for every input)."""
        return rules * count if self.variadic else rules


def _compile(signature: str, lines: list[str], **names: Any) -> Callable:
    """A function compiled from generated source lines (``Rule``, recorders, ``apply``)."""
    namespace = {
        "Tensor": Tensor, "Node": Node, "_shapes": _shapes, "_new": object.__new__,
        "_order": creation_order, "state": state, "ndarray": np.ndarray,
        "may_share_memory": np.may_share_memory, "make_view": make_view,
        "constant": _constant, "plain": _PLAIN, **names,
    }
    source = f"def {signature}:\n" + "\n".join("    " + line for line in lines)
    exec(source, namespace)  # noqa: S102 - built from fixed templates, no user input
    return namespace[signature.split("(")[0]]


# Constants that need no look (see _constant): Python numbers, NumPy arrays and scalars.
_PLAIN = frozenset({
    float, int, bool, complex, np.ndarray, np.float64, np.float32, np.float16, np.int64,
    np.int32, np.complex128, np.complex64, np.bool_,
})


def _constant(value: Any) -> Any:
    """A constant argument as the forward reads it: an array-like that is not an array of its
    own library (a pandas Series or DataFrame, which NumPy's operators would hand the result
    to) becomes a NumPy array; arrays, NumPy scalars and libraries with the array API
    (``__array_namespace__``) pass as they are."""
    if (
        isinstance(value, (np.ndarray, np.generic)) or not hasattr(value, "__array__")
        or hasattr(value, "__array_namespace__")
    ):
        return value
    return np.asarray(value)


def _shapes(raws: Any) -> tuple:
    """The shapes of a node's inputs (constants included), for rules that read them."""
    return tuple([raw.shape if type(raw) is np.ndarray else np.shape(raw) for raw in raws])


def _visible_levels(arg: Tensor, levels: set | None) -> set | None:
    """Add the forward-mode levels of ``arg`` that the current rule may see (forward.py)."""
    ceiling = state.ceiling
    for level in arg._tangents:
        if level < ceiling:
            levels = {level} if levels is None else levels | {level}
    return levels


def primitive(impl: Callable | None = None, **options: Any) -> Any:
    """Decorator form of :class:`Primitive`."""
    if impl is None:
        return lambda fn: Primitive(fn, **options)
    return Primitive(impl, **options)


def elementwise(impl: Callable, name: str | None = None) -> Primitive:
    """A primitive that applies elementwise, broadcasting its inputs against each other."""
    return Primitive(impl, name=name, broadcasting=True)


def nondifferentiable(impl: Callable) -> Primitive:
    """A primitive whose output never carries a gradient (comparisons, argmax, floor...)."""
    return Primitive(impl, differentiable=False)


_AXES: dict[tuple, tuple] = {}  # (ndim, axis) -> normalized axes, for None and Python ints


def reduce_axes(x: Any, axis: Any = None, **params: Any) -> dict:
    """Normalize ``axis`` to a tuple of negative integers (batch-safe, see module docstring)."""
    ndim = x._array.ndim if isinstance(x, Tensor) else np.ndim(x)
    try:
        params["axis"] = _AXES[ndim, axis]
    except (KeyError, TypeError):  # not seen yet, or unhashable (a list, an array)
        params["axis"] = axes = _normalized_axes(ndim, axis)
        plain = axis is None or type(axis) is int or (
            type(axis) is tuple and all(type(a) is int for a in axis)
        )
        if plain and len(_AXES) < 1024:
            _AXES[ndim, axis] = axes
    return params


def _normalized_axes(ndim: int, axis: Any) -> tuple:
    if axis is None:
        return tuple(range(-ndim, 0))
    axes = tuple(axis) if isinstance(axis, (tuple, list)) else (axis,)
    normalized = []
    for a in axes:
        a = int(a)
        if not -ndim <= a < max(ndim, 1):
            raise np.exceptions.AxisError(
                f"axis {a} is out of bounds for a tensor of dimension {ndim}"
            )
        normalized.append(a - ndim if a >= 0 else a)
    return tuple(sorted(set(normalized)))
