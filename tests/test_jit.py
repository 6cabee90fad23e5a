"""``cr.jit`` against eager chainrule: every jitted call is compared with the same function run
eagerly, on the first (tracing) call and on later calls with new values (replays): results
(values, dtypes, shapes, types, identity), effects on state (parameters, ``.grad`` buffers,
version counters, arrays written in place), warnings and errors. Adversarial: control flow on
values, state rebound between calls, side effects, composition with the other transforms,
threads. Known bugs are xfailed strictly with their reason."""

from __future__ import annotations

import copy
import warnings

import numpy as np
import pytest
from backend_checks import floats
from op_samples import COMPLEX_SAMPLES, SAMPLES

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


def assert_same(got, want, exact=False, what="", scalars=False):
    """Same pytree structure, same leaf types, dtypes and shapes, equal values (``scalars``:
    a NumPy scalar and a 0-d array taken as the same type: test_zero_d_gradient_type's)."""
    got_leaves, got_tree = cr.tree_util.tree_flatten(got)
    want_leaves, want_tree = cr.tree_util.tree_flatten(want)
    assert got_tree == want_tree, (what, got_tree, want_tree)
    for g, w in zip(got_leaves, want_leaves, strict=True):
        (gk, ga), (wk, wa) = _leaf(g), _leaf(w)
        assert _plain(gk) == _plain(wk), (what, gk, wk)
        if isinstance(wa, (np.ndarray, np.generic)):
            if not (scalars and ga.ndim == 0):
                assert type(ga) is type(wa), (what, type(ga), type(wa))
            assert ga.dtype == wa.dtype and ga.shape == wa.shape, \
                (what, ga.dtype, wa.dtype, ga.shape, wa.shape)
            if exact:
                np.testing.assert_array_equal(ga, wa, err_msg=what)
            else:
                np.testing.assert_allclose(ga, wa, rtol=1e-11, atol=1e-12, err_msg=what)
        else:
            assert ga == wa or (ga != ga and wa != wa), (what, ga, wa)
        if isinstance(w, cr.Tensor):
            assert g.requires_grad == w.requires_grad, what


def _copies(args):
    return copy.deepcopy(args)


def check_calls(fun, calls, exact=False, scalars=False, **jit_options):
    """``cr.jit(fun)`` on each argument tuple of ``calls`` (in order: a trace, then replays)
    equals ``fun`` on a copy of it."""
    jitted = cr.jit(fun, **jit_options)
    for position, args in enumerate(calls):
        want = fun(*_copies(args))
        got = jitted(*_copies(args))
        assert_same(got, want, exact, f"call {position}", scalars)
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


# The samples whose jitted value or gradient differs from eager (or crashes): strict xfails.
_VALUE_FAILS = {
    'adjugate', 'adjugate[complex]', 'adjugate[stack]', 'det_sign', 'det_sign[complex]',
    'eig_factors', 'eig_factors[complex eigenvalues]', 'eig_factors[complex]', 'eigh_factors',
    'eigh_factors[complex]', 'eigh_factors[upper stack]', 'linalg.eig',
    'linalg.eig[complex eigenvalues]', 'linalg.eigh[complex |V|**2]',
    'linalg.eigh[symmetrised stack]', 'linalg.eigh[upper]', 'linalg.qr[complete R]',
    'linalg.qr[complex r]', 'linalg.qr[reduced]', 'linalg.qr[wide]', 'linalg.slogdet',
    'linalg.slogdet[sign]', 'linalg.svd[complex polar factor]',
    'linalg.svd[full matrices, reduced part]', 'linalg.svd[hermitian]', 'linalg.svd[reduced]',
    'linalg.svd[square stack]', 'logabsdet', 'logabsdet[complex]', 'polygamma',
    'qr_factors[complex]', 'qr_factors[square stack]', 'qr_factors[tall]',
    'svd_factors[complex (2, 3)]', 'svd_factors[complex (4, 3)]', 'svd_factors[stack]',
    'svd_factors[tall]', 'svd_factors[wide]',
}
_GRAD_FAILS = {
    'adjugate', 'adjugate[complex]', 'adjugate[stack]', 'det', 'det[complex]', 'det[stack]',
    'det_sign[complex]', 'eig_factors', 'eig_factors[complex eigenvalues]', 'eig_factors[complex]',
    'eigh_factors', 'eigh_factors[complex]', 'eigh_factors[upper stack]', 'linalg.det',
    'linalg.eig', 'linalg.eig[complex eigenvalues]', 'linalg.eigh[complex |V|**2]',
    'linalg.eigh[symmetrised stack]', 'linalg.eigh[upper]', 'linalg.norm[complex matrix ord -2]',
    'linalg.norm[complex matrix ord 2]', 'linalg.norm[complex matrix ord nuc]',
    'linalg.norm[matrix ord -2 axes (2, 0) keepdims]', 'linalg.norm[matrix ord -2]',
    'linalg.norm[matrix ord 2 axes (2, 0) keepdims]', 'linalg.norm[matrix ord 2]',
    'linalg.norm[matrix ord nuc axes (2, 0) keepdims]', 'linalg.norm[matrix ord nuc]',
    'linalg.qr[complete R]', 'linalg.qr[complex r]', 'linalg.qr[reduced]', 'linalg.qr[wide]',
    'linalg.svd[complex hermitian values]', 'linalg.svd[complex polar factor]',
    'linalg.svd[full matrices, reduced part]', 'linalg.svd[hermitian]', 'linalg.svd[reduced]',
    'linalg.svd[square stack]', 'linalg.svd[values]', 'linalg.svdvals', 'qr_factors[complex]',
    'qr_factors[square stack]', 'qr_factors[tall]', 'svd_factors[complex (2, 3)]',
    'svd_factors[complex (4, 3)]', 'svd_factors[stack]', 'svd_factors[tall]', 'svd_factors[wide]',
    'svdvals', 'svdvals[complex]', 'svdvals[stack]',
}
_PRECEDENCE = ("the program prints a negative constant left of ** without parentheses: "
               "`-1.0 ** v` is -(1.0 ** v)")
_NAMEDTUPLE = ("NumPy's linalg functions return named tuples (SlogdetResult, SVDResult, "
               "EighResult, EigResult, QRResult), which the tracer does not trace: their values "
               "are lost (None, or frozen as constants at replay) or refused with "
               "NotImplementedError")


def _table_params(kind):
    failing = _VALUE_FAILS if kind == "value" else _GRAD_FAILS
    params = []
    for sample in SAMPLES + COMPLEX_SAMPLES:
        if not _inputs(sample) or kind == "grad" and not sample.differentiable:
            continue
        marks = ()
        if sample.id in failing:
            reason = _PRECEDENCE if sample.name == "polygamma" else _NAMEDTUPLE
            marks = pytest.mark.xfail(strict=True, reason=reason)
        params.append(pytest.param(sample, id=sample.id, marks=marks))
    return params


def _check_sample(sample, kind):
    positions, value = _sample_function(sample)
    fun = value
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
        check_calls(fun, [first, [nudge(x) for x in first], [nudge(x, 2) for x in first]],
                    scalars=True)


@pytest.mark.parametrize("sample", _table_params("value"))
def test_op_table_value(sample):
    _check_sample(sample, "value")


@pytest.mark.parametrize("sample", _table_params("grad"))
def test_op_table_grad(sample):
    _check_sample(sample, "grad")
