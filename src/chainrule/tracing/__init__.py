"""Tracing a call and replaying it: ``cr.jit``.

:mod:`.record` records what a call does as NumPy calls, :mod:`.program` turns the record into
a Python function, :mod:`.fuse` (optional) fuses elementwise chains with numexpr, and
:mod:`.jitted` decides when to trace, when to replay and when to run eagerly.
"""

from .jitted import Jitted, JitWarning, jit
from .program import Program

__all__ = ["JitWarning", "Jitted", "Program", "jit"]
