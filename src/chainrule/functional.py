"""Functional transforms with JAX's signatures: grad, value_and_grad, vjp, jvp, jacrev, jacfwd,
jacobian, hessian, hvp.

A transform takes a function and returns a function. Arguments may be NumPy arrays, Python
numbers, tensors, or nested tuples/lists/dicts of them (a *pytree*); results are tensors in the
same structure.

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

from . import ops
from .engine import gradients
from .forward import end_level, new_level, strip, tangent_of, with_tangent
from .modes import live, state
from .node import Node
from .tensor import Tensor, is_differentiable_dtype, to_array

__all__ = [
    "grad", "value_and_grad", "vjp", "jvp", "jacrev", "jacfwd", "jacobian", "hessian", "hvp",
]

# ---------------------------------------------------------------------------- pytrees
# A treedef is None for a leaf, or (rebuild, children treedefs, keys) for a container.


def tree_flatten(tree: Any) -> tuple[list, Any]:
    """The leaves of ``tree`` (depth first) and a description to rebuild it.

    >>> leaves, treedef = tree_flatten({"a": 1.0, "b": (2.0, [3.0])})
    >>> leaves
    [1.0, 2.0, 3.0]
    >>> tree_unflatten(treedef, [4, 5, 6])
    {'a': 4, 'b': (5, [6])}
    """
    leaves: list = []
    treedef = _flatten(tree, leaves)
    return leaves, treedef


def _flatten(tree: Any, leaves: list) -> Any:
    if isinstance(tree, dict):
        keys = list(tree)
        return (type(tree), tuple(_flatten(tree[k], leaves) for k in keys), tuple(keys))
    if isinstance(tree, (tuple, list)):
        return (type(tree), tuple(_flatten(item, leaves) for item in tree), None)
    if tree is None:
        return ("none",)
    leaves.append(tree)
    return None


def tree_unflatten(treedef: Any, leaves: Sequence) -> Any:
    """Rebuild the structure described by ``treedef`` around ``leaves``."""
    iterator = iter(leaves)
    return _unflatten(treedef, iterator)


def _unflatten(treedef: Any, leaves: Iterator) -> Any:
    if treedef is None:
        return next(leaves)
    if treedef == ("none",):
        return None
    kind, children, keys = treedef
    items = [_unflatten(child, leaves) for child in children]
    if keys is not None:
        return kind(zip(keys, items, strict=True))
    if kind is tuple or kind is list:
        return kind(items)
    if hasattr(kind, "_fields"):  # a namedtuple
        return kind(*items)
    return kind(items)


# ---------------------------------------------------------------------------- helpers


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


def _argnums(argnums: int | Sequence[int], count: int) -> tuple[tuple[int, ...], Any]:
    """The arguments to differentiate, each once, and how to lay the results out: None for a
    single int ``argnums`` (one result), else the position in the first tuple of each requested
    argument (``argnums=(0, 0)`` gives the same gradient twice, as in JAX)."""
    single = isinstance(argnums, (int, np.integer))
    nums = (int(argnums),) if single else tuple(int(a) for a in argnums)
    if not nums:
        raise ValueError("argnums must name at least one argument")
    resolved = []
    for num in nums:
        if not -count <= num < count:
            raise ValueError(
                f"argnums={argnums!r} asks for argument {num} but the function was called "
                f"with {count} positional argument(s)"
            )
        resolved.append(num % count)
    unique = tuple(dict.fromkeys(resolved))
    return unique, None if single else tuple(unique.index(num) for num in resolved)


def _float_array(value: Any, what: str) -> Any:
    """``value`` as a tensor or array, checked to have a floating (differentiable) dtype."""
    if isinstance(value, Tensor):
        dtype = value._array.dtype
    else:
        value = to_array(value)
        dtype = value.dtype
    if not is_differentiable_dtype(dtype):
        raise TypeError(
            f"{what} has dtype {dtype}, but only floating-point inputs can be differentiated; "
            f"pass floats (e.g. 2.0 instead of 2, or x.astype('float64'))"
        )
    return value


def _reverse_input(value: Any) -> Tensor:
    """A tensor requiring grad to differentiate with respect to, carrying ``value``'s
    tangents and, when ``value`` has history, connected to it (for nested transforms)."""
    if isinstance(value, Tensor):
        if value._rg:
            out = ops.identity(value)
            out.retain_grad()  # so that a backward() inside the function fills out.grad
            return out
        out = Tensor._wrap(value._array, None, type(value))
        out._tangents = dict(value._tangents) if value._tangents else None
    else:
        out = Tensor._wrap(value)
    out._rg = True
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
        elif output._rg and id(output) not in own:
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
        return Tensor._wrap(np.asarray(value))
    tangents = live(value._tangents)
    if keep_graph or (value._node is None and not value._rg):
        if tangents is value._tangents:
            return value
        out = value._as_class(type(value))
    else:
        out = Tensor._wrap(value._array, None, type(value))
    out._tangents = tangents
    return out


def _finish_tree(tree: Any, keep_graph: bool) -> Any:
    """``_finish`` for the tensors of a pytree (``aux`` outputs); other leaves as they are."""
    leaves, treedef = tree_flatten(tree)
    return tree_unflatten(
        treedef, [_finish(leaf, keep_graph) if isinstance(leaf, Tensor) else leaf
                  for leaf in leaves]
    )


def _plain(value: Tensor) -> bool:
    """No history and no tangents: NumPy can reshape it without recording anything."""
    return not value._rg and not value._tangents


def _reshape(value: Tensor, shape: tuple) -> Tensor:
    if value._array.shape == shape:
        return value
    if _plain(value):
        return Tensor._wrap(value._array.reshape(shape), None, type(value))
    return ops.reshape(value, shape=shape)


def _zeros(shape: tuple, dtype: np.dtype) -> Tensor:
    return Tensor._wrap(np.zeros(shape, dtype=dtype))


def _basis(arrays: list) -> list:
    """An identity over all the elements of ``arrays``, cut into one block per array, of shape
    ``(total, *array.shape)``: seeds that push every basis vector at once (``jacrev``, ``jacfwd``).
    """
    total = sum(array.size for array in arrays)
    blocks = []
    start = 0
    for array in arrays:
        basis = np.eye(total, dtype=array.dtype)[:, start : start + array.size]
        blocks.append(basis.reshape((total,) + array.shape))
        start += array.size
    return blocks


def _prepare(
    args: tuple, argnums: tuple[int, ...], name: str
) -> tuple[list, list, list]:
    """Flatten the differentiated arguments: (leaves, treedefs per argnum, leaf counts)."""
    leaves: list = []
    treedefs = []
    counts = []
    for num in argnums:
        arg_leaves, treedef = tree_flatten(args[num])
        for index, leaf in enumerate(arg_leaves):
            label = f"argument {num}" + (f" (leaf {index})" if len(arg_leaves) > 1 else "")
            leaves.append(_float_array(leaf, f"{name}: {label}"))
        treedefs.append(treedef)
        counts.append(len(arg_leaves))
    return leaves, treedefs, counts


def _substitute(args: tuple, argnums: tuple, treedefs: list, counts: list, leaves: list) -> list:
    new_args = list(args)
    start = 0
    for num, treedef, count in zip(argnums, treedefs, counts, strict=True):
        new_args[num] = tree_unflatten(treedef, leaves[start : start + count])
        start += count
    return new_args


def _regroup(values: list, layout: Any, treedefs: list, counts: list) -> Any:
    """Per-leaf results back into one pytree per differentiated argument, laid out as
    ``_argnums`` says (``layout``: None for one result, else positions)."""
    groups = []
    start = 0
    for treedef, count in zip(treedefs, counts, strict=True):
        groups.append(tree_unflatten(treedef, values[start : start + count]))
        start += count
    return groups[0] if layout is None else tuple(groups[i] for i in layout)


def _split_aux(result: Any, has_aux: bool, name: str) -> tuple[Any, Any]:
    if not has_aux:
        return result, None
    if not isinstance(result, (tuple, list)) or len(result) != 2:
        raise TypeError(f"{name}(has_aux=True) needs a function that returns a pair (out, aux)")
    return result[0], result[1]


def _output_leaves(out: Any, name: str) -> tuple[list, Any]:
    leaves, treedef = tree_flatten(out)
    converted = []
    for leaf in leaves:
        if not isinstance(leaf, Tensor):
            leaf = Tensor._wrap(to_array(leaf))
        if not is_differentiable_dtype(leaf._array.dtype):
            raise TypeError(
                f"{name}: the function returned a tensor of dtype {leaf._array.dtype}; "
                f"only floating-point outputs can be differentiated"
            )
        converted.append(leaf)
    return converted, treedef


def _pull(
    outputs: list, inputs: list, cotangents: list, *, create_graph: bool, retain_graph: bool,
    batch: int = 0,
) -> list:
    """Cotangents of ``inputs`` (zeros where unused), in one engine pass."""
    roots = []
    seeds = []
    for output, cotangent in zip(outputs, cotangents, strict=True):
        if output._rg:
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
            gradient = _zeros(lead + tensor._array.shape, tensor._array.dtype)
        results.append(gradient)
    return results


def _cotangent_array(value: Any, output: Tensor, index: int) -> Any:
    if not isinstance(value, Tensor):
        value = np.asarray(value, dtype=output._array.dtype)
    if value.shape != output._array.shape:
        raise ValueError(
            f"vjp: cotangent {index} has shape {value.shape} but the output has shape "
            f"{output._array.shape}; they must match"
        )
    if value.dtype != output._array.dtype:
        raise TypeError(
            f"vjp: cotangent {index} has dtype {value.dtype} but the output has dtype "
            f"{output._array.dtype}; they must match"
        )
    if isinstance(value, Tensor) and not value._rg and not value._tangents:
        return value._array
    return value


def _check_complex(name: str, holomorphic: bool, inputs: list, outputs: list, side: str) -> None:
    """JAX's rule for complex numbers in ``grad``, ``jacrev`` and ``jacfwd``: the values a
    transform's basis runs over (outputs for reverse mode, inputs for forward mode) must be
    real, since one pass per real basis vector misses the imaginary directions, unless the
    function is holomorphic (``holomorphic=True``: complex inputs and outputs, and the result
    is the complex derivative f'(z)). For real losses of complex inputs, ``grad`` gives
    PyTorch's convention, dL/dRe z + i dL/dIm z (see the README's "Complex numbers")."""
    kinds = {"inputs": inputs, "outputs": outputs}
    if holomorphic:
        for what, values in kinds.items():
            for value in values:
                if value.dtype.kind != "c":
                    raise TypeError(
                        f"{name} with holomorphic=True requires {what} with complex dtype, but "
                        f"got {value.dtype}; make them complex (x.astype('complex128'))"
                    )
        return
    for value in kinds[side]:
        if value.dtype.kind == "c":
            other = "cr.vjp" if side == "outputs" else "cr.jvp"
            raise TypeError(
                f"{name} requires real-valued {side}, but got {value.dtype}. For holomorphic "
                f"differentiation, pass holomorphic=True. For differentiating non-holomorphic "
                f"functions involving complex {side}, use {other} directly (or a real loss, "
                f"such as cr.abs(y) ** 2)"
            )


def _holomorphic(values: list, holomorphic: bool) -> list:
    """Reverse results as f'(z) for ``holomorphic=True``: the conjugates of PyTorch's."""
    return [ops.conj(value) for value in values] if holomorphic else values


# ---------------------------------------------------------------------------- reverse mode


def _trace_reverse(f, args, kwargs, nums, has_aux, name) -> tuple:
    """Run ``f`` with fresh reverse-mode inputs in place of the arguments ``nums``.

    Returns ``(treedefs, counts, inputs, out, aux, create_graph)``; ``create_graph`` says
    whether the gradients must stay differentiable because an argument itself requires grad
    (callers add ``_needs_graph``: the outputs depend on other tensors that do, an outer
    transform's among them).
    """
    leaves, treedefs, counts = _prepare(args, nums, name)
    inputs = [_reverse_input(leaf) for leaf in leaves]
    create_graph = any(isinstance(v, Tensor) and v._rg for v in leaves)
    result = f(*_substitute(args, nums, treedefs, counts, inputs), **kwargs)
    out, aux = _split_aux(result, has_aux, name)
    return treedefs, counts, inputs, out, aux, create_graph


def vjp(f: Callable, *primals: Any, has_aux: bool = False) -> tuple:
    """Evaluate ``f(*primals)`` and return ``(out, vjp_fn)`` (and ``aux`` with ``has_aux``).

    ``vjp_fn(cotangent)`` gives the tuple of cotangents of the primals, one per primal: the
    vector-Jacobian product. It can be called several times.

    >>> import chainrule as cr
    >>> out, vjp_fn = cr.vjp(lambda x: x * x, cr.tensor([1.0, 2.0]))
    >>> vjp_fn(cr.tensor([1.0, 10.0]))
    (tensor([ 2., 40.]),)
    """
    argnums = tuple(range(len(primals)))
    with _reverse_transform() as (outer, recording):
        treedefs, counts, inputs, out, aux, create_graph = _trace_reverse(
            f, primals, {}, argnums, has_aux, "vjp"
        )
        outputs, out_treedef = _output_leaves(out, "vjp")
        create_graph = create_graph or _needs_graph(outputs, inputs, recording or outer)

    def vjp_fn(cotangent: Any) -> tuple:
        leaves_ct, ct_treedef = tree_flatten(cotangent)
        if ct_treedef != out_treedef:
            raise ValueError(
                "vjp_fn: the cotangent must have the structure of the output "
                f"({len(outputs)} leaves), got {len(leaves_ct)} leaves"
            )
        pairs = enumerate(zip(leaves_ct, outputs, strict=True))
        seeds = [_cotangent_array(c, o, i) for i, (c, o) in pairs]
        # (a cotangent carrying only tangents flows as a tensor; the results keep the tangents)
        differentiable = create_graph or any(isinstance(s, Tensor) and s._rg for s in seeds)
        with _reverse_transform():
            grads = _pull(outputs, inputs, seeds, create_graph=differentiable,
                          retain_graph=True)
        grads = [_finish(g, differentiable) for g in grads]
        return tuple(_regroup(grads, tuple(range(len(counts))), treedefs, counts))

    result = tree_unflatten(out_treedef, [_finish(o, create_graph) for o in outputs])
    if has_aux:
        return result, vjp_fn, _finish_tree(aux, create_graph)
    return result, vjp_fn


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
        nums, layout = _argnums(argnums, len(args))
        with _reverse_transform() as (outer, recording):
            treedefs, counts, inputs, out, aux, create_graph = _trace_reverse(
                f, args, kwargs, nums, has_aux, "grad"
            )
            if not isinstance(out, Tensor):
                out = Tensor._wrap(to_array(out))
            if out._array.size != 1:
                raise TypeError(
                    f"grad requires a function with a scalar output, but it returned shape "
                    f"{out._array.shape}; use cr.vjp for a vector-Jacobian product, cr.jacrev for "
                    f"the whole Jacobian, or reduce the output first (e.g. .sum())"
                )
            if not is_differentiable_dtype(out._array.dtype):
                raise TypeError(
                    f"grad requires a floating-point output, got dtype {out._array.dtype}"
                )
            _check_complex("grad", holomorphic, inputs, [out], "outputs")
            create_graph = create_graph or _needs_graph([out], inputs, recording or outer)
            seed = np.ones(out._array.shape, dtype=out._array.dtype)
            grads = _pull([out], inputs, [seed], create_graph=create_graph,
                          retain_graph=create_graph)
            grads = _holomorphic(grads, holomorphic)
        grads = [_finish(g, create_graph) for g in grads]
        value = _finish(out, create_graph)
        grad_tree = _regroup(grads, layout, treedefs, counts)
        if has_aux:
            return (value, _finish_tree(aux, create_graph)), grad_tree
        return value, grad_tree

    value_and_grad_f.__name__ = f"value_and_grad({getattr(f, '__name__', 'f')})"
    return value_and_grad_f


def grad(
    f: Callable, argnums: int | Sequence[int] = 0, has_aux: bool = False,
    holomorphic: bool = False,
) -> Callable:
    """The gradient of a scalar function, as a function (``(grad, aux)`` with ``has_aux``).

    ``argnums`` selects the differentiated arguments: an int gives one gradient, a tuple a
    tuple of gradients. Compose freely: ``grad(grad(f))``, ``jvp(grad(f), ...)``. The output
    must be real (for complex inputs the gradient is dL/dRe z + i dL/dIm z, PyTorch's
    convention), unless ``holomorphic=True``: then inputs and output are complex and the
    result is the complex derivative f'(z), as JAX's.

    >>> import chainrule as cr
    >>> df = cr.grad(lambda x: x ** 3)
    >>> df(2.0), cr.grad(df)(2.0)
    (tensor(12.), tensor(12.))
    """
    value_and_grad_f = value_and_grad(f, argnums, has_aux, holomorphic)

    def grad_f(*args: Any, **kwargs: Any) -> Any:
        value, grads = value_and_grad_f(*args, **kwargs)
        return (grads, value[1]) if has_aux else grads

    grad_f.__name__ = f"grad({getattr(f, '__name__', 'f')})"
    return grad_f


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
        nums, layout = _argnums(argnums, len(args))
        with _reverse_transform() as (outer, recording):
            treedefs, counts, inputs, out, aux, create_graph = _trace_reverse(
                f, args, kwargs, nums, has_aux, "jacrev"
            )
            outputs, out_treedef = _output_leaves(out, "jacrev")
            _check_complex("jacrev", holomorphic, inputs, outputs, "outputs")
            create_graph = create_graph or _needs_graph(outputs, inputs, recording or outer)
            sizes = [o._array.size for o in outputs]
            total = sum(sizes)
            if len(outputs) == 1 and total == 1:
                seed = np.ones(outputs[0]._array.shape, dtype=outputs[0]._array.dtype)
                grads = _pull(outputs, inputs, [seed], create_graph=create_graph,
                              retain_graph=create_graph)
                grads = _holomorphic(grads, holomorphic)
                rows = [[_reshape(g, outputs[0]._array.shape + g._array.shape) for g in grads]]
            else:
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
                        shape = output._array.shape + tensor._array.shape
                        row.append(_reshape(part, shape))
                    rows.append(row)
                    start += size
        jac = tree_unflatten(
            out_treedef,
            [_regroup([_finish(g, create_graph) for g in row], layout, treedefs, counts)
             for row in rows],
        )
        return (jac, _finish_tree(aux, create_graph)) if has_aux else jac

    jacrev_f.__name__ = f"jacrev({getattr(f, '__name__', 'f')})"
    return jacrev_f


jacobian = jacrev


# ---------------------------------------------------------------------------- forward mode


def _tangent_array(tangent: Any, primal: Any, index: int) -> Any:
    """Check a tangent against its primal: same shape, same dtype."""
    primal_dtype = primal._array.dtype if isinstance(primal, Tensor) else primal.dtype
    primal_shape = primal._array.shape if isinstance(primal, Tensor) else primal.shape
    if isinstance(tangent, (Tensor, np.ndarray, np.generic)):
        dtype = tangent.dtype
        if dtype != primal_dtype:
            raise TypeError(
                f"jvp: tangent {index} has dtype {dtype} but its primal has dtype "
                f"{primal_dtype}; a tangent must have its primal's dtype and shape"
            )
    else:
        tangent = np.asarray(tangent, dtype=primal_dtype)
    if tuple(tangent.shape) != tuple(primal_shape):
        raise ValueError(
            f"jvp: tangent {index} has shape {tuple(tangent.shape)} but its primal has shape "
            f"{tuple(primal_shape)}; a tangent must have its primal's dtype and shape"
        )
    return tangent


def _strip_tree(tree: Any, level: int) -> Any:
    """``aux`` outputs leave a forward level without its tangents too."""
    leaves, treedef = tree_flatten(tree)
    return tree_unflatten(treedef, [strip(leaf, level) for leaf in leaves])


def _forward_outputs(out: Any, level: int, batch: tuple, name: str) -> tuple:
    """Primal outputs (level stripped) and their level-``level`` tangents."""
    outputs, out_treedef = _output_leaves(out, name)
    primals_out = []
    tangents_out = []
    for output in outputs:
        tangent = tangent_of(output, level)
        if tangent is None:
            tangent = Tensor._wrap(np.zeros(batch + output._array.shape, output._array.dtype),
                                   None, type(output))
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
    leaves, treedef = tree_flatten(tuple(primals))
    tangent_leaves, tangent_treedef = tree_flatten(tuple(tangents))
    if treedef != tangent_treedef:
        raise ValueError("jvp: tangents must have the same structure as primals")
    leaves = [_float_array(leaf, f"jvp: primal {i}") for i, leaf in enumerate(leaves)]
    tangent_leaves = [_tangent_array(t, p, i) for i, (t, p) in
                      enumerate(zip(tangent_leaves, leaves, strict=True))]
    level = new_level()
    try:
        inputs = [with_tangent(p, t, level) for p, t in zip(leaves, tangent_leaves, strict=True)]
        out, aux = _split_aux(f(*tree_unflatten(treedef, inputs)), has_aux, "jvp")
        primals_out, tangents_out, out_treedef = _forward_outputs(out, level, (), "jvp")
        aux = _strip_tree(aux, level)
    finally:
        end_level(level)
    result = (tree_unflatten(out_treedef, primals_out), tree_unflatten(out_treedef, tangents_out))
    return (*result, aux) if has_aux else result


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
        nums, layout = _argnums(argnums, len(args))
        leaves, treedefs, counts = _prepare(args, nums, "jacfwd")
        datas = [leaf._array if isinstance(leaf, Tensor) else leaf for leaf in leaves]
        if not holomorphic:
            _check_complex("jacfwd", False, datas, [], "inputs")
        sizes = [data.size for data in datas]
        total = sum(sizes)
        level = new_level()
        try:
            inputs = [with_tangent(leaf, basis, level)
                      for leaf, basis in zip(leaves, _basis(datas), strict=True)]
            result = f(*_substitute(args, nums, treedefs, counts, inputs), **kwargs)
            out, aux = _split_aux(result, has_aux, "jacfwd")
            _, tangents_out, out_treedef = _forward_outputs(out, level, (total,), "jacfwd")
            if holomorphic:
                _check_complex("jacfwd", True, datas, tangents_out, "inputs")
            aux = _strip_tree(aux, level)
        finally:
            end_level(level)
        rows = []
        for tangent in tangents_out:
            out_shape = tangent._array.shape[1:]
            out_size = int(np.prod(out_shape))
            flat = _reshape(tangent, (total, out_size))
            if _plain(flat):
                flat = Tensor._wrap(flat._array.T, None, type(flat))
            else:
                flat = ops.transpose(flat, axes=(1, 0))
            row = []
            start = 0
            for data, size in zip(datas, sizes, strict=True):
                part = flat
                if size != total:
                    part = ops.getitem(flat, index=(slice(None), slice(start, start + size)))
                row.append(_reshape(part, out_shape + data.shape))
                start += size
            rows.append(_regroup(row, layout, treedefs, counts))
        jac = tree_unflatten(out_treedef, rows)
        return (jac, aux) if has_aux else jac

    jacfwd_f.__name__ = f"jacfwd({getattr(f, '__name__', 'f')})"
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
