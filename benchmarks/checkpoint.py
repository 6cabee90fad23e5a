"""Checkpointing: a 64-layer tanh MLP (width 512, batch 128, float32), forward and backward,
without checkpoints and with ``checkpoint_sequential(layers, 8, x)`` (8 segments of 8 layers),
in chainrule (torch spelling) and in PyTorch.

Four workloads of ``benchmarks/run.py`` (each framework in its own process, as every workload):

* ``deep`` / ``remat``: the loss's gradients with respect to the input and every weight and
  bias, as a training step needs. The 64 weight gradients alone are 64 MiB, twice the
  activations (32 MiB), and a backward pass ends holding all of them, with or without
  checkpoints: the peak memory is the gradients'.
* ``deep_x`` / ``remat_x``: the same pass with the weights held fixed (the gradient with
  respect to the input only): the peak is the activations', which is what checkpointing trades
  for time.

The ``remat`` workers also compute the gradients both ways in their own process and report the
largest relative difference (``grad_rel_diff``). ``python benchmarks/checkpoint.py`` runs the four
workloads for chainrule, PyTorch and the NumPy floor and prints the ratios
(``--quick``: one short round).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

SEGMENTS = 8
# workload -> (checkpointed, differentiate the weights too)
WORKLOADS = {
    "deep": (False, True), "remat": (True, True), "deep_x": (False, False),
    "remat_x": (True, False),
}
DESCRIPTIONS = {
    "deep": "64-layer tanh MLP, width 512, batch 128, float32, all gradients",
    "remat": f"the same, checkpoint_sequential(layers, {SEGMENTS}, x)",
    "deep_x": "the same MLP, gradient of the input only (weights fixed)",
    "remat_x": f"the same, checkpoint_sequential(layers, {SEGMENTS}, x)",
}
SIZES = {
    "full": {"depth": 64, "width": 512, "batch": 128},
    "quick": {"depth": 64, "width": 512, "batch": 128},
    "tiny": {"depth": 16, "width": 6, "batch": 4},
}


def make_data(size: str = "full") -> dict[str, Any]:
    """The input and the layers' weights (scaled by 1/sqrt(width)) and biases, seeded."""
    depth, width, batch = (SIZES[size][k] for k in ("depth", "width", "batch"))
    rng = np.random.default_rng(0)
    return {
        "x": rng.standard_normal((batch, width)).astype(np.float32),
        "ws": [(rng.standard_normal((width, width)) / np.sqrt(width)).astype(np.float32)
               for _ in range(depth)],
        "bs": [(0.1 * rng.standard_normal(width)).astype(np.float32) for _ in range(depth)],
    }


def _model(torch: Any, checkpoint_sequential: Any, data: dict, checkpointed: bool,
           params: bool) -> Callable:
    """The step in PyTorch's spelling, for ``torch`` PyTorch itself or chainrule.torch:
    ``loss.backward()``, the gradients as NumPy arrays, ``.grad`` cleared (so that the next step
    starts without gradients: its peak memory counts the ones it makes)."""
    x = torch.tensor(data["x"], requires_grad=True)
    weights = [torch.tensor(w, requires_grad=params) for w in data["ws"]]
    biases = [torch.tensor(b, requires_grad=params) for b in data["bs"]]
    layers = [lambda h, w=w, b=b: torch.tanh(h @ w + b) for w, b in zip(weights, biases)]
    leaves = [x] + [p for pair in zip(weights, biases) for p in pair] * params

    def step() -> tuple:
        if checkpointed:
            y = checkpoint_sequential(layers, SEGMENTS, x, use_reentrant=False)
        else:
            y = x
            for layer in layers:
                y = layer(y)
        y.sum().backward()
        grads = tuple(leaf.grad.numpy() for leaf in leaves)
        for leaf in leaves:
            leaf.grad = None
        return grads

    return step


def _numpy(data: dict, params: bool) -> Callable:
    """The floor: the same gradients by hand."""
    x, weights, biases = data["x"], data["ws"], data["bs"]

    def step() -> tuple:
        outputs = [x]
        for w, b in zip(weights, biases):
            outputs.append(np.tanh(outputs[-1] @ w + b))
        g = np.ones_like(outputs[-1])
        grads = []
        for w, h, y in zip(weights[::-1], outputs[-2::-1], outputs[:0:-1]):
            g = g * (1 - y * y)
            grads += [g.sum(axis=0), h.T @ g] if params else []
            g = g @ w.T
        return (g, *grads[::-1])

    return step


def step(framework: str, workload: str, data: dict) -> Callable:
    """The step of ``workload`` in ``framework`` (chainrule, torch or numpy)."""
    checkpointed, params = WORKLOADS[workload]
    if framework == "numpy":
        return _numpy(data, params)
    if framework == "torch":
        import torch
        from torch.utils.checkpoint import checkpoint_sequential

        return _model(torch, checkpoint_sequential, data, checkpointed, params)
    if framework == "chainrule":
        import chainrule.torch as torch
        from chainrule.torch.utils.checkpoint import checkpoint_sequential

        return _model(torch, checkpoint_sequential, data, checkpointed, params)
    raise LookupError(f"no checkpoint workload for {framework}")


def agreement(framework: str, workload: str, data: dict) -> float:
    """The largest relative difference between the gradients with and without checkpoints."""
    params = WORKLOADS[workload][1]
    plain = step(framework, "deep" if params else "deep_x", data)()
    checkpointed = step(framework, "remat" if params else "remat_x", data)()
    return max(
        float(np.max(np.abs(a - b)) / max(np.max(np.abs(a)), 1e-30))
        for a, b in zip(plain, checkpointed, strict=True)
    )


def summary(report: dict) -> str:
    """Checkpointed over plain, per framework: peak memory, time (wall clock and CPU: the
    steadier one on a busy machine), gradient agreement."""
    rows = {(r["workload"], r["framework"]): r for r in report["results"]}
    lines = ["| framework | gradients of | peak MiB plain → checkpointed | memory × | time × "
             "| CPU time × | max relative gradient difference |",
             "| --- | --- | ---: | ---: | ---: | ---: | ---: |"]
    for plain, checkpointed, what in (("deep", "remat", "all"), ("deep_x", "remat_x", "input")):
        for framework in ("chainrule", "torch"):
            a, b = rows.get((plain, framework)), rows.get((checkpointed, framework))
            if not a or not b or a["status"] != "ok" or b["status"] != "ok":
                continue
            memory = (f"{a['peak_rss_mib']:.1f} → {b['peak_rss_mib']:.1f} | "
                      f"{b['peak_rss_mib'] / a['peak_rss_mib']:.2f}"
                      if a.get("peak_rss_mib") and b.get("peak_rss_mib") else "— | —")
            diff = b.get("grad_rel_diff")
            lines.append(
                f"| {framework} | {what} | {memory} | {b['median_ms'] / a['median_ms']:.2f} | "
                f"{b['cpu_median_ms'] / a['cpu_median_ms']:.2f} | "
                f"{'—' if diff is None else f'{diff:.1e}'} |"
            )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    from benchmarks import run

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--rounds", type=int, default=None)
    args = parser.parse_args(argv)
    rest = ["--workloads", *WORKLOADS, "--frameworks", "chainrule", "torch", "numpy"]
    rest += ["--quick"] if args.quick else []
    rest += ["--rounds", str(args.rounds)] if args.rounds else []
    return run.main(rest)


if __name__ == "__main__":
    sys.exit(main())
