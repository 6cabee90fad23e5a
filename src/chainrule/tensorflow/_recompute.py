"""``tf.recompute_grad``: TensorFlow's name for ``cr.checkpoint``.

>>> import chainrule.tensorflow as tf
>>> w = tf.Variable([[0.5, -1.0], [2.0, 0.25]])
>>> block = tf.recompute_grad(lambda x: tf.tanh(tf.matmul(x, w)))
>>> x = tf.constant([[1.0, 2.0]])
>>> with tf.GradientTape() as tape:
...     tape.watch(x)
...     y = tf.reduce_sum(block(block(x)))
>>> [g.shape for g in tape.gradient(y, [x, w])]
[TensorShape([1, 2]), TensorShape([2, 2])]
"""

from __future__ import annotations

from collections.abc import Callable

import chainrule as cr

__all__ = ["recompute_grad"]


def recompute_grad(f: Callable) -> Callable:
    """``f`` made to keep only its inputs for the gradient, which runs it again (the
    variables it reads get their gradients too)."""
    return cr.checkpoint(f)
