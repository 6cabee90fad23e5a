"""``scipy.stats.multivariate_normal`` on tensors: pdf, logpdf (``x, mean=None, cov=1,
allow_singular=False``) and entropy (``mean=None, cov=1``), with SciPy's argument handling
(a scalar or vector ``cov`` is ``cov * I`` or ``diag(cov)``; ``x`` of shape ``(..., dim)``),
checks and values, differentiable in ``x``, ``mean`` and ``cov`` to any order.

A positive definite ``cov`` is factored by Cholesky (differentiable everywhere, repeated
eigenvalues included). A singular one (``allow_singular=True``) is handled as SciPy does, by
its eigendecomposition, restricted to the support; the density is then differentiable in ``x``
and ``mean`` but not in ``cov`` (refused with NotImplementedError, as in HIPS autograd).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ... import api, backends, linalg
from ...api import where
from ...ops.elementwise import array_value
from ...tensor import Tensor
from .._arrays import control_value, foreign_of
from ._continuous import as_float64

_LOG_2PI = np.log(2 * np.pi)


def _parameters(mean: Any, cov: Any, like: Any) -> tuple[int, Tensor, Tensor]:
    """SciPy's dimension, mean vector and covariance matrix from its arguments (numbers made
    in the library of ``like``, as :func:`as_float64` says)."""
    cov = as_float64(1.0 if cov is None else cov, like)
    if mean is None:
        dim = 1 if cov.ndim < 2 else cov.shape[0]
        mean = as_float64(backends.zeros((dim,), np.float64, like=cov._array), like)
    else:
        mean = as_float64(mean, like)
        dim = mean.size
    if dim == 1:
        mean, cov = api.reshape(mean, (1,)), api.reshape(cov, (1, 1))
    if mean.ndim != 1 or mean.shape[0] != dim:
        raise ValueError(f"Array 'mean' must be a vector of length {dim}.")
    if cov.ndim == 0:
        cov = cov * np.eye(dim) if like is None else api.diag(
            cov * backends.ones((dim,), cov.dtype, like=like))
    elif cov.ndim == 1:
        cov = api.diag(cov)
    elif cov.ndim == 2 and cov.shape != (dim, dim):
        rows, cols = cov.shape
        if rows != cols:
            raise ValueError("Array 'cov' must be square if it is two dimensional, but "
                             f"cov.shape = {cov.shape}.")
        raise ValueError(f"Dimension mismatch: array 'cov' is of shape {cov.shape}, but "
                         f"'mean' is a vector of length {len(mean)}.")
    elif cov.ndim > 2:
        raise ValueError(f"Array 'cov' must be at most two-dimensional, but cov.ndim = "
                         f"{cov.ndim}")
    return dim, mean, cov


def _points(x: Any, dim: int, like: Any) -> Tensor:
    """SciPy's quantiles: the last axis holds each point's components."""
    x = as_float64(x, like)
    if x.ndim == 0:
        return api.reshape(x, (1,))
    if x.ndim == 1:
        return api.reshape(x, (-1, 1) if dim == 1 else (1, -1))
    return x


class _Factor:
    """What the density needs of ``cov``: its log pseudo-determinant, rank, the squared
    Mahalanobis length of deviations, and (singular ``cov``) the support."""

    def __init__(self, cov: Tensor, allow_singular: bool) -> None:
        # (a check and a choice of method, read in Python: a Dask matrix is computed)
        values = np.linalg.eigvalsh(control_value(array_value(cov)))
        eps = 1e6 * np.finfo(np.float64).eps * np.max(np.abs(values))
        if np.min(values) < -eps:
            raise ValueError("The input matrix must be symmetric positive semidefinite.")
        self.singular = bool(np.any(values <= eps))
        if self.singular and not allow_singular:
            raise np.linalg.LinAlgError("When `allow_singular is False`, the input matrix "
                                        "must be symmetric positive definite.")
        if not self.singular:
            self.lower = linalg.cholesky(cov)
            self.log_pdet = 2 * api.sum(api.log(api.diagonal(self.lower)))
            self.rank = cov.shape[0]
            return
        if cov.requires_grad or cov._tangents:
            raise NotImplementedError(
                "multivariate_normal is not differentiable in a singular covariance matrix: "
                "differentiate in x and mean only, with cov a constant"
            )
        spectrum, vectors = np.linalg.eigh(control_value(array_value(cov)))
        kept = spectrum > eps
        self.whitening = vectors * np.sqrt(np.where(kept, 1 / np.where(kept, spectrum, 1), 0))
        self.null_space, self.support_eps = vectors[:, ~kept], 1e3 * eps
        self.log_pdet, self.rank = np.sum(np.log(spectrum[kept])), int(np.sum(kept))

    def mahalanobis(self, deviation: Tensor) -> Tensor:
        if self.singular:
            return api.sum(api.square(api.matmul(deviation, self.whitening)), axis=-1)
        flat = api.reshape(deviation, (-1, deviation.shape[-1]))
        whitened = linalg.solve(self.lower, api.transpose(flat))
        return api.reshape(api.sum(api.square(whitened), axis=0), deviation.shape[:-1])

    def outside(self, deviation: Tensor) -> np.ndarray | None:
        """Where deviations leave the support (None: nowhere, ``cov`` is regular)."""
        if not self.singular:
            return None
        residual = np.linalg.norm(array_value(deviation) @ self.null_space, axis=-1)
        return ~(residual < self.support_eps)


def _logpdf(x: Any, mean: Any, cov: Any, allow_singular: bool) -> tuple[Tensor, Any]:
    like = foreign_of(x, mean, cov)
    dim, mean, cov = _parameters(mean, cov, like)
    factor = _Factor(cov, allow_singular)
    deviation = _points(x, dim, like) - mean
    out = -0.5 * (factor.rank * _LOG_2PI + factor.log_pdet + factor.mahalanobis(deviation))
    return out, factor.outside(deviation)


def logpdf(x: Any, mean: Any = None, cov: Any = 1, allow_singular: bool = False) -> Tensor:
    """``scipy.stats.multivariate_normal.logpdf``: -(rank log 2pi + log det cov + (x-mean)^T
    cov^-1 (x-mean)) / 2, -inf off the support of a singular ``cov``."""
    out, outside = _logpdf(x, mean, cov, allow_singular)
    if outside is not None:
        out = where(outside, -np.inf, out)
    return api.squeeze(out)


def pdf(x: Any, mean: Any = None, cov: Any = 1, allow_singular: bool = False) -> Tensor:
    """``scipy.stats.multivariate_normal.pdf``: exp(logpdf), 0 off the support of a singular
    ``cov``."""
    out, outside = _logpdf(x, mean, cov, allow_singular)
    out = api.exp(out)
    if outside is not None:
        out = where(outside, 0.0, out)
    return api.squeeze(out)


def entropy(mean: Any = None, cov: Any = 1) -> Tensor:
    """``scipy.stats.multivariate_normal.entropy``: (rank (log 2pi + 1) + log det cov) / 2,
    differentiable in ``cov`` (``mean`` does not enter it)."""
    like = foreign_of(mean, cov)
    _, _, cov = _parameters(mean, cov, like)
    factor = _Factor(cov, allow_singular=True)
    return as_float64(0.5 * (factor.rank * (_LOG_2PI + 1) + factor.log_pdet), like)


__all__ = ["entropy", "logpdf", "pdf"]
