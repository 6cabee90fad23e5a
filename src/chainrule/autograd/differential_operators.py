"""``autograd.differential_operators``: HIPS autograd's differential operators (where HIPS defines
them), on chainrule's transforms.

Each operator is written as HIPS writes it, from two unary building blocks, ``make_vjp(fun,
x) -> (vjp, ans)`` and ``make_jvp(fun, x)(v) -> (ans, jvp)``, which are chainrule's ``vjp`` and
``jvp`` with HIPS's conventions at the boundary (``_box``: traced values are
:class:`~chainrule.autograd._box.ArrayBox`, results are NumPy, complex cotangents are
conjugated). ``unary_to_nary`` gives every operator HIPS's ``(fun, argnum=0)`` signature.

HIPS has no grad mode: a derivative is differentiable again only when a transform traces it.
So the core's transforms run here with the caller's recording off, and a result stays
differentiable only inside an outer transform (a nested ``grad``), never with respect to
the finished inputs of an earlier trace (``make_ggnvp``'s vjp of a vjp).
"""

from __future__ import annotations

import contextlib
import functools
import inspect
import warnings
from collections.abc import Callable
from typing import Any

import numpy as onp

import chainrule

from .. import functional
from ..modes import no_grad, state
from ..tracing.record import TraceArray
from . import numpy as anp
from ._box import as_array, box, conj_complex, plain, raw
from ._vspace import vspace


def unary_to_nary(unary_operator: Callable) -> Callable:
    """``unary_operator(fun, x, ...)`` as an operator on functions of many arguments, taking
    the derivative with respect to argument ``argnum`` (a list or tuple of argnums: a tuple
    of arguments). The result is named ``<op>_of_<fun>_wrt_argnum_<argnum>``, as in HIPS."""

    @functools.wraps(unary_operator)
    def nary_operator(fun: Callable, argnum: Any = 0, *op_args: Any, **op_kwargs: Any) -> Any:
        if type(argnum) not in (int, tuple, list):
            raise TypeError(f"argnum must be an int, a tuple or a list, got {argnum!r}")

        def nary_f(*args: Any, **kwargs: Any) -> Any:
            def unary_f(x: Any) -> Any:
                subargs = list(args)
                if isinstance(argnum, int):
                    subargs[argnum] = x
                else:
                    for num, value in zip(argnum, x, strict=True):
                        subargs[num] = value
                return fun(*subargs, **kwargs)

            unary_f.__name__ = getattr(fun, "__name__", "[unknown name]")
            x = args[argnum] if isinstance(argnum, int) else tuple(args[i] for i in argnum)
            return unary_operator(unary_f, x, *op_args, **op_kwargs)

        name = getattr(fun, "__name__", "[unknown name]")
        nary_f.__name__ = f"{unary_operator.__name__}_of_{name}_wrt_argnum_{argnum}"
        nary_f.__doc__ = (
            f"    {unary_operator.__name__} of function {name} with respect to argument number "
            f"{argnum}. Takes the\n    same arguments as {name} but returns the "
            f"{unary_operator.__name__}.\n    ")
        return nary_f

    return nary_operator


def _outermost() -> Any:
    """Recording off for a transform run outside any other reverse transform (see the
    module's docstring); nested ones record as the outer transform needs."""
    return no_grad() if state.transform_depth == 0 else contextlib.nullcontext()


def _cast_like(value: Any, like: Any) -> Any:
    """A NumPy cotangent or tangent in the dtype of the value it goes with (HIPS accepts a
    float64 vector for a float32 array); tensors and containers as they are."""
    if isinstance(value, (float, int, complex, onp.ndarray, onp.generic, TraceArray)):
        dtype = onp.result_type(raw(like))  # (metadata: no guard on a cr.jit tracing array)
        value = as_array(value)
        if value.dtype != dtype and onp.can_cast(value.dtype, dtype, "same_kind"):
            return value.astype(dtype)
    return value


def _cast_tree(values: Any, likes: Any) -> Any:
    if isinstance(values, (list, tuple)) and isinstance(likes, (list, tuple)):
        return type(values)(_cast_tree(v, like) for v, like in zip(values, likes, strict=False))
    if isinstance(values, dict) and isinstance(likes, dict):
        return {key: _cast_tree(v, likes.get(key)) for key, v in values.items()}
    return _cast_like(values, likes) if likes is not None else values


def _make_vjp(fun: Callable, x: Any) -> tuple[Callable, Any]:
    """``(vjp, ans)``: ``fun(x)`` and its vector-Jacobian product, in HIPS's convention."""
    with _outermost():
        ans, core_vjp = functional.vjp(fun, box(x))

    def vjp(g: Any) -> Any:
        with _outermost():
            (result,) = core_vjp(conj_complex(_cast_tree(g, ans)))
        return plain(conj_complex(result))

    return vjp, plain(ans)


def _make_jvp(fun: Callable, x: Any) -> Callable:
    """``jvp(v) -> (fun(x), J v)``: forward mode (no convention to convert)."""

    def jvp(v: Any) -> tuple:
        with _outermost():
            ans, tangent = functional.jvp(fun, (box(x),), (_cast_tree(v, x),))
        return plain(ans), plain(tangent)

    return jvp


make_vjp = unary_to_nary(_make_vjp)
make_jvp = unary_to_nary(_make_jvp)


def _scalar_real(ans: Any, name: str) -> Any:
    space = vspace(ans)
    if space.size != 1 or space.iscomplex:
        raise TypeError(
            f"{name} only applies to real scalar-output functions, got "
            f"{'complex ' if space.iscomplex else ''}output of shape "
            f"{getattr(space, 'shape', '?')}. Try jacobian, elementwise_grad or holomorphic_grad."
        )
    return space


def _value_and_grad(fun: Callable, x: Any, name: str) -> tuple:
    """``(fun(x), its gradient)`` by the core's ``value_and_grad`` (one pass that frees the
    graph as it goes, where a reusable ``make_vjp`` keeps it), in HIPS's conventions."""
    def checked(x: Any) -> Any:
        ans = fun(x)
        _scalar_real(ans, name)
        return ans

    with _outermost():
        ans, gradient = functional.value_and_grad(checked)(box(x))
    return plain(ans), plain(conj_complex(gradient))


@unary_to_nary
def grad(fun: Callable, x: Any) -> Any:
    """
    Returns a function which computes the gradient of ``fun`` with respect to positional
    argument number ``argnum``. The returned function takes the same arguments as ``fun``,
    but returns the gradient instead. ``fun`` must be real and scalar-valued. The gradient
    has the argument's type (a list for a list, a float32 array for a float32 array).

    >>> from chainrule.autograd import grad
    >>> grad(lambda x, y: x * y, 1)(2.0, 3.0)
    np.float64(2.0)
    """
    return _value_and_grad(fun, x, "grad")[1]


@unary_to_nary
def value_and_grad(fun: Callable, x: Any) -> tuple:
    """``(fun(x), grad(fun)(x))`` from one pass (for ``scipy.optimize``)."""
    return _value_and_grad(fun, x, "value_and_grad")


@unary_to_nary
def elementwise_grad(fun: Callable, x: Any) -> Any:
    """The sum of each column of the Jacobian (its diagonal, for an elementwise ``fun``)."""
    vjp, ans = _make_vjp(fun, x)
    space = vspace(ans)
    if space.iscomplex:
        raise TypeError("elementwise_grad only applies to real-output functions, got a complex "
                        "output; use holomorphic_grad or make_vjp")
    return vjp(space.ones())


@unary_to_nary
def deriv(fun: Callable, x: Any) -> Any:
    """The derivative along the all-ones direction, by forward mode."""
    return _make_jvp(fun, x)(vspace(x).ones())[1]


def _complex_output_error() -> ValueError:
    return ValueError(
        "jacobian of a complex-valued function is not defined here (HIPS autograd fails on it "
        "too): take the real and imaginary parts apart (np.real(f(x)), np.imag(f(x))), or use "
        "holomorphic_grad or make_vjp")


def _basis_jacobian(fun: Callable, x: Any) -> Any:
    """HIPS's Jacobian of a real function of complex values: one vector-Jacobian product per
    output element, in HIPS's convention (the core's batched Jacobian follows JAX's)."""
    vjp, ans = _make_vjp(fun, x)
    if vspace(ans).iscomplex:
        raise _complex_output_error()
    rows = [vjp(vector) for vector in vspace(ans).standard_basis()]
    return plain(anp.reshape(anp.stack(rows), vspace(ans).shape + vspace(x).shape))


@unary_to_nary
def jacobian(fun: Callable, x: Any) -> Any:
    """The Jacobian, of shape ``out.shape + x.shape``, by one batched reverse pass.

    >>> from chainrule.autograd import jacobian
    >>> jacobian(lambda x: x ** 2)(onp.array([1.0, 2.0]))
    array([[2., 0.],
           [0., 4.]])
    """
    if isinstance(x, (list, tuple, dict)):
        raise TypeError("jacobian differentiates with respect to an array or a scalar, not a "
                        f"{type(x).__name__} (use grad or make_vjp for containers)")
    if onp.iscomplexobj(raw(x)):
        return _basis_jacobian(fun, x)
    try:
        with _outermost():
            return plain(functional.jacrev(fun)(box(x)))
    except TypeError as error:
        if "complex" in str(error):
            raise _complex_output_error() from error
        raise


@unary_to_nary
def holomorphic_grad(fun: Callable, x: Any) -> Any:
    """The complex derivative ``f'(z)`` of a holomorphic scalar function."""
    if not vspace(x).iscomplex:
        warnings.warn("Input to holomorphic_grad is not complex", stacklevel=2)
    return grad(lambda z: anp.real(fun(z)))(x)


def grad_named(fun: Callable, argname: str) -> Callable:
    """The gradient with respect to the argument named ``argname``."""
    return grad(fun, inspect.getfullargspec(fun).args.index(argname))


@unary_to_nary
def hessian(fun: Callable, x: Any) -> Any:
    """The exact Hessian: the Jacobian of the Jacobian."""
    return jacobian(jacobian(fun))(x)


@unary_to_nary
def make_hvp(fun: Callable, x: Any) -> tuple:
    """``(hvp, grad)`` at ``x``: Hessian-vector products reusing one forward pass."""
    return _make_vjp(grad(fun), x)


def hessian_tensor_product(fun: Callable, argnum: int = 0) -> Callable:
    """A function of ``(*args, tensor)`` giving the Hessian contracted with ``tensor``."""
    fun_grad = grad(fun, argnum)

    def vector_dot_grad(*args: Any, **kwargs: Any) -> Any:
        args, vector = args[:-1], args[-1]
        return anp.tensordot(fun_grad(*args, **kwargs), vector, onp.ndim(vector))

    return grad(vector_dot_grad, argnum)


hessian_vector_product = hessian_tensor_product


def tensor_jacobian_product(fun: Callable, argnum: int = 0) -> Callable:
    """A function of ``(*args, tensor)`` giving ``tensor`` contracted with the Jacobian."""
    def vector_dot_fun(*args: Any, **kwargs: Any) -> Any:
        args, vector = args[:-1], args[-1]
        return anp.tensordot(vector, fun(*args, **kwargs), axes=onp.ndim(vector))

    return jacobian(vector_dot_fun, argnum)


vector_jacobian_product = tensor_jacobian_product


def make_ggnvp(f: Callable, g: Callable | None = None, f_argnum: int = 0) -> Callable:
    """Generalized Gauss-Newton-vector products of ``g(f(x))`` (``g`` defaults to half the
    squared norm over the last axis)."""
    if g is None:
        def g(y: Any) -> Any:
            return 0.5 * anp.sum(y ** 2, axis=-1)

    @unary_to_nary
    def _make_ggnvp(f: Callable, x: Any) -> Callable:
        f_vjp, f_x = _make_vjp(f, x)
        g_hvp, grad_g_x = _make_vjp(grad(g), f_x)
        f_jvp, _ = _make_vjp(f_vjp, vspace(grad_g_x).zeros())
        return lambda v: f_vjp(g_hvp(f_jvp(v)))

    return _make_ggnvp(f, f_argnum)


@unary_to_nary
def grad_and_aux(fun: Callable, x: Any) -> tuple:
    """``(gradient of the first output, the second output)`` for ``fun`` returning two."""
    with _outermost():
        ans, core_vjp, aux = functional.vjp(fun, box(x), has_aux=True)
        _scalar_real(ans, "grad_and_aux")
        (result,) = core_vjp(onp.ones(ans.shape, ans.dtype))
    return plain(conj_complex(result)), plain(aux)


def multigrad_dict(fun: Callable) -> Callable:
    """The gradients with respect to all arguments, as a dict from name to gradient."""
    signature = inspect.signature(fun)

    def gradfun(*args: Any, **kwargs: Any) -> dict:
        bound = signature.bind(*args, **kwargs)
        bound.apply_defaults()
        arguments = dict(bound.arguments)
        grads = grad(lambda values: fun(**values))(arguments)
        return {name: grads[name] for name in arguments}

    return gradfun


def checkpoint(fun: Callable) -> Callable:
    """``fun`` whose intermediate values are recomputed in the backward pass instead of
    kept (chainrule's ``checkpoint``); plain NumPy results on plain inputs."""
    recomputed = chainrule.checkpoint(fun)

    @functools.wraps(fun)
    def checkpointed(*args: Any, **kwargs: Any) -> Any:
        return plain(recomputed(*args, **kwargs))

    return checkpointed
