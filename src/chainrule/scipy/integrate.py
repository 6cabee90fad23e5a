"""``chainrule.scipy.integrate``: SciPy's ``odeint``, differentiable in the initial state, the
times and the extra arguments by the adjoint method.

The solve is one op: its input is ``y0``, ``t`` and the floating leaves of ``args`` joined into
one vector, so one backward solve gives every cotangent. Its reverse rule integrates the
augmented system (the state, its adjoint, and the running cotangents of the time and the
arguments) backwards from each observation time to the one before, with SciPy's ``odeint``;
the augmented dynamics take the user's ``func``'s vector-Jacobian products from ``cr.vjp``
(Froehlich, Loos and Hasenauer 2017, as HIPS autograd does). The backward solves are the same
op again, so the gradient itself differentiates (grad of grad).

>>> import chainrule as cr
>>> from chainrule.scipy.integrate import odeint
>>> decay = lambda y, t, k: -k * y  # y(t) = y0 exp(-k t)
>>> t = cr.tensor([0.0, 1.0], dtype="float64")
>>> y1 = lambda k: odeint(decay, cr.tensor([1.0], dtype="float64"), t, (k,))[1, 0]
>>> round(float(cr.grad(y1)(cr.tensor(0.5, dtype="float64"))), 5)  # -t exp(-k t)
-0.60653
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from typing import Any

import numpy as np

from .. import ops
from ..api import _tensor
from ..backends import traced_whole
from ..functional import jvp, vjp
from ..modes import state
from ..ops.primitive import Primitive
from ..ops.scipy_ops import refuse_foreign
from ..tensor import Tensor, array_of
from ..tree_util import tree_flatten, tree_unflatten

__all__ = ["odeint"]

_SOLVER_OPTIONS = ("ml", "mu", "rtol", "atol", "tcrit", "h0", "hmax", "hmin", "ixpr", "mxstep",
                   "mxhnil", "mxordn", "mxords", "printmessg")


class _Problem:
    """An ODE dy/dt = call(y, t, params) whose differentiable values (y0: ``state`` numbers,
    the times, the parameters) travel as one flat vector, the op's one input."""

    def __init__(self, call: Callable, state: int, times: int, options: dict) -> None:
        self.call, self.state, self.times = call, state, times
        self.options = options  # SciPy's solver options (and Dfun for the forward solve)

    def split(self, flat: Any) -> tuple:
        """(y0, t, the parameters) from the op's input."""
        return (flat[: self.state], flat[self.state: self.state + self.times],
                flat[self.state + self.times:])

    def rate(self, y: np.ndarray, t: float, params: np.ndarray) -> np.ndarray:
        """The rate on plain values, for SciPy's solver."""
        out = self.call(y, np.float64(t), params)
        if isinstance(out, Tensor) and out.requires_grad:
            raise ValueError(
                "odeint: func's result depends on a tensor that requires grad which is not "
                "among its arguments; pass every differentiated value through args=, so that "
                "odeint can differentiate with respect to it"
            )
        return np.asarray(array_of(out), dtype=np.float64).reshape(-1)


def _user_call(func: Callable, leaves: list, treedef: Any, tfirst: bool) -> Callable:
    """func(y, t, *args) as a function of the flat parameters: each differentiable leaf of
    args (given here by its shape, a tuple) is read from them, the others are passed as
    they are."""

    def call(y: Any, t: Any, params: Any) -> Any:
        filled, offset = [], 0
        for leaf in leaves:
            if type(leaf) is tuple:
                size = int(np.prod(leaf))
                filled.append(ops.reshape(params[offset: offset + size], shape=leaf))
                offset += size
            else:
                filled.append(leaf)
        args = tree_unflatten(treedef, filled)
        return _as_rate(func(t, y, *args) if tfirst else func(y, t, *args))

    return call


def _as_rate(out: Any) -> Any:
    """func's result as a vector (SciPy's func may return a list, of tensors too)."""
    if isinstance(out, (list, tuple)) and any(isinstance(v, Tensor) for v in out):
        out = ops.stack([v if isinstance(v, Tensor) else np.asarray(v, np.float64) for v in out])
    elif not isinstance(out, Tensor):
        out = np.asarray(out, dtype=np.float64)
    return ops.reshape(out, shape=(-1,))


@traced_whole
def _solve(flat: Any, *, problem: _Problem) -> np.ndarray:
    import scipy.integrate

    y0, t, params = problem.split(np.asarray(flat, dtype=np.float64))
    with _levels_of_its_own():
        return scipy.integrate.odeint(problem.rate, y0, t, args=(params,), **problem.options)


@contextlib.contextmanager
def _levels_of_its_own() -> Iterator[None]:
    """SciPy calls the dynamics back on plain values, apart from any transform running
    around the solve; so even when the solve runs inside a tangent rule (which hides the
    forward-mode levels from its own up), the jvps the dynamics open must see their levels."""
    previous = state.ceiling
    state.ceiling = type(state)().ceiling
    try:
        yield
    finally:
        state.ceiling = previous


def _augmented(problem: _Problem, params_size: int) -> _Problem:
    """The backward system of ``problem``: state (y, a, a_t, a_params) with dy = f(y, t),
    da = -aᵀ ∂f/∂y, da_t = -aᵀ ∂f/∂t, da_params = -aᵀ ∂f/∂params."""
    state = problem.state

    def dynamics(augmented: Any, t: Any, params: Any) -> Any:
        y, adjoint = augmented[:state], augmented[state: 2 * state]
        rate, pull = vjp(problem.call, y, t, params)
        grad_y, grad_t, grad_params = pull(-adjoint)
        return ops.concatenate(*[rate, grad_y, ops.reshape(grad_t, shape=(1,)), grad_params])

    options = {k: v for k, v in problem.options.items() if k != "Dfun"}
    return _Problem(dynamics, 2 * state + 1 + params_size, 2, options)


def _adjoint(g: Any, flat: Any, ans: Any, problem: _Problem) -> Any:
    """The cotangent of the flat input for one cotangent ``g`` (T, D) of the solution: the
    augmented system solved backwards between consecutive times."""
    _, t, params = problem.split(flat)
    backward = _augmented(problem, int(np.shape(array_of(params))[0]))
    state = problem.state
    adjoint, adjoint_t0 = g[-1], 0.0
    adjoint_params = np.zeros(np.shape(array_of(params)))
    adjoint_times = []
    for i in range(problem.times - 1, 0, -1):
        moved = ops.sum(problem.call(ans[i], t[i], params) * g[i], axis=(-1,))  # moving obs. i
        adjoint_times.append(moved)
        adjoint_t0 = adjoint_t0 - moved
        start = ops.concatenate(*[ans[i], adjoint, ops.reshape(adjoint_t0, shape=(1,)),
                                 adjoint_params])
        span = ops.concatenate(*[t[i: i + 1], t[i - 1: i]])
        end = odeint_call(ops.concatenate(*[start, span, params]), problem=backward)[1]
        adjoint = end[state: 2 * state] + g[i - 1]
        adjoint_t0, adjoint_params = end[2 * state], end[2 * state + 1:]
    adjoint_times.append(adjoint_t0)
    times = ops.stack([ops.reshape(v, shape=()) for v in adjoint_times[::-1]])
    return ops.concatenate(*[adjoint, times, adjoint_params])


def _sensitivities(problem: _Problem, params_size: int) -> _Problem:
    """The forward system of ``problem``: state (y, s) with dy = f(y, t) and
    ds = ∂f/∂y s + ∂f/∂params dparams, its parameters (params, dparams)."""
    state = problem.state

    def dynamics(augmented: Any, t: Any, both: Any) -> Any:
        y, tangent = augmented[:state], augmented[state:]
        params, params_tangent = both[:params_size], both[params_size:]
        zero = np.zeros((), np.result_type(array_of(t)))
        rate, rate_tangent = jvp(problem.call, (y, t, params), (tangent, zero, params_tangent))
        return ops.concatenate(*[rate, rate_tangent])

    options = {k: v for k, v in problem.options.items() if k != "Dfun"}
    return _Problem(dynamics, 2 * state, problem.times, options)


def _tangent(direction: Any, flat: Any, ans: Any, problem: _Problem) -> Any:
    """The solution's tangent along one ``direction`` of the flat input: the sensitivities
    s(t_i) (started at dy0 - f(y0, t0) dt0, the effect of moving the start), plus
    f(y_i, t_i) dt_i (the effect of moving each observation)."""
    y0, t, params = problem.split(flat)
    d_y0, d_t, d_params = problem.split(direction)
    rates = ops.stack([ops.reshape(problem.call(ans[i], t[i], params), shape=(-1,))
                       for i in range(problem.times)])
    forward = _sensitivities(problem, int(np.shape(array_of(params))[0]))
    start = ops.concatenate(*[y0, d_y0 - rates[0] * d_t[0]])
    solved = odeint_call(ops.concatenate(*[start, t, params, d_params]), problem=forward)
    return solved[:, problem.state:] + rates * ops.expand_dims(d_t, -1)


def _per_row(rule: Callable, own_ndim: int) -> Callable:
    """``rule`` (of one flow) applied to each row of a flow with leading batch axes."""

    def batched(flow: Any, flat: Any, ans: Any, problem: _Problem) -> Any:
        shape = np.shape(array_of(flow))
        if len(shape) == own_ndim:
            return rule(flow, flat, ans, problem)
        rows = ops.reshape(flow, shape=(-1,) + shape[len(shape) - own_ndim:])
        pulled = [rule(rows[k], flat, ans, problem) for k in range(rows.shape[0])]
        out = ops.stack(pulled)
        return ops.reshape(out, shape=shape[: len(shape) - own_ndim] + tuple(out.shape[1:]))

    return batched


odeint_call = Primitive(_solve, name="odeint", catalogued=False).defrules(
    vjp=_per_row(_adjoint, 2), jvp=_per_row(_tangent, 1),
)


def odeint(
    func: Callable, y0: Any, t: Any, args: Any = (), Dfun: Callable | None = None,  # noqa: N803
    col_deriv: int = 0, full_output: int = 0, tfirst: bool = False, **options: Any,
) -> Tensor:
    """The solution of dy/dt = func(y, t, *args) with y(t[0]) = y0 at the times ``t``, an
    array (len(t), len(y0)), as ``scipy.integrate.odeint`` (LSODA, with SciPy's options
    ``rtol``, ``atol``, ``mxstep``...). ``func`` is written with chainrule's ops (or NumPy's
    functions on tensors); ``args`` a tuple (any pytree) of values. Differentiable in reverse
    mode in ``y0``, ``t`` and the floating values of ``args``, to any order, by the adjoint
    method (whose accuracy is the solver's: tighten ``rtol``/``atol`` for more digits). A
    value ``func`` closes over is a constant: one that requires grad is refused. ``Dfun``
    (the Jacobian, ``col_deriv``) speeds up the forward solve only; ``full_output`` is not
    supported.
    """
    unknown = sorted(set(options) - set(_SOLVER_OPTIONS))
    if unknown:
        raise TypeError(f"odeint() got unexpected keyword argument(s) {unknown}")
    if full_output:
        raise NotImplementedError("odeint(full_output=True) is not supported: the solver's "
                                  "diagnostics are not differentiable values")
    if not isinstance(args, tuple):
        args = (args,)
    leaves, treedef = tree_flatten(args)
    refuse_foreign("scipy.integrate.odeint", *[array_of(v) for v in (y0, t, *leaves)])
    y0, t = _tensor(y0), _tensor(t)
    if y0.ndim > 1 or t.ndim != 1:
        raise ValueError(f"odeint: y0 must be a vector (or a number) and t a vector of times, "
                         f"got shapes {y0.shape} and {t.shape}")
    shapes, pieces = [], [ops.reshape(y0, shape=(-1,)), t]
    for leaf in leaves:
        value = np.asarray(array_of(leaf))
        if value.dtype.kind == "f" or (isinstance(leaf, Tensor) and leaf.requires_grad):
            shapes.append(tuple(value.shape))
            pieces.append(ops.reshape(_tensor(leaf), shape=(-1,)))
        else:
            shapes.append(leaf)
    if Dfun is not None:
        options.update(Dfun=lambda y, time, params: Dfun(y, time, *args), col_deriv=col_deriv)
    call = _user_call(func, shapes, treedef, tfirst)
    problem = _Problem(call, int(y0.size), int(t.shape[0]), options)
    flat = ops.concatenate(*[ops.astype(p, dtype=np.float64) for p in pieces])
    return odeint_call(flat, problem=problem)
