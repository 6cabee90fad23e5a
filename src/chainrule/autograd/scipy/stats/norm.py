"""``autograd.scipy.stats.norm`` (``chainrule.scipy.stats.norm``)."""

from ._distribution import functions as _functions

globals().update(_functions("norm"))
