"""``autograd.scipy.stats.gamma`` (``chainrule.scipy.stats.gamma``)."""

from ._distribution import functions as _functions

globals().update(_functions("gamma"))
