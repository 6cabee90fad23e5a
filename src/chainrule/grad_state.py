"""What autograd knows about a tensor, and how a user asks for it: ``requires_grad``,
``.grad``, hooks, ``retain_grad``, ``backward``.

A tensor that requires grad is a leaf (no node: its ``.grad`` is written by backward) or the
result of a recorded operation (``grad_fn`` is its :class:`~chainrule.node.Node`, which holds
its hooks and ``retain_grad``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from .dtypes import is_differentiable_dtype
from .modes import state
from .node import Retain

if TYPE_CHECKING:
    from .tensor import Tensor

_GRAD_REQS = ("write", "add", "null")


class GradState:
    """The autograd methods of :class:`~chainrule.tensor.Tensor` (a mixin over the tensor's
    ``_requires_grad``, ``_grad``, ``_node``, ``_grad_req``, ``_hooks`` and ``_view``)."""

    __slots__ = ()
    if TYPE_CHECKING:
        _array: Any
        _requires_grad: bool
        _grad: Tensor | None
        _node: Any
        _version: Any
        _tangents: dict | None
        _grad_req: str | None
        _hooks: list | None
        _view: Any

    @property
    def grad(self) -> Tensor | None:
        """The gradient accumulated by backward (None until then); assigning checks that it
        is a tensor of this tensor's shape and dtype (or None)."""
        return self._grad

    @grad.setter
    def grad(self, value: Any) -> None:
        if value is not None:
            if not isinstance(value, GradState):
                raise TypeError(
                    f"assigned grad must be a tensor or None, got {type(value).__name__}"
                )
            if value._array.shape != self._array.shape:
                raise RuntimeError(
                    f"attempting to assign a gradient of shape {value._array.shape} to a tensor "
                    f"of shape {self._array.shape}; they must be the same shape"
                )
            if value._array.dtype != self._array.dtype:
                raise RuntimeError(
                    f"attempting to assign a gradient of dtype {value._array.dtype} to a tensor "
                    f"of dtype {self._array.dtype}; cast it first (g.astype(x.dtype))"
                )
        self._grad = value

    @property
    def requires_grad(self) -> bool:
        return self._requires_grad

    @requires_grad.setter
    def requires_grad(self, value: bool) -> None:
        value = bool(value)
        if self._node is not None:
            if not value:
                raise RuntimeError(
                    "requires_grad can only be changed on a leaf tensor; this one is the "
                    f"output of {self._node!r}. Use y = x.detach() to get a tensor without "
                    "history."
                )
            return
        if value and not is_differentiable_dtype(self._array.dtype):
            raise TypeError(
                f"only floating-point and complex tensors can require gradients, this one has "
                f"dtype {self._array.dtype}; convert it first, e.g. x.astype('float32')"
            )
        self._requires_grad = value
        if value:
            self._view = None  # a leaf of its own now: its history is no longer its base's

    def requires_grad_(self, requires_grad: bool = True) -> Tensor:
        """Make this leaf record operations; ``.grad`` starts as None and accumulates.

        >>> import chainrule as cr
        >>> x = cr.arange(3.0).requires_grad_()
        >>> x.grad is None
        True
        """
        self.requires_grad = requires_grad
        return self

    def attach_grad(self, grad_req: str = "write") -> None:
        """MXNet's ``attach_grad``: allocate ``.grad`` as zeros, then each backward writes it.

        ``grad_req="add"`` accumulates instead and ``"null"`` never writes it. Attaching to the
        output of an operation detaches it from its history, as in MXNet.

        >>> import chainrule as cr
        >>> x = cr.arange(3.0); x.attach_grad(); x.grad
        tensor([0., 0., 0.])
        """
        if grad_req not in _GRAD_REQS:
            raise ValueError(f"grad_req must be one of {_GRAD_REQS}, got {grad_req!r}")
        if not is_differentiable_dtype(self._array.dtype):
            raise TypeError(
                f"only floating-point tensors can have gradients, this one has dtype "
                f"{self._array.dtype}; create it with a float dtype (e.g. arange(4.0))"
            )
        self._node = None
        self._requires_grad = True
        self._view = None  # a leaf of its own (see requires_grad)
        self._grad_req = grad_req
        self._grad = self._wrap(np.zeros_like(self._array), cls=self._op_class)

    @property
    def is_leaf(self) -> bool:
        return self._node is None

    @property
    def grad_fn(self) -> Any:
        return self._node

    @property
    def grad_req(self) -> str | None:
        return self._grad_req

    def retain_grad(self) -> None:
        """Keep ``.grad`` for a non-leaf tensor after backward (PyTorch's ``retain_grad``).

        >>> import chainrule as cr
        >>> x = cr.tensor([1.0, 2.0], requires_grad=True)
        >>> h = x * 3; h.retain_grad()
        >>> (h * h).sum().backward(); h.grad
        tensor([ 6., 12.])
        """
        if self._node is None or self.retains_grad:
            return
        self._node.retain(self)

    @property
    def retains_grad(self) -> bool:
        """Whether ``retain_grad()`` was called on this non-leaf tensor."""
        hooks = self._node.hooks if self._node is not None else None
        return bool(hooks) and any(type(h) is Retain and h.ref() is self for h in hooks)

    def register_hook(self, hook) -> None:
        """Call ``hook(grad)`` with this tensor's gradient (a tensor) during backward; a result
        that is not None replaces the gradient. On a leaf it runs before ``.grad`` is written.

        >>> import chainrule as cr
        >>> x = cr.tensor([1.0, 2.0], requires_grad=True)
        >>> x.register_hook(lambda grad: grad * 10)
        >>> (x * x).sum().backward(); x.grad
        tensor([20., 40.])
        """
        if not self._requires_grad:
            raise RuntimeError(
                "cannot register a hook on a tensor that does not require grad; call "
                "x.requires_grad_() first"
            )
        if self._node is None:  # kept on the tensor: a hook that refers to it dies with it
            self._hooks = [*(self._hooks or ()), hook]
        else:
            self._node.add_hook(hook)
    def detach_(self) -> Tensor:
        self._node = None
        self._requires_grad = False
        self._tangents = None
        return self

    def backward(
        self,
        gradient: Any = None,
        retain_graph: bool | None = None,
        create_graph: bool = False,
        inputs: Any = None,
    ) -> None:
        """Backpropagate from this tensor and accumulate into the leaves' ``.grad``.

        >>> import chainrule as cr
        >>> x = cr.arange(4.0, requires_grad=True)
        >>> y = 2 * cr.dot(x, x)
        >>> y.backward()
        >>> x.grad
        tensor([ 0.,  4.,  8., 12.])
        """
        # The engine is layers above (it imports the op table and Tensor, which mixes this
        # class in): imported when backward runs.
        from .engine import backward

        backward(self, gradient, retain_graph, create_graph, inputs)


    def _recording(self) -> bool:
        """Whether operations on this tensor are being recorded now."""
        return state.grad_enabled and (state.recording or not self._record_only)

    def _move_history(self, node: Any, rg: bool) -> None:
        """Give this tensor a new history (an in-place update): ``retain_grad`` follows it."""
        old = self._node
        if old is not None and old.hooks and old.release(self) and node is not None:
            node.retain(self)
        self._node, self._requires_grad = node, rg
