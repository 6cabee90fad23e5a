"""NumPy's further functions (the names HIPS autograd differentiates): NumPy's exact values,
dtypes and errors on edge arguments, derivatives where finite differences cannot reach (at 0,
at NaN, at infinities), and the completeness of the list. The op-table tests check them all
against finite differences through tests/op_samples_numpy.py."""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest
from op_samples import by_name

import chainrule as cr
from chainrule import ops

# Every NumPy function HIPS autograd 1.9.1 gives a derivative (numpy_vjps.py), and those it
# declares without one, which chainrule has too. (Not here: ``msort``, gone from NumPy 2;
# HIPS's own ``make_diagonal``, not a NumPy name.)
HIPS_DIFFERENTIATED = """
abs absolute add amax amin angle arccos arccosh arcsin arcsinh arctan arctan2 arctanh
array_split atleast_1d atleast_2d atleast_3d broadcast_to clip concatenate conj conjugate cos
cosh cross cumsum deg2rad degrees diag diagonal diff divide dot dsplit einsum exp exp2
expand_dims expm1 fabs fliplr flipud fmax fmin gradient hsplit hypot imag inner kron linspace log
log10 log1p log2 logaddexp logaddexp2 matmul max maximum mean min minimum mod moveaxis multiply
nan_to_num negative outer pad partition power prod rad2deg radians ravel real real_if_close
reciprocal remainder repeat reshape roll rollaxis rot90 sign sin sinc sinh sort split sqrt square
squeeze std subtract sum swapaxes tan tanh tensordot tile trace transpose tril triu true_divide var
vsplit where stack hstack vstack row_stack column_stack append select r_ c_ cumprod full
""".split()
HIPS_CONSTANT = """
floor ceil round rint around fix trunc argmax argmin argpartition argsort sign floor_divide
logical_and logical_or logical_not logical_xor isfinite isinf isnan greater greater_equal less
less_equal equal not_equal zeros_like ones_like full_like
""".split()


def test_every_name_hips_autograd_differentiates_is_in_the_native_api():
    missing = [name for name in HIPS_DIFFERENTIATED + HIPS_CONSTANT if not hasattr(cr, name)]
    assert missing == []


def test_every_further_numpy_function_has_samples():
    table = by_name()
    missing = [name for name in (*ops.NUMPY_FUNCTIONS, "r_", "c_", "exp2", "sinc", "hypot")
               if f"api.{name}" not in table and name not in table]
    assert missing == []


def test_public_functions_have_docstrings_and_numpys_parameters():
    import inspect

    for name in ops.NUMPY_FUNCTIONS:
        if not hasattr(np, name):  # (row_stack: removed in NumPy 2.5, kept for HIPS's users)
            continue
        function = getattr(cr, name)
        assert function.__doc__, name
        ours = list(inspect.signature(function).parameters)
        theirs = list(inspect.signature(getattr(np, name)).parameters)
        assert [p for p in theirs if p not in ("out", "dtype", "like", "device", "casting",
                                               "copy", "where", "initial", "mean",
                                               "correction", "descending")] == [
            p for p in ours if p not in ("dtype", "casting", "copy")], name


# ---------------------------------------------------------------- values: NumPy's exactly

_INTEGERS = np.arange(12).reshape(3, 4)
_EXACT = {
    "tril int": (lambda m: m.tril(_INTEGERS, 1)),
    "triu bool": (lambda m: m.triu(_INTEGERS > 3, -1)),
    "tril vector": (lambda m: m.tril(np.arange(3.0))),
    "repeat scalar": (lambda m: m.repeat(np.float64(2.0), 3)),
    "repeat zero times": (lambda m: m.repeat(np.arange(3.0), [0, 2, 1])),
    "roll empty": (lambda m: m.roll(np.zeros((0, 3)), 2, 1)),
    "roll negative": (lambda m: m.roll(_INTEGERS, -5)),
    "roll beyond": (lambda m: m.roll(_INTEGERS, (7, -9), (0, 1))),
    "rot90 k=0": (lambda m: m.rot90(_INTEGERS, 0)),
    "rot90 -3": (lambda m: m.rot90(_INTEGERS, -3, (1, 0))),
    "pad 0-d": (lambda m: m.pad(np.float64(2.0), 3)),
    "pad int float values": (lambda m: m.pad(_INTEGERS, 1, constant_values=2.7)),
    "pad wrap wide": (lambda m: m.pad(np.arange(3.0), (7, 5), mode="wrap")),
    "pad reflect wide": (lambda m: m.pad(np.arange(3.0), (5, 4), mode="reflect")),
    "pad symmetric": (lambda m: m.pad(_INTEGERS, ((1, 2), (3, 0)), mode="symmetric")),
    "sort nan": (lambda m: m.sort(np.array([2.0, np.nan, -1.0, np.inf]))),
    "sort ties stable": (lambda m: m.sort(np.array([1, 3, 1, 2]), kind="stable")),
    "partition": (lambda m: m.partition(np.array([5.0, 1.0, 4.0, 2.0, 3.0]), 2)),
    "diff bool": (lambda m: m.diff(np.array([True, False, False, True]))),
    "diff n=0": (lambda m: m.diff(np.arange(3.0), 0)),
    "diff int": (lambda m: m.diff(_INTEGERS**2, 2, axis=0)),
    "gradient int": (lambda m: m.gradient(np.array([1, 4, 9, 16]))),
    "gradient float32": (lambda m: m.gradient(np.arange(4, dtype=np.float32) ** 2, 0.3)),
    "gradient int coordinates": (lambda m: m.gradient(np.arange(4.0) ** 3, [0, 1, 3, 4])),
    "kron int": (lambda m: m.kron(_INTEGERS[:2, :2], np.array([1, -1]))),
    "kron 3-d": (lambda m: m.kron(np.ones((2, 1, 2)), _INTEGERS[:2])),
    "cross int": (lambda m: m.cross(np.array([1, 2, 3]), np.array([4, 5, 6]))),
    "select int": (lambda m: m.select([_INTEGERS > 5, _INTEGERS < 2], [_INTEGERS, -_INTEGERS])),
    "angle": (lambda m: m.angle(np.array([1.0, -1.0, 0.0, -0.0]))),
    "angle int": (lambda m: m.angle(np.array([1, -1]), deg=True)),
    "real_if_close far": (lambda m: m.real_if_close(np.array([1.0 + 1e-3j]))),
    "real_if_close near": (lambda m: m.real_if_close(np.array([1.0 + 1e-15j]))),
    "atleast_3d matrix": (lambda m: m.atleast_3d(_INTEGERS)),
    "hstack scalars": (lambda m: m.hstack([np.float64(1.0), np.float32(2.0)])),
    "vstack dtype": (lambda m: m.vstack([_INTEGERS, _INTEGERS], dtype=np.float32)),
    "column_stack": (lambda m: m.column_stack([np.arange(3), np.ones((3, 2))])),
    "append flat": (lambda m: m.append(_INTEGERS, [[1.5]])),
    "array_split more sections": (lambda m: m.array_split(np.arange(3.0), 5)[4]),
    "nansum int": (lambda m: m.nansum(_INTEGERS, axis=0)),
    "nanmax int": (lambda m: m.nanmax(_INTEGERS, axis=1)),
    "nanmin bool": (lambda m: m.nanmin(_INTEGERS > 4)),
    "nanmean float32": (lambda m: m.nanmean(np.array([1.0, np.nan, 2.0], np.float32))),
    "nanvar complex": (lambda m: m.nanvar(np.array([1.0 + 1j, np.nan, 2.0 - 1j]))),
    "nancumprod": (lambda m: m.nancumprod(np.array([[2.0, np.nan], [np.nan, 3.0]]))),
    "average int": (lambda m: m.average(_INTEGERS, axis=0, weights=[1, 2, 3])),
    "cumprod int": (lambda m: m.cumprod(_INTEGERS + 1, axis=1)),
    "round negative decimals": (lambda m: m.round(np.array([1234.5, -55.0]), -1)),
    "fix": (lambda m: m.fix(np.array([-2.5, 2.5]))),
    "exp2 int": (lambda m: m.exp2(np.arange(3))),
    "deg2rad float32": (lambda m: m.deg2rad(np.float32([30.0, 45.0]))),
    "radians": (lambda m: m.radians(np.array([180.0]))),
    "degrees": (lambda m: m.degrees(np.array([np.pi]))),
    "fmax nan": (lambda m: m.fmax(np.array([np.nan, 1.0, np.nan]), [0.0, np.nan, np.nan])),
    "fmod negative": (lambda m: m.fmod(np.array([-3.5, 3.5]), 2.0)),
    "mod negative": (lambda m: m.mod(np.array([-3.5, 3.5]), 2.0)),
    "logaddexp infinities": (lambda m: m.logaddexp(np.array([-np.inf, 800.0]), -np.inf)),
    "sinc": (lambda m: m.sinc(np.array([0.0, 0.5, -1.0, 1e-9]))),
    "nan_to_num": (lambda m: m.nan_to_num(np.array([np.nan, np.inf, -np.inf, 1.0]))),
    "nan_to_num complex": (lambda m: m.nan_to_num(np.array([complex(np.nan, np.inf)]))),
    "r_ slices": (lambda m: m.r_[1:4, 0, np.array([7, 8]), 2:0:-1]),
    "c_ matrices": (lambda m: m.c_[np.ones((2, 2)), np.zeros((2, 1)), 0:2]),
    "r_ axis": (lambda m: m.r_["1", np.ones((2, 1)), np.zeros((2, 2))]),
    "linspace no endpoint": (lambda m: m.linspace(np.float64(2.0), 3.0, 5, endpoint=False)),
}


@pytest.mark.parametrize("name", sorted(_EXACT))
def test_values_and_dtypes_are_numpys(name):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        expected = _EXACT[name](np)
        got = _EXACT[name](cr)
    assert isinstance(got, cr.Tensor)
    assert got.dtype == np.asarray(expected).dtype
    np.testing.assert_array_equal(got.numpy(), expected, strict=True)


def test_tensor_endpoints_of_linspace_give_numpys_values_and_derivatives():
    start = cr.tensor(np.array([0.0, 1.0]), requires_grad=True)
    stop = cr.tensor(np.float64(3.0), requires_grad=True)
    out, step = cr.linspace(start, stop, 4, retstep=True)
    expected, expected_step = np.linspace([0.0, 1.0], 3.0, 4, retstep=True)
    np.testing.assert_array_equal(out.detach().numpy(), expected, strict=True)
    np.testing.assert_array_equal(step.detach().numpy(), expected_step)
    cr.sum(out).backward()
    np.testing.assert_allclose(start.grad.numpy(), [2.0, 2.0])  # weights 1, 2/3, 1/3, 0
    np.testing.assert_allclose(stop.grad.numpy(), 4.0)
    assert cr.linspace(cr.tensor(1.0), 2.0, 3).dtype == np.float32
    assert cr.linspace(0, 1, 3).dtype == np.float32  # (Python numbers: the default float32)
    with pytest.raises(ValueError, match="differentiable in them already"):
        cr.linspace(start, stop, 3, requires_grad=True)


def test_further_ufuncs_on_tensors_reach_chainrules_ops():
    x = cr.tensor([0.5, 2.0], dtype="float64", requires_grad=True)
    y = np.exp2(x) + np.hypot(x, 1.0) + np.logaddexp(x, x) + np.radians(x) + np.fmax(x, 1.0)
    y.sum().backward()
    expected = (np.log(2) * 2.0 ** x.detach().numpy() + x.detach().numpy()
                / np.hypot(x.detach().numpy(), 1.0) + 1.0 + np.pi / 180 + [0.0, 1.0])
    np.testing.assert_allclose(x.grad.numpy(), expected)


# ---------------------------------------------------------------- derivatives at the edges


def _derivatives(f, x, order):
    out = [f(x)]
    for _ in range(order):
        f = cr.grad(f)
        out.append(f(x))
    return [float(np.asarray(v)) for v in out]


def test_sinc_derivatives_at_zero_are_exact_to_fourth_order():
    values = _derivatives(cr.sinc, np.float64(0.0), 4)
    expected = [1.0, 0.0, -(math.pi**2) / 3, 0.0, math.pi**4 / 5]
    np.testing.assert_allclose(values, expected, rtol=1e-12, atol=1e-12)
    forward = cr.jacfwd(cr.jacfwd(cr.sinc))(np.array([0.0, 0.05, 0.5]))
    reverse = cr.jacrev(cr.jacrev(cr.sinc))(np.array([0.0, 0.05, 0.5]))
    np.testing.assert_allclose(np.asarray(forward), np.asarray(reverse), rtol=1e-12)


def test_sinc_slope_is_continuous_across_the_series_radius():
    slope = cr.grad(lambda x: cr.sum(cr.sinc(x)))
    inside, outside = np.asarray(slope(np.array([0.1 - 1e-12]))), np.asarray(
        slope(np.array([0.1 + 1e-12])))
    np.testing.assert_allclose(inside, outside, rtol=1e-9)


def test_cumprod_with_zeros_has_the_exact_jacobian_in_both_modes():
    x = np.array([2.0, 0.0, 3.0, 0.0, 5.0])
    expected = np.zeros((5, 5))
    for i in range(5):
        for j in range(i + 1):
            expected[i, j] = np.prod([x[k] for k in range(i + 1) if k != j])
    for transform in (cr.jacrev, cr.jacfwd):
        np.testing.assert_array_equal(np.asarray(transform(cr.cumprod)(x)), expected)


def test_fmax_and_fmin_send_the_gradient_past_nans():
    x = cr.tensor([np.nan, 1.0, 2.0, 3.0], dtype="float64", requires_grad=True)
    y = cr.tensor([0.0, np.nan, 2.0, 1.0], dtype="float64", requires_grad=True)
    cr.sum(cr.fmax(x, y) + 10 * cr.fmin(x, y)).backward()
    np.testing.assert_array_equal(x.grad.numpy(), [0.0, 11.0, 5.5, 1.0])
    np.testing.assert_array_equal(y.grad.numpy(), [11.0, 0.0, 5.5, 10.0])


def test_logaddexp_gradient_is_stable_and_hypot_is_zero_at_the_origin():
    x = cr.tensor([1000.0, -1000.0], dtype="float64", requires_grad=True)
    cr.sum(cr.logaddexp(x, x) + cr.logaddexp2(x, 3.0)).backward()
    np.testing.assert_allclose(x.grad.numpy(), [2.0, 1.0])  # (x enters logaddexp twice)
    z = cr.tensor([0.0, 3.0], dtype="float64", requires_grad=True)
    cr.sum(cr.hypot(z, cr.tensor([0.0, 4.0], dtype="float64"))).backward()
    np.testing.assert_allclose(z.grad.numpy(), [0.0, 0.6])


def test_nan_to_num_passes_the_gradient_only_where_values_are_kept():
    x = cr.tensor([np.nan, 1.0, np.inf, -np.inf], dtype="float64", requires_grad=True)
    cr.sum(3.0 * cr.nan_to_num(x, posinf=1.0, neginf=-1.0)).backward()
    np.testing.assert_array_equal(x.grad.numpy(), [0.0, 3.0, 0.0, 0.0])


def test_nan_reductions_give_no_gradient_to_nans():
    x = cr.tensor([[1.0, np.nan], [3.0, 5.0]], dtype="float64", requires_grad=True)
    cr.sum(cr.nanmean(x, axis=0) + cr.nanmax(x) + cr.nanstd(x)).backward()
    assert not np.isnan(x.grad.numpy()).any() and x.grad.numpy()[0, 1] == 0.0
    with pytest.warns(RuntimeWarning, match="All-NaN slice"):
        out = cr.nanmax(cr.tensor([np.nan, np.nan]))
    assert np.isnan(out.item())


def test_integer_and_boolean_results_carry_no_gradient():
    x = cr.tensor([0.3, -1.2, 2.5], dtype="float64", requires_grad=True)
    for out in (cr.argsort(x), cr.argpartition(x, 1), cr.round(x), cr.fix(x), cr.around(x, 1)):
        assert not out.requires_grad and out.grad_fn is None


def test_sort_sends_each_gradient_to_where_the_value_came_from():
    x = cr.tensor([3.0, 1.0, 2.0], dtype="float64", requires_grad=True)
    cr.sum(cr.sort(x) * cr.tensor([1.0, 10.0, 100.0], dtype="float64")).backward()
    np.testing.assert_array_equal(x.grad.numpy(), [100.0, 1.0, 10.0])


def test_pad_edge_modes_accumulate_the_repeated_values_gradients():
    x = cr.tensor([1.0, 2.0], dtype="float64", requires_grad=True)
    cr.sum(cr.pad(x, (3, 1), mode="edge")).backward()
    np.testing.assert_array_equal(x.grad.numpy(), [4.0, 2.0])


# ---------------------------------------------------------------- NumPy's errors

_ERRORS = {
    "repeat negative": lambda m: m.repeat(np.arange(3.0), -1),
    "repeat mismatch": lambda m: m.repeat(np.arange(3.0), [1, 2]),
    "repeat axis": lambda m: m.repeat(np.arange(3.0), 2, axis=1),
    "roll 2-d shift": lambda m: m.roll(np.arange(3.0), [[1]], 0),
    "roll axis": lambda m: m.roll(np.arange(3.0), 1, axis=2),
    "rot90 axes": lambda m: m.rot90(np.ones((2, 2)), 1, (0, 0)),
    "rot90 axes count": lambda m: m.rot90(np.ones((2, 2)), 1, (0,)),
    "rot90 out of range": lambda m: m.rot90(np.ones((2, 2)), 1, (0, 2)),
    "fliplr 1-d": lambda m: m.fliplr(np.ones(2)),
    "flipud 0-d": lambda m: m.flipud(np.float64(1.0)),
    "rollaxis start": lambda m: m.rollaxis(np.ones((2, 3)), 0, 5),
    "pad float widths": lambda m: m.pad(np.ones(2), 1.5),
    "pad negative": lambda m: m.pad(np.ones(2), -1),
    "pad keyword": lambda m: m.pad(np.ones(2), 1, mode="edge", constant_values=1),
    "sort axis": lambda m: m.sort(np.ones(2), axis=1),
    "sort order": lambda m: m.sort(np.ones(2), order="x"),
    "partition kth": lambda m: m.partition(np.ones(3), 5),
    "diff 0-d": lambda m: m.diff(np.float64(1.0)),
    "diff negative": lambda m: m.diff(np.ones(3), -1),
    "gradient short": lambda m: m.gradient(np.ones(2), edge_order=2),
    "gradient spacings": lambda m: m.gradient(np.ones((2, 2)), 1.0, 2.0, 3.0),
    "gradient coordinates": lambda m: m.gradient(np.ones(3), [0.0, 1.0]),
    "gradient edge order": lambda m: m.gradient(np.ones(5), edge_order=3),
    "gradient 2-d spacing": lambda m: m.gradient(np.ones(3), np.ones((3, 1))),
    "cross size": lambda m: m.cross(np.ones(4), np.ones(3)),
    "cross 0-d": lambda m: m.cross(np.float64(1.0), np.ones(3)),
    "select lengths": lambda m: m.select([np.ones(2, bool)], [np.ones(2), np.ones(2)]),
    "select empty": lambda m: m.select([], []),
    "select not boolean": lambda m: m.select([np.ones(2)], [np.ones(2)]),
    "vstack generator": lambda m: m.vstack(x for x in [np.ones(2)]),
    "vstack cast": lambda m: m.vstack([np.ones(2)], dtype=int),
    "array_split sections": lambda m: m.array_split(np.ones(3), 0),
    "hsplit 0-d": lambda m: m.hsplit(np.float64(1.0), 1),
    "vsplit 1-d": lambda m: m.vsplit(np.ones(2), 2),
    "dsplit 2-d": lambda m: m.dsplit(np.ones((2, 2)), 2),
    "split unequal": lambda m: m.split(np.ones(3), 2),
    "average axis": lambda m: m.average(np.ones((2, 3)), weights=np.ones(3)),
    "average shape": lambda m: m.average(np.ones((2, 3)), axis=1, weights=np.ones(2)),
    "average zero weights": lambda m: m.average(np.ones(2), weights=np.zeros(2)),
    "r_ late directive": lambda m: m.r_[np.ones(2), "0"],
    "r_ bad directive": lambda m: m.r_["x", np.ones(2)],
    "linspace negative": lambda m: m.linspace(np.float64(0.0), 1.0, -1),
    "fabs complex": lambda m: m.fabs(np.array([1j])),
    "hypot complex": lambda m: m.hypot(np.array([1j]), 1.0),
    "deg2rad complex": lambda m: m.deg2rad(np.array([1j])),
    "tril 0-d": lambda m: m.tril(np.float64(1.0)),
}


def _raised(call):
    try:
        call()
    except Exception as error:  # noqa: BLE001 (the exception is what is compared)
        return error
    raise AssertionError("no exception")


@pytest.mark.parametrize("name", sorted(_ERRORS))
def test_bad_arguments_raise_numpys_exception(name):
    expected = _raised(lambda: _ERRORS[name](np))
    got = _raised(lambda: _ERRORS[name](cr))
    if name == "tril 0-d":  # (NumPy's is an accident: "tri() missing 1 required argument")
        assert isinstance(got, ValueError) and "at least 1 dimension" in str(got)
        return
    assert isinstance(got, type(expected))
    # (the message's gist: chainrule says "tensor" where NumPy says "array")
    assert str(expected).splitlines()[0].split(":")[0].split(" for ")[0] in str(got)


def test_tensors_are_left_unchanged_by_refused_calls():
    x = cr.tensor([1.0, 2.0, 3.0], dtype="float64", requires_grad=True)
    for call in (lambda: cr.pad(x, 1, mode="median"), lambda: cr.pad(x, 1, reflect_type="odd"),
                 lambda: cr.r_["r", x], lambda: cr.repeat(x, -1)):
        with pytest.raises((NotImplementedError, ValueError)):
            call()
    assert x.grad is None and x.grad_fn is None
    np.testing.assert_array_equal(x.detach().numpy(), [1.0, 2.0, 3.0])


@pytest.mark.parametrize("module", ["arrange", "differences", "join", "reduce", "ufuncs"])
def test_docstring_examples_run(module):
    import doctest
    import importlib

    failures, tried = doctest.testmod(importlib.import_module(f"chainrule.ops.{module}"),
                                      optionflags=doctest.NORMALIZE_WHITESPACE)
    assert failures == 0 and tried > 0
