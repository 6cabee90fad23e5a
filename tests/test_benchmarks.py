"""Smoke test of the benchmark workloads: each chainrule version (eager and under ``cr.jit``), run
at a tiny size, gives the gradients of the hand-written NumPy version. No timing is asserted."""

import sys
from pathlib import Path

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks import data, impl_chainrule, impl_chainrule_jit, impl_numpy  # noqa: E402


def _assert_floors_gradients(grads, workload):
    expected = impl_numpy.__dict__[workload](data.make(workload, "tiny"))()
    assert len(grads) == len(expected)
    for grad, want in zip(grads, expected, strict=True):
        grad = np.asarray(grad)
        assert grad.shape == np.shape(want)
        assert grad.dtype == np.asarray(want).dtype
        tol = 1e-4 if grad.dtype == np.float32 else 1e-10
        np.testing.assert_allclose(grad, want, rtol=tol, atol=tol)


@pytest.mark.parametrize("workload", data.WORKLOADS)
def test_chainrule_workload_matches_hand_written_numpy(workload):
    inputs = data.make(workload, "tiny")
    step = getattr(impl_chainrule, workload)(inputs)
    grads = step()
    _assert_floors_gradients(grads, workload)
    # a second call (fresh .grad each time) gives the same gradients
    again = step()
    for first, second in zip(grads, again, strict=True):
        np.testing.assert_allclose(first, second, rtol=0, atol=0)


def _jit_step_replays_the_floors_gradients(step, workload):
    """The first calls (traces) and the replays after them all give the floor's gradients;
    the replays are replays (``check_replays`` raises otherwise)."""
    for _ in range(3):  # (mlp's ``backward`` spelling: its first call escapes, then traces)
        _assert_floors_gradients([np.array(g, copy=True) for g in step()], workload)
    step.check_replays()
    for _ in range(2):
        _assert_floors_gradients(step(), workload)
    step.check_replays()


@pytest.mark.parametrize("workload", data.WORKLOADS)
def test_jitted_workload_replays_the_floors_gradients(workload):
    step = getattr(impl_chainrule_jit, workload)(data.make(workload, "tiny"))
    _jit_step_replays_the_floors_gradients(step, workload)


@pytest.mark.parametrize("spelling", sorted(impl_chainrule_jit.MLP_SPELLINGS))
def test_both_jitted_mlp_spellings_replay_the_floors_gradients(spelling):
    step = impl_chainrule_jit.MLP_SPELLINGS[spelling](data.make("mlp", "tiny"))
    _jit_step_replays_the_floors_gradients(step, "mlp")


def test_check_replays_fails_on_a_function_that_runs_eagerly():
    import chainrule as cr

    step = cr.jit(lambda x: x)  # never called: no program
    with pytest.raises(RuntimeError, match="no cached signature"):
        impl_chainrule_jit.replay_state(step)
    retrace = impl_chainrule_jit._replaying(step, lambda: step(np.ones(2)))
    retrace()
    retrace.check_replays()
    step(np.ones(3))  # a new signature: a trace
    with pytest.raises(RuntimeError, match="traced again"):
        retrace.check_replays()


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
        assert callable(getattr(impl_chainrule_jit, workload))
        assert callable(getattr(impl_numpy, workload))


def test_big_on_a_tiny_cluster_gives_the_floors_gradient():
    """The Dask workload (a LocalCluster of 2 processes on loopback, started and closed by it)
    at 10**4 rows: chainrule's gradient is the hand-written dask.array one."""
    pytest.importorskip("distributed")
    from benchmarks import big

    result = big.run("tiny", rounds=1, log=lambda *args: None)
    assert result["status"] == "ok", result
    assert result["grad_ok"], result
