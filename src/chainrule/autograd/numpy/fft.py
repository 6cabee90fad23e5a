"""``autograd.numpy.fft``: NumPy's FFTs and frequency helpers, differentiable where the core
has them (``chainrule.fft``, when present; see ``_wrap``)."""

import numpy.fft as _npfft

import chainrule as _cr

from . import _wrap

globals().update(_wrap.namespace(_npfft, getattr(_cr, "fft", None)))
