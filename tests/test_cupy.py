"""CuPy arrays on a CUDA GPU: run where ``cupy`` imports and a CUDA device is present, skipped
elsewhere (every machine runs the whole op table on the strict duck array instead,
tests/test_backends.py, which refuses conversions as CuPy does).

On the GPU: a sample of the op table (tests/backend_checks.py: value, reverse and second-order
gradients, forward tangent, all CuPy arrays equal to NumPy's), the logistic-loss gradient of the
README's example, ``.grad`` a CuPy array, and CuPy mixed with NumPy refused naming both. The
GPU benchmark's steps (benchmarks/gpu.py) are checked on the strict duck array on every machine,
and on CuPy where there is a GPU."""

from __future__ import annotations

import sys
import warnings
from pathlib import Path

import numpy as np
import pytest
from backend_checks import Backend, check_sample
from op_samples import SAMPLES
from strict_array import StrictArray

import chainrule as cr

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks import data, gpu, impl_numpy  # noqa: E402

NO_GPU = gpu.unavailable()
needs_gpu = pytest.mark.skipif(NO_GPU is not None, reason=f"{NO_GPU}")
cupy = None if NO_GPU else __import__("cupy")
CUPY = None if cupy is None else Backend(
    "cupy", cupy.asarray, lambda a: isinstance(a, cupy.ndarray), cupy.asnumpy,
    lacks=(NotImplementedError,),
)

# a sample of the op table: elementwise, reductions, linear algebra, indexing, shapes
PICKED = (
    "add", "multiply", "true_divide", "exp", "log", "tanh", "sigmoid", "logaddexp", "maximum",
    "where", "sum[tuple keepdims]", "amax", "api.mean", "api.softmax", "api.logsumexp",
    "matmul[matrix matrix]", "matmul[stack vector]", "einsum[ij,jk->ik]", "getitem[basic]",
    "getitem[mask]", "setitem[basic]", "scatter_add[repeated integers]", "concatenate",
    "transpose", "broadcast_to", "cumsum", "linalg.solve", "cholesky",
)


def test_the_picked_samples_are_in_the_op_table():
    assert set(PICKED) <= {sample.id for sample in SAMPLES}


@needs_gpu
@pytest.mark.parametrize(
    "sample", [s for s in SAMPLES if s.id in PICKED], ids=lambda s: s.id
)
def test_op_samples_on_cupy(sample):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # (NumPy's, as on NumPy)
        check_sample(sample, CUPY)


def _logistic(x, y, w):
    """The README's loss, ``mean(logaddexp(0, X @ w) - y * (X @ w))``, and ``w.grad``."""
    loss = cr.mean(cr.logaddexp(0, x @ w) - y * (x @ w))
    loss.backward()
    return loss, w.grad


def _logistic_data():
    rng = np.random.default_rng(0)
    x = rng.standard_normal((1000, 20)).astype(np.float32)
    return x, (x[:, 0] > 0).astype(np.float32), (0.1 * rng.standard_normal(20)).astype(np.float32)


@needs_gpu
def test_logistic_gradient_on_the_gpu_equals_numpys():
    x, y, w0 = _logistic_data()
    w = cr.tensor(cupy.asarray(w0), requires_grad=True)
    loss, grad = _logistic(cupy.asarray(x), cupy.asarray(y), w)
    assert isinstance(grad.data, cupy.ndarray) and isinstance(loss.data, cupy.ndarray)
    assert isinstance(w.grad.data, cupy.ndarray)
    z = x @ w0
    want = x.T @ (1 / (1 + np.exp(-z)) - y) / len(y)  # the analytic gradient
    np.testing.assert_allclose(cupy.asnumpy(grad.data), want, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(
        float(cupy.asnumpy(loss.data)), np.mean(np.logaddexp(0, z) - y * z), rtol=1e-6
    )
    on_numpy = _logistic(x, y, cr.tensor(w0, requires_grad=True))[1]
    np.testing.assert_allclose(cupy.asnumpy(grad.data), on_numpy.numpy(), rtol=1e-5, atol=1e-7)


@needs_gpu
def test_grad_of_a_cupy_leaf_is_a_cupy_array():
    x = cr.tensor(cupy.linspace(0, 1, 5), requires_grad=True)
    cr.sum(cr.sin(x) * x).backward()
    assert isinstance(x.grad.data, cupy.ndarray)
    t = np.linspace(0, 1, 5)
    np.testing.assert_allclose(x.grad.numpy(), np.cos(t) * t + np.sin(t), rtol=1e-12)


@needs_gpu
def test_cupy_mixed_with_numpy_is_refused_naming_both():
    on_gpu = cr.tensor(cupy.ones(3), requires_grad=True)
    for numpy_side in (cr.tensor(np.ones(3)), np.ones(3)):
        with pytest.raises(TypeError, match=r"(?s)(cupy.*numpy|numpy.*cupy)"):
            on_gpu + numpy_side


def _check_benchmark_steps(device: gpu.Device, own, to_numpy) -> None:
    """The GPU benchmark's chainrule and hand-written steps on ``device`` give the CPU floor's
    gradients, as arrays of the device's library."""
    want = impl_numpy.mlp(data.make("mlp", "tiny"))()
    for make_step in (gpu.chainrule_step, gpu.numpy_step):
        step = make_step(data.make("mlp", "tiny"), device)
        for _ in range(2):  # (a second step starts from fresh gradients)
            grads = step()
            assert len(grads) == len(want)
            for grad, expected in zip(grads, want, strict=True):
                assert own(grad), f"{make_step.__name__}: a {type(grad).__name__}"
                assert grad.dtype == expected.dtype
                np.testing.assert_allclose(to_numpy(grad), expected, rtol=1e-4, atol=1e-6)


def test_gpu_benchmark_steps_on_the_strict_stand_in():
    device = gpu.Device(StrictArray, lambda: None)
    _check_benchmark_steps(device, lambda a: type(a) is StrictArray, lambda a: a._a)


@needs_gpu
def test_gpu_benchmark_steps_on_cupy():
    _check_benchmark_steps(gpu.cupy_device(), CUPY.own, gpu.to_host)
