"""``chainrule.scipy.stats``: SciPy's distributions on tensors, differentiable (JAX's layout,
HIPS autograd's set): ``norm``, ``t``, ``beta``, ``gamma``, ``chi2``, ``poisson``,
``dirichlet``, ``multivariate_normal``, each a module of functions (``norm.logpdf``).

>>> import chainrule as cr
>>> from chainrule.scipy.stats import norm
>>> x = cr.tensor([0.0, 1.0], dtype="float64", requires_grad=True)
>>> norm.logpdf(x, 0.5, 2.0).sum().backward()
>>> x.grad  # -(x - loc) / scale**2
tensor([ 0.125, -0.125], dtype=float64)
"""

from . import beta, chi2, dirichlet, gamma, multivariate_normal, norm, poisson, t

__all__ = ["beta", "chi2", "dirichlet", "gamma", "multivariate_normal", "norm", "poisson", "t"]
