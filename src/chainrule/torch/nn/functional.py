"""``torch.nn.functional``: activations and losses, PyTorch's signatures and reductions.

>>> import chainrule.torch as torch
>>> import chainrule.torch.nn.functional as F
>>> logits = torch.tensor([[2.0, 0.0], [0.0, 2.0]])
>>> F.cross_entropy(logits, torch.tensor([0, 1]))
tensor(0.1269)
"""

from __future__ import annotations

from typing import Any

import numpy as np

import chainrule as cr

from ...tensor import array_of as _array_of
from .._tensor import Tensor, _as


def _reduce(loss: Tensor, reduction: str) -> Tensor:
    if reduction == "mean":
        return loss.mean()
    if reduction == "sum":
        return loss.sum()
    if reduction == "none":
        return loss
    raise ValueError(f"{reduction} is not a valid value for reduction")


def relu(input: Any, inplace: bool = False) -> Tensor:  # noqa: A002
    return _as(cr.relu(input))


def sigmoid(input: Any) -> Tensor:  # noqa: A002
    return _as(input).sigmoid()


def tanh(input: Any) -> Tensor:  # noqa: A002
    return _as(input).tanh()


def softmax(input: Any, dim: int | None = None, dtype: Any = None) -> Tensor:  # noqa: A002
    return _as(input).softmax(-1 if dim is None else dim, dtype)


def log_softmax(input: Any, dim: int | None = None, dtype: Any = None) -> Tensor:  # noqa: A002
    return _as(input).log_softmax(-1 if dim is None else dim, dtype)


def linear(input: Any, weight: Any, bias: Any = None) -> Tensor:  # noqa: A002
    """``input @ weight.T + bias``; as in PyTorch, all three must have one dtype."""
    weight = _as(weight)
    out = _as(input).matmul(weight.mT if weight.ndim > 1 else weight)
    if bias is None:
        return out
    _same_dtype(_as(bias), out)
    return out + bias


def _same_dtype(value: Tensor, expected: Tensor) -> None:
    if value.dtype != expected.dtype:
        raise RuntimeError(
            f"Found dtype {value.dtype} but expected {expected.dtype} (this function does not "
            "promote; convert one of the tensors, e.g. with .float())"
        )


def one_hot(tensor: Any, num_classes: int = -1) -> Tensor:
    labels = np.asarray(_array_of(tensor))
    count = int(labels.max()) + 1 if num_classes == -1 else num_classes
    return _as(cr.tensor((labels[..., None] == np.arange(count)).astype(np.int64)))


def nll_loss(input: Any, target: Any, reduction: str = "mean") -> Tensor:  # noqa: A002
    """Negative log-likelihood of class indices ``target`` under log-probabilities ``input``."""
    input = _as(input)  # noqa: A001
    labels = np.asarray(_array_of(target))
    if input.ndim == 1:
        return _reduce(-input[labels], reduction)
    picked = input.gather(1, np.expand_dims(labels, 1))
    return _reduce(-picked.squeeze(1), reduction)


def cross_entropy(input: Any, target: Any, reduction: str = "mean",  # noqa: A002
                  label_smoothing: float = 0.0) -> Tensor:
    """Softmax cross-entropy of logits ``input`` (N, C) against class indices (N,) or class
    probabilities (N, C)."""
    axis = 1 if np.ndim(input) > 1 else 0
    log_probs = _as(cr.log_softmax(input, axis=axis))
    classes = log_probs.shape[-1]
    if isinstance(target, cr.Tensor) and target.dtype.kind == "f":
        probs = target
    elif label_smoothing:
        probs = one_hot(target, classes).float()
    else:
        return nll_loss(log_probs, target, reduction)
    if label_smoothing:
        probs = probs * (1 - label_smoothing) + label_smoothing / classes
    return _reduce(-(probs * log_probs).sum(axis), reduction)


def mse_loss(input: Any, target: Any, reduction: str = "mean") -> Tensor:  # noqa: A002
    return _reduce((_as(input) - target).square(), reduction)


def l1_loss(input: Any, target: Any, reduction: str = "mean") -> Tensor:  # noqa: A002
    return _reduce((_as(input) - target).abs(), reduction)


def binary_cross_entropy(input: Any, target: Any, reduction: str = "mean") -> Tensor:  # noqa: A002
    """PyTorch clamps the logarithms at -100 (and wants ``target`` in ``input``'s dtype)."""
    _same_dtype(_as(target), _as(input))
    log_p = cr.clip(cr.log(input), -100, None)
    log_q = cr.clip(cr.log(1 - _as(input)), -100, None)
    return _reduce(_as(-(target * log_p + (1 - _as(target)) * log_q)), reduction)


def binary_cross_entropy_with_logits(input: Any, target: Any,  # noqa: A002
                                     reduction: str = "mean") -> Tensor:
    logits = _as(input)
    # log(1 + exp(-|x|)) + max(x, 0) - x * t, stable for large |x|
    loss = cr.log1p(cr.exp(-cr.abs(logits))) + cr.relu(logits) - logits * target
    return _reduce(_as(loss), reduction)


def dropout(input: Any, p: float = 0.5, training: bool = True,  # noqa: A002
            inplace: bool = False) -> Tensor:
    if not training or p == 0:
        return _as(input)
    keep = cr.random.rand(size=np.shape(input)) > p
    return _as(cr.where(keep, input, 0.0) / (1 - p))
