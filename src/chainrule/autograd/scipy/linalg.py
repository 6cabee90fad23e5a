"""``autograd.scipy.linalg``: SciPy's linear algebra; derivatives from
``chainrule.scipy.linalg`` (``sqrtm solve_sylvester solve_triangular solve_banded cholesky
cho_factor cho_solve solve inv det norm svd eigh``...), the others refuse traced values."""

import scipy.linalg as _linalg

from ...scipy import linalg as _core
from ._wrap import namespace as _namespace

globals().update(_namespace(_linalg, _core))
