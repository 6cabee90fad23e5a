"""A distribution module of the dialect: ``chainrule.scipy.stats.<name>``'s functions on
traced values, SciPy's ``scipy.stats.<name>``'s on plain ones."""

import scipy.stats as _stats

from ....scipy import stats as _core
from .._wrap import namespace as _namespace


def functions(name: str) -> dict:
    core = getattr(_core, name)
    return _namespace(getattr(_stats, name), core, core.__all__)
