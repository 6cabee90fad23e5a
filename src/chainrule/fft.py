"""``chainrule.fft``: NumPy's ``numpy.fft`` transforms (and frequencies), differentiable in both
modes.

The arguments are NumPy's (``n``, ``s``, ``axis``, ``axes``, ``norm`` of None/"backward",
"ortho" or "forward"), and so are the results and their dtypes (float32 gives complex64, as in
NumPy 2). Gradients of complex values follow the native API's convention (PyTorch's: for a real
loss L, dL/dRe z + i dL/dIm z); a real input gets a real gradient.

>>> import chainrule as cr
>>> cr.fft.fft(cr.tensor([1.0, 0.0, -1.0, 0.0]))
tensor([0.+0.j, 2.+0.j, 0.+0.j, 2.+0.j], dtype=complex64)
>>> x = cr.tensor([1.0, 2.0, 3.0], requires_grad=True)
>>> cr.sum(cr.abs(cr.fft.rfft(x)) ** 2).backward()
>>> x.grad
tensor([ 9., 12., 15.])
"""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np

from . import backends, ops
from .api import _tensor
from .ops.axes import negative_axes
from .ops.fft import fftn as _fftn
from .ops.fft import fit_axes, shift
from .ops.fft import irfftn as _irfftn
from .ops.fft import rfftn as _rfftn
from .tensor import Tensor, array_of

__all__ = [
    "fft", "fft2", "fftfreq", "fftn", "fftshift", "ifft", "ifft2", "ifftn", "ifftshift", "irfft",
    "irfft2", "irfftn", "rfft", "rfft2", "rfftfreq", "rfftn",
]


def _norm(norm: Any) -> str:
    if norm is None:
        return "backward"
    if norm not in ("backward", "ortho", "forward"):
        raise ValueError(
            f'Invalid norm value {norm}; should be "backward","ortho" or "forward".'
        )
    return norm


def _sizes_and_axes(x: Tensor, s: Any, axes: Any, halved: bool) -> tuple[tuple, tuple]:
    """NumPy's ``s`` and ``axes`` as (sizes, negative axes): all axes by default, the last
    ``len(s)`` ones when only ``s`` is given; a size of -1 (or an omitted ``s``) keeps the
    input's, except for the halved last axis of an inverse real transform: 2 (m - 1)."""
    shape = x.shape
    if axes is None and s is not None:
        warnings.warn(
            "`axes` should not be `None` if `s` is not `None` (Deprecated in NumPy 2.0). In a "
            "future version of NumPy, this will raise an error and `s[i]` will correspond to "
            "the size along the transformed axis specified by `axes[i]`. To retain current "
            "behaviour, pass a sequence [0, ..., k-1] to `axes` for an array of dimension k.",
            DeprecationWarning, stacklevel=4,
        )
    if axes is None:
        axes = range(-len(s), 0) if s is not None else range(x.ndim)
    axes = negative_axes(tuple(axes), x.ndim)
    if s is None:
        s = [-1] * len(axes)
    s = [int(size) for size in s]
    if len(s) != len(axes):
        raise ValueError("Shape and axes have different lengths.")
    sizes = [shape[a] if size == -1 else size for a, size in zip(axes, s, strict=True)]
    if halved and axes and s[-1] == -1:
        sizes[-1] = 2 * (shape[axes[-1]] - 1)
    for size in sizes:
        if size < 1:
            raise ValueError(f"Invalid number of FFT data points ({size}) specified.")
    return tuple(sizes), axes


def _fitted(x: Tensor, axes: tuple, sizes: tuple) -> Tensor:
    if all(x.shape[a] == size for a, size in zip(axes, sizes, strict=True)):
        return x
    return fit_axes(x, axes=axes, sizes=sizes)


def _complex(a: Any, s: Any, axes: Any, norm: Any, inverse: bool) -> Tensor:
    x = _tensor(a)
    sizes, axes = _sizes_and_axes(x, s, axes, halved=False)
    norm = _norm(norm)
    return _fftn(_fitted(x, axes, sizes), axes=axes, inverse=inverse, norm=norm)


def _real(a: Any, s: Any, axes: Any, norm: Any) -> Tensor:
    x = _tensor(a)
    sizes, axes = _sizes_and_axes(x, s, axes, halved=False)
    return _rfftn(_fitted(x, axes, sizes), axes=axes, norm=_norm(norm))


def _inverse_real(a: Any, s: Any, axes: Any, norm: Any) -> Tensor:
    x = _tensor(a)
    sizes, axes = _sizes_and_axes(x, s, axes, halved=True)
    norm = _norm(norm)
    half = sizes[:-1] + (sizes[-1] // 2 + 1,)
    return _irfftn(_fitted(x, axes, half), axes=axes, n=sizes[-1], norm=norm)


def _one(n: Any) -> Any:
    return None if n is None else (n,)


def fft(a: Any, n: int | None = None, axis: int = -1, norm: str | None = None) -> Tensor:
    """The discrete Fourier transform along ``axis``, cropped or zero-padded to ``n`` points.

    >>> import chainrule as cr
    >>> cr.fft.fft(cr.tensor([1.0, 1.0]), n=4)
    tensor([2.+0.j, 1.-1.j, 0.+0.j, 1.+1.j], dtype=complex64)
    """
    return _complex(a, _one(n), (axis,), norm, inverse=False)


def ifft(a: Any, n: int | None = None, axis: int = -1, norm: str | None = None) -> Tensor:
    """The inverse transform of :func:`fft`.

    >>> import chainrule as cr
    >>> cr.fft.ifft(cr.tensor([2.0, 0.0]))
    tensor([1.+0.j, 1.+0.j], dtype=complex64)
    """
    return _complex(a, _one(n), (axis,), norm, inverse=True)


def fftn(a: Any, s: Any = None, axes: Any = None, norm: str | None = None) -> Tensor:
    """The transform over ``axes`` (all by default), each cropped or zero-padded to ``s``.

    >>> import chainrule as cr
    >>> cr.fft.fftn(cr.ones((2, 2)))
    tensor([[4.+0.j, 0.+0.j],
            [0.+0.j, 0.+0.j]], dtype=complex64)
    """
    return _complex(a, s, axes, norm, inverse=False)


def ifftn(a: Any, s: Any = None, axes: Any = None, norm: str | None = None) -> Tensor:
    """The inverse transform of :func:`fftn`."""
    return _complex(a, s, axes, norm, inverse=True)


def fft2(a: Any, s: Any = None, axes: Any = (-2, -1), norm: str | None = None) -> Tensor:
    """:func:`fftn` over the last two axes."""
    return _complex(a, s, axes, norm, inverse=False)


def ifft2(a: Any, s: Any = None, axes: Any = (-2, -1), norm: str | None = None) -> Tensor:
    """:func:`ifftn` over the last two axes."""
    return _complex(a, s, axes, norm, inverse=True)


def rfft(a: Any, n: int | None = None, axis: int = -1, norm: str | None = None) -> Tensor:
    """The transform of a real input, its ``n // 2 + 1`` non-negative frequencies.

    >>> import chainrule as cr
    >>> cr.fft.rfft(cr.tensor([1.0, 2.0, 3.0, 4.0]))
    tensor([10.+0.j, -2.+2.j, -2.+0.j], dtype=complex64)
    """
    return _real(a, _one(n), (axis,), norm)


def irfft(a: Any, n: int | None = None, axis: int = -1, norm: str | None = None) -> Tensor:
    """The real inverse of :func:`rfft`: ``n`` points (by default ``2 (m - 1)`` for ``m``
    given frequencies).

    >>> import chainrule as cr
    >>> cr.fft.irfft(cr.fft.rfft(cr.tensor([1.0, 2.0, 3.0])), n=3)
    tensor([1., 2., 3.])
    """
    return _inverse_real(a, _one(n), (axis,), norm)


def rfftn(a: Any, s: Any = None, axes: Any = None, norm: str | None = None) -> Tensor:
    """:func:`fftn` of a real input, the last of ``axes`` halved as in :func:`rfft`."""
    return _real(a, s, axes, norm)


def irfftn(a: Any, s: Any = None, axes: Any = None, norm: str | None = None) -> Tensor:
    """The real inverse of :func:`rfftn`."""
    return _inverse_real(a, s, axes, norm)


def rfft2(a: Any, s: Any = None, axes: Any = (-2, -1), norm: str | None = None) -> Tensor:
    """:func:`rfftn` over the last two axes."""
    return _real(a, s, axes, norm)


def irfft2(a: Any, s: Any = None, axes: Any = (-2, -1), norm: str | None = None) -> Tensor:
    """:func:`irfftn` over the last two axes."""
    return _inverse_real(a, s, axes, norm)


def _shift(x: Any, axes: Any, inverse: bool) -> Tensor:
    x = _tensor(x)
    axes = range(x.ndim) if axes is None else (axes,) if np.ndim(axes) == 0 else axes
    return shift(x, axes=negative_axes(tuple(axes), x.ndim), inverse=inverse)


def fftshift(x: Any, axes: Any = None) -> Tensor:
    """The zero frequency moved to the middle of ``axes`` (all by default).

    >>> import chainrule as cr
    >>> cr.fft.fftshift(cr.tensor([0.0, 1.0, 2.0, -2.0, -1.0]))
    tensor([-2., -1.,  0.,  1.,  2.])
    """
    return _shift(x, axes, inverse=False)


def ifftshift(x: Any, axes: Any = None) -> Tensor:
    """The inverse of :func:`fftshift`."""
    return _shift(x, axes, inverse=True)


def _frequencies(counts: np.ndarray, n: int, d: Any) -> Tensor:
    """``counts / (n d)``, computed as NumPy does (``counts * (1 / (n d))``), in the library
    of ``d``'s array."""
    counts = backends.constant_like(counts, array_of(d))
    if not isinstance(d, Tensor):
        return Tensor._wrap(counts * (1.0 / (n * d)))
    return ops.multiply(counts, ops.true_divide(1.0, ops.multiply(d, n)))


def fftfreq(n: int, d: Any = 1.0) -> Tensor:
    """The frequencies of :func:`fft`'s entries for ``n`` samples ``d`` apart
    (differentiable in ``d``).

    >>> import chainrule as cr
    >>> cr.fft.fftfreq(4, d=0.5)
    tensor([ 0. ,  0.5, -1. , -0.5], dtype=float64)
    """
    n = int(n)
    counts = np.concatenate([np.arange(0, (n - 1) // 2 + 1), np.arange(-(n // 2), 0)])
    return _frequencies(counts, n, d)


def rfftfreq(n: int, d: Any = 1.0) -> Tensor:
    """The frequencies of :func:`rfft`'s entries for ``n`` samples ``d`` apart.

    >>> import chainrule as cr
    >>> cr.fft.rfftfreq(4)
    tensor([0.  , 0.25, 0.5 ], dtype=float64)
    """
    n = int(n)
    return _frequencies(np.arange(0, n // 2 + 1), n, d)
