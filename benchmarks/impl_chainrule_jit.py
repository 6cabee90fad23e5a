"""chainrule under ``cr.jit``: the workloads of ``impl_chainrule`` as a traced and replayed step.

JAX's spelling where it is natural: ``step = cr.jit(cr.grad(loss))`` over NumPy arrays,
returning the gradients. ``mlp`` is also written in PyTorch's (``mlp_backward``):
``backward()`` inside the jitted step, the ``.grad`` buffers reused with ``zero_()``; the table
takes the faster of the two (``MLP_SPELLINGS``, compared by ``jit_overheads.py``).

The first call traces (and the PyTorch spelling's first ``backward()`` creates ``.grad``, so
its second call traces again); the worker's warm-up makes those calls. What the worker times
must be replays: each step carries ``check_replays``, which the worker calls after the warm-up
and after the timed calls, and which raises when the jitted function runs eagerly, has no
program, or traced again in between. A :class:`chainrule.tracing.JitWarning` (a fallback to
eager) is an error in these processes for the same reason.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from typing import Any

import numpy as np

import chainrule as cr
from benchmarks import impl_chainrule
from chainrule.tracing import Jitted, JitWarning

warnings.simplefilter("error", JitWarning)


def replay_state(jitted: Jitted) -> list:
    """What the jitted function has cached: one (entry, programs, escapes) per signature.

    Raises when no call of it has a program or one signature runs eagerly: its calls are not
    replays then."""
    entries = list(jitted._cache.values())
    if not entries:
        raise RuntimeError(f"{jitted!r} has no cached signature: its calls ran eagerly")
    for entry in entries:
        if entry.eager is not None:
            raise RuntimeError(f"{jitted!r} runs eagerly: {entry.eager}")
        if not entry.programs:
            raise RuntimeError(f"{jitted!r} has no program yet (it escaped {entry.escapes}x)")
    return [(id(entry), [id(p) for p in entry.programs], entry.escapes) for entry in entries]


def _replaying(jitted: Jitted, call: Callable[[], tuple]) -> Callable[[], tuple]:
    """``call`` with ``check_replays``: the first check records the cache, each later one
    raises if it changed (a trace happened in between)."""
    seen: list = []

    def check_replays() -> None:
        now = replay_state(jitted)
        if seen and now != seen[0]:
            raise RuntimeError(f"{jitted!r} traced again between two checks: not replays")
        seen[:] = [now]

    call.check_replays = check_replays  # type: ignore[attr-defined]
    call.jitted = jitted  # type: ignore[attr-defined]
    return call


def _numpy(grads: Any) -> tuple:
    grads = grads if isinstance(grads, tuple) else (grads,)
    return tuple(np.asarray(grad.numpy() if isinstance(grad, cr.Tensor) else grad)
                 for grad in grads)


def chain(data: dict[str, Any]) -> Callable:
    ops = data["ops"]

    def loss(x: Any) -> cr.Tensor:
        y = x
        for i in range(ops):
            y = y * 1.01 if i % 2 == 0 else cr.sin(y)
        return y

    step, x = cr.jit(cr.grad(loss)), data["x"]
    return _replaying(step, lambda: _numpy(step(x)))


def mlp(data: dict[str, Any]) -> Callable:
    """The faster spelling of ``MLP_SPELLINGS`` (measured: see the module docstring)."""
    return MLP_SPELLINGS[MLP_CHOICE](data)


def mlp_grad(data: dict[str, Any]) -> Callable:
    """``mlp`` in JAX's spelling: ``cr.jit(cr.grad(loss, argnums=(0, 1, 2, 3)))``."""
    x, onehot = data["x"], data["onehot"]
    params = [data[name] for name in ("w1", "b1", "w2", "b2")]
    batch = x.shape[0]

    def loss(w1: Any, b1: Any, w2: Any, b2: Any, x: Any, onehot: Any) -> cr.Tensor:
        h = cr.tanh(x @ w1 + b1)
        z = h @ w2 + b2
        s = z - cr.max(z, axis=1, keepdims=True)
        logp = s - cr.log(cr.sum(cr.exp(s), axis=1, keepdims=True))
        return -cr.sum(onehot * logp) / batch

    step = cr.jit(cr.grad(loss, argnums=(0, 1, 2, 3)))
    return _replaying(step, lambda: _numpy(step(*params, x, onehot)))


def mlp_backward(data: dict[str, Any]) -> Callable:
    """``mlp`` in PyTorch's spelling: ``loss().backward()`` inside the jitted step, the
    ``.grad`` buffers zeroed in place (``.grad = None`` would store new arrays at each call,
    which a replay cannot do)."""
    params, loss = impl_chainrule.mlp_model(data)

    @cr.jit
    def train_step() -> None:
        for leaf in params:
            if leaf.grad is not None:
                leaf.grad.zero_()
        loss().backward()

    def call() -> tuple:
        train_step()
        return tuple(leaf.grad.numpy() for leaf in params)

    return _replaying(train_step, call)


MLP_SPELLINGS = {"grad": mlp_grad, "backward": mlp_backward}
MLP_CHOICE = "grad"
NOTES = {"mlp": f"spelling {MLP_CHOICE!r} of {sorted(MLP_SPELLINGS)} (jit_overheads.py times both)"}


# ``wide`` runs with cr.jit's fusion pass (numexpr, in the bench extra) at its default: chains
# fused where numexpr was measured faster than NumPy (tracing/fuse.py). Its float32 sin/cos
# chains of 4 MiB stay NumPy calls: fused (``True``) they measured 2-2.5x slower.
WIDE_FUSE: bool | None = None


def wide(data: dict[str, Any]) -> Callable:
    rounds = data["rounds"]

    def loss(x: Any) -> cr.Tensor:
        y = x
        for _ in range(rounds):
            y = cr.sin(y) * 1.01
        return cr.sum(y)

    step, x = cr.jit(cr.grad(loss), fuse=WIDE_FUSE), data["x"]
    return _replaying(step, lambda: _numpy(step(x)))


def hess(data: dict[str, Any]) -> Callable:
    """``cr.jit(cr.hessian(f))``, ``f`` as benchmarks/hess.py writes it."""
    a = cr.tensor(data["a"])
    step, x = cr.jit(cr.hessian(lambda x: cr.sum(cr.tanh(a @ x)))), data["x"]
    return _replaying(step, lambda: _numpy(step(x)))


def seed(data: dict[str, Any]) -> Callable:
    """The chapter's ``f(a)``, its ``while`` and ``if`` on values left as guards."""

    def f(a: Any) -> cr.Tensor:
        b = a * 2
        while cr.linalg.norm(b) < 1000:
            b = b * 2
        return b if cr.sum(b) > 0 else 100 * b

    step, a = cr.jit(cr.grad(lambda a: cr.sum(f(a)))), data["a"]
    return _replaying(step, lambda: _numpy(step(a)))
