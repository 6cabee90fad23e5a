"""``tf.Tensor`` and ``tf.Variable``: the core tensor with TensorFlow's names.

A variable is a leaf that requires grad (when trainable and floating), changed in place only by
``assign``, ``assign_add`` and ``assign_sub``; operations on it give plain tensors (the core's
``_op_class`` option).

TensorFlow does not promote dtypes: the operands of an operation must share one dtype
(``InvalidArgumentError`` otherwise), and a Python number or NumPy value is converted to the
tensor's dtype when that loses no kind (an int to a float tensor), else ``TypeError``. True
division casts integers to float32 (8 and 16 bits) or float64 (32 and 64 bits); the floating
functions (``tf.sqrt``, ``tf.exp``...) refuse integers. This is checked here, at the dialect's
boundary, before the core op runs.
"""

from __future__ import annotations

import operator
from collections.abc import Callable
from typing import Any

import numpy as onp

import chainrule as cr

from .. import backends, ops
from .errors import InvalidArgumentError


def to_array(value: Any, dtype: Any = None) -> onp.ndarray:
    """TensorFlow's conversions: Python floats to float32, Python ints to int32."""
    if isinstance(value, cr.Tensor):
        array = onp.array(value._array)
    elif isinstance(value, (onp.ndarray, onp.generic)):
        array = onp.array(value)
    else:
        array = cr.tensor(value)._array
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
        data = onp.asarray(self._array)
        return (f"<tf.Tensor: shape={data.shape}, dtype={data.dtype}, "
                f"numpy={_numpy_repr(data)}>")

    def __str__(self) -> str:
        data = onp.asarray(self._array)
        return f"tf.Tensor({data}, shape={data.shape}, dtype={data.dtype})"

    @property
    def shape(self) -> TensorShape:
        return TensorShape(self._array.shape)

    def get_shape(self) -> TensorShape:
        return self.shape

    def numpy(self) -> Any:
        data = onp.asarray(self._array)
        return data[()] if data.ndim == 0 else data

    def __array__(self, dtype: Any = None, copy: Any = None) -> onp.ndarray:
        array = onp.asarray(self._array)
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
        if trainable and self._array.dtype.kind in "fc":
            self.requires_grad = True

    def __repr__(self) -> str:
        data = onp.asarray(self._array)
        return (f"<tf.Variable '{self.name}' shape={data.shape} dtype={data.dtype}, "
                f"numpy={_numpy_repr(data)}>")

    def _update(self, new: Any, fresh: bool) -> Variable:
        """Give the variable the value ``new`` (an array of its dtype; ``fresh`` when nothing
        else holds it).

        A TensorFlow variable holds a value, and reading it gives that value: an assignment
        gives the variable a new buffer (what was read before, a slice, a ``.numpy()`` or the
        values a tape saved, keeps the old one), as TensorFlow's do; ``cr.jit`` records the
        rebinding and makes it again at each replay (backends.rebind)."""
        data = self._array
        if onp.shape(new) != data.shape:
            raise ValueError(
                f"Cannot assign value to variable ' {self.name}': Shape mismatch. The variable "
                f"shape {data.shape}, and the assigned value shape {onp.shape(new)} are "
                f"incompatible."
            )
        if not fresh or onp.ndim(new) == 0:  # (a buffer of its own; scalars as 0-d arrays)
            new = backends.copy(new)
        backends.rebind(self, new, fresh=True)
        return self

    def _operand(self, value: Any) -> Any:
        """``value`` as an array of the variable's dtype, converted as TensorFlow converts an
        assigned value; a tensor's array is cast, not copied through NumPy, so that ``cr.jit``
        records the conversion instead of reading (and guarding on) the values."""
        dtype = self._array.dtype
        if isinstance(value, cr.Tensor):
            array = value._array
            return array if array.dtype == dtype else array.astype(dtype)
        return to_array(value, dtype)

    def _combined(self, delta: Any, op: Callable) -> Any:
        data, operand = backends.lift((self._array, self._operand(delta)))
        return op(data, operand)

    def assign(self, value: Any, use_locking: bool = False, name: Any = None,
               read_value: bool = True) -> Variable:
        """Overwrite the value (no gradient flows through an assignment)."""
        return self._update(self._operand(value), fresh=not isinstance(value, cr.Tensor))

    def assign_add(self, delta: Any, use_locking: bool = False, name: Any = None,
                   read_value: bool = True) -> Variable:
        return self._update(self._combined(delta, operator.add), fresh=True)

    def assign_sub(self, delta: Any, use_locking: bool = False, name: Any = None,
                   read_value: bool = True) -> Variable:
        return self._update(self._combined(delta, operator.sub), fresh=True)

    def numpy(self) -> Any:
        """A copy of the value: an assignment may write into the variable's buffer (under
        ``cr.jit``), and TensorFlow's ``numpy()`` of a variable keeps the value it read."""
        data = onp.array(self._array)
        return data[()] if data.ndim == 0 else data

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
    return value._derive(Tensor)


# ---------------------------------------------------------------- TensorFlow's dtype rules
_NO_PARAMS: dict = {}
# TensorFlow's names for dtypes in its messages ("expected to be a float tensor")
_TF_NAMES = {"float32": "float", "float64": "double", "float16": "half"}


def _tf_name(dtype: onp.dtype) -> str:
    return _TF_NAMES.get(dtype.name, dtype.name)


def _compatible(source: onp.dtype, target: onp.dtype) -> bool:
    """Whether TensorFlow converts a value of ``source`` to a tensor of ``target`` (never to a
    lower kind: a float is not converted to an integer, nor anything to or from bool)."""
    if source == target:
        return True
    if "b" in (source.kind, target.kind):
        return False
    order = {"u": 0, "i": 0, "f": 1, "c": 2}
    return order[source.kind] <= order[target.kind]


def converted(value: Any, dtype: onp.dtype) -> onp.ndarray:
    """A number, list or NumPy value as an operand of a tensor of ``dtype``."""
    array = to_array(value)
    if array.dtype == dtype:
        return array
    if array.dtype.kind not in "biufc" or not _compatible(array.dtype, dtype):
        raise TypeError(
            f"Cannot convert {value!r:.40} to EagerTensor of dtype {_tf_name(dtype)}: "
            f"TensorFlow converts a value to the tensor's dtype and does not promote; pass a "
            f"{dtype} value, or tf.cast the tensor first"
        )
    return array.astype(dtype)


def matched(operands: Any, op_name: str) -> tuple:
    """``operands`` as TensorFlow takes them: tensors of one dtype (else InvalidArgumentError),
    the other values converted to it."""
    dtype = None
    for position, operand in enumerate(operands):
        if isinstance(operand, cr.Tensor):
            if dtype is None:
                dtype = operand._array.dtype
            elif operand._array.dtype != dtype:
                raise InvalidArgumentError(None, None, (
                    f"cannot compute {op_name} as input #{position}(zero-based) was expected to "
                    f"be a {_tf_name(dtype)} tensor but is a {_tf_name(operand._array.dtype)} "
                    f"tensor [Op:{op_name}] (TensorFlow does not promote dtypes: tf.cast one "
                    f"of them first)"
                ))
    if dtype is None:
        dtype = to_array(operands[0]).dtype
    return tuple([operand if isinstance(operand, cr.Tensor) else converted(operand, dtype)
                  for operand in operands])


_KEEPS = {float: "fc", int: "iufc"}


def _binary(prim: Any, op_name: str, reflected: bool = False) -> Callable:
    """``self <op> other`` by TensorFlow's rules, with no work when the dtypes agree."""
    apply = prim.apply

    def operator(self: Tensor, other: Any) -> Any:
        data = self._array
        if isinstance(other, cr.Tensor):
            same = other._array.dtype is data.dtype
        else:  # a number that keeps the tensor's dtype (with NumPy 1's rules as with 2's)
            same = data.ndim and data.dtype.kind in _KEEPS.get(type(other), "")
        operands = (other, self) if reflected else (self, other)
        # (the result takes the class of its first tensor operand: a TensorFlow tensor)
        return apply(operands if same else matched(operands, op_name), _NO_PARAMS)

    return operator


def binary(prim: Any, op_name: str) -> Callable:
    """``tf.<name>(x, y)``: the operator's rules, for any two operands."""

    def function(x: Any, y: Any, name: Any = None) -> Any:
        return _as(prim.apply(matched((x, y), op_name), _NO_PARAMS))

    function.__name__ = prim.name
    return function


# True division: integers are cast to a float wide enough for them first.
_TRUEDIV = {"int8": "float32", "uint8": "float32", "int16": "float32", "uint16": "float32",
            "int32": "float64", "uint32": "float64", "int64": "float64", "uint64": "float64"}


def true_divide(x: Any, y: Any, name: Any = None) -> Any:
    """``x / y`` as ``tf.math.truediv``: operands of one dtype, integers divided in a float."""
    try:
        x, y = matched((x, y), "RealDiv")
    except (InvalidArgumentError, TypeError):
        dtypes = [_tf_name(to_array(v).dtype if not isinstance(v, cr.Tensor) else v._array.dtype)
                  for v in (x, y)]
        raise TypeError(
            f"`x` and `y` must have the same dtype, got tf.{dtypes[0]} != tf.{dtypes[1]} "
            "(TensorFlow does not promote: tf.cast one of them first)"
        ) from None
    dtype = (x if isinstance(x, cr.Tensor) else y)._array.dtype
    if dtype.kind == "b":
        raise TypeError("Invalid dtype <dtype: 'bool'> in __truediv__: cast to a number first")
    target = _TRUEDIV.get(dtype.name)
    if target is not None:
        x, y = (cr.astype(v, target) if isinstance(v, cr.Tensor) else v.astype(target)
                for v in (x, y))
    return _as(ops.true_divide.apply((x, y), _NO_PARAMS))


def floating(prim: Any, op_name: str) -> Callable:
    """A floating function (``tf.sqrt``, ``tf.exp``...): TensorFlow has no integer kernel."""

    def function(x: Any, name: Any = None) -> Any:
        x = x if isinstance(x, cr.Tensor) else Tensor._wrap(to_array(x), cls=Tensor)
        if x._array.dtype.kind not in "fc":
            raise InvalidArgumentError(None, None, (
                f"Value for attr 'T' of {_tf_name(x._array.dtype)} is not in the list of allowed "
                f"values: bfloat16, half, float, double, complex64, complex128 [Op:{op_name}] "
                "(tf.cast the tensor to a float first)"
            ))
        return _as(prim.apply((x,), _NO_PARAMS))

    function.__name__ = prim.name
    return function


_OPERATORS = {  # operator: (primitive, TensorFlow's op)
    "add": (ops.add, "AddV2"), "sub": (ops.subtract, "Sub"), "mul": (ops.multiply, "Mul"),
    "pow": (ops.power, "Pow"), "floordiv": (ops.floor_divide, "FloorDiv"),
    "mod": (ops.remainder, "FloorMod"),
}
for _name, (_prim, _op) in _OPERATORS.items():
    setattr(Tensor, f"__{_name}__", _binary(_prim, _op))
    setattr(Tensor, f"__r{_name}__", _binary(_prim, _op, reflected=True))
for _name, (_prim, _op) in {"lt": (ops.less, "Less"), "le": (ops.less_equal, "LessEqual"),
                            "gt": (ops.greater, "Greater"),
                            "ge": (ops.greater_equal, "GreaterEqual")}.items():
    setattr(Tensor, f"__{_name}__", _binary(_prim, _op))
_equal, _not_equal = _binary(ops.equal, "Equal"), _binary(ops.not_equal, "NotEqual")
Tensor.__eq__ = lambda self, other: False if other is None else _equal(self, other)
Tensor.__ne__ = lambda self, other: True if other is None else _not_equal(self, other)
Tensor.__truediv__ = lambda self, other: true_divide(self, other)
Tensor.__rtruediv__ = lambda self, other: true_divide(other, self)
Tensor.__matmul__ = lambda self, other: _as(ops.matmul.apply(matched((self, other), "MatMul"),
                                                             _NO_PARAMS))
Tensor.__rmatmul__ = lambda self, other: _as(ops.matmul.apply(matched((other, self), "MatMul"),
                                                              _NO_PARAMS))

# A NumPy number on the left of an operator (``onp.float64(2) * x``) reaches the tensor as a
# ufunc: binary ufuncs follow TensorFlow's rules, as the operators do.
_UFUNCS = {getattr(onp, name): binary(getattr(ops, name), op) for name, op in {
    "add": "AddV2", "subtract": "Sub", "multiply": "Mul", "power": "Pow",
    "floor_divide": "FloorDiv", "remainder": "FloorMod", "maximum": "Maximum",
    "minimum": "Minimum", "equal": "Equal", "not_equal": "NotEqual", "less": "Less",
    "less_equal": "LessEqual", "greater": "Greater", "greater_equal": "GreaterEqual"}.items()}
_UFUNCS[onp.true_divide] = true_divide


Tensor._ufunc_routes = _UFUNCS  # (NumPy's ufuncs refuse mixed dtypes as TensorFlow's ops)
