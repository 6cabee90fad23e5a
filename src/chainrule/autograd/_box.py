"""The dialect's boundary: what a HIPS function is handed, and what its caller gets back.

Inside a transformed function the differentiated values are :class:`ArrayBox` tensors (HIPS's
name for a traced array): core tensors that refuse item assignment, as HIPS's boxes do. What a
transform returns is plain NumPy wherever it carries no derivative, so code written for HIPS
never meets a tensor outside a transformed function.

Complex numbers. The core follows PyTorch: the gradient of a real loss ``L`` of ``z`` is
``dL/dRe z + i dL/dIm z``. HIPS returns its conjugate, and its vector-Jacobian products are
``conj(core_vjp(conj(g)))`` for every function (for a holomorphic ``f``: ``g * f'(z)``).
:func:`conj_complex` is that conversion, applied at the dialect's boundary only.
"""

from __future__ import annotations

import functools
from typing import Any

import numpy as np

from .. import api
from ..tensor import Tensor
from ..tracing.record import TraceArray
from ..tree_util import tree_map


class ArrayBox(Tensor):
    """A traced array: a core tensor with HIPS's rules: no item assignment, no conversion to
    a Python number while it carries a derivative (which would lose it), and NumPy's array
    methods the tensor lacks (``x.ravel()``, ``x.trace()``...) as the dialect's functions of
    the same names (``methods``, filled in by ``chainrule.autograd.numpy``)."""

    __slots__ = ()
    methods: dict = {}

    def __getattr__(self, name: str) -> Any:
        function = ArrayBox.methods.get(name) if hasattr(np.ndarray, name) else None
        if function is None or name.startswith("_"):
            raise AttributeError(f"'ArrayBox' object has no attribute {name!r}")
        return functools.partial(function, self)

    def _number(self, kind: type) -> Any:
        if is_traced(self):
            raise TypeError(
                f"{kind.__name__}() of a traced array would lose its derivative (HIPS autograd "
                f"refuses it too); keep it an array (np.sum, indexing), or compute the number "
                f"outside the differentiated function"
            )
        return kind(self._array)

    def __float__(self) -> float:
        return self._number(float)

    def __int__(self) -> int:
        return self._number(int)

    def __complex__(self) -> complex:
        return self._number(complex)

    def __setitem__(self, index: Any, value: Any) -> None:
        raise TypeError(
            "'ArrayBox' object does not support item assignment: a traced array cannot be "
            "written in place (as in HIPS autograd); build a new array instead, e.g. with "
            "np.where, np.concatenate or np.array([...])"
        )


def is_traced(value: Any) -> bool:
    """Whether ``value`` carries a derivative: a tensor with history, requiring grad or
    carrying tangents."""
    return isinstance(value, Tensor) and bool(
        value._requires_grad or value._node is not None or value._tangents
    )


def contains_tensor(value: Any) -> bool:
    """Whether ``value`` is a tensor or a list/tuple holding one (at any depth)."""
    if isinstance(value, Tensor):
        return True
    if isinstance(value, (list, tuple)):
        return any(contains_tensor(item) for item in value)
    return False


def box(value: Any) -> Any:
    """``value``'s leaves as traced-to-be tensors; Python floats become float64 (NumPy's
    reading, where the native API reads them as float32). ``cr.jit``'s tracing array stays
    one (:func:`as_array`)."""
    def leaf(item: Any) -> Any:
        if isinstance(item, Tensor):
            return item
        return Tensor._wrap(as_array(item), None, ArrayBox)

    return tree_map(leaf, value)


def plain(value: Any) -> Any:
    """``value`` with every tensor that carries no derivative turned back into NumPy (a 0-d
    result as a NumPy scalar, as HIPS returns for scalar arguments). ``cr.jit``'s 0-d tracing
    array is indexed the same way: it then holds (and its replay returns) the NumPy scalar
    the eager call returns."""
    def leaf(item: Any) -> Any:
        if isinstance(item, Tensor) and not is_traced(item):
            array = item._array
            if isinstance(array, (np.ndarray, TraceArray)) and array.ndim == 0:
                return array[()]
            return array
        return item

    return tree_map(leaf, value)


def raw(value: Any) -> Any:
    """The array behind a tensor (no derivative), any other value as it is."""
    return value._array if isinstance(value, Tensor) else value


def as_array(value: Any, dtype: Any = None) -> Any:
    """``np.asarray(value, dtype)``, save that ``cr.jit``'s tracing array (an argument, or what
    a primitive's NumPy code computed from one) stays one, where asarray would make it a
    constant of the trace, guarded by value: cast with ``astype``, and a 0-d one, which may
    hold a NumPy scalar, copied into the 0-d array asarray makes."""
    if not isinstance(value, TraceArray):
        return np.asarray(value, dtype=dtype)
    if dtype is not None and value.dtype != dtype:
        value = value.astype(dtype)
    return np.copy(value) if value.ndim == 0 else value


def conj_complex(value: Any) -> Any:
    """The conjugate of each complex leaf: the map between HIPS's convention for complex
    derivatives and the core's (see the module's docstring); real leaves untouched."""
    def leaf(item: Any) -> Any:
        if np.iscomplexobj(raw(item)):
            return api.conj(item) if isinstance(item, Tensor) else np.conj(item)
        return item

    return tree_map(leaf, value)
