"""Hessian of ``sum(tanh(A @ x))``, x of size 64, float64: chainrule vs PyTorch vs HIPS autograd.

Each framework is timed in its own subprocess (no shared caches, threads or imports), as the
median of several repeats after a warm-up, in wall-clock time and in the process's CPU time (the
steadier figure on a shared machine); ratios are to PyTorch (``torch.func.hessian``).

``--modes`` instead times ``jacfwd`` against ``jacrev`` on a Jacobian of R^n -> R^m with
n << m and with n >> m (the README's "Forward or reverse?").

As a module (for ``benchmarks/run.py``): ``make_data(n)`` gives the inputs, and
``chainrule_step``, ``torch_step``, ``autograd_step`` each return a callable computing the
Hessian as a NumPy array. As a script::

    python benchmarks/hess.py [--n 64] [--repeats 30] [--number 20]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
import timeit
from collections.abc import Callable
from pathlib import Path

import numpy as np

FRAMEWORKS = ("chainrule", "torch", "autograd")


def make_data(n: int = 64, seed: int = 0) -> dict[str, np.ndarray]:
    """A fixed ``A`` (n x n, scaled by 1/sqrt(n)) and ``x`` (n), float64, from ``seed``."""
    rng = np.random.default_rng(seed)
    return {"a": rng.standard_normal((n, n)) / np.sqrt(n), "x": rng.standard_normal(n)}


def exact(data: dict[str, np.ndarray]) -> np.ndarray:
    """The Hessian by hand: A^T diag(-2 t (1 - t^2)) A with t = tanh(A x)."""
    a, x = data["a"], data["x"]
    t = np.tanh(a @ x)
    return (a.T * (-2.0 * t * (1.0 - t * t))) @ a


def chainrule_step(data: dict[str, np.ndarray]) -> Callable[[], np.ndarray]:
    import chainrule as cr

    a = cr.tensor(data["a"])
    x = data["x"]
    hessian = cr.hessian(lambda x: cr.sum(cr.tanh(a @ x)))
    return lambda: np.asarray(hessian(x))


def torch_step(data: dict[str, np.ndarray]) -> Callable[[], np.ndarray]:
    import torch

    torch.set_num_threads(1)
    a = torch.from_numpy(data["a"])
    x = torch.from_numpy(data["x"])
    hessian = torch.func.hessian(lambda x: torch.sum(torch.tanh(a @ x)))
    return lambda: hessian(x).numpy()


def autograd_step(data: dict[str, np.ndarray]) -> Callable[[], np.ndarray]:
    import autograd
    import autograd.numpy as anp

    a = data["a"]
    x = data["x"]
    hessian = autograd.hessian(lambda x: anp.sum(anp.tanh(anp.dot(a, x))))
    return lambda: np.asarray(hessian(x))


STEPS = {"chainrule": chainrule_step, "torch": torch_step, "autograd": autograd_step}


def measure(framework: str, n: int = 64, repeats: int = 30, number: int = 20) -> dict:
    """Time one framework in this process: median seconds per Hessian, and its error."""
    data = make_data(n)
    step = STEPS[framework](data)
    error = float(np.abs(step() - exact(data)).max())
    times = timeit.repeat(step, repeat=repeats, number=number)
    per_call = [t / number for t in times]
    # CPU time of this process: what the framework costs, less disturbed by a busy machine.
    cpu = timeit.repeat(step, repeat=repeats, number=number, timer=time.process_time)
    return {"framework": framework, "median": statistics.median(per_call),
            "min": min(per_call), "cpu": statistics.median(cpu) / number, "error": error}


def measure_in_subprocess(framework: str, n: int, repeats: int, number: int) -> dict:
    here = str(Path(__file__).parent)
    code = (
        f"import json, sys; sys.path.insert(0, {here!r}); import hess; "
        f"print(json.dumps(hess.measure({framework!r}, {n}, {repeats}, {number})))"
    )
    # One BLAS thread everywhere, so the comparison is of the frameworks, not of threading.
    env = dict(os.environ, OMP_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1",
               MKL_NUM_THREADS="1")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env)
    if done.returncode != 0:
        return {"framework": framework, "failed": done.stderr.strip().splitlines()[-1:]}
    return json.loads(done.stdout.strip().splitlines()[-1])


def forward_vs_reverse(small: int = 10, large: int = 2000, hidden: int = 200,
                       repeats: int = 5) -> list[dict]:
    """Median seconds of ``jacfwd`` and ``jacrev`` on ``tanh(B @ tanh(A @ x))``, both shapes."""
    import chainrule as cr

    rng = np.random.default_rng(0)
    rows = []
    for n, m in ((small, large), (large, small)):
        a = cr.tensor(rng.standard_normal((hidden, n)) / np.sqrt(n))
        b = cr.tensor(rng.standard_normal((m, hidden)) / np.sqrt(hidden))
        x = rng.standard_normal(n)

        def f(x, a=a, b=b):
            return cr.tanh(b @ cr.tanh(a @ x))

        row = {"n": n, "m": m}
        for name, transform in (("jacfwd", cr.jacfwd), ("jacrev", cr.jacrev)):
            jac = transform(f)
            jac(x)
            row[name] = statistics.median(timeit.repeat(lambda jac=jac, x=x: jac(x), number=1,
                                                        repeat=repeats))
        rows.append(row)
    return rows


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=64)
    parser.add_argument("--repeats", type=int, default=30)
    parser.add_argument("--number", type=int, default=20)
    parser.add_argument("--modes", action="store_true",
                        help="time jacfwd vs jacrev for n << m and n >> m instead")
    args = parser.parse_args(argv)
    if args.modes:
        print("Jacobian of tanh(B @ tanh(A @ x)), R^n -> R^m, hidden 200, float64 (ms)")
        print(f"{'n':>6}{'m':>6}{'jacfwd':>10}{'jacrev':>10}")
        for row in forward_vs_reverse():
            print(f"{row['n']:>6}{row['m']:>6}{row['jacfwd'] * 1e3:>10.1f}"
                  f"{row['jacrev'] * 1e3:>10.1f}")
        return
    results = {f: measure_in_subprocess(f, args.n, args.repeats, args.number) for f in FRAMEWORKS}
    base = results["torch"].get("median")
    print(f"Hessian of sum(tanh(A @ x)), n = {args.n}, float64, median of {args.repeats} "
          f"repeats x {args.number} calls, one thread")
    cpu_base = results["torch"].get("cpu")
    print(f"{'framework':<12}{'median (us)':>14}{'min (us)':>12}{'vs torch':>10}"
          f"{'cpu (us)':>12}{'vs torch':>10}{'max error':>12}")
    for name, result in results.items():
        if "failed" in result:
            print(f"{name:<12} failed: {' '.join(result['failed'])}")
            continue
        ratio = f"{result['median'] / base:.2f}x" if base else "-"
        cpu_ratio = f"{result['cpu'] / cpu_base:.2f}x" if cpu_base else "-"
        print(f"{name:<12}{result['median'] * 1e6:>14.1f}{result['min'] * 1e6:>12.1f}"
              f"{ratio:>10}{result['cpu'] * 1e6:>12.1f}{cpu_ratio:>10}{result['error']:>12.1e}")


if __name__ == "__main__":
    main()
