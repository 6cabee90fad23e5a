"""``mxnet.npx``: MXNet's extensions to the NumPy interface (``set_np``, activations, ``pick``).

>>> from chainrule.mxnet import np, npx
>>> npx.set_np()
>>> npx.relu(np.array([-1.0, 2.0]))
array([0., 2.])
"""

from __future__ import annotations

from typing import Any

import numpy as onp

import chainrule as cr

from ._ndarray import _as, ndarray


def set_np(shape: bool = True, array: bool = True, dtype: bool = False) -> None:
    """Switch MXNet to NumPy semantics: chainrule always has them, so nothing to do."""


def reset_np() -> None:
    """Nothing to undo (see ``set_np``)."""


def is_np_array() -> bool:
    return True


def relu(data: Any) -> ndarray:
    return _as(cr.relu(data))


def sigmoid(data: Any) -> ndarray:
    return _as(cr.sigmoid(data))


def softmax(data: Any, axis: int = -1) -> ndarray:
    return _as(cr.softmax(data, axis=axis))


def log_softmax(data: Any, axis: int = -1) -> ndarray:
    return _as(cr.log_softmax(data, axis=axis))


def pick(data: Any, index: Any, axis: int = -1, keepdims: bool = False) -> ndarray:
    """``data[i, index[i]]`` along ``axis`` (MXNet's ``pick``)."""
    labels = onp.asarray(getattr(index, "_array", index)).astype(onp.int64)
    axis = axis % data.ndim
    labels = onp.expand_dims(labels, axis)
    grid = onp.indices(labels.shape, sparse=True)
    picked = data[tuple(labels if a == axis else grid[a] for a in range(data.ndim))]
    return _as(picked if keepdims else cr.squeeze(picked, axis))


def one_hot(data: Any, depth: int, dtype: Any = "float32") -> ndarray:
    labels = onp.asarray(getattr(data, "_array", data)).astype(onp.int64)
    return _as(cr.tensor((labels[..., None] == onp.arange(depth)).astype(dtype)))


def cpu(device_id: int = 0) -> str:
    return "cpu"


def gpu(device_id: int = 0) -> str:
    raise RuntimeError("chainrule runs on the CPU only")


def num_gpus() -> int:
    return 0
