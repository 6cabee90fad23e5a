"""``torch.compile`` and ``torch.compiler``: PyTorch's compiler spelled as :func:`chainrule.jit`.

``torch.compile(fn)`` is ``cr.jit(fn)``: the first call with a signature runs eagerly and
records, later calls replay, Python control flow on values becomes guards (PyTorch's "graph
breaks" and recompilations, without breaks). ``torch.compile(module)`` (any callable object: a
model class with ``__call__``) gives an :class:`OptimizedModule` whose calls are jitted and
whose attributes are the module's, as PyTorch's wrapper does. The arguments are checked as
PyTorch checks them (a mode it does not know, ``mode`` with ``options``, an unknown backend
name, something not callable) and then have no meaning here: ``mode``, ``options`` and
``backend`` choose among code generators, and there is one; ``dynamic`` asks for shape-generic
kernels, and a trace is replayed for its own shapes only (a new shape traces again, as
``dynamic=False`` does); ``fullgraph`` asks for an error at a graph break, and there are none
(where a call cannot be replayed, ``cr.jit`` says so with a
:class:`chainrule.tracing.JitWarning` and runs it eagerly). ``disable=True`` returns the
function itself.

>>> import chainrule.torch as torch
>>> @torch.compile(mode="reduce-overhead")
... def f(x):
...     return (x * x).sum()
>>> f(torch.tensor([1.0, 2.0])), f(torch.tensor([3.0, 4.0]))   # traces, then replays
(tensor(5.), tensor(25.))
"""

from __future__ import annotations

import functools
import types
from collections.abc import Callable
from typing import Any

from ..tracing import Jitted, jit, record

# What is compiled as a function; any other callable is a module (an object with ``__call__``).
_FUNCTIONS = (types.FunctionType, types.MethodType, types.BuiltinFunctionType,
              functools.partial, type, Jitted)

# PyTorch's modes (torch._inductor.list_mode_options) and its backends (torch._dynamo's
# registry, the debugging ones included).
MODES = ("default", "lite", "reduce-overhead", "max-autotune-no-cudagraphs", "max-autotune")
BACKENDS = ("inductor", "cudagraphs", "openxla", "tvm", "eager", "aot_eager",
            "aot_eager_decomp_partition", "onnxrt")


class OptimizedModule:
    """A module whose calls are jitted (PyTorch's ``OptimizedModule``): the original is
    ``_orig_mod``, and its attributes (parameters, ``forward``) are read through the wrapper."""

    def __init__(self, mod: Any) -> None:
        object.__setattr__(self, "_orig_mod", mod)
        object.__setattr__(self, "_call", jit(mod))

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return self._call(*args, **kwargs)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._orig_mod, name)

    def __setattr__(self, name: str, value: Any) -> None:
        setattr(self._orig_mod, name, value)

    def __repr__(self) -> str:
        return f"OptimizedModule({self._orig_mod!r})"


def _check(model: Any, backend: Any, mode: Any, options: Any) -> None:
    """Refuse what PyTorch refuses, with its exception types."""
    if model is not None and not callable(model):
        raise AssertionError(f"A callable function is expected, but {type(model)} is provided.")
    if mode is not None and options is not None:
        raise RuntimeError(
            "Either mode or options can be specified, but both can't be specified at the same "
            "time.")
    if mode is not None and mode not in MODES:
        raise RuntimeError(f"Unrecognized mode={mode}, should be one of: {', '.join(MODES)}")
    if isinstance(backend, str) and backend not in BACKENDS:
        raise RuntimeError(
            f"Invalid backend: {backend!r}, see `torch._dynamo.list_backends()` for available "
            f"backends.")


def compile(model: Callable | None = None, *, fullgraph: bool = False,  # noqa: A001
            dynamic: bool | None = None, backend: str | Callable = "inductor",
            mode: str | None = None, options: dict | None = None,
            disable: bool = False) -> Any:
    """``cr.jit`` with PyTorch's arguments (see the module's docstring); a decorator with or
    without them."""
    if model is None:  # checked when applied, as PyTorch does
        return functools.partial(compile, fullgraph=fullgraph, dynamic=dynamic,
                                 backend=backend, mode=mode, options=options, disable=disable)
    _check(model, backend, mode, options)
    if disable:
        return model
    return jit(model) if isinstance(model, _FUNCTIONS) else OptimizedModule(model)


def is_compiling() -> bool:
    """Whether this runs inside a call being traced (PyTorch: inside a compiled call)."""
    return record.current() is not None


__all__ = ["OptimizedModule", "compile", "is_compiling"]
