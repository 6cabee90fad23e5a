"""``torch.autograd.Function``: custom rules in PyTorch's spelling, on the core's carrier.

A subclass gives static ``forward`` and ``backward`` (and ``jvp`` for forward mode);
``Fn.apply(*args)`` runs ``forward`` on the arguments without their history (grad mode off, as
in PyTorch) and records its tensor outputs as one op of the tensor arguments
(:func:`chainrule.custom.rules.apply_rules`), whose node prints as ``<FnBackward>``. ``backward``
gets one gradient per output and returns one per argument of ``forward``, ``None`` for
non-tensor arguments; written with differentiable ops, it is differentiated again
(``create_graph=True``): ``ctx.saved_tensors`` gives back the tensors themselves, inputs with
their history and outputs as ``apply`` returned them.

>>> import chainrule.torch as torch
>>> class MulConstant(torch.autograd.Function):
...     @staticmethod
...     def forward(ctx, tensor, constant):
...         ctx.constant = constant
...         return tensor * constant
...     @staticmethod
...     def backward(ctx, grad_output):
...         return grad_output * ctx.constant, None
>>> x = torch.tensor([1.0, 2.0], requires_grad=True)
>>> y = MulConstant.apply(x, 3.0)
>>> y.grad_fn
<MulConstantBackward>
>>> y.sum().backward()
>>> x.grad
tensor([3., 3.])
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

import numpy as np

import chainrule as cr
from chainrule import api
from chainrule.custom.call import active
from chainrule.custom.rules import SavedOutput, apply_rules
from chainrule.engine import unbroadcast
from chainrule.saved_hooks import pack_saved, unpacked
from chainrule.tensor import array_of, is_differentiable_dtype

from .._tensor import _as

__all__ = ["Function", "FunctionCtx", "once_differentiable"]


class FunctionCtx:
    """What ``forward`` hands to ``backward`` and ``jvp``: saved tensors, flags, and any
    attribute the user sets."""

    def __init__(self) -> None:
        self.to_save: tuple = ()
        self.saved_for_forward: tuple = ()
        self.needs_input_grad: tuple = ()
        self.materialize_grads = True
        self.non_differentiable: set[int] = set()
        self.dirty: set[int] = set()
        self._in_jvp = False

    def save_for_backward(self, *tensors: Any) -> None:
        for index, tensor in enumerate(tensors):
            if tensor is not None and not isinstance(tensor, cr.Tensor):
                raise TypeError(
                    f"save_for_backward can only save variables, but argument {index} is not a "
                    f"Variable (it is a {type(tensor).__name__}); keep other values as "
                    f"attributes of ctx"
                )
        self.to_save = tensors

    def save_for_forward(self, *tensors: Any) -> None:
        self.saved_for_forward = tensors

    @property
    def saved_tensors(self) -> tuple:
        """What ``save_for_backward`` kept; in ``jvp``, what ``save_for_forward`` kept (if
        anything)."""
        saved = self.saved_for_forward if self._in_jvp and self.saved_for_forward else (
            self.to_save)
        return tuple(t.unpack() if isinstance(t, SavedOutput) else unpacked(t) for t in saved)

    def mark_non_differentiable(self, *tensors: Any) -> None:
        """These outputs get no gradient: they do not require grad, and ``backward`` gets
        zeros (or None) for them."""
        self.non_differentiable.update(id(t) for t in tensors)

    def mark_dirty(self, *tensors: Any) -> None:
        """These inputs were changed in place by ``forward``, which returns them: each becomes
        that output (its history replaced by this function's node)."""
        self.dirty = {id(t) for t in tensors}

    def set_materialize_grads(self, value: bool) -> None:  # noqa: FBT001 - PyTorch's signature
        """With False, ``backward`` gets None (not zeros) for an output without a gradient."""
        self.materialize_grads = bool(value)

    def _resolve(self, replaced: dict) -> None:
        """What was saved, as ``backward`` sees it: the tensors ``apply`` was given and
        returned, in place of their history-free copies that ``forward`` saw."""
        self.to_save = tuple(
            saved if isinstance(saved, SavedOutput) else pack_saved(saved)
            for saved in (replaced.get(id(t), t) for t in self.to_save)
        )
        self.saved_for_forward = tuple(replaced.get(id(t), t) for t in self.saved_for_forward)


class Function:
    """Subclass with static ``forward(ctx, *args)`` and ``backward(ctx, *grad_outputs)`` (or
    ``forward(*args)`` with ``setup_context(ctx, inputs, output)``); call ``Fn.apply``."""

    @staticmethod
    def forward(*args: Any, **kwargs: Any) -> Any:
        raise NotImplementedError(
            "You must implement the forward function for custom autograd.Function."
        )

    @staticmethod
    def setup_context(ctx: Any, inputs: tuple, output: Any) -> Any:
        raise NotImplementedError("setup_context is not implemented.")

    @staticmethod
    def backward(ctx: Any, *grad_outputs: Any) -> Any:
        raise NotImplementedError(
            "You must implement either the backward or vjp method for your custom "
            "autograd.Function to use it with backward mode AD."
        )

    vjp = backward

    @staticmethod
    def jvp(ctx: Any, *grad_inputs: Any) -> Any:
        raise NotImplementedError(
            "You must implement the jvp function for custom autograd.Function to use it with "
            "forward mode AD."
        )

    @classmethod
    def apply(cls, *args: Any, **kwargs: Any) -> Any:
        ctx = FunctionCtx()
        recording = cr.is_grad_enabled()
        ctx.needs_input_grad = tuple(
            isinstance(a, cr.Tensor) and recording and a.requires_grad for a in args
        )
        inner = tuple(
            _as(a._derive(history=False, tangents=None)) if isinstance(a, cr.Tensor) else a
            for a in args
        )
        with cr.no_grad():
            if cls.setup_context is not Function.setup_context:
                output = cls.forward(*inner, **kwargs)
                cls.setup_context(ctx, inner, output)
            else:
                output = cls.forward(ctx, *inner, **kwargs)
        return _Application(cls, ctx, args, inner, output).record()


def _backward_of(cls: type) -> Callable:
    """The user's backward: ``vjp`` where a subclass overrides it instead of ``backward``."""
    if cls.backward is Function.backward and cls.vjp is not Function.vjp:
        return cls.vjp
    return cls.backward


class _Application:
    """One ``Fn.apply``: the forward's outputs recorded, and the user's rules adapted to the
    carrier's flat lists."""

    def __init__(self, cls: type, ctx: FunctionCtx, args: tuple, inner: tuple,
                 output: Any) -> None:
        self.cls, self.ctx, self.args = cls, ctx, args
        self.name = f"{cls.__name__}Backward"
        self.single = not isinstance(output, tuple)
        self.outs = (output,) if self.single else output
        self.positions = [i for i, a in enumerate(args) if isinstance(a, cr.Tensor)]
        self.diff = [
            k for k, out in enumerate(self.outs)
            if isinstance(out, cr.Tensor) and is_differentiable_dtype(out.dtype)
            and id(out) not in ctx.non_differentiable
        ]
        self.inner = inner

    def record(self) -> Any:
        leaves = [self.args[i] for i in self.positions]
        final = [_as(out) if isinstance(out, cr.Tensor) else out for out in self.outs]
        replaced = {id(self.inner[i]): self.args[i] for i in self.positions}
        if self.diff and active(leaves):
            results = apply_rules(
                self.cls.__name__, leaves, [array_of(self.outs[k]) for k in self.diff],
                self.vjp, self.jvp, f"function {self.name}",
            )
            for k, result in zip(self.diff, results, strict=True):
                final[k] = _as(result)
                replaced[id(self.outs[k])] = SavedOutput(final[k])
        self._rebase_dirty(final)
        self.ctx._resolve(replaced)
        # (only the ids of inner were needed, and only the outputs' shapes and dtypes are: the
        # node does not keep the outputs' memory)
        self.outs = [
            (array_of(out).shape, array_of(out).dtype) if isinstance(out, cr.Tensor) else None
            for out in self.outs
        ]
        del self.inner
        return final[0] if self.single else tuple(final)

    def _rebase_dirty(self, final: list) -> None:
        """An output that is an input marked dirty is that input itself, which takes over
        the output's history (as an in-place operation's result does)."""
        inputs = {id(self.inner[i]): self.args[i] for i in self.positions}
        for k, out in enumerate(self.outs):
            target = inputs.get(id(out)) if id(out) in self.ctx.dirty else None
            if target is None:
                continue
            if cr.is_grad_enabled() and target._node is None and target._requires_grad:
                raise RuntimeError(
                    "a leaf Variable that requires grad has been used in an in-place "
                    f"operation ({self.cls.__name__}.forward marked it dirty)."
                )
            if target._view is not None and final[k] is not out:
                raise RuntimeError(
                    f"{self.cls.__name__}.forward changed a view in place (mark_dirty): give "
                    f"it the tensor the view was taken from, or a clone"
                )
            if final[k] is not out:  # (recorded: the output's history is the input's now)
                target._move_history(final[k]._node, final[k]._requires_grad)
                target._tangents = final[k]._tangents
            final[k] = target

    def _grad_outputs(self, cotangents: list) -> list:
        grads: list = [None] * len(self.outs)
        for k, cotangent in zip(self.diff, cotangents, strict=True):
            grads[k] = _as(cotangent)
        if not self.ctx.materialize_grads:
            # The carrier gets one cotangent for all outputs: an output that none reached
            # shows as zeros, which ``backward`` (linear in them) may equally receive as None.
            if len(self.outs) > 1:
                grads = [None if g is not None and not np.any(array_of(g)) else g
                         for g in grads]
            return [g if k in self.diff else None for k, g in enumerate(grads)]
        return [
            _as(cr.Tensor._wrap(np.zeros(*out))) if g is None and out is not None else g
            for g, out in zip(grads, self.outs, strict=True)
        ]

    def vjp(self, cotangents: list) -> list:
        result = _backward_of(self.cls)(self.ctx, *self._grad_outputs(cotangents))
        result = result if isinstance(result, tuple) else (result,)
        expected = len(self.args)
        if len(result) > expected and all(g is None for g in result[expected:]):
            result = result[:expected]
        if len(result) != expected:
            raise RuntimeError(
                f"function {self.name} returned an incorrect number of gradients (expected "
                f"{expected}, got {len(result)})"
            )
        for position, (arg, grad) in enumerate(zip(self.args, result, strict=True)):
            if grad is not None and not isinstance(arg, cr.Tensor):
                raise RuntimeError(
                    f"function {self.name} returned a gradient different than None at "
                    f"position {position + 1}, but the corresponding forward input was not a "
                    f"Variable"
                )
        return [self._fitted(result[i], self.args[i], i) for i in self.positions]

    def _fitted(self, grad: Any, arg: Any, index: int) -> Any:
        """A gradient summed to its input's shape where it broadcasts to it, cast to its dtype
        (as PyTorch does); any other shape is an error naming the function."""
        if grad is None:
            return None
        if not isinstance(grad, cr.Tensor):
            raise TypeError(
                f"function {self.name} returned a {type(grad).__name__} as gradient {index}: "
                f"gradients are tensors (or None)"
            )
        shape, found = tuple(arg.shape), tuple(grad.shape)
        try:
            expandable = np.broadcast_shapes(shape, found) == found
        except ValueError:
            expandable = False
        if not expandable:
            raise RuntimeError(
                f"Function {self.name} returned an invalid gradient at index {index} - got "
                f"{list(found)} but expected shape compatible with {list(shape)}"
            )
        grad = unbroadcast(grad, shape, 0)
        return grad if grad.dtype == arg.dtype else api.astype(grad, arg.dtype)

    def jvp(self, tangents: list) -> list:
        grad_inputs: list = [None] * len(self.args)
        for i, tangent in zip(self.positions, tangents, strict=True):
            arg = self.args[i]
            if tangent is None and is_differentiable_dtype(arg.dtype):
                tangent = cr.zeros_like(arg.detach())
            grad_inputs[i] = None if tangent is None else _as(tangent)
        self.ctx._in_jvp = True
        try:
            result = self.cls.jvp(self.ctx, *grad_inputs)
        finally:
            self.ctx._in_jvp = False
        result = (result,) if self.single or not isinstance(result, tuple) else result
        if len(result) != len(self.outs):
            raise RuntimeError(
                f"function {self.cls.__name__}.jvp returned an incorrect number of tangents "
                f"(expected {len(self.outs)}, got {len(result)})"
            )
        return [result[k] for k in self.diff]


def once_differentiable(backward: Callable) -> Callable:
    """A ``backward`` written with operations that are not differentiable again: it runs with
    grad mode off, and differentiating its result raises (as in PyTorch)."""

    @functools.wraps(backward)
    def wrapper(ctx: Any, *args: Any) -> Any:
        with cr.no_grad():
            outputs = backward(ctx, *args)
        if not cr.is_grad_enabled():
            return outputs
        sources = [a for a in args if isinstance(a, cr.Tensor) and a.requires_grad]
        if not sources:
            return outputs
        single = not isinstance(outputs, tuple)
        outputs = (outputs,) if single else outputs
        tensors = [k for k, out in enumerate(outputs) if isinstance(out, cr.Tensor)]
        delayed = apply_rules(
            "DelayedError", sources, [array_of(outputs[k]) for k in tensors], _delayed_error,
            _delayed_error,
        )
        outputs = list(outputs)
        for k, out in zip(tensors, delayed, strict=True):
            outputs[k] = _as(out)
        return outputs[0] if single else tuple(outputs)

    return wrapper


def _delayed_error(flows: list) -> list:
    raise RuntimeError(
        "trying to differentiate twice a function that was marked with @once_differentiable"
    )
