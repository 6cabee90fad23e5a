"""cr.jit's fusion of elementwise chains into numexpr kernels (chainrule/tracing/fuse.py).

Every jitted function is compared with the same function run eagerly, on its first call (the
trace) and on later calls with new values (replays of the fused program): the same dtype, the
values to float tolerance (numexpr's transcendental functions may differ in the last bit), the
same effects on state. The printed program says which instructions became kernels."""

from __future__ import annotations

import re

import numpy as np
import pytest

import chainrule as cr
from chainrule.tracing import fuse as fusion

numexpr = pytest.importorskip("numexpr")

RTOL = {np.dtype(np.float32): 2e-6, np.dtype(np.float64): 1e-13}
# a kernel's line: (target, arguments, dtype, shape, expression)
KERNEL = re.compile(r"^ *(v\d+) = fused\d+\((.*)\)  # (\w+)\[([\d,]*)\] = (.*)$", re.M)


def _values(result):
    if isinstance(result, tuple):
        return tuple(_values(item) for item in result)
    return result.detach().numpy() if isinstance(result, cr.Tensor) else np.asarray(result)


def _same(got, expected, rtol=None):
    if isinstance(expected, tuple):
        assert len(got) == len(expected)
        for mine, theirs in zip(got, expected, strict=True):
            _same(mine, theirs, rtol)
        return
    assert got.dtype == expected.dtype and got.shape == expected.shape
    tolerance = rtol if rtol is not None else RTOL.get(expected.dtype, 0)
    np.testing.assert_allclose(got, expected, rtol=tolerance, atol=tolerance)


def check(f, *calls, fuse=True, rtol=None):
    """``f`` jitted against ``f``, on each argument tuple of ``calls`` (the first traces);
    returns the printed program."""
    jitted = cr.jit(f, fuse=fuse)
    for args in calls:
        _same(_values(jitted(*args)), _values(f(*args)), rtol)
    return str(jitted.trace(*calls[0]))


def _kernels(program: str) -> list:
    return KERNEL.findall(program)


def _rng_arrays(dtype, *shapes, seed=0, positive=False):
    rng = np.random.default_rng(seed)
    made = [rng.standard_normal(shape).astype(dtype) for shape in shapes]
    return tuple(np.abs(a) + np.asarray(0.5, dtype) if positive else a for a in made)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_an_arithmetic_chain_is_one_kernel_with_numpys_dtype(dtype):
    def f(x, y):
        return (x * 1.01 + y / 3.0 - 0.5) * x - (-y) ** 2 + 1 / x

    program = check(f, _rng_arrays(dtype, 1000, 1000), _rng_arrays(dtype, 1000, 1000, seed=1))
    kernels = _kernels(program)
    assert len(kernels) == 1 and kernels[0][2] == np.dtype(dtype).name, program
    assert "multiply(" not in program and "add(" not in program


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_transcendental_functions_match_to_float_tolerance(dtype):
    def f(x, y):
        a = np.sin(x) * np.cos(y) + np.tan(x) * np.arctan(y) + np.arctan2(x, y)
        b = np.exp(-x) * np.log(x) + np.log1p(y) + np.expm1(-y) + np.log10(x) + np.sqrt(y)
        c = np.tanh(x) + np.sinh(y) * np.cosh(x) + np.abs(x - 1.5) + np.square(x) + x ** 0.5
        return a + b + c + x ** 3 + x ** y + np.reciprocal(y)

    rtol = 10 * RTOL[np.dtype(dtype)]
    program = check(f, _rng_arrays(dtype, 500, 500, positive=True),
                    _rng_arrays(dtype, 500, 500, seed=3, positive=True), rtol=rtol)
    kernels = _kernels(program)
    assert len(kernels) == 1 and "arctan2(" in kernels[0][4], program


def test_broadcasting_scalars_and_state_arrays():
    w = np.linspace(0.5, 1.5, 7)  # closed over: read by identity at each replay
    scale = np.float64(2.5)

    def f(x, s):
        return np.sin(x * w + s) * scale - x / (s + 1.0)

    x1, x2 = _rng_arrays(np.float64, (5, 7), (5, 7))
    program = check(f, (x1, np.float64(0.25)), (x2, np.float64(-1.5)))
    assert len(_kernels(program)) == 1, program
    w[:] = 3.0  # a replay reads the new values
    check(f, (x1, np.float64(0.25)))


def test_a_broadcast_input_is_computed_once_not_per_element():
    def f(x, row):
        return np.exp(row * 2.0) * x + 1.0

    x1, x2 = _rng_arrays(np.float64, (50, 40), (50, 40))
    row = np.linspace(0, 1, 40)
    program = check(f, (x1, row), (x2, row * 2))
    (kernel,) = [kernel for kernel in _kernels(program) if kernel[3] == "50,40"]
    assert "exp(" not in kernel[4], program  # (row * 2.0 and its exp are row-sized)
    (row_kernel,) = [kernel for kernel in _kernels(program) if kernel[3] == "40"]
    assert row_kernel[4].startswith("exp("), program


def test_mixed_float32_and_float64_promote_as_numpy():
    def f(x32, y64, s32):
        return np.sin(x32) * 1.5 + y64 * s32 + x32 * s32

    x, y = _rng_arrays(np.float32, 300, 300)
    args = (x, y.astype(np.float64), np.float32(0.75))
    program = check(f, args, (x * 2, y.astype(np.float64) / 3, np.float32(-2.0)), rtol=1e-6)
    assert all(kernel[2] in ("float32", "float64") for kernel in _kernels(program))
    assert _values(cr.jit(f, fuse=True)(*args)).dtype == np.float64


def test_float32_constants_stay_float32():
    """numexpr would make 1.01 a float64 constant (and the result float64): it is a float32
    input of the kernel, as NumPy 2 casts it."""
    def f(x):
        return x * 1.01 + 0.1

    x1, x2 = _rng_arrays(np.float32, 100, 100)
    program = check(f, (x1,), (x2,), rtol=0)  # (one rounding per operation, as NumPy)
    (kernel,) = _kernels(program)
    assert kernel[2] == "float32" and "np.float32(1.01)" in kernel[4], program


def test_float64_division_by_a_constant_is_a_division():
    def f(x):
        return x / 3.0 + x / 7

    x1, x2 = _rng_arrays(np.float64, 1000, 1000)
    check(f, (x1,), (x2,), rtol=0)


@pytest.mark.parametrize("dtype", [np.int64, np.int32, np.bool_, np.complex128, np.float16])
def test_other_dtypes_are_left_to_numpy(dtype):
    def f(x, y):
        return (x * y + x) * y

    x = np.arange(1, 13).astype(dtype)
    program = check(f, (x, x[::-1].copy()), (x[::-1].copy(), x))
    assert not _kernels(program), program


def test_integer_operands_of_float_chains_are_left_to_numpy():
    def f(x, n):
        return np.sin(x) * n + 1.0  # (numexpr would compute int32 * float32 in float64)

    x1, x2 = _rng_arrays(np.float32, 64, 64)
    n = np.arange(64, dtype=np.int32)
    program = check(f, (x1, n), (x2, n + 1), rtol=1e-6)  # (sin in float32, the rest float64)
    assert re.search(r"= v\d+ \* v1  # float64", program), program
    assert not any("v1" in kernel[1].split(", ") for kernel in _kernels(program)), program


def test_a_chain_interrupted_by_an_op_numexpr_lacks():
    def f(x):
        a = np.sin(x) * 2.0 + 1.0
        b = np.cumsum(a)  # not elementwise: a must exist as an array
        return b * 3.0 - np.cos(b)

    x1, x2 = _rng_arrays(np.float64, 400, 400)
    program = check(f, (x1,), (x2,))
    assert len(_kernels(program)) == 2 and "cumsum(" in program, program


def test_values_returned_or_read_twice_exist_as_arrays():
    def f(x):
        a = np.exp(x) * 0.5  # returned
        b = np.sin(x) + 1.0  # read twice
        c = b * b + a
        return a, c - b

    x1, x2 = _rng_arrays(np.float64, 400, 400)
    program = check(f, (x1,), (x2,))
    targets = {kernel[0] for kernel in _kernels(program)}
    assert len(targets) == 3, program


def test_a_guard_reads_an_array_of_the_chain():
    def f(x):
        a = np.sin(x) * 2.0
        if float(a.sum()) > 0:
            return a * 3.0 + 1.0
        return a - 1.0

    x = np.linspace(-1, 2, 300)
    check(f, (x,), (x + 0.5,), (-x,), (x * 2,))


def test_a_state_array_written_between_is_read_before_the_write():
    w = np.linspace(1.0, 2.0, 200)
    start = w.copy()

    def f(x):
        a = np.sin(x) * w  # reads the old w
        np.multiply(x, 3.0, out=w)
        return a * 2.0 + w

    x1, x2 = _rng_arrays(np.float64, 200, 200)
    jitted = cr.jit(f, fuse=True)
    for x in (x1, x2, x1 * 3):
        w[:] = start
        expected = f(x)
        written = w.copy()
        w[:] = start
        _same(np.asarray(jitted(x)), np.asarray(expected))
        np.testing.assert_array_equal(w, written)
    w[:] = start
    assert _kernels(str(jitted.trace(x1)))


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_gradients_of_wide_chains(dtype):
    def loss(x):
        y = x
        for _ in range(6):
            y = cr.sin(y) * 1.01
        return cr.sum(y * y)

    x1, x2 = _rng_arrays(dtype, 4096, 4096)
    grad = cr.grad(loss)
    program = check(grad, (x1,), (x2,), (x1 * 0.5,), rtol=50 * RTOL[np.dtype(dtype)])
    assert len(_kernels(program)) >= 2, program


def test_the_pytorch_spelling_writes_grad_as_eagerly():
    x = cr.tensor(np.linspace(-2, 2, 1000), requires_grad=True)
    eager = cr.tensor(np.linspace(-2, 2, 1000), requires_grad=True)

    def step(leaf):
        if leaf.grad is not None:
            leaf.grad.zero_()
        loss = cr.sum(cr.cos(leaf * 1.5) * leaf + leaf * leaf)
        loss.backward()
        with cr.no_grad():
            leaf -= 0.01 * leaf.grad
        return loss

    jitted = cr.jit(step, fuse=True)
    for _ in range(4):
        _same(_values(jitted(x)), _values(step(eager)))
        _same(x.grad.numpy(), eager.grad.numpy())
        _same(x.detach().numpy(), eager.detach().numpy())


def test_the_default_fuses_only_big_arrays_and_what_gains(monkeypatch):
    def f(x):
        return np.exp(np.sin(x) * 2.0 + 1.0) * x - 3.0

    x64, = _rng_arrays(np.float64, 4096)
    assert not _kernels(check(f, (x64,), fuse=None))  # (small arrays: NumPy's calls)
    monkeypatch.setattr(fusion, "MIN_BYTES", 1024)
    program = check(f, (x64,), (x64 * 2,), fuse=None)
    kernels = _kernels(program)
    assert len(kernels) == 2 and re.search(r"v\d+ = exp\(", program), program
    assert not any("exp(" in kernel[4] for kernel in kernels)  # (NumPy's SIMD exp is faster)
    program = check(f, (x64.astype(np.float32),), fuse=None)  # float32: arithmetic only
    assert [kernel[4] for kernel in _kernels(program)] == ["v1 * 2 + 1", "v4 * v0 - 3"], program


def test_fuse_false_never_fuses():
    def f(x):
        return np.sin(x) * 2.0 + 1.0

    x1, x2 = _rng_arrays(np.float64, 300, 300)
    assert not _kernels(check(f, (x1,), (x2,), fuse=False))
    assert _kernels(check(f, (x1,), (x2,), fuse=True))


def test_without_numexpr_fuse_true_says_how_to_install_and_none_runs_unfused(monkeypatch):
    monkeypatch.setattr(fusion, "_module", None)  # (as if ``import numexpr`` failed)

    def f(x):
        return np.sin(x) * 2.0 + 1.0

    x1, x2 = _rng_arrays(np.float64, 300, 300)
    with pytest.raises(ImportError, match=re.escape("pip install 'chainrule[jit]'")):
        cr.jit(f, fuse=True)  # (at jit(), before any call)
    monkeypatch.setattr(fusion, "MIN_BYTES", 8)
    assert not _kernels(check(f, (x1,), (x2,), fuse=None))
    assert fusion.fuser(None) is None and fusion.fuser(False) is None


def test_the_printed_program_shows_each_fused_expression():
    def f(x, y):
        return np.sin(x) * y + 2.0

    x1, y1 = _rng_arrays(np.float64, 64, 64)
    program = check(f, (x1, y1), fuse=True)
    assert re.search(r"v\d+ = fused0\(v0, v1\)  # float64\[64\] = sin\(v0\) \* v1 \+ 2\.0",
                     program), program
    assert re.search(r"# v\d+ = sin\(v0\): in v\d+'s kernel", program), program


def test_a_kernel_never_writes_into_an_input_of_its_own():
    """The buffer planned for a chain's last value may hold a value the chain reads (freed
    once the instruction folded into the kernel read it); numexpr uses its output as scratch
    space before it reads all its inputs: the kernel then makes its own array."""
    def f(x):
        p = np.minimum(x, 0.2)  # (ufuncs numexpr lacks: arrays in buffers)
        l = np.maximum(x, 0.5)
        s = np.sin(p)  # p's buffer is free after this
        c = np.cos(l)  # l's buffer too: the next free one
        return np.cumsum(s * c)  # s * c: planned into l's buffer

    x1, x2 = _rng_arrays(np.float64, 5000, 5000)
    program = check(f, (x1,), (x2,), (x1 * 3,))
    kernel = [kernel for kernel in _kernels(program) if "cos(" in kernel[4]]
    assert kernel and "out=" not in kernel[0][1], program


def test_many_inputs_split_into_kernels_within_numexprs_limits():
    def f(*xs):
        total = xs[0] * 1.0
        for x in xs[1:]:
            total = total + np.sin(x) * x
        return total

    arrays = _rng_arrays(np.float64, *([50] * 40))
    program = check(f, arrays, tuple(a * 2 for a in arrays))
    kernels = _kernels(program)
    assert len(kernels) >= 2
    assert all(len(kernel[1].split(", ")) <= fusion.MAX_INPUTS + 1 for kernel in kernels)


def test_threads_replay_fused_kernels_at_once():
    import threading

    def loss(x):
        return cr.sum(cr.sin(x * 1.5) * x + x * x)

    step, grad = cr.jit(cr.grad(loss), fuse=True), cr.grad(loss)
    inputs = [np.random.default_rng(seed).standard_normal(20000) for seed in range(4)]
    expected = [np.asarray(grad(x)) for x in inputs]
    step(inputs[0])
    mismatches = []

    def work(index):
        for _ in range(10):
            got = np.asarray(step(inputs[index]))
            if not np.allclose(got, expected[index], rtol=1e-12, atol=1e-12):
                mismatches.append(index)

    threads = [threading.Thread(target=work, args=(index,)) for index in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert mismatches == [] and _kernels(str(step.trace(inputs[0])))


def test_buffers_of_values_inside_a_kernel_are_not_allocated():
    """The intermediate values of a fused chain live in numexpr's registers: the program
    allocates buffers only for what its lines write (out=)."""
    def f(x, w):
        a = np.sin(x) * 2.0
        b = np.cos(w) * 3.0
        c = a * b + a / b
        return c.sum(), (a + 1.0).sum()

    x = np.linspace(0.0, 1.0, 50_000)
    for fuse in (True, False):
        program = cr.jit(f, fuse=fuse).trace(x, x + 1)
        written = set(re.findall(r"out=b(\d+)", str(program)))
        allocated = [b for b in program.new_buffers() if b is not None]
        assert len(allocated) == len(written) == program.stats["buffers"], program
