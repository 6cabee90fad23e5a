"""The op table on arrays of other libraries: each sample of tests/op_samples.py run with its
arrays in a backend (the strict duck array, Dask, array-api-strict), against the same sample on
NumPy. On NumPy the op table is checked against finite differences (test_ops.py); here each
value, gradient (reverse, forward, second order) must equal NumPy's and be an array of the
backend, never a NumPy array. A sample whose NumPy reference the backend itself cannot run (an op
Dask lacks) must raise a clear error instead."""

from __future__ import annotations

import zlib
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from op_samples import Sample

import chainrule as cr
from chainrule.forward import end_level, new_level, tangent_of, with_tangent


@dataclass
class Backend:
    name: str
    make: Callable  # NumPy array -> the backend's array
    own: Callable  # array -> whether it is the backend's
    numpy: Callable  # the backend's array -> NumPy (for comparisons)
    lacks: tuple = ()  # the exceptions that say the backend lacks an op

    def convert(self, value):
        if isinstance(value, np.ndarray):
            return self.make(value)
        if isinstance(value, (list, tuple)):
            return type(value)(self.convert(item) for item in value)
        return value


def floats(sample: Sample) -> list[int]:
    return [i for i, a in enumerate(sample.args)
            if isinstance(a, np.ndarray) and a.dtype == np.float64]


def _call(sample: Sample, backend: Backend | None, inputs: list) -> cr.Tensor:
    args = list(sample.args)
    if backend is not None:
        args = [backend.convert(a) for a in args]
    for i, value in zip(floats(sample), inputs, strict=True):
        args[i] = value
    return sample.fn(*args)


def _rng(sample: Sample) -> np.random.Generator:
    return np.random.default_rng(zlib.crc32(sample.id.encode()))


def _compare(backend: Backend, got, want, what: str) -> None:
    if want is None:
        assert got is None, what
        return
    array = got._array if isinstance(got, cr.Tensor) else got
    assert backend.own(array), f"{what}: a {type(array).__name__}, not a {backend.name} array"
    np.testing.assert_allclose(backend.numpy(array), np.asarray(want._array if isinstance(
        want, cr.Tensor) else want), rtol=1e-10, atol=1e-12, err_msg=what)


def _run(sample: Sample, backend: Backend | None, order: int) -> list:
    """The value, the reverse gradients (order 1), a second-order projection, and the forward
    tangent; arrays made in ``backend`` (None: NumPy)."""
    make = (lambda a: a) if backend is None else backend.make
    arrays = [np.array(sample.args[i]) for i in floats(sample)]
    rng = _rng(sample)
    leaves = [cr.tensor(make(a), requires_grad=True) for a in arrays]
    out = _call(sample, backend, leaves)
    results = [out]
    if not sample.differentiable or out.dtype.kind not in "fc":
        return results
    cotangent = rng.standard_normal(out.shape).astype(out.dtype)
    grads = cr.gradients(out, leaves, cr.tensor(make(cotangent)), allow_unused=True,
                         create_graph=order > 1)
    results += list(grads)
    if order > 1:
        weights = [rng.standard_normal(a.shape) for a in arrays]
        total = sum((cr.sum(g * cr.tensor(make(w))) for g, w in zip(grads, weights, strict=True)
                     if g is not None and g.requires_grad), cr.tensor(make(np.zeros(()))))
        if total.requires_grad:
            results += list(cr.gradients(total, leaves, allow_unused=True))
    directions = [rng.standard_normal(a.shape) for a in arrays]
    level = new_level()
    try:
        values = [with_tangent(cr.tensor(make(a)), make(v), level)
                  for a, v in zip(arrays, directions, strict=True)]
        results.append(tangent_of(_call(sample, backend, values), level))
    finally:
        end_level(level)
    return results


def check_sample(sample: Sample, backend: Backend, order: int = 2) -> None:
    """The sample on ``backend`` equals it on NumPy, or the backend lacks an op and says so."""
    want = _run(sample, None, order)
    try:
        got = _run(sample, backend, order)
    except backend.lacks:
        if _reference_runs(sample, backend):
            raise
        return
    assert len(got) == len(want)
    for k, (g, w) in enumerate(zip(got, want, strict=True)):
        _compare(backend, g, w, f"{sample.id} on {backend.name}, result {k}")


def _reference_runs(sample: Sample, backend: Backend) -> bool:
    """Whether NumPy's own function runs on the backend's arrays (else the backend lacks it)."""
    try:
        sample.reference(*[backend.convert(a) for a in sample.args])
    except Exception:  # noqa: BLE001 (any failure: the backend cannot run it)
        return False
    return True
