"""Applying and recording a primitive: the generated code against the plain path, and the
generated code's debuggability (file names, linecache, ``prim.source``)."""

from __future__ import annotations

import inspect
import linecache
import traceback

import numpy as np
import pytest
from op_samples import SAMPLES

import chainrule as cr
from chainrule import ops
from chainrule.node import Node
from chainrule.ops import recording
from chainrule.ops.primitive import REGISTRY, Primitive
from chainrule.ops.recording import apply_plain
from chainrule.tensor import Tensor


@pytest.fixture
def declare():
    """Declare scratch primitives, removed from the op table afterwards."""
    made = []

    def make(impl, **options):
        made.append(Primitive(impl, **options))
        return made[-1]

    yield make
    for prim in made:
        REGISTRY.pop(prim.name, None)


# ---------------------------------------------------------------- the generated code, read


def _running(name: str, raws: str) -> tuple[str, str]:
    """The file name and forward line of ``name``'s generated apply in the variant running now:
    once an array of another library has been wrapped (by any test before), the variant that
    checks each call's libraries (backends.call)."""
    if recording._foreign_seen:
        return (f"<chainrule generated: {name}.apply (foreign arrays)>",
                f"out = foreign_call(impl, ({raws}{',' if ',' not in raws else ''}), params, "
                "prim.name)")
    return f"<chainrule generated: {name}.apply>", f"out = impl({raws})"


def test_source_shows_the_generated_apply():
    source = ops.sin.source
    assert source.startswith("def apply(args, params):")
    assert _running("sin", "r0")[1] in source
    assert "node = new(Node)" in source
    assert "node.saves_tensors = linked" in source
    assert "result._version = counter" in source
    assert source == inspect.getsource(ops.sin.apply)
    # two inputs: a branch per set of inputs needing gradients
    assert "if mask == 1:" in ops.multiply.source and "elif mask == 2:" in ops.multiply.source


def test_source_of_a_variadic_primitive_is_the_plain_path():
    assert ops.concatenate.source == inspect.getsource(apply_plain)


def test_non_differentiable_apply_ends_after_the_forward():
    source = ops.floor.source
    assert "return wrap(out, None, cls)" in source
    assert "Node" not in source


def test_generated_code_is_registered_with_linecache():
    code = ops.sin.apply.__code__
    assert code.co_filename == _running("sin", "r0")[0]
    lines = linecache.getlines(code.co_filename)
    assert "".join(lines) == ops.sin.source
    assert linecache.getline(code.co_filename, code.co_firstlineno).startswith("def apply(")


def test_a_failing_forward_shows_its_generated_line():
    a = cr.tensor(np.ones((2, 3)), requires_grad=True)
    with pytest.raises(ValueError) as info:
        ops.matmul(a, a)
    frames = [f for f in traceback.extract_tb(info.tb) if "generated" in f.filename]
    assert [(f.filename, f.line) for f in frames] == [_running("matmul", "r0, r1")]


def test_a_failing_rule_shows_its_generated_line(declare):
    def vjp(g, x):
        raise ZeroDivisionError("from the rule")

    boom = declare(lambda x: x * 1.0, name="recording_test_boom")
    boom.defrules(vjp=vjp, jvp="linear")
    x = cr.tensor([1.0, 2.0], requires_grad=True)
    with pytest.raises(ZeroDivisionError) as info:
        cr.sum(boom(x)).backward()
    text = "".join(traceback.format_exception(info.type, info.value, info.tb))
    assert 'File "<chainrule generated: recording_test_boom.vjp[0]>", line 2' in text
    assert "return fn(flow, inputs[0])" in text


def test_node_and_tensor_fields_are_declared_once():
    assert Node.__slots__ == (*Node.FIELDS, "__weakref__")
    assert set(Tensor._FIELDS) | {"__weakref__"} == set(Tensor.__slots__)
    node = Node(ops.sin, {}, (None,), (None,), None, (), (), np.dtype(float))
    assert node.shapes is None and node.saves_tensors is False and node.hooks is None
    made = Tensor._wrap(np.zeros(2))
    assert all(hasattr(made, name) for name in Tensor._FIELDS)


# ---------------------------------------------------------------- generated against plain


def _counter_owner(counter, args, result):
    """Which argument (by position) or the result a version counter belongs to."""
    for index, arg in enumerate(args):
        if isinstance(arg, Tensor) and arg._version is counter:
            return index
    return "result" if counter is result._version else "other"


def _same_value(a, b):
    if isinstance(a, Tensor):
        assert isinstance(b, Tensor)
        a, b = a._array, b._array
    np.testing.assert_array_equal(a, b)
    assert np.asarray(a).dtype == np.asarray(b).dtype


def _same_node(node, other, args, result, expected):
    assert (node is None) == (other is None)
    if node is None:
        return
    for field in Node.FIELDS:
        mine, theirs = getattr(node, field), getattr(other, field)
        if field == "seq":
            assert mine > theirs  # made after
        elif field == "ans":
            assert (mine is None) == (theirs is None)
            if mine is not None:
                _same_value(mine, theirs)
        elif field == "versions":
            assert [_counter_owner(c, args, result) for c in mine[::2]] == [
                _counter_owner(c, args, expected) for c in theirs[::2]
            ]
            assert mine[1::2] == theirs[1::2]
        elif field in ("parents", "saved"):
            assert len(mine) == len(theirs)
            for value, value_expected in zip(mine, theirs):
                if value is not value_expected:  # (a constant converted twice)
                    _same_value(value, value_expected)
        else:
            assert mine == theirs, field


def _same(result, expected, args):
    assert type(result) is type(expected)
    _same_value(result, expected)
    assert result._requires_grad == expected._requires_grad
    assert _counter_owner(result._version, args, result) == _counter_owner(
        expected._version, args, expected
    )
    assert (result._view is None) == (expected._view is None)
    _same_node(result._node, expected._node, args, result, expected)
    tangents, tangents_expected = result._tangents or {}, expected._tangents or {}
    assert tangents.keys() == tangents_expected.keys()
    for level in tangents:
        _same_value(tangents[level], tangents_expected[level])


@pytest.fixture
def checked(monkeypatch):
    """Every generated apply also runs the plain path on the same arguments, and the two
    results must be the same: values, version counters, views, nodes and tangents."""
    checks = []
    for prim in REGISTRY.values():
        generated = prim.__dict__.get("apply")
        if generated is None:
            continue

        def apply(args, params, prim=prim, generated=generated):
            expected = apply_plain(prim, args, dict(params))
            result = generated(args, dict(params))
            _same(result, expected, args)
            checks.append(prim.name)
            return result

        monkeypatch.setattr(prim, "apply", apply)
    return checks


def _is_float(value):
    return isinstance(value, np.ndarray) and value.dtype.kind in "fc"


_FIXED = [
    sample for sample in SAMPLES
    if sample.name in REGISTRY and "apply" in REGISTRY[sample.name].__dict__
]


@pytest.mark.parametrize("sample", _FIXED, ids=[s.id for s in _FIXED])
def test_generated_and_plain_apply_agree(sample, checked):
    floats = [i for i, value in enumerate(sample.args) if _is_float(value)]
    # every input needing a gradient; only the first (the others plain tensors); only the
    # last (the others constants)
    for grad, others in [(floats, "tensor"), (floats[:1], "tensor"), (floats[-1:], "constant")]:
        args = [
            cr.tensor(value, requires_grad=i in grad) if i in grad or others == "tensor"
            and _is_float(value) else value
            for i, value in enumerate(sample.args)
        ]
        sample.fn(*args, **sample.kwargs)
    with cr.no_grad():
        sample.fn(*[cr.tensor(v) if _is_float(v) else v for v in sample.args], **sample.kwargs)
    if sample.differentiable and floats:
        def f(*primals):
            args = list(sample.args)
            for i, primal in zip(floats, primals):
                args[i] = primal
            return sample.fn(*args, **sample.kwargs)

        primals = tuple(cr.tensor(sample.args[i], requires_grad=True) for i in floats)
        cr.jvp(f, primals, tuple(cr.ones_like(p) for p in primals))
    assert sample.name in checked


def test_constants_views_and_tangents_agree(checked):
    x = cr.tensor([[1.0, 2.0], [3.0, 4.0]], requires_grad=True)
    x * [10.0, 20.0]  # a list constant, converted
    ops.reshape(x, shape=(4,))  # a view: shares the counter, made a view
    ops.transpose(x * 1.0, axes=(-1, -2))
    out, tangent = cr.jvp(lambda x: ops.sin(x) * x, (x,), (cr.ones_like(x),))
    value = x.detach().numpy()
    np.testing.assert_allclose(tangent.detach().numpy(), np.cos(value) * value + np.sin(value))
    assert {"multiply", "reshape", "transpose", "sin"} <= set(checked)


def test_the_result_takes_the_class_of_the_first_tensor(checked):
    class First(Tensor):
        pass

    class Second(Tensor):
        pass

    first, second = First(np.ones(2)), Second(np.ones(2), requires_grad=True)
    assert type(ops.multiply(first, second)) is First
    assert type(ops.multiply(second, first)) is Second
    assert type(ops.multiply(2.0, second)) is Second
    assert type(ops.clip(2.0, first, second)) is First
