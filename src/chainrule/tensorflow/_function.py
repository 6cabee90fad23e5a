"""``tf.function``: TensorFlow's graph compiler spelled as :func:`chainrule.jit`.

``tf.function(f)`` is ``cr.jit(f)``: the first call with a signature runs eagerly and records
(TensorFlow's tracing), later calls replay the record (TensorFlow's concrete function). A
``tf.GradientTape`` inside the function is recorded with the rest, and so is an update of a
``tf.Variable`` it closes over. Python ``if``/``while`` on tensor values need no AutoGraph:
the values seen become guards of the replay, and a call that takes another path traces it.
Unlike TensorFlow, Python side effects are not frozen into the graph: printing or Python's
random numbers make ``cr.jit`` run the call eagerly, with a
:class:`chainrule.tracing.JitWarning`.

``input_signature`` (a list of :class:`TensorSpec`, ``None`` for a dimension of any size) is
checked at each call as TensorFlow checks it, raising its ``TypeError``; Python values and
NumPy arrays are converted to the spec's dtype. ``autograph``, ``jit_compile``,
``reduce_retracing`` and the ``experimental_*`` arguments choose how TensorFlow builds and
compiles its graph, and have no meaning here: they are accepted and ignored.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable
from typing import Any

import numpy as onp

import chainrule as cr

from ..tracing import Jitted
from ._tensor import Tensor, TensorShape, converted


class TensorSpec:
    """The shape (``None`` for a dimension of any size, or for any shape) and dtype of a tensor
    argument, as in an ``input_signature``."""

    def __init__(self, shape: Any, dtype: Any = onp.float32, name: str | None = None) -> None:
        self.shape = None if shape is None else TensorShape(
            None if d is None else int(d) for d in shape)
        self.dtype = onp.dtype(dtype)
        self.name = name

    def __repr__(self) -> str:
        shape = None if self.shape is None else tuple(self.shape)
        return f"TensorSpec(shape={shape}, dtype=tf.{self.dtype.name}, name={self.name!r})"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, TensorSpec) and (self.shape, self.dtype, self.name) == (
            other.shape, other.dtype, other.name)

    __hash__ = None  # type: ignore[assignment]

    @classmethod
    def from_tensor(cls, tensor: Any, name: str | None = None) -> TensorSpec:
        return cls(tensor.shape, tensor.dtype, name)

    def is_compatible_with(self, value: Any) -> bool:
        """Whether ``value`` (a tensor or a spec) has this dtype and fits this shape."""
        shape = value.shape
        if onp.dtype(value.dtype) != self.dtype:
            return False
        if self.shape is None or shape is None:
            return True
        return len(shape) == len(self.shape) and all(
            d is None or e is None or d == e for d, e in zip(self.shape, shape, strict=True))


class Function(Jitted):
    """A jitted function whose calls are checked against an ``input_signature``, if any
    (TensorFlow's ``PolymorphicFunction``)."""

    def __init__(self, func: Callable, input_signature: Any = None) -> None:
        super().__init__(func)
        if input_signature is not None and not isinstance(input_signature, (list, tuple)):
            raise TypeError(f"input_signature must be either a tuple or a list, got "
                            f"{type(input_signature)}.")
        self.input_signature = None if input_signature is None else tuple(input_signature)

    @property
    def python_function(self) -> Callable:
        return self.fun

    def __get__(self, instance: Any, owner: Any = None) -> Any:
        """As a method: the signature describes the arguments after ``self``."""
        return self if instance is None else functools.partial(self._call, (instance,))

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return self._call((), *args, **kwargs)

    def _call(self, bound_self: tuple, *args: Any, **kwargs: Any) -> Any:
        if self.input_signature is not None:
            args, kwargs = self._bound(bound_self, args, kwargs)
        return super().__call__(*bound_self, *args, **kwargs)

    def _bound(self, bound_self: tuple, args: tuple, kwargs: dict) -> tuple:
        """The arguments converted to the signature's tensors; TypeError where they do not
        fit."""
        signature = inspect.signature(self.fun)
        names = list(signature.parameters)[len(bound_self):]
        try:
            bound = signature.bind(*bound_self, *args, **kwargs)
            given = list(bound.arguments)[len(bound_self):]
            if len(given) != len(self.input_signature):
                raise TypeError(f"takes {len(self.input_signature)} arguments by its "
                                f"input_signature, got {len(given)}")
            for name, spec in zip(given, self.input_signature, strict=True):
                bound.arguments[name] = _cast(bound.arguments[name], spec)
        except TypeError as error:
            described = ", ".join(f"{name}: {spec}" for name, spec in zip(
                names, self.input_signature, strict=False))
            raise TypeError(
                f"Binding inputs to tf.function `{self.__name__}` failed due to `{error}`. "
                f"Received args: {args} and kwargs: {kwargs} for signature: ({described})."
            ) from None
        return bound.args[len(bound_self):], bound.kwargs


def _cast(value: Any, spec: Any) -> Any:
    """``value`` as a tensor fitting ``spec`` (nested in lists and tuples as ``spec`` is)."""
    if isinstance(spec, (list, tuple)):
        if not isinstance(value, (list, tuple)) or len(value) != len(spec):
            raise TypeError(f"Can not cast {value!r:.60} to {spec}")
        return type(spec)(_cast(v, s) for v, s in zip(value, spec, strict=True))
    if not isinstance(spec, TensorSpec):
        raise TypeError(f"input_signature must hold tf.TensorSpec objects, got {spec!r}")
    if isinstance(value, cr.Tensor):
        tensor = value
    else:
        tensor = Tensor._wrap(converted(value, spec.dtype), cls=Tensor)
    if not spec.is_compatible_with(tensor):
        raise TypeError(f"Can not cast {TensorSpec.from_tensor(tensor)} to {spec}")
    return tensor


def function(func: Callable | None = None, input_signature: Any = None, autograph: bool = True,
             jit_compile: bool | None = None, reduce_retracing: bool = False,
             experimental_implements: Any = None, experimental_autograph_options: Any = None,
             experimental_attributes: Any = None, experimental_relax_shapes: Any = None,
             experimental_compile: Any = None,
             experimental_follow_type_hints: Any = None) -> Any:
    """``cr.jit`` with TensorFlow's arguments (see the module's docstring); a decorator with or
    without them.

    >>> import chainrule.tensorflow as tf
    >>> @tf.function(input_signature=[tf.TensorSpec([None], tf.float32)], jit_compile=True)
    ... def f(x):
    ...     return tf.reduce_sum(x * x)
    >>> f(tf.constant([1.0, 2.0])).numpy(), f([3.0, 4.0]).numpy()   # traces, then replays
    (np.float32(5.0), np.float32(25.0))
    >>> f(tf.constant([1, 2]))  # doctest: +ELLIPSIS, +NORMALIZE_WHITESPACE
    Traceback (most recent call last):
    TypeError: Binding inputs to tf.function `f` failed due to `Can not cast TensorSpec(shape=(2,),
    dtype=tf.int32, name=None) to TensorSpec(shape=(None,), dtype=tf.float32, name=None)`. ...
    """
    if func is None:
        return functools.partial(function, input_signature=input_signature)
    return Function(func, input_signature)


__all__ = ["Function", "TensorSpec", "function"]
