"""``kernels.sum_axes`` and ``kernels.extremum`` give NumPy's reductions' results (values, shape,
dtype) for every layout, dtype and set of axes, whether or not they take their faster path."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from chainrule.kernels import extremum, sum_axes


@st.composite
def reductions(draw):
    ndim = draw(st.integers(1, 4))
    shape = tuple(draw(st.lists(st.integers(0, 6), min_size=ndim, max_size=ndim)))
    dtype = draw(st.sampled_from([np.float32, np.float64, np.int64, np.complex128, np.bool_]))
    seed = draw(st.integers(0, 2**16))
    array = np.random.default_rng(seed).standard_normal(shape) * 3
    array = array.astype(dtype)
    if draw(st.booleans()) and ndim >= 2:  # a non-contiguous view
        array = array.swapaxes(0, -1)
    axes = sorted(draw(st.sets(st.integers(0, array.ndim - 1), min_size=1)))
    if draw(st.booleans()):
        axes = [a - array.ndim for a in axes]
    return array, tuple(axes), draw(st.booleans())


@settings(max_examples=300, deadline=None)
@given(reductions())
def test_sum_axes_is_numpys_sum(case):
    array, axes, keepdims = case
    expected = np.add.reduce(array, axis=axes, keepdims=keepdims)
    result = sum_axes(array, axes, keepdims)
    assert result.shape == expected.shape
    assert result.dtype == expected.dtype
    tol = 1e-5 if array.dtype == np.float32 else 1e-12
    np.testing.assert_allclose(result, expected, rtol=tol, atol=tol)


@settings(max_examples=300, deadline=None)
@given(reductions(), st.sampled_from([np.maximum, np.minimum]), st.booleans())
def test_extremum_is_numpys_reduce(case, ufunc, with_nan):
    array, axes, keepdims = case
    if with_nan and array.dtype.kind == "f" and array.size:
        array = array.copy()
        array.flat[array.size // 2] = np.nan
    try:
        expected = ufunc.reduce(array, axis=axes, keepdims=keepdims)
    except ValueError as error:  # an empty reduction
        with pytest.raises(ValueError, match=str(error)[:20]):
            extremum(ufunc, array, axes, keepdims)
        return
    result = extremum(ufunc, array, axes, keepdims)
    assert result.shape == expected.shape and result.dtype == expected.dtype
    np.testing.assert_array_equal(result, expected)


@pytest.mark.parametrize("shape", [(256, 10), (1000, 3), (64, 4, 2), (40, 10)])
def test_extremum_transposed_path(shape):
    array = np.random.default_rng(1).standard_normal(shape).astype(np.float32)
    array[3, 1] = np.nan
    for keepdims in (False, True):
        for axes in ((-1,), tuple(range(1, len(shape)))):
            np.testing.assert_array_equal(
                extremum(np.maximum, array, axes, keepdims),
                np.maximum.reduce(array, axis=axes, keepdims=keepdims),
            )


@pytest.mark.parametrize(
    ("shape", "axes", "keepdims"),
    [((256, 10), (1,), True), ((256, 10), (0,), False), ((256, 10), (-2,), True),
     ((8, 4, 5), (0, 1), False), ((8, 4, 5), (-2, -1), True), ((3, 300), (1,), False)],
)
def test_sum_axes_matrix_vector_cases(shape, axes, keepdims):
    array = np.random.default_rng(0).standard_normal(shape).astype(np.float32)
    expected = np.add.reduce(array, axis=axes, keepdims=keepdims)
    result = sum_axes(array, axes, keepdims)
    assert result.shape == expected.shape and result.dtype == np.float32
    np.testing.assert_allclose(result, expected, rtol=1e-5, atol=1e-5)


def test_sum_axes_keeps_infinities_and_nans():
    array = np.array([[1.0, np.inf], [2.0, -np.inf], [np.nan, 1.0]])
    with np.errstate(invalid="ignore"):  # inf - inf, as NumPy's own sum warns
        np.testing.assert_array_equal(sum_axes(array, (0,), False), [np.nan, np.nan])
        np.testing.assert_array_equal(
            sum_axes(array, (1,), True), [[np.inf], [-np.inf], [np.nan]]
        )


def test_sum_axes_result_is_fresh_and_writable():
    # a leaf may adopt it as its .grad (engine._adopt): it must own its buffer
    array = np.ones((6, 4))
    for axes, keepdims in (((0,), False), ((1,), True), ((0,), True), ((1,), False)):
        result = sum_axes(array, axes, keepdims)
        assert result.base is None and result.flags.writeable
        result += 1  # the cached ones vector is not reachable through it
    np.testing.assert_array_equal(sum_axes(array, (0,), False), np.full(4, 6.0))
