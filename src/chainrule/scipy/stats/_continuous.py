"""SciPy's continuous distributions, from their standardized formulas (written with chainrule's
ops and the special functions, so differentiable in ``x``, the shapes, ``loc`` and ``scale``)
and SciPy's generic handling (``rv_continuous``): ``z = (x - loc) / scale`` in float64, NaN
where a parameter is invalid, 0 or -inf outside the support, 1 or 0 past its ends.

Where a point is outside the support or a parameter invalid, the formula is evaluated at a
harmless point instead and its result replaced, so neither values nor derivatives there are
NaN (a gradient of 0, as the constant SciPy returns there).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from ... import api, backends
from ...api import where
from ...ops.elementwise import array_value
from ...tensor import Tensor
from .._arrays import everywhere, foreign_of, same_library


def as_float64(value: Any, like: Any = None) -> Tensor:
    """``value`` as a tensor of at least float64 precision (SciPy's ``promote_types(dtype,
    float64)``). ``like`` is an array of another library among the arguments ``value`` came
    with (:func:`~chainrule.scipy._arrays.foreign_of`), or None when they have none: a number
    (or list of them) is then made in its library, an array of it kept, and a NumPy array
    stays one (mixed with another library's arrays, the op refuses it, naming both)."""
    if not isinstance(value, Tensor):
        if like is None or isinstance(value, np.ndarray):
            value = Tensor._wrap(np.asarray(value))
        else:
            value = Tensor._wrap(backends.seen(backends.asarray(value, like=like)))
    dtype = np.promote_types(value.dtype, np.float64)
    return value if value.dtype == dtype else value.astype(dtype)


def masked(formula: Callable, cond: np.ndarray, values: list, safe: list, fill: np.ndarray
           ) -> Tensor:
    """``formula(*values)`` where ``cond`` holds, ``fill`` elsewhere; ``formula`` sees the
    point ``safe`` (one value for each of ``values``) where ``cond`` does not hold."""
    if everywhere(cond):
        return where(cond, formula(*values), fill)
    safe_values = [where(cond, v, s) for v, s in zip(values, safe, strict=True)]
    return where(cond, formula(*safe_values), fill)


class Continuous:
    """One of SciPy's continuous distributions: ``shapes`` names its shape parameters,
    ``argcheck`` says where they are valid (NumPy arrays in, booleans out), ``support`` gives
    its ends (constants, or a function of the shapes' values), ``safe`` a valid point (``z``
    then each shape) used where the formulas are not evaluated. The formulas take the
    standardized ``z`` and the shapes; ``pdf`` defaults to ``exp(logpdf)``, ``logcdf`` to
    ``log(cdf)``, ``logsf`` to ``log(sf)``."""

    def __init__(self, name: str, shapes: tuple, *, logpdf: Callable, safe: tuple,
                 argcheck: Callable | None = None, support: tuple = (-np.inf, np.inf),
                 pdf: Callable | None = None, cdf: Callable | None = None,
                 sf: Callable | None = None, logcdf: Callable | None = None,
                 logsf: Callable | None = None) -> None:
        self.name, self.shapes, self.safe, self.support = name, shapes, safe, support
        self.argcheck = argcheck or (lambda *args: np.bool_(True))
        self._logpdf = logpdf
        self._pdf = pdf or (lambda *args: api.exp(logpdf(*args)))
        self._cdf, self._sf = cdf, sf
        self._logcdf = logcdf or (cdf and (lambda *args: api.log(cdf(*args))))
        self._logsf = logsf or (sf and (lambda *args: api.log(sf(*args))))

    def _parse(self, method: str, x: Any, args: tuple, kwargs: dict) -> tuple:
        """``z``, the shapes, ``scale``, and their NumPy values, from SciPy's arguments:
        the shapes, then ``loc`` and ``scale``, positionally or by name."""
        names = (*self.shapes, "loc", "scale")
        if len(args) > len(names):
            raise TypeError(f"{self.name}.{method}() takes at most {len(names) + 1} positional "
                            f"arguments ({len(args) + 1} given)")
        given = dict(zip(names, args))
        for key, value in kwargs.items():
            if key not in names or key in given:
                raise TypeError(f"{self.name}.{method}() got an unexpected or repeated "
                                f"argument {key!r}")
            given[key] = value
        missing = [n for n in self.shapes if n not in given]
        if missing:
            raise TypeError(f"{self.name}.{method}() missing required argument(s): "
                            f"{', '.join(map(repr, missing))}")
        like = foreign_of(x, *given.values())
        shapes = [as_float64(given[n], like) for n in self.shapes]
        loc = as_float64(given.get("loc", 0.0), like)
        scale = as_float64(given.get("scale", 1.0), like)
        z = (as_float64(x, like) - loc) / scale
        if like is not None:
            same_library(f"scipy.stats.{self.name}.{method}", z, *shapes)
        shape_values = [array_value(s) for s in shapes]
        valid = backends.asarray(self.argcheck(*shape_values) & (array_value(scale) > 0))
        ends = self.support(*shape_values) if callable(self.support) else self.support
        return z, shapes, scale, array_value(z), valid, ends

    def _evaluate(self, formula: Callable, z: Tensor, shapes: list, cond: np.ndarray,
                  fill: np.ndarray) -> Tensor:
        return masked(formula, cond, [z, *shapes], list(self.safe), fill)

    def _density(self, method: str, x: Any, args: tuple, kwargs: dict) -> Tensor:
        z, shapes, scale, z_value, valid, (low, high) = self._parse(method, x, args, kwargs)
        logarithmic = method == "logpdf"
        cond = valid & (low <= z_value) & (z_value <= high)
        fill = np.where(valid & ~np.isnan(z_value), -np.inf if logarithmic else 0.0, np.nan)
        safe_scale = where(cond, scale, 1.0)
        if logarithmic:
            def formula(z, *shapes):
                return self._logpdf(z, *shapes) - api.log(safe_scale)
        else:
            def formula(z, *shapes):
                return self._pdf(z, *shapes) / safe_scale
        return self._evaluate(formula, z, shapes, cond, fill)

    def _distribution(self, method: str, x: Any, args: tuple, kwargs: dict) -> Tensor:
        """cdf, sf and their logarithms: SciPy's values past the support's ends."""
        z, shapes, _, z_value, valid, (low, high) = self._parse(method, x, args, kwargs)
        cond = valid & (low < z_value) & (z_value < high)
        past = valid & ((z_value >= high) if method in ("cdf", "logcdf") else (z_value <= low))
        logarithmic = method.startswith("log")
        fill = np.where(valid & ~np.isnan(z_value), -np.inf if logarithmic else 0.0, np.nan)
        fill = np.where(past, 0.0 if logarithmic else 1.0, fill)
        formula = getattr(self, f"_{method}")
        return self._evaluate(formula, z, shapes, cond, fill)

    def method(self, name: str) -> Callable:
        """The public function ``name`` (``pdf``, ``logcdf``...), with SciPy's arguments."""
        run = self._density if name in ("pdf", "logpdf") else self._distribution
        shapes = ", ".join(self.shapes + ("",)) if self.shapes else ""

        def function(x: Any, *args: Any, **kwargs: Any) -> Tensor:
            return run(name, x, args, kwargs)

        function.__name__ = function.__qualname__ = name
        function.__doc__ = (
            f"``scipy.stats.{self.name}.{name}(x, {shapes}loc=0, scale=1)`` on tensors: "
            "SciPy's values (float64), differentiable in x, loc, scale and the shapes (but "
            "where SciPy's derivative has no closed form: NotImplementedError)."
        )
        return function
