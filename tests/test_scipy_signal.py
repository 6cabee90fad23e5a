"""chainrule.scipy.signal.convolve: SciPy's values, HIPS autograd's axes/dot_axes, derivatives
in both modes to second order."""

from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("scipy")
import scipy.signal  # noqa: E402
from scipy_checks import check  # noqa: E402

import chainrule as cr  # noqa: E402
from chainrule.scipy.signal import convolve  # noqa: E402

R = np.random.default_rng(3).standard_normal
MODES = ["full", "valid", "same"]

SHAPES = [((4,), (2,)), ((5,), (3,)), ((3,), (6,)), ((4,), (4,)), ((4, 3), (2, 2)),
          ((5, 4), (3, 2)), ((6, 7), (4, 1)), ((2, 3), (4, 5)), ((3, 2, 4), (2, 2, 3))]


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("shapes", SHAPES, ids=str)
def test_values_are_scipys(shapes, mode):
    a, b = R(shapes[0]), R(shapes[1])
    expected = scipy.signal.convolve(a, b, mode)
    for method in ("auto", "direct", "fft"):
        got = convolve(a, b, mode, method)
        assert got.shape == expected.shape
        np.testing.assert_allclose(got.numpy(), expected, atol=1e-12)


def test_complex_and_integer_values_are_scipys():
    a, b = R(5) + 1j * R(5), R(3) - 2j * R(3)
    for mode in MODES:
        np.testing.assert_allclose(convolve(a, b, mode).numpy(), scipy.signal.convolve(a, b, mode))
    ints = np.arange(5), np.array([1, 2])
    np.testing.assert_array_equal(convolve(*ints).numpy(), scipy.signal.convolve(*ints))


def test_valid_needs_one_operand_larger_in_every_convolved_axis():
    with pytest.raises(ValueError, match="at least as large"):
        convolve(R((4, 2)), R((2, 4)), "valid")
    with pytest.raises(ValueError, match="same dimensionality"):
        convolve(R((4, 2)), R(3))


@pytest.mark.parametrize("kwargs, match", [
    ({"mode": "circular"}, "mode"),
    ({"method": "fast"}, "method"),
    ({"axes": ([0], [0, 1])}, "pairs 1 axes of in1 with 2"),
    ({"axes": ([0], [0]), "dot_axes": ([0], [1])}, "named twice"),
    ({"axes": ([1], [1]), "dot_axes": ([0], [0])}, "equal sizes"),
    ({"axes": "01"}, "is a pair"),
])
def test_bad_arguments_say_what_is_wrong(kwargs, match):
    with pytest.raises((ValueError, TypeError), match=match):
        convolve(R((3, 4)), R((2, 4)), **kwargs)


def test_hips_generalisation_matches_sums_of_scipy_convolutions():
    a35, a34, a342 = R((3, 5)), R((3, 4)), R((3, 4, 2))
    a2543, a24232 = R((2, 5, 4, 3)), R((2, 4, 2, 3, 2))
    for mode in ("valid", "full"):
        np.testing.assert_allclose(
            convolve(a35, a34, axes=([1], [0]), mode=mode).numpy()[1, 2],
            scipy.signal.convolve(a35[1, :], a34[:, 2], mode))
        np.testing.assert_allclose(
            convolve(a35, a34, axes=([], []), dot_axes=([0], [0]), mode=mode).numpy(),
            np.tensordot(a35, a34, axes=([0], [0])))
        np.testing.assert_allclose(
            convolve(a35, a342, axes=([1], [2]), dot_axes=([0], [0]), mode=mode).numpy()[2],
            sum(scipy.signal.convolve(a35[i, :], a342[i, 2, :], mode) for i in range(3)))
        np.testing.assert_allclose(
            convolve(a2543, a24232, axes=([1, 2], [2, 4]), dot_axes=([0, 3], [0, 3]),
                     mode=mode).numpy()[2],
            sum(scipy.signal.convolve(a2543[i, :, :, j], a24232[i, 2, :, j, :], mode)
                for i in range(2) for j in range(3)))


@pytest.mark.parametrize("mode", MODES)
def test_derivatives_1d(mode):
    for a in (R(4), R(5), R(6)):
        for b in (R(2), R(3), R(4)):
            check(lambda x, y: convolve(x, y, mode), (a, b))


@pytest.mark.parametrize("mode", MODES)
def test_derivatives_2d(mode):
    for a in (R((4, 3)), R((5, 4)), R((6, 7))):
        for b in (R((2, 2)), R((3, 2)), R((4, 2)), R((4, 1))):
            if mode == "valid" and not (all(np.greater_equal(a.shape, b.shape))
                                        or all(np.less_equal(a.shape, b.shape))):
                continue
            check(lambda x, y: convolve(x, y, mode), (a, b), order=1)
    check(lambda x, y: convolve(x, y, mode), (R((4, 3)), R((2, 2))))


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("axes", [([0], [0]), ([1], [1]), ([0], [1]), ([1], [0]),
                                  ([0, 1], [0, 1]), ([1, 0], [1, 0])], ids=str)
def test_derivatives_over_chosen_axes(axes, mode):
    check(lambda x, y: convolve(x, y, mode, axes=axes), (R((4, 3)), R((3, 2))))


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("dot_axes", [([0], [2]), ([0], [0])], ids=str)
def test_derivatives_with_dot_axes(dot_axes, mode):
    check(lambda x, y: convolve(x, y, mode, axes=([1], [1]), dot_axes=dot_axes),
          (R((3, 3, 2)), R((3, 2, 3))))


def test_complex_derivatives():
    a, b = R(4) + 1j * R(4), R(3) + 1j * R(3)
    for mode in MODES:
        cr.gradcheck(lambda x, y, mode=mode: convolve(x, y, mode), (a, b))


def test_gradients_are_hips_autograds():
    autograd = pytest.importorskip("autograd")
    import autograd.scipy.signal as hips_signal

    a, b, w = R((3, 5, 2)), R((3, 2, 3)), R((2, 3, 6))

    def loss(conv, x, y):
        return (conv(x, y, axes=([1], [1]), dot_axes=([0], [0]), mode="full") * w).sum()

    expected = autograd.grad(lambda x, y: loss(hips_signal.convolve, x, y), argnum=[0, 1])(a, b)
    got = cr.grad(lambda x, y: loss(convolve, x, y), argnums=(0, 1))(a, b)
    for g, e in zip(got, expected, strict=True):
        np.testing.assert_allclose(g.numpy(), e, atol=1e-12)


def test_gradients_keep_float32():
    x = cr.tensor(R(5).astype(np.float32), requires_grad=True)
    convolve(x, np.ones(3, np.float32), "same").sum().backward()
    assert x.grad.dtype == np.float32
    np.testing.assert_allclose(x.grad.numpy(), [2, 3, 3, 3, 2])
