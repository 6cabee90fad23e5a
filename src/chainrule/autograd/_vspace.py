"""HIPS's vector spaces: ``vspace(value)`` describes the space a value lives in (its shape and
dtype, or the spaces of a container's items) and makes its zeros, ones, basis and random
vectors. The transforms and ``test_util`` use them as HIPS does; the arithmetic goes through
the dialect's NumPy, so it is differentiable on traced values."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import numpy as onp

from ..tensor import Tensor
from ..tracing.record import TraceArray
from . import numpy as anp


class VSpace:
    """A vector space; ``iscomplex`` spaces count real and imaginary parts apart."""

    iscomplex = False

    def __eq__(self, other: object) -> bool:
        return type(self) is type(other) and self._key() == other._key()  # type: ignore[attr-defined]

    def __hash__(self) -> int:
        return hash((type(self), repr(self._key())))

    def __repr__(self) -> str:
        return f"{type(self).__name__}_{self._key()}"

    def _key(self) -> Any:
        raise NotImplementedError

    def add(self, x: Any, y: Any) -> Any:
        return self._map2(x, y, lambda a, b: a + b)

    def scalar_mul(self, x: Any, a: Any) -> Any:
        return self._map1(x, lambda v: v * a)

    def covector(self, x: Any) -> Any:
        return self._map1(x, _conj)


def _conj(value: Any) -> Any:
    return anp.conj(value) if onp.iscomplexobj(_raw(value)) else value


def _raw(value: Any) -> Any:
    return value._array if isinstance(value, Tensor) else value


def _is_array(raw: Any) -> bool:
    """Whether ``raw`` (no tensor) is a number or an array a space can describe: NumPy's, or
    the tracing array of ``cr.jit`` (whose shape and dtype are known without guarding its
    values)."""
    if isinstance(raw, (bool, onp.bool_)):
        return False
    return isinstance(raw, (float, complex, int, onp.ndarray, onp.generic, TraceArray))


class ArrayVSpace(VSpace):
    """Arrays of one shape and dtype (real)."""

    def __init__(self, value: Any) -> None:
        raw = _raw(value)
        # (a tracing array by its metadata: asarray would guard its values)
        array = raw if isinstance(raw, TraceArray) else onp.asarray(raw)
        self.shape, self.dtype = tuple(array.shape), onp.dtype(array.dtype)

    def _key(self) -> Any:
        return {"shape": self.shape, "dtype": self.dtype}

    @property
    def size(self) -> int:
        return int(onp.prod(self.shape))

    @property
    def ndim(self) -> int:
        return len(self.shape)

    def zeros(self) -> onp.ndarray:
        return onp.zeros(self.shape, dtype=self.dtype)

    def ones(self) -> onp.ndarray:
        return onp.ones(self.shape, dtype=self.dtype)

    def standard_basis(self) -> Iterator[onp.ndarray]:
        for index in onp.ndindex(*self.shape):
            vector = onp.zeros(self.shape, dtype=self.dtype)
            vector[index] = 1
            yield vector

    def randn(self) -> onp.ndarray:
        return onp.array(onp.random.randn(*self.shape)).astype(self.dtype)

    def inner_prod(self, x: Any, y: Any) -> Any:
        return anp.dot(anp.ravel(x), anp.ravel(y))

    def _map1(self, x: Any, fn: Any) -> Any:
        return fn(x)

    def _map2(self, x: Any, y: Any, fn: Any) -> Any:
        return fn(x, y)


class ComplexArrayVSpace(ArrayVSpace):
    """Complex arrays: a real space of twice the size."""

    iscomplex = True

    @property
    def size(self) -> int:
        return int(onp.prod(self.shape)) * 2

    def ones(self) -> onp.ndarray:
        return onp.ones(self.shape, dtype=self.dtype) * (1.0 + 1.0j)

    def standard_basis(self) -> Iterator[onp.ndarray]:
        for index in onp.ndindex(*self.shape):
            for unit in (1.0, 1.0j):
                vector = onp.zeros(self.shape, dtype=self.dtype)
                vector[index] = unit
                yield vector

    def randn(self) -> onp.ndarray:
        real = onp.array(onp.random.randn(*self.shape)).astype(self.dtype)
        return real + 1.0j * onp.array(onp.random.randn(*self.shape)).astype(self.dtype)

    def inner_prod(self, x: Any, y: Any) -> Any:
        return anp.real(anp.dot(anp.conj(anp.ravel(x)), anp.ravel(y)))


class ContainerVSpace(VSpace):
    """A list, tuple or dict of values: the product of their spaces."""

    def __init__(self, value: Any) -> None:
        self.kind = type(value) if type(value) in (list, tuple, dict) else type(value).__mro__[1]
        if isinstance(value, dict):
            self.spaces: Any = {key: vspace(item) for key, item in value.items()}
        else:
            self.spaces = [vspace(item) for item in value]

    def _key(self) -> Any:
        return (self.kind, self.spaces)

    def _items(self) -> list:
        return list(self.spaces.values()) if isinstance(self.spaces, dict) else self.spaces

    def _build(self, items: list) -> Any:
        if isinstance(self.spaces, dict):
            return dict(zip(self.spaces, items))
        return self.kind(items)

    def _parts(self, value: Any) -> list:
        return [value[key] for key in self.spaces] if isinstance(self.spaces, dict) else value

    @property
    def size(self) -> int:
        return sum(space.size for space in self._items())

    @property
    def iscomplex(self) -> bool:  # type: ignore[override]
        return any(space.iscomplex for space in self._items())

    def zeros(self) -> Any:
        return self._build([space.zeros() for space in self._items()])

    def ones(self) -> Any:
        return self._build([space.ones() for space in self._items()])

    def randn(self) -> Any:
        return self._build([space.randn() for space in self._items()])

    def standard_basis(self) -> Iterator[Any]:
        spaces = self._items()
        for position, space in enumerate(spaces):
            for vector in space.standard_basis():
                items = [s.zeros() for s in spaces]
                items[position] = vector
                yield self._build(items)

    def inner_prod(self, x: Any, y: Any) -> Any:
        pairs = zip(self._items(), self._parts(x), self._parts(y), strict=True)
        return sum(space.inner_prod(a, b) for space, a, b in pairs)

    def _map1(self, x: Any, fn: Any) -> Any:
        return self._build([space._map1(a, fn) for space, a in zip(self._items(),
                                                                  self._parts(x), strict=True)])

    def _map2(self, x: Any, y: Any, fn: Any) -> Any:
        parts = zip(self._items(), self._parts(x), self._parts(y), strict=True)
        return self._build([space._map2(a, b, fn) for space, a, b in parts])


def vspace(value: Any) -> VSpace:
    """The vector space of ``value``: an array, a number, a tensor, or a list, tuple or dict
    of them.

    >>> from chainrule.autograd.extend import vspace
    >>> vspace([1.0, (2.0, 3.0)]).size
    3
    """
    if isinstance(value, (list, tuple, dict)):
        return ContainerVSpace(value)
    raw = _raw(value)
    if not _is_array(raw):
        raise TypeError(
            f"Can't find vector space for value {value!r} of type {type(value).__name__}: "
            f"differentiate with respect to floats, complex numbers, arrays of them, or "
            f"lists, tuples and dicts of those"
        )
    return ComplexArrayVSpace(value) if onp.iscomplexobj(raw) else ArrayVSpace(value)
