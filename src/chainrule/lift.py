"""What every transform does to a function's arguments and results, written once.

:func:`lift` takes the arguments of one call of a transformed function and the transform's
``argnums``, and gives a :class:`Lifted`: the differentiated arguments flattened into leaves
(pytrees, see :mod:`chainrule.tree_util`), each checked to be of a floating dtype, and the way
back: calling the function with other leaves in their place, and regrouping per-leaf results
into one pytree per differentiated argument. The transforms in :mod:`chainrule.functional`
differ only in what they put in place of the leaves (tensors requiring grad, tensors carrying
tangents) and what they pull back or push forward.

The checks on the rest of what a user hands a transform (outputs, cotangents, tangents, complex
dtypes) live here too, so that every transform words them the same way.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, NamedTuple

import numpy as np

from .backends import asarray
from .tensor import Tensor, is_differentiable_dtype, to_array
from .tree_util import PyTreeDef, tree_flatten, tree_unflatten


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


def _as_array(value: Any) -> tuple[Any, np.dtype]:
    """``value`` as a tensor or array (NumPy and Python values converted), and its dtype."""
    if isinstance(value, Tensor):
        return value, value._array.dtype
    value = to_array(value)
    return value, value.dtype


class Lifted(NamedTuple):
    """One call's arguments, the differentiated ones (``nums``) flattened into ``leaves``:
    tensors or arrays (NumPy and Python values converted) of floating dtypes.

    ``treedef`` is the structure of the tuple of the differentiated arguments; ``layout`` says
    how results are handed back (see :func:`_argnums`).
    """

    args: tuple
    nums: tuple
    layout: Any
    treedef: PyTreeDef
    leaves: list

    def call(self, f: Callable, leaves: list, kwargs: dict) -> Any:
        """``f`` on the arguments with ``leaves`` in place of the differentiated leaves."""
        args = list(self.args)
        for num, tree in zip(self.nums, tree_unflatten(self.treedef, leaves), strict=True):
            args[num] = tree
        return f(*args, **kwargs)

    def regroup(self, values: list) -> Any:
        """One value per leaf back into the differentiated arguments' structures: one pytree
        for an int ``argnums``, else a tuple of them, in ``argnums``' order."""
        trees = tree_unflatten(self.treedef, values)
        return trees[0] if self.layout is None else tuple(trees[i] for i in self.layout)


def lift(
    args: Sequence, argnums: int | Sequence[int] | None, name: str, what: str = "argument"
) -> Lifted:
    """Select the arguments ``argnums`` (all of them for None: ``vjp``'s and ``jvp``'s
    primals), flatten them and check their leaves; ``name`` and ``what`` word the errors
    (``"grad: argument 1 (leaf 2) has dtype int64, ..."``)."""
    args = tuple(args)
    if argnums is None:
        nums = layout = tuple(range(len(args)))
    else:
        nums, layout = _argnums(argnums, len(args))
    leaves, treedef = tree_flatten(tuple(args[num] for num in nums))
    for position, leaf in enumerate(leaves):
        leaves[position], dtype = _as_array(leaf)
        if not is_differentiable_dtype(dtype):
            _refuse(position, dtype, nums, treedef, f"{name}: {what}")
    return Lifted(args, nums, layout, treedef, leaves)


def _refuse(
    position: int, dtype: np.dtype, nums: tuple, treedef: PyTreeDef, label: str
) -> None:
    """Raise for the leaf at ``position``, which cannot be differentiated, naming its
    argument."""
    argument = 0
    while position >= treedef.children[argument].num_leaves:
        position -= treedef.children[argument].num_leaves
        argument += 1
    num, count = nums[argument], treedef.children[argument].num_leaves
    leaf = f" (leaf {position})" if count > 1 else ""
    raise TypeError(
        f"{label} {num}{leaf} has dtype {dtype}, but only floating-point inputs can be "
        f"differentiated; pass floats (e.g. 2.0 instead of 2, or x.astype('float64'))"
    )


def split_aux(result: Any, has_aux: bool, name: str) -> tuple[Any, Any]:
    """``(out, aux)`` from what the function returned (``aux`` None without ``has_aux``)."""
    if not has_aux:
        return result, None
    if not isinstance(result, (tuple, list)) or len(result) != 2:
        raise TypeError(f"{name}(has_aux=True) needs a function that returns a pair (out, aux)")
    return result[0], result[1]


def output_leaves(out: Any, name: str) -> tuple[list, PyTreeDef]:
    """The function's outputs as tensors of floating dtypes, flat, and their structure."""
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


def checked_cotangent(value: Any, output: Tensor, index: int) -> Any:
    """A ``vjp_fn`` cotangent, of its output's shape and dtype: an array, or a tensor when it
    carries history or tangents."""
    if not isinstance(value, Tensor):
        value = asarray(value, output._array.dtype, like=output._array)
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
    if isinstance(value, Tensor) and not value._requires_grad and not value._tangents:
        return value._array
    return value


def checked_tangent(tangent: Any, primal: Any, index: int) -> Any:
    """A ``jvp`` tangent, of its primal's shape and dtype."""
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
        tangent = asarray(tangent, primal_dtype, like=primal)
    if tuple(tangent.shape) != tuple(primal_shape):
        raise ValueError(
            f"jvp: tangent {index} has shape {tuple(tangent.shape)} but its primal has shape "
            f"{tuple(primal_shape)}; a tangent must have its primal's dtype and shape"
        )
    return tangent


def check_complex(name: str, holomorphic: bool, inputs: list, outputs: list, side: str) -> None:
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
