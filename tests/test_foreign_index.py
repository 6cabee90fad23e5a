"""Indexing arrays of other libraries (chainrule/ops/foreign_index.py) against NumPy's own
indexing: gathers, writes (the last of repeated positions kept) and accumulating scatters, with
leading batch axes, for the index forms the op-table samples leave out (advanced indices apart,
integers among arrays, None, Ellipsis, negative steps, long runs of one position)."""

from __future__ import annotations

import numpy as np
import pytest
from strict_array import StrictArray

from chainrule.ops import foreign_index

try:
    import dask.array as da
except ImportError:  # (Dask is optional)
    da = None

SHAPE = (3, 4, 5)
INDEXES = [
    (np.array([0, 2, 0]), slice(None), np.array([1, 4, 1])),  # apart: result axes first
    (slice(None), np.array([[0, 3], [3, 3]]), 2),  # an integer among arrays
    (1, Ellipsis, np.array([4, 0, 4, 4, 4, 4])),  # a long run of one position
    (None, slice(None, None, -2), Ellipsis, slice(1, 4)),
    (np.arange(60).reshape(SHAPE) % 3 == 0,),
    (slice(None), np.array([True, False, True, True]), np.array([0, 1, 4])),
]
BACKENDS = [("strict", StrictArray, lambda a: a._a)]
if da is not None:
    BACKENDS.append(("dask", lambda a: da.from_array(a, chunks=2),
                     lambda a: np.asarray(a.compute())))


def _ids(value):
    return str(value)[:40]


@pytest.mark.parametrize("index", INDEXES, ids=_ids)
@pytest.mark.parametrize(("name", "make", "back"), BACKENDS, ids=[b[0] for b in BACKENDS])
def test_like_numpy(name, make, back, index):
    rng = np.random.default_rng(0)
    x = rng.standard_normal((2, *SHAPE))  # (one leading batch axis, in front of the result)
    picked = np.stack([item[index] for item in x])
    np.testing.assert_array_equal(back(foreign_index.gather(make(x), index, 3)), picked)

    g = rng.standard_normal(picked.shape)
    want = np.zeros_like(x)
    for item, values in zip(want, g, strict=True):
        np.add.at(item, index, values)
    got = back(foreign_index.scatter_add(make(g), index, SHAPE))
    np.testing.assert_allclose(got, want, rtol=1e-13, atol=1e-13)

    pairs = [(make(g), g), (7.0, 7.0)] + ([(g, g)] if name == "dask" else [])  # (Dask mixes)
    for given, value in pairs:
        want = x.copy()
        for item, row in zip(want, np.broadcast_to(value, g.shape), strict=True):
            item[index] = row
        got = foreign_index.written(make(x), given, index, 3)
        np.testing.assert_array_equal(back(got), want)
