"""Samples of the decompositions (``cr.linalg``: svd, eigh, eig, pinv, the singular-value
norms...) and of the Fourier transforms (``cr.fft``), added to the sample table of
tests/op_samples.py, which imports this module at its end.

Inputs keep the derivatives defined: distinct singular values and eigenvalues, full rank.
Complex decompositions are sampled through functions that do not depend on the arbitrary phase
of their vectors (``|U|**2``, ``U @ Vh``), the only ones that have derivatives. Real samples of
complex-valued transforms return the real and imaginary parts stacked.
"""

from __future__ import annotations

import numpy as np
from op_samples import (
    COMPLEX_SAMPLES,
    SAMPLES,
    Sample,
    cnormal,
    cwell_conditioned,
    normal,
    spd,
    well_conditioned,
)

import chainrule as cr
from chainrule.ops.primitive import REGISTRY

L = cr.linalg


def _add(name, fn, args, reference, label="", complex_=False):
    table = COMPLEX_SAMPLES if complex_ else SAMPLES
    label = f"complex {label}".strip() if complex_ else label
    table.append(Sample(name, fn, args, reference, label))


def _parts(z):
    """A complex value's real and imaginary parts, stacked (chainrule or NumPy)."""
    if isinstance(z, cr.Tensor):
        return cr.stack([cr.real(z), cr.imag(z)])
    return np.stack([np.real(z), np.imag(z)])


def _real(values):
    """The real part of a result that has no imaginary part: NumPy 2.5's ``eig`` is complex
    even where every eigenvalue is real, earlier ones' real."""
    if isinstance(values, cr.Tensor):
        return cr.real(values) if np.iscomplexobj(values.data) else values
    return np.real(values)


def _real_eigenvalues(n, seed_shift=0.0):
    """A non-symmetric matrix with distinct real eigenvalues."""
    q = well_conditioned(n, n)
    return q @ np.diag(np.arange(1.0, n + 1) * 1.3 + seed_shift) @ np.linalg.inv(q)


def _svd_packed(a):
    u, s, vh = np.linalg.svd(a, full_matrices=False)
    return np.concatenate([u, s[..., None, :], np.conj(np.swapaxes(vh, -1, -2))], axis=-2)


def _eigh_packed(a, uplo="L"):
    w, v = np.linalg.eigh(a, UPLO=uplo)
    return np.concatenate([w[..., None, :].astype(v.dtype), v], axis=-2)


def _eig_packed(a):
    w, v = np.linalg.eig(a)
    return np.concatenate([w[..., None, :], v], axis=-2)


# ---------------------------------------------------------------- decomposition primitives

_P = REGISTRY
_add("svd_factors", _P["svd_factors"], (normal(4, 3),), _svd_packed, "tall")
_add("svd_factors", _P["svd_factors"], (normal(2, 4),), _svd_packed, "wide")
_add("svd_factors", _P["svd_factors"], (normal(2, 3, 3),), _svd_packed, "stack")
_add("svdvals", _P["svdvals"], (normal(3, 4),), lambda a: np.linalg.svd(a, compute_uv=False))
_add("svdvals", _P["svdvals"], (normal(2, 3, 2),), lambda a: np.linalg.svd(a, compute_uv=False),
     "stack")
_add("eigh_factors", lambda a: _P["eigh_factors"](a, lower=True), (normal(3, 3),), _eigh_packed)
_add("eigh_factors", lambda a: _P["eigh_factors"](a, lower=False), (normal(2, 3, 3),),
     lambda a: _eigh_packed(a, "U"), "upper stack")
_add("eigvalsh", lambda a: _P["eigvalsh"](a, lower=True), (normal(3, 3),), np.linalg.eigvalsh)
_add("eigvalsh", lambda a: _P["eigvalsh"](a, lower=False), (spd(3),),
     lambda a: np.linalg.eigvalsh(a, UPLO="U"), "upper")
_add("eig_factors", lambda a: _real(_P["eig_factors"](a)), (_real_eigenvalues(3),),
     lambda a: _real(_eig_packed(a)))
_add("eigvals", lambda a: _real(_P["eigvals"](a)), (_real_eigenvalues(3),),
     lambda a: _real(np.linalg.eigvals(a)))
_add("pinv", lambda a: _P["pinv"](a), (normal(4, 3),), np.linalg.pinv, "tall")
_add("pinv", lambda a: _P["pinv"](a), (normal(2, 2, 3),), np.linalg.pinv, "wide stack")


def _phase_free_svd(packed, m):
    """|U|**2, s and U V^H: what of a complex SVD does not depend on the vectors' phases."""
    u, s, v = packed[..., :m, :], packed[..., m, :], packed[..., m + 1:, :]
    if isinstance(packed, cr.Tensor):
        uv = u @ cr.conj(cr.swapaxes(v, -1, -2))
        return cr.concatenate([cr.ravel(cr.abs(u) ** 2), cr.ravel(cr.real(s)), cr.ravel(uv)])
    uv = u @ np.conj(np.swapaxes(v, -1, -2))
    return np.concatenate([np.ravel(np.abs(u) ** 2), np.ravel(np.real(s)), np.ravel(uv)])


def _phase_free_eig(packed):
    """The eigenvalues and |V|**2."""
    w, v = packed[..., 0, :], packed[..., 1:, :]
    if isinstance(packed, cr.Tensor):
        return cr.concatenate([cr.ravel(w), cr.ravel(cr.abs(v) ** 2)])
    return np.concatenate([np.ravel(w), np.ravel(np.abs(v) ** 2)])


for _shape in ((4, 3), (2, 3)):
    _add("svd_factors", lambda a, m=_shape[0]: _phase_free_svd(_P["svd_factors"](a), m),
         (cnormal(*_shape),), lambda a, m=_shape[0]: _phase_free_svd(_svd_packed(a), m),
         f"{_shape}", complex_=True)
_add("svdvals", _P["svdvals"], (cnormal(3, 2),), lambda a: np.linalg.svd(a, compute_uv=False),
     complex_=True)
_add("eigh_factors", lambda a: _phase_free_eig(_P["eigh_factors"](a, lower=True)),
     (cnormal(3, 3),), lambda a: _phase_free_eig(_eigh_packed(a)), complex_=True)
_add("eigvalsh", lambda a: _P["eigvalsh"](a, lower=False), (cnormal(3, 3),),
     lambda a: np.linalg.eigvalsh(a, UPLO="U"), "upper", complex_=True)
_add("eig_factors", lambda a: _phase_free_eig(_P["eig_factors"](a)), (cwell_conditioned(3, 3),),
     lambda a: _phase_free_eig(_eig_packed(a)), complex_=True)
_add("eigvals", _P["eigvals"], (cwell_conditioned(3, 3),), np.linalg.eigvals, complex_=True)
_add("pinv", lambda a: _P["pinv"](a), (cnormal(3, 2),), np.linalg.pinv, complex_=True)

# a real matrix with complex eigenvalues: its eigenvalues and |V|**2, real and imaginary parts
_ROTATION = np.array([[0.3, -1.2, 0.1], [1.1, 0.2, 0.4], [0.0, 0.3, 2.0]])
_add("eig_factors", lambda a: _parts(_phase_free_eig(_P["eig_factors"](a))), (_ROTATION,),
     lambda a: _parts(_phase_free_eig(_eig_packed(a))), "complex eigenvalues")

# ---------------------------------------------------------------- public linalg functions


def _flat(*parts):
    if isinstance(parts[0], cr.Tensor):
        return cr.concatenate([cr.ravel(p) for p in parts])
    return np.concatenate([np.ravel(p) for p in parts])


_add("linalg.svd", lambda a: _flat(*L.svd(a, full_matrices=False)), (normal(4, 3),),
     lambda a: _flat(*np.linalg.svd(a, full_matrices=False)), "reduced")
_add("linalg.svd", lambda a: _flat(*L.svd(a)), (normal(2, 2, 2),),
     lambda a: _flat(*np.linalg.svd(a)), "square stack")
_add("linalg.svd", lambda a: L.svd(a)[0][:, :2] * L.svd(a).S, (normal(4, 2),),
     lambda a: np.linalg.svd(a)[0][:, :2] * np.linalg.svd(a)[1], "full matrices, reduced part")
_add("linalg.svd", lambda a: L.svd(a, compute_uv=False), (normal(2, 3),),
     lambda a: np.linalg.svd(a, compute_uv=False), "values")
_add("linalg.svdvals", L.svdvals, (normal(3, 3),), lambda a: np.linalg.svd(a, compute_uv=False))
_add("linalg.eigh", lambda a: _flat(*L.eigh(a, UPLO="U")), (normal(3, 3),),
     lambda a: _flat(*np.linalg.eigh(a, UPLO="U")), "upper")
_add("linalg.eigh", lambda a: _flat(*L.eigh(0.5 * (a + cr.swapaxes(a, -1, -2)))),
     (normal(2, 3, 3),), lambda a: _flat(*np.linalg.eigh(0.5 * (a + np.swapaxes(a, -1, -2)))),
     "symmetrised stack")
_add("linalg.eigvalsh", L.eigvalsh, (normal(3, 3),), np.linalg.eigvalsh)
_add("linalg.eig", lambda a: _real(_flat(*L.eig(a))), (_real_eigenvalues(3, 0.2),),
     lambda a: _real(_flat(*np.linalg.eig(a))))
_add("linalg.eigvals", lambda a: _real(L.eigvals(a)), (_real_eigenvalues(2, 0.5),),
     lambda a: _real(np.linalg.eigvals(a)))
_add("linalg.pinv", L.pinv, (normal(2, 3),), np.linalg.pinv)
_add("linalg.pinv", lambda a: L.pinv(a, rtol=None), (normal(3, 2),),
     lambda a: np.linalg.pinv(a, rtol=None), "rtol")
for _n in (3, 1, -2):
    _add("linalg.matrix_power", lambda a, n=_n: L.matrix_power(a, n), (well_conditioned(3, 3),),
         lambda a, n=_n: np.linalg.matrix_power(a, n), f"n={_n}")
_add("linalg.tensorinv", lambda a: L.tensorinv(a, ind=1),
     (well_conditioned(4, 4).reshape(4, 2, 2),), lambda a: np.linalg.tensorinv(a, ind=1))
_add("linalg.tensorsolve", L.tensorsolve, (well_conditioned(4, 4).reshape(2, 2, 4), normal(2, 2)),
     np.linalg.tensorsolve)
_add("linalg.tensorsolve", lambda a, b: L.tensorsolve(a, b, axes=(0,)),
     (well_conditioned(4, 4).reshape(4, 2, 2), normal(2, 2)),
     lambda a, b: np.linalg.tensorsolve(a, b, axes=(0,)), "axes")
for _ord in (2, -2, "nuc"):
    _add("linalg.norm", lambda a, o=_ord: L.norm(a, o), (normal(3, 4),),
         lambda a, o=_ord: np.linalg.norm(a, o), f"matrix ord {_ord}")
    _add("linalg.norm", lambda a, o=_ord: L.norm(a, o, axis=(2, 0), keepdims=True),
         (normal(3, 2, 4),), lambda a, o=_ord: np.linalg.norm(a, o, axis=(2, 0), keepdims=True),
         f"matrix ord {_ord} axes (2, 0) keepdims")
    _add("linalg.norm", lambda a, o=_ord: L.norm(a, o), (cnormal(3, 2),),
         lambda a, o=_ord: np.linalg.norm(a, o), f"matrix ord {_ord}", complex_=True)
_add("linalg.norm", lambda a: L.norm(a, 4, axis=0), (normal(3, 2),),
     lambda a: np.linalg.norm(a, 4, axis=0), "ord 4 axis 0")
_add("linalg.norm", lambda a: L.norm(a, np.inf, axis=-1), (cnormal(2, 3),),
     lambda a: np.linalg.norm(a, np.inf, axis=-1), "ord inf", complex_=True)

_add("linalg.svd", lambda a: (lambda r: r.U @ r.Vh)(L.svd(a)), (cnormal(3, 3),),
     lambda a: np.linalg.svd(a)[0] @ np.linalg.svd(a)[2], "polar factor", complex_=True)
_add("linalg.eigh", lambda a: cr.abs(L.eigh(a).eigenvectors) ** 2, (cnormal(3, 3),),
     lambda a: np.abs(np.linalg.eigh(a).eigenvectors) ** 2, "|V|**2", complex_=True)
_add("linalg.eig", lambda a: L.eig(a).eigenvalues, (cwell_conditioned(3, 3),),
     lambda a: np.linalg.eig(a).eigenvalues, "eigenvalues", complex_=True)
_add("linalg.pinv", L.pinv, (cnormal(2, 3),), np.linalg.pinv, complex_=True)
_add("linalg.cholesky",
     lambda a: L.cholesky(0.5 * (a + cr.conj(cr.swapaxes(a, -1, -2))) + 3 * np.eye(3)),
     (cnormal(3, 3),),
     lambda a: np.linalg.cholesky(0.5 * (a + np.conj(a.T)) + 3 * np.eye(3)), complex_=True)
_add("linalg.matrix_power", lambda a: L.matrix_power(a, -2), (cwell_conditioned(2, 2),),
     lambda a: np.linalg.matrix_power(a, -2), "n=-2", complex_=True)

# ---------------------------------------------------------------- Fourier transforms

_add("fit_axes", lambda x: _P["fit_axes"](x, axes=(-2, -1), sizes=(4, 2)), (normal(3, 3),),
     lambda x: np.pad(x[:, :2], ((0, 1), (0, 0))))
_add("fit_axes", lambda x: _P["fit_axes"](x, axes=(-1,), sizes=(5,)), (cnormal(2, 3),),
     lambda x: np.pad(x, ((0, 0), (0, 2))), complex_=True)
# (each normalisation once in each direction, and both parities of the halved axis)
for _norm, _inverse, _shape in (("backward", False, (3, 4)), ("ortho", True, (3, 5)),
                                ("forward", False, (3, 5)), ("backward", True, (3, 4))):
    _f = np.fft.ifftn if _inverse else np.fft.fftn
    _label = f"{_norm} {'inverse' if _inverse else 'forward'}"
    if _norm != "forward":
        _add("fftn", lambda x, i=_inverse, n=_norm: _parts(_P["fftn"](x, axes=(-2, -1),
                                                                    inverse=i, norm=n)),
             (normal(2, 3, 4),), lambda x, f=_f, n=_norm: _parts(f(x, axes=(-2, -1), norm=n)),
             _label)
    _add("fftn", lambda x, i=_inverse, n=_norm: _P["fftn"](x, axes=(-1,), inverse=i, norm=n),
         (cnormal(2, 5),), lambda x, f=_f, n=_norm: f(x, axes=(-1,), norm=n), _label,
         complex_=True)
    _add("rfftn", lambda x, n=_norm: _parts(_P["rfftn"](x, axes=(-2, -1), norm=n)),
         (normal(*_shape),), lambda x, n=_norm: _parts(np.fft.rfftn(x, norm=n)),
         f"{_norm} {_shape}")
    _n_out = 2 * (_shape[1] - 1) + _shape[1] % 2
    _add("irfftn", lambda x, n=_norm, k=_n_out: _P["irfftn"](x, axes=(-2, -1), n=k, norm=n),
         (cnormal(*_shape),), lambda x, n=_norm, k=_n_out: np.fft.irfftn(
             x, s=(x.shape[0], k), axes=(0, 1), norm=n), f"{_norm} {_shape}", complex_=True)
    if _inverse:
        _add("irfftn", lambda x, n=_norm, k=_n_out: _P["irfftn"](x, axes=(-1,), n=k, norm=n),
             (normal(*_shape),), lambda x, n=_norm, k=_n_out: np.fft.irfft(x, n=k, norm=n),
             f"{_norm} {_shape} real input")
_add("rfftn", lambda x: _P["rfftn"](x, axes=(-1,), norm="backward"), (normal(2, 4),),
     lambda x: np.fft.rfft(x), complex_=True)

_FFT_CASES = {
    "fft": ({"n": 5}, {"axis": 0, "norm": "ortho"}),
    "ifft": ({"n": 3}, {"norm": "forward"}),
    "fft2": ({}, {"s": (2, 5)}),
    "ifft2": ({"axes": (0, 1)}, {"s": (4, 2), "norm": "ortho"}),
    "fftn": ({}, {"s": (3,), "axes": (0,)}),
    "ifftn": ({"norm": "ortho"}, {"s": (2, 6), "axes": (0, 1)}),
    "rfft": ({}, {"n": 7, "norm": "ortho"}),
    "irfft": ({}, {"n": 7, "axis": 0}),
    "rfft2": ({}, {"s": (2, 5)}),
    "irfft2": ({}, {"s": (4, 5), "norm": "forward"}),
    "rfftn": ({"axes": (1, 0)}, {"s": (3, 3), "axes": (-2, -1)}),
    "irfftn": ({}, {"s": (3, 6), "axes": (1, 0)}),
    "fftshift": ({}, {"axes": 0}),
    "ifftshift": ({}, {"axes": (1,)}),
}
for _name, _cases in _FFT_CASES.items():
    _ours, _theirs = getattr(cr.fft, _name), getattr(np.fft, _name)
    for _kwargs in _cases:
        _label = ", ".join(f"{k}={v}" for k, v in _kwargs.items())
        _add(f"fft.{_name}", lambda x, f=_ours, k=_kwargs: _parts(f(x, **k)), (normal(3, 4),),
             lambda x, f=_theirs, k=_kwargs: _parts(f(x, **k)), _label)
        if not _name.startswith("rfft"):
            _add(f"fft.{_name}", lambda x, f=_ours, k=_kwargs: f(x, **k), (cnormal(4, 3),),
                 lambda x, f=_theirs, k=_kwargs: f(x, **k), _label, complex_=True)
_add("cholesky",
     lambda a: REGISTRY["cholesky"](0.5 * (a + cr.conj(cr.swapaxes(a, -1, -2))) + 3 * np.eye(3)),
     (cnormal(3, 3),), lambda a: np.linalg.cholesky(0.5 * (a + np.conj(a.T)) + 3 * np.eye(3)),
     complex_=True)


def _qr_packed(a):
    return np.concatenate(np.linalg.qr(a), axis=-2)


_add("qr_factors", REGISTRY["qr_factors"], (normal(4, 3),), _qr_packed, "tall")
_add("qr_factors", REGISTRY["qr_factors"], (normal(2, 3, 3),), _qr_packed, "square stack")
_add("qr_factors", REGISTRY["qr_factors"], (cnormal(3, 2),), _qr_packed, complex_=True)
_add("linalg.qr", lambda a: _flat(*L.qr(a)), (normal(3, 2),), lambda a: _flat(*np.linalg.qr(a)),
     "reduced")
_add("linalg.qr", lambda a: _flat(*L.qr(a)), (normal(2, 4),), lambda a: _flat(*np.linalg.qr(a)),
     "wide")
_add("linalg.qr", lambda a: L.qr(a, "complete").R, (normal(2, 3, 2),),
     lambda a: np.linalg.qr(a, "complete").R, "complete R")
_add("linalg.qr", lambda a: L.qr(a, "r"), (cnormal(2, 3),), lambda a: np.linalg.qr(a, "r"), "r",
     complex_=True)
_add("linalg.svd", lambda a: _flat(*L.svd(a, hermitian=True)), (normal(3, 3),),
     lambda a: _flat(*np.linalg.svd(a, hermitian=True)), "hermitian")
_add("linalg.svd", lambda a: L.svd(a, compute_uv=False, hermitian=True), (cnormal(2, 3, 3),),
     lambda a: np.linalg.svd(a, compute_uv=False, hermitian=True), "hermitian values",
     complex_=True)
_add("pinv", lambda a: REGISTRY["pinv"](a, hermitian=True), (normal(3, 3),),
     lambda a: np.linalg.pinv(a, hermitian=True), "hermitian")
_add("linalg.pinv", lambda a: L.pinv(a, hermitian=True), (cnormal(3, 3),),
     lambda a: np.linalg.pinv(a, hermitian=True), "hermitian", complex_=True)
_add("fft.fftfreq", lambda d: cr.fft.fftfreq(7, d), (np.array(0.3),),
     lambda d: np.fft.fftfreq(7, d))
_add("fft.rfftfreq", lambda d: cr.fft.rfftfreq(8, d), (np.array(0.3),),
     lambda d: np.fft.rfftfreq(8, d))
