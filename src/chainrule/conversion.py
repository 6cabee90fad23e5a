"""How a tensor becomes NumPy values and Python numbers, and how it prints.

Converting a tensor whose derivative is being followed (it requires grad while operations are
recorded, or carries tangents of a running jvp) would silently lose that derivative: NumPy's
conversions are refused then, as PyTorch's ``numpy()`` is, and ``float()`` warns.
"""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np

from .backends import is_numpy, lifted, to_numpy
from .dtypes import bool_, float32, int64
from .modes import live


class ConversionMethods:
    """The conversion methods of :class:`~chainrule.tensor.Tensor` (a mixin: it reads the
    tensor's ``_array``, ``_requires_grad`` and ``_tangents``)."""

    __slots__ = ()

    def numpy(self) -> np.ndarray:
        """The data as a NumPy array, sharing memory with the tensor (no history).

        Refused for a tensor that requires grad while operations are recorded, or that carries
        forward-mode tangents (as PyTorch's ``numpy()``): NumPy's result would silently lose
        the derivative. ``x.detach().numpy()`` says that this is meant.

        >>> import chainrule as cr
        >>> x = cr.tensor([1.0, 2.0], requires_grad=True)
        >>> x.detach().numpy()
        array([1., 2.], dtype=float32)
        """
        if self._requires_grad or self._tangents:
            self._check_convertible("numpy()")
        return to_numpy(lifted(self._array))  # (cr.jit: read, traced)

    asnumpy = numpy

    def _loses_derivative(self) -> bool:
        """Whether NumPy's copy of this tensor would silently lose a derivative: it requires
        grad and operations on it are recorded now, or it carries tangents of a running jvp."""
        return bool(live(self._tangents)) or (
            self._requires_grad and self._recording() and not self._converts_freely
        )

    def _check_convertible(self, what: str) -> None:
        if self._loses_derivative():
            raise RuntimeError(
                f"can't call {what} on a tensor that requires grad (or carries forward-mode "
                f"tangents): NumPy's result would not carry its derivative. Use chainrule's "
                f"functions on the tensor (cr.stack instead of filling a NumPy buffer), or "
                f"tensor.detach().numpy() if no derivative is needed (inside cr.no_grad() "
                f"conversion is allowed)"
            )

    def item(self) -> Any:
        if self._array.size != 1:
            raise ValueError(
                f"item() needs a tensor with exactly one element, this one has shape "
                f"{self.shape}; index it or reduce it first"
            )
        return self._values("item").item()

    def tolist(self) -> Any:
        return self._values("tolist").tolist()

    def _values(self, method: str) -> Any:
        """The array, or its NumPy values where its library lacks ``method`` (a Dask array is
        computed: the Python values were asked for)."""
        array = self._array
        return array if hasattr(array, method) else to_numpy(array)

    def __array__(self, dtype: Any = None, copy: Any = None) -> np.ndarray:
        """NumPy's conversion protocol: ``np.asarray(t)`` shares memory, ``np.array(t)``
        copies (NumPy passes ``copy=True``). Refused as :meth:`numpy` is."""
        if self._requires_grad or self._tangents:
            self._check_convertible("np.asarray() (or another NumPy conversion)")
        array = np.asarray(self._array)
        if dtype is not None and array.dtype != np.dtype(dtype):
            return array.astype(dtype)
        return array.copy() if copy else array

    def __bool__(self) -> bool:
        if self._array.size != 1:
            raise ValueError(
                f"the truth value of a tensor with {self._array.size} elements is ambiguous; "
                "use .any() or .all()"
            )
        return bool(self._array)

    def __float__(self) -> float:
        # float() is also how NumPy stores a tensor into one element of an array (``buffer[i]
        # = t``), which loses the gradient. Python code calls float() for plain numbers too
        # (logging a loss), so, as PyTorch does, this warns instead of refusing: ``t.item()``
        # says that a plain number is meant.
        if (self._requires_grad or self._tangents) and self._loses_derivative():
            warnings.warn(
                "converting a tensor that requires grad (or carries tangents) to a Python float "
                "drops its derivative; this is also what storing it into a NumPy array element "
                "(buffer[i] = t) does. Use t.item() if a plain number is meant, or keep tensors "
                "(cr.stack instead of a NumPy buffer)",
                UserWarning, stacklevel=2,
            )
        return float(self.item())

    def __int__(self) -> int:
        return int(self.item())

    def __index__(self) -> int:
        if self._array.dtype.kind not in "iub" or self._array.ndim != 0:
            raise TypeError("only 0-d integer tensors can be used as an index")
        return int(self._array)

    def __repr__(self) -> str:
        data = self._array
        extras = []
        if is_numpy(data):
            body = np.array2string(np.asarray(data), separator=", ", prefix="tensor(")
        else:  # another library's array prints itself (a lazy one is not computed)
            body = repr(data)
        if data.dtype not in (float32, int64, bool_):
            extras.append(f"dtype={data.dtype}")
        if self._node is not None:
            extras.append(f"grad_fn={self._node!r}")
        elif self._requires_grad:
            extras.append("requires_grad=True")
        return "tensor(" + ", ".join([body, *extras]) + ")"

    def __str__(self) -> str:
        return self.__repr__()

    def __format__(self, spec: str) -> str:
        if spec and self._array.size == 1:
            return format(self.item(), spec)
        return str(self)

    def __reduce_ex__(self, protocol: Any) -> tuple:
        """Pickling (and ``copy.deepcopy``) keeps the values, ``requires_grad`` and ``.grad``
        of a tensor in its own class; a view comes back as a tensor of its own. A result that
        requires grad is refused, as in PyTorch: its history cannot cross a process."""
        if self._node is not None:
            raise RuntimeError(
                "can't pickle (or deepcopy) a tensor that requires grad and is the result of "
                "an operation: its history does not cross process boundaries; call detach() "
                "on it first if the values are what you need"
            )
        return (_rebuild, (self._op_class if type(self)._view_of else type(self),
                           self._array, self._requires_grad, self._grad, self._grad_req))


def _rebuild(cls: type, array: Any, requires_grad: bool, grad: Any, grad_req: Any) -> Any:
    """A pickled tensor (``Tensor.__reduce_ex__``)."""
    tensor = cls._wrap(array, cls=cls)
    tensor._requires_grad, tensor._grad, tensor._grad_req = requires_grad, grad, grad_req
    return tensor
