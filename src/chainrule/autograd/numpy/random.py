"""``autograd.numpy.random``: NumPy's random module itself (its global generator), as in
HIPS, where random numbers carry no derivative."""

import numpy.random as _npr

globals().update({k: v for k, v in vars(_npr).items() if not k.startswith("_")})
