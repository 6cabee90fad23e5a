"""Run the workloads side by side: chainrule, chainrule under ``cr.jit`` (``chainrule_jit``),
PyTorch, HIPS autograd, HIPS autograd's spelling run by ``chainrule.autograd``
(``hips_dialect``) and hand-written NumPy.

    make bench                          # full run, the README's table
    make bench BENCH_ARGS=--quick       # smoke run: smaller sizes, one round
    python benchmarks/run.py --workloads chain mlp --frameworks chainrule torch --rounds 3

How it measures (the machine is shared and noisy, so every number is a median):

* Each (workload, framework) pair runs in a fresh process, and the pairs run in an order that
  rotates from round to round, so that a slow spell of the machine hits every framework alike.
* In its process a workload is set up (inputs made by ``data.py``, identical for everyone),
  warmed up, then called repeatedly for a time budget; one call is one forward and backward
  pass. The reported time is the median over all calls of all rounds (wall clock); the range
  of the per-round medians shows the noise. The CPU time of the process per call (all its
  threads, from ``time.process_time``) is reported beside it: on a busy machine it is the
  steadier figure, though it charges a framework for its threads' spinning.
* Peak memory is measured the same way for every framework: after the timing calls the
  process collects garbage, hands freed heap back to the OS (``malloc_trim``), reads its
  resident set size, resets the kernel's high-water mark (``/proc/self/clear_refs``), runs one
  more call and reads the high-water mark (``VmHWM``). The difference is the extra resident
  memory one forward and backward pass needs, inputs excluded, results (the gradients)
  included. For the NumPy-based frameworks (not PyTorch, whose allocator NumPy's tracemalloc
  hooks do not see) the JSON also holds tracemalloc's peak of one call.
* The first call of a step is timed apart (``first_ms``): for ``chainrule_jit`` it is the
  trace, which the table's notes compare with one eager chainrule step. Its timed calls must be
  replays of the trace: its steps carry ``check_replays``, called after the warm-up and after
  the timed calls, which fails the worker if the function ran eagerly or traced again.
  ``benchmarks/jit_overheads.py``, run after the table when ``chainrule_jit`` is among the
  frameworks (``--no-jit-overheads``: not), measures the rest of the jit's costs: the first
  call against a warm eager step, a replay's dispatch, and jax.jit and torch.compile of the
  same workloads as reference points (not with ``--quick``); its results go into the JSON
  under ``jit``.
* Gradients are checked against the hand-written NumPy version; a mismatch is flagged in the
  table, because a fast wrong answer is not a result.
* ``OPENBLAS_CORETYPE``/``OPENBLAS_L2_SIZE`` (set on some machines of this workplace for old
  OpenBLAS builds) are removed from the workers' environment only.

The checkpointing workloads (``deep``, ``remat``, ``deep_x``, ``remat_x``) come from
``benchmarks/checkpoint.py``, for chainrule, PyTorch and the NumPy floor (``n/a`` for the
others); after the table, their ratios (checkpointed over plain) are printed.

``mlp_gpu`` (``benchmarks/gpu.py``) is ``mlp`` on a CUDA GPU: chainrule on CuPy arrays, PyTorch
on ``cuda``, the floor on CuPy; it runs where CuPy and a CUDA device are present and is skipped
with a one-line note elsewhere. ``big`` (``benchmarks/big.py``) is the gradient of a logistic
loss over 8 GB of data on a Dask cluster of its own, chainrule against the same gradient by hand
in ``dask.array``; it runs in one process of its own (its rounds inside it) where Dask and
distributed are installed, and its results go into the same JSON file, under ``big``.

A framework that is not installed is reported as ``missing``.
"""

from __future__ import annotations

import argparse
import ctypes
import datetime
import gc
import json
import os
import platform
import statistics
import subprocess
import sys
import time
import tracemalloc
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
# Run as a script, Python puts benchmarks/ first on the path; the package root is wanted.
if sys.path and Path(sys.path[0]).resolve() == ROOT / "benchmarks":
    sys.path[0] = str(ROOT)
elif str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from benchmarks import big, checkpoint, gpu, jit_overheads  # noqa: E402
from benchmarks.data import DESCRIPTIONS, WORKLOADS, make  # noqa: E402

# the workloads of this file's own modules, which run in the same harness (``big`` runs apart)
ALL_WORKLOADS = WORKLOADS + tuple(checkpoint.WORKLOADS) + tuple(gpu.WORKLOADS) + (big.NAME,)
ALL_DESCRIPTIONS = {
    **DESCRIPTIONS, **checkpoint.DESCRIPTIONS, **gpu.DESCRIPTIONS, big.NAME: big.DESCRIPTION,
}

FRAMEWORKS = ("chainrule", "chainrule_jit", "torch", "autograd", "hips_dialect", "numpy")
REFERENCE = "torch"
FLOOR = "numpy"
RESULTS = ROOT / "benchmarks" / "results"


# ---------------------------------------------------------------------------- worker side
def _status_kib(field: str) -> int | None:
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith(field + ":"):
                    return int(line.split()[1])
    except OSError:
        pass
    return None


def _trim() -> None:
    gc.collect()
    try:
        ctypes.CDLL("libc.so.6").malloc_trim(0)
    except (OSError, AttributeError):
        pass


def _peak_rss_delta(step: Any) -> float | None:
    """Extra resident memory (MiB) of one call, by resetting and reading the high-water mark."""
    _trim()
    before = _status_kib("VmRSS")
    try:
        with open("/proc/self/clear_refs", "w") as refs:
            refs.write("5")  # reset VmHWM to the current RSS
    except OSError:
        return None
    result = step()
    peak = _status_kib("VmHWM")
    del result
    if before is None or peak is None:
        return None
    return max(peak - before, 0) / 1024


def _tracemalloc_peak(step: Any) -> float:
    _trim()
    tracemalloc.start()
    try:
        result = step()
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    del result
    return peak / 2**20


def _fingerprint(grads: tuple) -> list:
    import numpy as np

    prints = []
    for grad in grads:
        array = np.asarray(gpu.to_host(grad), dtype=np.float64)
        prints.append(
            {
                "shape": list(array.shape),
                "sum": float(array.sum()),
                "abs": float(np.abs(array).sum()),
                "head": [float(v) for v in array.ravel()[:4]],
            }
        )
    return prints


def worker(framework: str, workload: str, size: str, budget: float, memory: bool) -> dict:
    """Time one workload in this process and return what was measured."""
    try:
        step, result = _setup(framework, workload, size)
    except ImportError as error:
        return {"status": "missing", "message": str(error)}
    except LookupError as error:  # a workload not written for this framework
        return {"status": "n/a", "message": str(error)}
    t0 = time.perf_counter()
    grads = step()
    first = time.perf_counter() - t0
    result.update(status="ok", grads=_fingerprint(grads), first_ms=first * 1e3)
    del grads
    # warm up: at least 2 calls and 10% of the budget
    start = time.perf_counter()
    calls = 0
    while calls < 2 or time.perf_counter() - start < budget / 10:
        step()
        calls += 1
    check_replays = getattr(step, "check_replays", lambda: None)
    check_replays()
    times = []
    cpu_times = []
    start = time.perf_counter()
    while len(times) < 5 or (time.perf_counter() - start < budget and len(times) < 1000):
        c0 = time.process_time()
        t0 = time.perf_counter()
        step()
        times.append(time.perf_counter() - t0)
        cpu_times.append(time.process_time() - c0)
    check_replays()  # (raises if a timed call traced or ran eagerly)
    result["times"] = times
    result["cpu_times"] = cpu_times
    if memory and workload not in gpu.WORKLOADS:  # (the host's memory: not the device's)
        result["peak_rss_mib"] = _peak_rss_delta(step)
        if framework != "torch":
            result["tracemalloc_mib"] = _tracemalloc_peak(step)
    return result


def _setup(framework: str, workload: str, size: str) -> tuple[Any, dict]:
    """The step of ``workload`` in ``framework``, and what the worker reports besides its
    measurements (the checkpointed workloads: how far their gradients are from the plain
    ones')."""
    import importlib

    if workload in checkpoint.WORKLOADS:
        data = checkpoint.make_data(size)
        step = checkpoint.step(framework, workload, data)
        extra = {}
        if checkpoint.WORKLOADS[workload][0] and framework != "numpy":
            extra["grad_rel_diff"] = checkpoint.agreement(framework, workload, data)
        return step, extra
    if workload in gpu.WORKLOADS:
        return gpu.step(framework, workload, size), {}
    module = importlib.import_module(f"benchmarks.impl_{framework}")
    note = getattr(module, "NOTES", {}).get(workload)
    return getattr(module, workload)(make(workload, size)), ({"note": note} if note else {})


# ---------------------------------------------------------------------------- driver side
def _worker_env(threads: int | None = None) -> dict:
    env = dict(os.environ)
    if threads:
        # the same thread count for OpenBLAS (NumPy) and OpenMP (PyTorch's intra-op pool)
        for name in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
            env[name] = str(threads)
    # Benchmark the BLAS kernel numpy would pick by itself (see the module docstring).
    env.pop("OPENBLAS_CORETYPE", None)
    env.pop("OPENBLAS_L2_SIZE", None)
    return env


def _spawn(
    framework: str, workload: str, size: str, budget: float, memory: bool, threads: int | None
) -> dict:
    command = [
        sys.executable, str(Path(__file__).resolve()), "--worker", framework, workload,
        "--size", size, "--budget", str(budget),
    ]
    if not memory:
        command.append("--no-memory")
    proc = subprocess.run(
        command, capture_output=True, text=True, env=_worker_env(threads), cwd=ROOT, timeout=900
    )
    if proc.returncode != 0:
        tail = (proc.stderr or proc.stdout).strip().splitlines()[-3:]
        return {"status": "error", "message": " | ".join(tail)}
    return json.loads(proc.stdout.strip().splitlines()[-1])


def _matches(grads: list, reference: list, rtol: float = 2e-3) -> bool:
    if len(grads) != len(reference):
        return False
    for mine, theirs in zip(grads, reference, strict=True):
        if mine["shape"] != theirs["shape"]:
            return False
        scale = max(theirs["abs"], 1e-12)
        if abs(mine["sum"] - theirs["sum"]) > rtol * scale:
            return False
        if abs(mine["abs"] - theirs["abs"]) > rtol * scale:
            return False
    return True


def _versions() -> dict:
    from importlib.metadata import PackageNotFoundError, version

    versions = {"python": platform.python_version()}
    for name in ("chainrule", "numpy", "torch", "autograd", "dask", "distributed"):
        try:
            versions[name] = version(name)
        except PackageNotFoundError:
            versions[name] = "missing"
    return versions


def _commit() -> str:
    """The commit measured, with ``-dirty`` when the working tree has uncommitted changes."""
    try:
        proc = subprocess.run(
            ["git", "describe", "--always", "--dirty"], capture_output=True, text=True,
            cwd=ROOT, timeout=30,
        )
        return proc.stdout.strip() or "unknown"
    except (OSError, subprocess.SubprocessError):
        return "unknown"


def _machine() -> dict:
    cpu = platform.processor() or "unknown"
    try:
        with open("/proc/cpuinfo") as info:
            for line in info:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    blas = None
    try:
        import numpy  # noqa: F401  (loads the BLAS that threadpoolctl reports)
        from threadpoolctl import threadpool_info

        blas = [
            {k: pool.get(k) for k in ("internal_api", "architecture", "num_threads")}
            for pool in threadpool_info()
        ]
    except ImportError:
        pass
    return {"cpus": os.cpu_count(), "cpu": cpu, "system": platform.platform(), "blas": blas}


def run(args: argparse.Namespace) -> dict:
    size = "quick" if args.quick else args.size
    rounds = 1 if args.quick and args.rounds is None else (args.rounds or 5)
    budget = args.budget if args.budget is not None else (0.2 if args.quick else 1.0)
    samples: dict[tuple, dict] = {}
    workloads = [w for w in args.workloads if w != big.NAME]
    pairs = [(w, f) for w in workloads for f in args.frameworks]
    _skip_gpu(workloads, args.frameworks, samples)
    for round_index in range(rounds):
        for workload in workloads:
            # rotate the frameworks' order from round to round
            shift = round_index % len(args.frameworks)
            order = args.frameworks[shift:] + args.frameworks[:shift]
            for framework in order:
                entry = samples.setdefault((workload, framework), {"rounds": []})
                if entry.get("status") in ("missing", "error", "n/a", "skipped"):
                    continue
                memory = round_index == 0
                out = _spawn(framework, workload, size, budget, memory, args.threads)
                print(
                    f"  round {round_index + 1}/{rounds} {workload:6s} {framework:10s} "
                    + (
                        f"{statistics.median(out['times']) * 1e3:9.3f} ms"
                        if out["status"] == "ok" else out["status"]
                    ),
                    file=sys.stderr, flush=True,
                )
                if out["status"] != "ok":
                    entry.update(status=out["status"], message=out.get("message", ""))
                    continue
                entry["status"] = "ok"
                entry["rounds"].append(out["times"])
                entry.setdefault("cpu", []).extend(out["cpu_times"])
                entry.setdefault("grads", out["grads"])
                entry.setdefault("first", []).append(out["first_ms"])
                for key in ("peak_rss_mib", "tracemalloc_mib", "grad_rel_diff", "note"):
                    if key in out:
                        entry[key] = out[key]
    results = []
    for workload, framework in pairs:
        entry = samples[(workload, framework)]
        row: dict[str, Any] = {
            "workload": workload, "framework": framework, "status": entry.get("status"),
        }
        if entry.get("status") == "ok":
            everything = [t for times in entry["rounds"] for t in times]
            medians = [statistics.median(times) for times in entry["rounds"]]
            row.update(
                median_ms=statistics.median(everything) * 1e3,
                cpu_median_ms=statistics.median(entry["cpu"]) * 1e3,
                spread_ms=[min(medians) * 1e3, max(medians) * 1e3],
                calls=len(everything),
                peak_rss_mib=entry.get("peak_rss_mib"),
                tracemalloc_mib=entry.get("tracemalloc_mib"),
            )
            row["first_call_ms"] = statistics.median(entry["first"])
            for key in ("grad_rel_diff", "note"):
                if key in entry:
                    row[key] = entry[key]
            floor = samples.get((workload, FLOOR), {})
            if framework != FLOOR and floor.get("status") == "ok":
                row["grad_ok"] = _matches(entry["grads"], floor["grads"])
        else:
            row["message"] = entry.get("message", "")
        results.append(row)
    for row in results:
        ref = next(
            (r for r in results
             if r["workload"] == row["workload"] and r["framework"] == REFERENCE),
            None,
        )
        if row.get("median_ms") and ref and ref.get("median_ms"):
            row["vs_torch"] = row["median_ms"] / ref["median_ms"]
            row["cpu_vs_torch"] = row["cpu_median_ms"] / ref["cpu_median_ms"]
    report: dict[str, Any] = {
        "date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "commit": _commit(),
        "size": size,
        "rounds": rounds,
        "budget_s": budget,
        "threads": args.threads or "default",
        "machine": _machine(),
        "versions": _versions(),
        "results": results,
    }
    if big.NAME in args.workloads:
        report[big.NAME] = _run_big(size, args.rounds, args.threads)
    if "chainrule_jit" in args.frameworks and not args.no_jit_overheads:
        print("jit overheads (benchmarks/jit_overheads.py)...", file=sys.stderr, flush=True)
        report["jit"] = jit_overheads.measure_all(size, args.jax_path, not args.quick)
    return report


def _skip_gpu(workloads: list, frameworks: list, samples: dict) -> None:
    """Mark the GPU workloads skipped, with a one-line note, where no GPU can run them."""
    wanted = [w for w in workloads if w in gpu.WORKLOADS]
    reason = gpu.unavailable() if wanted else None
    if not reason:
        return
    print(f"{', '.join(wanted)}: skipped ({reason})", file=sys.stderr, flush=True)
    for workload in wanted:
        for framework in frameworks:
            samples[(workload, framework)] = {"status": "skipped", "message": reason}


def _run_big(size: str, rounds: int | None, threads: int | None) -> dict:
    """``benchmarks/big.py`` in a process of its own (it starts and closes its cluster); its
    progress goes to stderr as it runs."""
    command = [sys.executable, str(Path(big.__file__).resolve()), "--size", size, "--json"]
    command += ["--rounds", str(rounds)] if rounds else []
    proc = subprocess.run(
        command, stdout=subprocess.PIPE, text=True, env=_worker_env(threads), cwd=ROOT,
        timeout=4 * 3600,
    )
    if proc.returncode != 0:
        return {"status": "error", "message": f"big.py exited with {proc.returncode} (above)"}
    return json.loads(proc.stdout.strip().splitlines()[-1])


def _memory(value: Any) -> str:
    return "—" if value is None else f"{value:.1f}"


def markdown(report: dict) -> str:
    """The results as a Markdown table, one row per workload and framework."""
    lines = [
        "| workload | framework | median (ms) | round medians (ms) | × PyTorch "
        "| CPU median (ms) | CPU × PyTorch | peak memory (MiB) |",
        "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for row in report["results"]:
        name = row["framework"]
        if row["status"] != "ok":
            lines.append(f"| {row['workload']} | {name} | {row['status']} | | | | | |")
            continue
        low, high = row["spread_ms"]
        flag = "" if row.get("grad_ok", True) else " (**gradient mismatch**)"
        ratio = f"{row['vs_torch']:.2f}" if "vs_torch" in row else "—"
        cpu_ratio = f"{row['cpu_vs_torch']:.2f}" if "cpu_vs_torch" in row else "—"
        lines.append(
            f"| {row['workload']} | {name}{flag} | {row['median_ms']:.3f} | "
            f"{low:.3f}–{high:.3f} | {ratio} | {row['cpu_median_ms']:.3f} | {cpu_ratio} | "
            f"{_memory(row.get('peak_rss_mib'))} |"
        )
    return "\n".join(lines)


def _header(report: dict) -> str:
    machine, versions = report["machine"], report["versions"]
    return (
        f"{report['date']} · commit {report['commit']} · "
        f"{machine['cpus']} CPUs, {machine['cpu']} · "
        + ", ".join(f"{k} {v}" for k, v in versions.items())
        + f" · size {report['size']}, {report['rounds']} rounds of {report['budget_s']} s"
        + f", threads {report['threads']}"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="smaller sizes, one short round")
    parser.add_argument("--size", default="full", choices=("full", "quick", "tiny"))
    parser.add_argument("--rounds", type=int, default=None, help="rounds (default 5; quick 1)")
    parser.add_argument("--budget", type=float, default=None, help="seconds of timed calls")
    parser.add_argument(
        "--workloads", nargs="+", default=list(ALL_WORKLOADS), choices=ALL_WORKLOADS
    )
    parser.add_argument(
        "--frameworks", nargs="+", default=list(FRAMEWORKS), choices=FRAMEWORKS
    )
    parser.add_argument(
        "--threads", type=int, default=None,
        help="threads for every framework's BLAS/OpenMP pool (default: their own default)",
    )
    parser.add_argument("--output", type=Path, default=None, help="JSON file to write")
    parser.add_argument(
        "--worker", nargs=2, metavar=("FRAMEWORK", "WORKLOAD"), help=argparse.SUPPRESS
    )
    parser.add_argument("--no-memory", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--no-jit-overheads", action="store_true",
                        help="skip benchmarks/jit_overheads.py after the table")
    parser.add_argument("--jax-path", default=None,
                        help="a folder where jax is installed (jit_overheads' reference)")
    args = parser.parse_args(argv)

    if args.worker:
        framework, workload = args.worker
        out = worker(framework, workload, args.size, args.budget or 1.0, not args.no_memory)
        print(json.dumps(out))
        return 0

    for name in args.workloads:
        print(f"{name}: {ALL_DESCRIPTIONS[name]}", file=sys.stderr)
    report = run(args)
    table = markdown(report)
    print()
    print(_header(report))
    print()
    print(table)
    if any(name in checkpoint.WORKLOADS for name in args.workloads):
        print("\nCheckpointing (checkpointed over plain):\n")
        print(checkpoint.summary(report))
    if "chainrule_jit" in args.frameworks:
        print("\ncr.jit against its targets:\n")
        print(jit_overheads.summary(report))
    if "jit" in report:
        print("\n" + jit_overheads.markdown(report["jit"]))
    if big.NAME in report:
        print("\n" + big.markdown(report[big.NAME]))
    RESULTS.mkdir(parents=True, exist_ok=True)
    stamp = report["date"].replace(":", "").replace("+0000", "Z")
    path = args.output or RESULTS / f"bench-{report['size']}-{stamp}.json"
    path.write_text(json.dumps(report, indent=1))
    print(f"\nsaved {path.relative_to(ROOT) if path.is_relative_to(ROOT) else path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
