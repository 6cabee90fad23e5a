"""Fusing elementwise chains into numexpr kernels (optional: ``pip install 'chainrule[jit]'``).

A chain such as ``v3 = cos(v1); v4 = v3 * 1.01; v5 = v4 * v2`` makes NumPy walk the arrays once
per call and keep each intermediate in memory. numexpr compiles the whole chain into one kernel
that walks them once, block by block (the blocks stay in cache), on several threads. Why
numexpr: a 0.4 MB wheel (1.8 MB installed), no compiler at run time, compiles an expression in
~0.5 ms, and its ``NumExpr`` objects are called like ufuncs (``out=``). Numba would compile
faster loops but needs LLVM (llvmlite, ~100 MB) and a second or more of JIT compilation per
kernel; Pythran and Cython need a C compiler at run time; JAX/XLA are ~600 MB.

**What is fused.** A ufunc call (arithmetic, ``**``, the functions numexpr has: ``sin``,
``exp``, ``sqrt``...) whose result is a float32 or float64 array, on float32 or float64 values
and Python numbers. A value is folded into the one instruction that reads it when nothing else
needs it as an array: not returned, read once, not written in place, not a view's base, of the
reader's shape (a broadcast input is computed once, not once per element of the result), and
none of the arrays it reads is written between it and the kernel. The kernel writes into the
buffer planned for the chain's last value (:mod:`.buffers`) unless that buffer holds one of
its inputs (numexpr uses its output as scratch space).

**Exactly NumPy's dtypes.** numexpr promotes differently from NumPy in places: a Python float
is a float64 constant there (NumPy 2 casts it to the array's dtype), integers narrower than 32
bits are widened, its ``maximum``/``sign``... compute float32 in float64, integer division and
bools differ. So only float32/float64 values are fused, each instruction's numexpr type is
checked against the dtype NumPy gave it, Python floats next to float32 values become float32
inputs of the kernel (``k1`` in the printed program, its value in the comment), and the
compiled kernel's result type is checked again. The values are NumPy's to float tolerance:
numexpr's transcendental functions (and ``**``, which numexpr computes as a product for the
exponent 2) may differ from NumPy's in the last bit, and a fused kernel issues none of NumPy's
floating-point warnings (``np.errstate``).

**When** (``cr.jit(fuse=...)``): ``False``: never. ``True``: every chain that can be fused,
whatever its size (numexpr required: an ImportError says how to install it). ``None`` (the
default): where numexpr is installed and was measured faster than NumPy's calls: chains whose
arrays are of ``MIN_BYTES`` or more (then they no longer fit in the caches, and NumPy's one
pass per call is bound by memory), of arithmetic, and for float64 of ``sqrt``, ``abs``,
``sin`` and ``cos`` too (for which NumPy 2 calls the C library one element at a time: numexpr
runs them on all cores). Measured on the benchmark machine (2 cores, AVX-512, 32 MiB L3),
``cr.jit(cr.grad(f))`` fused over unfused, by the size of one array: a chain of products and
sums 0.71x (float64) and 0.77x (float32) at 16 MiB, 0.50x at 32 MiB, 1.2-1.4x at 8 MiB and up
to 15x on small arrays; 10 rounds of ``sin(y) * 1.01`` in float64 1.0x at 16 MiB and 0.52x at
32 MiB; in float32 2-4x slower from 2**14 elements on (the ``wide`` benchmark). NumPy 2's SIMD
loops beat numexpr's interpreter on arrays that fit in the caches, and on float32 ``sin``,
``cos``, ``exp``... and float64 ``exp``, ``log``, ``tanh`` at every size (2-20x per call):
those stay NumPy calls. Each kernel is compiled once, when the program is built; a call costs
~1.5 µs over its work (``numexpr.evaluate`` parses or looks up its expression: ~9 µs).
"""

from __future__ import annotations

import functools
import operator
from bisect import bisect_right
from collections.abc import Callable
from typing import Any

import numpy as np

from .buffers import outs, reads
from .values import External, Instr, Var

# Bytes of a fused result under which the default (fuse=None) leaves a chain to NumPy: with
# arrays of 16 MiB a chain's values no longer fit in the benchmark machine's 32 MiB cache, where
# numexpr's blocks (which stay in cache) were measured 1.3-2x faster than NumPy's passes.
MIN_BYTES = 2**24
# numexpr's limits: operands of one kernel (NumPy's iterator takes 64), instructions per kernel
MAX_INPUTS = 32
MAX_OPS = 128
INSTALL = "pip install 'chainrule[jit]'"

# NumPy call -> numexpr template; ``{0}``, ``{1}``: the operands
_OPERATORS = {
    np.add: "{0} + {1}", np.subtract: "{0} - {1}", np.multiply: "{0} * {1}",
    np.true_divide: "{0} / {1}", operator.pow: "{0} ** {1}", np.power: "{0} ** {1}",
    np.negative: "-{0}", np.square: "{0} ** 2", np.reciprocal: "1 / {0}",
}
_FUNCTIONS = {
    np.sin: "sin", np.cos: "cos", np.tan: "tan", np.arcsin: "arcsin", np.arccos: "arccos",
    np.arctan: "arctan", np.sinh: "sinh", np.cosh: "cosh", np.tanh: "tanh",
    np.arcsinh: "arcsinh", np.arccosh: "arccosh", np.arctanh: "arctanh", np.exp: "exp",
    np.expm1: "expm1", np.log: "log", np.log1p: "log1p", np.log10: "log10", np.log2: "log2",
    np.sqrt: "sqrt", np.absolute: "abs", np.arctan2: "arctan2",
}
# how tightly each operator binds (functions: _ATOM), to parenthesize as Python needs
_POWER, _ATOM = 4, 5
_PRECEDENCE = {np.add: 1, np.subtract: 1, np.multiply: 2, np.true_divide: 2, np.reciprocal: 2,
               np.negative: 3, operator.pow: _POWER, np.power: _POWER, np.square: _POWER}
# What the default fuses (see the module): arithmetic; for float64, what NumPy 2 runs one
# element at a time in C too
_ARITHMETIC = {np.add, np.subtract, np.multiply, np.true_divide, np.negative, np.square,
               np.reciprocal}
_DEFAULT_OPS = {np.dtype(np.float32): _ARITHMETIC,
                np.dtype(np.float64): _ARITHMETIC | {np.absolute, np.sqrt, np.sin, np.cos}}
# exponents numexpr turns into NumPy's own fast paths (x*x, sqrt, 1/x...)
_CHEAP_EXPONENTS = {-1, 0, 0.5, 1, 2}
_FLOATS = (np.dtype(np.float32), np.dtype(np.float64))
_KINDS = {np.dtype(np.float32): float, np.dtype(np.float64): np.double}  # numexpr's names
_KIND_CODES = {np.dtype(np.float32): b"f", np.dtype(np.float64): b"d"}
_missing = object()
_module: Any = _missing


def _numexpr() -> Any:
    """numexpr, imported at the first fusion (never by ``import chainrule``), or None."""
    global _module
    if _module is _missing:
        try:
            import numexpr
        except ImportError:
            numexpr = None
        _module = numexpr
    return _module


def fuser(option: bool | None) -> Callable | None:
    """The fusion pass for ``cr.jit(fuse=option)`` (program.build calls it), or None: for
    ``False``, and for ``None`` without numexpr. ``True`` without numexpr raises."""
    if option is False:
        return None
    if _numexpr() is None:
        if option:
            raise ImportError(
                f"cr.jit(fuse=True) needs numexpr, which is not installed: {INSTALL}"
            )
        return None
    return functools.partial(fuse, everything=bool(option))


class _Node:
    """A fusable instruction: its template and operands (Vars, Externals, Python numbers)."""

    __slots__ = ("instr", "position", "template", "operands", "var")

    def __init__(self, instr: Instr, position: int, template: str, operands: tuple) -> None:
        self.instr, self.position = instr, position
        self.template, self.operands = template, operands
        self.var = instr.outs


def fuse(instrs: list, names: Any, constants: dict, returned: set, buffers: dict,
         everything: bool = False) -> dict:
    """``{instr: source line}`` for the instructions of ``instrs`` that fused kernels replace:
    a kernel's call at the chain's last instruction, a comment at the others."""
    nodes = {}
    for position, instr in enumerate(instrs):
        node = _node(instr, position, constants, everything)
        if node is not None:
            nodes[instr] = node
    if not nodes:
        return {}
    storage = _Storage(instrs, buffers)
    parent = _inline_edges(instrs, nodes, returned, constants, storage)
    groups = _settle(nodes, parent, storage)
    lines: dict = {}
    emitter = _Emitter(names, constants, buffers, storage)
    for root, members in groups:
        if not everything and len(members) == 1 and root.instr.op not in (np.sin, np.cos):
            continue  # (one ufunc: NumPy's own loop is as fast)
        lines.update(emitter.group(root, members))
    return lines


def _node(instr: Instr, position: int, constants: dict, everything: bool) -> _Node | None:
    """The instruction as a fusable node, or None (see the module: what is fused)."""
    op = instr.op
    if instr.kind != "call" or instr.kwargs or instr.writes or instr.random or \
            instr.shape_guard or type(instr.outs) is not Var:
        return None
    var = instr.outs
    if var.scalar or var.dtype not in _FLOATS or not var.shape:
        return None
    if op in _OPERATORS:
        template = _OPERATORS[op]
    elif op in _FUNCTIONS and _FUNCTIONS[op] in _numexpr().expressions.functions:
        template = _FUNCTIONS[op] + ("({0}, {1})" if op is np.arctan2 else "({0})")
    else:
        return None
    if len(instr.args) != template.count("{"):
        return None
    if not everything:
        if op not in _DEFAULT_OPS[var.dtype] and not (
            op in (operator.pow, np.power) and _cheap_exponent(instr.args[1])
        ) or int(np.prod(var.shape)) * var.dtype.itemsize < MIN_BYTES:
            return None
    floats = []
    for arg in instr.args:
        if type(arg) in (Var, External):
            dtype = _dtype(arg, constants)
            if dtype not in _FLOATS:
                return None
            floats.append(dtype)
        elif type(arg) is int and abs(arg) <= 2**24 or type(arg) is float:
            pass  # (a Python number takes the other operand's dtype, as in NumPy 2)
        else:
            return None
    if not floats or np.result_type(*floats) != var.dtype:
        return None  # (numexpr promotes as np.result_type; NumPy gave another dtype)
    return _Node(instr, position, template, tuple(instr.args))


def _cheap_exponent(exponent: Any) -> bool:
    return type(exponent) in (int, float) and exponent in _CHEAP_EXPONENTS


def _dtype(ref: Any, constants: dict) -> Any:
    if type(ref) is Var:
        return ref.dtype
    return getattr(ref.array, "dtype", None)


class _Storage:
    """Where each value lives (a planned buffer, or its own array) and which instructions write
    each place: a folded instruction writes nothing (its value lives in the kernel)."""

    def __init__(self, instrs: list, buffers: dict) -> None:
        self.buffer_of_root = {instr.outs.root: index for instr, index in buffers.items()
                               if type(instr.outs) is Var}
        self.places = []  # (position, instr, places it writes)
        for position, instr in enumerate(instrs):
            places = [self.of(ref) for ref in instr.writes]
            if instr in buffers:
                places.append(("b", buffers[instr]))
            if places:
                self.places.append((position, instr, places))
        self.writes: dict = {}

    def settle(self, folded: set) -> None:
        """The writes once the instructions ``folded`` into kernels write no more."""
        self.writes = {}
        for position, instr, places in self.places:
            if instr not in folded:
                for place in places:
                    self.writes.setdefault(place, []).append(position)

    def of(self, ref: Any) -> tuple:
        if type(ref) is Var:
            index = self.buffer_of_root.get(ref.root)
            return ("r", ref.root) if index is None else ("b", index)
        base = ref.array
        while isinstance(getattr(base, "base", None), np.ndarray):
            base = base.base
        return ("r", id(base))

    def first_write(self, ref: Any, start: int, end: int) -> int | None:
        """The first position after ``start`` and before ``end`` of an instruction that writes
        where ``ref`` lives, if any."""
        positions = self.writes.get(self.of(ref), ())
        index = bisect_right(positions, start)
        if index < len(positions) and positions[index] < end:
            return positions[index]
        return None


def _inline_edges(instrs: list, nodes: dict, returned: set, constants: dict,
                  storage: _Storage) -> dict:
    """``{node: the node it folds into}``: each fusable value read once, by a fusable
    instruction of its shape, that nothing else needs as an array."""
    uses: dict = {}
    members: dict = {}  # root -> Vars living in it (a view shares its base's)
    for instr in instrs:
        for ref in reads(instr) + list(instr.writes):
            if type(ref) is Var:
                uses[ref] = uses.get(ref, 0) + 1
        for var in outs(instr):
            members.setdefault(var.root, set()).add(var)
    written = {storage.of(ref) for instr in instrs for ref in instr.writes}
    producer = {node.var: node for node in nodes.values()}
    parent = {}
    for node in nodes.values():
        for ref in node.operands:
            child = producer.get(ref) if type(ref) is Var else None
            if child is None or uses.get(ref) != 1 or ref in returned or ref in constants:
                continue
            if ref.shape != node.var.shape or len(members.get(ref.root, ())) != 1 or \
                    storage.of(ref) in written:
                continue
            parent[child] = node
    return parent


def _settle(nodes: dict, parent: dict, storage: _Storage) -> list:
    """The kernels: ``[(root node, its member nodes)]``, after cutting the folds that would
    read a value after something overwrote it, or exceed numexpr's limits."""
    while True:
        children: dict = {}
        for child, node in parent.items():
            children.setdefault(node, []).append(child)
        storage.settle({node.instr for node in parent})
        groups, cuts = [], []
        for root in (node for node in nodes.values() if node not in parent):
            members = _members(root, children)
            leaves = {member: [ref for ref in member.operands if type(ref) is External or (
                type(ref) is Var and not any(child.var is ref
                                             for child in children.get(member, ())))]
                      for member in members}
            if len({ref for refs in leaves.values() for ref in refs}) > MAX_INPUTS or \
                    len(members) > MAX_OPS:
                cuts.extend(children.get(root, ()))
                continue
            for member in members:
                writes = [storage.first_write(ref, member.position, root.position)
                          for ref in leaves[member]]
                writes = [write for write in writes if write is not None]
                if member is not root and writes:
                    # the kernel runs below the first overwrite of what the member reads
                    while parent[member].position < min(writes):
                        member = parent[member]
                    cuts.append(member)
            groups.append((root, members))
        if not cuts:
            return groups
        for member in cuts:
            parent.pop(member, None)


def _members(root: _Node, children: dict) -> list:
    found, stack = [], [root]
    while stack:
        node = stack.pop()
        found.append(node)
        stack.extend(children.get(node, ()))
    return found


class _Emitter:
    """The source lines of the kernels, and the kernels in the program's namespace."""

    def __init__(self, names: Any, constants: dict, buffers: dict, storage: _Storage) -> None:
        self.names, self.constants, self.buffers = names, constants, buffers
        self.storage = storage
        self.numbers: dict = {}  # (dtype, value) -> its NumPy scalar (one name each)

    def group(self, root: _Node, members: list) -> dict:
        inlined = {member.var: member for member in members if member is not root}
        inputs: dict = {}  # name -> (kind, ref or number)
        text = self._text(root, inlined, inputs)
        numexpr = _numexpr()
        signature = [(name, kind) for name, (kind, _) in inputs.items()]
        try:
            kernel = numexpr.NumExpr(text, signature, optimization="moderate", truediv=True)
        except (ValueError, KeyError, TypeError, SyntaxError, OverflowError):
            return {}  # (beyond what numexpr compiles: the NumPy calls stay)
        if kernel.fullsig[:1] != _KIND_CODES[root.var.dtype]:
            return {}
        uses_vml = numexpr.necompiler.getExprNames(text, {})[1]
        name = self._kernel_name(functools.partial(kernel, ex_uses_vml=uses_vml))
        refs = [ref for _, ref in inputs.values()]
        out = self.buffers.get(root.instr)
        if out is not None and any(type(ref) in (Var, External) and self.storage.of(ref) ==
                                   ("b", out) for ref in refs):
            out = None  # (numexpr writes its scratch values into its output)
        arguments = ", ".join(list(inputs) + ([f"out=b{out}"] if out is not None else []))
        numbers = [f"{name} = {value!r}" for name, (_, value) in inputs.items()
                   if type(value) not in (Var, External) and not isinstance(value, np.ndarray)]
        note = f" ({', '.join(numbers)})" if numbers else ""
        shape = ",".join(str(size) for size in root.var.shape)
        lines = {root.instr: f"{root.var.name} = {name}({arguments})  "
                             f"# {root.var.dtype}[{shape}] = {text}{note}"}
        for member in inlined.values():
            lines[member.instr] = (f"# {member.var.name} = {self._text(member, {}, {})}: "
                                   f"in {root.var.name}'s kernel")
        return lines

    def _text(self, node: _Node, inlined: dict, inputs: dict) -> str:
        """The numexpr expression of ``node`` with the members in ``inlined`` written in
        (parenthesized as Python needs it to keep NumPy's order of operations)."""
        parts = []
        own = _PRECEDENCE.get(node.instr.op, _ATOM)
        for slot, ref in enumerate(node.operands):
            if type(ref) is Var and ref in inlined:
                child = inlined[ref]
                part = self._text(child, inlined, inputs)
                inner = _PRECEDENCE.get(child.instr.op, _ATOM)
                right = slot == 1 or node.instr.op is np.reciprocal or own == _POWER
                if own < _ATOM and (inner < own or inner == own and right):
                    part = f"({part})"
                parts.append(part)
            else:
                parts.append(self._leaf(ref, node, slot, inputs))
        return node.template.format(*parts)

    def _leaf(self, ref: Any, node: _Node, slot: int, inputs: dict) -> str:
        dtype = node.var.dtype
        if type(ref) is Var and ref in self.constants:
            value = self.constants[ref]
            name = self.names.constant(value)
            inputs[name] = (_KINDS[ref.dtype], value)
            return name
        if type(ref) in (Var, External):
            inputs[ref.name] = (_KINDS[_dtype(ref, self.constants)], ref)
            return ref.name
        literal = type(ref) is int or (
            dtype == np.float64 and np.isfinite(ref) and not (node.template.startswith(
                "{0} / ") and slot == 1)  # (numexpr would multiply by the reciprocal)
        )
        if not literal and ref != 0 and float(ref).is_integer() and abs(ref) <= 2**24:
            ref, literal = int(ref), True  # (numexpr casts an int to float32 exactly)
        if literal:
            return repr(ref) if ref >= 0 else f"({ref!r})"
        key = (dtype, ref)
        value = self.numbers.setdefault(key, dtype.type(ref))
        name = self.names.constant(value)
        inputs[name] = (_KINDS[dtype], value)
        return name

    def _kernel_name(self, kernel: Any) -> str:
        namespace = self.names.namespace
        count = sum(1 for key in namespace if key.startswith("fused"))
        while f"fused{count}" in namespace:
            count += 1
        namespace[f"fused{count}"] = kernel
        return f"fused{count}"

