"""``mxnet.np.ndarray``: the core tensor with MXNet's semantics selected.

Two core options make the difference (DESIGN.md decision 8): ``_record_only`` (operations are
recorded only inside ``autograd.record()``) and ``_implicit_sum`` (``backward()`` on a
non-scalar differentiates the sum of its elements). ``attach_grad()`` is the core's: ``.grad``
starts as zeros and each backward overwrites it.
"""

from __future__ import annotations

from typing import Any

import numpy as onp

import chainrule as cr


class ndarray(cr.Tensor):  # noqa: N801 - MXNet's name
    """An MXNet NumPy-interface array.

    >>> from chainrule.mxnet import autograd, np
    >>> x = np.arange(3)
    >>> x.attach_grad()
    >>> with autograd.record():
    ...     y = x * x
    >>> y.backward()
    >>> x.grad
    array([0., 2., 4.])
    """

    __slots__ = ()
    _record_only = True
    _converts_freely = True  # as TensorFlow and MXNet hand values to NumPy while recording
    _implicit_sum = True

    def __repr__(self) -> str:
        text = repr(onp.asarray(self.data))
        return text.replace(", dtype=float32)", ")")

    def __str__(self) -> str:
        return str(onp.asarray(self.data))

    def __getitem__(self, index: Any) -> Any:
        """MXNet indexes with float32 arrays too (its default dtype): they are cast to int."""
        if isinstance(index, tuple):
            index = tuple(_integral(item) for item in index)
        else:
            index = _integral(index)
        return super().__getitem__(index)

    def asnumpy(self) -> onp.ndarray:
        """A NumPy copy of the data."""
        return onp.array(self.data)

    def asscalar(self) -> Any:
        return self.item()

    def as_np_ndarray(self) -> ndarray:
        return self

    as_nd_ndarray = as_np_ndarray

    def astype(self, dtype: Any, copy: bool = True) -> ndarray:
        return cr.astype(self, dtype)

    def backward(self, out_grad: Any = None, retain_graph: bool = False,  # type: ignore[override]
                 train_mode: bool = True) -> None:
        """Backpropagate; a non-scalar array is summed first (MXNet's convention)."""
        super().backward(out_grad, retain_graph=retain_graph)

    def attach_grad(self, grad_req: str = "write", stype: Any = None) -> None:
        super().attach_grad(grad_req)

    def copyto(self, other: Any) -> Any:
        if isinstance(other, cr.Tensor):
            other[...] = self
            return other
        return _as(cr.ops.copy(self))


def _integral(item: Any) -> Any:
    if isinstance(item, cr.Tensor) and item.data.dtype.kind == "f":
        return item.data.astype(onp.int64)
    return item


def _as(value: Any) -> Any:
    """A result of the core as an MXNet array (tuples and lists element by element)."""
    if isinstance(value, (tuple, list)):
        return type(value)(_as(v) for v in value)
    if not isinstance(value, cr.Tensor) or type(value) is ndarray:
        return value
    return value._as_class(ndarray)
