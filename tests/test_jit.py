"""``cr.jit`` against eager chainrule: every jitted call is compared with the same function run
eagerly, on the first (tracing) call and on later calls with new values (replays): results
(values, dtypes, shapes, types, identity), effects on state (parameters, ``.grad`` buffers,
version counters, arrays written in place), warnings and errors. Adversarial: control flow on
values, state rebound between calls, side effects, composition with the other transforms,
threads. Known bugs are xfailed strictly with their reason."""

from __future__ import annotations

import copy
import itertools
import random
import sys
import threading
import warnings
from collections import namedtuple

import numpy as np
import pytest
from backend_checks import floats
from op_samples import COMPLEX_SAMPLES, SAMPLES, table_part

import chainrule as cr
from chainrule.tracing import JitWarning

pytestmark = pytest.mark.filterwarnings("error::chainrule.tracing.JitWarning")


# ---------------------------------------------------------------- comparing


def _leaf(value):
    """(kind, array) of a result leaf, for comparison."""
    if isinstance(value, cr.Tensor):
        return type(value), value._array
    if isinstance(value, (np.ndarray, np.generic)):
        return "numpy", value
    return type(value), value


def _plain(kind):
    """A tensor class, views' classes (views.view_class) taken as their tensor class."""
    return kind.__mro__[1] if isinstance(kind, type) and getattr(kind, "_view_of", False) \
        else kind


def assert_same(got, want, exact=True, what=""):
    """Same pytree structure, same leaf types (a NumPy scalar is not a 0-d array), dtypes and
    shapes, equal values: bit for bit (NaNs where NaNs are), as ``cr.jit`` promises never to
    return a result that differs from the eager one; ``exact=False`` (to float tolerance)
    only where a test documents why its difference is unavoidable."""
    got_leaves, got_tree = cr.tree_util.tree_flatten(got)
    want_leaves, want_tree = cr.tree_util.tree_flatten(want)
    assert got_tree == want_tree, (what, got_tree, want_tree)
    for g, w in zip(got_leaves, want_leaves, strict=True):
        (gk, ga), (wk, wa) = _leaf(g), _leaf(w)
        assert _plain(gk) == _plain(wk), (what, gk, wk)
        if isinstance(wa, (np.ndarray, np.generic)):
            assert type(ga) is type(wa), (what, type(ga), type(wa))
            assert ga.dtype == wa.dtype and ga.shape == wa.shape, \
                (what, ga.dtype, wa.dtype, ga.shape, wa.shape)
            if exact:
                np.testing.assert_array_equal(ga, wa, err_msg=what)
                if wa.dtype.kind in "fc":  # (and the same zeros: -0.0 == 0.0 but 1 / -0.0 < 0)
                    np.testing.assert_array_equal(_signs(ga), _signs(wa), err_msg=what)
            else:
                np.testing.assert_allclose(ga, wa, rtol=1e-11, atol=1e-12, err_msg=what)
        else:
            assert ga == wa or (ga != ga and wa != wa), (what, ga, wa)
        if isinstance(w, cr.Tensor):
            assert g.requires_grad == w.requires_grad, what


def _signs(a):
    parts = (a.real, a.imag) if a.dtype.kind == "c" else (a,)
    return [np.signbit(part) for part in parts]


def _copies(args):
    return copy.deepcopy(args)


def check_calls(fun, calls, exact=True, **jit_options):
    """``cr.jit(fun)`` on each argument tuple of ``calls`` (in order: a trace, then replays)
    equals ``fun`` on a copy of it."""
    jitted = cr.jit(fun, **jit_options)
    for position, args in enumerate(calls):
        want = fun(*_copies(args))
        got = jitted(*_copies(args))
        assert_same(got, want, exact, f"call {position}")
    return jitted


def nudge(array, k=1):
    """``array`` with other values (same shape and dtype)."""
    array = np.asarray(array)
    step = np.cos(np.arange(array.size) + k).reshape(array.shape)
    if array.dtype.kind == "c":
        return array + (0.05 * k) * (step + 1j * step[::-1] if step.ndim else step)
    if array.dtype.kind == "f":
        return array + (0.05 * k) * step.astype(array.dtype)
    return array


# ---------------------------------------------------------------- 1. the op table


def _inputs(sample):
    """Positions of the differentiated (real or complex float) arguments."""
    real = floats(sample)
    complex_ = [i for i, a in enumerate(sample.args)
                if isinstance(a, np.ndarray) and a.dtype == np.complex128]
    return sorted(real + complex_)


def _sample_function(sample):
    positions = _inputs(sample)

    def value(*xs):
        args = list(sample.args)
        for i, x in zip(positions, xs, strict=True):
            args[i] = x if isinstance(x, cr.Tensor) else cr.tensor(x)  # (grad's tracers kept)
        return sample.fn(*args)

    return positions, value


def _sample_loss(value):
    def loss(*xs):
        out = value(*xs)
        if out.dtype.kind == "c":
            out = cr.real(out)
        return cr.sum(out)

    return loss


# The samples whose jitted value or gradient differs from eager (or crashes), with the cause:
# strict xfails (none now).
_VALUE_FAILS: dict = {}
_GRAD_FAILS: dict = {}


def _table_params(kind):
    failing = _VALUE_FAILS if kind == "value" else _GRAD_FAILS
    params = []
    for sample in table_part(SAMPLES + COMPLEX_SAMPLES):
        if not _inputs(sample) or kind == "grad" and not sample.differentiable:
            continue
        marks = ()
        if sample.id in failing:
            marks = pytest.mark.xfail(strict=True, reason=failing[sample.id])
        params.append(pytest.param(sample, id=sample.id, marks=marks))
    return params


def _copied(value):
    """``value`` with its result copied when it is a float: a view of a tensor made inside
    is a false escape (test_view_result_replays), each trace of which costs a gc.collect()."""
    def copied(*xs):
        out = value(*xs)
        return out * 1 if out.dtype.kind in "fc" else out

    return copied


def _check_sample(sample, kind):
    positions, value = _sample_function(sample)
    fun = _copied(value)
    if kind == "grad":
        if value(*[np.array(sample.args[i]) for i in positions]).dtype.kind not in "fc":
            pytest.skip("integer result")
        fun = cr.grad(_sample_loss(value), argnums=tuple(range(len(positions))))
    first = [np.array(sample.args[i]) for i in positions]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        # (a JitWarning is allowed here: then the call is eager, and must still be right; the
        # views' false escape is test_view_result_replays's)
        warnings.simplefilter("ignore", JitWarning)
        check_calls(fun, [first, [nudge(x) for x in first], [nudge(x, 2) for x in first]])


@pytest.mark.parametrize("sample", _table_params("value"))
def test_op_table_value(sample):
    _check_sample(sample, "value")


@pytest.mark.parametrize("sample", _table_params("grad"))
def test_op_table_grad(sample):
    _check_sample(sample, "grad")


def test_zero_d_gradient_type():
    """A gradient with respect to a 0-d array is a tensor of a 0-d array, as eagerly."""
    f = cr.grad(lambda x, y: cr.sum(x * y), argnums=(0, 1))
    check_calls(f, [(np.array(2.0), np.array([1.0, 3.0])), (np.array(3.0), np.array([2.0, 1.0]))])


def test_negative_constant_power():
    check_calls(lambda x: (-1.0) ** cr.tensor(x),
                [(np.array([1.0, 2.0]),), (np.array([3.0, 2.0]),)])


test_negative_constant_power = (
    test_negative_constant_power)


def test_det_gradient_replays():
    a = np.array([[2.0, 0.5], [0.3, 1.5]])
    check_calls(cr.grad(cr.linalg.det), [(a,), (a + 0.1,)])


def test_slogdet_value():
    a = np.array([[2.0, 0.5], [0.3, 1.5]])
    check_calls(lambda x: cr.linalg.slogdet(x)[1], [(a,), (a + 0.1,)])


def test_view_result_replays():
    check_calls(lambda x: cr.tensor(x).reshape(3, 2),
                [(np.arange(6.0) + k,) for k in range(5)])


def test_view_result_class():
    """diagonal takes NumPy's way (a gather) on a tracing array, as on an ndarray: not the way
    of other libraries' arrays (a masked sum), whose result is of another class (a view)."""
    x = np.arange(9.0).reshape(3, 3)
    jitted = cr.jit(lambda x: cr.diagonal(cr.tensor(x)))
    for k in range(3):
        got, want = jitted(x + k), cr.diagonal(cr.tensor(x + k))
        assert type(got) is type(want)
        assert_same(got, want, exact=True)



@pytest.mark.parametrize("order", ["C", "F"])
def test_a_max_over_a_short_trailing_block_takes_the_eager_path(order):
    """A softmax's max over ten classes: eagerly (C order) a transposed copy reduced over its
    rows; jitted, the same path for the same layout (a replay's copy is not dropped as
    needless), bit for bit the eager result, zeros' signs included, and its gradient over
    ties."""
    x = np.random.default_rng(0).standard_normal((64, 5))
    x[::3] = -1.0
    x[::3, 1], x[::3, 2] = 0.0, -0.0  # (rows whose maximum is a tie of both zeros)
    x[1::3, 3] = x[1::3, 4] = 9.0  # (ties of equal values)
    x = np.asarray(x, order=order)

    def f(x):
        return cr.max(x, axis=1, keepdims=True)

    for fun in (f, cr.grad(lambda x: cr.sum(f(x) * 3.0))):
        jitted = cr.jit(fun)
        for k in range(3):
            assert_same(jitted(x * (k + 1)), fun(x * (k + 1)), exact=True, what=f"{order} {k}")
    program = str(cr.jit(f).trace(x))
    assert (".copy()" in program) == (order == "C"), program

# ---------------------------------------------------------------- 2. JAX style


def _mlp_loss(params, x, y):
    hidden = cr.tanh(x @ params["w1"] + params["b1"])
    out = hidden @ params["w2"]
    return cr.mean((out - y) ** 2)


def _params(k=0, dtype=np.float64):
    rng = np.random.default_rng(k)
    return {"w1": rng.standard_normal((3, 4)).astype(dtype),
            "b1": rng.standard_normal(4).astype(dtype),
            "w2": rng.standard_normal((4, 2)).astype(dtype)}


def _batch(k=0, dtype=np.float64):
    rng = np.random.default_rng(100 + k)
    return rng.standard_normal((5, 3)).astype(dtype), rng.standard_normal((5, 2)).astype(dtype)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_value_and_grad_pytree(dtype):
    calls = [(_params(k, dtype), *_batch(k, dtype)) for k in range(3)]
    check_calls(cr.value_and_grad(_mlp_loss), calls)


def test_training_loop_jax_style():
    """The issue's loop: params updated from the jitted step's gradients, 10 steps."""
    step = cr.jit(cr.value_and_grad(_mlp_loss))
    eager = cr.value_and_grad(_mlp_loss)
    p_jit, p_eager = _params(), _params()
    for k in range(10):
        x, y = _batch(k % 3)
        (v1, g1), (v2, g2) = step(p_jit, x, y), eager(p_eager, x, y)
        assert_same(v1, v2, exact=True)
        assert_same(g1, g2, exact=True)
        p_jit = {name: p_jit[name] - 0.1 * g1[name]._array for name in p_jit}
        p_eager = {name: p_eager[name] - 0.1 * g2[name]._array for name in p_eager}


def _cubic(x):
    return cr.sum(cr.sin(x) * x ** 3)


@pytest.mark.parametrize("transform", [cr.grad, cr.hessian, cr.jacfwd, cr.jacrev],
                         ids=["grad", "hessian", "jacfwd", "jacrev"])
def test_transforms(transform):
    f = transform(_cubic) if transform in (cr.grad, cr.hessian) else \
        transform(lambda x: cr.sin(x) * x ** 2)
    check_calls(f, [(np.array([0.5, 1.0, -2.0]),), (np.array([1.5, 0.1, 2.0]),),
                    (np.array([0.3, -0.7, 0.2]),)])


Point = namedtuple("Point", ["x", "y"])


def test_tuples_namedtuples_and_keywords():
    def f(point, pair, *, scale, bias=None):
        out = cr.exp(point.x) * point.y + pair[0] - pair[1] * scale
        return {"out": out, "point": Point(point.y, point.x * 2), "bias": bias + 1}

    calls = [
        (Point(np.array([1.0, 2.0]), np.array([0.5, 0.1])), (np.ones(2), np.zeros(2)))
        for _ in range(1)
    ]
    jitted = cr.jit(f)
    for k, scale in enumerate([2.0, 2.0, 3.0, 2.0]):
        point, pair = calls[0]
        point = Point(point.x + k, point.y - k)
        want = f(point, pair, scale=scale, bias=np.ones(2) * k)
        got = jitted(point, pair, scale=scale, bias=np.ones(2) * k)
        assert_same(got, want)


def test_python_scalars_are_part_of_the_signature():
    f = cr.jit(lambda x, n, flag: cr.tensor(x) * n if flag else cr.tensor(x) - n)
    x = np.array([1.0, 2.0])
    for n, flag in [(2, True), (3, True), (2.5, True), (2, False), (3, True), (True, True)]:
        want = (cr.tensor(x) * n if flag else cr.tensor(x) - n)
        assert_same(f(x, n, flag), want, exact=True)


def test_static_argnums_and_argnames():
    def f(x, axis, *, mode):
        t = cr.tensor(x)
        return cr.sum(t, axis=axis) if mode == "sum" else cr.max(t, axis=axis)

    jitted = cr.jit(f, static_argnums=1, static_argnames="mode")
    x = np.arange(6.0).reshape(2, 3)
    for axis, mode in [(0, "sum"), (1, "sum"), (0, "max"), ((0, 1), "sum"), (0, "sum")]:
        assert_same(jitted(x + axis if isinstance(axis, int) else x, axis, mode=mode),
                    f(x + axis if isinstance(axis, int) else x, axis, mode=mode), exact=True)
    with pytest.raises(TypeError, match="hashable"):
        jitted(x, [0], mode="sum")


@pytest.mark.parametrize("value", [
    np.array([1.0, 2.0], np.float32), np.array([1.0, 2.0]), np.array([1 + 2j, 3 - 1j]),
    np.array([1, 2, 3]), np.array(1.5), np.float64(2.5), np.array(3), np.array([True, False]),
], ids=["f32", "f64", "c128", "int", "0-d", "scalar", "0-d int", "bool"])
def test_dtypes_and_0d(value):
    def f(x):
        t = cr.tensor(x)
        return t * 2 + t, cr.sum(t), t[..., None] * t

    check_calls(f, [(value,), (value + value,), (value,)], exact=True)


def test_int_argument_float_gradient():
    f = cr.grad(lambda x, n: cr.sum(x ** 2) * cr.sum(cr.tensor(n)))
    check_calls(f, [(np.array([1.0, 2.0]), np.array([1, 2])), (np.array([3.0, 1.0]),
                                                             np.array([3, 1]))])


_OBJECTS = ("a result's leaves that are not arrays (a str, a Python number, a tensor it closes "
            "over) come back as None at replay (_Specialization.run appends the program's "
            "None instead of the object)")


def test_python_values_in_the_result():
    def f(x):
        t = cr.tensor(x)
        return t * 2, t.dtype.name, len(x), 0.5

    check_calls(f, [(np.array([1.0, 2.0]),), (np.array([3.0, 4.0]),)])


# ---------------------------------------------------------------- 3. PyTorch style


class _Model:
    """Parameters closed over by a training step (as module attributes would be)."""

    def __init__(self):
        rng = np.random.default_rng(7)
        self.w = cr.tensor(rng.standard_normal((3, 2)), requires_grad=True)
        self.b = cr.tensor(rng.standard_normal(2), requires_grad=True)

    def step(self, x, y, lr=0.1):
        loss = cr.mean((cr.tanh(x @ self.w + self.b) - y) ** 2)
        loss.backward()
        with cr.no_grad():
            self.w -= lr * self.w.grad
            self.b -= lr * self.b.grad
            self.w.grad.zero_()
            self.b.grad.zero_()
        return loss


def _state(model):
    return [(t._array.copy(), None if t.grad is None else t.grad._array.copy(), t._version[0])
            for t in (model.w, model.b)]


def _training_loop(exact):
    jitted_model, eager_model = _Model(), _Model()
    step = cr.jit(jitted_model.step)
    grads = None
    same = np.testing.assert_array_equal if exact else np.testing.assert_allclose
    for k in range(20):
        x, y = _batch(k % 4)
        y = y[:, :2]
        got, want = step(x, y), eager_model.step(x, y)
        # (requires_grad of the loss: test_loss_after_backward_requires_grad's)
        assert_same(got._array, want._array, exact=exact, what=f"loss {k}")
        for (ga, gg, gv), (wa, wg, wv) in zip(_state(jitted_model), _state(eager_model),
                                               strict=True):
            same(ga, wa, err_msg=f"step {k}")
            same(gg, wg, err_msg=f"step {k}")
            assert gv == wv, (k, gv, wv)
        buffers = (jitted_model.w.grad, jitted_model.b.grad)
        if grads is not None:
            assert all(a is b for a, b in zip(buffers, grads, strict=True)), k
        grads = buffers


def test_training_loop_pytorch_style():
    """The issue's example: 20 steps jitted and 20 eager on copies match: losses,
    parameters, .grad buffers (the same buffer object kept), version counters."""
    _training_loop(exact=False)


def test_training_loop_bit_exact():
    _training_loop(exact=True)


def test_loss_after_backward_requires_grad():
    """A loss returned after backward() inside has, as eagerly, a graph: requires_grad, a
    grad_fn, and a second backward through it raises that the first freed it."""
    jitted_model, eager_model = _Model(), _Model()
    step = cr.jit(jitted_model.step)
    for k in range(3):
        x, y = _batch(k)
        got, want = step(x, y[:, :2]), eager_model.step(x, y[:, :2])
        assert got.requires_grad == want.requires_grad is True
        assert type(got.grad_fn) is type(want.grad_fn) and got.grad_fn.name == want.grad_fn.name
        assert_same(got.detach(), want.detach(), exact=True)
        for loss in (got, want):
            with pytest.raises(RuntimeError, match="second time"):
                loss.backward()


def test_loss_with_a_retained_graph_runs_eagerly():
    """backward(retain_graph=True) inside leaves the returned loss's graph to differentiate
    later, which a replay cannot give: the call runs eagerly, with a warning."""
    w = cr.tensor(np.array([1.0, 2.0]), requires_grad=True)

    def step(x):
        loss = cr.sum(w * x * w)
        loss.backward(retain_graph=True)
        return loss

    jitted = cr.jit(step)
    with pytest.warns(JitWarning, match="graph to differentiate later"):
        loss = jitted(np.array([1.0, 3.0]))
    w.grad = None
    loss.backward()
    assert_same(w.grad, cr.tensor(np.array([2.0, 12.0])), exact=True)


def test_grad_buffer_seen_by_the_user():
    """A reference to w.grad taken before the jitted calls sees their accumulation."""
    w = cr.tensor(np.array([1.0, 2.0]), requires_grad=True)

    def step(x):
        loss = cr.sum(w * x)
        loss.backward()
        return loss

    jitted = cr.jit(step)
    jitted(np.array([1.0, 1.0]))  # creates w.grad
    buffer = w.grad
    for k in range(2, 5):
        jitted(np.array([k, 1.0]))
        assert w.grad is buffer
    np.testing.assert_array_equal(buffer._array, [1 + 2 + 3 + 4, 4.0])


# ---------------------------------------------------------------- 4. guards


def _chapter_f(a):
    b = a * 2
    while cr.linalg.norm(b) < 1000:
        b = b * 2
    return b if cr.sum(b) > 0 else 100 * b


def test_chapter_while_loop():
    """The chapter's f(a) gives the eager answer for many a (different loop counts, both
    branches), as a value and as a gradient."""
    rng = np.random.default_rng(3)
    values = [rng.standard_normal(3) * scale for scale in (1, 1, 10, 0.1, 100, 1, 0.5)]
    values += [-v for v in values[:3]]
    jitted = cr.jit(lambda a: _chapter_f(cr.tensor(a)), max_specializations=32)
    for a in values:
        assert_same(jitted(a), _chapter_f(cr.tensor(a)), exact=True)
    grad = cr.grad(lambda a: cr.sum(_chapter_f(a)))
    check_calls(grad, [(a,) for a in values], exact=True, max_specializations=32)


@pytest.mark.parametrize("convert", [float, int, bool, lambda t: t.item(),
                                     lambda t: np.asarray(t._array).tolist(),
                                     lambda t: t.tolist()],
                         ids=["float", "int", "bool", "item", "asarray", "tolist"])
def test_values_reaching_python(convert):
    def f(x):
        t = cr.tensor(x)
        s = cr.sum(t * t)
        value = convert(s)
        return t * value if not isinstance(value, list) else t * len(value)

    check_calls(f, [(np.array([1.0, 2.0]),), (np.array([1.0, 2.0]),), (np.array([0.0, 0.5]),),
                    (np.array([3.0, 0.0]),)], exact=True)


def test_mask_indexing_replays_when_the_mask_changes():
    f = cr.grad(lambda x: cr.sum(x[x > 0] ** 2))
    calls = [(np.array([1.0, -2.0, 3.0]),), (np.array([2.0, -1.0, 0.5]),),
             (np.array([-1.0, 2.0, -3.0]),), (np.array([1.0, 2.0, 3.0]),)]
    check_calls(f, calls, exact=True)
    check_calls(lambda x: cr.tensor(x)[cr.tensor(x) > 0] * 2, calls, exact=True)
    check_calls(lambda x: np.nonzero(x)[0] * 1.0, [(np.array([0.0, 1.0]),),
                                                  (np.array([1.0, 1.0]),)], exact=True)


def test_guard_failure_after_a_write_rolls_back():
    """A replay that writes into state, then misses a guard, leaves the state as eager."""
    w = cr.tensor(np.array([1.0, 2.0]))
    w_eager = cr.tensor(np.array([1.0, 2.0]))

    def make(w):
        def step(x):
            with cr.no_grad():
                w.add_(cr.tensor(x))
            return w * 2 if cr.sum(w) > 10 else w * 3
        return step

    jitted, eager = cr.jit(make(w)), make(w_eager)
    for x in ([1.0, 1.0], [1.0, 1.0], [5.0, 1.0], [1.0, 1.0], [-20.0, 0.0]):
        assert_same(jitted(np.array(x)), eager(np.array(x)), exact=True)
        np.testing.assert_array_equal(w._array, w_eager._array)
        assert w._version[0] == w_eager._version[0]


def test_specialization_limit():
    f = cr.jit(lambda x: cr.tensor(x) * int(cr.sum(cr.tensor(x))), max_specializations=2)
    for k in range(2):
        assert_same(f(np.array([float(k)])), cr.tensor(np.array([float(k)])) * k)
    with pytest.warns(JitWarning, match="specializations"):
        f(np.array([5.0]))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        for k in (6, 7, 0):  # eager, warned once
            assert_same(f(np.array([float(k)])), cr.tensor(np.array([float(k)])) * k)


# ---------------------------------------------------------------- 5. state

_w = cr.tensor(np.array([1.0, 2.0]))


def _uses_global(x):
    return cr.sum(_w * x)


def test_rebinding_a_global_tensor():
    global _w
    jitted = cr.jit(_uses_global)
    x = np.array([1.0, 3.0])
    for value in ([1.0, 2.0], [5.0, 6.0], [5.0, 6.0], [0.5, 0.25]):
        _w = cr.tensor(np.array(value))
        for _ in range(2):
            assert_same(jitted(x), _uses_global(x), exact=True)


def test_grad_set_to_none_between_calls():
    """w.grad = None before each call: each backward makes a new .grad (correct, eager with a
    JitWarning after a few calls, or replayed); never accumulated into a stale buffer."""
    w = cr.tensor(np.array([1.0, 2.0]), requires_grad=True)
    w_eager = cr.tensor(np.array([1.0, 2.0]), requires_grad=True)

    def make(w):
        def step(x):
            cr.sum(w * x * w).backward()
            return w.grad * 1.0
        return step

    jitted, eager = cr.jit(make(w)), make(w_eager)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", JitWarning)
        for k in range(6):
            w.grad = None
            w_eager.grad = None
            x = np.array([1.0, float(k)])
            assert_same(jitted(x), eager(x), exact=True)
            assert_same(w.grad, w_eager.grad, exact=True)


def test_data_changed_outside_between_calls():
    w = cr.tensor(np.array([1.0, 2.0]))
    jitted = cr.jit(lambda x: w * x + 1)
    x = np.array([2.0, 3.0])
    for k in range(4):
        assert_same(jitted(x), w * x + 1, exact=True)
        if k == 0:
            w.data = np.array([5.0, 6.0])
        elif k == 1:
            with cr.no_grad():
                w.mul_(3.0)
        else:
            w.data = np.array([1.0, 2.0, 3.0])[:2].copy()


def test_closed_over_numpy_array_modified_in_place():
    table = np.array([1.0, 2.0, 3.0])
    jitted = cr.jit(lambda x: cr.tensor(x) * table)
    x = np.array([1.0, 1.0, 2.0])
    for k in range(3):
        assert_same(jitted(x), cr.tensor(x) * table, exact=True)
        table *= 2
        table[k] = -1.0


def test_arguments_mutated_in_place():
    def f(x, t):
        x[0] = 7.0
        with cr.no_grad():
            t.add_(1.0)
        x += 1
        return cr.tensor(x) * t

    jitted = cr.jit(f)
    for k in range(3):
        x1, t1 = np.array([1.0, 2.0]) + k, cr.tensor(np.array([3.0, 4.0]))
        x2, t2 = x1.copy(), cr.tensor(np.array([3.0, 4.0]))
        assert_same(jitted(x1, t1), f(x2, t2), exact=True)
        np.testing.assert_array_equal(x1, x2)
        assert_same(t1, t2, exact=True)
        assert t1._version[0] == t2._version[0]


def test_returning_an_argument_keeps_identity():
    f = cr.jit(lambda x, t: (x, t, t * 2))
    for k in range(3):
        x, t = np.array([1.0, 2.0]) + k, cr.tensor(np.array([3.0]) + k)
        a, b, c = f(x, t)
        assert a is x and b is t
        assert_same(c, t * 2, exact=True)


def test_returning_a_closed_over_tensor_keeps_identity():
    w = cr.tensor(np.array([1.0, 2.0]))
    f = cr.jit(lambda x: (w, w * x))
    for k in range(3):
        got, _ = f(np.array([1.0, 2.0]) + k)
        assert got is w


def test_views_and_writes_through_views():
    def f(x):
        t = cr.tensor(x.copy())
        row = t[1]
        with cr.no_grad():
            row.mul_(10.0)
            t[:, 0] = -1.0
        diagonal = cr.diagonal(t)
        return t * 1.0, diagonal * 1.0, row * 1.0

    check_calls(f, [(np.arange(9.0).reshape(3, 3) + k,) for k in range(3)], exact=True)


def test_in_place_on_argument_view():
    def f(t):
        view = t[0]
        with cr.no_grad():
            view.add_(5.0)
        return t.sum()

    jitted = cr.jit(f)
    for k in range(3):
        t1, t2 = (cr.tensor(np.arange(4.0).reshape(2, 2) + k) for _ in range(2))
        assert_same(jitted(t1), f(t2), exact=True)
        assert_same(t1, t2, exact=True)
        assert t1._version[0] == t2._version[0]


# ---------------------------------------------------------------- 6. effects


def test_cr_random_draws_fresh_values_and_follows_the_seed():
    def f(x):
        return cr.tensor(x) + cr.random.normal(size=x.shape) + cr.random.rand(2)

    jitted = cr.jit(f)
    x = np.zeros(2)
    cr.random.seed(0)
    got = [jitted(x)._array for _ in range(4)]
    cr.random.seed(0)
    want = [f(x)._array for _ in range(4)]
    for g, w in zip(got, want, strict=True):
        np.testing.assert_array_equal(g, w)
    assert not np.array_equal(got[1], got[2])


@pytest.mark.parametrize("effect", ["numpy", "python", "print", "stderr"])
def test_refused_effects_warn_once_and_run_eagerly(effect, capsys):
    def f(x):
        if effect == "numpy":
            noise = np.random.standard_normal()
        elif effect == "python":
            noise = random.random()
        else:
            import sys
            print("value", float(cr.sum(cr.tensor(x))),
                  file=sys.stdout if effect == "print" else sys.stderr)
            noise = 0.0
        return cr.tensor(x) + noise

    jitted = cr.jit(f)
    reason = {"numpy": "NumPy's global random", "python": "Python's random",
              "print": "prints", "stderr": "prints"}[effect]
    x = np.array([1.0, 2.0])
    np.random.seed(1)
    random.seed(1)
    with pytest.warns(JitWarning, match=reason):
        first = jitted(x)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        later = [jitted(x + k) for k in range(3)]
    np.random.seed(1)
    random.seed(1)
    want = [f(x + k) for k in (0, 0, 1, 2)]
    for g, w in zip([first, *later], want, strict=True):
        assert_same(g, w, exact=True)
    if effect in ("print", "stderr"):
        captured = capsys.readouterr()
        text = captured.out if effect == "print" else captured.err
        assert text.count("value") == 8, text


# ---------------------------------------------------------------- 7. composition


def test_grad_of_jit_is_eager_and_correct():
    f = lambda x: cr.sum(cr.sin(x) * x)  # noqa: E731
    jitted = cr.jit(f)
    x = np.array([0.5, 1.0])
    with pytest.warns(JitWarning, match="graph"):
        got = cr.grad(jitted)(x)
    assert_same(got, cr.grad(f)(x))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert_same(cr.grad(jitted)(x + 1), cr.grad(f)(x + 1))


def test_jvp_of_jit():
    f = lambda x: cr.sin(x) * x  # noqa: E731
    jitted = cr.jit(f)
    x, v = np.array([0.5, 1.0]), np.array([1.0, -1.0])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", JitWarning)
        for k in range(3):
            assert_same(cr.jvp(jitted, (x + k,), (v,)), cr.jvp(f, (x + k,), (v,)))


def test_jit_inside_jit():
    inner = cr.jit(lambda x: cr.exp(x) * 2)
    outer = lambda x: cr.sum(inner(cr.tensor(x)) + inner(cr.tensor(x) * 2))  # noqa: E731
    check_calls(outer, [(np.array([0.5, 1.0]) + k,) for k in range(3)])
    with warnings.catch_warnings():  # (the eager reference: grad of a jitted function)
        warnings.simplefilter("ignore", JitWarning)
        check_calls(cr.grad(lambda x: cr.sum(inner(x))), [(np.array([0.5, 1.0]) + k,)
                                                          for k in range(3)])


class _Layer:
    def __init__(self, scale):
        self.scale = cr.tensor(np.array(scale))

    @cr.jit
    def __call__(self, x):
        return cr.tanh(cr.tensor(x) * self.scale)


def test_jitted_method():
    first, second = _Layer(2.0), _Layer(-3.0)
    for k in range(3):
        x = np.array([0.1, 0.2]) * (k + 1)
        assert_same(first(x), cr.tanh(cr.tensor(x) * first.scale))
        assert_same(second(x), cr.tanh(cr.tensor(x) * second.scale))


@cr.custom_vjp
def _clipped(x):
    return cr.sin(x)


def _clipped_fwd(x):
    return cr.sin(x), cr.cos(x)


def _clipped_bwd(cos, g):
    return (cr.clip(g * cos, -0.5, 0.5),)


_clipped.defvjp(_clipped_fwd, _clipped_bwd)


@cr.custom_jvp
def _softplus(x):
    return cr.log(1.0 + cr.exp(x))


@_softplus.defjvp
def _softplus_jvp(primals, tangents):
    (x,), (t,) = primals, tangents
    return _softplus(x), t * 3.0 * cr.sigmoid(x)  # (3x: a rule that is not the derivative)


@pytest.mark.parametrize("fun", [_clipped, _softplus], ids=["custom_vjp", "custom_jvp"])
def test_custom_rules_inside_jit(fun):
    calls = [(np.array([0.1, 1.0, -2.0]) * (k + 1),) for k in range(3)]
    check_calls(cr.grad(lambda x: cr.sum(fun(x) * x)), calls)
    check_calls(cr.value_and_grad(lambda x: cr.sum(fun(x))), calls)


def test_checkpoint_inside_jit():
    block = cr.checkpoint(lambda x: cr.tanh(cr.sin(x) * x))
    calls = [(np.array([0.1, 1.0, -2.0]) * (k + 1),) for k in range(3)]
    check_calls(cr.grad(lambda x: cr.sum(block(block(x)))), calls)


# ---------------------------------------------------------------- 8. threads


def test_threads_call_one_jitted_function():
    f = lambda x: cr.sum(cr.tanh(cr.tensor(x)) @ cr.tensor(x).T)  # noqa: E731
    jitted = cr.jit(cr.grad(lambda x: cr.sum(cr.tanh(x) * x ** 2)))
    errors = []
    barrier = threading.Barrier(2)

    def work(seed):
        rng = np.random.default_rng(seed)
        try:
            barrier.wait()
            for _ in range(30):
                x = rng.standard_normal((40, 40))
                assert_same(jitted(x), cr.grad(lambda x: cr.sum(cr.tanh(x) * x ** 2))(x))
        except Exception as error:  # noqa: BLE001 (reported below)
            errors.append(error)

    threads = [threading.Thread(target=work, args=(seed,)) for seed in (1, 2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors, errors
    assert f(np.ones((2, 2))) is not None


# ---------------------------------------------------------------- 9. trace()


def test_trace_is_printable():
    jitted = cr.jit(lambda x: cr.sum(cr.sin(cr.tensor(x)) * 2) + cr.sum(cr.tensor(x)))
    program = jitted.trace(np.array([1.0, 2.0]))
    text = str(program)
    assert "sin(" in text and text.startswith("def replay(")
    # (a ufunc's method, a new object at each lookup, has one name)
    assert text.count("add_reduce(") == 2 and "add_reduce_2" not in text, text
    assert "calls" in repr(program)
    assert "<lambda>" in repr(jitted)
    check_calls(jitted.fun, [(np.array([3.0, 4.0]),)])


def test_another_thread_printing_while_tracing(capsys):
    go, done = threading.Event(), threading.Event()

    def worker():  # a long-lived thread of the program, printing its own log line
        go.wait(5)
        print("worker log")
        done.set()

    thread = threading.Thread(target=worker)
    thread.start()

    def f(x):
        go.set()
        done.wait(5)  # (the other thread prints while this call is traced)
        return cr.tensor(x) * 2

    jitted = cr.jit(f)
    try:
        assert_same(jitted(np.array([1.0])), cr.tensor(np.array([2.0])))  # traced
        assert_same(jitted(np.array([2.0])), cr.tensor(np.array([4.0])))
    finally:
        go.set()
        thread.join()


def test_version_counters_count_every_write_as_eagerly():
    """Each in-place write bumps a version counter once, at a replay as eagerly: a closed-over
    parameter written twice, its .grad accumulated, a view of an argument written."""
    def make():
        w = cr.tensor(np.array([1.0, 2.0]), requires_grad=True)

        def step(x, t):
            (w * x).sum().backward()
            with cr.no_grad():
                w.sub_(0.1 * w.grad)
                w.mul_(0.5)
                t[0].add_(1.0)
            return w.detach() * 1.0

        return w, step

    (w1, eager), (w2, step) = make(), make()
    jitted = cr.jit(step)
    for k in range(4):
        x = np.array([1.0, -1.0]) + k
        t1, t2 = cr.tensor(np.zeros((2, 2))), cr.tensor(np.zeros((2, 2)))
        assert_same(jitted(x, t2), eager(x, t1), exact=True)
        assert w1._version[0] == w2._version[0] and t1._version[0] == t2._version[0] == 1
        assert w1.grad._version[0] == w2.grad._version[0]


def test_a_result_also_stored_into_state_is_not_replayed():
    """A result the function also keeps (in a dict, a list): eagerly each call stores its own;
    a replay would leave the first one there. So the call runs eagerly, with a JitWarning."""
    cache, store = {}, []

    def f(x):
        y = cr.tensor(x) * 2
        cache["last"] = y
        return y

    def g(x):
        y = x * 2
        store.append(y)
        return y

    jf, jg = cr.jit(f), cr.jit(g)
    with pytest.warns(JitWarning, match="stores new arrays"):
        for k in range(4):
            x = np.array([1.0, 2.0]) + k
            out = jf(x)
            assert cache["last"] is out
            assert_same(out, cr.tensor(x) * 2, exact=True)
            out = jg(x)
            assert store[-1] is out and type(out) is np.ndarray and len(store) == k + 1
            np.testing.assert_array_equal(out, x * 2)


def test_a_result_in_a_structure_also_kept_in_a_cell_is_not_replayed():
    last = None

    def f(x):
        nonlocal last
        y = cr.tensor(x) * 2
        last = y
        return {"y": (y, y * 1)}

    jitted = cr.jit(f)
    with pytest.warns(JitWarning, match="stores new arrays"):
        for k in range(4):
            out = jitted(np.array([1.0, 2.0]) + k)
            assert last is out["y"][0]


def test_data_rebound_inside_is_replayed():
    """``w.data = ...`` inside rebinds a closed-over tensor's array: each replay gives it the
    array it is given then (shared, as eagerly), never the first call's."""
    def run(function):
        w, src, seen = cr.tensor([1.0, 2.0]), [None], []

        def f(x):
            y = w * x
            w.data = src[0]
            return y

        f = function(f)
        for values in ([10.0, 20.0], [100.0, 200.0], [5.0, 6.0], [7.0, 8.0]):
            src[0] = cr.tensor(values)
            seen.append(f(cr.tensor([1.0, 1.0])))
            assert w._array is src[0]._array
        return seen

    with warnings.catch_warnings():
        warnings.simplefilter("error", JitWarning)
        got = run(cr.jit)
    for g, w in zip(got, run(lambda f: f), strict=True):
        assert_same(g, w, exact=True)


def test_data_given_a_numpy_constant_made_inside_runs_eagerly():
    """``w.data = np.zeros(2)`` inside: a replay would give ``w`` the first call's array again
    (shared between calls), so the call runs eagerly, with a warning that says what to do."""
    def run(function):
        w = cr.tensor([1.0, 2.0])

        def f(x):
            y = w * x
            w.data = np.zeros(2)
            with cr.no_grad():
                w.add_(x)
            return y

        f = function(f)
        return [f(cr.tensor([1.0, float(k)])) for k in range(4)]

    with pytest.warns(JitWarning, match="fill the tensor in place"):
        got = run(cr.jit)
    for g, w in zip(got, run(lambda f: f), strict=True):
        assert_same(g, w, exact=True)


def test_a_scalar_tensor_written_in_place():
    """A tensor holding a NumPy scalar (immutable) written in place: eagerly it gets a 0-d
    array, and so at a replay."""
    def make():
        t = cr.tensor(np.float64(1.0))

        def f(x):
            with cr.no_grad():
                t.add_(cr.sum(cr.tensor(x)))
                t.mul_(2.0)
            return t * 1.0

        return t, f

    (t1, eager), (t2, f) = make(), make()
    jitted = cr.jit(f)
    for k in range(4):
        x = np.array([1.0, 2.0]) + k
        assert_same(jitted(x), eager(x), exact=True)
        assert_same(t2, t1, exact=True)
        assert t1._version[0] == t2._version[0]


def test_two_threads_tracing_one_printing():
    """Printing is told apart by thread: of two calls traced at once, only the printing one is
    refused (its next call runs the function again); sys.stdout is the program's again."""
    stdout = sys.stdout
    barrier = threading.Barrier(2)
    # (each function's runs counted by an iterator: a count in a dict is a Python value the
    # call would change, which cr.jit refuses)
    counters = {"printer": itertools.count(1), "quiet": itertools.count(1)}
    runs = dict.fromkeys(counters, 0)
    jitted = {}

    def make(name):
        def f(x):
            runs_now = next(counters[name])
            if runs_now == 1:  # (both first calls at once)
                barrier.wait(5)
                if name == "printer":
                    print("traced")
                barrier.wait(5)
            return cr.tensor(x) * 2

        jitted[name] = cr.jit(f)

    for name in runs:
        make(name)
    def first_call(name):
        try:
            jitted[name](np.array([1.0]))
        except JitWarning:  # (the module's warning filter makes it an error)
            pass

    threads = [threading.Thread(target=first_call, args=(name,)) for name in runs]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sys.stdout is stdout
    for name in runs:
        assert_same(jitted[name](np.array([3.0])), cr.tensor(np.array([6.0])))
    runs = {name: next(counter) - 1 for name, counter in counters.items()}
    assert runs == {"printer": 2, "quiet": 1}, runs


# ---------------------------------------------------------------- an adversarial pass's findings

_GLOBAL_ARRAY = np.ones(3)


class _Arrays:
    def __init__(self):
        self.w, self.b = np.ones(3), np.zeros(3)


def test_arrays_held_by_an_objects_attributes_are_checked():
    model = _Arrays()
    step = cr.jit(lambda x: x @ model.w + model.b)
    for k in range(3):
        assert_same(step(np.ones(3) * k), np.ones(3) * k @ model.w + model.b)
    model.w = np.full(3, 10.0)  # rebound: the replay misses, the call traces again
    assert_same(step(np.ones(3)), np.ones(3) @ model.w + model.b)


def test_writes_through_a_view_of_state_accumulate():
    global _GLOBAL_ARRAY
    _GLOBAL_ARRAY = np.ones(3)
    expected = np.ones(3)

    def f(x):
        _GLOBAL_ARRAY[1:] += x[1:]
        return x * 1

    jitted = cr.jit(f)
    for k in range(4):
        x = np.arange(3.0) + k
        jitted(x)
        expected[1:] += x[1:]
        np.testing.assert_array_equal(_GLOBAL_ARRAY, expected)


def test_a_closed_over_dict_of_arrays_is_checked():
    arrays = {"b": np.zeros(3)}  # (a dict of arrays only: the garbage collector does not see
    # it, the tracer finds it through the function's closure)

    def f(x):
        arrays["b"] -= x
        return x * 1

    jitted = cr.jit(f)
    for _ in range(3):
        jitted(np.ones(3))
    np.testing.assert_array_equal(arrays["b"], [-3.0, -3.0, -3.0])
    arrays["b"] = np.ones(3)  # rebound: seen
    jitted(np.ones(3))
    np.testing.assert_array_equal(arrays["b"], [0.0, 0.0, 0.0])


class _Slotted:
    __slots__ = ("b",)


def test_a_written_array_held_where_nothing_can_be_checked_runs_eagerly():
    store = [_Slotted()]  # (a __slots__ attribute: found by neither way)
    store[0].b = np.zeros(3)

    def f(x):
        store[0].b -= x
        return x * 1

    jitted = cr.jit(f)
    with pytest.warns(JitWarning, match="writes into an array that is held where"):
        for _ in range(3):
            jitted(np.ones(3))
    np.testing.assert_array_equal(store[0].b, [-3.0, -3.0, -3.0])


def test_views_of_a_returned_copy_are_not_overwritten_by_later_replays():
    f = lambda x: (np.sin(x) * 2).copy()[1:]  # noqa: E731
    jitted = cr.jit(f)
    x0, x1 = np.full(1024, 0.5), np.full(1024, 1.5)
    jitted(x0)
    b, c = jitted(x0), jitted(x1)
    np.testing.assert_array_equal(b, f(x0))
    assert not np.shares_memory(b, c)


def test_negative_zero_is_another_signature():
    jitted = cr.jit(lambda x, s: x / s)
    with np.errstate(divide="ignore"):
        assert_same(jitted(np.ones(2), 0.0), np.ones(2) / 0.0)
        assert_same(jitted(np.ones(2), -0.0), np.ones(2) / -0.0)


@pytest.mark.filterwarnings("ignore::PendingDeprecationWarning")  # (np.matrix)
def test_ndarray_subclasses_run_eagerly():
    a = np.matrix([[1.0, 2.0], [3.0, 4.0]])
    with pytest.warns(JitWarning, match="subclass of ndarray"):
        got = cr.jit(lambda m: m * m)(a)
    np.testing.assert_array_equal(got, a * a)


def test_an_argument_whose_grad_is_none_at_a_replay():
    def f(t):
        (t * t).sum().backward()
        return t.grad * 1

    jitted = cr.jit(f)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", JitWarning)  # (alternating: escapes)
        for k in range(4):
            t1, t2 = (cr.tensor(np.arange(3.0) + k, requires_grad=True) for _ in range(2))
            if k % 2:
                t1.grad, t2.grad = cr.tensor(np.ones(3)), cr.tensor(np.ones(3))
            assert_same(jitted(t1), f(t2))


def test_views_of_closed_over_tensors_are_views_while_tracing():
    """A view of a closed-over tensor is a view in the traced call as eagerly: it shares the
    version counter (bumped twice by `w[1:] += x`), and a write through it is differentiated
    through its base."""
    def make():
        w = cr.tensor(np.ones(4))
        p = cr.tensor(np.array([1.0, 2.0, 3.0, 4.0]), requires_grad=True)

        def f(x):
            with cr.no_grad():
                w[1:] += x[1:]
            y = p * 1.0
            y[1:].mul_(cr.tensor(x[1:]))
            cr.sum(y * y).backward()
            grad = p.grad * 1.0
            p.grad.zero_()
            return w * 1.0, grad

        return w, f

    (w1, eager), (w2, f) = make(), make()
    jitted = cr.jit(f)
    for k in range(4):
        x = np.arange(4.0) + k
        assert_same(jitted(x), eager(x))
        assert w1._version[0] == w2._version[0] == 2 * (k + 1)


@pytest.mark.parametrize("error", ["LinAlgError", "IndexError", "FloatingPointError"])
def test_a_path_where_the_function_caught_a_numpy_error_is_never_replayed(error):
    """The first call takes the `except` path (the error came from a NumPy call on traced
    values): no program is made of it, since no guard could tell the next calls' values
    apart; later calls trace their own path, and one that raises at replay runs eagerly."""
    def f(x, i):
        try:
            with np.errstate(divide="raise"):
                if error == "LinAlgError":
                    y = np.linalg.inv(x)
                elif error == "IndexError":
                    y = x[i] * np.ones((2, 2))
                else:
                    y = 1.0 / x
        except (np.linalg.LinAlgError, IndexError, FloatingPointError):
            y = np.zeros((2, 2))
        return y + 1

    bad = (np.ones((2, 2)) - (error == "FloatingPointError"), np.array([0, 7]))
    good = (np.eye(2) * 2 + 1, np.array([0, 1]))
    jitted = cr.jit(f)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", JitWarning)
        for args in (bad, good, good, good, bad, good):
            assert_same(jitted(*args), f(*args), what=error)
