"""What a call that fails must leave as it was, captured before and compared after."""

import numpy as np


def snapshot(*tensors):
    """Everything a failed call must leave as it was: data, requires_grad, grad, grad_fn."""
    return [
        (t.detach().numpy().copy(), t.requires_grad,
         None if t.grad is None else t.grad.numpy().copy(), t.grad_fn)
        for t in tensors
    ]


def assert_unchanged(before, *tensors):
    for (data, requires_grad, grad, grad_fn), t in zip(before, tensors, strict=True):
        np.testing.assert_array_equal(t.detach().numpy(), data)
        assert t.requires_grad == requires_grad and t.grad_fn is grad_fn
        if grad is None:
            assert t.grad is None
        else:
            np.testing.assert_array_equal(t.grad.numpy(), grad)
