"""The op table on arrays of other libraries (tests/backend_checks.py says what is checked).

The strict duck array (tests/strict_array.py: NumPy behind the dispatch protocols, refusing any
conversion, as CuPy does) runs every sample, so that a hidden conversion fails on every
machine; Dask (its synchronous scheduler: tests/test_dask.py runs the threaded one and a cluster)
runs every sample that Dask itself can run, to first order (second order is the strict array's,
whose refusals are the stricter, and test_dask.py's Hessians)."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from backend_checks import Backend, check_sample
from op_samples import SAMPLES, table_part
from strict_array import ConversionRefused, StrictArray

import chainrule as cr

STRICT = Backend("strict", StrictArray, lambda a: type(a) is StrictArray, lambda a: a._a,
                 lacks=(NotImplementedError, TypeError))
try:
    import dask
    import dask.array as da
except ImportError:  # (Dask is optional: chainrule[dask])
    da = None
DASK = None if da is None else Backend(
    "dask", lambda a: da.from_array(a, chunks=-1), lambda a: isinstance(a, da.Array),
    lambda a: np.asarray(a.compute()), lacks=(NotImplementedError,),
)


@pytest.mark.parametrize("sample", SAMPLES, ids=lambda s: s.id)
def test_strict_duck_array(sample):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # (NumPy's, as on NumPy)
        check_sample(sample, STRICT)


@pytest.mark.skipif(da is None, reason="Dask is not installed (pip install 'chainrule[dask]')")
@pytest.mark.parametrize("sample", table_part(SAMPLES), ids=lambda s: s.id)
def test_dask(sample):
    with warnings.catch_warnings(), dask.config.set(scheduler="sync"):
        warnings.simplefilter("ignore", RuntimeWarning)
        # Dask's fallback (computing an op it lacks in NumPy) must never run: an error
        warnings.filterwarnings("error", ".*is not implemented by Dask", FutureWarning)
        check_sample(sample, DASK, order=1)


def test_strict_array_refuses_conversion():
    with pytest.raises(ConversionRefused):
        np.asarray(StrictArray(np.ones(2)))
    with pytest.raises(ConversionRefused):
        np.sin(StrictArray(np.ones(2))) + np.ones(2)


def _f(x):
    return cr.sum(cr.sin(x) * x) + cr.sum(x * x) ** 2


def _g(x):
    return cr.sin(x) * cr.flip(x, 0)


def _transforms(make):
    """Every transform and the tape on arrays made by ``make``."""
    x = make(np.array([0.3, -0.2, 0.9]))
    ones = make(np.ones(3))
    results = {
        "grad": cr.grad(_f)(x), "value_and_grad": cr.value_and_grad(_f)(x)[1],
        "jvp": cr.jvp(_g, (x,), (ones,))[1], "vjp": cr.vjp(_g, x)[1](ones)[0],
        "jacfwd": cr.jacfwd(_g)(x), "jacrev": cr.jacrev(_g)(x), "hessian": cr.hessian(_f)(x),
        "hvp": cr.hvp(_f, (x,), (ones,))[1],
    }
    watched = cr.tensor(x)
    with cr.GradientTape(persistent=True) as tape:
        tape.watch(watched)
        y = _g(watched)
        total = cr.sum(y)
    results["tape.gradient"] = tape.gradient(total, watched)
    results["tape.jacobian"] = tape.jacobian(y, watched)
    return results


@pytest.mark.parametrize("backend", [STRICT, DASK], ids=lambda b: getattr(b, "name", "dask"))
def test_transforms_and_tape(backend):
    if backend is None:
        pytest.skip("Dask is not installed")
    want = _transforms(np.asarray)
    got = _transforms(backend.make)
    for name, value in got.items():
        assert backend.own(value._array), name
        np.testing.assert_allclose(backend.numpy(value._array), want[name]._array, rtol=1e-12,
                                   err_msg=name)


def test_importing_chainrule_imports_no_array_library():
    """Dask, CuPy and the array API libraries are extras: found from an array's type, never
    imported by chainrule itself; numexpr (cr.jit's fusion) is imported by the first fusion."""
    import subprocess
    import sys

    code = ("import sys, chainrule; print([m for m in ('dask', 'distributed', 'cupy', "
            "'array_api_strict', 'array_api_compat', 'numexpr') if m in sys.modules])")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True).stdout
    assert out.strip() == "[]"


@pytest.mark.skipif(da is None, reason="Dask is not installed (pip install 'chainrule[dask]')")
def test_threads_on_dask_arrays_leave_the_warning_filters_as_they_were():
    """Each op on a Dask array turns Dask's fallback warning into an error while it runs;
    threads doing so at once (and Dask's own code saving and restoring the filters in any
    thread) must not leave it an error for the rest of the program: outside an op, Dask's
    fallback still only warns."""
    import threading

    def work():
        for _ in range(100):
            x = cr.tensor(da.ones(4, chunks=2), requires_grad=True)
            cr.sum(cr.sin(x) * 2).backward()

    threads = [threading.Thread(target=work) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    m = np.array([[2.0, 0.5], [0.5, 3.0]])
    with pytest.warns(FutureWarning, match="is not implemented by Dask"):
        np.linalg.eigh(da.from_array(m, chunks=1))
    with pytest.raises(NotImplementedError, match="Dask"):  # (and inside an op, an error)
        cr.linalg.eigh(cr.tensor(da.from_array(m, chunks=1)))
