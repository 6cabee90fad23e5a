"""Every op through the public transforms, driven by the sample table (tests/op_samples.py).

``test_ops.py`` checks each tangent rule against finite differences and its reverse rule, batched
tangents, and forward over reverse. Here: the other second-order compositions (forward over
forward, reverse over forward) through ``cr.jvp``/``cr.vjp``/``cr.grad``, Jacobians from
``jacfwd``/``jacrev`` (one batched pass) against loops of single products, and Hessians from all
four nestings of ``jacfwd``/``jacrev``, where two batch axes (one per level) meet in every rule;
and third derivatives with forward or reverse mode in each of the three positions.
"""

from __future__ import annotations

import zlib

import numpy as np
import pytest
from op_samples import SAMPLES, Sample

import chainrule as cr

DIFFERENTIABLE = [s for s in SAMPLES if s.differentiable]


def _floats(sample: Sample) -> list[int]:
    return [i for i, a in enumerate(sample.args) if np.asarray(a).dtype == np.float64]


def _function(sample: Sample):
    """The sample as a function of its differentiated (float64) inputs, and those inputs."""
    positions = _floats(sample)

    def f(*values):
        args = list(sample.args)
        for position, value in zip(positions, values, strict=True):
            args[position] = value
        return sample.fn(*args)

    return f, [np.array(sample.args[i], dtype=np.float64) for i in positions]


def _rng(sample: Sample) -> np.random.Generator:
    # (crc32, not hash(): Python salts string hashes per process, and a test must not vary)
    return np.random.default_rng(zlib.crc32(sample.id.encode()))


def _dense(value, shape) -> np.ndarray:
    return np.broadcast_to(np.asarray(value, dtype=np.float64), shape)


@pytest.mark.parametrize("sample", DIFFERENTIABLE, ids=lambda s: s.id)
def test_second_order_in_every_mode(sample):
    """u . f''(x)[v, w]: forward over forward, forward over reverse, reverse over forward, and
    finite differences of the jvp, all agree."""
    f, primals = _function(sample)
    rng = _rng(sample)
    v = tuple(rng.standard_normal(p.shape) for p in primals)
    w = tuple(rng.standard_normal(p.shape) for p in primals)
    out_shape = np.shape(cr.jvp(f, tuple(primals), v)[0])
    u = rng.standard_normal(out_shape)

    def directional(*xs):  # x -> f'(x) v
        return cr.jvp(f, xs, v)[1]

    def pulled(*xs):  # x -> f'(x)^T u
        return cr.vjp(f, *xs)[1](u)

    def weighted(*xs):  # x -> u . f'(x) v
        return cr.sum(directional(*xs) * u)

    fwd_fwd = np.sum(u * _dense(cr.jvp(directional, tuple(primals), w)[1], out_shape))
    fwd_rev = sum(
        np.sum(_dense(c, vi.shape) * vi)
        for c, vi in zip(cr.jvp(pulled, tuple(primals), w)[1], v, strict=True)
    )
    argnums = tuple(range(len(primals)))
    rev_fwd = sum(
        np.sum(_dense(g, wi.shape) * wi)
        for g, wi in zip(cr.grad(weighted, argnums)(*primals), w, strict=True)
    )
    eps = 1e-5
    plus = [p + eps * t for p, t in zip(primals, w, strict=True)]
    minus = [p - eps * t for p, t in zip(primals, w, strict=True)]
    fd = np.sum(u * (_dense(directional(*plus), out_shape)
                     - _dense(directional(*minus), out_shape))) / (2 * eps)
    scale = max(1.0, abs(fwd_fwd))
    assert abs(fwd_fwd - fwd_rev) <= 1e-9 * scale
    assert abs(fwd_fwd - rev_fwd) <= 1e-9 * scale
    assert abs(fwd_fwd - fd) <= 1e-4 * scale


@pytest.mark.parametrize("sample", DIFFERENTIABLE, ids=lambda s: s.id)
def test_jacobians_equal_loops_of_products(sample):
    f, primals = _function(sample)
    argnums = tuple(range(len(primals)))
    forward = cr.jacfwd(f, argnums)(*primals)
    reverse = cr.jacrev(f, argnums)(*primals)
    out, _ = cr.jvp(f, tuple(primals), tuple(np.zeros_like(p) for p in primals))
    out_shape = np.shape(out)
    for k, primal in enumerate(primals):
        columns = []
        for basis in np.eye(primal.size):
            tangents = [np.zeros_like(p) for p in primals]
            tangents[k] = basis.reshape(primal.shape)
            columns.append(_dense(cr.jvp(f, tuple(primals), tuple(tangents))[1], out_shape))
        looped = np.stack(columns, axis=-1).reshape(out_shape + primal.shape)
        np.testing.assert_allclose(np.asarray(forward[k]), looped, rtol=1e-10, atol=1e-12)
        np.testing.assert_allclose(np.asarray(reverse[k]), looped, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("sample", DIFFERENTIABLE, ids=lambda s: s.id)
def test_hessians_from_every_nesting_agree(sample):
    f, primals = _function(sample)
    primal = primals[0]
    rest = primals[1:]
    u = _rng(sample).standard_normal(np.shape(cr.jvp(f, tuple(primals),
                                                     tuple(np.zeros_like(p) for p in primals))[0]))

    def scalar(x):
        return cr.sum(f(x, *rest) * u)

    hessians = [
        np.asarray(outer(inner(scalar))(primal))
        for outer in (cr.jacfwd, cr.jacrev) for inner in (cr.jacfwd, cr.jacrev)
    ]
    for other in hessians[1:]:
        np.testing.assert_allclose(other, hessians[0], rtol=1e-9, atol=1e-10)
    np.testing.assert_allclose(np.asarray(cr.hessian(scalar)(primal)), hessians[0],
                               rtol=1e-9, atol=1e-10)


@pytest.mark.parametrize("sample", DIFFERENTIABLE, ids=lambda s: s.id)
def test_second_jacobians_of_vector_functions(sample):
    """Batched tangents meeting batched cotangents (jacfwd of jacrev) in every rule."""
    f, primals = _function(sample)
    primal = primals[0]
    rest = primals[1:]

    def g(x):
        return f(x, *rest)

    reference = np.asarray(cr.jacrev(cr.jacrev(g))(primal))
    for outer, inner in ((cr.jacfwd, cr.jacrev), (cr.jacfwd, cr.jacfwd), (cr.jacrev, cr.jacfwd)):
        np.testing.assert_allclose(np.asarray(outer(inner(g))(primal)), reference,
                                   rtol=1e-9, atol=1e-10)


# ---------------------------------------------------------------- third order, every mix


def _directional(mode: str, g, direction: tuple):
    """x -> g'(x)[direction] for a scalar function g of several arrays, by forward mode
    (``jvp``) or by reverse mode (``<grad g(x), direction>``)."""
    if mode == "F":
        return lambda *xs: cr.jvp(g, xs, direction)[1]
    argnums = tuple(range(len(direction)))
    return lambda *xs: sum(
        cr.sum(grad * d) for grad, d in zip(cr.grad(g, argnums)(*xs), direction, strict=True)
    )


_MODES = ("FFF", "FFR", "FRF", "FRR", "RFF", "RFR", "RRF", "RRR")


@pytest.mark.parametrize(
    "sample", DIFFERENTIABLE, ids=lambda s: s.id
)
def test_third_order_in_every_mix_of_modes(sample):
    """D3 <c, f>[u, v, w] with forward or reverse mode in each of the three positions: all
    eight agree, and with finite differences of the second order."""
    f, primals = _function(sample)
    rng = _rng(sample)
    weights = rng.standard_normal(np.shape(cr.jvp(f, tuple(primals),
                                                  tuple(np.zeros_like(p) for p in primals))[0]))
    u, v, w = (tuple(rng.standard_normal(p.shape) for p in primals) for _ in range(3))

    def scalar(*xs):
        return cr.sum(f(*xs) * weights)

    results = {}
    for modes in _MODES:
        g = scalar
        for mode, direction in zip(modes, (u, v, w), strict=True):
            g = _directional(mode, g, direction)
        results[modes] = float(np.asarray(g(*primals)))
    second = _directional("R", _directional("R", scalar, u), v)
    eps = 1e-5
    plus = second(*[p + eps * d for p, d in zip(primals, w, strict=True)])
    minus = second(*[p - eps * d for p, d in zip(primals, w, strict=True)])
    numeric = (float(np.asarray(plus)) - float(np.asarray(minus))) / (2 * eps)
    scale = max(1.0, abs(results["RRR"]))
    for modes, value in results.items():
        assert abs(value - results["RRR"]) <= 1e-8 * scale, (modes, value, results["RRR"])
    assert abs(results["RRR"] - numeric) <= 1e-5 * scale, (results["RRR"], numeric)
