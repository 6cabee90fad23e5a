"""Samples for NumPy's further functions (chainrule.ops.ufuncs, arrange, differences, and the
stacking, splitting and NaN-ignoring functions), added to the tables of tests/op_samples.py,
which imports this module at its end: the op-table tests then check each one against NumPy,
finite differences, both modes, second order and batched flows."""

from __future__ import annotations

import warnings

import numpy as np
from op_samples import (
    REAL_ONLY,
    away,
    cnormal,
    cprim,
    cpublic,
    cright,
    csmall,
    distinct,
    normal,
    prim,
    public,
    uniform,
)

import chainrule as cr

# Defined on real numbers only (orderings, NaN rules, NumPy's real-only ufuncs).
REAL_ONLY.update({"fabs", "deg2rad", "rad2deg", "hypot", "logaddexp", "logaddexp2", "fmax",
                  "fmin", "fmod"})

# ---------------------------------------------------------------- elementwise primitives

prim("exp2", normal(2, 3))
prim("arcsinh", normal(2, 3))
prim("arccosh", uniform(1.2, 3.0, 2, 3))
prim("arctanh", uniform(-0.8, 0.8, 2, 3))
prim("fabs", away(2, 3))
prim("deg2rad", normal(2, 3) * 90)
prim("rad2deg", normal(2, 3))
prim("hypot", away(2, 3), away(3))
prim("logaddexp", normal(2, 3), normal(3))
prim("logaddexp", normal(3) + 800, normal(3) - 800, label="far apart")
prim("logaddexp2", normal(2, 3), normal(2, 1))
_x_nan = np.array([np.nan, 0.3, -0.5, 0.9])
_y_nan = np.array([0.2, np.nan, 0.1, -0.4])
for _name in ("fmax", "fmin"):
    prim(_name, distinct(2, 3), distinct(3))
    prim(_name, _x_nan, _y_nan, label="NaNs")
prim("fmod", uniform(-1.3, 1.3, 2, 3) + 0.05, uniform(1.5, 2.0, 3))
prim("sinc", np.array([[0.0, 0.05, -0.09], [0.3, -1.7, 2.4]]))
prim("sinc", np.array([0.0, 1e-4, -0.0999, 0.1001]), label="near the series radius")
_non_finite = np.array([np.nan, 0.5, np.inf, -1.2, -np.inf])
prim("nan_to_num", _non_finite, nan=0.25, posinf=3.0, neginf=-3.0,
     ref=lambda x: np.nan_to_num(x, nan=0.25, posinf=3.0, neginf=-3.0))
prim("round", np.array([-1.26, 0.04, 2.51, 3.349]), decimals=1, ref=lambda x: np.round(x, 1))
prim("fix", np.array([-1.5, -0.2, 0.0, 0.7, 2.5]))
prim("cumprod", uniform(0.5, 1.5, 2, 3), axis=1, ref=lambda x: np.cumprod(x, 1))
prim("cumprod", np.array([[0.0, 2.0, 3.0], [1.5, 0.0, 0.0], [0.5, -2.0, 0.0]]), axis=1,
     label="zeros", ref=lambda x: np.cumprod(x, 1))
prim("cumprod", np.array([[0.7, 0.0], [1.5, 2.0], [0.0, -1.0]]), axis=0, label="zeros axis 0",
     ref=lambda x: np.cumprod(x, 0))
prim("pad", normal(2, 3), widths=((1, 2), (0, 1)), ref=lambda x: np.pad(x, ((1, 2), (0, 1))))

for _name in ("exp2", "arcsinh", "arctanh", "sinc"):
    cprim(_name, csmall(2, 3))
cprim("arccosh", cright(2, 3) + 1.0)
cprim("nan_to_num", np.array([np.nan + 0.5j, 0.5 + np.inf * 1j, 1.0 - 2.0j]),
      nan=0.25, posinf=3.0, neginf=-3.0,
      ref=lambda x: np.nan_to_num(x, nan=0.25, posinf=3.0, neginf=-3.0))
cprim("cumprod", cright(2, 3), axis=1, ref=lambda x: np.cumprod(x, 1))
cprim("cumprod", np.array([0.0, 1.0 + 1.0j, 0.5 - 2.0j]), axis=0, label="zeros",
      ref=np.cumprod)
cprim("pad", cnormal(2, 3), widths=((1, 0), (2, 1)), ref=lambda x: np.pad(x, ((1, 0), (2, 1))))

# ---------------------------------------------------------------- rearranging


def _both(name, fn, *args, ref, label="", differentiable=True):
    """A sample of ``cr.<name>`` (``fn`` of chainrule's module, ``ref`` of NumPy's)."""
    public(f"api.{name}", lambda *xs: fn(cr, *xs), *args, label=label,
           differentiable=differentiable, ref=lambda *xs: ref(np, *xs))


_both("tril", lambda m, x: m.tril(x), normal(3, 4), ref=lambda m, x: m.tril(x))
_both("tril", lambda m, x: m.tril(x, -1), normal(2, 3, 3), label="stack k=-1",
      ref=lambda m, x: m.tril(x, -1))
_both("triu", lambda m, x: m.triu(x, 1), normal(4, 3), ref=lambda m, x: m.triu(x, 1))
_both("triu", lambda m, x: m.triu(x), normal(3), label="vector", ref=lambda m, x: m.triu(x))
for _label, _args in {"int": (2,), "per element": ([1, 0, 3], 1), "axis 0": (2, 0)}.items():
    _both("repeat", lambda m, x, a=_args: m.repeat(x, *a), normal(2, 3), label=_label,
          ref=lambda m, x, a=_args: m.repeat(x, *a))
for _label, _args in {"flat": (2,), "axis": (-1, 1), "tuple": ((1, 2), (0, 1)),
                      "same axis twice": ((1, 1), (1, 1))}.items():
    _both("roll", lambda m, x, a=_args: m.roll(x, *a), normal(2, 3), label=_label,
          ref=lambda m, x, a=_args: m.roll(x, *a))
for _k in (1, 2, 3, -1):
    _both("rot90", lambda m, x, k=_k: m.rot90(x, k), normal(2, 3), label=f"k={_k}",
          ref=lambda m, x, k=_k: m.rot90(x, k))
_both("rot90", lambda m, x: m.rot90(x, 1, (2, 0)), normal(2, 3, 2), label="axes",
      ref=lambda m, x: m.rot90(x, 1, (2, 0)))
_both("fliplr", lambda m, x: m.fliplr(x), normal(2, 3, 2), ref=lambda m, x: m.fliplr(x))
_both("flipud", lambda m, x: m.flipud(x), normal(3, 2), ref=lambda m, x: m.flipud(x))
_both("rollaxis", lambda m, x: m.rollaxis(x, 2), normal(2, 3, 4),
      ref=lambda m, x: m.rollaxis(x, 2))
_both("rollaxis", lambda m, x: m.rollaxis(x, 0, 3), normal(2, 3, 4), label="start",
      ref=lambda m, x: m.rollaxis(x, 0, 3))
_PADS = {
    "constant": ((1, 2), {}),
    "constant values": (((1, 0), (2, 1)), {"constant_values": ((0.5, -1.0), (2.0, 3.0))}),
    "edge": (((2, 1), (1, 3)), {"mode": "edge"}),
    "reflect": (((2, 1), (1, 2)), {"mode": "reflect"}),
    "symmetric": (((3, 1), (2, 2)), {"mode": "symmetric"}),
    "wrap": (((4, 1), (1, 5)), {"mode": "wrap"}),
}
for _label, (_width, _options) in _PADS.items():
    _both("pad", lambda m, x, w=_width, o=_options: m.pad(x, w, **o), normal(2, 3),
          label=_label, ref=lambda m, x, w=_width, o=_options: m.pad(x, w, **o))
_both("sort", lambda m, x: m.sort(x), distinct(3, 4), ref=lambda m, x: m.sort(x))
_both("sort", lambda m, x: m.sort(x, axis=0), distinct(3, 4), label="axis 0",
      ref=lambda m, x: m.sort(x, axis=0))
_both("sort", lambda m, x: m.sort(x, axis=None), distinct(3, 2), label="flat",
      ref=lambda m, x: m.sort(x, axis=None))
_both("partition", lambda m, x: m.partition(x, 2), distinct(2, 5),
      ref=lambda m, x: m.partition(x, 2))
_both("partition", lambda m, x: m.partition(x, (0, 3), axis=0), distinct(5, 2), label="kths",
      ref=lambda m, x: m.partition(x, (0, 3), axis=0))
_both("argsort", lambda m, x: m.argsort(x), distinct(2, 4), differentiable=False,
      ref=lambda m, x: m.argsort(x))
_both("argpartition", lambda m, x: m.argpartition(x, 1), distinct(2, 4), differentiable=False,
      ref=lambda m, x: m.argpartition(x, 1))
_both("round", lambda m, x: m.round(x, 2), normal(2, 3), differentiable=False,
      ref=lambda m, x: m.round(x, 2))
_both("around", lambda m, x: m.around(x), normal(2, 3) * 3, differentiable=False,
      ref=lambda m, x: m.around(x))
_both("nan_to_num", lambda m, x: m.nan_to_num(x, posinf=9.0, neginf=-9.0), _non_finite,
      ref=lambda m, x: m.nan_to_num(x, posinf=9.0, neginf=-9.0))
_both("cumprod", lambda m, x: m.cumprod(x), uniform(0.5, 1.5, 2, 3),
      ref=lambda m, x: m.cumprod(x))

# ---------------------------------------------------------------- stacking and splitting

_both("atleast_1d", lambda m, x: m.atleast_1d(x), normal(), ref=lambda m, x: m.atleast_1d(x))
_both("atleast_2d", lambda m, x, y: m.atleast_2d(x, y)[0], normal(3), normal(),
      ref=lambda m, x, y: m.atleast_2d(x, y)[0])
for _shape in ((), (3,), (2, 3)):
    _both("atleast_3d", lambda m, x: m.atleast_3d(x), normal(*_shape), label=f"{len(_shape)}-d",
          ref=lambda m, x: m.atleast_3d(x))
_both("vstack", lambda m, x, y: m.vstack([x, y]), normal(3), normal(2, 3),
      ref=lambda m, x, y: m.vstack([x, y]))
_both("row_stack", lambda m, x, y: m.vstack((x, y)), normal(3), normal(3),
      ref=lambda m, x, y: m.vstack((x, y)))
_both("hstack", lambda m, x, y: m.hstack([x, y]), normal(2), normal(3),
      ref=lambda m, x, y: m.hstack([x, y]))
_both("hstack", lambda m, x, y: m.hstack([x, y]), normal(2, 1), normal(2, 3), label="2-d",
      ref=lambda m, x, y: m.hstack([x, y]))
_both("dstack", lambda m, x, y: m.dstack([x, y]), normal(3), normal(3),
      ref=lambda m, x, y: m.dstack([x, y]))
_both("column_stack", lambda m, x, y: m.column_stack([x, y]), normal(3), normal(3, 2),
      ref=lambda m, x, y: m.column_stack([x, y]))
_both("append", lambda m, x, y: m.append(x, y), normal(2, 2), normal(3),
      ref=lambda m, x, y: m.append(x, y))
_both("append", lambda m, x, y: m.append(x, y, axis=0), normal(2, 3), normal(1, 3),
      label="axis", ref=lambda m, x, y: m.append(x, y, axis=0))
_both("array_split", lambda m, x: m.concatenate(m.array_split(x, 3, axis=1)[::-1], axis=1),
      normal(2, 5), ref=lambda m, x: m.concatenate(m.array_split(x, 3, axis=1)[::-1], axis=1))
_both("array_split", lambda m, x: m.array_split(x, [1, 4])[1], normal(5), label="indices",
      ref=lambda m, x: m.array_split(x, [1, 4])[1])
_both("hsplit", lambda m, x: m.hsplit(x, 2)[1], normal(2, 4), ref=lambda m, x: m.hsplit(x, 2)[1])
_both("vsplit", lambda m, x: m.vsplit(x, [1])[1], normal(3, 2),
      ref=lambda m, x: m.vsplit(x, [1])[1])
_both("dsplit", lambda m, x: m.dsplit(x, 2)[0], normal(1, 2, 4),
      ref=lambda m, x: m.dsplit(x, 2)[0])
public("api.r_", lambda x, y: cr.r_[x, 0.5, 0:3, y], normal(2), normal(3),
       ref=lambda x, y: np.r_[x, 0.5, 0:3, y])
public("api.r_", lambda x, y: cr.r_["0,2,0", x, y], normal(3), normal(3), label="directive",
       ref=lambda x, y: np.r_["0,2,0", x, y])
public("api.c_", lambda x, y: cr.c_[x, y, 0:1:3j], normal(3), normal(3, 2),
       ref=lambda x, y: np.c_[x, y, 0:1:3j])

# ---------------------------------------------------------------- differences and products

_both("diff", lambda m, x: m.diff(x), normal(2, 4), ref=lambda m, x: m.diff(x))
_both("diff", lambda m, x: m.diff(x, 2, axis=0), normal(4, 2), label="second, axis 0",
      ref=lambda m, x: m.diff(x, 2, axis=0))
_both("diff", lambda m, x, y: m.diff(x, prepend=0.5, append=y), normal(2, 3), normal(2, 1),
      label="prepend append", ref=lambda m, x, y: m.diff(x, prepend=0.5, append=y))
_coordinates = np.array([0.0, 0.5, 1.5, 1.75, 3.0])
_GRADIENTS = {
    "1-d": (lambda m, x: m.gradient(x), (5,)),
    "edge order 2": (lambda m, x: m.gradient(x, 0.5, edge_order=2), (5,)),
    "axes": (lambda m, x: m.stack(m.gradient(x, 2.0, 0.5)), (3, 4)),
    "one axis": (lambda m, x: m.gradient(x, axis=-1), (3, 4)),
    "coordinates": (lambda m, x: m.gradient(x, _coordinates, axis=1), (2, 5)),
    "coordinates edge order 2": (
        lambda m, x: m.gradient(x, _coordinates, edge_order=2), (5,)),
}
for _label, (_fn, _shape) in _GRADIENTS.items():
    _both("gradient", _fn, normal(*_shape), label=_label, ref=_fn)
_both("cross", lambda m, x, y: m.cross(x, y), normal(2, 3), normal(3),
      ref=lambda m, x, y: m.cross(x, y))
_both("cross", lambda m, x, y: m.cross(x, y, axisa=0, axisb=1, axisc=0), normal(3, 2),
      normal(2, 3), label="axes", ref=lambda m, x, y: m.cross(x, y, axisa=0, axisb=1, axisc=0))


def _quiet_cross(module, x, y):
    with warnings.catch_warnings():  # (2-vectors are deprecated in NumPy 2)
        warnings.simplefilter("ignore", DeprecationWarning)
        return module.cross(x, y)


_CROSS_2 = {"2 and 2": ((2, 2), (2,)), "2 and 3": ((2,), (2, 3)), "3 and 2": ((3,), (2,))}
for _label, (_a, _b) in _CROSS_2.items():
    try:  # (NumPy 2.5 refuses 2-vectors, as chainrule then does)
        _quiet_cross(np, np.ones(_a), np.ones(_b))
    except ValueError:
        continue
    _both("cross", _quiet_cross, normal(*_a), normal(*_b), label=_label, ref=_quiet_cross)
_both("kron", lambda m, x, y: m.kron(x, y), normal(2, 3), normal(2, 2),
      ref=lambda m, x, y: m.kron(x, y))
_both("kron", lambda m, x, y: m.kron(x, y), normal(3), normal(2, 2), label="1-d and 2-d",
      ref=lambda m, x, y: m.kron(x, y))
_both("kron", lambda m, x, y: m.kron(x, y), normal(), normal(2), label="scalar",
      ref=lambda m, x, y: m.kron(x, y))
_conditions = [np.array([True, False, False, True]), np.array([True, True, False, False])]
_both("select", lambda m, x, y: m.select(_conditions, [x, y], 0.5), normal(4), normal(4),
      ref=lambda m, x, y: m.select(_conditions, [x, y], 0.5))
_both("select", lambda m, x, y: m.select(_conditions, [x, y], y), normal(4), normal(2, 1),
      label="broadcast default", ref=lambda m, x, y: m.select(_conditions, [x, y], y))
_both("angle", lambda m, x: m.angle(x), away(2, 3), ref=lambda m, x: m.angle(x))
_both("real_if_close", lambda m, x: m.real_if_close(x), normal(3),
      ref=lambda m, x: m.real_if_close(x))
public("creation.linspace", lambda s, e: cr.linspace(s, e, 5), normal(), normal(),
       ref=lambda s, e: np.linspace(s, e, 5))
public("creation.linspace", lambda s, e: cr.linspace(s, e, 4, endpoint=False, axis=1),
       normal(2), normal(2), label="arrays, no endpoint, axis",
       ref=lambda s, e: np.linspace(s, e, 4, endpoint=False, axis=1))
public("creation.full", lambda v: cr.full((2, 3), v), normal(3),
       ref=lambda v: np.full((2, 3), v))

cpublic("api.angle", cr.angle, cright(2, 3), ref=np.angle)
cpublic("api.angle", lambda z: cr.angle(z, deg=True), cnormal(3), label="degrees",
        ref=lambda z: np.angle(z, deg=True))
cpublic("api.sort", cr.sort, cnormal(4), ref=np.sort)
cpublic("api.kron", cr.kron, cnormal(2, 2), cnormal(2), ref=np.kron)
cpublic("api.cross", cr.cross, cnormal(3), cnormal(2, 3), ref=np.cross)
cpublic("api.gradient", cr.gradient, cnormal(5), ref=np.gradient)

# ---------------------------------------------------------------- statistics

_with_nans = np.array([[0.3, np.nan, -1.2, 0.8], [np.nan, 0.5, 1.1, -0.4]])
for _name in ("nansum", "nanmean", "nanvar", "nanstd", "nanmax", "nanmin", "nanprod"):
    _both(_name, lambda m, x, n=_name: getattr(m, n)(x), _with_nans.copy(),
          ref=lambda m, x, n=_name: getattr(m, n)(x))
    _both(_name, lambda m, x, n=_name: getattr(m, n)(x, axis=1, keepdims=True),
          _with_nans.copy(), label="axis keepdims",
          ref=lambda m, x, n=_name: getattr(m, n)(x, axis=1, keepdims=True))
_both("nanvar", lambda m, x: m.nanvar(x, axis=0, ddof=1), np.array([[0.3, 0.1], [0.5, -0.7],
      [np.nan, 0.2]]), label="ddof", ref=lambda m, x: m.nanvar(x, axis=0, ddof=1))
for _name in ("nancumsum", "nancumprod"):
    _both(_name, lambda m, x, n=_name: getattr(m, n)(x, axis=1), _with_nans.copy(),
          ref=lambda m, x, n=_name: getattr(m, n)(x, axis=1))
    _both(_name, lambda m, x, n=_name: getattr(m, n)(x), _with_nans.copy(), label="flat",
          ref=lambda m, x, n=_name: getattr(m, n)(x))
_both("average", lambda m, x: m.average(x), normal(2, 3), ref=lambda m, x: m.average(x))
_both("average", lambda m, x, w: m.average(x, axis=1, weights=w), normal(2, 3),
      uniform(0.5, 1.5, 3), label="weights along an axis",
      ref=lambda m, x, w: m.average(x, axis=1, weights=w))
_both("average", lambda m, x, w: m.average(x, weights=w, returned=True)[1] * 1.0,
      normal(2, 3), uniform(0.5, 1.5, 2, 3), label="returned",
      ref=lambda m, x, w: m.average(x, weights=w, returned=True)[1] * 1.0)
