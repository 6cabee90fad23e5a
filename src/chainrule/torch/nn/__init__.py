"""``torch.nn``: ``functional`` and ``Parameter``."""

from __future__ import annotations

from typing import Any

from .._tensor import Tensor, _as
from . import functional  # noqa: F401


def Parameter(data: Any, requires_grad: bool = True) -> Tensor:  # noqa: N802 - PyTorch's name
    """A leaf tensor that requires grad (PyTorch's ``nn.Parameter``)."""
    out = _as(data.detach()) if isinstance(data, Tensor) else _as(data)
    return out.requires_grad_(requires_grad)
