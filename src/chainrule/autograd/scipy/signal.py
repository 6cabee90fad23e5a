"""``autograd.scipy.signal``: HIPS autograd's ``convolve``, with its argument order
``(A, B, axes=None, dot_axes=[(), ()], mode="full")`` (``chainrule.scipy.signal.convolve``)."""

from __future__ import annotations

from typing import Any

from ...scipy import signal as _core
from .._box import plain as _plain


def convolve(A: Any, B: Any, axes: Any = None, dot_axes: Any = None,  # noqa: N803
             mode: str = "full") -> Any:
    """HIPS's ``convolve``: ``axes=(axes_A, axes_B)`` pairs of convolved axes, ``dot_axes``
    pairs summed over; a plain result for plain arguments."""
    return _plain(_core.convolve(A, B, mode=mode, axes=axes, dot_axes=dot_axes))
