"""Random tensors from one seedable generator (float32 by default, like the frameworks)."""

from __future__ import annotations

from typing import Any

import numpy as np

from . import backends
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


def _state() -> Any:
    """Where the generator is in its stream (cr.jit puts it back when a replay that drew
    stops at a failed check, before the call runs eagerly)."""
    return _generator, _generator.bit_generator.state


def _set_state(saved: Any) -> None:
    global _generator
    _generator, state = saved
    _generator.bit_generator.state = state


def _sample(method: str, dtype: Any, *args: Any) -> np.ndarray:
    """Draws of the generator's ``method`` as an array of ``dtype`` (the generator of the moment:
    reseeding replaces it)."""
    return np.asarray(getattr(_generator, method)(*args), dtype=dtype)


def _draw(method: str, dtype: Any, *args: Any) -> Any:
    """:func:`_sample`, recorded as a draw when a traced call (cr.jit) runs in this thread, so
    that each replay draws afresh."""
    trace = getattr(backends.tracing, "trace", None)
    if trace is None:
        return _sample(method, dtype, *args)
    return trace.draw(_sample, (method, dtype, *args))


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
    array = _draw("normal", as_dtype(dtype) or float32, loc, scale, _size(size, ()))
    return _make(array, None, requires_grad)


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
    array = _draw("random", as_dtype(dtype) or float32, _size(size, shape))
    return _make(array, None, requires_grad)


def uniform(
    low: float = 0.0, high: float = 1.0, size: Any = None, dtype: Any = None,
    requires_grad: bool = False,
) -> Any:
    """Uniform samples in [low, high).

    >>> import chainrule as cr
    >>> cr.random.uniform(2, 3, size=4).shape
    (4,)
    """
    array = _draw("uniform", as_dtype(dtype) or float32, low, high, _size(size, ()))
    return _make(array, None, requires_grad)


def randint(low: int, high: int | None = None, size: Any = None) -> Any:
    """Random integers in [low, high) (int64).

    >>> import chainrule as cr
    >>> cr.random.randint(0, 3, size=5).dtype
    dtype('int64')
    """
    return _make(_draw("integers", np.int64, low, high, _size(size, ())), None, False)


def permutation(n: int) -> Any:
    """A random permutation of ``range(n)``."""
    return _make(_draw("permutation", np.int64, n), None, False)
