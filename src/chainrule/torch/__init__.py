"""PyTorch spelling: ``import chainrule.torch as torch``.

A dictionary from PyTorch's names to chainrule's. Tensors are :class:`Tensor`, the core tensor
with PyTorch's method names; ``requires_grad`` leaves accumulate into ``.grad`` (which starts
as None), and ``backward()`` on a non-scalar asks for ``gradient=``, as in PyTorch.

>>> import chainrule.torch as torch
>>> x = torch.arange(4.0, requires_grad=True)
>>> y = 2 * torch.dot(x, x)
>>> y.backward()
>>> x.grad
tensor([ 0.,  4.,  8., 12.])
"""

from __future__ import annotations

import builtins
from collections.abc import Sequence
from typing import Any

import numpy as np

import chainrule as cr

from . import autograd, nn, optim  # noqa: F401
from ._tensor import DTYPES, Size, Tensor, _as, _sizes  # noqa: F401
from ._tensor import dtype as _dtype

# ---------------------------------------------------------------- dtypes (torch.float32 ...)
float32, float64, float16 = DTYPES[cr.float32], DTYPES[cr.float64], DTYPES[cr.float16]
int32, int64, uint8 = DTYPES[cr.int32], DTYPES[cr.int64], DTYPES[np.dtype("uint8")]
bool = DTYPES[cr.bool_]  # noqa: A001
float = float32  # noqa: A001
double = float64
half = float16
long = int64
int = int32  # noqa: A001

# ---------------------------------------------------------------- grad mode
no_grad = cr.no_grad
enable_grad = cr.enable_grad
inference_mode = cr.no_grad
is_grad_enabled = cr.is_grad_enabled
set_grad_enabled = cr.set_grad_enabled


# ---------------------------------------------------------------- creation
def _made(tensor: cr.Tensor, requires_grad: builtins.bool = False) -> Tensor:
    out = _as(tensor)
    if requires_grad:
        out.requires_grad_()
    return out


def tensor(data: Any, dtype: Any = None, requires_grad: builtins.bool = False,
           device: Any = None) -> Tensor:
    """A new tensor (a copy of ``data``): floats become float32, Python ints int64."""
    return _made(cr.tensor(data, dtype), requires_grad)


def as_tensor(data: Any, dtype: Any = None, device: Any = None) -> Tensor:
    return data if isinstance(data, Tensor) and dtype is None else tensor(data, dtype)


def from_numpy(array: np.ndarray) -> Tensor:
    """A tensor sharing memory with ``array``, keeping its dtype."""
    return _made(cr.from_numpy(array))


def arange(start: Any, end: Any = None, step: Any = 1, *, dtype: Any = None,
           requires_grad: builtins.bool = False, device: Any = None) -> Tensor:
    args = (start,) if end is None else (start, end, step)
    return _made(cr.arange(*args, dtype=dtype), requires_grad)


def _filled(maker: Any) -> Any:
    def make(*size: Any, dtype: Any = None, requires_grad: builtins.bool = False,
             device: Any = None) -> Tensor:
        return _made(maker(_sizes(size), dtype=dtype), requires_grad)

    make.__name__ = maker.__name__
    return make


zeros = _filled(cr.zeros)
ones = _filled(cr.ones)
empty = _filled(cr.zeros)


def full(size: Any, fill_value: Any, *, dtype: Any = None,
         requires_grad: builtins.bool = False) -> Tensor:
    return _made(cr.full(size, fill_value, dtype), requires_grad)


def eye(n: builtins.int, m: builtins.int | None = None, *, dtype: Any = None,
        requires_grad: builtins.bool = False) -> Tensor:
    return _made(cr.eye(n, m, dtype=dtype), requires_grad)


def linspace(start: Any, end: Any, steps: builtins.int, *, dtype: Any = None,
             requires_grad: builtins.bool = False) -> Tensor:
    return _made(cr.linspace(start, end, steps, dtype=dtype), requires_grad)


def zeros_like(input: Any, *, dtype: Any = None, requires_grad: builtins.bool = False) -> Tensor:  # noqa: A002
    return _made(cr.zeros_like(input, dtype=dtype), requires_grad)


def ones_like(input: Any, *, dtype: Any = None, requires_grad: builtins.bool = False) -> Tensor:  # noqa: A002
    return _made(cr.ones_like(input, dtype=dtype), requires_grad)


def full_like(input: Any, fill_value: Any, *, dtype: Any = None) -> Tensor:  # noqa: A002
    return _made(cr.full_like(input, fill_value, dtype=dtype))


# ---------------------------------------------------------------- random
def manual_seed(seed: builtins.int) -> None:
    """Seed the generator behind ``randn``, ``rand``, ``normal``..."""
    cr.random.seed(seed)


def randn(*sizes: Any, size: Any = None, dtype: Any = None,
          requires_grad: builtins.bool = False) -> Tensor:
    """Standard normal samples: ``randn(2, 3)`` or ``randn(size=(2, 3))``."""
    return _made(cr.random.randn(size=_shape(sizes, size), dtype=dtype), requires_grad)


def _shape(sizes: tuple, size: Any) -> tuple:
    if size is None:
        return _sizes(sizes)
    return tuple(size) if isinstance(size, (tuple, list)) else (size,)


def rand(*sizes: Any, size: Any = None, dtype: Any = None,
         requires_grad: builtins.bool = False) -> Tensor:
    return _made(cr.random.rand(size=_shape(sizes, size), dtype=dtype), requires_grad)


def randn_like(input: Any, *, dtype: Any = None) -> Tensor:  # noqa: A002
    return _made(cr.random.randn(size=np.shape(input), dtype=dtype or input.dtype))


def rand_like(input: Any, *, dtype: Any = None) -> Tensor:  # noqa: A002
    return _made(cr.random.rand(size=np.shape(input), dtype=dtype or input.dtype))


def randint(low: Any, high: Any = None, size: Any = None, *, dtype: Any = None) -> Tensor:
    if high is None or isinstance(high, (tuple, list)):  # randint(high, size)
        low, high, size = 0, low, high if size is None else size
    out = cr.random.randint(low, high, size=tuple(size))
    return _made(out if dtype is None else cr.astype(out, dtype))


def randperm(n: builtins.int) -> Tensor:
    return _made(cr.random.permutation(n))


def normal(mean: Any = 0.0, std: Any = 1.0, size: Any = None, *,
           requires_grad: builtins.bool = False) -> Tensor:
    """``normal(0, 0.01, size=(2, 1))``, or elementwise means and deviations from tensors."""
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
    function.__doc__ = f"``torch.{name}(input, ...)`` is ``input.{name}(...)``."
    return function


_METHODS = (
    "sum mean prod max min amax amin argmax argmin var std norm logsumexp cumsum all any "
    "reshape flatten unsqueeze squeeze permute transpose t flip gather masked_fill split "
    "clamp clip softmax log_softmax pow neg add sub mul div matmul mm mv eq ne lt le gt ge "
    "exp log log1p sqrt square abs sin cos tan tanh sigmoid relu sign clone detach"
).split()
globals().update({name: _method(name) for name in _METHODS})
absolute = abs  # noqa: F821
multiply, subtract, divide, negative = mul, sub, div, neg  # noqa: F821
bmm = matmul  # noqa: F821


def dot(input: Any, other: Any) -> Tensor:  # noqa: A002
    """Inner product of two 1-D tensors."""
    if np.ndim(input) != 1 or np.ndim(other) != 1:
        raise RuntimeError(
            f"1D tensors expected, but got {np.ndim(input)}D and {np.ndim(other)}D tensors"
        )
    return cr.dot(_as(input), other)


def cat(tensors: Sequence[Any], dim: builtins.int = 0) -> Tensor:
    return _as(cr.concatenate([_as(t) for t in tensors], axis=dim))


concat = concatenate = cat


def stack(tensors: Sequence[Any], dim: builtins.int = 0) -> Tensor:
    return _as(cr.stack([_as(t) for t in tensors], axis=dim))


def where(condition: Any, input: Any = None, other: Any = None) -> Any:  # noqa: A002
    if input is None and other is None:
        return tuple(_as(i) for i in np.nonzero(np.asarray(condition)))
    return _as(cr.where(condition, input, other))


def maximum(input: Any, other: Any) -> Tensor:  # noqa: A002
    return _as(cr.maximum(input, other))


def minimum(input: Any, other: Any) -> Tensor:  # noqa: A002
    return _as(cr.minimum(input, other))


def allclose(input: Any, other: Any, rtol: builtins.float = 1e-5,  # noqa: A002
             atol: builtins.float = 1e-8) -> builtins.bool:
    return builtins.bool(np.allclose(np.asarray(input), np.asarray(other), rtol, atol))


def equal(input: Any, other: Any) -> builtins.bool:  # noqa: A002
    return builtins.bool(np.array_equal(np.asarray(input), np.asarray(other)))


def outer(input: Any, vec2: Any) -> Tensor:  # noqa: A002
    return _as(cr.outer(input, vec2))


dtype = _dtype  # the class torch.float32 and the others belong to
