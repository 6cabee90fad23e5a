"""Random tensors from one seedable generator (float32 by default, like the frameworks)."""

from __future__ import annotations

from typing import Any

import numpy as np

from .creation import _make
from .dtypes import as_dtype, float32

_generator = np.random.default_rng()


def seed(value: int) -> None:
    """Reseed the generator behind ``chainrule.random``.

    >>> import chainrule as cr
    >>> cr.random.seed(0); a = cr.random.rand(2)
    >>> cr.random.seed(0); bool((a == cr.random.rand(2)).all())
    True
    """
    global _generator
    _generator = np.random.default_rng(value)


def _size(size: Any, shape: tuple) -> Any:
    if shape:
        return shape[0] if len(shape) == 1 and isinstance(shape[0], (tuple, list)) else shape
    return () if size is None else size


def normal(
    loc: float = 0.0, scale: float = 1.0, size: Any = None, dtype: Any = None,
    requires_grad: bool = False,
) -> Any:
    """Samples from a normal distribution; a 0-d tensor when ``size`` is None.

    >>> import chainrule as cr
    >>> cr.random.normal(size=(2, 3)).shape
    (2, 3)
    """
    array = _generator.normal(loc, scale, _size(size, ()))
    return _make(np.asarray(array, dtype=as_dtype(dtype) or float32), None, requires_grad)


def randn(*shape: Any, size: Any = None, dtype: Any = None, requires_grad: bool = False) -> Any:
    """Standard normal samples: ``randn(2, 3)`` or ``randn(size=(2, 3))``.

    >>> import chainrule as cr
    >>> cr.random.randn(2, 3).dtype
    dtype('float32')
    """
    return normal(0.0, 1.0, _size(size, shape), dtype, requires_grad)


def rand(*shape: Any, size: Any = None, dtype: Any = None, requires_grad: bool = False) -> Any:
    """Uniform samples in [0, 1).

    >>> import chainrule as cr
    >>> float(cr.random.rand(100).max()) < 1
    True
    """
    array = _generator.random(_size(size, shape))
    return _make(np.asarray(array, dtype=as_dtype(dtype) or float32), None, requires_grad)


def uniform(
    low: float = 0.0, high: float = 1.0, size: Any = None, dtype: Any = None,
    requires_grad: bool = False,
) -> Any:
    """Uniform samples in [low, high).

    >>> import chainrule as cr
    >>> cr.random.uniform(2, 3, size=4).shape
    (4,)
    """
    array = _generator.uniform(low, high, _size(size, ()))
    return _make(np.asarray(array, dtype=as_dtype(dtype) or float32), None, requires_grad)


def randint(low: int, high: int | None = None, size: Any = None) -> Any:
    """Random integers in [low, high) (int64).

    >>> import chainrule as cr
    >>> cr.random.randint(0, 3, size=5).dtype
    dtype('int64')
    """
    return _make(np.asarray(_generator.integers(low, high, _size(size, ())), np.int64), None,
                 False)


def permutation(n: int) -> Any:
    """A random permutation of ``range(n)``."""
    return _make(_generator.permutation(n).astype(np.int64), None, False)
