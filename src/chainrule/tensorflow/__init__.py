"""TensorFlow spelling: ``import chainrule.tensorflow as tf``.

A dictionary from TensorFlow's names to chainrule's. Python floats become float32 and Python
ints int32, and operations refuse mixed dtypes as TensorFlow does
(``tf.errors.InvalidArgumentError``; ``tf.cast`` converts); ``tf.Variable`` is a trainable
leaf; ``tf.GradientTape`` is the core's tape (:class:`chainrule.GradientTape`), so a
non-scalar target is differentiated as its sum, an unconnected source gets ``None``, and a
non-persistent tape works once. ``tf.function`` is ``cr.jit`` (with ``input_signature``
checked; see :mod:`._function`).

>>> import chainrule.tensorflow as tf
>>> x = tf.Variable(tf.range(4, dtype=tf.float32))
>>> with tf.GradientTape() as t:
...     y = 2 * tf.tensordot(x, x, axes=1)
>>> t.gradient(y, x)
<tf.Tensor: shape=(4,), dtype=float32, numpy=array([ 0.,  4.,  8., 12.], dtype=float32)>
"""

from __future__ import annotations

import builtins
import functools
import types
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

import numpy as onp

import chainrule as cr

from .. import ops as _ops
from . import errors  # noqa: F401

# Names imported by the same name are the module's exports, for type checkers too.
from ._custom_gradient import custom_gradient as custom_gradient
from ._function import TensorSpec as TensorSpec
from ._function import function as function  # (tf.function: cr.jit)
from ._recompute import recompute_grad as recompute_grad
from ._tensor import Tensor as Tensor
from ._tensor import TensorShape as TensorShape
from ._tensor import Variable as Variable
from ._tensor import (
    _as,
    binary,
    floating,
    matched,
    to_array,
    true_divide,
)

float16, float32, float64 = cr.float16, cr.float32, cr.float64
int8, int32, int64, uint8 = (onp.dtype(t) for t in ("int8", "int32", "int64", "uint8"))
bool = cr.bool_  # noqa: A001
string = onp.dtype("str")
newaxis = None


def _lifted(core: Callable, name: str | None = None) -> Callable:
    """A core function taking TensorFlow's inputs and returning TensorFlow tensors."""

    @functools.wraps(core)
    def lifted(*args: Any, name: Any = None, **kwargs: Any) -> Any:
        args = tuple(a if isinstance(a, cr.Tensor) or a is None else constant(a) if i == 0 else a
                     for i, a in enumerate(args))
        return _as(core(*args, **kwargs))

    if name:
        lifted.__name__ = lifted.__qualname__ = name
    return lifted


# ---------------------------------------------------------------- creation
def constant(value: Any, dtype: Any = None, shape: Any = None, name: Any = None) -> Tensor:
    """An immutable tensor; Python floats are float32 and Python ints int32."""
    array = to_array(value, dtype)
    if shape is not None:
        array = onp.broadcast_to(array, shape).copy()
    return Tensor._wrap(array, cls=Tensor)


convert_to_tensor = constant


def range(start: Any, limit: Any = None, delta: Any = 1, dtype: Any = None,  # noqa: A001
          name: Any = None) -> Tensor:
    """``range(4)`` is int32, ``range(4.0)`` or ``range(4, dtype=tf.float32)`` float32."""
    if limit is None:
        start, limit = 0, start
    return constant(onp.arange(start, limit, delta), dtype or _natural(start, limit, delta))


def _natural(*values: Any) -> Any:
    floating = builtins.any(onp.asarray(v).dtype.kind == "f" for v in values)
    return float32 if floating else int32


def zeros(shape: Any, dtype: Any = float32, name: Any = None) -> Tensor:
    return constant(onp.zeros(shape, dtype))


def ones(shape: Any, dtype: Any = float32, name: Any = None) -> Tensor:
    return constant(onp.ones(shape, dtype))


def fill(dims: Any, value: Any, name: Any = None) -> Tensor:
    return constant(onp.full(dims, to_array(value)))


def zeros_like(input: Any, dtype: Any = None, name: Any = None) -> Tensor:  # noqa: A002
    return constant(onp.zeros_like(onp.asarray(input), dtype))


def ones_like(input: Any, dtype: Any = None, name: Any = None) -> Tensor:  # noqa: A002
    return constant(onp.ones_like(onp.asarray(input), dtype))


def eye(num_rows: int, num_columns: int | None = None, dtype: Any = float32,
        name: Any = None) -> Tensor:
    return constant(onp.eye(num_rows, num_columns, dtype=dtype))


def linspace(start: Any, stop: Any, num: int, name: Any = None, axis: int = 0) -> Tensor:
    return constant(onp.linspace(start, stop, num, dtype=float32))


def identity(input: Any, name: Any = None) -> Tensor:  # noqa: A002
    return _as(cr.ops.copy(_tensor(input)))


def stop_gradient(input: Any, name: Any = None) -> Tensor:  # noqa: A002
    return _as(cr.stop_gradient(input))


def cast(x: Any, dtype: Any, name: Any = None) -> Tensor:
    return _as(cr.astype(_tensor(x), dtype))


# ---------------------------------------------------------------- math
def _reduction(core: Callable, name: str) -> Callable:
    def reduce(input_tensor: Any, axis: Any = None, keepdims: bool = False,
               name: Any = None) -> Tensor:
        axis = tuple(axis) if isinstance(axis, (list, tuple)) else axis
        x = _tensor(input_tensor)
        out = core(x, axis=axis, keepdims=keepdims)
        if x._array.dtype.kind in "iu" and out._array.dtype != x._array.dtype:
            # TensorFlow keeps an integer tensor's dtype: sums in it, means truncated
            out = cr.astype(cr.trunc(out) if out._array.dtype.kind == "f" else out, x._array.dtype)
        return _as(out)

    reduce.__name__ = reduce.__qualname__ = name
    reduce.__doc__ = f"``tf.{name}(input_tensor, axis=None, keepdims=False)``."
    return reduce


def _tensor(value: Any) -> Any:
    return value if isinstance(value, cr.Tensor) else constant(value)


reduce_sum = _reduction(cr.sum, "reduce_sum")
reduce_mean = _reduction(cr.mean, "reduce_mean")
reduce_max = _reduction(cr.max, "reduce_max")
reduce_min = _reduction(cr.min, "reduce_min")
reduce_prod = _reduction(cr.prod, "reduce_prod")
reduce_logsumexp = _reduction(cr.logsumexp, "reduce_logsumexp")
reduce_variance = _reduction(cr.var, "reduce_variance")
reduce_std = _reduction(cr.std, "reduce_std")
reduce_all = _reduction(lambda x, axis, keepdims: x.all(axis, keepdims), "reduce_all")
reduce_any = _reduction(lambda x, axis, keepdims: x.any(axis, keepdims), "reduce_any")

_ELEMENTWISE = {
    "abs": cr.abs, "square": cr.square, "negative": cr.negative, "sign": cr.sign,
    "floor": cr.floor, "logical_not": cr.logical_not,
}
_ELEMENTWISE = {name: _lifted(core, name) for name, core in _ELEMENTWISE.items()}
# Functions with TensorFlow's dtype rules: floating kernels only, or operands of one dtype.
_ELEMENTWISE.update({name: floating(getattr(_ops, name), op) for name, op in {
    "exp": "Exp", "log": "Log", "log1p": "Log1p", "sqrt": "Sqrt", "sin": "Sin", "cos": "Cos",
    "tan": "Tan", "tanh": "Tanh", "sigmoid": "Sigmoid"}.items()})
_ELEMENTWISE.update({name: binary(getattr(_ops, core), op) for name, (core, op) in {
    "add": ("add", "AddV2"), "subtract": ("subtract", "Sub"), "multiply": ("multiply", "Mul"),
    "pow": ("power", "Pow"), "maximum": ("maximum", "Maximum"),
    "minimum": ("minimum", "Minimum"), "equal": ("equal", "Equal"),
    "not_equal": ("not_equal", "NotEqual"), "less": ("less", "Less"),
    "less_equal": ("less_equal", "LessEqual"), "greater": ("greater", "Greater"),
    "greater_equal": ("greater_equal", "GreaterEqual"),
    "logical_and": ("logical_and", "LogicalAnd"), "logical_or": ("logical_or", "LogicalOr"),
}.items()})
_ELEMENTWISE["divide"] = _ELEMENTWISE["truediv"] = true_divide
globals().update({name: f for name, f in _ELEMENTWISE.items() if name not in ("log",)})

if TYPE_CHECKING:
    # The elementwise functions are made at import (globals().update), where type checkers cannot
    # see them: they take each as Any instead of reporting it missing.
    def __getattr__(name: str) -> Any: ...


def argmax(input: Any, axis: Any = None, output_type: Any = int64, name: Any = None) -> Tensor:  # noqa: A002
    """Index of the largest value along ``axis`` (0 by default, as in TensorFlow)."""
    return cast(cr.argmax(_tensor(input), axis=0 if axis is None else axis), output_type)


def argmin(input: Any, axis: Any = None, output_type: Any = int64, name: Any = None) -> Tensor:  # noqa: A002
    return cast(cr.argmin(_tensor(input), axis=0 if axis is None else axis), output_type)


def matmul(a: Any, b: Any, transpose_a: bool = False, transpose_b: bool = False,
           name: Any = None) -> Tensor:
    a, b = _tensor(a), _tensor(b)
    if transpose_a:
        a = cr.swapaxes(a, -1, -2)
    if transpose_b:
        b = cr.swapaxes(b, -1, -2)
    return _as(cr.matmul(*matched((a, b), "MatMul")))


def tensordot(a: Any, b: Any, axes: Any, name: Any = None) -> Tensor:
    """``axes=1`` contracts the last axis of ``a`` with the first of ``b``."""
    return _as(cr.tensordot(*matched((_tensor(a), _tensor(b)), "MatMul"), axes=axes))


def norm(tensor: Any, ord: Any = "euclidean", axis: Any = None, keepdims: bool | None = None,  # noqa: A002
         name: Any = None) -> Tensor:
    """The Euclidean norm of all elements (or along ``axis``)."""
    tensor = _tensor(tensor)
    # The 2-norm of all elements or of vectors along an int axis is the core's ord=None norm.
    whole = ord in ("euclidean", 2, 2.0) and (axis is None or isinstance(axis, int))
    ord_ = None if whole or ord in ("euclidean", "fro") else ord
    if axis is None and not whole:
        tensor, axis = cr.reshape(tensor, (-1,)), 0
    return _as(cr.linalg.norm(tensor, ord=ord_, axis=axis, keepdims=builtins.bool(keepdims)))


def reshape(tensor: Any, shape: Any, name: Any = None) -> Tensor:
    return _as(cr.reshape(_tensor(tensor), tuple(onp.asarray(shape).tolist())))


def transpose(a: Any, perm: Any = None, conjugate: bool = False, name: Any = None) -> Tensor:
    return _as(cr.transpose(_tensor(a), perm))


def concat(values: Sequence[Any], axis: int, name: Any = None) -> Tensor:
    return _as(cr.concatenate(list(matched([_tensor(v) for v in values], "ConcatV2")),
                              axis=axis))


def stack(values: Sequence[Any], axis: int = 0, name: Any = None) -> Tensor:
    return _as(cr.stack(list(matched([_tensor(v) for v in values], "Pack")), axis=axis))


def squeeze(input: Any, axis: Any = None, name: Any = None) -> Tensor:  # noqa: A002
    return _as(cr.squeeze(_tensor(input), axis))


def expand_dims(input: Any, axis: int, name: Any = None) -> Tensor:  # noqa: A002
    return _as(cr.expand_dims(_tensor(input), axis))


def tile(input: Any, multiples: Any, name: Any = None) -> Tensor:  # noqa: A002
    return _as(cr.tile(_tensor(input), tuple(onp.asarray(multiples).tolist())))


def where(condition: Any, x: Any = None, y: Any = None, name: Any = None) -> Tensor:
    if x is None and y is None:
        return constant(onp.argwhere(onp.asarray(condition)).astype(onp.int64))
    return _as(cr.where(condition, *matched((x, y), "SelectV2")))


def clip_by_value(t: Any, clip_value_min: Any, clip_value_max: Any, name: Any = None) -> Tensor:
    return _as(cr.clip(_tensor(t), clip_value_min, clip_value_max))


def gather(params: Any, indices: Any, axis: int = 0, name: Any = None) -> Tensor:
    index = (slice(None),) * (axis % onp.ndim(params)) + (onp.asarray(indices),)
    return _as(_tensor(params)[index])


def boolean_mask(tensor: Any, mask: Any, name: Any = None) -> Tensor:
    return _as(_tensor(tensor)[onp.asarray(mask).astype(builtins.bool)])


def one_hot(indices: Any, depth: int, on_value: Any = 1.0, off_value: Any = 0.0,
            dtype: Any = float32, name: Any = None) -> Tensor:
    labels = onp.asarray(indices)[..., None] == onp.arange(depth)
    return constant(onp.where(labels, on_value, off_value).astype(dtype))


def shape(input: Any, out_type: Any = int32, name: Any = None) -> Tensor:  # noqa: A002
    return constant(onp.array(onp.shape(input), dtype=out_type))


def size(input: Any, out_type: Any = int32, name: Any = None) -> Tensor:  # noqa: A002
    return constant(onp.array(onp.size(input), dtype=out_type))


def rank(input: Any, name: Any = None) -> Tensor:  # noqa: A002
    return constant(onp.array(onp.ndim(input), dtype=int32))


def _softmax(core: Callable) -> Callable:
    def apply(logits: Any, axis: Any = None, name: Any = None) -> Tensor:
        return _as(core(_tensor(logits), axis=-1 if axis is None else axis))

    return apply


def sparse_softmax_cross_entropy_with_logits(labels: Any, logits: Any, name: Any = None) -> Tensor:
    """Per-example cross-entropy of integer ``labels`` under ``logits`` (no reduction)."""
    log_probs = cr.log_softmax(_tensor(logits), axis=-1)
    rows = onp.arange(log_probs.shape[0])
    return _as(-log_probs[rows, onp.asarray(labels).astype(onp.int64)])


def softmax_cross_entropy_with_logits(labels: Any, logits: Any, axis: int = -1,
                                      name: Any = None) -> Tensor:
    return _as(-cr.sum(labels * cr.log_softmax(_tensor(logits), axis=axis), axis=axis))


# ---------------------------------------------------------------- namespaces
math = types.SimpleNamespace(
    **_ELEMENTWISE, reduce_sum=reduce_sum, reduce_mean=reduce_mean, reduce_max=reduce_max,
    reduce_min=reduce_min, reduce_prod=reduce_prod, reduce_logsumexp=reduce_logsumexp,
    reduce_variance=reduce_variance, reduce_std=reduce_std, argmax=argmax, argmin=argmin,
    softplus=_lifted(lambda x: cr.log1p(cr.exp(-cr.abs(x))) + cr.relu(x), "softplus"),
)
linalg = types.SimpleNamespace(matmul=matmul, norm=norm,
                               matvec=lambda a, b: _as(cr.matmul(a, b)))
nn = types.SimpleNamespace(
    relu=_lifted(cr.relu, "relu"), sigmoid=_ELEMENTWISE["sigmoid"],
    tanh=_ELEMENTWISE["tanh"], softmax=_softmax(cr.softmax),
    log_softmax=_softmax(cr.log_softmax),
    sparse_softmax_cross_entropy_with_logits=sparse_softmax_cross_entropy_with_logits,
    softmax_cross_entropy_with_logits=softmax_cross_entropy_with_logits,
)


def _random_normal(shape: Any, mean: Any = 0.0, stddev: Any = 1.0, dtype: Any = float32,
                   seed: Any = None, name: Any = None) -> Tensor:
    return constant(cr.random.normal(mean, stddev, size=tuple(shape), dtype=dtype)._array)


def _random_uniform(shape: Any, minval: Any = 0, maxval: Any = None, dtype: Any = float32,
                    seed: Any = None, name: Any = None) -> Tensor:
    high = 1 if maxval is None else maxval
    return constant(cr.random.uniform(minval, high, size=tuple(shape), dtype=dtype)._array)


random = types.SimpleNamespace(normal=_random_normal, uniform=_random_uniform,
                               set_seed=cr.random.seed)


# ---------------------------------------------------------------- autodiff
class GradientTape(cr.GradientTape):
    """The core tape, giving TensorFlow tensors.

    >>> import chainrule.tensorflow as tf
    >>> x = tf.constant(3.0)
    >>> with tf.GradientTape() as t:
    ...     t.watch(x)
    ...     y = x * x
    >>> t.gradient(y, x)
    <tf.Tensor: shape=(), dtype=float32, numpy=6.0>
    """

    def gradient(self, target: Any, sources: Any, output_gradients: Any = None,
                 unconnected_gradients: str = "none") -> Any:
        return _as(super().gradient(target, sources, output_gradients, unconnected_gradients))

    def jacobian(self, target: Any, sources: Any, unconnected_gradients: str = "none",
                 parallel_iterations: Any = None, experimental_use_pfor: bool = True) -> Any:
        return _as(super().jacobian(target, sources, unconnected_gradients))


__all__ = [
    name for name in dir()
    if not name.startswith("_") and name not in (
        "builtins", "functools", "types", "onp", "cr", "binary", "floating", "matched",
        "to_array", "true_divide")
] + ["Tensor", "TensorShape", "Variable"]
