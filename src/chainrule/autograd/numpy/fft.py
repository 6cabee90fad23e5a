"""``autograd.numpy.fft``: NumPy's FFTs, differentiable where the core has them
(``chainrule.fft``, when present), and the frequency helpers, which take sizes only."""

import numpy.fft as _npfft

import chainrule as _cr

from . import _wrap

globals().update(_wrap.namespace(_npfft, getattr(_cr, "fft", None)))
