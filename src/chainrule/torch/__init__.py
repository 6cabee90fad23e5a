"""PyTorch spelling: ``import chainrule.torch as torch``.

A dictionary from PyTorch's names to chainrule's. Tensors are :class:`Tensor`, the core tensor
with PyTorch's method names; ``requires_grad`` leaves accumulate into ``.grad`` (which starts
as None), and ``backward()`` on a non-scalar asks for ``gradient=``, as in PyTorch.
``torch.compile`` is ``cr.jit`` (its arguments checked, then ignored: see :mod:`.compiler`).

>>> import chainrule.torch as torch
>>> x = torch.arange(4.0, requires_grad=True)
>>> y = 2 * torch.dot(x, x)
>>> y.backward()
>>> x.grad
tensor([ 0.,  4.,  8., 12.])
"""

from __future__ import annotations

import builtins
import inspect as _inspect
import types
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

import chainrule as cr

from ..tensor import array_of as _array_of
from ..tensor import to_array as _to_array
from . import _promotion, autograd, compiler, nn, optim, utils  # noqa: F401
from ._elementwise import OPS, accepts_numpy_names, runtime_errors
from ._shapes import sizes_of
from ._tensor import Tensor as Tensor  # (imported by the same name: exported, for type checkers)
from ._tensor import _apply, _as
from ._types import DTYPES, check_device  # noqa: F401
from ._types import Size as Size
from ._types import device as _device
from ._types import dtype as _dtype
from .compiler import compile as compile  # noqa: A004 (torch.compile: cr.jit)

# ---------------------------------------------------------------- dtypes (torch.float32 ...)
float32, float64, float16 = DTYPES[cr.float32], DTYPES[cr.float64], DTYPES[cr.float16]
int8, int16, int32, int64 = (DTYPES[np.dtype(name)] for name in ("int8", "int16", "int32",
                                                                   "int64"))
uint8 = DTYPES[np.dtype("uint8")]
complex64, complex128 = DTYPES[np.dtype("complex64")], DTYPES[np.dtype("complex128")]
bool = DTYPES[cr.bool_]  # noqa: A001
float = float32  # noqa: A001
double = float64
half = float16
long = int64
int = int32  # noqa: A001
short = int16
cfloat, cdouble = complex64, complex128


def get_default_dtype() -> _dtype:
    """The dtype of Python floats in new tensors and of integer division: float32."""
    return float32


def result_type(tensor1: Any, tensor2: Any) -> _dtype:
    """The dtype of an arithmetic operation on ``tensor1`` and ``tensor2`` (PyTorch's rules).

    >>> import chainrule.torch as torch
    >>> torch.result_type(torch.tensor([1, 2], dtype=torch.int32), 1.0)
    torch.float32
    """
    return DTYPES[_promotion.result_type(tensor1, tensor2)]


def promote_types(type1: Any, type2: Any) -> _dtype:
    """The smallest dtype of the higher category holding both (``int64, float32 -> float32``)."""
    return DTYPES[_promotion.promote_types(type1, type2)]


def can_cast(from_: Any, to: Any) -> builtins.bool:
    """Whether an in-place operation may write a ``from_`` result into a ``to`` tensor."""
    return _promotion.can_cast(from_, to)


def is_floating_point(input: Any) -> builtins.bool:  # noqa: A002
    return _as(input)._array.dtype.kind == "f"


def is_complex(input: Any) -> builtins.bool:  # noqa: A002
    return _as(input)._array.dtype.kind == "c"


cuda = types.SimpleNamespace(is_available=lambda: False, device_count=lambda: 0)
cuda.__doc__ = "``torch.cuda``: chainrule computes on the CPU only, so no GPU is available."

# ---------------------------------------------------------------- grad mode
no_grad = cr.no_grad
enable_grad = cr.enable_grad
inference_mode = cr.no_grad
is_grad_enabled = cr.is_grad_enabled
set_grad_enabled = cr.set_grad_enabled
is_anomaly_enabled = cr.is_anomaly_enabled
is_anomaly_check_nan_enabled = cr.is_anomaly_check_nan_enabled


# ---------------------------------------------------------------- creation
def _made(tensor: cr.Tensor, requires_grad: builtins.bool = False, device: Any = None) -> Tensor:
    check_device(device)
    out = _as(tensor)
    if requires_grad:
        out.requires_grad_()
    return out


def tensor(data: Any, dtype: Any = None, requires_grad: builtins.bool = False,
           device: Any = None) -> Tensor:
    """A new tensor (a copy of ``data``): Python floats become float32, Python ints int64;
    NumPy arrays and scalars keep their dtype, and a list mixing them promotes as PyTorch.

    >>> import numpy as np, chainrule.torch as torch
    >>> torch.tensor([1.0, 2]).dtype, torch.tensor([np.float64(1.0), 2.0]).dtype
    (torch.float32, torch.float64)
    """
    check_device(device)
    try:
        array = _to_array(data, dtype, _promotion.promote_types)
    except TypeError as error:  # PyTorch's class, but for strings: a RuntimeError
        if str(error).startswith("Could not infer dtype of str"):
            raise
        raise RuntimeError(str(error)) from None
    return _made(Tensor._wrap(array, cls=Tensor), requires_grad)


def as_tensor(data: Any, dtype: Any = None, device: Any = None) -> Tensor:
    check_device(device)
    if isinstance(data, cr.Tensor) and (dtype is None or data._array.dtype == dtype):
        return _as(data)
    return tensor(data, dtype)


def from_numpy(array: np.ndarray) -> Tensor:
    """A tensor sharing memory with ``array``, keeping its dtype."""
    return _made(cr.from_numpy(array))


def arange(start: Any, end: Any = None, step: Any = 1, *, dtype: Any = None,
           requires_grad: builtins.bool = False, device: Any = None) -> Tensor:
    args = (start,) if end is None else (start, end, step)
    return _made(cr.arange(*args, dtype=dtype), requires_grad, device)


def _filled(maker: Any) -> Any:
    def make(*size: Any, dtype: Any = None, requires_grad: builtins.bool = False,
             device: Any = None) -> Tensor:
        return _made(maker(sizes_of(size), dtype=dtype), requires_grad, device)

    make.__name__ = maker.__name__
    return make


zeros = _filled(cr.zeros)
ones = _filled(cr.ones)
empty = _filled(cr.zeros)


def full(size: Any, fill_value: Any, *, dtype: Any = None, requires_grad: builtins.bool = False,
         device: Any = None) -> Tensor:
    return _made(cr.full(size, fill_value, dtype), requires_grad, device)


def eye(n: builtins.int, m: builtins.int | None = None, *, dtype: Any = None,
        requires_grad: builtins.bool = False, device: Any = None) -> Tensor:
    return _made(cr.eye(n, m, dtype=dtype), requires_grad, device)


def linspace(start: Any, end: Any, steps: builtins.int, *, dtype: Any = None,
             requires_grad: builtins.bool = False, device: Any = None) -> Tensor:
    return _made(cr.linspace(start, end, steps, dtype=dtype), requires_grad, device)


def zeros_like(input: Any, *, dtype: Any = None, requires_grad: builtins.bool = False,  # noqa: A002
               device: Any = None) -> Tensor:
    return _made(cr.zeros_like(input, dtype=dtype), requires_grad, device)


def ones_like(input: Any, *, dtype: Any = None, requires_grad: builtins.bool = False,  # noqa: A002
              device: Any = None) -> Tensor:
    return _made(cr.ones_like(input, dtype=dtype), requires_grad, device)


empty_like = zeros_like


def full_like(input: Any, fill_value: Any, *, dtype: Any = None,  # noqa: A002
              requires_grad: builtins.bool = False, device: Any = None) -> Tensor:
    return _made(cr.full_like(input, fill_value, dtype=dtype), requires_grad, device)


# ---------------------------------------------------------------- random
def manual_seed(seed: builtins.int) -> None:
    """Seed the generator behind ``randn``, ``rand``, ``normal``..."""
    cr.random.seed(seed)


def randn(*sizes: Any, size: Any = None, dtype: Any = None,
          requires_grad: builtins.bool = False, device: Any = None) -> Tensor:
    """Standard normal samples: ``randn(2, 3)`` or ``randn(size=(2, 3))``."""
    return _made(cr.random.randn(size=_shape(sizes, size), dtype=dtype), requires_grad, device)


def _shape(sizes: tuple, size: Any) -> tuple:
    if size is None:
        return sizes_of(sizes)
    return tuple(size) if isinstance(size, (tuple, list)) else (size,)


def rand(*sizes: Any, size: Any = None, dtype: Any = None,
         requires_grad: builtins.bool = False, device: Any = None) -> Tensor:
    return _made(cr.random.rand(size=_shape(sizes, size), dtype=dtype), requires_grad, device)


def randn_like(input: Any, *, dtype: Any = None, device: Any = None) -> Tensor:  # noqa: A002
    noise = cr.random.randn(size=np.shape(input), dtype=dtype or input.dtype)
    return _made(noise, False, device)


def rand_like(input: Any, *, dtype: Any = None, device: Any = None) -> Tensor:  # noqa: A002
    return _made(cr.random.rand(size=np.shape(input), dtype=dtype or input.dtype), False, device)


def randint(low: Any, high: Any = None, size: Any = None, *, dtype: Any = None,
            device: Any = None) -> Tensor:
    if high is None or isinstance(high, (tuple, list)):  # randint(high, size)
        low, high, size = 0, low, high if size is None else size
    out = cr.random.randint(low, high, size=tuple(size))
    return _made(out if dtype is None else cr.astype(out, dtype), False, device)


def randperm(n: builtins.int, *, device: Any = None) -> Tensor:
    return _made(cr.random.permutation(n), False, device)


def normal(mean: Any = 0.0, std: Any = 1.0, size: Any = None, *,
           requires_grad: builtins.bool = False, device: Any = None) -> Tensor:
    """``normal(0, 0.01, size=(2, 1))``, or elementwise means and deviations from tensors."""
    check_device(device)
    if size is None:
        shape = np.broadcast_shapes(np.shape(mean), np.shape(std))
        noise = cr.random.randn(size=shape, dtype=_dtype_of(mean, std))
        return _as(noise * std + mean)
    return _made(cr.random.normal(mean, std, size=tuple(size)), requires_grad)


def _dtype_of(*values: Any) -> Any:
    for value in values:
        if isinstance(value, cr.Tensor):
            return value.dtype
    return float32


# ---------------------------------------------------------------- functions
def is_tensor(obj: Any) -> builtins.bool:
    return isinstance(obj, cr.Tensor)


def numel(input: Any) -> builtins.int:  # noqa: A002
    return _as(input).numel()


def _method(name: str) -> Any:
    """``torch.name(input, ...)`` as ``input.name(...)`` (PyTorch documents them as one)."""
    method = getattr(Tensor, name)

    def function(input: Any, *args: Any, **kwargs: Any) -> Any:  # noqa: A002
        return method(_as(input), *args, **kwargs)

    function.__name__ = function.__qualname__ = name
    summary = (method.__doc__ or "").strip().split("\n\n")[0]
    function.__doc__ = f"``torch.{name}(input, ...)`` is ``input.{name}(...)``" + (
        f": {summary}" if summary else ".")
    function.__signature__ = _with_input(method)  # type: ignore[attr-defined]
    return function


def _with_input(method: Any) -> _inspect.Signature:
    """The method's signature as the function's: ``input`` in the place of ``self``."""
    try:
        parameters = list(_inspect.signature(method).parameters.values())[1:]
    except (TypeError, ValueError):
        parameters = []
    positional = parameters and parameters[0].kind is _inspect.Parameter.POSITIONAL_ONLY
    kind = _inspect.Parameter.POSITIONAL_ONLY if positional else \
        _inspect.Parameter.POSITIONAL_OR_KEYWORD
    try:
        return _inspect.Signature([_inspect.Parameter("input", kind), *parameters])
    except ValueError:  # (a method with a parameter of that name, or an odd order)
        return _inspect.Signature([_inspect.Parameter("input", kind)])


_METHODS = (
    "sum mean prod max min amax amin argmax argmin var std norm logsumexp cumsum all any "
    "reshape flatten unsqueeze squeeze permute transpose t flip gather masked_fill split "
    "clamp clip softmax log_softmax pow neg negative add sub subtract mul multiply div divide "
    "true_divide floor_divide remainder matmul mm mv bmm dot eq ne lt le gt ge exp expm1 log "
    "log1p log2 log10 sqrt reciprocal square abs sin cos tan asin acos atan arcsin arccos "
    "arctan sinh cosh tanh sigmoid relu sign clone detach"
).split()
globals().update({name: _method(name) for name in _METHODS})

if TYPE_CHECKING:
    # The functions of _METHODS are made at import (globals().update), where type checkers cannot
    # see them: they take each as Any instead of reporting it missing.
    def __getattr__(name: str) -> Any: ...
absolute = abs  # noqa: F821


def _joined(tensors: Sequence[Any], what: str) -> list:
    """The tensors of ``cat``/``stack``, promoted together as PyTorch does."""
    if not isinstance(tensors, (list, tuple)):
        raise TypeError(
            f"{what}() expects a list or tuple of tensors, got {type(tensors).__name__}"
        )
    return list(_promotion.promoted(tuple(_as(t) for t in tensors)))


@accepts_numpy_names
def cat(tensors: Sequence[Any], dim: builtins.int = 0) -> Tensor:
    """Join tensors along an existing dimension ``dim`` (promoting their dtypes)."""
    tensors = _joined(tensors, "cat")
    for position, t in enumerate(tensors):
        if not t._array.ndim:
            raise RuntimeError(
                f"zero-dimensional tensor (at position {position}) cannot be concatenated; "
                "use torch.stack, or unsqueeze it first"
            )
    shapes = [t._array.shape for t in tensors]
    for number, shape in enumerate(shapes[1:], 1):
        for axis, (expected, got) in enumerate(zip(shapes[0], shape)):
            if axis != dim % len(shape) and expected != got and len(shape) == len(shapes[0]):
                raise RuntimeError(
                    f"Sizes of tensors must match except in dimension {dim}. Expected size "
                    f"{expected} but got size {got} for tensor number {number} in the list."
                )
    return _as(runtime_errors(cr.concatenate)(tensors, axis=dim))


concat = concatenate = cat


@accepts_numpy_names
def stack(tensors: Sequence[Any], dim: builtins.int = 0) -> Tensor:
    """Join tensors of one shape along a new dimension ``dim`` (promoting their dtypes)."""
    tensors = _joined(tensors, "stack")
    for entry, t in enumerate(tensors[1:], 1):
        if t._array.shape != tensors[0]._array.shape:
            raise RuntimeError(
                f"stack expects each tensor to be equal size, but got "
                f"{list(tensors[0]._array.shape)} at entry 0 and {list(t._array.shape)} at entry "
                f"{entry}"
            )
    return _as(runtime_errors(cr.stack)(tensors, axis=dim))


def where(condition: Any, input: Any = None, other: Any = None) -> Any:  # noqa: A002
    """``input`` where ``condition`` holds, else ``other`` (in their promoted dtype)."""
    if input is None and other is None:
        return tuple(_as(i) for i in np.nonzero(_values(condition)))
    input, other = _promotion.promoted((input, other))  # noqa: A001
    return _as(runtime_errors(cr.where)(condition, input, other))


def maximum(input: Any, other: Any) -> Tensor:  # noqa: A002
    return _apply(OPS["maximum"], (input, other))


def minimum(input: Any, other: Any) -> Tensor:  # noqa: A002
    return _apply(OPS["minimum"], (input, other))


def _values(value: Any) -> Any:
    """The values of a tensor (for a comparison, whose result has no gradient to lose)."""
    return np.asarray(_array_of(value))


def allclose(input: Any, other: Any, rtol: builtins.float = 1e-5,  # noqa: A002
             atol: builtins.float = 1e-8) -> builtins.bool:
    return builtins.bool(np.allclose(_values(input), _values(other), rtol, atol))


def equal(input: Any, other: Any) -> builtins.bool:  # noqa: A002
    return builtins.bool(np.array_equal(_values(input), _values(other)))


def outer(input: Any, vec2: Any) -> Tensor:  # noqa: A002
    return _as(cr.outer(input, vec2))


dtype = _dtype  # the class torch.float32 and the others belong to
device = _device
