"""``autograd.extend``: HIPS's way to declare a primitive and its derivatives.

A HIPS primitive applied to traced values is one application of an op of chainrule's table:
the variadic carrier ``hips_primitive``, whose inputs are the traced arguments and whose one
static parameter (``call``) holds the user's function, the other arguments and the rules
declared with ``defvjp``/``defjvp``. So a HIPS primitive works under every chainrule transform
(``cr.grad``, ``cr.jacfwd``, the tape, the torch dialect...), at any order when its rules are
written with ``chainrule.autograd.numpy``. The rules are HIPS's: ``defvjp(f, lambda ans, x:
lambda g: ...)``, fed one row at a time when a Jacobian pushes a batch of cotangents. HIPS's
rules and the op table's share one convention for complex values (the transpose, without
conjugation: ``g * f'(z)`` for a holomorphic ``f``); the engine conjugates at its ends only.
Differentiating where no rule was declared raises ``NotImplementedError``, as in HIPS.

>>> from chainrule.autograd import grad
>>> from chainrule.autograd.extend import primitive, defvjp
>>> import chainrule.autograd.numpy as np
>>> @primitive
... def logsumexp(x):
...     return np.log(np.sum(np.exp(x)))
>>> defvjp(logsumexp, lambda ans, x: lambda g: g * np.exp(x - ans))
>>> grad(logsumexp)(np.array([0.0, 0.0]))
array([0.5, 0.5])
"""

from __future__ import annotations

import functools
import itertools
from collections.abc import Callable
from typing import Any

import numpy as onp

from .. import api
from ..ops.primitive import Primitive
from ..tensor import Tensor
from ._box import as_array, raw
from ._vspace import ArrayVSpace, ComplexArrayVSpace, ContainerVSpace, VSpace, vspace

__all__ = [
    "primitive", "notrace_primitive", "defvjp", "defvjp_argnum", "defvjp_argnums", "defjvp",
    "defjvp_argnum", "defjvp_argnums", "def_linear", "vspace", "VSpace", "ArrayVSpace",
    "ComplexArrayVSpace", "ContainerVSpace",
]


class _Primitive:
    """A user's function with HIPS's derivative rules (``vjp_argnums``, ``jvp_argnums``)."""

    def __init__(self, fun: Callable) -> None:
        self.fun = fun
        self.vjp_argnums: Callable | None = None
        self.jvp_argnums: Callable | None = None
        functools.update_wrapper(self, fun)

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        positions = tuple(i for i, arg in enumerate(args) if isinstance(arg, Tensor))
        if not positions:
            return self.fun(*args, **kwargs)
        call = _Call(self, args, kwargs, positions)
        return _CARRIER.apply(tuple(args[i] for i in positions), {"call": call})

    def __get__(self, instance: Any, owner: Any) -> Any:  # a primitive used as a method
        return self if instance is None else functools.partial(self, instance)


class _Call:
    """One call of a primitive on traced values: the carrier's static parameter."""

    __slots__ = ("prim", "args", "kwargs", "positions")

    def __init__(self, prim: _Primitive, args: tuple, kwargs: dict, positions: tuple) -> None:
        self.prim, self.args, self.kwargs, self.positions = prim, args, kwargs, positions

    def arguments(self, inputs: tuple) -> tuple:
        """The call's arguments with ``inputs`` (arrays, or tensors in a recorded pass) in
        the traced ones' places."""
        args = list(self.args)
        for position, value in zip(self.positions, inputs, strict=True):
            args[position] = value
        return tuple(args)

    def name(self) -> str:
        return getattr(self.prim.fun, "__name__", repr(self.prim.fun))


def _hips_primitive(*xs: Any, call: _Call) -> Any:
    result = call.prim.fun(*call.arguments(xs), **call.kwargs)
    if isinstance(result, (tuple, list, dict)):
        raise TypeError(
            f"primitive {call.name()} returned a {type(result).__name__}; a primitive applied "
            f"to traced values must return one array (make one primitive per output)")
    return as_array(result)


def _rowwise(rule: Callable, flow: Any, ndim: int) -> Any:
    """``rule`` on a cotangent or tangent, one row at a time when it carries leading batch
    axes (HIPS's rules are written for one vector)."""
    lead = onp.shape(flow)[: onp.ndim(flow) - ndim]
    if not lead:
        return rule(flow)
    rows = api.reshape(flow, (-1,) + onp.shape(flow)[len(lead):]) if isinstance(
        flow, Tensor) else onp.reshape(flow, (-1,) + onp.shape(flow)[len(lead):])
    results = [rule(rows[row]) for row in range(len(rows))]
    if any(isinstance(r, Tensor) for r in results):
        stacked = api.stack(results)
        return api.reshape(stacked, lead + tuple(stacked.shape[1:]))
    stacked = onp.stack([as_array(r) for r in results])
    return stacked.reshape(lead + stacked.shape[1:])


def _like_input(value: Any, x: Any) -> Any:
    """A rule's result in its input's dtype: real inputs take the real part (HIPS's
    ``match_complex``); constants as arrays."""
    if onp.iscomplexobj(raw(value)) and not onp.iscomplexobj(raw(x)):
        value = api.real(value) if isinstance(value, Tensor) else onp.real(value)
    if not isinstance(value, Tensor):
        value = as_array(value, dtype=onp.result_type(raw(x)))
    return value


def _vjp(g: Any, xs: tuple, ans: Any, index: int, call: _Call) -> Any:
    prim = call.prim
    argnum = call.positions[index]
    if prim.vjp_argnums is None:
        raise NotImplementedError(f"VJP of {call.name()} wrt argnum {argnum} not defined")
    args = call.arguments(xs)

    def one(row: Any) -> Any:
        (result,) = prim.vjp_argnums((argnum,), ans, args, call.kwargs)(row)
        return _like_input(result, xs[index])

    return _rowwise(one, g, onp.ndim(raw(ans)))


def _jvp(t: Any, xs: tuple, ans: Any, index: int, call: _Call) -> Any:
    prim = call.prim
    argnum = call.positions[index]
    if prim.jvp_argnums is None:
        raise NotImplementedError(f"JVP of {call.name()} wrt argnums ({argnum},) not defined")
    args = call.arguments(xs)

    def one(row: Any) -> Any:
        result = prim.jvp_argnums((argnum,), (row,), ans, args, call.kwargs)
        return _like_input(result, ans)

    return _rowwise(one, t, onp.ndim(raw(xs[index])))


_CARRIER = Primitive(_hips_primitive, name="hips_primitive", catalogued=False)
_CARRIER.defrules(vjp=_vjp, jvp=_jvp)


def primitive(fun: Callable) -> _Primitive:
    """Mark ``fun`` as a primitive: traced values are not traced through it, its derivatives
    are the rules declared with ``defvjp``/``defjvp``."""
    return _Primitive(fun)


def notrace_primitive(fun: Callable) -> Callable:
    """``fun`` on the values behind traced arrays: a result without a derivative."""

    @functools.wraps(fun)
    def unboxed(*args: Any, **kwargs: Any) -> Any:
        return fun(*(raw(a) for a in args), **{k: raw(v) for k, v in kwargs.items()})

    return unboxed


def _as_primitive(fun: Any) -> _Primitive:
    if not isinstance(fun, _Primitive):
        raise TypeError(f"{fun!r} is not a primitive; decorate it with @primitive first")
    return fun


def defvjp_argnums(fun: Any, vjpmaker: Callable) -> None:
    """``vjpmaker(argnums, ans, args, kwargs)`` gives ``g -> cotangents`` for ``argnums``."""
    _as_primitive(fun).vjp_argnums = vjpmaker


def defvjp_argnum(fun: Any, vjpmaker: Callable) -> None:
    """``vjpmaker(argnum, ans, args, kwargs)`` gives ``g -> cotangent`` of one argument."""
    def vjp_argnums(argnums: tuple, *args: Any) -> Callable:
        vjps = [vjpmaker(argnum, *args) for argnum in argnums]
        return lambda g: tuple(vjp(g) for vjp in vjps)

    defvjp_argnums(fun, vjp_argnums)


def defvjp(fun: Any, *vjpmakers: Any, argnums: Any = None) -> None:
    """One ``vjpmaker(ans, *args, **kwargs) -> (g -> cotangent)`` per argument (``None``: a
    zero gradient), for ``argnums`` (0, 1, ... by default)."""
    prim = _as_primitive(fun)
    positions = itertools.count() if argnums is None else argnums
    makers = {}
    for argnum, maker in zip(positions, vjpmakers):
        if maker is None:
            maker = _zero_vjp(argnum)
        elif not callable(maker):
            raise TypeError(f"Bad VJP {maker!r} for {prim.__name__}")
        makers[argnum] = maker

    def vjp_argnums(argnums: tuple, ans: Any, args: tuple, kwargs: dict) -> Callable:
        missing = [argnum for argnum in argnums if argnum not in makers]
        if missing:
            raise NotImplementedError(f"VJP of {prim.__name__} wrt argnums {missing} not defined")
        vjps = [makers[argnum](ans, *args, **kwargs) for argnum in argnums]
        return lambda g: tuple(vjp(g) for vjp in vjps)

    defvjp_argnums(fun, vjp_argnums)


def _zero_vjp(argnum: int) -> Callable:
    return lambda ans, *args, **kwargs: lambda g: vspace(args[argnum]).zeros()


def defjvp_argnums(fun: Any, jvpmaker: Callable) -> None:
    """``jvpmaker(argnums, tangents, ans, args, kwargs)`` gives the output's tangent."""
    _as_primitive(fun).jvp_argnums = jvpmaker


def defjvp_argnum(fun: Any, jvpmaker: Callable) -> None:
    """``jvpmaker(argnum, tangent, ans, args, kwargs)`` gives one argument's contribution."""
    def jvp_argnums(argnums: tuple, gs: tuple, ans: Any, args: tuple, kwargs: dict) -> Any:
        parts = [jvpmaker(argnum, g, ans, args, kwargs) for argnum, g in zip(argnums, gs)]
        return functools.reduce(lambda a, b: a + b, parts)

    defjvp_argnums(fun, jvp_argnums)


def defjvp(fun: Any, *jvpfuns: Any, argnums: Any = None) -> None:
    """One ``jvpfun(g, ans, *args, **kwargs)`` per argument (``None``: zero; ``"same"``: the
    primitive itself applied to the tangent, for a linear argument)."""
    prim = _as_primitive(fun)
    positions = itertools.count() if argnums is None else argnums
    rules = {}
    for argnum, jvpfun in zip(positions, jvpfuns):
        if jvpfun is None:
            jvpfun = lambda g, ans, *a, **k: vspace(ans).zeros()  # noqa: E731
        elif jvpfun == "same":
            jvpfun = _linear_jvp(prim, argnum)
        elif not callable(jvpfun):
            raise TypeError(f"Bad JVP {jvpfun!r} for {prim.__name__}")
        rules[argnum] = jvpfun

    def jvp_argnums(argnums: tuple, gs: tuple, ans: Any, args: tuple, kwargs: dict) -> Any:
        missing = [argnum for argnum in argnums if argnum not in rules]
        if missing:
            raise NotImplementedError(f"JVP of {prim.__name__} wrt argnums {missing} not defined")
        parts = [rules[argnum](g, ans, *args, **kwargs) for argnum, g in zip(argnums, gs)]
        return functools.reduce(lambda a, b: a + b, parts)

    defjvp_argnums(fun, jvp_argnums)


def _linear_jvp(prim: _Primitive, argnum: int) -> Callable:
    def jvp(g: Any, ans: Any, *args: Any, **kwargs: Any) -> Any:
        substituted = list(args)
        substituted[argnum] = g
        return prim(*substituted, **kwargs)

    return jvp


def def_linear(fun: Any) -> None:
    """Declare ``fun`` linear in every argument: its tangent is ``fun`` of the tangent."""
    prim = _as_primitive(fun)
    defjvp_argnum(fun, lambda argnum, g, ans, args, kwargs: _linear_jvp(prim, argnum)(
        g, ans, *args, **kwargs))
