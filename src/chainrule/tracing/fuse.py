"""Fusing elementwise chains with numexpr: not implemented yet (programs run each NumPy call
as traced). ``fuser`` is where program.build asks for a fusion pass."""

from __future__ import annotations

from collections.abc import Callable


def fuser(option: bool | None) -> Callable | None:
    """The fusion pass for ``cr.jit(fuse=option)``: none yet."""
    return None
