"""Checking gradients against central finite differences."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from .engine import gradients
from .modes import no_grad
from .tensor import Tensor


class GradcheckError(AssertionError):
    """Reverse-mode gradients and finite differences disagree."""


def _as_inputs(inputs: Any) -> list[np.ndarray]:
    if isinstance(inputs, (Tensor, np.ndarray)) or np.isscalar(inputs):
        inputs = (inputs,)
    return [np.array(x.data if isinstance(x, Tensor) else x, dtype=np.float64) for x in inputs]


def numeric_gradient(
    scalar: Callable[[list[np.ndarray]], float], arrays: list[np.ndarray], eps: float = 1e-6
) -> list[np.ndarray]:
    """Central differences of ``scalar(arrays)`` in every element of every array.

    >>> import numpy as np
    >>> numeric_gradient(lambda a: float(np.sum(a[0] ** 2)), [np.array([1.0, 2.0])])[0].round(6)
    array([2., 4.])
    """
    grads = []
    for k, array in enumerate(arrays):
        grad = np.zeros_like(array)
        for index in np.ndindex(array.shape):
            shifted = [a.copy() for a in arrays]
            shifted[k][index] += eps
            plus = scalar(shifted)
            shifted[k][index] -= 2 * eps
            grad[index] = (plus - scalar(shifted)) / (2 * eps)
        grads.append(grad)
    return grads


def gradcheck(
    f: Callable[..., Any],
    inputs: Sequence[Any] | Any,
    eps: float = 1e-6,
    atol: float = 1e-5,
    rtol: float = 1e-3,
    seed: int = 0,
) -> bool:
    """Compare the gradient of ``<u, f(*inputs)>`` for a random ``u`` (``u = 1`` for a scalar
    output) with central finite differences, in float64. Returns True, or raises
    :class:`GradcheckError` (an ``AssertionError``) showing both.

    >>> import chainrule as cr
    >>> cr.gradcheck(lambda x: cr.sin(x) * x, [cr.tensor([0.5, 1.0], dtype="float64")])
    True
    """
    arrays = _as_inputs(inputs)
    rng = np.random.default_rng(seed)
    tensors = [Tensor(a, requires_grad=True) for a in arrays]
    out = f(*tensors)
    if not isinstance(out, Tensor):
        raise TypeError(f"f must return a tensor, got {type(out).__name__}")
    # A scalar output is checked as is, so that an error shows the gradients themselves.
    weights = np.ones(out.shape) if out.size == 1 else rng.standard_normal(out.shape)
    analytic = gradients(out, tensors, Tensor(weights), allow_unused=True)

    def projected(values: list[np.ndarray]) -> float:
        with no_grad():
            result = f(*[Tensor(v) for v in values])
        return float(np.sum(np.asarray(result.data, dtype=np.float64) * weights))

    numerics = numeric_gradient(projected, arrays, eps)
    for k, (array, grad, numeric) in enumerate(zip(arrays, analytic, numerics, strict=True)):
        computed = np.zeros_like(array) if grad is None else np.asarray(grad.data)
        if not np.allclose(computed, numeric, atol=atol, rtol=rtol):
            raise GradcheckError(
                f"gradient of input {k} does not match finite differences:\n"
                f"reverse mode:\n{computed}\nfinite differences:\n{numeric}"
            )
    return True
