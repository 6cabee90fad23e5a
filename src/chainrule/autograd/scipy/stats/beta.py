"""``autograd.scipy.stats.beta`` (``chainrule.scipy.stats.beta``)."""

from ._distribution import functions as _functions

globals().update(_functions("beta"))
