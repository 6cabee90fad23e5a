"""Checking derivatives against central finite differences, in both modes."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from .engine import gradients
from .functional import jvp
from .modes import no_grad
from .tensor import Tensor, array_of


class GradcheckError(AssertionError):
    """Derivatives and finite differences disagree."""


def _as_inputs(inputs: Any) -> list[np.ndarray]:
    """float64 copies of the inputs (complex128 for complex ones: never cast to real)."""
    if isinstance(inputs, (Tensor, np.ndarray)) or np.isscalar(inputs):
        inputs = (inputs,)
    arrays = []
    for x in inputs:
        array = np.asarray(array_of(x))
        arrays.append(np.array(array, dtype=np.complex128 if array.dtype.kind == "c" else
                               np.float64))
    return arrays


def numeric_gradient(
    scalar: Callable[[list[np.ndarray]], float], arrays: list[np.ndarray], eps: float = 1e-6
) -> list[np.ndarray]:
    """Central differences of the real ``scalar(arrays)`` in every element of every array; for
    a complex array, dL/dRe z + i dL/dIm z (the gradient's convention, PyTorch's).

    >>> import numpy as np
    >>> numeric_gradient(lambda a: float(np.sum(a[0] ** 2)), [np.array([1.0, 2.0])])[0].round(6)
    array([2., 4.])
    >>> numeric_gradient(lambda a: float(np.abs(a[0]) ** 2), [np.array(1 + 2j)])[0].round(6)
    np.complex128(2+4j)
    """
    grads = []
    for k, array in enumerate(arrays):
        grad = np.zeros_like(array)
        steps = (eps, 1j * eps) if array.dtype.kind == "c" else (eps,)
        for index in np.ndindex(array.shape):
            for step in steps:
                shifted = [a.copy() for a in arrays]
                shifted[k][index] += step
                plus = scalar(shifted)
                shifted[k][index] -= 2 * step
                grad[index] += (plus - scalar(shifted)) / (2 * eps) * (step / eps)
        grads.append(grad)
    return grads


def gradcheck(
    f: Callable[..., Any],
    inputs: Sequence[Any] | Any,
    eps: float = 1e-6,
    atol: float = 1e-5,
    rtol: float = 1e-3,
    seed: int = 0,
    modes: Sequence[str] = ("rev", "fwd"),
) -> bool:
    """Check ``f``'s derivatives against central finite differences, in float64 (complex128
    for complex inputs): reverse mode, the gradient of ``Re <u, f(*inputs)>`` for a random
    ``u`` (``u = 1`` for a real scalar output), and forward mode, the derivative along a random
    direction. Returns True, or raises :class:`GradcheckError` (an ``AssertionError``)
    showing both numbers.

    >>> import chainrule as cr
    >>> cr.gradcheck(lambda x: cr.sin(x) * x, [cr.tensor([0.5, 1.0], dtype="float64")])
    True
    >>> cr.gradcheck(lambda z: cr.abs(z) ** 2 + cr.real(z * z), [cr.tensor([1 + 2j, -0.5j])])
    True
    """
    unknown = set(modes) - {"rev", "fwd"}
    if unknown:
        raise ValueError(f"modes are 'rev' and 'fwd', got {sorted(unknown)}")
    arrays = _as_inputs(inputs)
    rng = np.random.default_rng(seed)

    def evaluate(values: list[np.ndarray]) -> np.ndarray:
        with no_grad():
            result = f(*[Tensor(v) for v in values])
        if not isinstance(result, Tensor):
            raise TypeError(f"f must return a tensor, got {type(result).__name__}")
        return np.asarray(result._array)

    value = evaluate(arrays)
    complex_out = value.dtype.kind == "c"
    if value.size == 1 and not complex_out:
        weights = np.ones(value.shape)  # a scalar is checked as is: errors show the gradient
    else:
        weights = rng.standard_normal(value.shape)
        if complex_out:
            weights = weights + 1j * rng.standard_normal(value.shape)
    if "rev" in modes:
        _check_reverse(f, arrays, weights, evaluate, eps, atol, rtol)
    if "fwd" in modes:
        _check_forward(f, arrays, rng, evaluate, eps, atol, rtol)
    return True


def _check_reverse(f, arrays, weights, evaluate, eps, atol, rtol) -> None:
    tensors = [Tensor(a, requires_grad=True) for a in arrays]
    out = f(*tensors)
    if out.requires_grad:
        analytic = gradients(out, tensors, Tensor(weights.astype(out.dtype)), allow_unused=True)
    else:  # nothing recorded (floor, detach): the derivative claimed is 0
        analytic = [None] * len(tensors)

    def projected(values: list[np.ndarray]) -> float:
        # Re <u, f>: the real loss whose gradient is what backward(gradient=u) computes
        return float(np.sum(np.real(np.conj(weights) * evaluate(values))))

    numerics = numeric_gradient(projected, arrays, eps)
    for k, (array, grad, numeric) in enumerate(zip(arrays, analytic, numerics, strict=True)):
        computed = np.zeros_like(array) if grad is None else np.asarray(grad._array)
        if not np.allclose(computed, numeric, atol=atol, rtol=rtol):
            raise GradcheckError(
                f"gradient of input {k} does not match finite differences:\n"
                f"reverse mode:\n{computed}\nfinite differences:\n{numeric}"
            )


def _check_forward(f, arrays, rng, evaluate, eps, atol, rtol) -> None:
    directions = []
    for array in arrays:
        direction = rng.standard_normal(array.shape)
        if array.dtype.kind == "c":
            direction = direction + 1j * rng.standard_normal(array.shape)
        directions.append(direction)
    _, tangent = jvp(f, tuple(arrays), tuple(directions))
    computed = np.asarray(tangent._array)
    plus = evaluate([a + eps * d for a, d in zip(arrays, directions, strict=True)])
    minus = evaluate([a - eps * d for a, d in zip(arrays, directions, strict=True)])
    numeric = (plus - minus) / (2 * eps)
    if not np.allclose(computed, numeric, atol=atol, rtol=rtol):
        raise GradcheckError(
            f"the derivative along a random direction does not match finite differences:\n"
            f"forward mode:\n{computed}\nfinite differences:\n{numeric}"
        )
