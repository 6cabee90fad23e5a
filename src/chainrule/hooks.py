"""Where a backward pass meets the user's code: gradient hooks, and the convention for complex
gradients (the engine works with the conjugate of what the user sees).

A hook gets the gradient as a tensor of its own (it may keep it, or change it in place) and may
return a replacement, checked here. ``retain_grad``'s hook (:class:`~chainrule.node.Retain`)
does not run: the gradient it would see is collected, and written with the leaves' gradients
when the pass commits.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from . import backends
from .backends import asarray, copy
from .node import Retain
from .ops import conj
from .tensor import Tensor


def conj_if_complex(value: Any) -> Any:
    """Between the engine's convention for complex cotangents and the user's: the conjugate.

    Rules are transposes of their tangent rules (``g * f'(z)``, as JAX's and HIPS autograd's),
    with no conjugates to get wrong; the user sees PyTorch's convention (for a real loss L,
    the gradient of z is dL/dRe z + i dL/dIm z, so that ``z -= lr * z.grad`` descends), which
    is the conjugate. Cotangents are conjugated where they enter (``gradient=``) and leave
    (``.grad``, ``gradients``, hooks). Real values are their own conjugates."""
    if value.dtype.kind != "c":
        return value
    if isinstance(value, Tensor):

        return conj(value)
    return np.conj(value)


def node_hooks(hooks: list, cotangent: Any, create_graph: bool, retained: list) -> Any:
    """A node's hooks on its cotangent, which they see (and return) in the user's convention.

    On the fast path what flows on is a copy of what the hooks saw, which the user may keep, so
    that a later in-place accumulation cannot reach it.
    """
    flowing = isinstance(cotangent, Tensor)  # recorded, or carrying tangents: keep it whole
    # The hooks get an array of their own: one may change it in place, and the engine's may be
    # on its way to other inputs too (``add`` hands the same cotangent to both).
    grad = conj_if_complex(cotangent if flowing else Tensor._wrap(copy(cotangent)))
    grad = conj_if_complex(run_hooks(hooks, grad, retained))
    if flowing or create_graph:  # (a tensor is never summed into in place)
        return grad
    return copy(grad._array)


def leaf_gradient(leaf: Tensor, grad: Any, create_graph: bool) -> Any:
    """A leaf's gradient in the user's convention, after the leaf's hooks."""
    grad = conj_if_complex(grad)
    hooks = leaf._hooks
    if not hooks:
        return grad
    if isinstance(grad, Tensor):
        return run_hooks(hooks, grad, None)
    grad = run_hooks(hooks, Tensor._wrap(copy(grad)), None)  # (their own, as above)
    return grad if create_graph else copy(grad._array)


def run_hooks(hooks: list, grad: Tensor, retained: list | None) -> Tensor:
    """Call each hook with the gradient; a result that is not None replaces it (checked: same
    shape, a floating dtype cast to the gradient's). ``retain_grad``'s hook (:class:`Retain`,
    last) puts the gradient in ``retained`` instead."""
    for hook in hooks:
        if type(hook) is Retain:
            if retained is not None:
                retained.append((hook.ref, grad))
            continue
        result = hook(grad)
        if result is not None:
            grad = _hook_result(hook, grad, result)
        else:
            _kept_for_its_effects(hook)
    return grad


def _kept_for_its_effects(hook: Callable) -> None:
    """A hook that returns None runs for what it does besides (logs, collects gradients): a
    call traced by cr.jit (``backends.tracing.effects``) then runs eagerly, where the hook
    runs at each backward."""
    effects = getattr(backends.tracing, "effects", None)
    if effects is not None and effects.refused is None:
        name = getattr(hook, "__qualname__", None) or repr(hook)
        effects.refused = (f"a gradient hook ({name}) returns None: it runs for its side "
                           f"effects, which a replay would not repeat (return the gradient "
                           f"to have it traced)")


def _hook_result(hook: Callable, grad: Tensor, result: Any) -> Tensor:
    """What a hook returned, as the gradient that flows on: refused if it is not an array of
    the gradient's shape and kind (real or complex floating); another precision is cast."""
    name = getattr(hook, "__qualname__", None) or repr(hook)
    if not isinstance(result, Tensor):
        if not isinstance(result, (np.ndarray, np.generic)):
            raise TypeError(
                f"hook '{name}' returned a {type(result).__name__}; a hook returns a tensor of "
                f"the gradient's shape, or None to leave the gradient as it is"
            )
        result = Tensor._wrap(asarray(result))
    if result._array.shape != grad._array.shape:
        raise RuntimeError(
            f"hook '{name}' has changed the size of value: the gradient has shape "
            f"{grad._array.shape} and the hook returned shape {result._array.shape}; a hook must "
            f"return a gradient of the same shape (or None)"
        )
    dtype = grad._array.dtype
    if result._array.dtype != dtype:
        kind = result._array.dtype.kind
        if kind not in "fc" or (kind == "c") != (dtype.kind == "c"):
            raise RuntimeError(
                f"hook '{name}' has changed the type of value from {dtype} to "
                f"{result._array.dtype}; a hook must return a {dtype} gradient (another "
                f"floating precision is cast to it)"
            )
        result = result.astype(dtype)
    return result
