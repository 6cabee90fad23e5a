"""Applying a primitive and recording it: the steps, written once.

``prim.apply(args, params)``, for arguments of which at least one is a tensor, does in order:

1. *unpack*: each argument's raw value (constants converted, see ``_constant``), the class of
   the result (the first tensor's), which inputs need a gradient (``mask``: bit i for input i)
   and the forward-mode levels the arguments carry that the current rule may see;
2. *forward*: ``out = impl(*raws, **params)``;
3. *constant result*: a non-differentiable primitive, or an output that is not float or
   complex, gives a tensor without gradient;
4. *version counter*: a view (reshape, slicing, identity...) shares its base's counter, so an
   in-place write through either one is seen by every node that saved the other; any other
   output gets a counter of its own;
5. *record*: when an input with a reverse rule needs a gradient and recording is on, the node:
   its parents, what its rules read (``Primitive._plan``) and the versions of those values.
   With tangents present the saved values are the tensors themselves (``linked``), so that
   rules run on them see their tangents. Then the *observers* see the node, if any are
   installed (anomaly detection's creation trace, saved-value hooks): recording itself only
   checks that their list is empty;
6. *result*: the tensor, made a view of the argument whose memory it shares (views.py);
7. *tangents*: the result's forward-mode tangents (forward.py).

They are written twice, in this order and with the same names. ``_APPLY`` is the template from
which each primitive of fixed arity gets its own ``apply``: straight-line code with the
arguments in locals and one branch per set of inputs that need gradients, so that an op costs
about one Python call beyond its NumPy work (``prim.source`` shows it). :func:`apply_plain` is
the same steps in plain Python for any number of arguments: it runs for variadic primitives
and unusual calls, and the tests hold the generated code to it.
"""

from __future__ import annotations

import threading
import weakref
from typing import Any

import numpy as np

from .. import backends
from ..backends import library_of
from ..codegen import assignments, compile_function
from ..modes import state
from ..node import Node, creation_order
from ..tensor import Tensor
from ..views import make_view

# The generated ``apply`` of a primitive of fixed arity. ``{name}`` is filled in once per
# primitive; a line ``<name>`` is expanded in place: per input (``_UNPACK``, ``_SHARE``), per
# set of inputs needing gradients (``_RECORD``), or from a field declaration (``Node.FIELDS``,
# ``Tensor._FIELDS``). A non-differentiable primitive's ends at step 3.
_APPLY = '''\
def apply(args, params):
    if {other_call}:
        return apply_plain(prim, args, params)
    <prepare>
    {arguments} = args
    # 1. unpack, last input first (so that cls is left as the first tensor's)
    cls = levels = None
    mask = 0
    <unpack>
    # 2. forward
    <forward>
    # 3. constant result
    <constant>
    # 4. version counter
    counter = viewed = None
    if type(out) is ndarray:
        is_view = out.base is not None
        <share>
    <foreign_view>
    if counter is None:
        counter = [0]
    # 5. record
    node = None
    mask &= {rule_mask}
    if mask and (not cls._record_only or state.recording) and state.grad_enabled:
        linked = levels is not None
        <record>
        <observe>
    # 6. result
    result = new(cls)
    <result>
    if viewed is not None:
        make_view(result, prim, params, args, viewed)
    # 7. tangents
    if levels is not None:
        push_tangents(prim, args, params, result, levels)
    return result
'''

_UNPACK = '''\
if isinstance(a{i}, Tensor):
    r{i} = a{i}._array
    cls = a{i}._op_class
    if a{i}._requires_grad:
        mask |= {bit}
    if a{i}._tangents:
        levels = visible_levels(a{i}, levels)
else:  # numbers and arrays as they are (the common constants, so checked first)
    r{i} = a{i} if type(a{i}) in as_is else constant(a{i})
'''

_SHARE = '''\
{if_} isinstance(a{i}, Tensor) and (r{i} is out or is_view and may_share_memory(out, r{i})):
    counter, viewed = a{i}._version, {i}
'''

# One set of inputs needing gradients (``parents``): the values their rules read are saved.
_RECORD = '''\
parents = {parents}
versions = ()
<save>
saved = {saved}
<ans>
node = new(Node)
<node>
'''

_SAVE_TENSOR = '''\
s{i} = a{i} if linked else r{i}
versions += (a{i}._version, a{i}._version[0])
'''

_SAVE_ARGUMENT = '''\
if isinstance(a{i}, Tensor):
    <tensor>
else:
    s{i} = r{i}
'''

_SAVE_ANS = '''\
versions += (counter, counter[0])
ans = wrap(out) if linked else out
'''


def generate_apply(prim: Any) -> Any:
    """``prim``'s own ``apply``, compiled from ``_APPLY`` for its number of inputs, in the
    variant that the program needs now (see ``_variants``)."""
    variant = _variant(prim)
    apply = compile_function(_apply_source(prim, *variant), {
        **_NAMESPACE, "prim": prim, "impl": prim.impl, "prepare": prim.prepare,
    }, _apply_label(prim, *variant))
    _variants[apply] = {variant: apply.__code__}
    return apply


def _variant(prim: Any) -> tuple[bool, bool]:
    """Which variant of ``prim``'s ``apply`` runs now: (observed, foreign)."""
    return bool(observers) and prim.differentiable, _foreign_seen


def _apply_label(prim: Any, observed: bool, foreign: bool) -> str:
    notes = [note for note, on in (("observed", observed), ("foreign arrays", foreign)) if on]
    return f"{prim.name}.apply" + (f" ({', '.join(notes)})" if notes else "")


def _apply_source(prim: Any, observed: bool, foreign: bool) -> str:
    """The source of ``prim``'s ``apply``; ``observed``: the observers see each node;
    ``foreign``: arrays of other libraries have been seen (backends.py checks each call)."""
    count = len(prim.inputs)
    inputs = range(count)
    raws = ", ".join(f"r{i}" for i in inputs)
    constant = "return wrap(out, None, cls)"
    keywords = ", **params" if prim.statics else ""
    blocks = {
        "prepare": "params = prepare(args, params)" if prim.prepare is not None else "",
        "forward": f"out = foreign_call(impl, {_tuple(raws.split(', '))}, params, prim.name)"
        if foreign else f"out = impl({raws}{keywords})",
        "foreign_view": "elif not isinstance(out, generic):\n"
        f"    counter, viewed = foreign_view(args, {_tuple(raws.split(', '))}, out)"
        if foreign else "",
        "unpack": "".join(_UNPACK.format(i=i, bit=1 << i) for i in reversed(inputs)),
        "constant": f'if out.dtype.kind not in "fc":\n    {constant}' if prim.differentiable
        else constant,
        "share": "".join(
            _SHARE.format(i=i, if_="if" if i == 0 else "elif") for i in inputs
        ),
        "record": _record_branches(prim, raws, foreign),
        "observe": "observe(node, args)" if observed else "",
        "result": _lines(assignments("result", Tensor._FIELDS, {
            "array": "out", "node": "node", "version": "counter",
        })),
    }
    source = _APPLY.format(
        # keywords it does not take are the plain path's to refuse
        other_call=f"len(args) != {count}" + ("" if prim.statics else " or params"),
        arguments=_tuple([f"a{i}" for i in inputs])[1:-1], rule_mask=prim._rule_mask,
    )
    if not prim.differentiable:
        source = source[:source.index("    # 4.")]
    return _expand(source, blocks)


def _record_branches(prim: Any, raws: str, foreign: bool) -> str:
    """Step 5 for each set of inputs that may need gradients (``mask``), one branch each."""
    count = len(prim.inputs)
    masks = [mask for mask in range(1, 1 << count) if mask & prim._rule_mask == mask]
    if not masks:  # no input has a rule: nothing is ever recorded
        return "pass"
    branches = []
    for number, mask in enumerate(masks):
        keep, keep_ans = prim._plan(mask, count)
        # (an input needing a gradient is a tensor; another may be a constant)
        saves = [
            _SAVE_TENSOR.format(i=i) if mask >> i & 1 else _expand(
                _SAVE_ARGUMENT.format(i=i), {"tensor": _SAVE_TENSOR.format(i=i)}
            ) for i in keep
        ]
        body = _expand(_RECORD.format(
            parents=_tuple([
                f"a{i}._node or a{i}" if mask >> i & 1 else "None" for i in range(count)
            ]),
            saved=_tuple([f"s{i}" if i in keep else "None" for i in range(count)]),
        ), {
            "save": "".join(saves),
            "ans": _SAVE_ANS if keep_ans else "ans = None",
            "node": _lines(assignments("node", Node.FIELDS, {
                "prim": "prim", "params": "params", "parents": "parents", "saved": "saved",
                "ans": "ans", "versions": "versions", "ans_shape": "out.shape",
                "ans_dtype": "out.dtype", "saves_tensors": "linked",
                "shapes": f"{'foreign_' if foreign else ''}shapes_of(({raws},))"
                if prim.reads_shapes else "None",
            })),
        })
        if len(masks) == 1:
            return body
        test = "else:" if number == len(masks) - 1 else (
            f"{'if' if number == 0 else 'elif'} mask == {mask}:"
        )
        branches.append(test + "\n" + _indent(body, "    "))
    return "".join(branches)


def _expand(source: str, blocks: dict[str, str]) -> str:
    """``source`` with each line ``<name>`` replaced by ``blocks[name]``, indented as it was."""
    lines = []
    for line in source.splitlines(keepends=True):
        name = line.strip()
        if name.startswith("<") and name.endswith(">"):
            block = blocks[name[1:-1]]
            if block:
                lines.append(_indent(block, line[: len(line) - len(line.lstrip())]))
        else:
            lines.append(line)
    return "".join(lines)


def _tuple(items: list[str]) -> str:
    """The source of a tuple of ``items``."""
    return f"({items[0]},)" if len(items) == 1 else f"({', '.join(items)})"


def _lines(lines: list[str]) -> str:
    return "".join(line + "\n" for line in lines)


def _indent(block: str, prefix: str) -> str:
    return "".join(prefix + line for line in block.splitlines(keepends=True)) + (
        "" if block.endswith("\n") else "\n"
    )


def apply_plain(prim: Any, args: tuple, params: dict) -> Tensor:
    """The steps of the module docstring in plain Python, for any number of arguments."""
    if prim.prepare is not None:
        params = prim.prepare(args, params)
    # 1. unpack
    raws = []
    cls = levels = None
    mask = 0
    for index, arg in enumerate(args):
        if isinstance(arg, Tensor):
            raws.append(arg._array)
            if cls is None:
                cls = arg._op_class
            if arg._requires_grad:
                mask |= 1 << index
            if arg._tangents:
                levels = visible_levels(arg, levels)
        else:
            raws.append(arg if type(arg) in _AS_IS else _constant(arg))
    # 2. forward
    if _foreign_seen:
        out = backends.call(prim.impl, tuple(raws), params, prim.name)
    else:
        out = prim.impl(*raws, **params) if params else prim.impl(*raws)
    # 3. constant result
    if not prim.differentiable or out.dtype.kind not in "fc":
        return Tensor._wrap(out, None, cls)
    # 4. version counter
    counter, viewed = [0], None
    if type(out) is np.ndarray:
        is_view = out.base is not None
        for index, arg in enumerate(args):
            if isinstance(arg, Tensor) and (
                arg._array is out or is_view and np.may_share_memory(out, arg._array)
            ):
                counter, viewed = arg._version, index
                break
    elif _foreign_seen and not isinstance(out, np.generic):
        found, index = foreign_view(args, tuple(raws), out)
        if found is not None:
            counter, viewed = found, index
    # 5. record
    node = None
    rules = prim.rules(prim.vjps, len(args))
    mask &= sum(1 << index for index, rule in enumerate(rules) if rule is not None)
    if mask and (not cls._record_only or state.recording) and state.grad_enabled:
        node = _record(prim, args, raws, params, out, counter, mask, levels is not None)
        if observers:
            observe(node, args)
    # 6. result
    result = Tensor._wrap(out, node, cls)
    result._version = counter
    if viewed is not None:
        make_view(result, prim, params, args, viewed)
    # 7. tangents
    if levels is not None:
        push_tangents(prim, args, params, result, levels)
    return result


def _record(
    prim: Any, args: tuple, raws: list, params: dict, out: np.ndarray, counter: list,
    mask: int, linked: bool,
) -> Node:
    """Step 5 of :func:`apply_plain`: the node of an application whose inputs in ``mask`` need
    gradients."""
    keep, keep_ans = prim._plan(mask, len(args))
    parents = tuple([
        arg._node or arg if mask >> index & 1 else None for index, arg in enumerate(args)
    ])
    saved: list = [None] * len(args)
    versions: tuple = ()
    for index in keep:
        arg = args[index]
        if isinstance(arg, Tensor):
            saved[index] = arg if linked else raws[index]
            versions += (arg._version, arg._version[0])
        else:
            saved[index] = raws[index]
    ans = None
    if keep_ans:
        versions += (counter, counter[0])
        ans = Tensor._wrap(out) if linked else out
    shapes = (foreign_shapes_of if _foreign_seen else shapes_of)(raws) if prim.reads_shapes \
        else None
    return Node(
        prim, params, parents, tuple(saved), ans, versions, out.shape, out.dtype, shapes, linked
    )


# Constants that need no look (see _constant): Python numbers, NumPy arrays and scalars.
_AS_IS = frozenset({
    float, int, bool, complex, np.ndarray, np.float64, np.float32, np.float16, np.int64,
    np.int32, np.complex128, np.complex64, np.bool_,
})


def _constant(value: Any) -> Any:
    """A constant argument as the forward reads it: an array-like that is not an array of its
    own library (a pandas Series or DataFrame, which NumPy's operators would hand the result
    to) becomes a NumPy array; arrays, NumPy scalars and libraries with the array API
    (``__array_namespace__``) pass as they are."""
    if backends.is_foreign(value):
        return backends.seen(value)
    if isinstance(value, (np.ndarray, np.generic)) or not hasattr(value, "__array__"):
        return value
    return np.asarray(value)


def shapes_of(raws: Any) -> tuple:
    """The shapes of a node's inputs (constants included), for rules that read them."""
    return tuple([raw.shape if type(raw) is np.ndarray else np.shape(raw) for raw in raws])


def foreign_shapes_of(raws: Any) -> tuple:
    """:func:`shapes_of` once arrays of other libraries are seen: a lazy library's with their
    chunks (backends.Shape)."""
    return tuple([raw.shape if type(raw) is np.ndarray else backends.shape_of(raw)
                  for raw in raws])


def visible_levels(arg: Tensor, levels: set | None) -> set | None:
    """Add the forward-mode levels of ``arg`` that the current rule may see (forward.py)."""
    ceiling = state.ceiling
    for level in arg._tangents:
        if level < ceiling:
            levels = {level} if levels is None else levels | {level}
    return levels


def push_tangents(prim: Any, args: tuple, params: dict, result: Tensor, levels: set) -> None:
    """Step 7: the result's tangents, one per level, from its arguments'. Forward mode is a
    layer above the op table: it installs its ``push`` here when imported (only forward mode
    gives tensors tangents, so it is loaded whenever this runs)."""
    _forward_push(prim, args, params, result, sorted(levels))


# Functions ``observer(node, args)`` called with each node just recorded, and the arguments it
# was recorded from: what detect_anomaly and saved_tensors_hooks install while they are on.
observers: list = []
# Whether an array of another library than NumPy has been wrapped, or a scope that needs the
# checks runs (backends.py).
_foreign_seen = False
# Each generated ``apply`` -> its code objects by variant, ``(observed, foreign)``: whether it
# calls the observers, and whether it checks each call's libraries (backends.call). The variant
# without either runs until one is needed, so that both cost nothing in a NumPy program that
# does not debug: installing the first observer, or wrapping the first array of another
# library, swaps every ``apply``'s code in place (the function objects stay, wherever they are
# bound); removing the last observer swaps back.
_variants: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()
_variants_lock = threading.Lock()


def observe(node: Node, args: tuple) -> None:
    """Step 5's end, when observers are installed: each sees the node (and may change it)."""
    for observer in observers:
        observer(node, args)


def add_observer(observer: Any) -> None:
    """Have ``observer(node, args)`` see every node recorded from now on, in any thread."""
    with _variants_lock:
        if observer not in observers:
            observers.append(observer)
            if len(observers) == 1:
                _switch_variants()


def remove_observer(observer: Any) -> None:
    with _variants_lock:
        if observer in observers:
            observers.remove(observer)
            if not observers:
                _switch_variants()


def _foreign_arrays(on: bool) -> None:
    global _foreign_seen
    with _variants_lock:
        _foreign_seen = on
        _switch_variants()


def _switch_variants() -> None:
    for apply, codes in list(_variants.items()):
        prim = apply.__globals__["prim"]
        variant = _variant(prim)
        code = codes.get(variant)
        if code is None:
            code = codes[variant] = compile_function(
                _apply_source(prim, *variant), dict(apply.__globals__),
                _apply_label(prim, *variant),
            ).__code__
        apply.__code__ = code


def foreign_view(args: tuple, raws: tuple, out: Any) -> tuple:
    """Step 4 for a result of another library: the version counter and the input it views
    when it shares an input's memory (CuPy has views; Dask's arrays are values). While
    cr.jit traces, the inputs as the trace reads them: a closed-over tensor's raw array too."""
    raws = backends.lift(raws)
    for index, arg in enumerate(args):
        if isinstance(arg, Tensor) and (raws[index] is out or (
            getattr(out, "base", None) is not None and library_of(out) is library_of(raws[index])
            and np.may_share_memory(out, raws[index])
        )):
            return arg._version, index
    return None, None


def install_forward_mode(push: Any) -> None:
    """Called by :mod:`chainrule.forward`: the function that carries tangents through a
    primitive (``push(prim, args, params, result, levels)``)."""
    global _forward_push
    _forward_push = push


def _forward_push(prim: Any, args: tuple, params: dict, result: Tensor, levels: list) -> None:
    raise RuntimeError("chainrule.forward is not loaded, yet a tensor carries tangents")


_NAMESPACE = {
    "Tensor": Tensor, "Node": Node, "new": object.__new__, "wrap": Tensor._wrap,
    "creation_order": creation_order, "state": state, "ndarray": np.ndarray,
    "may_share_memory": np.may_share_memory, "make_view": make_view, "as_is": _AS_IS,
    "constant": _constant, "shapes_of": shapes_of, "visible_levels": visible_levels,
    "push_tangents": push_tangents, "apply_plain": apply_plain, "observe": observe,
    "foreign_call": backends.call, "foreign_view": foreign_view, "generic": np.generic,
    "foreign_shapes_of": foreign_shapes_of,
}
backends.on_switch(_foreign_arrays)
