"""``chainrule.torch``: PyTorch's names, defaults and errors."""

from __future__ import annotations

import numpy as np
import pytest

import chainrule as cr
import chainrule.torch as torch
import chainrule.torch.nn.functional as F


def allclose(tensor, expected, rtol=1e-6) -> None:
    np.testing.assert_allclose(np.asarray(tensor.detach()), expected, rtol=rtol, atol=1e-7)


# ---------------------------------------------------------------- creation and dtypes
def test_creation_defaults_and_dtypes() -> None:
    assert torch.arange(4.0).dtype == torch.float32
    assert torch.arange(4).dtype == torch.int64 == torch.long
    assert torch.tensor([1.0, 2.0]).dtype == torch.float32
    assert torch.tensor([1, 2]).dtype == torch.int64
    assert torch.tensor([1, 2], dtype=torch.float64).dtype == torch.float64
    assert torch.zeros(2, 3).shape == (2, 3) == torch.ones((2, 3)).shape
    assert torch.zeros(2, 3).size() == torch.Size((2, 3)) and torch.zeros(2, 3).size(1) == 3
    assert repr(torch.zeros(2, 3).shape) == "torch.Size([2, 3])"
    assert torch.full((2,), 7.0).tolist() == [7.0, 7.0]
    assert torch.eye(2).tolist() == [[1.0, 0.0], [0.0, 1.0]]
    assert torch.linspace(0, 1, 3).tolist() == [0.0, 0.5, 1.0]
    assert torch.zeros_like(torch.arange(3.0)).tolist() == [0.0] * 3
    assert torch.ones_like(torch.arange(3)).dtype == torch.int64
    assert isinstance(torch.arange(3.0), torch.Tensor) and torch.is_tensor(torch.arange(3.0))
    assert torch.float is torch.float32 and torch.double is torch.float64


def test_from_numpy_shares_memory() -> None:
    array = np.zeros(3)
    t = torch.from_numpy(array)
    array[0] = 5
    assert t.dtype == torch.float64 and t[0].item() == 5.0


def test_random_is_seeded_and_shaped() -> None:
    torch.manual_seed(0)
    a = torch.randn(2, 3)
    torch.manual_seed(0)
    b = torch.randn(size=(2, 3))
    assert a.shape == (2, 3) and a.dtype == torch.float32 and torch.equal(a, b)
    assert torch.randn(size=()).shape == ()
    w = torch.normal(0, 0.01, size=(2, 1), requires_grad=True)
    assert w.shape == (2, 1) and w.requires_grad and w.is_leaf
    assert torch.normal(torch.zeros(3), torch.ones(3)).shape == (3,)
    assert torch.rand(4).max().item() < 1
    assert torch.randint(0, 3, (5,)).dtype == torch.int64
    assert sorted(torch.randperm(4).tolist()) == [0, 1, 2, 3]


# ---------------------------------------------------------------- methods with dim/keepdim
def test_reductions_take_dim_keepdim_and_positional_dim() -> None:
    x = torch.arange(6.0).reshape(2, 3)
    assert x.sum(1, keepdim=True).shape == (2, 1)
    assert x.sum(dim=0).tolist() == [3.0, 5.0, 7.0]
    assert x.sum(axis=0).tolist() == [3.0, 5.0, 7.0]  # PyTorch accepts NumPy's name too
    assert x.mean(dim=(0, 1)).item() == 2.5
    assert torch.sum(x, 1).tolist() == [3.0, 12.0]
    assert x.prod(1).tolist() == [0.0, 60.0]
    assert x.numel() == 6 and x.dim() == 2
    assert x.norm().item() == pytest.approx(np.sqrt(55.0))
    assert x.norm(p=1).item() == 15.0


def test_var_and_std_are_unbiased_by_default() -> None:
    x = torch.tensor([1.0, 2.0, 3.0, 4.0])
    assert x.var().item() == pytest.approx(5 / 3)
    assert x.var(unbiased=False).item() == pytest.approx(1.25)
    assert x.std().item() == pytest.approx(np.sqrt(5 / 3))
    assert torch.var(x, correction=0).item() == pytest.approx(1.25)
    m = torch.arange(6.0).reshape(2, 3)
    allclose(m.std(dim=1), [1.0, 1.0])


def test_max_with_dim_returns_values_and_indices() -> None:
    x = torch.tensor([[1.0, 5.0, 2.0], [7.0, 0.0, 7.0]], requires_grad=True)
    values, indices = x.max(dim=1)
    assert values.tolist() == [5.0, 7.0] and indices.tolist() == [1, 0]
    result = torch.max(x, 1, keepdim=True)
    assert result.values.shape == (2, 1) and result.indices.shape == (2, 1)
    values.sum().backward()  # the gradient goes to the element picked, as in PyTorch
    assert x.grad.tolist() == [[0.0, 1.0, 0.0], [1.0, 0.0, 0.0]]
    assert x.max().item() == 7.0 and x.min(0).indices.tolist() == [0, 1, 0]
    assert torch.max(torch.tensor([1.0, 4.0]), torch.tensor([3.0, 2.0])).tolist() == [3.0, 4.0]
    assert x.argmax(dim=1).tolist() == [1, 0]


def test_shape_methods() -> None:
    x = torch.arange(6.0)
    assert x.view(2, 3).shape == (2, 3) and x.view(-1, 2).shape == (3, 2)
    assert x.reshape((3, 2)).shape == (3, 2)
    m = x.view(2, 3)
    assert m.t().shape == (3, 2) and m.T.shape == (3, 2)
    assert m.flatten().shape == (6,) and torch.ones(2, 3, 4).flatten(1).shape == (2, 12)
    assert m.unsqueeze(0).shape == (1, 2, 3) and m.unsqueeze(-1).shape == (2, 3, 1)
    assert torch.ones(1, 3, 1).squeeze().shape == (3,)
    assert torch.ones(1, 3).squeeze(1).shape == (1, 3)  # not size 1: left alone
    assert torch.ones(2, 3, 4).permute(2, 0, 1).shape == (4, 2, 3)
    assert torch.ones(2, 3, 4).transpose(0, 2).shape == (4, 3, 2)
    assert torch.tensor([[1.0], [2.0]]).expand(2, 3).tolist() == [[1.0] * 3, [2.0] * 3]
    assert torch.tensor([1.0, 2.0]).expand(-1).shape == (2,)
    assert m.flip(0).tolist() == [[3.0, 4.0, 5.0], [0.0, 1.0, 2.0]]
    assert torch.cat([m, m], dim=1).shape == (2, 6) and torch.stack([x, x]).shape == (2, 6)
    assert torch.cat((m, m)).shape == (4, 3)


def test_elementwise_and_clone_detach_item_numpy() -> None:
    x = torch.tensor([-1.0, 0.5, 2.0], requires_grad=True)
    assert x.clamp(0, 1).tolist() == [0.0, 0.5, 1.0]
    assert torch.clamp(x, min=0).tolist() == [0.0, 0.5, 2.0]
    assert x.square().tolist() == [1.0, 0.25, 4.0]
    assert torch.ones_like(x).tolist() == [1.0] * 3
    y = x.clone()
    assert y.requires_grad and y.grad_fn is not None
    z = x.detach()
    assert not z.requires_grad and z.is_leaf
    assert x.sum().item() == 1.5 and isinstance(x.sum().item(), float)
    with pytest.raises(RuntimeError, match=r"Use tensor\.detach\(\)\.numpy\(\)"):
        x.numpy()
    assert x.detach().numpy().dtype == np.float32
    with pytest.raises(RuntimeError, match="cannot be converted to Scalar"):
        x.item()


@pytest.mark.parametrize("name", ["exp", "log", "abs", "relu", "sigmoid", "tanh"])
def test_elementwise_functions_match_numpy_and_differentiate(name) -> None:
    x = torch.tensor([0.5, 1.5, 3.0], requires_grad=True)
    reference = {
        "exp": (np.exp, np.exp), "log": (np.log, lambda v: 1 / v),
        "abs": (np.abs, np.sign), "relu": (lambda v: np.maximum(v, 0), lambda v: v > 0),
        "sigmoid": (lambda v: 1 / (1 + np.exp(-v)),
                    lambda v: np.exp(-v) / (1 + np.exp(-v)) ** 2),
        "tanh": (np.tanh, lambda v: 1 - np.tanh(v) ** 2),
    }[name]
    y = getattr(torch, name)(x)
    allclose(y, reference[0](x.detach().numpy()))
    y.sum().backward()
    allclose(x.grad, reference[1](x.detach().numpy()).astype(np.float32), rtol=1e-5)


def test_products_and_other_functions() -> None:
    a = torch.arange(6.0).reshape(2, 3)
    v = torch.tensor([1.0, 0.0, -1.0])
    assert torch.dot(v, v).item() == 2.0
    assert torch.mv(a, v).tolist() == [-2.0, -2.0]
    assert torch.mm(a, a.T).tolist() == [[5.0, 14.0], [14.0, 50.0]]
    assert torch.matmul(a, v).tolist() == [-2.0, -2.0] and (a @ v).tolist() == [-2.0, -2.0]
    with pytest.raises(RuntimeError, match="1D tensors expected"):
        torch.dot(a, v)
    allclose(torch.softmax(a, dim=1).sum(1), [1.0, 1.0])
    allclose(torch.log_softmax(a, 1).exp(), torch.softmax(a, 1).numpy())
    allclose(torch.logsumexp(a, dim=1), np.log(np.exp(a.numpy()).sum(1)))
    assert torch.maximum(v, torch.zeros(3)).tolist() == [1.0, 0.0, 0.0]
    assert torch.where(v > 0, v, torch.zeros(3)).tolist() == [1.0, 0.0, 0.0]
    assert torch.cumsum(v, dim=0).tolist() == [1.0, 1.0, 0.0]
    assert torch.exp(torch.zeros(1)).item() == 1.0


def test_indexing_with_integer_tensors_lists_and_range() -> None:
    p = torch.tensor([[0.1, 0.3, 0.6], [0.3, 0.2, 0.5]], requires_grad=True)
    y = torch.tensor([0, 2])
    picked = p[[0, 1], y]
    allclose(picked, [0.1, 0.5])
    allclose(p[range(len(p)), y], [0.1, 0.5])
    (-torch.log(p[range(2), y])).mean().backward()
    allclose(p.grad, [[-5.0, 0.0, 0.0], [0.0, 0.0, -1.0]])
    assert p[:, 1].tolist() == pytest.approx([0.3, 0.2])
    assert p.gather(1, y.view(-1, 1)).shape == (2, 1)


# ---------------------------------------------------------------- autograd
def test_grad_starts_none_accumulates_and_resets() -> None:
    x = torch.arange(4.0, requires_grad=True)
    assert x.grad is None
    (2 * torch.dot(x, x)).backward()
    (x.sum()).backward()
    assert x.grad.tolist() == [1.0, 5.0, 9.0, 13.0]  # accumulated
    assert isinstance(x.grad, torch.Tensor)
    x.grad.zero_()
    assert x.grad.tolist() == [0.0] * 4
    x.grad = None
    x.sum().backward()
    assert x.grad.tolist() == [1.0] * 4


def test_non_scalar_backward_needs_gradient() -> None:
    x = torch.arange(4.0, requires_grad=True)
    y = x * x
    with pytest.raises(RuntimeError, match="^grad can be implicitly created only for scalar"):
        y.backward()
    assert x.grad is None  # nothing written
    y.backward(gradient=torch.ones(len(y)))
    assert x.grad.tolist() == [0.0, 2.0, 4.0, 6.0]


def test_no_grad_enable_grad_and_sub_() -> None:
    w = torch.ones(2, requires_grad=True)
    with torch.no_grad():
        assert not (w * 2).requires_grad
        with torch.enable_grad():
            assert (w * 2).requires_grad
        w -= 0.5
        w.sub_(torch.tensor([0.25, 0.0]))
    assert w.tolist() == [0.25, 0.5] and w.is_leaf and w.requires_grad
    with pytest.raises(RuntimeError, match="in-place"):
        w -= 1
    assert torch.is_grad_enabled()

    @torch.no_grad()
    def update() -> bool:
        return torch.is_grad_enabled()

    assert update() is False


def test_autograd_grad_and_higher_order() -> None:
    x = torch.tensor(2.0, requires_grad=True)
    y = x ** 3
    (dy,) = torch.autograd.grad(y, x, create_graph=True)
    assert dy.item() == 12.0 and x.grad is None
    (d2y,) = torch.autograd.grad(dy, x)
    assert d2y.item() == 12.0
    z = torch.tensor(1.0, requires_grad=True)
    assert torch.autograd.grad((x * 2,), (x, z), allow_unused=True)[1] is None
    with pytest.raises(RuntimeError, match="allow_unused"):
        torch.autograd.grad(x * 2, [x, z])
    jac = torch.autograd.functional.jacobian(lambda v: v ** 2, torch.tensor([1.0, 3.0]))
    assert jac.tolist() == [[2.0, 0.0], [0.0, 6.0]]


def test_nn_functional() -> None:
    logits = torch.tensor([[2.0, 0.5, -1.0], [0.0, 1.0, 3.0]], requires_grad=True)
    target = torch.tensor([0, 2])
    log_p = logits.detach().numpy() - np.log(np.exp(logits.detach().numpy()).sum(1,
                                                                                 keepdims=True))
    loss = F.cross_entropy(logits, target)
    assert loss.item() == pytest.approx(-(log_p[0, 0] + log_p[1, 2]) / 2, rel=1e-6)
    loss.backward()
    p = np.exp(log_p)
    p[[0, 1], [0, 2]] -= 1
    allclose(logits.grad, p / 2, rtol=1e-5)
    assert F.cross_entropy(logits, target, reduction="sum").item() == pytest.approx(
        2 * loss.item())
    soft = torch.tensor([[1.0, 0.0, 0.0], [0.0, 0.0, 1.0]])
    assert F.cross_entropy(logits, soft).item() == pytest.approx(loss.item(), rel=1e-6)
    assert F.mse_loss(torch.tensor([1.0, 3.0]), torch.tensor([0.0, 0.0])).item() == 5.0
    assert F.relu(torch.tensor([-1.0, 2.0])).tolist() == [0.0, 2.0]
    allclose(F.softmax(logits, dim=1).sum(1), [1.0, 1.0])
    assert F.one_hot(torch.tensor([0, 2]), 3).tolist() == [[1, 0, 0], [0, 0, 1]]


def test_optim_sgd_and_parameter() -> None:
    w = torch.nn.Parameter(torch.tensor([1.0, 2.0]))
    optimizer = torch.optim.SGD([w], lr=0.5)
    (w * w).sum().backward()
    optimizer.step()
    assert w.tolist() == [0.0, 0.0]
    optimizer.zero_grad()
    assert w.grad is None


def test_printing_like_pytorch() -> None:
    x = torch.arange(4.0, requires_grad=True)
    assert repr(x) == "tensor([0., 1., 2., 3.], requires_grad=True)"
    assert repr(x * 0.5) == "tensor([0.0000, 0.5000, 1.0000, 1.5000], grad_fn=<MulBackward0>)"
    assert repr(torch.tensor([True, False])) == "tensor([ True, False])"
    assert repr(torch.tensor([1.0], dtype=torch.float64)) == "tensor([1.], dtype=torch.float64)"


def test_dialect_tensors_mix_with_native_ones() -> None:
    x = torch.arange(3.0, requires_grad=True)
    y = cr.sin(x)
    assert isinstance(y, torch.Tensor)
    y.sum().backward()
    allclose(x.grad, np.cos(np.arange(3.0)).astype(np.float32))


# ---------------------------------------------------------------- against PyTorch itself
# Each snippet runs twice, with ``torch`` the real PyTorch (when installed) and chainrule.torch;
# the values of ``out`` (tensors, tuples, numbers) must agree.
SNIPPETS = [
    "x = torch.arange(6.0).reshape(2, 3); out = (x.sum(1, keepdim=True), x.mean(0), x.prod(1))",
    "x = torch.tensor([[1.0, 5.0, 2.0], [7.0, 0.0, 3.0]]); out = tuple(x.max(1)) + tuple(x.min(0))",
    "x = torch.tensor([1.0, 2.0, 4.0, 8.0]); out = (x.var(), x.std(), x.var(unbiased=False))",
    "x = torch.arange(6.0).reshape(2, 3); out = (x.var(1), x.std(0, keepdim=True))",
    "x = torch.arange(24.0).reshape(2, 3, 4); out = (x.permute(2, 0, 1), x.flatten(1), "
    "x.transpose(0, 1), x.unsqueeze(1).shape, x[:, None].shape, x.flip(0))",
    "x = torch.tensor([[1.0], [2.0]]); out = (x.expand(2, 3), x.squeeze(), x.t(), x.T.numel())",
    "x = torch.tensor([-2.0, -0.5, 0.5, 2.0]); out = (x.clamp(-1, 1), x.clamp(min=0), "
    "torch.clamp(x, max=0), x.square(), x.abs(), torch.relu(x), torch.sigmoid(x), torch.tanh(x))",
    "x = torch.tensor([[1.0, 2.0, 3.0], [1.0, 0.0, -1.0]]); out = (torch.softmax(x, dim=1), "
    "torch.log_softmax(x, 1), torch.logsumexp(x, dim=1), torch.cumsum(x, dim=1), x.norm(), "
    "x.norm(dim=1), x.norm(p=1))",
    "a = torch.arange(6.0).reshape(2, 3); v = torch.tensor([1.0, 0.0, -1.0]); "
    "out = (torch.mv(a, v), torch.mm(a, a.t()), torch.matmul(a, v), torch.dot(v, v), a @ a.T, "
    "torch.cat([a, a], dim=1), torch.stack([v, v], 1), torch.maximum(v, torch.zeros(3)), "
    "torch.where(v > 0, v, -v))",
    "p = torch.tensor([[0.1, 0.3, 0.6], [0.3, 0.2, 0.5]]); y = torch.tensor([0, 2]); "
    "out = (p[[0, 1], y], p[range(len(p)), y], p[torch.tensor([1, 1])], p.gather(1, y.view(-1, 1)),"
    " p.argmax(dim=1), p.argmax(axis=1), (p.argmax(1).type(y.dtype) == y).float().sum())",
    "x = torch.arange(4.0, requires_grad=True); y = (x * x).sum(); y.backward(); "
    "g1 = x.grad.clone(); y = (x ** 3).mean(); y.backward(); out = (g1, x.grad)",
    "x = torch.tensor([1.0, 2.0], requires_grad=True); y = x * x; "
    "y.backward(gradient=torch.tensor([1.0, 0.5])); out = x.grad",
    "x = torch.tensor(2.0, requires_grad=True); (d,) = torch.autograd.grad(x ** 3, x, "
    "create_graph=True); (d2,) = torch.autograd.grad(d, x); out = (d, d2)",
    "import torch.nn.functional as F\n"
    "z = torch.tensor([[2.0, 0.5, -1.0], [0.0, 1.0, 3.0]], requires_grad=True); "
    "y = torch.tensor([0, 2]); loss = F.cross_entropy(z, y); loss.backward(); "
    "out = (loss, z.grad, F.cross_entropy(z, y, reduction='none'), "
    "F.mse_loss(z, torch.ones(2, 3)), F.softmax(z, dim=0), F.relu(z - 1))",
    "x = torch.tensor([[3.0, 1.0], [2.0, 5.0]], requires_grad=True); v, i = x.max(dim=1); "
    "v.sum().backward(); out = (v, i, x.grad)",
    "x = torch.tensor([1.0, 2.0, 3.0], requires_grad=True); y = x.std(); y.backward(); "
    "out = (y, x.grad)",
    "x = torch.tensor([1.0, -2.0, 3.0], requires_grad=True); y = x.norm(); y.backward(); "
    "out = (y, x.grad, torch.zeros(2, 3).size(), torch.ones(2, 3).dim(), x.numel())",
    "w = torch.tensor([1.0, 2.0], requires_grad=True)\n"
    "for _ in range(3):\n"
    "    loss = ((w - 3) ** 2).sum(); loss.backward()\n"
    "    with torch.no_grad():\n"
    "        w -= 0.1 * w.grad\n"
    "        w.grad.zero_()\n"
    "out = (w, w.grad, w.requires_grad, w.is_leaf)",
    'out = (torch.arange(4) / 2, torch.arange(4) * 0.5, torch.arange(4) + 1, '
    'torch.arange(4.0) * 2)',
    'out = (torch.arange(1, 10, 2), torch.arange(0, 1, 0.25), torch.linspace(0, 1, 5))',
    'x = torch.arange(6).reshape(2, 3); out = (x.sum(), x.float().mean(), x.max(), '
    'x.sum(dim=1), x.argmax())',
    'x = torch.tensor([1, 2, 3]); out = (x.sum(), x * 1.5, x.double(), x == 2, '
    '(x > 1).sum())',
    'x = torch.tensor([[1.0, 2.0], [3.0, 4.0]]); out = (x[0], x[:, 0], x[x > 2], x[-1, '
    '-1], x[1:], x.tolist())',
    'x = torch.zeros(3); x[1] = 5; y = torch.ones(2, 2); y[:, 0] = torch.tensor([2.0, '
    '3.0]); out = (x, y)',
    'x = torch.tensor([3.0, 1.0, 2.0]); out = (x.exp(), x.log(), x.sqrt(), x.pow(2), '
    "x ** 0.5, 2 ** x, x.reciprocal() if hasattr(x, 'reciprocal') else 1 / x)",
    'x = torch.ones(2, 3); out = (x.repeat(2, 1), x.view(3, 2), x.reshape(-1), '
    'x.contiguous().view(6), x.split(1, dim=0)[0], torch.cat((x, x), 0).shape)',
    'x = torch.tensor([[1.0, 2.0], [3.0, 4.0]], requires_grad=True); y = x.t() @ x; '
    'y.sum().backward(); out = (y, x.grad)',
    'x = torch.tensor([0.5, -1.5], requires_grad=True); '
    'y = torch.sigmoid(x) * torch.tanh(x) + torch.exp(-x).log(); y.sum().backward(); '
    'out = x.grad',
    'x = torch.tensor([1.0, 2.0, 3.0], requires_grad=True); y = torch.softmax(x, '
    '0)[0]; y.backward(); out = x.grad',
    'x = torch.randn(3, 4); out = (x.shape, torch.randn(size=(2,)).shape, '
    'torch.normal(0, 1, (2, 3)).shape, torch.rand(2).dtype == torch.float32)',
    'x = torch.tensor([1.0, 2.0]); out = (x.numpy(), '
    'x.item() if x.numel() == 1 else x[0].item(), x.detach().clone(), '
    'torch.zeros_like(x), torch.ones_like(x))',
    'x = torch.tensor([[1, 2], [3, 4]]); out = (x.float().mean(dim=0), '
    'x.max(dim=0).values, torch.max(x), x.t().contiguous())',
    'a = torch.tensor(2.0, requires_grad=True); '
    'b = a * 2\nwhile b.norm() < 1000:\n    b = b * 2\n'
    'c = b if b.sum() > 0 else 100 * b\nc.backward(); '
    'out = (c, a.grad)',
    'x = torch.arange(12.0).reshape(3, 4); out = (x.mean(dim=1, keepdim=True), '
    'x.sum(dim=(0, 1)), x.std(dim=0), x.var(1, keepdim=True))',
    'x = torch.tensor([1.0, 2.0], requires_grad=True); y = x * 2; z = y.detach(); '
    'w = (z * x).sum(); w.backward(); out = (x.grad, z.requires_grad)',
    'x = torch.tensor([1.0, 2.0], requires_grad=True); y = (x * x).sum(); '
    'y.backward(retain_graph=True); y.backward(); out = x.grad',
    'x = torch.tensor([[1.0, 2.0], [3.0, 4.0]]); out = (torch.flatten(x), '
    'torch.unsqueeze(x, 0).shape, torch.squeeze(torch.ones(1, 2)), torch.transpose(x, '
    '0, 1), torch.t(x), torch.numel(x))',
    'x = torch.tensor([1.0, 2.0]); out = (torch.exp(x), torch.log(x), torch.abs(-x), '
    'torch.sum(x), torch.mean(x), torch.max(x), torch.min(x), torch.prod(x), '
    'torch.norm(x), torch.square(x), torch.sqrt(x))',
]


def _values(value):
    if isinstance(value, (tuple, list)):
        return [_values(v) for v in value]
    if hasattr(value, "detach"):
        return np.asarray(value.detach().numpy() if hasattr(value.detach(), "numpy") else value)
    return value


def _run(snippet: str, module) -> object:
    import sys

    namespace = {"torch": module}
    saved = {name: sys.modules.get(name) for name in ("torch", "torch.nn.functional")}
    try:
        sys.modules["torch"] = module
        sys.modules["torch.nn.functional"] = module.nn.functional
        exec(snippet, namespace)
    finally:
        for name, previous in saved.items():
            if previous is None:
                sys.modules.pop(name, None)
            else:
                sys.modules[name] = previous
    return namespace["out"]


def _assert_same(ours, theirs) -> None:
    if isinstance(theirs, (tuple, list)):
        assert len(ours) == len(theirs)
        for a, b in zip(ours, theirs, strict=True):
            _assert_same(a, b)
        return
    ours, theirs = np.asarray(ours), np.asarray(theirs)
    assert ours.shape == theirs.shape
    assert ours.dtype == theirs.dtype, (ours.dtype, theirs.dtype)
    np.testing.assert_allclose(ours, theirs, rtol=1e-5, atol=1e-7)


@pytest.mark.parametrize("snippet", SNIPPETS)
def test_snippets_agree_with_pytorch(snippet: str) -> None:
    real = pytest.importorskip("torch")
    theirs = _values(_run(snippet, real))
    ours = _values(_run(snippet, torch))
    _assert_same(ours, theirs)


def test_dtypes_print_like_pytorch_and_work_as_numpy_dtypes() -> None:
    x = torch.arange(3.0)
    assert repr(x.dtype) == "torch.float32" and x.dtype == torch.float32 == np.float32
    assert repr(torch.tensor([True]).dtype) == "torch.bool"
    assert torch.zeros(2, dtype=torch.float64).dtype == torch.float64
    assert x.type(torch.int64).dtype == torch.long and x.dtype.is_floating_point
    assert np.zeros(2, dtype=torch.float16).dtype == np.float16


def test_numpy_of_a_tensor_requiring_grad_is_refused_only_while_recording():
    x = torch.ones(2, requires_grad=True)
    with pytest.raises(RuntimeError, match="detach"):
        x.numpy()
    with torch.no_grad():
        np.testing.assert_array_equal(x.numpy(), [1.0, 1.0])  # as PyTorch: nothing recorded
    packed = []

    def pack(t):
        packed.append(t.numpy())  # pack hooks run with recording off
        return packed[-1]

    with torch.autograd.graph.saved_tensors_hooks(pack, torch.as_tensor):
        (x * x).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [2.0, 2.0])
    assert packed
