"""``autograd.scipy.stats.dirichlet`` (``chainrule.scipy.stats.dirichlet``)."""

from ._distribution import functions as _functions

globals().update(_functions("dirichlet"))
