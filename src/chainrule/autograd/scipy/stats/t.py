"""``autograd.scipy.stats.t`` (``chainrule.scipy.stats.t``)."""

from ._distribution import functions as _functions

globals().update(_functions("t"))
