"""The derivative checks that chainrule.scipy's tests share: finite differences in float64, in
both modes, to second order, and batched Jacobians (jacrev against jacfwd)."""

from __future__ import annotations

import numpy as np

import chainrule as cr


def _weighted(f, weights):
    """The real scalar Re sum(weights * f(...)) whose gradient the second-order checks use."""
    def loss(*xs):
        return cr.real(cr.sum(f(*xs) * weights))
    return loss


def check(f, args, *, order=2, modes=("rev", "fwd"), atol=1e-5, rtol=1e-3, batched=True):
    """``f``'s derivatives in every argument of ``args`` (float64 arrays)."""
    cr.gradcheck(f, args, modes=modes, atol=atol, rtol=rtol)
    if order >= 2:
        rng = np.random.default_rng(7)
        out_shape = np.shape(np.asarray(f(*args)))
        weights = rng.standard_normal(out_shape)
        loss = _weighted(f, weights)
        argnums = tuple(range(len(args)))

        def gradient(*xs):
            grads = cr.grad(loss, argnums=argnums)(*xs)
            return cr.concatenate([cr.ravel(cr.real(g)) for g in grads])

        cr.gradcheck(gradient, args, modes=modes, atol=atol, rtol=rtol)
    if batched and "fwd" in modes:
        argnums = tuple(range(len(args)))
        reverse = cr.jacrev(f, argnums=argnums)(*args)
        forward = cr.jacfwd(f, argnums=argnums)(*args)
        for a, b in zip(reverse, forward, strict=True):
            np.testing.assert_allclose(np.asarray(a), np.asarray(b), rtol=1e-8, atol=1e-8)
