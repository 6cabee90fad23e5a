"""Pytrees: nested containers of values, with JAX's ``jax.tree_util`` names and semantics.

A pytree is a value built from containers (tuples, lists, dicts, namedtuples, ``None``, and any
class given to :func:`register_pytree_node`) around *leaves* (everything else: tensors, arrays,
numbers). The transforms (``cr.grad``, ``cr.jacrev``, ...) and ``GradientTape`` take and return
pytrees: they flatten the arguments into leaves, differentiate with respect to the leaves, and
rebuild the results in the arguments' structure, so the gradient of a dict of parameters is a
dict, and that of a registered parameter class an instance of that class.

>>> from chainrule import tree_util
>>> leaves, treedef = tree_util.tree_flatten({"b": (2.0, [3.0]), "a": 1.0})
>>> leaves
[1.0, 2.0, 3.0]
>>> treedef
PyTreeDef({'a': *, 'b': (*, [*])})
>>> tree_util.tree_unflatten(treedef, [10, 20, 30])
{'b': (20, [30]), 'a': 10}

As in JAX, a dict's leaves come in the order of its sorted keys, so two dicts with the same keys
have the same structure whatever order they were built in (an ``OrderedDict`` keeps its own
order, and it is part of its structure). A rebuilt dict keeps the key order of the dict that was
flattened, as TensorFlow's ``nest`` does. Keys that do not sort (mixed types) keep their order,
where JAX would refuse them. ``None`` is a container with no children, not a leaf; subclasses
of tuple, list and dict are containers rebuilt in their own class.
"""

from __future__ import annotations

import collections
import functools
from collections.abc import Callable, Iterable, Iterator
from typing import Any, NamedTuple

__all__ = [
    "PyTreeDef", "register_pytree_node", "tree_flatten", "tree_leaves", "tree_map",
    "tree_structure", "tree_unflatten",
]


class _NodeType(NamedTuple):
    """How to take a container apart (``flatten(tree) -> (children, aux_data)``) and how to
    build it again (``unflatten(aux_data, children)``)."""

    flatten: Callable[[Any], tuple[Iterable, Any]]
    unflatten: Callable[[Any, list], Any]


class PyTreeDef:
    """The structure of a pytree: its containers, with a placeholder ``*`` for each leaf.

    Two treedefs are equal when their containers have the same types, the same auxiliary data
    (a dict's keys, a registered class's ``aux_data``) and equal children.

    >>> from chainrule import tree_util
    >>> treedef = tree_util.tree_structure((1.0, [2.0, None]))
    >>> treedef, treedef.num_leaves
    (PyTreeDef((*, [*, None])), 2)
    >>> treedef == tree_util.tree_structure(("x", ["y", None]))
    True
    """

    __slots__ = ("node_type", "node_data", "children", "num_leaves")

    def __init__(
        self, node_type: type | None, node_data: Any, children: tuple, num_leaves: int
    ) -> None:
        self.node_type = node_type  # None for a leaf
        self.node_data = node_data
        self.children = children
        self.num_leaves = num_leaves

    def unflatten(self, leaves: Iterable) -> Any:
        """The tree of this structure around ``leaves`` (:func:`tree_unflatten`)."""
        return tree_unflatten(self, leaves)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, PyTreeDef):
            return NotImplemented
        return (self.node_type is other.node_type and self.node_data == other.node_data
                and self.children == other.children)

    def __hash__(self) -> int:
        return hash((self.node_type, self.node_data, self.children))

    def __repr__(self) -> str:
        return f"PyTreeDef({_describe(self)})"


_LEAF = PyTreeDef(None, None, (), 1)


class _DictKeys(tuple):
    """A dict node's keys in sorted order (its structure, compared as a tuple), remembering
    the order of the dict that was flattened, to rebuild it in."""

    order: tuple


def _sorted_keys(mapping: dict) -> _DictKeys:
    order = tuple(mapping)
    try:
        keys = _DictKeys(sorted(order))
    except TypeError:  # keys of types that do not compare
        keys = _DictKeys(order)
    keys.order = order
    return keys


def _flatten_dict(mapping: dict) -> tuple[list, _DictKeys]:
    keys = _sorted_keys(mapping)
    return [mapping[key] for key in keys], keys


def _items(keys: _DictKeys, children: list) -> Iterator[tuple]:
    """A dict node's items, in the order of the dict that was flattened."""
    values = dict(zip(keys, children, strict=True))
    return ((key, values[key]) for key in keys.order)


def _dict_node(cls: type) -> _NodeType:
    return _NodeType(_flatten_dict, lambda keys, children: cls(_items(keys, children)))


def _ordered_dict_node() -> _NodeType:
    return _NodeType(
        lambda mapping: (list(mapping.values()), tuple(mapping)),
        lambda keys, children: collections.OrderedDict(zip(keys, children, strict=True)),
    )


def _defaultdict_node() -> _NodeType:
    """A defaultdict's factory is part of its structure, as in JAX."""

    def flatten(mapping: collections.defaultdict) -> tuple[list, tuple]:
        children, keys = _flatten_dict(mapping)
        return children, (mapping.default_factory, keys)

    def unflatten(data: tuple, children: list) -> Any:
        factory, keys = data
        return collections.defaultdict(factory, _items(keys, children))

    return _NodeType(flatten, unflatten)


def _sequence_node(cls: type) -> _NodeType:
    if hasattr(cls, "_fields"):  # a namedtuple: its fields are positional arguments
        return _NodeType(lambda items: (items, None), lambda _, children: cls(*children))
    return _NodeType(lambda items: (items, None), lambda _, children: cls(children))


_registry: dict[type, _NodeType] = {
    tuple: _sequence_node(tuple),
    list: _sequence_node(list),
    dict: _dict_node(dict),
    collections.OrderedDict: _ordered_dict_node(),
    collections.defaultdict: _defaultdict_node(),
    type(None): _NodeType(lambda _: ((), None), lambda _, children: None),
}


@functools.lru_cache(maxsize=256)
def _subclass_node(cls: type) -> _NodeType:
    """The node type of an unregistered subclass of tuple, list or dict: its base's, rebuilding
    the subclass."""
    return _dict_node(cls) if issubclass(cls, dict) else _sequence_node(cls)


def _node_type(tree: Any) -> _NodeType | None:
    """How to take ``tree`` apart; None for a leaf."""
    node = _registry.get(type(tree))
    if node is None and isinstance(tree, (tuple, list, dict)):
        node = _subclass_node(type(tree))
    return node


def register_pytree_node(
    nodetype: type,
    flatten_func: Callable[[Any], tuple[Iterable, Any]],
    unflatten_func: Callable[[Any, list], Any],
) -> None:
    """Make instances of ``nodetype`` containers, as JAX's ``register_pytree_node``.

    ``flatten_func(value)`` returns ``(children, aux_data)``: the children are pytrees (their
    leaves are what the transforms differentiate), ``aux_data`` is hashable, comparable data
    kept in the treedef (two values have the same structure only if their ``aux_data`` are
    equal). ``unflatten_func(aux_data, children)`` builds a value again.

    >>> import dataclasses
    >>> import chainrule as cr
    >>> from chainrule import tree_util
    >>> @dataclasses.dataclass
    ... class Line:
    ...     slope: Any
    ...     offset: Any
    >>> tree_util.register_pytree_node(
    ...     Line, lambda p: ((p.slope, p.offset), None), lambda _, c: Line(*c))
    >>> loss = lambda p, x: ((p.slope * x + p.offset) ** 2).sum()
    >>> cr.grad(loss)(Line(2.0, 1.0), cr.tensor([1.0, 2.0]))
    Line(slope=tensor(26.), offset=tensor(16.))
    """
    if nodetype in _registry:
        raise ValueError(f"{nodetype.__qualname__} is already registered as a pytree node")
    _registry[nodetype] = _NodeType(flatten_func, unflatten_func)


def tree_flatten(
    tree: Any, is_leaf: Callable[[Any], bool] | None = None
) -> tuple[list, PyTreeDef]:
    """The leaves of ``tree``, depth first, and its structure.

    ``is_leaf(value)`` true makes ``value`` a leaf even if it is a container (for example
    ``is_leaf=lambda v: v is None`` keeps ``None`` as a leaf).

    >>> from chainrule import tree_util
    >>> tree_util.tree_flatten([1.0, None, (2.0,)])
    ([1.0, 2.0], PyTreeDef([*, None, (*,)]))
    """
    leaves: list = []
    return leaves, _flatten(tree, leaves, is_leaf)


def _flatten(tree: Any, leaves: list, is_leaf: Callable[[Any], bool] | None) -> PyTreeDef:
    node = None if is_leaf is not None and is_leaf(tree) else _node_type(tree)
    if node is None:
        leaves.append(tree)
        return _LEAF
    children, data = node.flatten(tree)
    start = len(leaves)
    subtrees = tuple([_flatten(child, leaves, is_leaf) for child in children])
    return PyTreeDef(type(tree), data, subtrees, len(leaves) - start)


def tree_unflatten(treedef: PyTreeDef, leaves: Iterable) -> Any:
    """The tree of structure ``treedef`` around ``leaves`` (the inverse of
    :func:`tree_flatten`).

    >>> from chainrule import tree_util
    >>> _, treedef = tree_util.tree_flatten({"w": 0.0, "b": [0.0, 0.0]})
    >>> tree_util.tree_unflatten(treedef, [1, 2, 3])
    {'w': 3, 'b': [1, 2]}
    """
    if not isinstance(leaves, (list, tuple)):
        leaves = list(leaves)
    if len(leaves) != treedef.num_leaves:
        raise ValueError(
            f"tree_unflatten: the structure {treedef!r} has {treedef.num_leaves} leaves, "
            f"got {len(leaves)}"
        )
    return _unflatten(treedef, iter(leaves))


def _unflatten(treedef: PyTreeDef, leaves: Iterator) -> Any:
    if treedef.node_type is None:
        return next(leaves)
    children = [_unflatten(child, leaves) for child in treedef.children]
    node = _registry.get(treedef.node_type) or _subclass_node(treedef.node_type)
    return node.unflatten(treedef.node_data, children)


def tree_leaves(tree: Any, is_leaf: Callable[[Any], bool] | None = None) -> list:
    """The leaves of ``tree``, depth first.

    >>> from chainrule import tree_util
    >>> tree_util.tree_leaves({"b": [2.0, 3.0], "a": 1.0})
    [1.0, 2.0, 3.0]
    """
    return tree_flatten(tree, is_leaf)[0]


def tree_structure(tree: Any, is_leaf: Callable[[Any], bool] | None = None) -> PyTreeDef:
    """The structure of ``tree``, without its leaves.

    >>> from chainrule import tree_util
    >>> tree_util.tree_structure({"w": 1.0, "b": (2.0, 3.0)})
    PyTreeDef({'b': (*, *), 'w': *})
    """
    return tree_flatten(tree, is_leaf)[1]


def tree_map(
    f: Callable, tree: Any, *rest: Any, is_leaf: Callable[[Any], bool] | None = None
) -> Any:
    """``f`` applied to each leaf of ``tree`` (and the matching leaves of the trees ``rest``,
    which must have ``tree``'s structure), in ``tree``'s structure.

    >>> import chainrule as cr
    >>> from chainrule import tree_util
    >>> params = {"w": cr.tensor([1.0, 2.0]), "b": cr.tensor(0.5)}
    >>> grads = {"w": cr.tensor([0.5, 0.5]), "b": cr.tensor(1.0)}
    >>> tree_util.tree_map(lambda p, g: p - 0.1 * g, params, grads)
    {'w': tensor([0.95, 1.95]), 'b': tensor(0.4)}
    """
    leaves, treedef = tree_flatten(tree, is_leaf)
    others = []
    for index, other in enumerate(rest, start=1):
        other_leaves, other_treedef = tree_flatten(other, is_leaf)
        if other_treedef != treedef:
            raise ValueError(
                f"tree_map: tree {index} of the rest has structure {other_treedef!r}, but the "
                f"first tree has {treedef!r}; they must match"
            )
        others.append(other_leaves)
    return tree_unflatten(treedef, [f(*values) for values in zip(leaves, *others)])


def _describe(treedef: PyTreeDef) -> str:
    """JAX's notation: ``*`` for a leaf, Python's brackets for the built-in containers."""
    kind = treedef.node_type
    if kind is None:
        return "*"
    if kind is type(None):
        return "None"
    children = [_describe(child) for child in treedef.children]
    if kind is tuple:
        return f"({children[0]},)" if len(children) == 1 else f"({', '.join(children)})"
    if kind is list:
        return f"[{', '.join(children)}]"
    if kind is dict:
        pairs = zip(treedef.node_data, children, strict=True)
        return "{" + ", ".join(f"{key!r}: {child}" for key, child in pairs) + "}"
    data = "" if treedef.node_data is None else repr(treedef.node_data)
    return f"CustomNode({kind.__qualname__}[{data}], [{', '.join(children)}])"
