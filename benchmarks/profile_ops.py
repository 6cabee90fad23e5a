"""Where chainrule's time goes per op: a phase breakdown and a cProfile of one workload.

    .venv-bench/bin/python benchmarks/profile_ops.py chain
    .venv-bench/bin/python benchmarks/profile_ops.py mlp --top 30
    .venv-bench/bin/python benchmarks/profile_ops.py chain --pyinstrument

The phase breakdown times each phase (best CPU time of this thread over interleaved rounds, no
profiler attached; NumPy's BLAS is pinned to one thread so that thread time is all the time):

* ``numpy``: the same forward on raw arrays (what the NumPy calls themselves cost);
* ``no_grad``: chainrule's forward under ``cr.no_grad()`` (dispatch and Tensor creation);
* ``record``: chainrule's forward recording the graph (adds the nodes and what they save);
* ``step``: forward and backward, as the benchmark runs it; ``backward`` is step - record;
* the time the cyclic garbage collector runs during a step (``gc.callbacks``).

Per-op figures divide by the number of recorded nodes. The cProfile part then names the
functions (file:function) that hold the time; its absolute numbers carry the profiler's own
overhead, so read its shares, not its microseconds.
"""

from __future__ import annotations

import argparse
import cProfile
import gc
import io
import os
import pstats
import sys
import time
from collections.abc import Callable
from pathlib import Path

# one BLAS thread, so this thread's CPU time is the whole cost (set before NumPy loads)
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
os.environ.setdefault("OMP_NUM_THREADS", "1")

ROOT = Path(__file__).resolve().parent.parent
if sys.path and Path(sys.path[0]).resolve() == ROOT / "benchmarks":
    sys.path[0] = str(ROOT)

import numpy as np  # noqa: E402

import chainrule as cr  # noqa: E402
from benchmarks import data, impl_chainrule, impl_numpy  # noqa: E402


def _interleaved_best(fns: list[Callable], rounds: int = 30, calls: int = 5) -> list[float]:
    """The best CPU time per call of each function, measured in interleaved rounds.

    On a shared machine the load changes from second to second; interleaving gives every
    phase the same conditions, and the minimum (of deterministic CPU-bound code) is the
    estimate of its own cost least disturbed by others.
    """
    for fn in fns:
        fn()
    best = [float("inf")] * len(fns)
    for _ in range(rounds):
        for index, fn in enumerate(fns):
            for _ in range(calls):
                t0 = time.thread_time()
                fn()
                best[index] = min(best[index], time.thread_time() - t0)
    return best


def _gc_time(fn: Callable, calls: int = 20) -> float:
    """Mean time per call spent in the cyclic garbage collector."""
    spent = [0.0, 0.0]

    def callback(phase: str, info: dict) -> None:
        if phase == "start":
            spent[1] = time.thread_time()
        else:
            spent[0] += time.thread_time() - spent[1]

    fn()
    gc.callbacks.append(callback)
    try:
        for _ in range(calls):
            fn()
    finally:
        gc.callbacks.remove(callback)
    return spent[0] / calls


def _forwards(workload: str, inputs: dict) -> tuple[Callable, Callable, Callable]:
    """(raw NumPy forward, chainrule forward) for the phase breakdown."""
    if workload == "chain":
        ops = inputs["ops"]
        x_raw = inputs["x"]
        x = cr.tensor(x_raw, requires_grad=True)

        def raw() -> object:
            y = x_raw
            for i in range(ops):
                y = np.multiply(y, 1.01) if i % 2 == 0 else np.sin(y)
            return y

        def forward() -> object:
            y = x
            for i in range(ops):
                y = y * 1.01 if i % 2 == 0 else cr.sin(y)
            return y

        return raw, forward, x
    if workload == "mlp":
        names = ("w1", "b1", "w2", "b2")
        raw_params = [inputs[name] for name in names]
        params = [cr.tensor(p, requires_grad=True) for p in raw_params]
        x_raw, onehot_raw = inputs["x"], inputs["onehot"]
        x, onehot = cr.tensor(x_raw), cr.tensor(onehot_raw)
        batch = x_raw.shape[0]

        def loss(x, onehot, w1, b1, w2, b2, lib):
            h = lib.tanh(x @ w1 + b1)
            z = h @ w2 + b2
            s = z - lib.max(z, axis=1, keepdims=True)
            logp = s - lib.log(lib.sum(lib.exp(s), axis=1, keepdims=True))
            return -lib.sum(onehot * logp) / batch

        def raw() -> object:
            return loss(x_raw, onehot_raw, *raw_params, np)

        def forward() -> object:
            return loss(x, onehot, *params, cr)

        return raw, forward, params[0]
    raise SystemExit(f"phase breakdown is written for chain and mlp, not {workload}")


def _count_nodes(root: cr.Tensor) -> int:
    seen = set()
    stack = [root.grad_fn]
    while stack:
        node = stack.pop()
        if node is None or not isinstance(node, cr.Node) or id(node) in seen:
            continue
        seen.add(id(node))
        stack.extend(node.parents)
    return len(seen)


def phases(workload: str, size: str) -> None:
    inputs = data.make(workload, size)
    raw, forward, _ = _forwards(workload, inputs)
    step = getattr(impl_chainrule, workload)(inputs)
    nodes = _count_nodes(forward())

    def nograd() -> object:
        with cr.no_grad():
            return forward()

    floors = [getattr(impl_numpy, workload)(data.make(workload, size))]
    if workload == "mlp":  # the floor uses softmax - onehot; this one follows the written graph
        floors.append(impl_numpy.mlp_written(data.make(workload, size)))
    t_raw, t_nograd, t_record, t_step, t_floor, *t_written = _interleaved_best(
        [raw, nograd, forward, step, *floors]
    )
    t_gc = _gc_time(step)
    rows = [
        ("numpy forward (raw arrays)", t_raw),
        ("chainrule forward, no_grad", t_nograd),
        ("chainrule forward, recording", t_record),
        ("chainrule forward + backward", t_step),
        ("hand-written NumPy forward + backward (the floor)", t_floor),
    ]
    if t_written:
        rows.append(("hand-written NumPy, backward of the written graph", t_written[0]))
    print(f"{workload} ({size}): {nodes} recorded nodes per step\n")
    print("| phase | best CPU time per step (µs) | per node (µs) |")
    print("| --- | ---: | ---: |")
    for name, value in rows:
        print(f"| {name} | {value * 1e6:.1f} | {value * 1e6 / nodes:.2f} |")
    print()
    print("| cost | per node (µs) | share of step |")
    print("| --- | ---: | ---: |")
    parts = [
        ("NumPy compute, forward", t_raw),
        ("dispatch + Tensor creation (no_grad - numpy)", t_nograd - t_raw),
        ("recording: _record + Node (record - no_grad)", t_record - t_nograd),
        ("backward (step - record)", t_step - t_record),
        ("of which in the cyclic GC (whole step)", t_gc),
    ]
    for name, value in parts:
        print(f"| {name} | {value * 1e6 / nodes:.2f} | {value / t_step:.0%} |")
    print()


def profile(workload: str, size: str, top: int, seconds: float, use_pyinstrument: bool) -> None:
    step = getattr(impl_chainrule, workload)(data.make(workload, size))
    step()
    if use_pyinstrument:
        from pyinstrument import Profiler

        profiler = Profiler(interval=0.0002)
        profiler.start()
        start = time.perf_counter()
        while time.perf_counter() - start < seconds:
            step()
        profiler.stop()
        print(profiler.output_text(unicode=True, color=False, show_all=False))
        return
    profiler = cProfile.Profile()
    calls = 0
    start = time.perf_counter()
    profiler.enable()
    while time.perf_counter() - start < seconds:
        step()
        calls += 1
    profiler.disable()
    stream = io.StringIO()
    stats = pstats.Stats(profiler, stream=stream)
    stats.strip_dirs().sort_stats("tottime").print_stats(top)
    total = sum(entry[2] for entry in stats.stats.values())  # total internal time
    print(f"cProfile over {calls} steps; share = tottime / all tottime ({total:.3f} s)\n")
    print("| function | calls/step | tottime share | cumtime share |")
    print("| --- | ---: | ---: | ---: |")
    ranked = sorted(stats.stats.items(), key=lambda item: item[1][2], reverse=True)[:top]
    for (filename, line, name), (_cc, ncalls, tottime, cumtime, _) in ranked:
        where = f"{Path(filename).name}:{line}:{name}" if line else name
        print(
            f"| `{where}` | {ncalls / calls:.0f} | {tottime / total:.1%} | "
            f"{cumtime / total:.1%} |"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("workload", choices=data.WORKLOADS)
    parser.add_argument("--size", default="full", choices=("full", "quick", "tiny"))
    parser.add_argument("--top", type=int, default=25)
    parser.add_argument("--seconds", type=float, default=3.0)
    parser.add_argument("--pyinstrument", action="store_true")
    parser.add_argument("--no-phases", action="store_true")
    args = parser.parse_args()
    if not args.no_phases and args.workload in ("chain", "mlp"):
        phases(args.workload, args.size)
    profile(args.workload, args.size, args.top, args.seconds, args.pyinstrument)


if __name__ == "__main__":
    main()
