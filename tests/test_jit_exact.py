"""``cr.jit`` computes what the eager call computes, bit for bit, where chainrule chooses
between computations that round differently by the type of an array (kernels.numpy_path): the
tracing array takes NumPy's path, as the ndarray it stands for does, on the tracing call and on
replays. The data are chosen so that the other path gives another result."""

from __future__ import annotations

import numpy as np
import pytest

import chainrule as cr
from chainrule import kernels
from chainrule.ops.index import scatter_add


def _check(fun, calls):
    jitted = cr.jit(fun)
    for position, args in enumerate(calls):
        got, want = jitted(*args), fun(*args)
        np.testing.assert_array_equal(got._array, want._array, err_msg=f"call {position}")


def test_repeated_positions_accumulate_in_numpys_order():
    """``scatter_add`` (indexing's reverse rule) adds at repeated positions with ``np.add.at``,
    in order: 1e16 + 1 - 1e16 + 1 = 1 (the other libraries' path sums each position's run
    pairwise, to 0)."""
    index = (np.array([0, 0, 0, 0]),)
    scatter = lambda g: scatter_add(cr.tensor(g), index=index, shape=(2,)) * 1  # noqa: E731
    _check(scatter, [(np.array([1e16, 1.0, -1e16, 1.0]),), (np.array([1e16, 3.0, -1e16, 1.0]),)])
    assert scatter(np.array([1e16, 1.0, -1e16, 1.0]))._array[0] == 1.0


def test_sum_over_leading_axis_as_eager():
    """A float sum over a leading block of axes is a matmul with ones eagerly; traced too."""
    rng = np.random.default_rng(0)
    calls = [(rng.standard_normal((1000, 7)),) for _ in range(3)]
    _check(lambda x: cr.sum(cr.tensor(x), axis=0), calls)


@pytest.mark.parametrize("kind", [np.ndarray, np.float64])
def test_numpy_path_is_by_exact_type(kind):
    """Arrays of other libraries (and NumPy's subclasses, scalars) keep their own paths."""
    value = np.zeros(3) if kind is np.ndarray else np.float64(0.0)
    assert kernels.numpy_path(value) is (kind is np.ndarray)
    assert not kernels.numpy_path(np.zeros(3).view(np.ma.MaskedArray))
