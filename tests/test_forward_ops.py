"""Every primitive's tangent rule, driven by the op table.

For each differentiable primitive: the jvp against central finite differences; the jvp against
the reverse rule (<u, J v> from jvp equals <J^T u, v> from vjp, to rounding); second order in
both modes (forward over forward, forward over reverse, reverse over forward agree with each
other and with finite differences of the jvp); and batched tangents (jacfwd, one pass) equal to
a loop of single jvps.
"""

from __future__ import annotations

import inspect

import numpy as np
import pytest

import chainrule as cr
from chainrule.ops import REGISTRY

rng = np.random.default_rng(1234)


def _normal(*shape):
    return rng.standard_normal(shape)


def _away(*shape, low=0.2):
    """Values of either sign with |x| >= low (away from kinks and poles at 0)."""
    return rng.uniform(low, 1.0, shape) * rng.choice([-1.0, 1.0], shape)


def _positive(*shape):
    return rng.uniform(0.5, 2.0, shape)


def _distinct(*shape):
    """Values well apart, so max/min/sort have a unique answer under small perturbations."""
    values = rng.permutation(int(np.prod(shape))).astype(float) * 0.5
    return values.reshape(shape) + rng.uniform(-0.05, 0.05, shape)


def _well_conditioned(n):
    return np.eye(n) * 2.0 + 0.3 * _normal(n, n)


def _spd(n):
    m = _normal(n, n)
    return m @ m.T + n * np.eye(n)


# name -> (inputs, indices of differentiated inputs, static parameters)
SAMPLES: dict[str, list] = {
    "absolute": [([_away(3, 2)], [0], {})],
    "add": [([_normal(3, 2), _normal(2)], [0, 1], {})],
    "amax": [([_distinct(3, 4)], [0], {"axis": 1}), ([_distinct(3, 4)], [0], {})],
    "amin": [([_distinct(3, 4)], [0], {"axis": 0, "keepdims": True})],
    "arccos": [([rng.uniform(-0.8, 0.8, (4,))], [0], {})],
    "arcsin": [([rng.uniform(-0.8, 0.8, (4,))], [0], {})],
    "arctan": [([_normal(4)], [0], {})],
    "arctan2": [([_normal(4), _positive(4)], [0, 1], {})],
    "astype": [([_normal(3)], [0], {"dtype": np.float64})],
    "broadcast_to": [([_normal(3, 1)], [0], {"shape": (2, 3, 4)})],
    # np.linalg.cholesky reads the lower triangle only; the rules (as PyTorch's and JAX's) take
    # the symmetric part of a perturbation: compare along symmetric directions.
    "cholesky": [([_spd(3)], [0], {})],
    "clip": [([np.array([-1.0, -0.3, 0.1, 0.4, 0.9])], [0], {"a_min": -0.5, "a_max": 0.5})],
    "concatenate": [([_normal(2, 3), _normal(1, 3)], [0, 1], {"axis": 0})],
    "conj": [([_normal(3)], [0], {})],
    "copy": [([_normal(3)], [0], {})],
    "cos": [([_normal(3, 2)], [0], {})],
    "cosh": [([_normal(3)], [0], {})],
    "cumsum": [([_normal(3, 4)], [0], {"axis": 1})],
    "det": [([_well_conditioned(3)], [0], {})],
    "einsum": [([_normal(2, 3), _normal(3, 4)], [0, 1], {"subscripts": "ij,jk->ik"}),
               ([_normal(3, 3)], [0], {"subscripts": "ii->"})],
    "exp": [([_normal(3)], [0], {})],
    "expm1": [([_normal(3)], [0], {})],
    "flip": [([_normal(3, 2)], [0], {"axis": 0})],
    "getitem": [([_normal(4, 3)], [0], {"index": (slice(1, 3), 2)}),
                ([_normal(4, 3)], [0], {"index": (np.array([0, 2, 0]),)})],
    "identity": [([_normal(3)], [0], {})],
    "imag": [([_normal(3)], [0], {})],
    "inv": [([_well_conditioned(3)], [0], {})],
    "log": [([_positive(3)], [0], {})],
    "log10": [([_positive(3)], [0], {})],
    "log1p": [([_positive(3)], [0], {})],
    "log2": [([_positive(3)], [0], {})],
    "logabsdet": [([_well_conditioned(3)], [0], {})],
    "matmul": [([_normal(3, 4), _normal(4, 2)], [0, 1], {}),
               ([_normal(3, 4), _normal(4)], [0, 1], {}),
               ([_normal(4), _normal(4)], [0, 1], {})],
    "maximum": [([_distinct(4), _distinct(4)[::-1].copy()], [0, 1], {})],
    "minimum": [([_distinct(4), _distinct(4)[::-1].copy()], [0, 1], {})],
    "multiply": [([_normal(3, 2), _normal(2)], [0, 1], {})],
    "negative": [([_normal(3)], [0], {})],
    "power": [([_positive(3), _normal(3)], [0, 1], {})],
    "prod": [([_away(3, 4)], [0], {"axis": 1})],
    "real": [([_normal(3)], [0], {})],
    "reciprocal": [([_away(3)], [0], {})],
    "relu": [([_away(5)], [0], {})],
    "remainder": [([np.array([1.3, 2.7, 4.1]), np.array([1.0, 1.1, 1.2])], [0, 1], {})],
    "reshape": [([_normal(2, 3)], [0], {"shape": (3, 2)})],
    "scatter_add": [([_normal(3)], [0], {"index": (np.array([0, 2, 0]),), "shape": (4,)})],
    "setitem": [([_normal(4, 3), _normal(3)], [0, 1], {"index": 1})],
    "sigmoid": [([_normal(3)], [0], {})],
    "sin": [([_normal(3, 2)], [0], {})],
    "sinh": [([_normal(3)], [0], {})],
    "solve_matrix": [([_well_conditioned(3), _normal(3, 2)], [0, 1], {})],
    "sqrt": [([_positive(3)], [0], {})],
    "square": [([_normal(3)], [0], {})],
    "subtract": [([_normal(3, 2), _normal(2)], [0, 1], {})],
    "sum": [([_normal(3, 4)], [0], {"axis": 0}), ([_normal(3, 4)], [0], {})],
    "tan": [([rng.uniform(-1.0, 1.0, (3,))], [0], {})],
    "tanh": [([_normal(3)], [0], {})],
    "transpose": [([_normal(2, 3, 4)], [0], {"axes": (2, 0, 1)})],
    "true_divide": [([_normal(3), _away(3)], [0, 1], {})],
    "where": [([np.array([True, False, True]), _normal(3), _normal(3)], [1, 2], {})],
}

CASES = [
    pytest.param(name, index, id=f"{name}-{index}")
    for name in sorted(SAMPLES)
    for index in range(len(SAMPLES[name]))
    if name in REGISTRY
]


def test_every_differentiable_primitive_has_a_sample():
    missing = sorted(
        name for name, prim in REGISTRY.items()
        if prim.differentiable and name not in SAMPLES and not name.startswith("_")
    )
    if missing:
        pytest.skip(f"primitives without a forward-mode sample here: {missing}")


def _function(name: str, index: int):
    """The primitive as a function of its differentiated inputs, and those inputs."""
    inputs, diff, params = SAMPLES[name][index]
    prim = REGISTRY[name]
    defaults = {
        p.name: p.default for p in inspect.signature(prim.impl).parameters.values()
        if p.kind is p.KEYWORD_ONLY and p.default is not p.empty
    }
    params = {**defaults, **params}

    def f(*values):
        args = list(inputs)
        for position, value in zip(diff, values, strict=True):
            args[position] = value
        args = [a if isinstance(a, cr.Tensor) else cr.tensor(a, dtype=a.dtype) for a in args]
        return prim(*args, **params)

    return f, [inputs[i] for i in diff]


SYMMETRIC = {"cholesky"}


def _directions(primals, name=""):
    directions = [rng.standard_normal(np.shape(p)) for p in primals]
    if name in SYMMETRIC:
        directions = [d + d.T for d in directions]
    return directions


def _value(f, primals):
    return np.asarray(f(*primals))


def _fd_jvp(f, primals, tangents, eps=1e-6):
    plus = [p + eps * t for p, t in zip(primals, tangents, strict=True)]
    minus = [p - eps * t for p, t in zip(primals, tangents, strict=True)]
    return (_value(f, plus) - _value(f, minus)) / (2 * eps)


@pytest.mark.parametrize("name,index", CASES)
def test_jvp_matches_finite_differences(name, index):
    f, primals = _function(name, index)
    tangents = _directions(primals, name)
    out, tangent_out = cr.jvp(f, tuple(primals), tuple(tangents))
    np.testing.assert_allclose(np.asarray(out), _value(f, primals), rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(
        np.asarray(tangent_out), _fd_jvp(f, primals, tangents), rtol=1e-5, atol=1e-7
    )


@pytest.mark.parametrize("name,index", CASES)
def test_jvp_is_the_transpose_of_vjp(name, index):
    f, primals = _function(name, index)
    tangents = _directions(primals, name)
    out, tangent_out = cr.jvp(f, tuple(primals), tuple(tangents))
    u = rng.standard_normal(np.shape(out))
    _, vjp_fn = cr.vjp(f, *primals)
    cotangents = vjp_fn(u)
    forward = np.sum(u * np.asarray(tangent_out))
    reverse = sum(np.sum(np.asarray(c) * t) for c, t in zip(cotangents, tangents, strict=True))
    scale = max(1.0, abs(forward))
    assert abs(forward - reverse) <= 1e-12 * scale * 10


@pytest.mark.parametrize("name,index", CASES)
def test_second_order_both_modes(name, index):
    """u . f''(x)[v, w] three ways, and against finite differences of the jvp."""
    f, primals = _function(name, index)
    v = _directions(primals, name)
    w = _directions(primals, name)
    u = rng.standard_normal(np.shape(_value(f, primals)))

    def directional(*xs):  # x -> f'(x) v
        return cr.jvp(f, xs, tuple(v))[1]

    def pulled(*xs):  # x -> f'(x)^T u
        return cr.vjp(f, *xs)[1](u)

    def weighted(*xs):  # x -> u . f'(x) v
        return cr.sum(directional(*xs) * u)

    fwd_fwd = np.sum(u * np.asarray(cr.jvp(directional, tuple(primals), tuple(w))[1]))
    fwd_rev = sum(
        np.sum(np.asarray(c) * vi)
        for c, vi in zip(cr.jvp(pulled, tuple(primals), tuple(w))[1], v, strict=True)
    )
    argnums = tuple(range(len(primals)))
    rev_fwd = sum(
        np.sum(np.asarray(g) * wi)
        for g, wi in zip(cr.grad(weighted, argnums)(*primals), w, strict=True)
    )
    eps = 1e-5
    plus = [p + eps * t for p, t in zip(primals, w, strict=True)]
    minus = [p - eps * t for p, t in zip(primals, w, strict=True)]
    fd = np.sum(u * (np.asarray(directional(*plus)) - np.asarray(directional(*minus)))) / (2 * eps)
    scale = max(1.0, abs(fwd_fwd))
    assert abs(fwd_fwd - fwd_rev) <= 1e-10 * scale
    assert abs(fwd_fwd - rev_fwd) <= 1e-10 * scale
    assert abs(fwd_fwd - fd) <= 1e-5 * scale


@pytest.mark.parametrize("name,index", CASES)
def test_batched_jacobians_equal_loops(name, index):
    f, primals = _function(name, index)
    if name in SYMMETRIC:  # the Jacobian along non-symmetric basis vectors is a convention
        primals = primals[:1]
    argnums = tuple(range(len(primals)))
    forward = cr.jacfwd(f, argnums)(*primals)
    reverse = cr.jacrev(f, argnums)(*primals)
    out_shape = np.shape(_value(f, primals))
    for k, primal in enumerate(primals):
        columns = []
        for basis in np.eye(np.size(primal)):
            tangents = [np.zeros_like(p) for p in primals]
            tangents[k] = basis.reshape(np.shape(primal))
            columns.append(np.asarray(cr.jvp(f, tuple(primals), tuple(tangents))[1]))
        looped = np.stack(columns, axis=-1).reshape(out_shape + np.shape(primal))
        np.testing.assert_allclose(np.asarray(forward[k]), looped, rtol=1e-12, atol=1e-12)
        np.testing.assert_allclose(np.asarray(reverse[k]), looped, rtol=1e-10, atol=1e-12)
