"""``autograd.scipy.stats.chi2`` (``chainrule.scipy.stats.chi2``)."""

from ._distribution import functions as _functions

globals().update(_functions("chi2"))
