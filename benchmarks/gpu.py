"""``mlp_gpu``: the ``mlp`` workload (same model, same inputs, same batch) on a CUDA GPU.

* ``chainrule``: ``impl_chainrule``'s model over CuPy arrays (a tensor wraps them and never
  converts them: every op runs in CuPy, on the device);
* ``torch``: ``impl_torch``'s model with its tensors on ``cuda``;
* ``numpy``: the hand-written floor, ``impl_numpy.mlp`` unchanged, given CuPy arrays: its NumPy
  calls dispatch to CuPy (``__array_ufunc__``, ``__array_function__``).

A step ends when the device has finished its work (a synchronization, inside the timed call);
its gradients stay on the device and are copied to the host only to be checked, outside the
timing. Peak memory is not measured (the host's resident memory says nothing of the device's).

Run by ``benchmarks/run.py`` when CuPy and a CUDA device are present, skipped with a one-line
note otherwise, so that ``make bench`` runs unchanged on a GPU machine.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from benchmarks.data import make

# GPU workload -> the CPU workload whose model and inputs it runs
WORKLOADS = {"mlp_gpu": "mlp"}
DESCRIPTIONS = {
    "mlp_gpu": "the mlp workload on a CUDA GPU: chainrule on CuPy arrays, PyTorch on cuda, "
    "hand-written on CuPy",
}


def unavailable() -> str | None:
    """Why the GPU workloads cannot run here (no CuPy, no device), or None."""
    try:
        import cupy
    except ImportError:
        return "CuPy is not installed (pip install cupy-cuda12x)"
    try:
        count = cupy.cuda.runtime.getDeviceCount()
    except cupy.cuda.runtime.CUDARuntimeError as error:
        return f"no CUDA device ({error})"
    return None if count else "no CUDA device"


@dataclass(frozen=True)
class Device:
    """Where a workload's arrays live: ``put`` makes a NumPy input an array of the device's
    library, ``synchronize()`` waits until the work queued on the device is done."""

    put: Callable[[np.ndarray], Any]
    synchronize: Callable[[], None]


def cupy_device() -> Device:
    import cupy

    return Device(cupy.asarray, cupy.cuda.runtime.deviceSynchronize)


def on_device(data: dict[str, Any], device: Device) -> dict[str, Any]:
    """``data`` with its arrays on ``device`` (its numbers as they are)."""
    return {k: device.put(v) if isinstance(v, np.ndarray) else v for k, v in data.items()}


def chainrule_step(data: dict[str, Any], device: Device) -> Callable:
    from benchmarks import impl_chainrule  # (imported here: the harness's other processes and
    # frameworks do not load chainrule through this module)

    def grads(leaves: list) -> tuple:
        out = tuple(leaf.grad.data for leaf in leaves)
        device.synchronize()
        return out

    return impl_chainrule._step(*impl_chainrule.mlp_model(on_device(data, device)), grads)


def numpy_step(data: dict[str, Any], device: Device) -> Callable:
    from benchmarks import impl_numpy

    step = impl_numpy.mlp(on_device(data, device))

    def device_step() -> tuple:
        out = step()
        device.synchronize()
        return out

    return device_step


def torch_step(data: dict[str, Any], device: str = "cuda") -> Callable:
    import torch

    from benchmarks import impl_torch

    if torch.device(device).type == "cuda" and not torch.cuda.is_available():
        raise ImportError("PyTorch has no CUDA here (a CPU-only build?)")
    cuda = torch.device(device).type == "cuda"

    def grads(leaves: list) -> tuple:
        out = tuple(leaf.grad for leaf in leaves)
        if cuda:
            torch.cuda.synchronize()
        return out

    return impl_torch._step(*impl_torch.mlp_model(data, device), grads)


def step(framework: str, workload: str, size: str) -> Callable:
    """The step of GPU ``workload`` in ``framework``; ImportError when no GPU can run it."""
    reason = unavailable()
    if reason:
        raise ImportError(reason)
    data = make(WORKLOADS[workload], size)
    if framework == "chainrule":
        return chainrule_step(data, cupy_device())
    if framework == "numpy":
        return numpy_step(data, cupy_device())
    if framework == "torch":
        return torch_step(data)
    raise LookupError(f"no GPU workload for {framework}")


def to_host(array: Any) -> np.ndarray:
    """A gradient as a NumPy array (CuPy's and PyTorch's copied from their device)."""
    if isinstance(array, np.ndarray):
        return array
    if callable(getattr(array, "get", None)):  # CuPy
        return array.get()
    if callable(getattr(array, "detach", None)):  # PyTorch
        return array.detach().cpu().numpy()
    return np.asarray(array)
