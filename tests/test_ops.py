"""Every op, tested from the op table: values against NumPy, reverse and forward mode against
central finite differences, to second order, with batched tangents and cotangents (float64)."""

from __future__ import annotations

import doctest
import inspect
import zlib

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import mutually_broadcastable_shapes
from op_samples import SAMPLES, Sample, by_name

import chainrule as cr
import chainrule.api
import chainrule.linalg
from chainrule import ops
from chainrule.forward import end_level, new_level, tangent_of, with_tangent
from chainrule.gradcheck import numeric_gradient
from chainrule.ops.primitive import REGISTRY

EPS = 1e-6
TOL = {"atol": 1e-6, "rtol": 1e-5}
DIFFERENTIABLE = [s for s in SAMPLES if s.differentiable]
CONSTANT = [s for s in SAMPLES if not s.differentiable]


# ---------------------------------------------------------------- helpers


def _floats(sample: Sample) -> list[int]:
    return [i for i, a in enumerate(sample.args) if np.asarray(a).dtype == np.float64]


def _call(sample: Sample, values: list) -> cr.Tensor:
    args = list(sample.args)
    for i, value in zip(_floats(sample), values, strict=True):
        args[i] = value
    return sample.fn(*args)


def _value(sample: Sample, arrays: list[np.ndarray]) -> np.ndarray:
    with cr.no_grad():
        out = _call(sample, [cr.Tensor(a) for a in arrays])
    return np.asarray(out.data, dtype=np.float64)


def _inputs(sample: Sample) -> list[np.ndarray]:
    return [np.array(sample.args[i], dtype=np.float64) for i in _floats(sample)]


def _leaves(arrays: list[np.ndarray]) -> list[cr.Tensor]:
    return [cr.Tensor(a.copy(), requires_grad=True) for a in arrays]


def _numeric_gradient(scalar, arrays: list[np.ndarray]) -> list[np.ndarray]:
    """Central differences of ``scalar(arrays)`` in every element of every array."""
    return numeric_gradient(scalar, arrays, EPS)


def _dense(grad, like: np.ndarray) -> np.ndarray:
    return np.zeros_like(like) if grad is None else np.asarray(grad.data, dtype=np.float64)


def _vjp(sample: Sample, arrays: list[np.ndarray], cotangent: np.ndarray) -> list[np.ndarray]:
    leaves = _leaves(arrays)
    out = _call(sample, leaves)
    grads = cr.gradients(out, leaves, cr.Tensor(cotangent), allow_unused=True)
    return [_dense(g, a) for g, a in zip(grads, arrays, strict=True)]


def _jvp(sample: Sample, arrays: list[np.ndarray], tangents: list) -> tuple:
    """The output and its tangent; ``tangents`` may hold None (no tangent for that input)."""
    level = new_level()
    try:
        values = [
            cr.Tensor(a) if t is None else with_tangent(cr.Tensor(a), t, level)
            for a, t in zip(arrays, tangents, strict=True)
        ]
        out = _call(sample, values)
        tangent = tangent_of(out, level)
    finally:
        end_level(level)
    return out, tangent


def _dense_tangent(tangent, shape: tuple) -> np.ndarray:
    if tangent is None:
        return np.zeros(shape)
    return np.broadcast_to(np.asarray(getattr(tangent, "data", tangent)), shape)


def _rng(sample: Sample) -> np.random.Generator:
    return np.random.default_rng(zlib.crc32(sample.id.encode()))


# ---------------------------------------------------------------- the table is complete


def _public_functions() -> set[str]:
    names = set()
    for prefix, module in (("api", chainrule.api), ("linalg", chainrule.linalg)):
        for name, value in vars(module).items():
            if (not name.startswith("_") and inspect.isfunction(value)
                    and value.__module__ == module.__name__):
                names.add(f"{prefix}.{value.__name__}")
    return names


def test_every_primitive_has_samples():
    missing = sorted(set(REGISTRY) - set(by_name()))
    assert not missing, f"primitives without samples in tests/op_samples.py: {missing}"


def test_every_public_function_has_samples():
    missing = sorted(_public_functions() - set(by_name()))
    assert not missing, f"public functions without samples in tests/op_samples.py: {missing}"


@pytest.mark.parametrize("name", sorted(REGISTRY))
def test_every_differentiable_primitive_has_both_rules(name):
    prim = REGISTRY[name]
    if not prim.differentiable:
        assert not prim.vjps and not prim.jvps, f"{name} is nondifferentiable but has rules"
        return
    assert prim.vjps and prim.jvps, (
        f"{name} has no derivative rules: declare them with .defrules(vjp=..., jvp=...) "
        "or declare the op with nondifferentiable"
    )
    for vjp, jvp in zip(prim.vjps, prim.jvps, strict=True):
        assert (vjp is None) == (jvp is None), f"{name}: an input has one rule but not the other"


def test_public_functions_doctests():
    for module in (chainrule.api, chainrule.linalg, ops.linalg):
        failures, _ = doctest.testmod(module, optionflags=doctest.NORMALIZE_WHITESPACE)
        assert failures == 0, f"doctest failures in {module.__name__}"


# ---------------------------------------------------------------- values and constant ops


@pytest.mark.parametrize("sample", SAMPLES, ids=lambda s: s.id)
def test_value_matches_numpy(sample):
    out = _call(sample, [cr.Tensor(a) for a in _inputs(sample)])
    assert isinstance(out, cr.Tensor)
    expected = sample.reference(*sample.args)
    assert out.shape == np.shape(expected)
    np.testing.assert_allclose(np.asarray(out.data), expected, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("sample", CONSTANT, ids=lambda s: s.id)
def test_nondifferentiable_output_has_no_graph(sample):
    leaves = _leaves(_inputs(sample))
    out = _call(sample, leaves)
    assert out.grad_fn is None and not out.requires_grad


# ---------------------------------------------------------------- reverse mode


@pytest.mark.parametrize("sample", DIFFERENTIABLE, ids=lambda s: s.id)
def test_reverse_matches_finite_differences(sample):
    arrays = _inputs(sample)
    cotangent = _rng(sample).standard_normal(_value(sample, arrays).shape)
    computed = _vjp(sample, arrays, cotangent)
    numeric = _numeric_gradient(lambda xs: np.sum(_value(sample, xs) * cotangent), arrays)
    for got, want in zip(computed, numeric, strict=True):
        np.testing.assert_allclose(got, want, **TOL)


@pytest.mark.parametrize("sample", DIFFERENTIABLE, ids=lambda s: s.id)
def test_second_order_matches_finite_differences(sample):
    arrays = _inputs(sample)
    rng = _rng(sample)
    cotangent = rng.standard_normal(_value(sample, arrays).shape)
    weights = [rng.standard_normal(a.shape) for a in arrays]

    leaves = _leaves(arrays)
    out = _call(sample, leaves)
    grads = cr.gradients(out, leaves, cr.Tensor(cotangent), create_graph=True, allow_unused=True)
    total = sum(cr.sum(g * w) for g, w in zip(grads, weights, strict=True) if g is not None)
    if isinstance(total, cr.Tensor) and total.requires_grad:
        second = cr.gradients(total, leaves, allow_unused=True)
        computed = [_dense(g, a) for g, a in zip(second, arrays, strict=True)]
    else:  # the gradient does not depend on the inputs: a linear op
        computed = [np.zeros_like(a) for a in arrays]

    def projected_gradient(xs):
        grads = _vjp(sample, xs, cotangent)
        return sum(np.sum(g * w) for g, w in zip(grads, weights, strict=True))

    numeric = _numeric_gradient(projected_gradient, arrays)
    for got, want in zip(computed, numeric, strict=True):
        np.testing.assert_allclose(got, want, atol=1e-5, rtol=1e-4)


@pytest.mark.parametrize("sample", DIFFERENTIABLE, ids=lambda s: s.id)
def test_batched_cotangents_match_one_at_a_time(sample):
    arrays = _inputs(sample)
    out_shape = _value(sample, arrays).shape
    size = int(np.prod(out_shape))
    basis = np.eye(size).reshape((size,) + out_shape)
    leaves = _leaves(arrays)
    out = _call(sample, leaves)
    batched = cr.gradients(out, leaves, basis, allow_unused=True, batch_ndim=1)
    for k, leaf in enumerate(leaves):
        got = np.zeros((size,) + leaf.shape) if batched[k] is None else batched[k].numpy()
        want = np.stack([_vjp(sample, arrays, row)[k] for row in basis])
        np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-12)


# ---------------------------------------------------------------- forward mode


@pytest.mark.parametrize("sample", DIFFERENTIABLE, ids=lambda s: s.id)
def test_forward_matches_finite_differences_and_reverse(sample):
    arrays = _inputs(sample)
    rng = _rng(sample)
    directions = [rng.standard_normal(a.shape) for a in arrays]
    out, tangent = _jvp(sample, arrays, directions)
    tangent = _dense_tangent(tangent, out.shape)
    plus = _value(sample, [a + EPS * v for a, v in zip(arrays, directions, strict=True)])
    minus = _value(sample, [a - EPS * v for a, v in zip(arrays, directions, strict=True)])
    np.testing.assert_allclose(tangent, (plus - minus) / (2 * EPS), **TOL)

    # <u, J v> == <J^T u, v>
    cotangent = rng.standard_normal(out.shape)
    grads = _vjp(sample, arrays, cotangent)
    forward = np.sum(cotangent * tangent)
    reverse = sum(np.sum(g * v) for g, v in zip(grads, directions, strict=True))
    np.testing.assert_allclose(forward, reverse, rtol=1e-10, atol=1e-10)


@pytest.mark.parametrize("sample", DIFFERENTIABLE, ids=lambda s: s.id)
def test_batched_tangents_match_one_at_a_time(sample):
    arrays = _inputs(sample)
    out_shape = _value(sample, arrays).shape
    for k, array in enumerate(arrays):
        size = array.size
        basis = np.eye(size).reshape((size,) + array.shape)
        tangents = [None] * len(arrays)
        tangents[k] = basis
        _, batched = _jvp(sample, arrays, tangents)
        got = _dense_tangent(batched, (size,) + out_shape)
        columns = []
        for column in basis:
            tangents[k] = column
            columns.append(_dense_tangent(_jvp(sample, arrays, tangents)[1], out_shape))
        np.testing.assert_allclose(got, np.stack(columns), rtol=1e-12, atol=1e-12)


# ---------------------------------------------------------------- broadcasting (hypothesis)

_positive = (0.5, 2.0)
_any = (-1.0, 1.0)
_BINARY = {
    "add": (_any, _any),
    "subtract": (_any, _any),
    "multiply": (_any, _any),
    "true_divide": (_any, "away"),
    "power": (_positive, _any),
    "arctan2": (_any, "away"),
    "maximum": (_any, _any),
    "minimum": (_any, _any),
    "remainder": ((0.2, 1.3), (1.5, 2.0)),
}


def _draw(rng, domain, shape):
    if domain == "away":
        return rng.choice([-1.0, 1.0], shape) * rng.uniform(0.3, 1.0, shape)
    return rng.uniform(*domain, shape)


@pytest.mark.parametrize("name", sorted(_BINARY))
@settings(max_examples=6, deadline=None)
@given(
    shapes=mutually_broadcastable_shapes(num_shapes=2, min_dims=0, max_dims=3, max_side=3),
    seed=st.integers(0, 2**16),
)
def test_binary_elementwise_broadcasting(name, shapes, seed):
    rng = np.random.default_rng(seed)
    x_domain, y_domain = _BINARY[name]
    x = _draw(rng, x_domain, shapes.input_shapes[0])
    y = _draw(rng, y_domain, shapes.input_shapes[1])
    if name in ("maximum", "minimum"):
        y = np.where(np.abs(x - y) < 1e-3, y + 0.1, y)  # no ties
    prim = REGISTRY[name]
    sample = Sample(name, prim, (x, y), getattr(np, name))
    test_value_matches_numpy(sample)
    test_reverse_matches_finite_differences(sample)
    test_forward_matches_finite_differences_and_reverse(sample)
    test_batched_cotangents_match_one_at_a_time(sample)


# ---------------------------------------------------------------- specific behaviour


def test_prod_gradient_is_exact_with_zeros():
    x = cr.tensor([[0.0, 2.0, 3.0], [0.0, 0.0, 2.0], [1.0, 2.0, 4.0]], requires_grad=True)
    cr.prod(x, axis=1).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [[6, 0, 0], [0, 0, 0], [8, 4, 2]])


@pytest.mark.parametrize(
    "axis", [None, 0, -1, 1, (0, 1), (1, -2), [0], [1, 0], np.int64(1), np.array(1), (np.int8(0),)]
)
def test_reduction_axes_spelled_any_way_match_numpy(axis):
    # twice: the second call meets the normalized axes that the first one remembered
    x = np.arange(6.0).reshape(2, 3)
    expected = np.sum(x, axis=tuple(axis) if isinstance(axis, list) else axis)
    for _ in range(2):
        np.testing.assert_array_equal(cr.sum(cr.tensor(x), axis=axis).numpy(), expected)


def test_reduction_axis_given_as_a_tensor():
    x = np.arange(6.0).reshape(2, 3)
    for _ in range(2):
        np.testing.assert_array_equal(
            cr.sum(cr.tensor(x), axis=cr.tensor(1)).numpy(), np.sum(x, axis=1)
        )


@pytest.mark.parametrize("axis", [2, -3, (0, 2)])
def test_reduction_axis_out_of_bounds_raises_every_time(axis):
    x = cr.ones((2, 3), requires_grad=True)
    for _ in range(2):
        with pytest.raises(np.exceptions.AxisError, match="out of bounds"):
            cr.sum(x, axis=axis)
    assert x.grad is None


def test_norm_refuses_orders_numpy_refuses_and_says_what_is_missing():
    vector, matrix = cr.ones(3, requires_grad=True), cr.ones((2, 2), requires_grad=True)
    with pytest.raises(ValueError, match="Invalid norm order 'fro' for vectors"):
        cr.linalg.norm(vector, "fro")
    with pytest.raises(ValueError, match="Invalid norm order for matrices"):
        cr.linalg.norm(matrix, 3)
    with pytest.raises(ValueError, match="Duplicate axes given"):
        cr.linalg.norm(matrix, 1, axis=(0, -2))
    with pytest.raises(np.exceptions.AxisError):
        cr.linalg.norm(matrix, 1, axis=(0, 2))
    with pytest.raises(ValueError, match="Improper number of dimensions"):
        cr.linalg.norm(cr.ones((2, 2, 2)), 1, axis=(0, 1, 2))
    assert vector.grad is None and matrix.grad is None


def test_norm_of_complex_values_is_real_as_numpys():
    z = np.array([[1 + 1j, 2.0], [0.5j, -3.0]])
    np.testing.assert_allclose(cr.linalg.norm(cr.tensor(z)).numpy(), np.linalg.norm(z))
    np.testing.assert_allclose(
        cr.linalg.norm(cr.tensor(z), axis=1).numpy(), np.linalg.norm(z, axis=1)
    )
    # one element: the norm is the absolute value, and so is its gradient
    a, b = cr.tensor([3 - 4j], requires_grad=True), cr.tensor([3 - 4j], requires_grad=True)
    cr.linalg.norm(a).backward()
    cr.abs(b).sum().backward()
    np.testing.assert_allclose(a.grad.numpy(), b.grad.numpy())


def test_repeated_integer_indices_accumulate():
    x = cr.tensor([1.0, 2.0, 3.0], requires_grad=True)
    x[[0, 0, 2, 0]].sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [3.0, 0.0, 1.0])


def test_einsum_interleaved_form_rejects_bad_sublists():
    a = cr.ones((2, 2))
    with pytest.raises(ValueError, match=r"not an int in \[0, 52\)"):
        cr.einsum(a, [0, 52])
    with pytest.raises(TypeError, match="interleaved form"):
        cr.einsum(a, "ij")


def test_einsum_rejects_a_wrong_number_of_operands():
    with pytest.raises(ValueError, match="operands"):
        cr.einsum("ij,jk->ik", cr.ones((2, 2)))


def test_slogdet_sign_and_value():
    a = np.array([[0.0, 2.0], [1.0, 0.0]])
    sign, logabsdet = cr.linalg.slogdet(a)
    assert sign.item() == -1.0 and np.isclose(logabsdet.item(), np.log(2.0))


@pytest.mark.parametrize("sample", DIFFERENTIABLE, ids=lambda s: s.id)
def test_forward_over_reverse_matches_finite_differences(sample):
    """The tangent of a gradient (Hessian-vector products, as ``hessian`` computes them)."""
    arrays = _inputs(sample)
    rng = _rng(sample)
    cotangent = rng.standard_normal(_value(sample, arrays).shape)
    directions = [rng.standard_normal(a.shape) for a in arrays]
    level = new_level()
    try:
        leaves = [with_tangent(leaf, v, level)
                  for leaf, v in zip(_leaves(arrays), directions, strict=True)]
        out = _call(sample, leaves)
        grads = cr.gradients(out, leaves, cr.Tensor(cotangent), create_graph=True,
                             allow_unused=True)
        computed = [_dense_tangent(tangent_of(g, level), a.shape)
                    for g, a in zip(grads, arrays, strict=True)]
    finally:
        end_level(level)
    plus = _vjp(sample, [a + EPS * v for a, v in zip(arrays, directions, strict=True)], cotangent)
    minus = _vjp(sample, [a - EPS * v for a, v in zip(arrays, directions, strict=True)], cotangent)
    for got, hi, lo in zip(computed, plus, minus, strict=True):
        np.testing.assert_allclose(got, (hi - lo) / (2 * EPS), atol=1e-5, rtol=1e-4)


@pytest.mark.parametrize("sample", DIFFERENTIABLE, ids=lambda s: s.id)
def test_float32_gradients_stay_float32(sample):
    arrays = [a.astype(np.float32) for a in _inputs(sample)]
    leaves = _leaves(arrays)
    out = _call(sample, leaves)
    if out.dtype != np.float32:  # a float64 constant in the sample promotes, as in NumPy
        return
    grads = cr.gradients(out, leaves, np.ones(out.shape, np.float32), allow_unused=True)
    assert all(g is None or g.dtype == np.float32 for g in grads)


_A = np.random.default_rng(7).standard_normal((3, 3))
_S = np.random.default_rng(8).standard_normal((2, 3, 3))
_NESTED = {
    "vector matrix vector": lambda x: cr.tanh(x) @ _A @ cr.sin(x),
    "stack vector": lambda x: cr.sum(cr.tanh(_S @ x) ** 2),
    "vector stack": lambda x: cr.sum(cr.sin(cr.matmul(x, _S)) ** 2),
    "outer matmul": lambda x: cr.sum(cr.sin(cr.outer(x, x)) @ _A),
    "einsum": lambda x: cr.sum(cr.sin(cr.einsum("i,bij,j->b", x, _S, x))),
    "det": lambda x: cr.linalg.det(_A + cr.outer(x, cr.sin(x))),
    "solve": lambda x: cr.sum(cr.linalg.solve(_A + 4 * np.eye(3), cr.sin(x)) ** 2),
    "prod": lambda x: cr.prod(cr.concatenate([x, cr.zeros(1, dtype="float64")])[1:] * x),
}


@pytest.mark.parametrize("name", sorted(_NESTED))
def test_nested_jacobians_agree(name):
    """Hessians from the four nestings of jacfwd and jacrev: nested batched flows meet."""
    f = _NESTED[name]
    x = np.array([0.3, -0.7, 1.1])
    hessians = [np.asarray(outer(inner(f))(x)) for outer in (cr.jacfwd, cr.jacrev)
                for inner in (cr.jacfwd, cr.jacrev)]
    for other in hessians[1:]:
        np.testing.assert_allclose(other, hessians[0], rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(hessians[0], hessians[0].T, rtol=1e-10, atol=1e-12)
