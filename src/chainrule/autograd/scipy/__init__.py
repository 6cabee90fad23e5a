"""``autograd.scipy``: SciPy's functions as HIPS autograd has them, differentiable where
``chainrule.scipy`` is (this package imports SciPy: ``pip install chainrule[scipy]``).

>>> import chainrule.autograd.numpy as np
>>> from chainrule.autograd import grad
>>> from chainrule.autograd.scipy.special import gammaln
>>> float(grad(lambda x: np.sum(gammaln(x)))(np.array([1.0])))  # digamma(1) = -0.5772...
-0.5772156649015329
"""

from . import integrate, linalg, signal, special, stats  # noqa: F401
