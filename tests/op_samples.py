"""The sample table: sample inputs for every primitive of the op table and every public function.

Each :class:`Sample` names what it covers (a ``REGISTRY`` name, ``api.<name>``,
``linalg.<name>`` or ``operator.<name>``), a function of chainrule values, its arguments (NumPy
arrays; the float64 ones are the differentiated inputs, the others are passed through as
constants) and a NumPy reference. Inputs stay away from kinks, ties and poles so that central
finite differences are meaningful.
"""

from __future__ import annotations

import operator
import os
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

import chainrule as cr
from chainrule import ops
from chainrule.ops.primitive import REGISTRY

_rng = np.random.default_rng(1234)


@dataclass
class Sample:
    name: str
    fn: Callable
    args: tuple
    reference: Callable
    label: str = ""
    differentiable: bool = True
    kwargs: dict = field(default_factory=dict)

    @property
    def id(self) -> str:
        return f"{self.name}[{self.label}]" if self.label else self.name


def normal(*shape):
    return _rng.standard_normal(shape)


def uniform(low, high, *shape):
    return _rng.uniform(low, high, shape)


def away(*shape, low=0.2, high=1.0):
    """Values of either sign with magnitude in [low, high] (no kink at 0)."""
    return _rng.choice([-1.0, 1.0], shape) * _rng.uniform(low, high, shape)


def distinct(*shape):
    """Values at least 0.1 apart (no ties for max/min), in random order."""
    size = int(np.prod(shape))
    return _rng.permutation(np.linspace(-1.0, 1.0, size) + 0.01 * normal(size)).reshape(shape)


def well_conditioned(*shape):
    n = shape[-1]
    return np.eye(n) * 2.0 + 0.3 * normal(*shape)


def spd(n):
    a = normal(n, n)
    return a @ a.T + n * np.eye(n)


SAMPLES: list[Sample] = []


def table_part(samples: list) -> list:
    """``samples``, or only the part of them that CHAINRULE_TABLE_PART="i/n" names (every n-th
    from the i-th): the matrix's sessions split the slowest tables between them (noxfile.py),
    so that each sample runs in some session; `make test` runs all."""
    part, parts = map(int, os.environ.get("CHAINRULE_TABLE_PART", "0/1").split("/"))
    return samples[part::parts]


def prim(name, *args, ref=None, label="", **params):
    """A sample of the primitive ``name`` applied with static ``params``."""
    primitive = REGISTRY[name]
    reference = ref if ref is not None else (lambda *xs: getattr(np, name)(*xs, **params))
    SAMPLES.append(Sample(
        name, lambda *xs: primitive(*xs, **params), args, reference, label,
        primitive.differentiable,
    ))


def public(name, fn, *args, ref, label="", differentiable=True):
    """A sample of a public function (``api.mean``, ``linalg.det``) or an operator."""
    SAMPLES.append(Sample(name, fn, args, ref, label, differentiable))


# ---------------------------------------------------------------- elementwise primitives

prim("add", normal(2, 3), normal(3))
prim("subtract", normal(3), normal(2, 1))
prim("multiply", normal(2, 3), normal(2, 3))
prim("true_divide", normal(2, 3), away(3))
prim("negative", normal(2, 2))
prim("power", uniform(0.5, 2.0, 2, 3), normal(3))
prim("power", uniform(0.5, 2.0, 4), np.array([0.0, 1.0, 2.0, 3.0]), label="integer exponents")
prim("square", normal(2, 3))
prim("reciprocal", away(2, 3))
prim("sqrt", uniform(0.5, 2.0, 2, 3))
prim("absolute", away(2, 3))
prim("exp", normal(2, 3))
prim("expm1", normal(2, 3))
prim("log", uniform(0.5, 2.0, 2, 3))
prim("log1p", uniform(-0.5, 2.0, 2, 3))
prim("log2", uniform(0.5, 2.0, 2, 3))
prim("log10", uniform(0.5, 2.0, 2, 3))
for _name in ("sin", "cos", "arctan", "sinh", "cosh", "tanh"):
    prim(_name, normal(2, 3))
prim("tan", uniform(-1.0, 1.0, 2, 3))
prim("arcsin", uniform(-0.8, 0.8, 2, 3))
prim("arccos", uniform(-0.8, 0.8, 2, 3))
prim("arctan2", normal(2, 3), away(3))
prim("sigmoid", normal(2, 3), ref=lambda x: 1 / (1 + np.exp(-x)))
prim("relu", away(2, 3), ref=lambda x: np.maximum(x, 0))
prim("maximum", distinct(2, 3), distinct(3))
prim("minimum", distinct(2, 3), distinct(2, 3))
prim("clip", np.array([-1.0, -0.3, 0.2, 0.45, 0.7, 2.0]), np.float64(-0.5), np.float64(0.5),
     ref=np.clip)
prim("clip", np.array([-1.0, -0.3, 0.2, 0.7]), None, np.float64(0.5), label="upper only",
     ref=lambda x, lo, hi: np.clip(x, None, hi))
prim("clip", np.array([[-1.0, 0.3, 0.9], [0.1, -0.2, 2.0]]), np.array([-0.5, 0.0, 0.5]),
     np.array([[0.5], [1.0]]), label="tensor bounds broadcast", ref=np.clip)
prim("clip", np.array([-1.0, 0.3, 2.0]), np.array([0.8, 0.6, 0.7]), np.array([0.2, 0.1, 0.4]),
     label="crossed bounds", ref=np.clip)
_condition = np.array([[True, False, True], [False, False, True]])
prim("where", _condition, normal(2, 3), normal(3))
prim("remainder", uniform(0.2, 1.3, 2, 3), uniform(1.5, 2.0, 3))
prim("identity", normal(2, 3), ref=lambda x: x)
prim("copy", normal(2, 3))
prim("astype", normal(2, 3), dtype=np.float64, ref=lambda x: x.astype(np.float64))
prim("real", normal(2, 3))
prim("imag", normal(2, 3))
prim("conj", normal(2, 3))
for _name in ("equal", "not_equal", "less", "less_equal", "greater", "greater_equal",
              "logical_and", "logical_or", "logical_xor", "floor_divide"):
    prim(_name, np.array([-1.0, 0.0, 2.0, 2.5]), np.array([1.0, 0.5, 2.0, -2.0]))
prim("sign", away(2, 3))  # (a zero derivative for real values; z / |z| for complex ones)
for _name in ("logical_not", "isnan", "isinf", "isfinite", "floor", "ceil", "trunc",
              "rint"):
    prim(_name, np.array([-1.5, 0.0, 0.4, 2.5, np.inf]))

# ---------------------------------------------------------------- reductions

prim("sum", normal(2, 3), axis=None)
prim("sum", normal(2, 3, 2), axis=(0, 2), keepdims=True, label="tuple keepdims")
prim("sum", normal(2, 3), axis=-1, label="negative axis")
prim("prod", uniform(0.5, 1.5, 2, 3), axis=1)
prim("prod", np.array([[0.0, 2.0, 3.0], [0.0, 0.0, 2.0], [1.5, 2.0, -1.0]]), axis=1,
     label="zeros")
prim("prod", np.array([[0.0, 2.0], [3.0, 0.5]]), axis=None, keepdims=True, label="zero, all")
prim("amax", distinct(2, 3), axis=1, ref=lambda x: np.max(x, axis=1))
prim("amax", distinct(2, 3, 2), axis=(0, 2), keepdims=True, label="tuple",
     ref=lambda x: np.max(x, axis=(0, 2), keepdims=True))
prim("amin", distinct(2, 3), axis=None, ref=lambda x: np.min(x))
prim("vector_norm", normal(2, 3), axis=None, ref=lambda x: np.linalg.norm(x))
prim("vector_norm", normal(2, 3, 2), axis=(0, 2), keepdims=True, label="axis pair keepdims",
     ref=lambda x: np.sqrt(np.sum(x * x, axis=(0, 2), keepdims=True)))
prim("vector_norm", normal(2, 3), axis=-1, label="last axis",
     ref=lambda x: np.linalg.norm(x, axis=-1))
prim("cumsum", normal(2, 3), axis=1)
prim("cumsum", normal(3, 2), axis=0, label="axis 0")
prim("argmax", distinct(2, 3), axis=1)
prim("argmin", distinct(2, 3), axis=None)

# ---------------------------------------------------------------- shapes

# (the shape and index primitives take normalised parameters: see chainrule.ops.axes)
prim("reshape", normal(2, 3), source=(2, 3), shape=(3, 2), ref=lambda x: x.reshape(3, -1))
prim("transpose", normal(2, 3, 2), axes=(-2, -1, -3), ref=lambda x: x.transpose(1, 2, 0))
prim("transpose", normal(2, 3), axes=(-1, -2), label="reversed", ref=lambda x: x.T)
prim("broadcast_to", normal(3, 1), source=(3, 1), shape=(2, 3, 2),
     ref=lambda x: np.broadcast_to(x, (2, 3, 2)))
prim("flip", normal(2, 3), axis=1)
prim("flip", normal(2, 3), axis=None, label="all axes")
prim("concatenate", normal(2, 1), normal(2, 3), axis=1,
     ref=lambda x, y: np.concatenate([x, y], axis=1))
prim("concatenate", normal(1, 2), normal(2, 2), normal(1, 2), axis=0, label="three",
     ref=lambda *xs: np.concatenate(xs))

# ---------------------------------------------------------------- indexing

_INDEXES = {
    "basic": (slice(1, None), Ellipsis, None, 0),
    "negative step": (slice(None, None, -2), slice(1, 3)),
    "repeated integers": (np.array([0, 2, 0, 0]),),
    "integer pair": (np.array([0, 2, 2]), np.array([1, 0, 1])),
    "mixed": (slice(None), np.array([[0, 1], [1, 0]])),
    "mask": (np.array([[True, False, True], [False, True, True], [True, False, False]]),),
}
for _label, _index in _INDEXES.items():
    prim("getitem", normal(3, 3), index=_index, ndim=2, label=_label,
         ref=lambda x, i=_index: x[i])
    _shape = np.empty((3, 3))[_index].shape
    prim("setitem", normal(3, 3), normal(*_shape), index=_index, ndim=2, label=_label,
         ref=lambda x, v, i=_index: _set(x, v, i))
    if _label != "repeated integers":  # NumPy writes each repeated index once, we accumulate
        prim("scatter_add", normal(*_shape), index=_index, shape=(3, 3), label=_label,
             ref=lambda g, i=_index: _scatter(g, i))
prim("scatter_add", normal(4), index=(np.array([0, 2, 0, 0]),), shape=(3,),
     label="repeated integers", ref=lambda g: np.bincount([0, 2, 0, 0], g, minlength=3))


def _set(x, v, index):
    out = x.copy()
    out[index] = v
    return out


def _scatter(g, index):
    out = np.zeros((3, 3))
    np.add.at(out, index, g)
    return out


# ---------------------------------------------------------------- products and linear algebra

_MATMUL_SHAPES = {
    "matrix matrix": ((2, 3), (3, 2)),
    "vector matrix": ((3,), (3, 2)),
    "matrix vector": ((2, 3), (3,)),
    "vector vector": ((3,), (3,)),
    "stack matrix": ((2, 2, 3), (3, 2)),
    "matrix stack": ((2, 3), (2, 3, 2)),
    "vector stack": ((3,), (2, 3, 2)),
    "stack vector": ((2, 2, 3), (3,)),
    "broadcast stacks": ((2, 1, 2, 3), (2, 3, 2)),
}
for _label, (_a, _b) in _MATMUL_SHAPES.items():
    prim("matmul", normal(*_a), normal(*_b), label=_label)

_EINSUMS = {
    "ij,jk->ik": ((2, 3), (3, 2)),
    "ij,jk": ((2, 3), (3, 2)),
    "ii->i": ((3, 3),),
    "ii": ((3, 3),),
    "ij->": ((2, 3),),
    "ij->j": ((2, 3),),
    "i,i->": ((3,), (3,)),
    "i,j->ij": ((2,), (3,)),
    "ij->ji": ((2, 3),),
    "...ij,...jk->...ik": ((2, 2, 3), (3, 2)),
    "bij,bjk->bik": ((2, 2, 3), (2, 3, 2)),
    "ij,jk,kl->il": ((2, 3), (3, 2), (2, 2)),
    "iij,j->i": ((2, 2, 3), (3,)),
}
for _subscripts, _shapes in _EINSUMS.items():
    prim("einsum", *[normal(*s) for s in _shapes], subscripts=_subscripts, label=_subscripts,
         ref=lambda *xs, s=_subscripts: np.einsum(s, *xs))

prim("inv", well_conditioned(3, 3), ref=np.linalg.inv)
prim("inv", well_conditioned(2, 2, 2), label="stack", ref=np.linalg.inv)
prim("adjugate", well_conditioned(3, 3), ref=lambda a: np.linalg.det(a) * np.linalg.inv(a))
prim("adjugate", well_conditioned(2, 2, 2), label="stack",
     ref=lambda a: np.linalg.det(a)[:, None, None] * np.linalg.inv(a))
prim("adjugate", normal(1, 1), label="1x1", ref=lambda a: np.ones((1, 1)))
prim("det", well_conditioned(3, 3), ref=np.linalg.det)
prim("det", well_conditioned(2, 2, 2), label="stack", ref=np.linalg.det)
prim("logabsdet", -well_conditioned(3, 3), ref=lambda a: np.linalg.slogdet(a)[1])
prim("det_sign", -well_conditioned(3, 3), ref=lambda a: np.linalg.slogdet(a)[0])
prim("solve_matrix", well_conditioned(3, 3), normal(3, 2), ref=np.linalg.solve)
prim("solve_matrix", well_conditioned(3, 3), normal(2, 3, 1), label="stacked b",
     ref=np.linalg.solve)
prim("solve_matrix", well_conditioned(2, 3, 3), normal(3, 2), label="stacked a",
     ref=np.linalg.solve)


def _symmetric(a):
    return 0.5 * (a + ops.swapaxes(a, -1, -2))


# cholesky reads one triangle: differentiate it as a function of a symmetric matrix.
SAMPLES.append(Sample(
    "cholesky", lambda a: REGISTRY["cholesky"](_symmetric(a)), (spd(3),),
    lambda a: np.linalg.cholesky(0.5 * (a + a.T)),
))

# ---------------------------------------------------------------- public functions (api.*)

_x23 = normal(2, 3)
public("api.where", lambda x, y: cr.where(_condition, x, y), normal(2, 3), normal(2, 3),
       ref=lambda x, y: np.where(_condition, x, y))
public("api.where", lambda x: cr.where(_condition, x, 0.0), normal(2, 3), label="scalar",
       ref=lambda x: np.where(_condition, x, 0.0))
public("api.clip", lambda x: cr.clip(x, -0.5, 0.5), np.array([-1.0, 0.2, 0.7]),
       ref=lambda x: np.clip(x, -0.5, 0.5))
public("api.clip", cr.clip, np.array([-1.0, 0.2, 0.7]), np.array([-0.5, 0.5, 0.0]),
       np.array(0.6), label="tensor bounds", ref=np.clip)
for _name, _ref in (("sum", np.sum), ("prod", np.prod), ("max", np.max), ("min", np.min),
                    ("mean", np.mean)):
    _f = getattr(cr, _name)
    public(f"api.{_name}", lambda x, f=_f: f(x, axis=0), distinct(2, 3),
           ref=lambda x, r=_ref: r(x, axis=0))
    public(f"api.{_name}", lambda x, f=_f: f(x, axis=(0, 2), keepdims=True), distinct(2, 3, 2),
           label="tuple keepdims", ref=lambda x, r=_ref: r(x, axis=(0, 2), keepdims=True))
public("api.argmax", lambda x: cr.argmax(x, axis=1), distinct(2, 3),
       ref=lambda x: np.argmax(x, axis=1), differentiable=False)
public("api.argmin", cr.argmin, distinct(2, 3), ref=np.argmin, differentiable=False)
public("api.var", lambda x: cr.var(x, axis=1, ddof=1), normal(2, 4),
       ref=lambda x: np.var(x, axis=1, ddof=1))
public("api.var", cr.var, normal(2, 3), label="all", ref=np.var)
public("api.std", lambda x: cr.std(x, axis=0, keepdims=True), normal(3, 2),
       ref=lambda x: np.std(x, axis=0, keepdims=True))
public("api.cumsum", cr.cumsum, normal(2, 3), ref=np.cumsum)
public("api.cumsum", lambda x: cr.cumsum(x, axis=0), normal(2, 3), label="axis",
       ref=lambda x: np.cumsum(x, axis=0))


def _logsumexp(x, axis=None, keepdims=False):
    top = np.max(x, axis=axis, keepdims=True)
    out = np.log(np.sum(np.exp(x - top), axis=axis, keepdims=True)) + top
    return out if keepdims else np.squeeze(out, axis=axis)


def _softmax(x, axis=-1):
    e = np.exp(x - np.max(x, axis=axis, keepdims=True))
    return e / np.sum(e, axis=axis, keepdims=True)


public("api.logsumexp", cr.logsumexp, normal(2, 3), ref=_logsumexp)
public("api.logsumexp", lambda x: cr.logsumexp(x, axis=(0, 2), keepdims=True),
       normal(2, 3, 2) + 50, label="tuple keepdims large",
       ref=lambda x: _logsumexp(x, axis=(0, 2), keepdims=True))
public("api.softmax", cr.softmax, normal(2, 3), ref=_softmax)
public("api.softmax", lambda x: cr.softmax(x, axis=0), normal(2, 3) * 100, label="axis 0 large",
       ref=lambda x: _softmax(x, axis=0))
public("api.log_softmax", lambda x: cr.log_softmax(x, axis=0), normal(3, 2),
       ref=lambda x: np.log(_softmax(x, axis=0)))
public("api.reshape", lambda x: cr.reshape(x, (-1,)), normal(2, 3), ref=np.ravel)
public("api.transpose", cr.transpose, normal(2, 3, 2), ref=np.transpose)
public("api.swapaxes", lambda x: cr.swapaxes(x, 0, 2), normal(2, 3, 2),
       ref=lambda x: np.swapaxes(x, 0, 2))
public("api.moveaxis", lambda x: cr.moveaxis(x, (0, 1), (2, 0)), normal(2, 3, 4),
       ref=lambda x: np.moveaxis(x, (0, 1), (2, 0)))
public("api.expand_dims", lambda x: cr.expand_dims(x, (0, 3)), normal(2, 3),
       ref=lambda x: np.expand_dims(x, (0, 3)))
public("api.squeeze", cr.squeeze, normal(1, 3, 1), ref=np.squeeze)
public("api.squeeze", lambda x: cr.squeeze(x, -1), normal(1, 3, 1), label="axis",
       ref=lambda x: np.squeeze(x, -1))
public("api.broadcast_to", lambda x: cr.broadcast_to(x, (2, 3)), normal(3),
       ref=lambda x: np.broadcast_to(x, (2, 3)))
public("api.concatenate", lambda x, y: cr.concatenate([x, y], axis=-1), normal(2, 1),
       normal(2, 2), ref=lambda x, y: np.concatenate([x, y], axis=-1))
public("api.stack", lambda x, y: cr.stack([x, y], axis=1), normal(2, 3), normal(2, 3),
       ref=lambda x, y: np.stack([x, y], axis=1))
public("api.stack", lambda x, y: cr.stack([x, y], axis=-1), normal(3), normal(3),
       label="last", ref=lambda x, y: np.stack([x, y], axis=-1))
public("api.split", lambda x: cr.concatenate(cr.split(x, 3, axis=1)[::-1], axis=0),
       normal(2, 6), ref=lambda x: np.concatenate(np.split(x, 3, axis=1)[::-1], axis=0))
public("api.split", lambda x: cr.split(x, [1, 3])[1], normal(4, 2), label="indices",
       ref=lambda x: np.split(x, [1, 3])[1])
public("api.flip", lambda x: cr.flip(x, axis=0), normal(2, 3), ref=lambda x: np.flip(x, 0))
public("api.tile", lambda x: cr.tile(x, (2, 1, 2)), normal(2, 3),
       ref=lambda x: np.tile(x, (2, 1, 2)))
public("api.tile", lambda x: cr.tile(x, 2), normal(3), label="int",
       ref=lambda x: np.tile(x, 2))
public("api.ravel", cr.ravel, normal(2, 3), ref=np.ravel)
public("api.matmul", cr.matmul, normal(2, 3), normal(3), ref=np.matmul)
public("api.dot", cr.dot, normal(3), normal(3), ref=np.dot)
public("api.dot", cr.dot, normal(2, 3), normal(3, 2), label="matrices", ref=np.dot)
public("api.dot", cr.dot, normal(2, 2, 3), normal(2, 3, 2), label="n-d", ref=np.dot)
public("api.dot", cr.dot, normal(2, 2, 3), normal(3), label="n-d vector", ref=np.dot)
public("api.dot", cr.dot, normal(2, 3), normal(), label="scalar", ref=np.dot)
public("api.vdot", cr.vdot, normal(2, 3), normal(2, 3), ref=np.vdot)
public("api.inner", cr.inner, normal(2, 3), normal(2, 3), ref=np.inner)
public("api.outer", cr.outer, normal(3), normal(2, 2), ref=np.outer)
public("api.tensordot", cr.tensordot, normal(2, 3, 2), normal(3, 2, 2), ref=np.tensordot)
public("api.tensordot", lambda x, y: cr.tensordot(x, y, axes=([0, 2], [2, 0])),
       normal(2, 3, 2), normal(2, 2, 2), label="axis lists",
       ref=lambda x, y: np.tensordot(x, y, axes=([0, 2], [2, 0])))
public("api.tensordot", lambda x, y: cr.tensordot(x, y, axes=0), normal(2), normal(3),
       label="outer", ref=lambda x, y: np.tensordot(x, y, axes=0))
public("api.einsum", lambda x, y: cr.einsum("...ij,...j->...i", x, y), normal(2, 2, 3),
       normal(3), ref=lambda x, y: np.einsum("...ij,...j->...i", x, y))
public("api.einsum", lambda x, y: cr.einsum(x, [Ellipsis, 0, 1], y, [1], [Ellipsis, 0]),
       normal(2, 2, 3), normal(3), label="interleaved",
       ref=lambda x, y: np.einsum(x, [Ellipsis, 0, 1], y, [1], [Ellipsis, 0]))
public("api.diagonal", cr.diagonal, normal(3, 3), ref=np.diagonal)
public("api.diagonal", lambda x: cr.diagonal(x, 1, 2, 0), normal(3, 2, 4), label="offset axes",
       ref=lambda x: np.diagonal(x, 1, 2, 0))
public("api.trace", cr.trace, normal(3, 3), ref=np.trace)
public("api.trace", lambda x: cr.trace(x, -1), normal(3, 4), label="offset",
       ref=lambda x: np.trace(x, -1))
public("api.diag", cr.diag, normal(3), ref=np.diag)
public("api.diag", lambda x: cr.diag(x, -1), normal(2), label="vector offset",
       ref=lambda x: np.diag(x, -1))
public("api.diag", lambda x: cr.diag(x, 1), normal(3, 3), label="matrix offset",
       ref=lambda x: np.diag(x, 1))
public("api.astype", lambda x: cr.astype(x, "float64"), normal(2, 3), ref=lambda x: x)
public("api.stop_gradient", cr.stop_gradient, normal(2, 3), ref=lambda x: x,
       differentiable=False)

# ---------------------------------------------------------------- public functions (linalg.*)

public("linalg.norm", cr.linalg.norm, normal(4), ref=np.linalg.norm)
public("linalg.norm", cr.linalg.norm, normal(2, 3), label="frobenius", ref=np.linalg.norm)
public("linalg.norm", lambda x: cr.linalg.norm(x, "fro", keepdims=True), normal(2, 3),
       label="fro keepdims", ref=lambda x: np.linalg.norm(x, "fro", keepdims=True))
for _ord in (1, 2, 3, np.inf, -np.inf, 0.5):
    public("linalg.norm", lambda x, o=_ord: cr.linalg.norm(x, o, axis=1), distinct(2, 3) + 0.05,
           label=f"ord {_ord}", ref=lambda x, o=_ord: np.linalg.norm(x, o, axis=1))
for _ord in (1, -1, np.inf, -np.inf):
    public("linalg.norm", lambda x, o=_ord: cr.linalg.norm(x, o), distinct(3, 4),
           label=f"matrix ord {_ord}", ref=lambda x, o=_ord: np.linalg.norm(x, o))
    public("linalg.norm", lambda x, o=_ord: cr.linalg.norm(x, o, axis=(2, 0), keepdims=True),
           distinct(3, 2, 4), label=f"matrix ord {_ord} axes (2, 0) keepdims",
           ref=lambda x, o=_ord: np.linalg.norm(x, o, axis=(2, 0), keepdims=True))
public("linalg.norm", lambda x: cr.linalg.norm(x, axis=(0, 2)), normal(2, 2, 3),
       label="axis pair", ref=lambda x: np.linalg.norm(x, axis=(0, 2)))
public("linalg.inv", cr.linalg.inv, well_conditioned(3, 3), ref=np.linalg.inv)
public("linalg.det", cr.linalg.det, well_conditioned(3, 3), ref=np.linalg.det)
public("linalg.slogdet", lambda x: cr.linalg.slogdet(x)[1], -well_conditioned(3, 3),
       ref=lambda x: np.linalg.slogdet(x)[1])
public("linalg.slogdet", lambda x: cr.linalg.slogdet(x)[0], -well_conditioned(3, 3),
       label="sign", ref=lambda x: np.linalg.slogdet(x)[0])
public("linalg.solve", cr.linalg.solve, well_conditioned(3, 3), normal(3), ref=np.linalg.solve)
public("linalg.solve", cr.linalg.solve, well_conditioned(2, 3, 3), normal(2, 3, 2),
       label="stacks", ref=np.linalg.solve)
public("linalg.cholesky", lambda a: cr.linalg.cholesky(_symmetric(a)), spd(3),
       ref=lambda a: np.linalg.cholesky(0.5 * (a + a.T)))

# ---------------------------------------------------------------- operators and methods

_OPERATORS = {
    "add": (operator.add, normal(2, 3), normal(3)),
    "sub": (operator.sub, normal(2, 3), normal(2, 3)),
    "mul": (operator.mul, normal(3), normal(2, 3)),
    "truediv": (operator.truediv, normal(2, 3), away(3)),
    "pow": (operator.pow, uniform(0.5, 2.0, 2, 3), normal(3)),
    "matmul": (operator.matmul, normal(2, 3), normal(3, 2)),
}
for _name, (_op, _a, _b) in _OPERATORS.items():
    public(f"operator.{_name}", _op, _a, _b, ref=_op)
for _name, _op in (("radd", lambda x: 2.0 + x), ("rsub", lambda x: 2.0 - x),
                   ("rmul", lambda x: 2.0 * x), ("rtruediv", lambda x: 2.0 / x),
                   ("rpow", lambda x: 2.0 ** x), ("neg", lambda x: -x),
                   ("pow scalar", lambda x: x ** 3), ("abs", abs),
                   ("rmatmul", lambda x: np.ones((2, 2)) @ x)):
    public(f"operator.{_name}", _op, away(2, 2), ref=_op)
public("operator.getitem", lambda x: x[1:, None, [0, 0, 2]], normal(3, 3),
       ref=lambda x: x[1:, None, [0, 0, 2]])
public("operator.getitem", lambda x: x[x > 0], normal(3, 3), label="mask of itself",
       ref=lambda x: x[x > 0])
public("operator.methods", lambda x: x.reshape(3, 2).T.sum(axis=0) * x.mean(),
       normal(2, 3), ref=lambda x: x.reshape(3, 2).T.sum(axis=0) * x.mean())


def by_name() -> dict[str, list[Sample]]:
    table: dict[str, list[Sample]] = {}
    for sample in SAMPLES:
        table.setdefault(sample.name, []).append(sample)
    return table


# ---------------------------------------------------------------- complex samples
# Every primitive that takes complex values, on complex128 inputs (the differentiated ones),
# checked by tests/test_complex.py in PyTorch's convention. Inputs keep away from branch cuts
# (the negative real axis for log, sqrt and powers; |Re z| > 1 on the real axis for arcsin,
# arccos) and from 0 where |z| has its kink.

COMPLEX_SAMPLES: list[Sample] = []
# Primitives that are defined on real numbers only (orderings, kinks, real linear algebra).
REAL_ONLY = {
    "amax", "amin", "maximum", "minimum", "clip", "relu", "arctan2", "remainder", "cholesky",
}


def cnormal(*shape):
    return normal(*shape) + 1j * normal(*shape)


def cright(*shape):
    """Complex values with real part in [0.5, 1.5]: away from the negative real axis and 0."""
    return uniform(0.5, 1.5, *shape) + 1j * uniform(-1.0, 1.0, *shape)


def csmall(*shape):
    return 0.5 * (uniform(-1.0, 1.0, *shape) + 1j * uniform(-1.0, 1.0, *shape))


def cwell_conditioned(*shape):
    return np.eye(shape[-1]) * 2.0 + 0.3 * cnormal(*shape)


def cprim(name, *args, ref=None, label="", **params):
    """A complex sample of the primitive ``name``."""
    primitive = REGISTRY[name]
    reference = ref if ref is not None else (lambda *xs: getattr(np, name)(*xs, **params))
    COMPLEX_SAMPLES.append(Sample(
        name, lambda *xs: primitive(*xs, **params), args, reference, f"complex {label}".strip(),
    ))


def cpublic(name, fn, *args, ref, label=""):
    COMPLEX_SAMPLES.append(Sample(name, fn, args, ref, f"complex {label}".strip()))


cprim("add", cnormal(2, 3), cnormal(3))
cprim("add", cnormal(2, 3), normal(3), label="real and complex")
cprim("subtract", cnormal(3), cnormal(2, 1))
cprim("multiply", cnormal(2, 3), cnormal(2, 3))
cprim("multiply", normal(2, 3), cnormal(3), label="real times complex")
cprim("true_divide", cnormal(2, 3), cright(3))
cprim("negative", cnormal(2, 2))
cprim("power", cright(2, 3), normal(3), label="real exponent")
cprim("power", cright(2, 3), csmall(2, 3), label="complex exponent")
for _name in ("square", "exp", "expm1", "sin", "cos", "sinh", "cosh", "identity", "copy",
              "real", "imag", "conj"):
    cprim(_name, cnormal(2, 3), ref=(lambda x: x) if _name == "identity" else None)
for _name in ("reciprocal", "sqrt", "log", "log1p", "log2", "log10", "absolute"):
    cprim(_name, cright(2, 3))
for _name in ("tan", "tanh", "arcsin", "arccos", "arctan"):
    cprim(_name, csmall(2, 3))
cprim("sigmoid", csmall(2, 3), ref=lambda x: 1 / (1 + np.exp(-x)))
cprim("where", _condition, cnormal(2, 3), cnormal(3))
cprim("astype", normal(2, 3), dtype=np.complex128, label="real to complex",
      ref=lambda x: x.astype(np.complex128))
cprim("astype", cnormal(2, 3), dtype=np.complex128, ref=lambda x: x)
cprim("sum", cnormal(2, 3), axis=(0,), keepdims=True, ref=lambda x: np.sum(x, 0, keepdims=True))
cprim("prod", cright(2, 3), axis=1, ref=lambda x: np.prod(x, 1))
cprim("vector_norm", cnormal(2, 3), axis=None, ref=lambda x: np.linalg.norm(x))
cprim("vector_norm", cnormal(2, 3), axis=-1, label="last axis",
      ref=lambda x: np.linalg.norm(x, axis=-1))
cprim("cumsum", cnormal(2, 3), axis=1)
cprim("reshape", cnormal(2, 3), source=(2, 3), shape=(3, 2), ref=lambda x: x.reshape(3, -1))
cprim("transpose", cnormal(2, 3), axes=(-1, -2), ref=lambda x: x.T)
cprim("broadcast_to", cnormal(3, 1), source=(3, 1), shape=(2, 3, 2),
      ref=lambda x: np.broadcast_to(x, (2, 3, 2)))
cprim("flip", cnormal(2, 3), axis=1)
cprim("concatenate", cnormal(2, 1), normal(2, 3), axis=1,
      ref=lambda x, y: np.concatenate([x, y], axis=1))
cprim("getitem", cnormal(3, 3), index=(np.array([0, 2, 0]), slice(1, None)), ndim=2,
      ref=lambda x: x[np.array([0, 2, 0]), 1:])
cprim("setitem", cnormal(3, 3), cnormal(2, 3), index=(slice(0, 2),), ndim=2,
      ref=lambda x, v: _set(x, v, (slice(0, 2),)))
cprim("scatter_add", cnormal(4), index=(np.array([0, 2, 0, 0]),), shape=(3,),
      ref=lambda g: _scatter_1d(g, [0, 2, 0, 0], 3))


def _scatter_1d(g, index, size):
    out = np.zeros(size, dtype=g.dtype)
    np.add.at(out, index, g)
    return out



cprim("matmul", cnormal(2, 3), cnormal(3, 2))
cprim("matmul", cnormal(3), normal(2, 3, 2), label="vector stack real")
cprim("einsum", cnormal(2, 3), cnormal(3, 2), subscripts="ij,jk->ik",
      ref=lambda x, y: np.einsum("ij,jk->ik", x, y))
cprim("inv", cwell_conditioned(3, 3), ref=np.linalg.inv)
cprim("adjugate", cwell_conditioned(3, 3), ref=lambda a: np.linalg.det(a) * np.linalg.inv(a))
cprim("det", cwell_conditioned(3, 3), ref=np.linalg.det)
cprim("logabsdet", cwell_conditioned(3, 3), ref=lambda a: np.linalg.slogdet(a)[1])
cprim("det_sign", cwell_conditioned(3, 3), ref=lambda a: np.linalg.slogdet(a)[0])
cprim("sign", cright(2, 3))
cprim("solve_matrix", cwell_conditioned(3, 3), cnormal(3, 2), ref=np.linalg.solve)
cpublic("api.mean", lambda x: cr.mean(x, axis=0), cnormal(2, 3), ref=lambda x: np.mean(x, 0))
cpublic("api.var", cr.var, cnormal(2, 3), ref=np.var)
cpublic("api.std", lambda x: cr.std(x, axis=1), cnormal(2, 3), ref=lambda x: np.std(x, axis=1))
cpublic("api.vdot", cr.vdot, cnormal(2, 3), cnormal(2, 3), ref=np.vdot)
cpublic("api.dot", cr.dot, cnormal(3), cnormal(3), ref=np.dot)
cpublic("api.inner", cr.inner, cnormal(2, 3), cnormal(2, 3), ref=np.inner)
cpublic("api.outer", cr.outer, cnormal(3), cnormal(2), ref=np.outer)
cpublic("api.tensordot", cr.tensordot, cnormal(2, 3, 2), cnormal(3, 2, 2), ref=np.tensordot)
cpublic("api.trace", cr.trace, cnormal(3, 3), ref=np.trace)
cpublic("linalg.norm", lambda x: cr.linalg.norm(x, 1, axis=1), cright(2, 3), label="ord 1",
        ref=lambda x: np.linalg.norm(x, 1, axis=1))
cpublic("linalg.norm", lambda x: cr.linalg.norm(x, 3), cright(4), label="ord 3",
        ref=lambda x: np.linalg.norm(x, 3))
cpublic("operator.abs squared", lambda z: abs(z) ** 2, cright(3), ref=lambda z: abs(z) ** 2)
cpublic("operator.z conj z", lambda z: cr.real(z * cr.conj(z)), cnormal(3),
        ref=lambda z: np.real(z * np.conj(z)))


import op_samples_numpy  # noqa: E402, F401  (NumPy's further functions: adds to these tables)
import op_samples_spectral  # noqa: E402, F401  (the decompositions and transforms)

try:  # (SciPy is optional: its functions are sampled where it is installed)
    import op_samples_scipy  # noqa: F401
except ModuleNotFoundError as missing:
    if not (missing.name or "").startswith("scipy"):
        raise
