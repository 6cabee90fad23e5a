"""HIPS autograd's own spelling (``impl_autograd.py``, not a line changed) run by
``chainrule.autograd``: what a HIPS user gets by changing the import.

This module is only ever imported in a benchmark worker process of its own, so pointing the
names ``autograd`` and ``autograd.numpy`` at the dialect for the rest of the process is the
import swap itself; HIPS autograd need not be installed.
"""

from __future__ import annotations

import sys

import chainrule.autograd
import chainrule.autograd.numpy

sys.modules["autograd"] = chainrule.autograd
sys.modules["autograd.numpy"] = chainrule.autograd.numpy
sys.modules.pop("benchmarks.impl_autograd", None)

from benchmarks.impl_autograd import chain, hess, mlp, seed, wide  # noqa: E402

__all__ = ["chain", "hess", "mlp", "seed", "wide"]
