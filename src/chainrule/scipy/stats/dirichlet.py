"""``scipy.stats.dirichlet`` on tensors: pdf and logpdf, with SciPy's arguments ``(x, alpha)``,
checks and values, differentiable in both; rvs, SciPy's samples (constants). ``x`` holds one
point per column (shape ``(K,)`` or ``(K, n)``), or one entry fewer, the last then being 1 minus
the others' sum."""

from __future__ import annotations

from typing import Any

import numpy as np

from ... import api
from ...ops import special
from ...ops.elementwise import array_value
from ...ops.scipy_ops import refuse_foreign
from ...tensor import Tensor
from .._arrays import control_value, foreign_of
from ._continuous import as_float64


def _checked_alpha(alpha: Any, like: Any) -> Tensor:
    alpha = as_float64(alpha, like)
    value = control_value(array_value(alpha))
    if np.min(value) <= 0:
        raise ValueError("All parameters must be greater than 0")
    if value.ndim != 1:
        raise ValueError("Parameter vector 'a' must be one dimensional, "
                         f"but a.shape = {value.shape}.")
    return alpha


def _checked_points(alpha: Tensor, x: Any, like: Any) -> Tensor:
    """SciPy's checks of ``x``: the right length, inside the simplex (read in Python, as
    SciPy does: a Dask array is computed, once, for them)."""
    x = as_float64(x, like)
    size, count = x.shape[0], alpha.shape[0]
    if size + 1 != count and size != count:
        raise ValueError("Vector 'x' must have either the same number of entries as, or one "
                         f"entry fewer than, parameter vector 'a', but alpha.shape = "
                         f"{alpha.shape} and x.shape = {x.shape}.")
    if size != count:
        if x.ndim > 2:
            raise ValueError("The input must be one dimensional or a two dimensional matrix "
                             "containing the entries.")
        x = api.concatenate([x, 1 - api.sum(x, axis=0, keepdims=True)], axis=0)
    value, alpha_value = control_value(array_value(x)), control_value(array_value(alpha))
    if np.min(value) < 0:
        raise ValueError("Each entry in 'x' must be greater than or equal to zero.")
    if np.max(value) > 1:
        raise ValueError("Each entry in 'x' must be smaller or equal one.")
    below_one = alpha_value.reshape((-1,) + (1,) * (value.ndim - 1)) < 1
    if np.any((value == 0) & below_one):
        raise ValueError("Each entry in 'x' must be greater than zero if its alpha is less "
                         "than one.")
    if (np.abs(np.sum(value, 0) - 1.0) > 10e-10).any():
        raise ValueError("The input vector 'x' must lie within the normal simplex. but "
                         f"np.sum(x, 0) = {np.sum(value, 0)}.")
    return x


def logpdf(x: Any, alpha: Any) -> Tensor:
    """``scipy.stats.dirichlet.logpdf``: sum((alpha - 1) log x) - log B(alpha)."""
    like = foreign_of(x, alpha)
    alpha = _checked_alpha(alpha, like)
    x = _checked_points(alpha, x, like)
    log_beta = api.sum(special.gammaln(alpha)) - special.gammaln(api.sum(alpha))
    terms = api.transpose(special.xlogy(alpha - 1, api.transpose(x)))
    return api.squeeze(api.sum(terms, axis=0) - log_beta)


def pdf(x: Any, alpha: Any) -> Tensor:
    """``scipy.stats.dirichlet.pdf``: exp(logpdf)."""
    return api.exp(logpdf(x, alpha))


def rvs(alpha: Any, size: Any = 1, random_state: Any = None) -> Tensor:
    """``scipy.stats.dirichlet.rvs``: SciPy's samples, as a tensor without a gradient (a
    sample's derivative in ``alpha`` is not defined by SciPy's sampler)."""
    import scipy.stats

    alpha = array_value(alpha)
    refuse_foreign("scipy.stats.dirichlet.rvs", alpha)
    return Tensor._wrap(np.asarray(
        scipy.stats.dirichlet.rvs(alpha, size=size, random_state=random_state)))


__all__ = ["logpdf", "pdf", "rvs"]
