"""``autograd.scipy.stats.multivariate_normal`` (``chainrule.scipy.stats.multivariate_normal``)."""

from ._distribution import functions as _functions

globals().update(_functions("multivariate_normal"))
