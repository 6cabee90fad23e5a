"""NumPy functions applied to tensors (NEP 18, ``Tensor.__array_function__``): those chainrule
has run chainrule's and stay differentiable; the others run NumPy on the arrays."""

from __future__ import annotations

import numpy as np
import pytest

import chainrule as cr
import chainrule.linalg

RNG = np.random.default_rng(0)


def _data(*shape):
    return RNG.normal(size=shape)


SPD = np.array([[4.0, 1.0, 0.5], [1.0, 3.0, 0.2], [0.5, 0.2, 2.0]])
MASK = np.array([True, False, True, False])

# name -> (NumPy call, chainrule call, input arrays); both calls get the same tensors.
CASES = {
    "dot": (lambda a, b: np.dot(a, b), lambda a, b: cr.dot(a, b), [_data(3, 4), _data(4)]),
    "dot_self": (lambda x: np.dot(x, x), lambda x: cr.dot(x, x), [_data(4)]),
    "matmul": (lambda a, b: np.matmul(a, b), lambda a, b: cr.matmul(a, b),
               [_data(2, 3), _data(3, 2)]),
    "einsum": (lambda a, b: np.einsum("ij,jk->ik", a, b),
               lambda a, b: cr.einsum("ij,jk->ik", a, b), [_data(2, 3), _data(3, 4)]),
    "where": (lambda a, b: np.where(MASK, a, b), lambda a, b: cr.where(MASK, a, b),
              [_data(4), _data(4)]),
    "concatenate": (lambda a, b: np.concatenate([a, b], axis=1),
                    lambda a, b: cr.concatenate([a, b], axis=1), [_data(2, 3), _data(2, 2)]),
    "stack": (lambda a, b: np.stack((a, b), axis=1), lambda a, b: cr.stack((a, b), axis=1),
              [_data(3), _data(3)]),
    "reshape": (lambda a: np.reshape(a, (3, 2)), lambda a: cr.reshape(a, (3, 2)),
                [_data(2, 3)]),
    "transpose": (lambda a: np.transpose(a), lambda a: cr.transpose(a), [_data(2, 3)]),
    "transpose_axes": (lambda a: np.transpose(a, (1, 2, 0)),
                       lambda a: cr.transpose(a, (1, 2, 0)), [_data(2, 3, 4)]),
    "clip": (lambda a: np.clip(a, -0.5, 0.5), lambda a: cr.clip(a, -0.5, 0.5), [_data(6)]),
    "outer": (lambda a, b: np.outer(a, b), lambda a, b: cr.outer(a, b), [_data(3), _data(4)]),
    "inner": (lambda a, b: np.inner(a, b), lambda a, b: cr.inner(a, b),
              [_data(2, 3), _data(4, 3)]),
    "vdot": (lambda a, b: np.vdot(a, b), lambda a, b: cr.vdot(a, b), [_data(2, 2), _data(2, 2)]),
    "tensordot": (lambda a, b: np.tensordot(a, b, axes=([1, 2], [1, 0])),
                  lambda a, b: cr.tensordot(a, b, axes=([1, 2], [1, 0])),
                  [_data(2, 3, 4), _data(4, 3, 5)]),
    "trace": (lambda a: np.trace(a), lambda a: cr.trace(a), [_data(3, 3)]),
    "diagonal": (lambda a: np.diagonal(a, 1), lambda a: cr.diagonal(a, 1), [_data(3, 3)]),
    "diag": (lambda a: np.diag(a), lambda a: cr.diag(a), [_data(3)]),
    "sum_axis": (lambda a: np.sum(a, axis=0), lambda a: cr.sum(a, axis=0), [_data(2, 3)]),
    "mean": (lambda a: np.mean(a, axis=1, keepdims=True),
             lambda a: cr.mean(a, axis=1, keepdims=True), [_data(2, 3)]),
    "max": (lambda a: np.max(a, axis=1), lambda a: cr.max(a, axis=1), [_data(2, 3)]),
    "prod": (lambda a: np.prod(a), lambda a: cr.prod(a), [_data(4)]),
    "var": (lambda a: np.var(a, ddof=1), lambda a: cr.var(a, ddof=1), [_data(5)]),
    "std": (lambda a: np.std(a, axis=0), lambda a: cr.std(a, axis=0), [_data(3, 2)]),
    "cumsum": (lambda a: np.cumsum(a), lambda a: cr.cumsum(a), [_data(2, 3)]),
    "squeeze": (lambda a: np.squeeze(a), lambda a: cr.squeeze(a), [_data(1, 3, 1)]),
    "expand_dims": (lambda a: np.expand_dims(a, 0), lambda a: cr.expand_dims(a, 0),
                    [_data(3)]),
    "swapaxes": (lambda a: np.swapaxes(a, 0, 2), lambda a: cr.swapaxes(a, 0, 2),
                 [_data(2, 3, 4)]),
    "moveaxis": (lambda a: np.moveaxis(a, 0, -1), lambda a: cr.moveaxis(a, 0, -1),
                 [_data(2, 3, 4)]),
    "flip": (lambda a: np.flip(a, axis=0), lambda a: cr.flip(a, axis=0), [_data(3, 2)]),
    "tile": (lambda a: np.tile(a, 2), lambda a: cr.tile(a, 2), [_data(3)]),
    "broadcast_to": (lambda a: np.broadcast_to(a, (2, 3)), lambda a: cr.broadcast_to(a, (2, 3)),
                     [_data(3)]),
    "ravel": (lambda a: np.ravel(a), lambda a: cr.ravel(a), [_data(2, 3)]),
    "linalg.norm": (lambda a: np.linalg.norm(a), lambda a: cr.linalg.norm(a), [_data(4)]),
    "linalg.norm_axis": (lambda a: np.linalg.norm(a, ord=1, axis=1),
                         lambda a: cr.linalg.norm(a, ord=1, axis=1), [_data(2, 3)]),
    "linalg.inv": (lambda a: np.linalg.inv(a), lambda a: cr.linalg.inv(a), [SPD]),
    "linalg.det": (lambda a: np.linalg.det(a), lambda a: cr.linalg.det(a), [SPD]),
    "linalg.solve": (lambda a, b: np.linalg.solve(a, b), lambda a, b: cr.linalg.solve(a, b),
                     [SPD, _data(3)]),
    "linalg.cholesky": (lambda a: np.linalg.cholesky(a), lambda a: cr.linalg.cholesky(a),
                        [SPD]),
    "linalg.slogdet": (lambda a: np.linalg.slogdet(a)[1], lambda a: cr.linalg.slogdet(a)[1],
                       [SPD]),
}


def _grads(call, arrays):
    """The value of ``call`` on float64 tensors that require grad, and the gradients of a
    random weighting of it."""
    inputs = [cr.tensor(a, dtype="float64", requires_grad=True) for a in arrays]
    out = call(*inputs)
    assert isinstance(out, cr.Tensor), f"got {type(out).__name__}, not a tensor"
    assert out.requires_grad
    weights = np.random.default_rng(1).normal(size=out.shape)
    loss = (out * weights).sum()
    return out.detach().numpy(), [g.detach().numpy() for g in cr.gradients(loss, inputs)]


@pytest.mark.parametrize("name", sorted(CASES))
def test_numpy_call_is_differentiable_like_chainrule_call(name):
    numpy_call, chainrule_call, arrays = CASES[name]
    value, grads = _grads(numpy_call, arrays)
    expected_value, expected_grads = _grads(chainrule_call, arrays)
    np.testing.assert_allclose(value, expected_value, rtol=1e-12, atol=1e-12)
    # and the value is NumPy's own on the arrays
    np.testing.assert_allclose(value, numpy_call(*arrays), rtol=1e-10, atol=1e-12)
    for grad, expected in zip(grads, expected_grads, strict=True):
        np.testing.assert_allclose(grad, expected, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize(
    "name", ["dot", "einsum", "concatenate", "linalg.norm", "linalg.inv", "linalg.solve"]
)
def test_numpy_call_matches_finite_differences(name):
    numpy_call, _, arrays = CASES[name]
    inputs = [cr.tensor(a, dtype="float64") for a in arrays]
    assert cr.gradcheck(numpy_call, inputs)


def test_dot_backward_as_in_the_chapter():
    x = cr.arange(4.0, requires_grad=True)
    y = 2 * np.dot(x, x)
    y.backward()
    np.testing.assert_allclose(x.grad.numpy(), [0.0, 4.0, 8.0, 12.0])


def test_tensor_inside_a_list_is_differentiable():
    t = cr.tensor([1.0, 2.0], requires_grad=True)
    out = np.concatenate([t, t])
    assert isinstance(out, cr.Tensor) and out.shape == (4,)
    out.sum().backward()
    np.testing.assert_allclose(t.grad.numpy(), [2.0, 2.0])


def test_mixed_array_and_tensor_arguments():
    t = cr.tensor([1.0, 2.0], requires_grad=True)
    out = np.stack([np.array([5.0, 6.0]), t])
    out.sum().backward()
    np.testing.assert_allclose(t.grad.numpy(), [1.0, 1.0])
    u = cr.tensor([1.0, 2.0], requires_grad=True)
    np.dot(np.array([3.0, 4.0]), u).backward()  # the tensor second: still dispatched
    np.testing.assert_allclose(u.grad.numpy(), [3.0, 4.0])


def test_dialect_tensors_dispatch_too():
    import chainrule.torch as torch

    x = torch.tensor([3.0, 4.0], requires_grad=True)
    np.linalg.norm(x).backward()
    np.testing.assert_allclose(np.asarray(x.grad), [0.6, 0.8], rtol=1e-6)


@pytest.mark.parametrize(
    "call",
    [
        lambda t, a: np.allclose(t, a),
        lambda t, a: np.isclose(t, a),
        lambda t, a: np.array_equal(t, a),
        lambda t, a: np.shape(t),
        lambda t, a: np.count_nonzero(t > 0),
        lambda t, a: np.nonzero(t > 0),
        lambda t, a: np.isclose([np.asarray(t.data)] * 2, [a, a]),
    ],
    ids=["allclose", "isclose", "array_equal", "shape", "count_nonzero",
         "nonzero", "isclose_lists"],
)
def test_unmapped_functions_fall_back_to_numpy(call):
    a = np.array([0.5, -1.0, 2.0])
    t = cr.tensor(a, dtype="float64", requires_grad=True)
    result = call(t, a)
    expected = call(a, a)
    assert not isinstance(result, cr.Tensor)
    assert type(result) is type(expected)
    if isinstance(expected, tuple):
        for r, e in zip(result, expected, strict=True):
            np.testing.assert_array_equal(r, e)
    else:
        np.testing.assert_array_equal(result, expected)


@pytest.mark.parametrize(
    "call",
    [
        lambda t: np.median(t), lambda t: np.percentile(t, 50), lambda t: np.convolve(t, t),
        lambda t: np.ptp(t),
    ],
    ids=["median", "percentile", "convolve", "ptp"],
)
def test_unmapped_functions_refuse_to_drop_a_gradient(call):
    t = cr.tensor([0.5, -1.0, 2.0], dtype="float64", requires_grad=True)
    with pytest.raises(TypeError, match="no chainrule version.*detach"):
        call(t)
    assert t.grad is None and t.requires_grad
    np.testing.assert_array_equal(call(t.detach()), call(np.array([0.5, -1.0, 2.0])))


@pytest.mark.parametrize(
    "call",
    [lambda x: np.sort(x), lambda x: np.pad(x, 1), lambda x: np.repeat(x, 2),
     lambda x: np.roll(x, 1), lambda x: np.diff(x), lambda x: np.cumprod(x)],
    ids=["sort", "pad", "repeat", "roll", "diff", "cumprod"],
)
def test_numpy_functions_chainrule_has_are_recorded(call):
    a = np.array([0.5, -1.0, 2.0])
    t = cr.tensor(a, dtype="float64", requires_grad=True)
    result = call(t)
    assert isinstance(result, cr.Tensor)
    np.testing.assert_array_equal(result.data, call(a))
    result.sum().backward()
    assert t.grad is not None
    assert type(np.argsort(t)) is cr.Tensor  # an integer tensor, as torch.argsort gives


def test_numpy_testing_on_tensors():
    t = cr.tensor([1.0, 2.0])
    np.testing.assert_allclose(t, [1.0, 2.0])
    np.testing.assert_array_equal(t, np.array([1.0, 2.0], dtype=np.float32))
    with pytest.raises(AssertionError):
        np.testing.assert_allclose(t, [1.0, 3.0])
    # NumPy's testing converts its arguments: refused for a tensor that requires grad, as
    # PyTorch refuses, and allowed for its detached values or under no_grad
    r = cr.tensor([1.0, 2.0], requires_grad=True)
    with pytest.raises(RuntimeError, match="detach"):
        np.testing.assert_allclose(r, [1.0, 2.0])
    np.testing.assert_allclose(r.detach(), [1.0, 2.0])
    with cr.no_grad():
        np.testing.assert_allclose(r, [1.0, 2.0])


def test_converting_a_tensor_that_requires_grad_while_recording_is_refused():
    # the example: NumPy would compute x**2 without its gradient
    f = lambda x: np.sum(np.asarray(x) ** 2) + x[2]  # noqa: E731
    with pytest.raises(RuntimeError, match="can't call np.asarray"):
        cr.grad(f)(np.array([1.0, 2.0, 3.0]))
    x = cr.tensor([1.0, 2.0, 3.0], requires_grad=True)
    for convert in (np.asarray, np.array, lambda t: t.numpy(), lambda t: (t * 2).numpy()):
        with pytest.raises(RuntimeError, match="detach"):
            convert(x)
    buffer = np.zeros((2, 3))
    with pytest.raises(RuntimeError, match="detach"):
        buffer[0] = x * 2  # a row: through __array__
    with pytest.warns(UserWarning, match=r"buffer\[i\] = t"):
        buffer[0, 0] = x[0] * 2  # one element: NumPy calls float(), which warns as PyTorch's
    np.testing.assert_array_equal(buffer, [[2.0, 0.0, 0.0], [0.0, 0.0, 0.0]])
    assert x.grad is None
    # what converts freely: detached tensors, results of transforms, tensors without grad,
    # and anything under no_grad
    np.testing.assert_array_equal(np.asarray(x.detach()), [1.0, 2.0, 3.0])
    np.testing.assert_array_equal(np.asarray(cr.grad(lambda v: (v * v).sum())(x.detach())),
                                  [2.0, 4.0, 6.0])
    np.testing.assert_array_equal(np.asarray(cr.tensor([1.0]) * 2), [2.0])
    with cr.no_grad():
        np.testing.assert_array_equal(np.asarray(x), [1.0, 2.0, 3.0])
    # inside a jvp the tangent would be lost: refused too
    with pytest.raises(RuntimeError, match="tangents"):
        cr.jvp(lambda v: np.asarray(v) * v, (np.ones(2),), (np.ones(2),))
    assert float(cr.jvp(cr.sin, (np.float64(0.0),), (np.float64(1.0),))[1]) == 1.0


@pytest.mark.parametrize(
    ("call", "function", "argument"),
    [
        (lambda t: np.sum(t, initial=1.0), "numpy.sum", "initial="),
        (lambda t: np.dot(t, t, out=np.empty(())), "numpy.dot", "out="),
        (lambda t: np.einsum("i,i", t, t, optimize=True), "numpy.einsum", "optimize="),
        (lambda t: np.concatenate([t, t], dtype=np.float64), "numpy.concatenate", "dtype="),
        (lambda t: np.clip(t, 0, 1, out=np.empty(2)), "numpy.clip", "out="),
        (lambda t: np.where(t), "numpy.where", "call it as chainrule.where(condition, x, y)"),
    ],
    ids=["sum-initial", "dot-out", "einsum-optimize", "concatenate-dtype", "clip-out",
         "where-one-argument"],
)
def test_unsupported_argument_raises_a_clear_type_error(call, function, argument):
    t = cr.tensor([1.0, 2.0], requires_grad=True)
    with pytest.raises(TypeError) as info:
        call(t)
    message = str(info.value)
    assert function in message and argument in message
    assert ".detach()" in message
    assert t.grad is None


def test_reduction_keywords_go_to_the_tensor_method():
    # np.sum(t, dtype=...) calls t.sum(dtype=...), as before NEP 18 dispatch: still recorded
    x = cr.tensor([1.0, 2.0], requires_grad=True)
    y = np.sum(x, 0, "float64")
    assert isinstance(y, cr.Tensor) and y.dtype == cr.float64
    y.backward()
    np.testing.assert_allclose(x.grad.numpy(), [1.0, 1.0])
    assert np.mean(x, dtype="float64").dtype == cr.float64
    with pytest.raises(TypeError, match="out= is not supported"):
        np.max(x, out=np.zeros(()))


def test_unsupported_argument_without_gradient_runs_numpy():
    # nothing requires grad, so NumPy's own function loses nothing
    t = cr.tensor([1.0, 2.0])
    result = np.einsum("i,i", t, t, optimize=True)
    assert not isinstance(result, cr.Tensor) and result == 5.0
    np.testing.assert_array_equal(np.where(t > 1.5)[0], [1])
    x = cr.tensor([1.0, 2.0], requires_grad=True)
    assert np.einsum("i,i", x.detach(), x.detach(), optimize=True) == 5.0
    assert np.sum(x.detach(), initial=1.0) == 4.0


def test_dispatch_is_cached_per_function():
    from chainrule.numpy_protocol import _ARRAY_FUNCTIONS

    t = cr.tensor([1.0, 2.0])
    np.dot(t, t)
    np.allclose(t, t)
    np.linalg.norm(t)
    assert _ARRAY_FUNCTIONS[np.dot].target is cr.dot
    assert _ARRAY_FUNCTIONS[np.linalg.norm].target is chainrule.linalg.norm
    assert np.allclose in _ARRAY_FUNCTIONS and _ARRAY_FUNCTIONS[np.allclose] is None


def test_arguments_are_matched_by_numpy_names():
    x = cr.tensor([[1.0, 2.0], [3.0, 4.0]], requires_grad=True)
    # NumPy's third positional argument of var is dtype, chainrule's is ddof
    assert np.var(x, 0, None, None, 1).tolist() == [2.0, 2.0]
    # NumPy's names for the array argument
    np.testing.assert_array_equal(np.flip(m=x, axis=0).detach(), [[3.0, 4.0], [1.0, 2.0]])
    assert np.tile(A=x, reps=2).shape == (2, 4)
    assert [p.shape for p in np.split(ary=x, indices_or_sections=2)] == [(1, 2), (1, 2)]
    y = np.broadcast_to(array=x[0], shape=(3, 2))
    y.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [[3.0, 3.0], [0.0, 0.0]])


def test_forward_mode_and_second_order_through_numpy_calls():
    x = np.array([0.5, -1.0, 2.0])
    v = np.array([1.0, 0.0, -1.0])
    _, tangent = cr.jvp(lambda t: np.dot(t, t) * np.linalg.norm(t), (x,), (v,))
    _, expected = cr.jvp(lambda t: cr.dot(t, t) * cr.linalg.norm(t), (x,), (v,))
    np.testing.assert_allclose(np.asarray(tangent), np.asarray(expected), rtol=1e-12)
    hessian = cr.hessian(lambda t: np.sum(np.outer(t, t) ** 2))(x)
    expected = cr.hessian(lambda t: cr.sum(cr.outer(t, t) ** 2))(x)
    np.testing.assert_allclose(np.asarray(hessian), np.asarray(expected), rtol=1e-12)


def test_numpy_fft_on_tensors_is_recorded():
    a = np.array([0.5, -1.0, 2.0, 0.25])
    t = cr.tensor(a, dtype="float64", requires_grad=True)
    spectrum = np.fft.rfft(t, n=6)
    assert isinstance(spectrum, cr.Tensor)
    np.testing.assert_allclose(spectrum.data, np.fft.rfft(a, n=6))
    power = lambda x: cr.sum(cr.abs(np.fft.rfft(x, n=6)) ** 2)  # noqa: E731
    assert cr.gradcheck(power, (a,))
