"""``autograd.scipy.special``: SciPy's special functions; derivatives from
``chainrule.scipy.special`` (see its list), the others refuse traced values."""

import scipy.special as _special

from ...scipy import special as _core
from ._wrap import namespace as _namespace

globals().update(_namespace(_special, _core))
logsumexp = _namespace(_special, _core, ["logsumexp"])["logsumexp"]
