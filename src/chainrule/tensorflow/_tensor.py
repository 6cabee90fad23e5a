"""``tf.Tensor`` and ``tf.Variable``: the core tensor with TensorFlow's names.

A variable is a leaf that requires grad (when trainable and floating), changed in place only by
``assign``, ``assign_add`` and ``assign_sub``; operations on it give plain tensors (the core's
``_op_class`` option).
"""

from __future__ import annotations

from typing import Any

import numpy as onp

import chainrule as cr


def to_array(value: Any, dtype: Any = None) -> onp.ndarray:
    """TensorFlow's conversions: Python floats to float32, Python ints to int32."""
    if isinstance(value, cr.Tensor):
        array = onp.array(value.data)
    elif isinstance(value, (onp.ndarray, onp.generic)):
        array = onp.array(value)
    else:
        array = cr.tensor(value).data
        if array.dtype == onp.int64:
            array = array.astype(onp.int32)
    return array if dtype is None else array.astype(cr.tensor(0, dtype).dtype)


class TensorShape(tuple):
    """The shape of a tensor (a tuple), printed as TensorFlow does."""

    def __repr__(self) -> str:
        return f"TensorShape({list(self)})"

    def as_list(self) -> list:
        return list(self)

    @property
    def rank(self) -> int:
        return len(self)


def _numpy_repr(data: onp.ndarray) -> str:
    if data.ndim == 0:
        return str(data[()])
    text = repr(onp.asarray(data))
    if "dtype=" not in text and data.dtype.kind != "b":
        text = text[:-1] + f", dtype={data.dtype})"
    return text


class Tensor(cr.Tensor):
    """An immutable TensorFlow-style tensor.

    >>> import chainrule.tensorflow as tf
    >>> tf.constant([1.0, 2.0])
    <tf.Tensor: shape=(2,), dtype=float32, numpy=array([1., 2.], dtype=float32)>
    """

    __slots__ = ()
    # Operations are recorded only while a GradientTape is recording (a core option).
    _record_only = True
    _converts_freely = True  # as TensorFlow and MXNet hand values to NumPy while recording

    def __repr__(self) -> str:
        data = onp.asarray(self.data)
        return (f"<tf.Tensor: shape={data.shape}, dtype={data.dtype}, "
                f"numpy={_numpy_repr(data)}>")

    def __str__(self) -> str:
        data = onp.asarray(self.data)
        return f"tf.Tensor({data}, shape={data.shape}, dtype={data.dtype})"

    @property
    def shape(self) -> TensorShape:
        return TensorShape(self.data.shape)

    def get_shape(self) -> TensorShape:
        return self.shape

    def numpy(self) -> Any:
        data = onp.asarray(self.data)
        return data[()] if data.ndim == 0 else data

    def __array__(self, dtype: Any = None, copy: Any = None) -> onp.ndarray:
        array = onp.asarray(self.data)
        return array.astype(dtype) if dtype is not None else array

    def __hash__(self) -> int:
        return id(self)

    # TensorFlow's tensors are immutable: ``x += 1`` makes a new tensor, item assignment fails.
    def __iadd__(self, other: Any) -> Tensor:
        return self + other

    def __isub__(self, other: Any) -> Tensor:
        return self - other

    def __imul__(self, other: Any) -> Tensor:
        return self * other

    def __itruediv__(self, other: Any) -> Tensor:
        return self / other

    def __setitem__(self, index: Any, value: Any) -> None:
        raise TypeError(f"'{type(self).__name__}' object does not support item assignment")


class Variable(Tensor):
    """A mutable, trainable tensor: what ``GradientTape`` watches by itself.

    >>> import chainrule.tensorflow as tf
    >>> w = tf.Variable([1.0, 2.0])
    >>> w.assign_sub([0.5, 0.5])
    <tf.Variable 'Variable:0' shape=(2,) dtype=float32, numpy=array([0.5, 1.5], dtype=float32)>
    """

    __slots__ = ("name", "trainable")
    _op_class = Tensor

    def __init__(self, initial_value: Any, trainable: bool = True, name: str | None = None,
                 dtype: Any = None) -> None:
        super().__init__(to_array(initial_value, dtype))
        self.name = f"{name or 'Variable'}:0"
        self.trainable = trainable
        if trainable and self.data.dtype.kind in "fc":
            self.requires_grad = True

    def __repr__(self) -> str:
        data = onp.asarray(self.data)
        return (f"<tf.Variable '{self.name}' shape={data.shape} dtype={data.dtype}, "
                f"numpy={_numpy_repr(data)}>")

    def _update(self, value: Any) -> Variable:
        with cr.no_grad():
            self._assign(to_array(value, self.data.dtype))
        return self

    def assign(self, value: Any, use_locking: bool = False, name: Any = None,
               read_value: bool = True) -> Variable:
        """Overwrite the value in place (no gradient flows through an assignment)."""
        return self._update(value)

    def assign_add(self, delta: Any, use_locking: bool = False, name: Any = None,
                   read_value: bool = True) -> Variable:
        return self._update(self.data + to_array(delta, self.data.dtype))

    def assign_sub(self, delta: Any, use_locking: bool = False, name: Any = None,
                   read_value: bool = True) -> Variable:
        return self._update(self.data - to_array(delta, self.data.dtype))

    def read_value(self) -> Tensor:
        return _as(cr.ops.copy(self))

    value = read_value


def _as(value: Any) -> Any:
    """A core result as a TensorFlow tensor (nested lists and tuples element by element)."""
    if isinstance(value, (tuple, list)):
        return type(value)(_as(v) for v in value)
    if isinstance(value, dict):
        return {k: _as(v) for k, v in value.items()}
    if not isinstance(value, cr.Tensor) or type(value) in (Tensor, Variable):
        return value
    return value._as_class(Tensor)
