"""Saved-value hooks: what nodes save passes through pack when recorded and unpack when the
rules run; gradients are unchanged (bit for bit when unpack gives back the same values), the
version checks and buffer donation stay safe, and nothing happens outside a block."""

from __future__ import annotations

import doctest
import importlib
import threading
from pathlib import Path

import numpy as np
import pytest

import chainrule as cr
from chainrule import saved_hooks
from chainrule.ops import recording, sin


class Counted:
    """Hooks that count their calls and keep each saved value on disk, in a file of its own."""

    def __init__(self, folder: Path) -> None:
        self.folder, self.packed, self.unpacked = folder, 0, 0

    def pack(self, tensor):
        self.packed += 1
        path = self.folder / f"{self.packed}.npy"
        np.save(path, tensor.numpy())
        return path

    def unpack(self, path):
        self.unpacked += 1
        return cr.tensor(np.load(path))

    def block(self):
        return cr.saved_tensors_hooks(self.pack, self.unpack)


def _model(x, w):
    h = cr.tanh(x @ w)
    return (cr.exp(h) * cr.sin(h)).sum() / (1.0 + x * x).sum()


X0 = np.random.default_rng(0).normal(size=(3, 4))
W0 = np.random.default_rng(1).normal(size=(4, 2))


def _second_order(hooks=None):
    """First and second derivatives of the model, with the whole computation in ``hooks``."""
    x, w = cr.tensor(X0, requires_grad=True), cr.tensor(W0, requires_grad=True)
    with hooks.block() if hooks else cr.enable_grad():
        gx, gw = cr.gradients(_model(x, w), [x, w], create_graph=True)
        ((gx * gx).sum() + (gw ** 3).sum()).backward()
    return [a.detach().numpy() for a in (gx, gw, x.grad, w.grad)]


def test_values_kept_on_disk_give_the_same_gradients_bit_for_bit(tmp_path):
    hooks = Counted(tmp_path)
    for plain, hooked in zip(_second_order(), _second_order(hooks), strict=True):
        assert plain.dtype == hooked.dtype and np.array_equal(plain, hooked)
    assert hooks.packed > 0 and hooks.unpacked > 0


def test_the_same_bit_for_bit_under_grad_jacrev_hessian_and_jvp(tmp_path):
    def f(v):
        return cr.sum(cr.sin(v) * cr.exp(v) / (1.0 + v * v))

    def g(v):
        return cr.tanh(v) * v[::-1]

    x0 = np.array([0.3, -0.7, 1.1])
    transforms = [
        lambda: cr.grad(f)(x0), lambda: cr.grad(cr.grad(lambda v: f(v) * f(v)))(1.5),
        lambda: cr.jacrev(g)(x0), lambda: cr.hessian(f)(x0),
        lambda: cr.jvp(cr.grad(f), (x0,), (np.ones(3),))[1],
    ]
    for transform in transforms:
        hooks = Counted(tmp_path)
        with hooks.block():
            hooked = np.asarray(transform())
        assert np.array_equal(hooked, np.asarray(transform()))
        assert hooks.packed > 0 and hooks.unpacked > 0


def test_gradients_under_hooks_match_finite_differences_to_second_order(tmp_path):
    def f(v):
        with Counted(tmp_path).block():
            return cr.sum(cr.sin(v) * v * cr.exp(-v))

    x0 = np.array([0.4, 1.3, -0.8])
    assert cr.gradcheck(f, [x0])
    assert cr.gradcheck(lambda v: cr.grad(f)(v), [x0])


# ---------------------------------------------------------------- what goes through the hooks


@pytest.mark.parametrize(("build", "count"), [
    (lambda a, b: a * b, 2), (lambda a, b: cr.sin(a), 1), (lambda a, b: cr.exp(a), 1),
    (lambda a, b: cr.sum(a), 0), (lambda a, b: a * 2.0, 0), (lambda a, b: a + b, 0),
    (lambda a, b: a * np.array([3.0, 4.0]), 1), (lambda a, b: a @ b, 2),
    (lambda a, b: (cr.sin(a) * a).sum(), 3),
])
def test_pack_and_unpack_once_per_saved_value(build, count):
    calls = []
    a, b = cr.tensor([1.0, 2.0], requires_grad=True), cr.tensor([0.5, 1.5], requires_grad=True)
    with cr.saved_tensors_hooks(lambda t: calls.append("pack") or t.numpy().copy(),
                                lambda v: calls.append("unpack") or cr.tensor(v)):
        y = build(a, b)
    assert calls == ["pack"] * count
    y.sum().backward()
    assert calls == ["pack"] * count + ["unpack"] * count


@pytest.mark.parametrize("op", ["mul", "sin", "exp", "tanh", "matmul", "sum", "div", "sigmoid"])
def test_pack_counts_are_pytorchs(op):
    real_torch = pytest.importorskip("torch")
    ours = importlib.import_module("chainrule.torch")
    build = {
        "mul": lambda a, b: a * b, "sin": lambda a, b: a.sin(), "exp": lambda a, b: a.exp(),
        "tanh": lambda a, b: a.tanh(), "matmul": lambda a, b: a @ b, "sum": lambda a, b: a.sum(),
        "div": lambda a, b: a / b, "sigmoid": lambda a, b: a.sigmoid(),
    }[op]

    def counts(lib):
        calls = {"pack": 0, "unpack": 0}

        def pack(t):
            calls["pack"] += 1
            return t.detach()

        def unpack(t):
            calls["unpack"] += 1
            return t

        a = lib.tensor([1.0, 2.0], requires_grad=True)
        b = lib.tensor([0.5, 1.5], requires_grad=True)
        with lib.autograd.graph.saved_tensors_hooks(pack, unpack):
            y = build(a, b)
        y.sum().backward()
        return calls, a.grad.tolist()

    (mine, my_grad), (theirs, their_grad) = counts(ours), counts(real_torch)
    assert mine == theirs and my_grad == pytest.approx(their_grad, rel=1e-6)


def test_pack_gets_the_input_itself_and_the_output_without_history_with_recording_off():
    seen = []
    x = cr.tensor([1.0, 2.0], requires_grad=True)

    def pack(t):
        seen.append((t, t.grad_fn, cr.is_grad_enabled()))
        return t

    with cr.saved_tensors_hooks(pack, lambda t: t):
        y = cr.exp(x * 2.0)  # multiply saves nothing for x (the constant), exp its output
        z = cr.sin(x)
    (out, out_fn, out_mode), (given, _, given_mode) = seen
    assert out_fn is None and np.array_equal(out.numpy(), y.detach().numpy())
    assert given is x and not out_mode and not given_mode
    (z.sum() + y.sum()).backward()
    np.testing.assert_allclose(x.grad.numpy(), np.cos([1.0, 2.0]) + 2 * np.exp([2.0, 4.0]))


def test_unpack_runs_in_the_mode_of_the_backward_pass():
    modes = []
    x = cr.tensor([1.0, 2.0], requires_grad=True)
    with cr.saved_tensors_hooks(lambda t: t, lambda t: modes.append(cr.is_grad_enabled()) or t):
        y = cr.sin(x).sum()
    cr.gradients(y, x, retain_graph=True)
    cr.gradients(y, x, create_graph=True)
    assert modes == [False, True]


def test_the_innermost_block_applies_and_hooks_are_those_of_recording_time():
    calls = []

    def hooks(name):
        return cr.saved_tensors_hooks(lambda t: calls.append(f"pack {name}") or t,
                                      lambda t: calls.append(f"unpack {name}") or t)

    x = cr.tensor([1.0, 2.0], requires_grad=True)
    with hooks("outer"):
        y = cr.sin(x)
        with hooks("inner"):
            z = cr.cos(x)
    with hooks("later"):
        (y + z).sum().backward()
    assert sorted(calls) == sorted(["pack outer", "pack inner", "unpack outer", "unpack inner"])


def test_outside_blocks_nothing_is_packed_and_the_plain_code_runs():
    x = cr.tensor([1.0, 2.0], requires_grad=True)
    with cr.saved_tensors_hooks(lambda t: t, lambda t: t):
        assert "observed" in sin.apply.__code__.co_filename
    assert recording.observers == [] and "observed" not in sin.apply.__code__.co_filename
    y = cr.sin(x)
    assert type(y.grad_fn.saved) is tuple and y.grad_fn.saved[0] is x._array


def test_blocks_are_per_thread():
    packed = []
    x = cr.tensor([1.0, 2.0], requires_grad=True)
    other = []
    with cr.saved_tensors_hooks(lambda t: packed.append(1) or t, lambda t: t):
        thread = threading.Thread(target=lambda: other.append(cr.sin(x)))
        thread.start()
        thread.join()
    assert packed == [] and type(other[0].grad_fn.saved) is tuple


# ---------------------------------------------------------------- misuse and safety


def test_unpack_must_give_back_a_tensor_of_what_was_packed():
    x = cr.tensor([1.0, 2.0], requires_grad=True)
    with cr.saved_tensors_hooks(lambda t: 1, lambda p: p):
        y = cr.sin(x).sum()
    with pytest.raises(TypeError, match="unpack_hook expected to be a Tensor but got result "
                                        "of type int"):
        y.backward()
    with cr.saved_tensors_hooks(lambda t: t, lambda t: t[:1]):
        y = cr.sin(x).sum()
    with pytest.raises(RuntimeError, match=r"shape \(1,\).*shape \(2,\)"):
        y.backward()
    with cr.saved_tensors_hooks(lambda t: t, lambda t: t.astype("float64")):
        y = cr.sin(x).sum()
    with pytest.raises(RuntimeError, match="float64 value.*float32"):
        y.backward()
    assert x.grad is None
    with pytest.raises(TypeError, match="pack_hook must be a function"):
        cr.saved_tensors_hooks(None, lambda t: t)


def test_a_pack_that_raises_leaves_grad_mode_and_the_hooks_as_they_were():
    x = cr.tensor([1.0, 2.0], requires_grad=True)
    with pytest.raises(ValueError, match="no room"):
        with cr.saved_tensors_hooks(lambda t: (_ for _ in ()).throw(ValueError("no room")),
                                    lambda t: t):
            cr.sin(x)
    assert cr.is_grad_enabled() and recording.observers == []


def test_an_in_place_change_after_saving_is_refused_even_if_pack_copied():
    x = cr.tensor([1.0, 2.0], requires_grad=True)
    with cr.saved_tensors_hooks(lambda t: t.numpy().copy(), cr.tensor):
        b = x * 2.0
        y = cr.sin(b).sum()
    with cr.no_grad():
        b += 1.0
    with pytest.raises(RuntimeError, match="modified by an in-place operation"):
        y.backward()
    assert x.grad is None


def test_an_update_in_place_of_a_value_it_saved_works_as_without_hooks():
    # As in PyTorch: what the update overwrites is packed from a copy taken first.
    x = cr.tensor([1.0, 2.0], requires_grad=True)
    w = cr.tensor([3.0, 4.0], requires_grad=True)
    with cr.saved_tensors_hooks(lambda t: t, lambda t: t):
        y = x * 2.0
        y *= w
    y.sum().backward()
    assert np.array_equal(x.grad.numpy(), [6.0, 8.0])
    assert np.array_equal(w.grad.numpy(), [2.0, 4.0])


BIG = 1 << 13  # above donation's threshold


def _chain(x):
    return cr.sum(cr.tanh(cr.exp(cr.sin(x) * 0.5) * 1.5))


def test_donation_never_overwrites_what_unpack_returns():
    x0 = np.linspace(-1.0, 1.0, BIG)
    cache = {}

    def pack(t):
        cache[len(cache)] = t.numpy().copy()
        return len(cache) - 1

    def unpack(key):
        return cr.tensor(cache[key])  # (cr.tensor copies: the user's array stays theirs)

    def unpack_held(key):
        return cr.from_numpy(cache[key])  # the user's own array

    for unpacker in (unpack, unpack_held):
        cache.clear()
        x = cr.tensor(x0, requires_grad=True)
        with cr.saved_tensors_hooks(pack, unpacker):
            y = _chain(x)
        before = {key: value.copy() for key, value in cache.items()}
        y.backward()
        assert all(np.array_equal(cache[key], before[key]) for key in cache)
        plain = cr.tensor(x0, requires_grad=True)
        _chain(plain).backward()
        assert np.array_equal(x.grad.numpy(), plain.grad.numpy())


def test_identity_hooks_leave_the_users_tensors_alone():
    x = cr.tensor(np.linspace(-1.0, 1.0, BIG), requires_grad=True)
    kept = []
    with cr.saved_tensors_hooks(lambda t: kept.append(t) or t, lambda t: t):
        y = _chain(x)
    copies = [t.detach().numpy().copy() for t in kept]
    y.backward()
    assert all(np.array_equal(t.detach().numpy(), c) for t, c in zip(kept, copies, strict=True))


def test_custom_rules_and_anomaly_detection_under_hooks(tmp_path):
    @cr.custom_vjp
    def clip_gradient(x):
        return x * 1.0

    clip_gradient.defvjp(lambda x: (x * 1.0, None), lambda res, g: (cr.clip(g, -0.1, 0.1),))

    def f(v):
        return cr.sum(clip_gradient(cr.sin(v)) * v)

    x0 = np.array([0.5, 2.0])
    hooks = Counted(tmp_path)
    with hooks.block(), cr.detect_anomaly():
        hooked = cr.grad(f)(x0)
    assert np.array_equal(np.asarray(hooked), np.asarray(cr.grad(f)(x0)))
    assert hooks.packed > 0


# ---------------------------------------------------------------- spellings


def test_docstring_examples():
    graph = importlib.import_module("chainrule.torch.autograd.graph")
    for module in (saved_hooks, graph):
        failures, tried = doctest.testmod(module, optionflags=doctest.NORMALIZE_WHITESPACE)
        assert failures == 0 and tried > 0


def test_torch_spelling_and_save_on_cpu():
    torch = importlib.import_module("chainrule.torch")
    x = torch.tensor([1.0, 2.0], requires_grad=True)
    with torch.autograd.graph.save_on_cpu(pin_memory=True):
        y = (x.exp() * x).sum()
    y.backward()
    np.testing.assert_allclose(x.grad.numpy(), np.exp([1.0, 2.0]) * (1 + np.array([1.0, 2.0])),
                               rtol=1e-6)


def test_pytorch_documented_example_prints_the_same():
    real_torch = pytest.importorskip("torch")
    ours = importlib.import_module("chainrule.torch")

    def run(lib):
        log = []

        def pack_hook(x):
            log.append(("Packing", x.detach().tolist()))
            return x.detach()

        def unpack_hook(x):
            log.append(("Unpacking", x.tolist()))
            return x

        a = lib.ones(5, requires_grad=True)
        b = lib.ones(5, requires_grad=True) * 2
        with lib.autograd.graph.saved_tensors_hooks(pack_hook, unpack_hook):
            y = a * b
        y.sum().backward()
        return log, a.grad.tolist()

    assert sorted(run(ours)[0]) == sorted(run(real_torch)[0])
    assert run(ours)[1:] == run(real_torch)[1:]
