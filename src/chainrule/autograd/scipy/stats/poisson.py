"""``autograd.scipy.stats.poisson`` (``chainrule.scipy.stats.poisson``)."""

from ._distribution import functions as _functions

globals().update(_functions("poisson"))
