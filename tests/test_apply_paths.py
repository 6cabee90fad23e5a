"""Applying a primitive: the compiled path refuses what it does not take and records
exactly what the general path records; the plans it caches for variadic ops stay bounded."""

import numpy as np
import pytest
from snapshots import assert_unchanged, snapshot

import chainrule as cr


def test_compiled_apply_refuses_what_it_does_not_take_and_leaves_tensors_alone():
    from chainrule import ops

    x = cr.tensor([0.5, 1.0], requires_grad=True)
    before = snapshot(x)
    with pytest.raises(TypeError, match="bogus"):
        ops.sin(x, bogus=1)
    assert_unchanged(before, x)
    # and the compiled path records exactly what the general one does
    general = type(ops.sin).apply.__get__(ops.sin)
    y, z = ops.sin.apply((x,), {}), general((x,), {})
    assert y.grad_fn.saved == z.grad_fn.saved and y.grad_fn.versions == z.grad_fn.versions
    (y * z).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), 2 * np.sin([0.5, 1.0]) * np.cos([0.5, 1.0]))


def test_variadic_plans_are_bounded():
    from chainrule import ops

    parts = [cr.tensor([1.0], requires_grad=True) for _ in range(16)]
    for i in range(3000):
        mixed = [p if i >> k & 1 else p.detach() for k, p in enumerate(parts)]
        cr.concatenate(mixed)
    assert len(ops.concatenate._plans) <= 256
