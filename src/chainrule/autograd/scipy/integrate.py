"""``autograd.scipy.integrate``: ``odeint``, differentiable in ``y0``, ``t`` and ``args`` by the
adjoint method (``chainrule.scipy.integrate.odeint``)."""

import scipy.integrate as _integrate

from ...scipy import integrate as _core
from ._wrap import namespace as _namespace

odeint = _namespace(_integrate, _core, ["odeint"])["odeint"]
