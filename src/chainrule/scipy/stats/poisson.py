"""``scipy.stats.poisson`` on tensors: pmf, logpmf, cdf, with SciPy's arguments
``(k, mu, loc=0)`` and values, differentiable in ``mu`` to any order. A count ``k`` has no
derivative (the mass is zero between integers): differentiating in it, or in ``loc``, raises."""

from __future__ import annotations

from typing import Any

import numpy as np

from ... import api
from ...ops import special
from ...ops.elementwise import array_value, stop_gradient
from ...tensor import Tensor
from .._arrays import foreign_of
from ._continuous import as_float64, masked


def _counts(method: str, k: Any, mu: Any, loc: Any) -> tuple:
    """``k - loc`` and ``mu`` as float64 tensors, with their values and where ``mu`` is valid."""
    for name, value in (("k", k), ("loc", loc)):
        if isinstance(value, Tensor) and (value.requires_grad or value._tangents):
            raise NotImplementedError(
                f"poisson.{method} is not differentiable in {name} (the mass is zero between "
                "integers): differentiate in mu only, with k and loc constants"
            )
    like = foreign_of(k, mu, loc)
    k = as_float64(stop_gradient(k), like) - as_float64(stop_gradient(loc), like)
    mu = as_float64(mu, like)
    k_value, mu_value = array_value(k), array_value(mu)
    return k, mu, k_value, mu_value >= 0


def _logpmf(k, mu):
    return special.xlogy(k, mu) - special.gammaln(k + 1) - mu


def _mass(method: str, k: Any, mu: Any, loc: Any) -> Tensor:
    k, mu, k_value, valid = _counts(method, k, mu, loc)
    cond = valid & (k_value >= 0) & (np.floor(k_value) == k_value)
    logarithmic = method == "logpmf"
    fill = np.where(valid & ~np.isnan(k_value), -np.inf if logarithmic else 0.0, np.nan)
    if logarithmic:
        return masked(_logpmf, cond, [k, mu], [0.0, 1.0], fill)
    return masked(lambda k, mu: api.clip(api.exp(_logpmf(k, mu)), 0, 1), cond, [k, mu],
                  [0.0, 1.0], fill)


def pmf(k: Any, mu: Any, loc: Any = 0) -> Tensor:
    """``scipy.stats.poisson.pmf``: exp(xlogy(k, mu) - gammaln(k + 1) - mu) at integers k >= 0,
    0 elsewhere, NaN where mu < 0."""
    return _mass("pmf", k, mu, loc)


def logpmf(k: Any, mu: Any, loc: Any = 0) -> Tensor:
    """``scipy.stats.poisson.logpmf``: xlogy(k, mu) - gammaln(k + 1) - mu at integers k >= 0,
    -inf elsewhere, NaN where mu < 0."""
    return _mass("logpmf", k, mu, loc)


def cdf(k: Any, mu: Any, loc: Any = 0) -> Tensor:
    """``scipy.stats.poisson.cdf``: gammaincc(floor(k) + 1, mu) (SciPy's pdtr) for k >= 0, 0
    below, NaN where mu < 0; its derivative in mu is -pmf(floor(k), mu)."""
    k, mu, k_value, valid = _counts("cdf", k, mu, loc)
    cond = valid & (k_value >= 0) & np.isfinite(k_value)
    fill = np.where(k_value >= np.inf, 1.0, 0.0)
    fill = np.where(~valid | np.isnan(k_value), np.nan, fill)
    return masked(lambda k, mu: api.clip(special.gammaincc(api.floor(k) + 1, mu), 0, 1), cond,
                  [k, mu], [0.0, 1.0], fill)


__all__ = ["cdf", "logpmf", "pmf"]
