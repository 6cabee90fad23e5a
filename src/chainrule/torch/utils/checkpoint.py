"""``torch.utils.checkpoint``: ``checkpoint`` and ``checkpoint_sequential`` on ``cr.checkpoint``.

The core's checkpoint is PyTorch's non-reentrant variant (``use_reentrant=False``): the forward
keeps only the function's inputs, backward reruns it; it works with ``torch.autograd.grad``,
keyword arguments, parameters the function closes over and higher derivatives. With
``use_reentrant=True`` the function's result is differentiable only through the tensors passed
to it, and keyword arguments are refused, as PyTorch's reentrant variant does.

>>> import chainrule.torch as torch
>>> from chainrule.torch.utils.checkpoint import checkpoint
>>> w = torch.tensor([[0.5, -1.0], [2.0, 0.25]], requires_grad=True)
>>> x = torch.tensor([[1.0, 2.0]], requires_grad=True)
>>> y = checkpoint(lambda x: torch.tanh(x @ w), x, use_reentrant=False)
>>> y.sum().backward()
>>> w.grad.shape
torch.Size([2, 2])
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from typing import Any

import chainrule as cr

__all__ = ["checkpoint", "checkpoint_sequential"]


def _reentrant(use_reentrant: bool | None, name: str) -> bool:
    """PyTorch's default: the reentrant variant, with a warning asking for an explicit choice."""
    if use_reentrant is None:
        warnings.warn(
            f"torch.utils.{name}: the use_reentrant parameter should be passed explicitly. "
            "Starting in PyTorch 2.9, calling checkpoint without use_reentrant will raise an "
            "exception. use_reentrant=False is recommended, but if you need to preserve the "
            "current default behavior, you can pass use_reentrant=True. Refer to docs for more "
            "details on the differences between the two variants.", stacklevel=3,
        )
        return True
    return use_reentrant


def checkpoint(
    function: Callable, *args: Any, use_reentrant: bool | None = None,
    preserve_rng_state: bool = True, context_fn: Callable | None = None,
    determinism_check: str = "default", debug: bool = False, early_stop: bool = True,
    **kwargs: Any,
) -> Any:
    """``function(*args, **kwargs)``, keeping only its inputs for backward, which reruns it
    (random numbers drawn inside come out the same unless ``preserve_rng_state=False``).

    ``determinism_check="default"`` or ``"none"`` (PyTorch's values): chainrule always checks
    that the rerun read the values the forward read, and raises if not. ``debug`` and
    ``early_stop`` change nothing here (PyTorch's log and its shortcut of the rerun).
    ``context_fn`` (contexts around the forward and the rerun) is refused.
    """
    if determinism_check not in ("default", "none"):
        raise ValueError(
            f"determinism_check should be 'default' or 'none', got {determinism_check!r}"
        )
    if context_fn is not None:
        raise TypeError(
            "chainrule's checkpoint does not take context_fn; enter the contexts inside the "
            "checkpointed function instead"
        )
    use_reentrant = _reentrant(use_reentrant, "checkpoint")
    if use_reentrant:
        if kwargs:
            raise ValueError("Unexpected keyword arguments: " + ",".join(kwargs))
        if not any(isinstance(a, cr.Tensor) and a.requires_grad for a in args):
            warnings.warn(
                "None of the inputs have requires_grad=True. Gradients will be None",
                stacklevel=2,
            )
            with cr.no_grad():
                return function(*args)
    return cr.checkpoint(function, preserve_rng_state=preserve_rng_state)(*args, **kwargs)


def checkpoint_sequential(
    functions: Any, segments: int, input: Any,  # noqa: A002 - PyTorch's name
    use_reentrant: bool | None = None, **kwargs: Any,
) -> Any:
    """Run ``functions`` (a list, or a container with ``children()`` such as a Sequential) one
    after the other on ``input``, in ``segments`` chunks of ``len(functions) // segments``; every
    chunk but the last is checkpointed, as in PyTorch (the last one's activations are needed at
    once by the backward pass that follows).

    >>> import chainrule.torch as torch
    >>> from chainrule.torch.utils.checkpoint import checkpoint_sequential
    >>> x = torch.tensor([0.5, -1.0], requires_grad=True)
    >>> layers = [torch.tanh, torch.sin, torch.tanh, torch.sin]
    >>> checkpoint_sequential(layers, 2, x, use_reentrant=False).sum().backward()
    >>> x.grad
    tensor([0.5306, 0.1614])
    """
    use_reentrant = _reentrant(use_reentrant, "checkpoint_sequential")
    preserve = kwargs.pop("preserve_rng_state", True)
    if kwargs:
        raise ValueError("Unexpected keyword arguments: " + ",".join(arg for arg in kwargs))
    if hasattr(functions, "children"):
        functions = list(functions.children())
    functions = list(functions)
    if not 1 <= segments <= len(functions):
        raise ValueError(
            f"checkpoint_sequential: segments must be between 1 and the number of functions "
            f"({len(functions)}), got {segments}"
        )

    def run(start: int, end: int) -> Callable:
        def forward(value: Any) -> Any:
            for j in range(start, end + 1):
                value = functions[j](value)
            return value

        return forward

    size = len(functions) // segments
    end = -1
    for start in range(0, size * (segments - 1), size):
        end = start + size - 1
        input = checkpoint(  # noqa: A001
            run(start, end), input, use_reentrant=use_reentrant, preserve_rng_state=preserve
        )
    return run(end + 1, len(functions) - 1)(input)
