"""Smoke test of the benchmark workloads: each chainrule version, run once at a tiny size, gives
the gradients of the hand-written NumPy version. No timing is asserted."""

import sys
from pathlib import Path

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks import data, impl_chainrule, impl_numpy  # noqa: E402


@pytest.mark.parametrize("workload", data.WORKLOADS)
def test_chainrule_workload_matches_hand_written_numpy(workload):
    inputs = data.make(workload, "tiny")
    step = getattr(impl_chainrule, workload)(inputs)
    grads = step()
    expected = impl_numpy.__dict__[workload](data.make(workload, "tiny"))()
    assert len(grads) == len(expected)
    for grad, want in zip(grads, expected, strict=True):
        grad = np.asarray(grad)
        assert grad.shape == np.shape(want)
        assert grad.dtype == np.asarray(want).dtype
        tol = 1e-4 if grad.dtype == np.float32 else 1e-10
        np.testing.assert_allclose(grad, want, rtol=tol, atol=tol)
    # a second call (fresh .grad each time) gives the same gradients
    again = step()
    for first, second in zip(grads, again, strict=True):
        np.testing.assert_allclose(first, second, rtol=0, atol=0)


def test_mlp_written_graph_backward_matches_the_floor():
    inputs = data.make("mlp", "tiny")
    written = impl_numpy.mlp_written(data.make("mlp", "tiny"))()
    for grad, want in zip(written, impl_numpy.mlp(inputs)(), strict=True):
        assert grad.dtype == want.dtype
        np.testing.assert_allclose(grad, want, rtol=1e-4, atol=1e-6)


def test_every_workload_has_all_sizes_and_versions():
    for size in ("full", "quick", "tiny"):
        assert set(data.SIZES[size]) == set(data.WORKLOADS)
    for workload in data.WORKLOADS:
        assert callable(getattr(impl_chainrule, workload))
        assert callable(getattr(impl_numpy, workload))


def test_big_on_a_tiny_cluster_gives_the_floors_gradient():
    """The Dask workload (a LocalCluster of 2 processes on loopback, started and closed by it)
    at 10**4 rows: chainrule's gradient is the hand-written dask.array one."""
    pytest.importorskip("distributed")
    from benchmarks import big

    result = big.run("tiny", rounds=1, log=lambda *args: None)
    assert result["status"] == "ok", result
    assert result["grad_ok"], result
