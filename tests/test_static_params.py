"""Static parameters mean one thing: public functions take NumPy's arguments (and raise NumPy's
errors), primitives take their normalised form and act on their value's own trailing axes, so
that Jacobians, which push batched cotangents and tangents through the rules, are right."""

from __future__ import annotations

import numpy as np
import pytest

import chainrule as cr
from chainrule.ops.primitive import REGISTRY

X3 = np.arange(24.0).reshape(2, 3, 4)


def _numpy_error(call):
    try:
        call()
    except Exception as error:  # noqa: BLE001 - the class NumPy raises is what is compared
        return type(error)
    return None


@pytest.mark.parametrize(
    "axes",
    [None, (1, 0, 2), (2, 1, 0), (-1, 0, 1), (0, -2, -1), [2, 0, 1],
     (-1, -2), (0, 1), (0, 0, 1), (0, 1, 3), (-4, 0, 1), (0, 1, 2, 3)],
)
def test_transpose_takes_numpys_axes_and_raises_its_errors(axes):
    expected = _numpy_error(lambda: np.transpose(X3, axes))
    calls = [lambda x: cr.transpose(x, axes), lambda x: np.transpose(x, axes)]
    if axes is not None:
        calls.append(lambda x: x.transpose(axes))
    for call in calls:
        if expected is None:
            np.testing.assert_array_equal(call(cr.tensor(X3)).numpy(), np.transpose(X3, axes))
        else:
            with pytest.raises(expected):
                call(cr.tensor(X3))


def test_the_issue_example_raises_as_numpy():
    with pytest.raises(ValueError, match="axes don't match array"):
        cr.transpose(cr.zeros((2, 3, 4)), (-1, -2))


def test_tensor_transpose_spreads_axes_as_numpy():
    x = cr.tensor(X3)
    assert x.transpose(2, 0, 1).shape == X3.transpose(2, 0, 1).shape
    assert x.transpose().shape == X3.transpose().shape
    assert x.T.shape == X3.T.shape


@pytest.mark.parametrize(
    "shape", [(4, 6), (-1,), (4, -1), (2, 3, 4), (24,), (-1, -1), (5, -1), (7, 3)]
)
def test_reshape_takes_numpys_shapes_and_raises_its_errors(shape):
    expected = _numpy_error(lambda: np.reshape(X3, shape))
    for call in (lambda x: cr.reshape(x, shape), lambda x: x.reshape(shape)):
        if expected is None:
            np.testing.assert_array_equal(call(cr.tensor(X3)).numpy(), np.reshape(X3, shape))
        else:
            with pytest.raises(expected):
                call(cr.tensor(X3))


@pytest.mark.parametrize(
    ("name", "call"),
    [
        ("swapaxes", lambda m, x: m.swapaxes(x, 0, 3)),
        ("moveaxis", lambda m, x: m.moveaxis(x, 3, 0)),
        ("expand_dims", lambda m, x: m.expand_dims(x, 4)),
        ("expand_dims", lambda m, x: m.expand_dims(x, (0, 0))),
        ("squeeze", lambda m, x: m.squeeze(x, 0)),
        ("sum", lambda m, x: m.sum(x, axis=3)),
        ("cumsum", lambda m, x: m.cumsum(x, axis=-4)),
        ("concatenate", lambda m, x: m.concatenate([x, x], axis=3)),
        ("stack", lambda m, x: m.stack([x, x], axis=5)),
    ],
)
def test_axis_errors_are_numpys(name, call):
    expected = _numpy_error(lambda: call(np, X3))
    assert expected is not None, name
    with pytest.raises(expected):
        call(cr, cr.tensor(X3))


@pytest.mark.parametrize("name", ["reshape", "transpose", "broadcast_to", "getitem", "setitem"])
def test_shape_primitives_have_no_guessed_parameters(name):
    """Their parameters are required: nothing is inferred from whether one was given."""
    prim = REGISTRY[name]
    assert prim.statics and not prim.defaults


# ---------------------------------------------------------------- batched rules


def _functions():
    return {
        "transpose": lambda x: cr.sin(cr.transpose(x, (2, 1, 0))) * cr.transpose(x),
        "negative transpose": lambda x: cr.transpose(x, (-1, 0, -2)) ** 2,
        "reshape": lambda x: cr.reshape(x * x, (4, -1))[1:] * cr.reshape(x, (-1,))[:6],
        "sum axes": lambda x: cr.sum(x * x, axis=(0, -1)) * cr.sum(x, axis=1)[0, :3],
        "moveaxis": lambda x: cr.tanh(cr.moveaxis(x, 0, -1))
        * cr.swapaxes(cr.swapaxes(x, 0, 2), 0, 1),
        "index": lambda x: cr.exp(x[:, 1]) * x[1, 2, None] + x[..., ::2][0, :2, 1, None],
        "broadcast": lambda x: cr.broadcast_to(x[0, :, :1], (2, 3, 4)) * x,
        "squeeze expand": lambda x: cr.squeeze(cr.expand_dims(x, 1) * x[:, None], 1),
        "concatenate": lambda x: cr.concatenate([x, x * x], axis=1) * 0.5,
        "stack": lambda x: cr.cumsum(cr.stack([x, cr.flip(x, axis=2)], axis=-1), axis=1),
        "prod max": lambda x: cr.prod(x, axis=1) * cr.max(x, axis=(0, 1), keepdims=True),
        "matmul": lambda x: cr.matmul(x, cr.transpose(x, (0, 2, 1))),
    }


def _numeric_jacobian(f, x, step=1e-6):
    out_shape = np.shape(f(x))
    jac = np.zeros(out_shape + x.shape)
    for i in np.ndindex(x.shape):
        up, down = x.copy(), x.copy()
        up[i] += step
        down[i] -= step
        jac[(Ellipsis, *i)] = (np.asarray(f(up)) - np.asarray(f(down))) / (2 * step)
    return jac


@pytest.mark.parametrize("name", list(_functions()))
def test_jacobians_through_shape_ops_are_batched_right(name):
    f = _functions()[name]
    x = np.random.default_rng(5).uniform(0.5, 1.5, (2, 3, 4))
    expected = _numeric_jacobian(lambda v: f(cr.tensor(v)).numpy(), x)
    np.testing.assert_allclose(np.asarray(cr.jacrev(f)(x)), expected, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(np.asarray(cr.jacfwd(f)(x)), expected, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("name", ["transpose", "reshape", "sum axes", "moveaxis", "index"])
def test_hessians_through_shape_ops_are_batched_right(name):
    f = _functions()[name]

    def loss(x):
        return cr.sum(cr.sin(f(x)))

    x = np.random.default_rng(6).uniform(0.5, 1.5, (2, 3, 4))
    gradient = cr.grad(loss)
    expected = _numeric_jacobian(lambda v: np.asarray(gradient(v)), x)
    np.testing.assert_allclose(np.asarray(cr.hessian(loss)(x)), expected, rtol=1e-4, atol=1e-6)
    np.testing.assert_allclose(
        np.asarray(cr.jacrev(cr.jacrev(loss))(x)), expected, rtol=1e-4, atol=1e-6
    )


_PRIMITIVE_CALLS = {
    "transpose": {"axes": (-1, -3, -2)},
    "reshape": {"source": (2, 3, 4), "shape": (6, 4)},
    "broadcast_to": {"source": (2, 3, 4), "shape": (5, 2, 3, 4)},
    "getitem": {"index": (slice(1, None), np.array([0, 2])), "ndim": 3},
    "sum": {"axis": (-3, -1), "keepdims": False},
    "flip": {"axis": (-2,)},
    "cumsum": {"axis": -3},
}


@pytest.mark.parametrize("name", list(_PRIMITIVE_CALLS))
def test_a_primitive_acts_on_each_slice_of_a_batch(name):
    """Given normalised parameters, a primitive leaves leading batch axes alone: applied to a
    stack of values it gives the stack of its results (the contract rules rely on)."""
    prim, params = REGISTRY[name], _PRIMITIVE_CALLS[name]
    batch = np.random.default_rng(8).standard_normal((3, 2, 3, 4))
    expected = np.stack([prim(value, **params) for value in batch])
    np.testing.assert_array_equal(prim(batch, **params), expected)
    np.testing.assert_array_equal(prim(cr.tensor(batch), **params).numpy(), expected)


def test_method_transpose_takes_none_as_numpy_does():
    x = cr.zeros((2, 3, 4))
    assert x.transpose(None).shape == np.zeros((2, 3, 4)).transpose(None).shape == (4, 3, 2)


@pytest.mark.parametrize("axis", [(1, 0), (), 1.0, [0]])
def test_one_axis_ops_refuse_what_numpy_refuses(axis):
    x = cr.tensor(np.arange(6.0).reshape(2, 3))
    with pytest.raises(TypeError):
        np.cumsum(np.arange(6.0).reshape(2, 3), axis=axis)
    with pytest.raises(TypeError):
        cr.cumsum(x, axis=axis)


@pytest.mark.parametrize("axis", [(0, 0), (0, -2), 1.0])
@pytest.mark.parametrize("name", ["sum", "mean", "max", "prod"])
def test_reductions_refuse_repeated_or_non_integer_axes_as_numpy_does(name, axis):
    with pytest.raises((ValueError, TypeError)) as numpy_error:
        getattr(np, name)(np.zeros((2, 3)), axis=axis)
    with pytest.raises(numpy_error.type):
        getattr(cr, name)(cr.zeros((2, 3)), axis=axis)


@pytest.mark.parametrize(
    "source, destination", [([0, 2], [1, 1]), ([0, 0], [1, 2]), ([0, 1], [2]), (0, 5)]
)
def test_moveaxis_refuses_what_numpy_refuses(source, destination):
    with pytest.raises(ValueError) as numpy_error:
        np.moveaxis(np.zeros((2, 3, 4)), source, destination)
    with pytest.raises(numpy_error.type):
        cr.moveaxis(cr.zeros((2, 3, 4)), source, destination)


def test_transpose_of_no_axes_is_refused_as_numpy_does():
    with pytest.raises(ValueError, match="axes don't match array"):
        cr.zeros((2, 3)).transpose(())
    assert cr.zeros((2, 3)).transpose().shape == (3, 2)
