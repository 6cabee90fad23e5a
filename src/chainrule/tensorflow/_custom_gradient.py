"""``tf.custom_gradient``: a function that gives its own gradient, on the core's carrier.

The decorated ``f(*x)`` returns ``(y, grad_fn)``. ``f`` runs as usual (recorded, so tensors
``grad_fn`` closes over keep their history: a ``grad_fn`` written with TensorFlow's operations
differentiates again under nested tapes); ``y``'s tensors are then recorded as one op of the
``x`` (and of the variables ``f`` used), whose reverse rule is ``grad_fn``
(:func:`chainrule.custom.rules.apply_rules`). As in TensorFlow's eager mode:

- ``grad_fn(*upstream)`` gets one upstream gradient per tensor of ``y`` and returns one
  gradient per ``x`` (a single tensor for one);
- when ``f`` uses trainable ``tf.Variable``\\ s that are not among ``x``, ``grad_fn`` must accept
  ``variables=``: it is called with the list of them and returns ``(grads_x, grads_variables)``.
  Here the variables ``f`` used are the ones ``y`` depends on, as recorded (under a tape).
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable
from typing import Any

import chainrule as cr
from chainrule.custom.call import active, closed_over
from chainrule.custom.rules import apply_rules
from chainrule.tree_util import tree_flatten, tree_unflatten

from ._tensor import Tensor, Variable, _as, to_array


def _variables_used(outputs: list, inputs: list) -> list:
    """The trainable variables that ``outputs`` depend on other than through ``inputs``, in the
    order first met."""
    found = {id(v): v for v in closed_over(outputs, inputs)
             if isinstance(v, Variable) and v.trainable}
    return list(found.values())


def _accepts_variables(grad_fn: Callable) -> bool:
    params = inspect.signature(grad_fn).parameters.values()
    return any(p.name == "variables" or p.kind is inspect.Parameter.VAR_KEYWORD for p in params)


def custom_gradient(f: Callable | None = None) -> Callable:
    """Decorate ``f(*x) -> (y, grad_fn)`` so that ``y``'s gradient is ``grad_fn``'s.

    >>> import chainrule.tensorflow as tf
    >>> @tf.custom_gradient
    ... def log1pexp(x):
    ...     e = tf.exp(x)
    ...     def grad(upstream):
    ...         return upstream * (1 - 1 / (1 + e))
    ...     return tf.math.log(1 + e), grad
    >>> x = tf.constant(50.0)
    >>> with tf.GradientTape() as tape:
    ...     tape.watch(x)
    ...     y = log1pexp(x)
    >>> tape.gradient(y, x)
    <tf.Tensor: shape=(), dtype=float32, numpy=1.0>
    """
    if f is None:
        return custom_gradient

    @functools.wraps(f)
    def decorated(*args: Any, **kwargs: Any) -> Any:
        args = tuple(a if isinstance(a, cr.Tensor) else Tensor._wrap(to_array(a), cls=Tensor)
                     for a in args)
        result, grad_fn = f(*args, **kwargs)
        leaves, treedef = tree_flatten(result)
        variables = _variables_used(leaves, list(args))
        if variables and not _accepts_variables(grad_fn):
            raise TypeError(
                "If using @custom_gradient with a function that uses variables, then grad_fn "
                f"must accept a keyword argument 'variables' ({f.__name__} uses "
                f"{[v.name for v in variables]})."
            )
        inputs = [*args, *variables]
        if not active(inputs):
            return result
        rules = _GradFn(f, grad_fn, len(args), variables)
        outputs = apply_rules(
            f.__name__, inputs, [cr.tensor(leaf)._array for leaf in leaves], rules.vjp,
            what=f"the custom_gradient grad_fn of {f.__name__}",
        )
        return tree_unflatten(treedef, [_as(out) for out in outputs])

    return decorated


class _GradFn:
    """``grad_fn`` adapted to the carrier: one upstream gradient per output in, one gradient
    per input and variable out, checked as TensorFlow checks them."""

    def __init__(self, f: Callable, grad_fn: Callable, count: int, variables: list) -> None:
        self.f, self.grad_fn, self.count, self.variables = f, grad_fn, count, variables

    def vjp(self, cotangents: list) -> list:
        upstream = [_as(c) for c in cotangents]
        if self.variables:
            result = self.grad_fn(*upstream, variables=self.variables)
            if not isinstance(result, (tuple, list)) or len(result) != 2:
                raise TypeError(
                    f"the custom_gradient grad_fn of {self.f.__name__} was called with "
                    f"variables=, so it must return a pair (grads_x, grads_variables)"
                )
            grads, variable_grads = result
            variable_grads = list(variable_grads)
            if len(variable_grads) != len(self.variables):
                raise ValueError(
                    "Must return gradient for each variable from @custom_gradient grad_fn "
                    f"({self.f.__name__}: {len(self.variables)} variables, "
                    f"{len(variable_grads)} gradients)."
                )
        else:
            grads, variable_grads = self.grad_fn(*upstream), []
        flat = tree_flatten(grads, is_leaf=lambda v: v is None)[0]
        if len(flat) != self.count:
            raise ValueError(
                f"custom_gradient function {self.f.__name__} expected to return {self.count} "
                f"gradients but returned {len(flat)} instead."
            )
        return [*flat, *variable_grads]
