"""cr.jit over chainrule.scipy's ops that run SciPy's NumPy code (matrix functions, matrix
equations, convolution): each is recorded whole, one call of the program, and replays give
the eager values and gradients bit for bit."""

from __future__ import annotations

import numpy as np
import pytest
from test_jit import check_calls

import chainrule as cr

pytest.importorskip("scipy")
from chainrule.scipy import linalg, signal  # noqa: E402

_A = np.array([[4.0, 1.0, 0.5], [1.0, 3.0, 0.2], [0.5, 0.2, 2.0]])


def _calls(base):
    return [(base + 0.1 * k * np.eye(len(base)),) for k in range(3)]


@pytest.mark.parametrize("name, loss", [
    ("sqrtm", lambda a: cr.sum(linalg.sqrtm(a) ** 2)),
    ("solve_sylvester", lambda a: cr.sum(linalg.solve_sylvester(a, a.T, a[:, ::-1]))),
    ("solve_triangular", lambda a: cr.sum(linalg.solve_triangular(a, a[:, :2], lower=True))),
    ("convolve", lambda a: cr.sum(signal.convolve(a, a[:2, :2]) ** 2)),
    ("solve_banded", lambda a: cr.sum(linalg.solve_banded((1, 1), a, a[:, 0] * 2))),
])
def test_scipy_numpy_code_is_recorded_whole(name, loss):
    check_calls(loss, _calls(_A), exact=True)
    check_calls(cr.grad(loss), _calls(_A), exact=True)
    program = str(cr.jit(cr.grad(loss)).trace(_A))
    assert program.count("(") > 1 and "Miss" not in program  # (no guard on the values)


def test_foreign_arrays_are_still_refused_eagerly():
    """The whole-call recording is for traced arrays only: an array of another library is
    refused as before, naming it (the strict duck array of the backend tests stands for one)."""
    strict = pytest.importorskip("array_api_strict")
    with pytest.raises((NotImplementedError, TypeError)):
        linalg.sqrtm(cr.tensor(strict.asarray(_A)))
