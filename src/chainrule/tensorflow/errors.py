"""``tf.errors``: the exceptions TensorFlow's operations raise.

>>> import chainrule.tensorflow as tf
>>> try:
...     tf.constant(1.0) + tf.constant(1, tf.int32)
... except tf.errors.InvalidArgumentError as error:
...     print(str(error)[:60])
cannot compute AddV2 as input #1(zero-based) was expected to
"""

from __future__ import annotations

from typing import Any


class OpError(Exception):
    """An operation failed (``tf.errors.OpError``): ``message`` says why."""

    def __init__(self, node_def: Any, op: Any, message: str, *args: Any) -> None:
        super().__init__(message)
        self.node_def, self.op, self.message = node_def, op, message

    def __str__(self) -> str:
        return self.message


class InvalidArgumentError(OpError):
    """An operation received an argument it cannot take: a dtype it has no kernel for, or
    operands of different dtypes (TensorFlow does not promote)."""


class NotFoundError(OpError):
    """No kernel for these arguments."""
