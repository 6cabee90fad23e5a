"""Where a plotted function blows up, and the y-range a person would choose around it.

A plot of 1/x on a grid through 0 reaches 1e16 (or inf) at the point nearest the pole, and
matplotlib's automatic limits then flatten every curve onto the axis. A pole is recognised on
the sampled values alone, as a zero of 1/f between or at grid points where |f| is far above the
curve's typical size (its median magnitude):

* a non-finite value toward which |f| grows steeply from both sides (a grid point on the pole);
* a sign change next to a very large value, |f| growing toward it from both sides (an odd
  pole, 1/x, tan x; a steep but finite crossing shrinks toward it),
  placed where the straight line through 1/f crosses zero (exact for c / (x - p));
* a local maximum of |f| through which the parabola of 1/f reaches zero (an even pole, 1/x**2;
  a tall but finite peak, 1 / (x**2 + 0.01), never does).

A steep growth at an end of the range (exp on [-10, 10]) is not a pole: the curve is shown whole.
When there is a pole, the y-range is the 5% to 95% quantiles of the finite values, widened by a
quarter of their spread on each side, made symmetric about 0 when it holds both signs, and never
beyond the data: as one would set it by hand.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

LARGE = 10.0  # "very large": this many times the curve's median magnitude
STEEP = 1.5
QUANTILES = (0.05, 0.95)
PAD = 0.25


def _scale(values: np.ndarray) -> float:
    finite = np.abs(values[np.isfinite(values)])
    if not finite.size:
        return np.inf
    scale = float(np.median(finite))
    return scale if scale > 0 else float(np.mean(finite)) or np.inf


def curve_poles(xs: np.ndarray, values: np.ndarray) -> list[float]:
    """The x of each pole of the curve ``values`` sampled at the increasing ``xs``."""
    finite = np.isfinite(values)
    big = ~finite | (np.abs(values) > LARGE * _scale(values))
    found = _nonfinite_poles(xs, values, finite)
    for i in range(1, len(xs) - 1):
        a, b, c = values[i - 1: i + 2]
        if not finite[i - 1: i + 2].all() or not (big[i] or big[i + 1]):
            continue
        beyond = abs(values[i + 2]) if i + 2 < len(xs) else 0.0
        if np.sign(b) != np.sign(c) and abs(a) <= abs(b) and beyond <= abs(c):
            # odd: |f| grows toward a sign change (a steep zero crossing shrinks), 1/f crosses 0
            ga, gb = 1 / b, 1 / c
            found.append(float(xs[i] - ga * (xs[i + 1] - xs[i]) / (gb - ga)))
        elif big[i] and abs(a) <= abs(b) > abs(c) and np.sign(a) == np.sign(b) == np.sign(c):
            reciprocal = 1 / values[i - 1: i + 2]
            if _touches_zero(xs[i - 1: i + 2], reciprocal):  # even: 1/f touches zero
                found.append(_vertex(xs[i - 1: i + 2], reciprocal))
    return found


def _nonfinite_poles(xs: np.ndarray, values: np.ndarray, finite: np.ndarray) -> list[float]:
    """The middle of each interior run of non-finite values toward which |f| grows steeply
    from both sides (at least STEEP times from one point to the next, as 1/x on a grid through
    0: twice); a run where the curve goes on smoothly is a hole (sin(x)/x at 0)."""
    found = []
    magnitude = np.abs(np.where(finite, values, 0.0))
    i = 1
    while i < len(xs) - 1:
        if finite[i]:
            i += 1
            continue
        j = i
        while j + 1 < len(xs) and not finite[j + 1]:
            j += 1
        if 2 <= i and j + 2 < len(xs) and finite[[i - 2, i - 1, j + 1, j + 2]].all() \
                and magnitude[i - 1] >= STEEP * magnitude[i - 2] \
                and magnitude[j + 1] >= STEEP * magnitude[j + 2]:
            found.append(float((xs[i] + xs[j]) / 2))
        i = j + 1
    return found


def _parabola(xs: np.ndarray, gs: np.ndarray) -> np.ndarray:
    return np.polyfit(xs - xs[1], gs, 2)


def _touches_zero(xs: np.ndarray, gs: np.ndarray) -> bool:
    """Whether the parabola through (xs, gs) comes within a tenth of gs[1] of zero."""
    a, b, c = _parabola(xs, gs)
    if a == 0 or np.sign(a) != np.sign(gs[1]):
        return False
    lowest = c - b * b / (4 * a)
    return abs(lowest) < 0.1 * abs(gs[1]) or np.sign(lowest) != np.sign(gs[1])


def _vertex(xs: np.ndarray, gs: np.ndarray) -> float:
    a, b, _ = _parabola(xs, gs)
    return float(np.clip(xs[1] - b / (2 * a), xs[0], xs[2]))


def poles(xs: np.ndarray, curves: Sequence[np.ndarray]) -> list[float]:
    """The poles of all ``curves`` (f and its derivatives), each once: where f and a derivative
    both have one, f's estimate of where it is (the lowest order's: the most accurate)."""
    step = float(np.min(np.diff(xs))) if len(xs) > 1 else 0.0
    merged: list[float] = []
    for values in curves:
        for pole in curve_poles(xs, np.asarray(values)):
            if all(abs(pole - known) > 1.5 * step for known in merged):
                merged.append(pole)
    return sorted(merged)


def window(curves: Sequence[np.ndarray]) -> tuple[float, float] | None:
    """The y-range around the finite values a person would choose; None if there are none."""
    values = np.concatenate([np.ravel(c) for c in curves])
    values = values[np.isfinite(values)]
    if not values.size:
        return None
    low, high = np.quantile(values, QUANTILES)
    pad = PAD * (high - low) or 1.0
    low, high = low - pad, high + pad
    if low < 0 < high:  # both signs: the same reach either way, as one sets it by hand
        low, high = -max(-low, high), max(-low, high)
    return max(low, values.min()), min(high, values.max())
