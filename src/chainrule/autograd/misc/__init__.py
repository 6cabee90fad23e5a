"""``autograd.misc``: ``flatten`` and the optimizers."""

from . import optimizers
from .flatten import flatten, flatten_func

__all__ = ["flatten", "flatten_func", "optimizers"]
