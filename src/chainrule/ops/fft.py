"""Discrete Fourier transforms: ``numpy.fft``'s transforms as four linear primitives.

Every transform here is linear (``irfftn`` real-linear), so its tangent rule is the primitive
itself and its reverse rule is its transpose under the pairing the engine's cotangents use
(``Re sum(cotangent * tangent)``, no conjugate: see :mod:`chainrule.hooks`), which is again a
transform. Derivatives of every order follow, each order one more transform.

- ``fftn``: the complex transform over ``axes``. The DFT matrix is symmetric, so the transpose
  of a forward transform is the same forward transform (and of an inverse one, the inverse),
  with the same ``norm``.
- ``rfftn``: the forward transform of a real value, keeping the first ``n // 2 + 1`` entries
  of the last axis. Its transpose zero-pads the cotangent back to ``n`` entries and applies the
  full forward transform; the real part is the real input's cotangent.
- ``irfftn``: the inverse of ``rfftn``, reading the half spectrum as Hermitian (each entry
  strictly between the first and the Nyquist one stands for itself and its mirror image, whose
  imaginary part flips). Its transpose weighs ``conj(rfftn(g))`` by 1 at the first (and, for an
  even ``n``, the last) entry and by 2 elsewhere, with the dual normalisation.
- ``fit_axes``: NumPy's ``n`` and ``s``, cropping or zero-padding the end of axes; its
  transpose fits back to the input's sizes.

Static axes are negative (the batching contract, :mod:`chainrule.ops.axes`); the public
functions with NumPy's arguments are in :mod:`chainrule.fft`.
"""

from __future__ import annotations

import numpy as np

from .axes import ndim_of, shape_of
from .decompositions import constant
from .elementwise import conj, real
from .index import getitem_trailing
from .primitive import primitive

# The normalisation whose transform is the transpose of one with the key's.
_DUAL_NORM = {"backward": "forward", "ortho": "ortho", "forward": "backward"}


@primitive
def fit_axes(x, *, axes, sizes):
    """``x`` cropped or zero-padded at the end of each of ``axes`` to ``sizes``."""
    crop = [slice(None)] * ndim_of(x)
    widths = [(0, 0)] * ndim_of(x)
    for axis, size in zip(axes, sizes, strict=True):
        crop[axis] = slice(0, size)
        widths[axis] = (0, max(0, size - shape_of(x)[axis]))
    return np.pad(x[tuple(crop)], widths)


fit_axes.defrules(
    vjp=lambda g, x_shape, axes: fit_axes(g, axes=axes, sizes=tuple(x_shape[a] for a in axes)),
    jvp="linear",
)


def _whole(x, axes):
    """``x`` with each of ``axes`` in one chunk, for a library of chunked arrays (Dask), whose
    transforms take whole axes only: the pieces joined by padding (``fit_axes``) or by
    concatenation arrive in several chunks."""
    if not hasattr(x, "rechunk"):
        return x
    return x.rechunk({axis % x.ndim: -1 for axis in axes})


@primitive
def fftn(x, *, axes, inverse, norm):
    """The complex transform over ``axes`` (``numpy.fft.fftn``, or ``ifftn`` if ``inverse``)."""
    if type(x) is not np.ndarray:
        x = _whole(x, axes)
    return (np.fft.ifftn if inverse else np.fft.fftn)(x, axes=axes, norm=norm)


fftn.defrules(
    vjp=lambda g, axes, inverse, norm: fftn(g, axes=axes, inverse=inverse, norm=norm),
    jvp="linear",
)


@primitive
def rfftn(x, *, axes, norm):
    """The transform of a real value over ``axes``, the last one halved (``numpy.fft.rfftn``)."""
    if type(x) is not np.ndarray:
        x = _whole(x, axes)
    return np.fft.rfftn(x, axes=axes, norm=norm)


def _rfftn_vjp(g, x_shape, axes, norm):
    last = axes[-1]
    padded = fit_axes(g, axes=(last,), sizes=(x_shape[last],))
    return real(fftn(padded, axes=axes, inverse=False, norm=norm))


rfftn.defrules(vjp=_rfftn_vjp, jvp="linear")


@primitive
def irfftn(x, *, axes, n, norm):
    """The real inverse of ``rfftn``: ``n`` entries along the last of ``axes``, from the first
    ``n // 2 + 1`` entries of ``x`` there (``numpy.fft.irfftn``)."""
    sizes = [shape_of(x)[axis] for axis in axes[:-1]] + [n]
    if type(x) is not np.ndarray:
        x = _whole(x, axes)
    return np.fft.irfftn(x, s=sizes, axes=axes, norm=norm)


def _hermitian_weights(n: int, axis: int) -> np.ndarray:
    """How many entries of the full spectrum each of the half spectrum's stands for, shaped to
    broadcast along ``axis``."""
    weights = np.full(n // 2 + 1, 2.0)
    weights[0] = 1.0
    if n % 2 == 0:
        weights[-1] = 1.0
    return weights.reshape((-1,) + (1,) * (-axis - 1))


def _irfftn_vjp(g, axes, n, norm):
    spectrum = conj(rfftn(g, axes=axes, norm=_DUAL_NORM[norm]))
    return spectrum * constant(_hermitian_weights(n, axes[-1]), g)


irfftn.defrules(vjp=_irfftn_vjp, jvp="linear")


def shift(x, *, axes, inverse=False):
    """``numpy.fft.fftshift`` (or ``ifftshift``) over negative ``axes``: a rotation of each by
    half its length, as a gather (differentiable as indexing)."""
    for axis in axes:
        size = shape_of(x)[axis]
        turn = size // 2 if not inverse else -(size // 2)
        order = np.roll(np.arange(size), turn)
        index = (order,) + (slice(None),) * (-axis - 1)
        x = getitem_trailing(x, index=index, ndim=-axis)
    return x


__all__ = ["fftn", "fit_axes", "irfftn", "rfftn", "shift"]
