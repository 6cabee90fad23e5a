"""PyTorch as an oracle for the native API: complex inputs and hooks, each scenario written once
and run on both (skipped where PyTorch is not installed; tests/test_views.py does the same
for in-place writes through views, tests/test_dialect_torch_promotion.py for dtypes)."""

import numpy as np
import pytest

import chainrule as cr

torch = pytest.importorskip("torch")


# ---------------------------------------------------------------- complex inputs

Z = np.array([1.0 + 2.0j, -0.5 + 0.3j, 2.0 - 1.0j])
M = np.array([[1.0 + 1.0j, 2.0 - 1.0j], [0.5j, -1.0 + 0.2j]])


def _complex_losses(lib):
    """Real losses of complex tensors; ``lib`` is chainrule or torch (the same names)."""
    return {
        "abs squared": lambda z: (lib.abs(z) ** 2).sum(),
        "z conj z": lambda z: (z * lib.conj(z)).real.sum(),
        "real exp": lambda z: lib.exp(z).real.sum(),
        "real reciprocal": lambda z: (1 / z).real.sum(),
        "imag of square": lambda z: (z * z).imag.sum(),
        "abs": lambda z: lib.abs(z).sum(),
        "log abs": lambda z: lib.log(z).real.sum(),
        "sqrt": lambda z: (lib.sqrt(z) * (1 + 2j)).real.sum(),
        "sin times z": lambda z: (lib.sin(z) * z).imag.sum(),
        "tanh": lambda z: lib.abs(lib.tanh(z * 0.3)).sum(),
        "power": lambda z: (z ** 3).real.sum() + lib.abs(z ** 0.5).sum(),
        "division": lambda z: lib.abs(z / (z.conj() + 3)).sum(),
    }


@pytest.mark.parametrize("name", sorted(_complex_losses(cr)))
def test_complex_gradients_are_pytorchs(name):
    ours = cr.tensor(Z, requires_grad=True)
    _complex_losses(cr)[name](ours).backward()
    theirs = torch.tensor(Z, requires_grad=True)
    _complex_losses(torch)[name](theirs).backward()
    np.testing.assert_allclose(ours.grad.numpy(), theirs.grad.numpy(), rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize(
    "loss",
    [
        lambda lib, m: (lib.abs(m @ m) ** 2).sum(),
        lambda lib, m: (m @ m.conj().T).real.sum() + (m.T @ m).imag.sum(),
        lambda lib, m: lib.abs(lib.linalg.det(m)) + lib.abs(lib.linalg.inv(m)).sum(),
        lambda lib, m: lib.abs(lib.linalg.solve(m, m.sum(1))).sum(),
    ],
    ids=["abs matmul", "conjugate transpose", "det and inv", "solve"],
)
def test_complex_matrix_gradients_are_pytorchs(loss):
    ours = cr.tensor(M, requires_grad=True)
    loss(cr, ours).backward()
    theirs = torch.tensor(M, requires_grad=True)
    loss(torch, theirs).backward()
    np.testing.assert_allclose(ours.grad.numpy(), theirs.grad.numpy(), rtol=1e-10, atol=1e-12)


def test_backward_with_a_complex_gradient_is_pytorchs():
    v = np.array([1 - 1j, 2j, 0.5])
    ours = cr.tensor(Z, requires_grad=True)
    (cr.sin(ours) * ours).backward(gradient=cr.tensor(v))
    theirs = torch.tensor(Z, requires_grad=True)
    (torch.sin(theirs) * theirs).backward(gradient=torch.tensor(v))
    np.testing.assert_allclose(ours.grad.numpy(), theirs.grad.numpy(), rtol=1e-12)


# ---------------------------------------------------------------- hooks


class Native:
    tensor = staticmethod(lambda data: cr.tensor(data, dtype="float64", requires_grad=True))


class Torch:
    tensor = staticmethod(lambda data: torch.tensor(data, dtype=torch.float64,
                                                    requires_grad=True))


def hooks_scale_an_intermediate_and_a_leaf(T):
    x = T.tensor([1.0, 2.0, 3.0])
    y = x * x
    y.register_hook(lambda g: g * 10)
    x.register_hook(lambda g: g + 1)
    (y * y).sum().backward()
    return [x.grad]


def hooks_run_in_order_and_none_keeps_the_gradient(T):
    x = T.tensor([1.0, 2.0])
    y = x * 3
    seen = []
    y.register_hook(lambda g: seen.append(g.detach().clone() if hasattr(g, "clone")
                                          else g.detach().copy()))
    y.register_hook(lambda g: g * 2)
    y.register_hook(lambda g: g - 1)
    y.sum().backward()
    return [x.grad, seen[0]]


def a_hook_sees_the_sum_of_a_tensors_uses(T):
    x = T.tensor([1.0, 2.0])
    y = x * 2
    seen = []
    y.register_hook(lambda g: seen.append(g * 1))
    (y * y + y * 3).sum().backward()
    return [seen[0], x.grad]


def retain_grad_sees_the_gradient_after_the_hooks(T):
    x = T.tensor([1.0, 2.0])
    y = x * 2
    y.retain_grad()
    y.register_hook(lambda g: g * 100)
    (y * y).sum().backward()
    return [y.grad, x.grad]


def leaf_hooks_run_on_each_backward_before_accumulation(T):
    x = T.tensor([1.0, 2.0])
    x.register_hook(lambda g: g * 2)
    (x * x).sum().backward()
    (x * 3).sum().backward()
    return [x.grad]


def a_hook_on_a_tensor_used_by_a_second_order_gradient(T):
    x = T.tensor([1.0, 2.0])
    y = x ** 3
    y.register_hook(lambda g: g * 2)
    (gx,) = (cr.gradients if T is Native else torch.autograd.grad)(
        y.sum(), x, create_graph=True
    )
    (gx * gx).sum().backward()
    return [gx, x.grad]


HOOK_SCENARIOS = [
    hooks_scale_an_intermediate_and_a_leaf,
    hooks_run_in_order_and_none_keeps_the_gradient,
    a_hook_sees_the_sum_of_a_tensors_uses,
    retain_grad_sees_the_gradient_after_the_hooks,
    leaf_hooks_run_on_each_backward_before_accumulation,
    a_hook_on_a_tensor_used_by_a_second_order_gradient,
]


def _numpy(value):
    value = value.detach()
    return value.numpy()


@pytest.mark.parametrize("scenario", HOOK_SCENARIOS, ids=lambda f: f.__name__)
def test_hooks_behave_as_pytorchs(scenario):
    for ours, theirs in zip(scenario(Native), scenario(Torch), strict=True):
        np.testing.assert_allclose(_numpy(ours), _numpy(theirs), rtol=1e-12)


def test_bad_hooks_fail_as_pytorchs_and_leave_grad_alone():
    for T in (Native, Torch):
        x = T.tensor([1.0, 2.0])
        y = x * 2
        y.register_hook(lambda g: g[:1])
        with pytest.raises(RuntimeError, match="has changed the size of value"):
            y.sum().backward()
        assert x.grad is None
