"""The op table on arrays of other libraries (tests/backend_checks.py says what is checked).

The strict duck array (tests/strict_array.py: NumPy behind the dispatch protocols, refusing any
conversion, as CuPy does) runs every sample, so that a hidden conversion fails on every
machine; Dask (the threaded scheduler) runs every sample that Dask itself can run."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from backend_checks import Backend, check_sample
from op_samples import SAMPLES
from strict_array import ConversionRefused, StrictArray

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
@pytest.mark.parametrize("sample", SAMPLES, ids=lambda s: s.id)
def test_dask_threaded(sample):
    with warnings.catch_warnings(), dask.config.set(scheduler="threads"):
        warnings.simplefilter("ignore", RuntimeWarning)
        # Dask's fallback (computing an op it lacks in NumPy) must never run: an error
        warnings.filterwarnings("error", ".*is not implemented by Dask", FutureWarning)
        check_sample(sample, DASK)


def test_strict_array_refuses_conversion():
    with pytest.raises(ConversionRefused):
        np.asarray(StrictArray(np.ones(2)))
    with pytest.raises(ConversionRefused):
        np.sin(StrictArray(np.ones(2))) + np.ones(2)
