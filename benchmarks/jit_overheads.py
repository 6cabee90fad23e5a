"""What ``cr.jit`` costs beyond a replay's arithmetic, and where it stands against its targets.

``make bench`` runs this after ``run.py``; it prints a Markdown report and writes it into
``benchmarks/results/jit-*.json``. Every measurement runs in a fresh process of its own:

* ``dispatch``: the replay of a one-op function (``cr.jit(lambda x: x + 1)``) minus the same
  NumPy op called directly, on a 0-d and on a 4-element float64 array: what the signature, the
  cache lookup and the guards cost per call (target: under 5 µs).
* ``first``: per workload (medians over ``FRESH_STEPS`` fresh jitted steps), the first
  (tracing) call against one eager chainrule step (target:
  at most 10 x), the calls made before the first replay, and the call after them, which
  builds the program (the passes and the compile) and replays it. The first trace of a process
  also pays costs of the process's first trace, whatever the function (``cold_ms``); the
  trace of a second, fresh jitted step of the same workload does not (``first_ms``).
* ``mlp``: both spellings of ``impl_chainrule_jit`` (JAX's ``jit(grad)`` and PyTorch's
  ``backward()`` with ``zero_()``), so that the table's choice is a measured one.
* ``references``: the same workloads under ``jax.jit(jax.grad)`` and under ``torch.compile``
  (of the eager PyTorch step), where they can run here; otherwise ``unavailable: reason``.
  Neither is a dependency of chainrule: jax is looked for on the path (``--jax-path`` adds a
  folder), torch.compile needs a working C++ compiler at run time.

``summary(report)`` is the table run.py prints under its own: the jitted step against the
targets of the jit (ratios to PyTorch eager and to the NumPy floor, first call to eager).

    python benchmarks/jit_overheads.py [--size full] [--jax-path DIR] [--skip-references]
"""

from __future__ import annotations

import argparse
import datetime
import json
import statistics
import subprocess
import sys
import time
import timeit
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

WORKLOADS = ("chain", "mlp", "wide", "hess", "seed")

# workload: (bound, over what) for the jitted step's median, as the jit's issue sets them
TARGETS = {
    "chain": ((0.1, "torch"), (3.0, "numpy")),
    "mlp": ((1.0, "numpy"),),
    "wide": ((0.8, "torch"),),
    "hess": ((0.2, "torch"),),  # torch: torch.func.hessian (impl_torch.hess)
    "seed": ((0.3, "torch"),),
}
FIRST_CALL_TARGET = 10.0  # first (tracing) call over one eager step
DISPATCH_TARGET_US = 5.0


def summary(report: dict) -> str:
    """The jitted step of each workload in ``report`` (run.py's) against its targets. (The
    first call against an eager step is this module's ``first`` table: run.py's first calls
    are each process's first, which also pay the process's first imports and uses.)"""
    rows = {(r["workload"], r["framework"]): r for r in report["results"]}
    lines = ["| workload | jit (ms) | target | ratio | met |",
             "| --- | ---: | --- | ---: | --- |"]
    for workload, targets in TARGETS.items():
        jit = rows.get((workload, "chainrule_jit"))
        if not jit:
            continue
        if jit["status"] != "ok":
            lines.append(f"| {workload} | {jit['status']} | | | |")
            continue
        for bound, over in targets:
            other = rows.get((workload, over), {})
            if other.get("median_ms"):
                ratio = jit["median_ms"] / other["median_ms"]
                shown, met = f"{ratio:.2f}", "yes" if ratio <= bound else "**no**"
            else:
                shown, met = "—", "—"
            lines.append(f"| {workload} | {jit['median_ms']:.3f} | ≤ {bound} × {over} | "
                         f"{shown} | {met} |")
    return "\n".join(lines)


# ---------------------------------------------------------------------------- measurements
def _median_us(call: Any, number: int, repeat: int = 7) -> float:
    return statistics.median(timeit.repeat(call, number=number, repeat=repeat)) / number * 1e6


def dispatch() -> dict:
    """Replay of a one-op jitted function minus the raw NumPy op (µs per call)."""
    import numpy as np

    import chainrule as cr
    from benchmarks.impl_chainrule_jit import replay_state

    out = {}
    for name, x in (("0-d", np.array(1.0)), ("4", np.ones(4))):
        add_one = cr.jit(lambda x: x + 1)
        for _ in range(3):
            add_one(x)
        state = replay_state(add_one)
        replay = _median_us(lambda add_one=add_one, x=x: add_one(x), 20000)
        if replay_state(add_one) != state:
            raise RuntimeError("the one-op function traced again while timed")
        raw = _median_us(lambda x=x: x + 1, 20000)
        out[name] = {"replay_us": replay, "numpy_us": raw, "overhead_us": replay - raw,
                     "met": replay - raw < DISPATCH_TARGET_US}
    return out


FRESH_STEPS = 5  # fresh jitted steps whose first calls are timed (medians reported)


def first(workload: str, size: str) -> dict:
    """The first call of the jitted step (a trace), the calls until one replays, and the call
    that builds the program, against the median of eager chainrule steps (warmed, in the same
    process: the library's own first-use costs are not the trace's). Medians over
    ``FRESH_STEPS`` fresh jitted steps: one first call is a single, noisy, measurement."""
    from benchmarks import impl_chainrule, impl_chainrule_jit
    from benchmarks.data import make

    eager = getattr(impl_chainrule, workload)(make(workload, size))
    for _ in range(3):
        eager()
    eager_ms = statistics.median(timeit.repeat(eager, number=1, repeat=15)) * 1e3
    out: dict[str, Any] = {"eager_ms": eager_ms}
    cold = getattr(impl_chainrule_jit, workload)(make(workload, size))
    t0 = time.perf_counter()
    cold()
    out["cold_ms"] = (time.perf_counter() - t0) * 1e3
    spellings = impl_chainrule_jit.MLP_SPELLINGS if workload == "mlp" else {"": None}
    for spelling, build in spellings.items():
        key = f"{workload}_{spelling}" if spelling else workload
        try:
            runs = [_first_calls(build or getattr(impl_chainrule_jit, workload),
                                 make(workload, size)) for _ in range(FRESH_STEPS)]
        except Exception as error:  # noqa: BLE001 (reported: a failure of the jit is a result)
            out[key] = {"status": "error", "message": f"{type(error).__name__}: {error}"}
            continue
        first_ms, build_ms, replay_ms = (statistics.median(run[i] for run in runs)
                                         for i in range(3))
        out[key] = {"status": "ok", "first_ms": first_ms, "calls_to_replay": runs[0][3],
                    "first_over_eager": first_ms / eager_ms,
                    "met": first_ms / eager_ms <= FIRST_CALL_TARGET, "replay_ms": replay_ms,
                    "build_ms": build_ms, "build_over_eager": build_ms / eager_ms}
    return out


def _first_calls(make_step: Any, data: dict) -> tuple:
    """(first call, building call, replay median, calls before a program) of a fresh step."""
    from benchmarks import impl_chainrule_jit

    step = make_step(data)
    t0 = time.perf_counter()
    step()
    first_ms = (time.perf_counter() - t0) * 1e3
    calls = 1
    while True:
        try:
            state = impl_chainrule_jit.replay_state(step.jitted)
            break
        except RuntimeError:
            if calls >= 5:
                raise
            step()
            calls += 1
    t0 = time.perf_counter()
    step()  # (the call after the trace builds its program, then replays it)
    build_ms = (time.perf_counter() - t0) * 1e3
    step.check_replays()
    replay_ms = statistics.median(timeit.repeat(step, number=1, repeat=15)) * 1e3
    if impl_chainrule_jit.replay_state(step.jitted) != state:
        raise RuntimeError("traced again while timed")
    return first_ms, build_ms, replay_ms, calls


def jax_reference(workload: str, size: str) -> dict:
    """``jax.jit(jax.grad(loss))`` of the workload (hess: ``jax.jit(jax.hessian(f))``), on
    the CPU, 64-bit where the workload is."""
    try:
        import jax
        import jax.numpy as jnp
    except ImportError as error:
        return {"status": "unavailable", "message": f"jax: {error}"}
    jax.config.update("jax_enable_x64", True)
    from benchmarks.data import make

    data = make(workload, size)
    if workload == "chain":
        ops = data["ops"]

        def loss(y):
            for i in range(ops):
                y = y * 1.01 if i % 2 == 0 else jnp.sin(y)
            return y

        fun, args = jax.jit(jax.grad(loss)), (data["x"],)
    elif workload == "mlp":
        batch = data["x"].shape[0]

        def loss(w1, b1, w2, b2, x, onehot):
            h = jnp.tanh(x @ w1 + b1)
            z = h @ w2 + b2
            s = z - jnp.max(z, axis=1, keepdims=True)
            logp = s - jnp.log(jnp.sum(jnp.exp(s), axis=1, keepdims=True))
            return -jnp.sum(onehot * logp) / batch

        fun = jax.jit(jax.grad(loss, argnums=(0, 1, 2, 3)))
        args = tuple(data[k] for k in ("w1", "b1", "w2", "b2", "x", "onehot"))
    elif workload == "wide":
        rounds = data["rounds"]

        def loss(y):
            for _ in range(rounds):
                y = jnp.sin(y) * 1.01
            return jnp.sum(y)

        fun, args = jax.jit(jax.grad(loss)), (data["x"],)
    elif workload == "hess":
        a = jnp.asarray(data["a"])
        fun, args = jax.jit(jax.hessian(lambda x: jnp.sum(jnp.tanh(a @ x)))), (data["x"],)
    else:  # seed: a while loop on values does not trace under jax.jit
        return {"status": "unavailable",
                "message": "jax.jit refuses Python control flow on traced values"}
    return _time_reference(lambda: jax.block_until_ready(fun(*args)))


def torch_compile_reference(workload: str, size: str) -> dict:
    """``torch.compile`` of the eager PyTorch step (its ``backward()`` inside)."""
    import torch

    from benchmarks import impl_torch
    from benchmarks.data import make

    return _time_reference(torch.compile(getattr(impl_torch, workload)(make(workload, size))))


def _time_reference(step: Any) -> dict:
    t0 = time.perf_counter()
    step()
    first_ms = (time.perf_counter() - t0) * 1e3
    for _ in range(3):
        step()
    median_ms = statistics.median(timeit.repeat(step, number=1, repeat=30)) * 1e3
    return {"status": "ok", "median_ms": median_ms, "first_ms": first_ms}


MEASURES = {"first": first, "jax": jax_reference, "torch_compile": torch_compile_reference}


# ---------------------------------------------------------------------------- driver
def _spawn(what: list[str], timeout: float, path: str | None = None) -> dict:
    """One measurement in a fresh process; a failure or a time-out is its result."""
    from benchmarks.run import _worker_env

    env = _worker_env()
    if path:
        env["PYTHONPATH"] = path + ":" + env.get("PYTHONPATH", "")
    command = [sys.executable, str(Path(__file__).resolve()), "--worker", *what]
    try:
        proc = subprocess.run(command, capture_output=True, text=True, env=env, cwd=ROOT,
                              timeout=timeout)
    except subprocess.TimeoutExpired:
        return {"status": "unavailable", "message": f"did not finish in {timeout:.0f} s"}
    if proc.returncode != 0:
        tail = (proc.stderr or proc.stdout).strip().splitlines()[-1:]
        return {"status": "unavailable", "message": " | ".join(tail)}
    return json.loads(proc.stdout.strip().splitlines()[-1])


def torch_compile_smoke() -> str | None:
    """Why torch.compile cannot run here (None: it can), from compiling ``x * 2 + 1``."""
    code = ("import torch; f = torch.compile(lambda x: x * 2 + 1); "
            "assert float(f(torch.ones(3))[0]) == 3.0")
    try:
        proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                              timeout=120)
    except subprocess.TimeoutExpired:
        return "a one-op torch.compile did not finish in 120 s"
    if proc.returncode:
        return (proc.stderr.strip().splitlines() or ["failed"])[-1]
    return None


def measure_all(size: str, jax_path: str | None, references: bool) -> dict:
    report: dict[str, Any] = {
        "date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "size": size,
        "dispatch": _spawn(["dispatch", "", size], 300),
        "first": {w: _spawn(["first", w, size], 600) for w in WORKLOADS},
    }
    if references:
        report["jax"] = {w: _spawn(["jax", w, size], 180, jax_path) for w in WORKLOADS}
        reason = torch_compile_smoke()
        report["torch_compile"] = {
            w: ({"status": "unavailable", "message": reason} if reason
                else _spawn(["torch_compile", w, size], 180))
            for w in WORKLOADS
        }
    return report


def markdown(report: dict) -> str:
    lines = ["| dispatch of a 1-op replay | replay (µs) | NumPy op (µs) | overhead (µs) |",
             "| --- | ---: | ---: | ---: |"]
    for name, row in report["dispatch"].items():
        if isinstance(row, dict) and "replay_us" in row:
            lines.append(f"| {name} float64 | {row['replay_us']:.2f} | {row['numpy_us']:.2f} | "
                         f"{row['overhead_us']:.2f} (target < {DISPATCH_TARGET_US}) |")
        elif name == "message":
            lines.append(f"| failed: {row} | | | |")
    lines += ["", "| workload | eager step (ms) | process's first trace (ms) | first call (ms) "
              "| × eager | calls to replay | building call (ms) | × eager | replay (ms) "
              "| jax.jit (ms) | torch.compile (ms) |",
              "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- | --- |"]
    for workload, row in report["first"].items():
        refs = []
        for name in ("jax", "torch_compile"):
            ref = report.get(name, {}).get(workload, {"status": "not run"})
            refs.append(f"{ref['median_ms']:.3f} (first {ref['first_ms']:.0f})"
                        if ref["status"] == "ok"
                        else f"{ref['status']}: {ref.get('message', '')[:70]}")
        if "status" in row:  # the measuring process itself failed
            lines.append(f"| {workload} | {row['status']}: {row.get('message', '')[:90]} |"
                         f" | | | | | | | {refs[0]} | {refs[1]} |")
        for key, item in row.items():
            if not isinstance(item, dict):
                continue
            if item["status"] != "ok":
                lines.append(f"| {key} | {row.get('eager_ms', 0):.3f} | | error: "
                             f"{item['message'][:90]} | | | | | | {refs[0]} | {refs[1]} |")
                continue
            lines.append(
                f"| {key} | {row['eager_ms']:.3f} | {row['cold_ms']:.1f} | "
                f"{item['first_ms']:.2f} | "
                f"{item['first_over_eager']:.1f} | {item['calls_to_replay']} | "
                f"{item['build_ms']:.2f} | {item['build_over_eager']:.1f} | "
                f"{item['replay_ms']:.3f} | {refs[0]} | {refs[1]} |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", default="full", choices=("full", "quick", "tiny"))
    parser.add_argument("--jax-path", default=None, help="a folder where jax is installed")
    parser.add_argument("--skip-references", action="store_true",
                        help="no jax.jit or torch.compile")
    parser.add_argument("--worker", nargs=3, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker:
        what, workload, size = args.worker
        out = dispatch() if what == "dispatch" else MEASURES[what](workload, size)
        print(json.dumps(out))
        return 0
    report = measure_all(args.size, args.jax_path, not args.skip_references)
    print(markdown(report))
    results = ROOT / "benchmarks" / "results"
    results.mkdir(parents=True, exist_ok=True)
    path = results / f"jit-{args.size}-{report['date'].replace(':', '')}.json"
    path.write_text(json.dumps(report, indent=1))
    print(f"\nsaved {path.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
