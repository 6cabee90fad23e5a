"""Functional transforms with JAX's signatures: grad, value_and_grad, vjp, jvp, jacrev, jacfwd,
jacobian, hessian, hvp.

A transform takes a function and returns a function. Arguments may be NumPy arrays, Python
numbers, tensors, or pytrees of them (nested tuples, lists, dicts, and classes registered with
:func:`chainrule.tree_util.register_pytree_node`); results are tensors in the same structure.
Every transform lifts its arguments the same way (:func:`chainrule.lift.lift`).

Reverse transforms (``grad``, ``vjp``, ``jacrev``) run the function on fresh tensors that require
grad and call the engine's :func:`~chainrule.engine.gradients`. Inside another reverse transform
(or on inputs that already have history) they build a differentiable graph
(``create_graph=True``), so ``grad(grad(f))`` works at any depth. Forward transforms (``jvp``,
``jacfwd``) attach tangents at a fresh nesting level (see :mod:`chainrule.forward`), so nested
perturbations never mix. Reverse transforms run the rules on tensors that carry tangents, so
``jacfwd(jacrev(f))`` (our ``hessian``) and ``jvp(grad(f))`` need nothing special.

``jacrev`` and ``jacfwd`` never loop over basis vectors in Python: they push a whole identity at
once, as a leading batch axis of the cotangents (reverse) or tangents (forward).
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator, Sequence
from typing import Any

import numpy as np

from . import backends, ops
from .backends import asarray
from .engine import gradients
from .forward import end_level, new_level, strip, tangent_of, with_tangent
from .lift import (
    Lifted,
    check_complex,
    checked_cotangent,
    checked_tangent,
    lift,
    output_leaves,
    split_aux,
)
from .modes import live, state
from .node import Node
from .tensor import Tensor, is_differentiable_dtype, to_array
from .tree_util import tree_flatten, tree_map, tree_unflatten

__all__ = [
    "grad", "value_and_grad", "vjp", "jvp", "jacrev", "jacfwd", "jacobian", "hessian", "hvp",
]


def _name(transform: str, f: Callable) -> str:
    return f"{transform}({getattr(f, '__name__', 'f')})"


# ---------------------------------------------------------------------------- reverse mode


@contextlib.contextmanager
def _reverse_transform() -> Iterator[tuple[bool, bool]]:
    """Count running reverse transforms; yield whether an outer one is active and whether
    the caller was recording."""
    outer = state.transform_depth > 0
    previous = state.grad_enabled
    state.transform_depth += 1
    state.grad_enabled = True  # a transform records even inside no_grad(), as in PyTorch
    try:
        yield outer, previous
    finally:
        state.transform_depth -= 1
        state.grad_enabled = previous


def _reverse_input(value: Any) -> Tensor:
    """A tensor requiring grad to differentiate with respect to, carrying ``value``'s
    tangents and, when ``value`` has history, connected to it (for nested transforms)."""
    if isinstance(value, Tensor):
        if value._requires_grad:
            out = ops.identity(value)
            out.retain_grad()  # so that a backward() inside the function fills out.grad
            return out
        out = value._derive(
            history=False, tangents=dict(value._tangents) if value._tangents else None
        )
    else:
        out = Tensor._wrap(value)
    out._requires_grad = True
    return out


def _needs_graph(outputs: list, inputs: list, recording: bool) -> bool:
    """Whether the outputs also depend on tensors that require grad other than ``inputs``
    (parameters the function closes over): then, when the caller records, the results stay
    differentiable with respect to them, as ``torch.func`` does."""
    if not recording:
        return False
    own = {id(tensor) for tensor in inputs}
    seen: set = set()
    stack = []
    for output in outputs:
        if output._node is not None:
            stack.append(output._node)
        elif output._requires_grad and id(output) not in own:
            return True
    while stack:
        node = stack.pop()
        for parent in node.parents:
            if parent is None:
                continue
            if type(parent) is Node:
                if parent not in seen:
                    seen.add(parent)
                    stack.append(parent)
            elif id(parent) not in own:
                return True
    return False


def _finish(value: Any, keep_graph: bool) -> Any:
    """A result as a tensor; without ``keep_graph`` cut from the graph. Tangents stay, but for
    those of finished jvps (``modes.live``)."""
    if not isinstance(value, Tensor):
        return Tensor._wrap(asarray(value))
    tangents = live(value._tangents)
    if keep_graph or (value._node is None and not value._requires_grad):
        return value if tangents is value._tangents else value._derive(tangents=tangents)
    return value._derive(history=False, tangents=tangents)


def _finish_aux(aux: Any, keep_graph: bool) -> Any:
    """``_finish`` for the tensors of the ``aux`` pytree; other leaves as they are."""
    return tree_map(lambda v: _finish(v, keep_graph) if isinstance(v, Tensor) else v, aux)


def _pull(
    outputs: list, inputs: list, cotangents: list, *, create_graph: bool, retain_graph: bool,
    batch: int = 0,
) -> list:
    """Cotangents of ``inputs`` (zeros where unused), in one engine pass."""
    roots = []
    seeds = []
    for output, cotangent in zip(outputs, cotangents, strict=True):
        if output._requires_grad:
            roots.append(output)
            seeds.append(cotangent)
    grads: tuple = (None,) * len(inputs)
    if roots:
        if create_graph:
            seeds = [s if isinstance(s, Tensor) else Tensor._wrap(s) for s in seeds]
        grads = gradients(
            roots, inputs, seeds, retain_graph=retain_graph, create_graph=create_graph,
            allow_unused=True, batch_ndim=batch,
        )
    results = []
    lead = np.shape(cotangents[0])[:batch] if cotangents else ()
    for tensor, gradient in zip(inputs, grads, strict=True):
        if gradient is None:
            gradient = _zeros(lead + tensor._array.shape, tensor._array)
        results.append(gradient)
    return results


def _holomorphic(values: list, holomorphic: bool) -> list:
    """Reverse results as f'(z) for ``holomorphic=True``: the conjugates of PyTorch's."""
    return [ops.conj(value) for value in values] if holomorphic else values


def _trace_reverse(f: Callable, lifted: Lifted, kwargs: dict, has_aux: bool, name: str) -> tuple:
    """Run ``f`` with fresh reverse-mode inputs in place of the lifted leaves.

    Returns ``(inputs, out, aux, create_graph)``; ``create_graph`` says whether the gradients
    must stay differentiable because an argument itself requires grad (callers add
    ``_needs_graph``: the outputs depend on other tensors that do, an outer transform's among
    them).
    """
    inputs = [_reverse_input(leaf) for leaf in lifted.leaves]
    create_graph = any(isinstance(v, Tensor) and v._requires_grad for v in lifted.leaves)
    out, aux = split_aux(lifted.call(f, inputs, kwargs), has_aux, name)
    return inputs, out, aux, create_graph


def vjp(f: Callable, *primals: Any, has_aux: bool = False) -> tuple:
    """Evaluate ``f(*primals)`` and return ``(out, vjp_fn)`` (and ``aux`` with ``has_aux``).

    ``vjp_fn(cotangent)`` gives the tuple of cotangents of the primals, one per primal: the
    vector-Jacobian product. It can be called several times.

    >>> import chainrule as cr
    >>> out, vjp_fn = cr.vjp(lambda x: x * x, cr.tensor([1.0, 2.0]))
    >>> vjp_fn(cr.tensor([1.0, 10.0]))
    (tensor([ 2., 40.]),)
    """
    lifted = lift(primals, None, "vjp")
    with _reverse_transform() as (outer, recording):
        inputs, out, aux, create_graph = _trace_reverse(f, lifted, {}, has_aux, "vjp")
        outputs, out_treedef = output_leaves(out, "vjp")
        create_graph = create_graph or _needs_graph(outputs, inputs, recording or outer)

    def vjp_fn(cotangent: Any) -> tuple:
        leaves_ct, ct_treedef = tree_flatten(cotangent)
        if ct_treedef != out_treedef:
            raise ValueError(
                "vjp_fn: the cotangent must have the structure of the output "
                f"({len(outputs)} leaves), got {len(leaves_ct)} leaves"
            )
        pairs = enumerate(zip(leaves_ct, outputs, strict=True))
        seeds = [checked_cotangent(c, o, i) for i, (c, o) in pairs]
        # (a cotangent carrying only tangents flows as a tensor; the results keep the tangents)
        differentiable = create_graph or any(
            isinstance(s, Tensor) and s._requires_grad for s in seeds
        )
        with _reverse_transform():
            grads = _pull(outputs, inputs, seeds, create_graph=differentiable,
                          retain_graph=True)
        return lifted.regroup([_finish(g, differentiable) for g in grads])

    result = tree_unflatten(out_treedef, [_finish(o, create_graph) for o in outputs])
    if has_aux:
        return result, vjp_fn, _finish_aux(aux, create_graph)
    return result, vjp_fn


def _scalar_output(out: Any) -> Tensor:
    """``grad``'s output: a tensor of one element and a floating dtype."""
    if not isinstance(out, Tensor):
        out = Tensor._wrap(to_array(out))
    if out._array.size != 1:
        raise TypeError(
            f"grad requires a function with a scalar output, but it returned shape "
            f"{out._array.shape}; use cr.vjp for a vector-Jacobian product, cr.jacrev for "
            f"the whole Jacobian, or reduce the output first (e.g. .sum())"
        )
    if not is_differentiable_dtype(out._array.dtype):
        raise TypeError(f"grad requires a floating-point output, got dtype {out._array.dtype}")
    return out


def value_and_grad(
    f: Callable, argnums: int | Sequence[int] = 0, has_aux: bool = False,
    holomorphic: bool = False,
) -> Callable:
    """A function returning ``(f(*args), grad)``; ``((value, aux), grad)`` with ``has_aux``.
    A complex output needs ``holomorphic=True`` (then the gradient is f'(z)), as in JAX.

    >>> import chainrule as cr
    >>> cr.value_and_grad(lambda x: (x ** 3).sum())(cr.tensor([1.0, 2.0]))
    (tensor(9.), tensor([ 3., 12.]))
    """

    def value_and_grad_f(*args: Any, **kwargs: Any) -> Any:
        lifted = lift(args, argnums, "grad")
        with _reverse_transform() as (outer, recording):
            inputs, out, aux, create_graph = _trace_reverse(f, lifted, kwargs, has_aux, "grad")
            out = _scalar_output(out)
            check_complex("grad", holomorphic, inputs, [out], "outputs")
            create_graph = create_graph or _needs_graph([out], inputs, recording or outer)
            seed = backends.ones(out._array.shape, out._array.dtype, like=out._array)
            grads = _pull([out], inputs, [seed], create_graph=create_graph,
                          retain_graph=create_graph)
            grads = _holomorphic(grads, holomorphic)
        grads = lifted.regroup([_finish(g, create_graph) for g in grads])
        value = _finish(out, create_graph)
        if has_aux:
            return (value, _finish_aux(aux, create_graph)), grads
        return value, grads

    value_and_grad_f.__name__ = _name("value_and_grad", f)
    return value_and_grad_f


def grad(
    f: Callable, argnums: int | Sequence[int] = 0, has_aux: bool = False,
    holomorphic: bool = False,
) -> Callable:
    """The gradient of a scalar function, as a function (``(grad, aux)`` with ``has_aux``).

    ``argnums`` selects the differentiated arguments: an int gives one gradient, a tuple a
    tuple of gradients. Arguments may be pytrees (see :mod:`chainrule.tree_util`); a gradient
    has its argument's structure. Compose freely: ``grad(grad(f))``, ``jvp(grad(f), ...)``.
    The output must be real (for complex inputs the gradient is dL/dRe z + i dL/dIm z,
    PyTorch's convention), unless ``holomorphic=True``: then inputs and output are complex and
    the result is the complex derivative f'(z), as JAX's.

    >>> import chainrule as cr
    >>> df = cr.grad(lambda x: x ** 3)
    >>> df(2.0), cr.grad(df)(2.0)
    (tensor(12.), tensor(12.))
    """
    value_and_grad_f = value_and_grad(f, argnums, has_aux, holomorphic)

    def grad_f(*args: Any, **kwargs: Any) -> Any:
        value, grads = value_and_grad_f(*args, **kwargs)
        return (grads, value[1]) if has_aux else grads

    grad_f.__name__ = _name("grad", f)
    return grad_f


# ---------------------------------------------------------------------------- Jacobians


def _is_constant(value: Tensor) -> bool:
    """No history and no tangents: NumPy can reshape it without recording anything."""
    return not value._requires_grad and not value._tangents


def _reshape(value: Tensor, shape: tuple) -> Tensor:
    if value._array.shape == shape:
        return value
    if _is_constant(value):
        return Tensor._wrap(value._array.reshape(shape), None, type(value))
    return ops.reshape(value, shape=shape)


def _zeros(shape: tuple, like: Any, cls: type | None = None) -> Tensor:
    """Zeros of ``shape`` in ``like``'s dtype and library."""
    return Tensor._wrap(backends.zeros(shape, like.dtype, like=like), None, cls)


def _basis(arrays: list) -> list:
    """An identity over all the elements of ``arrays``, cut into one block per array, of shape
    ``(total, *array.shape)``: seeds that push every basis vector at once (``jacrev``, ``jacfwd``).
    """
    total = sum(array.size for array in arrays)
    blocks = []
    start = 0
    for array in arrays:
        basis = np.eye(total, dtype=array.dtype)[:, start : start + array.size]
        blocks.append(backends.constant_like(basis.reshape((total,) + array.shape), array))
        start += array.size
    return blocks


def _reverse_rows(outputs: list, inputs: list, create_graph: bool, holomorphic: bool) -> list:
    """The Jacobian blocks of ``jacrev``, one row per output, one block per input, of shape
    ``output.shape + input.shape``: one backward pass, seeded with an identity over all the
    outputs' elements (or with ones for a single scalar output)."""
    sizes = [output._array.size for output in outputs]
    total = sum(sizes)
    if len(outputs) == 1 and total == 1:
        first = outputs[0]._array
        seed = backends.ones(first.shape, first.dtype, like=first)
        grads = _pull(outputs, inputs, [seed], create_graph=create_graph,
                      retain_graph=create_graph)
        grads = _holomorphic(grads, holomorphic)
        return [[_reshape(g, outputs[0]._array.shape + g._array.shape) for g in grads]]
    seeds = _basis([output._array for output in outputs])
    grads = _pull(outputs, inputs, seeds, create_graph=create_graph,
                  retain_graph=create_graph, batch=1)
    grads = _holomorphic(grads, holomorphic)
    rows = []
    start = 0
    for output, size in zip(outputs, sizes, strict=True):
        row = []
        for tensor, gradient in zip(inputs, grads, strict=True):
            part = gradient
            if size != total:
                part = ops.getitem(gradient, index=slice(start, start + size))
            row.append(_reshape(part, output._array.shape + tensor._array.shape))
        rows.append(row)
        start += size
    return rows


def jacrev(
    f: Callable, argnums: int | Sequence[int] = 0, has_aux: bool = False,
    holomorphic: bool = False,
) -> Callable:
    """The Jacobian by reverse mode: one backward pass with a whole identity as cotangent.
    Complex outputs need ``holomorphic=True``, as in JAX (see :func:`grad`).

    The Jacobian of an output of shape ``S`` with respect to an input of shape ``T`` has shape
    ``S + T``. Cost: one forward and one batched backward pass, whatever the sizes; cheap
    when there are few outputs.

    >>> import chainrule as cr
    >>> cr.jacrev(lambda x: x ** 2)(cr.tensor([1.0, 2.0]))
    tensor([[2., 0.],
            [0., 4.]])
    """

    def jacrev_f(*args: Any, **kwargs: Any) -> Any:
        lifted = lift(args, argnums, "jacrev")
        with _reverse_transform() as (outer, recording):
            inputs, out, aux, create_graph = _trace_reverse(
                f, lifted, kwargs, has_aux, "jacrev"
            )
            outputs, out_treedef = output_leaves(out, "jacrev")
            check_complex("jacrev", holomorphic, inputs, outputs, "outputs")
            create_graph = create_graph or _needs_graph(outputs, inputs, recording or outer)
            rows = _reverse_rows(outputs, inputs, create_graph, holomorphic)
        jac = tree_unflatten(
            out_treedef, [lifted.regroup([_finish(g, create_graph) for g in row]) for row in rows]
        )
        return (jac, _finish_aux(aux, create_graph)) if has_aux else jac

    jacrev_f.__name__ = _name("jacrev", f)
    return jacrev_f


jacobian = jacrev


# ---------------------------------------------------------------------------- forward mode


@contextlib.contextmanager
def _forward_level() -> Iterator[int]:
    """A fresh nesting level for the tangents of one forward transform, ended however the
    function exits."""
    level = new_level()
    try:
        yield level
    finally:
        end_level(level)


def _forward_outputs(out: Any, level: int, batch: tuple, name: str) -> tuple:
    """Primal outputs (level stripped) and their level-``level`` tangents."""
    outputs, out_treedef = output_leaves(out, name)
    primals_out = []
    tangents_out = []
    for output in outputs:
        tangent = tangent_of(output, level)
        if tangent is None:
            tangent = _zeros(batch + output._array.shape, output._array, type(output))
        elif not isinstance(tangent, Tensor):
            tangent = Tensor._wrap(tangent, None, type(output))
        primals_out.append(strip(output, level))
        tangents_out.append(tangent)
    return primals_out, tangents_out, out_treedef


def jvp(f: Callable, primals: Sequence, tangents: Sequence, has_aux: bool = False) -> tuple:
    """Evaluate ``f(*primals)`` and its directional derivative along ``tangents``.

    Returns ``(out, tangent_out)`` (and ``aux`` with ``has_aux``): the Jacobian-vector product
    in one forward pass, whatever the number of outputs.

    >>> import chainrule as cr
    >>> cr.jvp(cr.sin, (cr.tensor(0.0),), (cr.tensor(2.0),))
    (tensor(0.), tensor(2.))
    """
    if not isinstance(primals, (tuple, list)) or not isinstance(tangents, (tuple, list)):
        raise TypeError("jvp(f, primals, tangents): primals and tangents must be tuples")
    if len(primals) != len(tangents):
        raise ValueError(
            f"jvp: got {len(primals)} primals and {len(tangents)} tangents; give one tangent "
            f"per primal"
        )
    lifted = lift(primals, None, "jvp", "primal")
    tangent_leaves, tangent_treedef = tree_flatten(tuple(tangents))
    if tangent_treedef != lifted.treedef:
        raise ValueError("jvp: tangents must have the same structure as primals")
    tangent_leaves = [checked_tangent(t, p, i) for i, (t, p) in
                      enumerate(zip(tangent_leaves, lifted.leaves, strict=True))]
    with _forward_level() as level:
        inputs = [with_tangent(p, t, level)
                  for p, t in zip(lifted.leaves, tangent_leaves, strict=True)]
        out, aux = split_aux(lifted.call(f, inputs, {}), has_aux, "jvp")
        primals_out, tangents_out, out_treedef = _forward_outputs(out, level, (), "jvp")
        if has_aux:
            aux = tree_map(lambda v: strip(v, level), aux)
    result = (tree_unflatten(out_treedef, primals_out), tree_unflatten(out_treedef, tangents_out))
    return (*result, aux) if has_aux else result


def _forward_columns(tangent: Tensor, arrays: list) -> list:
    """The Jacobian blocks of ``jacfwd`` for one output, one per input, of shape
    ``output.shape + input.shape``, from the output's tangent, whose leading axis runs over
    all the inputs' elements."""
    total = tangent._array.shape[0]
    out_shape = tangent._array.shape[1:]
    flat = _reshape(tangent, (total, int(np.prod(out_shape))))
    if _is_constant(flat):
        flat = Tensor._wrap(flat._array.T, None, type(flat))
    else:
        flat = ops.transpose(flat, axes=(1, 0))
    columns = []
    start = 0
    for array in arrays:
        part = flat
        if array.size != total:
            part = ops.getitem(flat, index=(slice(None), slice(start, start + array.size)))
        columns.append(_reshape(part, out_shape + array.shape))
        start += array.size
    return columns


def jacfwd(
    f: Callable, argnums: int | Sequence[int] = 0, has_aux: bool = False,
    holomorphic: bool = False,
) -> Callable:
    """The Jacobian by forward mode: one forward pass with a whole identity as tangent.
    Complex inputs need ``holomorphic=True``, as in JAX (see :func:`grad`).

    Same layout as :func:`jacrev` (output shape, then input shape). Cheap when there are few
    inputs.

    >>> import chainrule as cr
    >>> cr.jacfwd(lambda x: x ** 2)(cr.tensor([1.0, 2.0]))
    tensor([[2., 0.],
            [0., 4.]])
    """

    def jacfwd_f(*args: Any, **kwargs: Any) -> Any:
        lifted = lift(args, argnums, "jacfwd")
        arrays = [leaf._array if isinstance(leaf, Tensor) else leaf for leaf in lifted.leaves]
        if not holomorphic:
            check_complex("jacfwd", False, arrays, [], "inputs")
        total = sum(array.size for array in arrays)
        with _forward_level() as level:
            inputs = [with_tangent(leaf, basis, level)
                      for leaf, basis in zip(lifted.leaves, _basis(arrays), strict=True)]
            out, aux = split_aux(lifted.call(f, inputs, kwargs), has_aux, "jacfwd")
            _, tangents_out, out_treedef = _forward_outputs(out, level, (total,), "jacfwd")
            if holomorphic:
                check_complex("jacfwd", True, arrays, tangents_out, "inputs")
            if has_aux:
                aux = tree_map(lambda v: strip(v, level), aux)
        rows = [lifted.regroup(_forward_columns(t, arrays)) for t in tangents_out]
        jac = tree_unflatten(out_treedef, rows)
        return (jac, aux) if has_aux else jac

    jacfwd_f.__name__ = _name("jacfwd", f)
    return jacfwd_f


# ---------------------------------------------------------------------------- second order


def hessian(
    f: Callable, argnums: int | Sequence[int] = 0, has_aux: bool = False,
    holomorphic: bool = False,
) -> Callable:
    """The Hessian, forward over reverse: ``jacfwd(jacrev(f))``.

    One forward pass carrying an identity's worth of tangents, one backward pass whose rules
    carry them too: a handful of passes for any size.

    >>> import chainrule as cr
    >>> cr.hessian(lambda x: (x ** 3).sum())(cr.tensor([1.0, 2.0]))
    tensor([[ 6.,  0.],
            [ 0., 12.]])
    """
    return jacfwd(jacrev(f, argnums, has_aux, holomorphic), argnums, has_aux, holomorphic)


def hvp(f: Callable, primals: Sequence, tangents: Sequence) -> Any:
    """The Hessian-vector product ``H v`` of a scalar function, forward over reverse, without
    forming ``H``: ``jvp(grad(f), primals, tangents)[1]``.

    >>> import chainrule as cr
    >>> cr.hvp(lambda x: (x ** 3).sum(), (cr.tensor([1.0, 2.0]),), (cr.tensor([1.0, 0.0]),))
    tensor([6., 0.])
    """
    argnums = tuple(range(len(primals))) if len(primals) > 1 else 0
    return jvp(grad(f, argnums), primals, tangents)[1]
