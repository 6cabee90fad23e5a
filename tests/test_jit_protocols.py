"""Python protocols of NumPy's arrays and scalars on traced values: ``format`` with a spec,
``round``, ``bytes``, ``copy.copy``/``copy.deepcopy`` behave as eagerly (a Python value guarded,
an array traced), and ``memoryview`` raises saying why."""

from __future__ import annotations

import copy

import numpy as np
import pytest
from test_jit import assert_same

import chainrule as cr


def _same(f, inputs):
    jitted = cr.jit(f)
    for k, x in enumerate(inputs):
        assert_same(jitted(x.copy()), f(x.copy()), what=str(k))
    return jitted


def _floats(n=4):
    return [np.array([1.0, 2.25]) + 0.5 * k for k in range(n)]


@pytest.mark.parametrize("spec", ["", ".2f", "+.3e", ">10.1%"])
def test_format_of_a_traced_scalar(spec):
    _same(lambda x: (x * 2, format(np.sum(x), spec), f"{x[0]:{spec}}"), _floats())


def test_format_of_a_traced_array():
    _same(lambda x: (x * 2, format(x, "")), _floats())
    with pytest.raises(TypeError, match="unsupported format string"):
        cr.jit(lambda x: format(x, ".2f"))(np.ones(2))


def test_round_of_a_traced_scalar():
    # (to an int: guarded; to digits: traced, the same program for every value)
    _same(lambda x: (x * round(np.sum(x)), x * round(x[1], 1), round(np.max(x), 2)),
          _floats())
    _same(lambda x: x * round(x[0] * 3), [np.array([1, 2]) + k for k in range(3)])


def test_round_with_digits_replays_without_tracing_again():
    jitted = _same(lambda x: x * round(np.sum(x), 1), _floats())
    (entry,) = jitted._cache.values()
    assert len(entry.programs) == 1


def test_round_of_a_traced_array_raises_as_numpy():
    with pytest.raises(TypeError, match="__round__"):
        cr.jit(lambda x: round(x * 2))(np.ones(2))


@pytest.mark.parametrize("how", [copy.copy, copy.deepcopy])
def test_copies_of_traced_values(how):
    def f(x):
        y = x * 2
        mine = how(y)
        mine += 1  # (a copy: y is unchanged)
        return y, mine, how(np.sum(x)), how(x[::-1])

    _same(f, _floats())
    fortran = [np.asfortranarray(np.arange(6.0).reshape(2, 3)) + k for k in range(3)]
    jitted = _same(lambda x: how(x * 2), fortran)
    assert jitted(fortran[0]).flags.f_contiguous


def test_deepcopy_of_a_structure_keeps_its_sharing():
    def f(x):
        y = x * 2
        pair = copy.deepcopy([y, y])
        return pair[0] is pair[1], pair[0] + 1

    _same(f, _floats())


@pytest.mark.parametrize("dtype", ["int64", "uint8", "float32"])
def test_bytes_of_a_traced_array_are_its_memory(dtype):
    _same(lambda x: (x + 1, bytes(x)), [np.array([1, 2], dtype=dtype) + k for k in range(3)])


def test_memoryview_of_a_traced_array():
    """A tracing array has no buffer protocol (NumPy's asarray would read the memory through
    it, untraced): memoryview() of one raises, saying what to do."""
    def f(x):
        return x * memoryview(x)[0]

    with pytest.raises(TypeError, match="cannot trace memoryview"):
        cr.jit(f)(np.ones(2))
