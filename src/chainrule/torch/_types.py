"""PyTorch's types around a tensor: ``torch.Size``, ``torch.dtype``, ``torch.device``, and
PyTorch's names for dtypes in its messages."""

from __future__ import annotations

import builtins
from collections import namedtuple
from typing import Any

import numpy as np


class Size(tuple):
    """PyTorch's ``torch.Size``: a tuple of dimensions."""

    def __repr__(self) -> str:
        return f"torch.Size({list(self)})"

    def numel(self) -> int:
        return int(np.prod(self, dtype=np.int64))


class dtype:  # noqa: N801 - PyTorch's name
    """``torch.dtype``: prints as ``torch.float32`` and is a NumPy dtype everywhere else."""

    __slots__ = ("dtype",)

    def __init__(self, name: Any) -> None:
        self.dtype = np.dtype(name)

    def __repr__(self) -> str:
        return f"torch.{self.dtype.name}"

    def __eq__(self, other: object) -> bool:
        try:
            return self.dtype == np.dtype(other)  # type: ignore[arg-type]
        except TypeError:
            return NotImplemented

    def __hash__(self) -> int:
        return hash(self.dtype)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.dtype, name)

    @property
    def is_floating_point(self) -> bool:
        return self.dtype.kind == "f"

    @property
    def is_complex(self) -> bool:
        return self.dtype.kind == "c"

    @property
    def is_signed(self) -> bool:
        return self.dtype.kind in "ifc"


DTYPES = {np.dtype(name): dtype(name) for name in (
    "float16", "float32", "float64", "int8", "int16", "int32", "int64", "uint8", "bool",
    "complex64", "complex128")}


values_indices = {name: namedtuple(name, ["values", "indices"]) for name in ("max", "min")}


class device:  # noqa: N801 - PyTorch's name
    """``torch.device``: where a tensor lives; here always the CPU.

    >>> import chainrule.torch as torch
    >>> torch.device("cpu"), torch.zeros(2).device == "cpu"
    (device(type='cpu'), True)
    """

    __slots__ = ("type", "index")

    def __init__(self, type: Any = "cpu", index: int | None = None) -> None:  # noqa: A002
        if isinstance(type, device):
            type, index = type.type, type.index  # noqa: A001
        name, _, number = str(type).partition(":")
        self.type = name
        self.index = builtins.int(number) if number else index

    def __repr__(self) -> str:
        index = "" if self.index is None else f", index={self.index}"
        return f"device(type='{self.type}'{index})"

    def __str__(self) -> str:
        return self.type if self.index is None else f"{self.type}:{self.index}"

    def __eq__(self, other: object) -> bool:
        if isinstance(other, str):
            other = device(other)
        if not isinstance(other, device):
            return NotImplemented
        return (self.type, self.index) == (other.type, other.index)

    def __hash__(self) -> int:
        return hash((self.type, self.index))


CPU = device("cpu")


def check_device(where: Any) -> None:
    """Accept ``device=None``, ``"cpu"`` or ``torch.device("cpu")``; refuse the others as a
    PyTorch built without CUDA does."""
    if where is None or where is CPU:
        return
    kind = device(where).type
    if kind == "cpu":
        return
    if kind == "cuda":
        raise AssertionError(
            "Torch not compiled with CUDA enabled: chainrule computes on the CPU only; use "
            "device='cpu' (or leave device out), and test torch.cuda.is_available() first"
        )
    raise RuntimeError(
        f"device {str(where)!r} is not available: chainrule computes on the CPU only; use "
        "device='cpu' (or leave device out)"
    )



# PyTorch's names for the dtypes in its messages ("result type Float can't be cast...").
_SCALAR_NAMES = {
    "bool": "Bool", "uint8": "Byte", "int8": "Char", "int16": "Short", "int32": "Int",
    "int64": "Long", "float16": "Half", "float32": "Float", "float64": "Double",
    "complex64": "ComplexFloat", "complex128": "ComplexDouble",
}


def scalar_name(dtype: np.dtype) -> str:
    return _SCALAR_NAMES.get(dtype.name, dtype.name)
