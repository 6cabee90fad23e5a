"""``autograd.scipy.stats``: HIPS autograd's distributions, each a module of functions."""

from . import beta, chi2, dirichlet, gamma, multivariate_normal, norm, poisson, t  # noqa: F401
