"""The inputs of each workload, made once with NumPy so every framework gets the same numbers.

Each workload has a full size (the one the README reports), a quick size (``--quick``) and a
tiny size (the smoke test). ``make(workload, size)`` returns a dict of NumPy arrays and Python
numbers; the framework modules read it and nothing else.
"""

from __future__ import annotations

from typing import Any

import numpy as np

WORKLOADS = ("chain", "mlp", "wide", "hess", "seed")

# What each workload computes, for the table and the README.
DESCRIPTIONS = {
    "chain": "1000 alternating y*1.01 and sin(y), 0-d float64",
    "mlp": "784-256-10 tanh MLP, softmax cross-entropy, batch 256, float32",
    "wide": "10 x (sin(y)*1.01), 2**20 float32",
    "hess": "Hessian of sum(tanh(A @ x)), x of size 64, float64",
    "seed": "the chapter's f(a) (doubling loop), 1000 float32",
}

_FULL = {
    "chain": {"ops": 1000},
    "mlp": {"batch": 256, "inputs": 784, "hidden": 256, "classes": 10},
    "wide": {"n": 2**20, "rounds": 10},
    "hess": {"n": 64},
    "seed": {"n": 1000},
}
SIZES: dict[str, dict[str, dict[str, int]]] = {
    "full": _FULL,
    # the full sizes, with a smaller batch and a shorter wide vector
    "quick": {**_FULL, "mlp": {**_FULL["mlp"], "batch": 64}, "wide": {"n": 2**16, "rounds": 10}},
    "tiny": {
        "chain": {"ops": 10},
        "mlp": {"batch": 4, "inputs": 6, "hidden": 5, "classes": 3},
        "wide": {"n": 16, "rounds": 3},
        "hess": {"n": 4},
        "seed": {"n": 10},
    },
}


def make(workload: str, size: str = "full") -> dict[str, Any]:
    """The inputs of ``workload`` at ``size`` ("full", "quick" or "tiny"), seeded."""
    params = SIZES[size][workload]
    rng = np.random.default_rng(0)
    if workload == "chain":
        return {"x": np.array(0.5, dtype=np.float64), "ops": params["ops"]}
    if workload == "mlp":
        batch, inputs = params["batch"], params["inputs"]
        hidden, classes = params["hidden"], params["classes"]
        labels = rng.integers(0, classes, size=batch)
        return {
            "x": rng.standard_normal((batch, inputs)).astype(np.float32),
            "onehot": np.eye(classes, dtype=np.float32)[labels],
            "w1": (rng.standard_normal((inputs, hidden)) / np.sqrt(inputs)).astype(np.float32),
            "b1": np.zeros(hidden, dtype=np.float32),
            "w2": (rng.standard_normal((hidden, classes)) / np.sqrt(hidden)).astype(np.float32),
            "b2": np.zeros(classes, dtype=np.float32),
        }
    if workload == "wide":
        return {
            "x": rng.standard_normal(params["n"]).astype(np.float32),
            "rounds": params["rounds"],
        }
    if workload == "hess":
        from benchmarks.hess import make_data  # the functional transforms' own benchmark

        return make_data(params["n"])
    if workload == "seed":
        return {"a": rng.standard_normal(params["n"]).astype(np.float32)}
    raise KeyError(f"unknown workload {workload!r}; choose from {WORKLOADS}")
