"""Pytrees (``chainrule.tree_util``) and the transforms and tape that take them."""

import collections
import dataclasses
import doctest
import importlib
from typing import Any, NamedTuple

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import chainrule as cr
from chainrule import tree_util
from chainrule.tree_util import (
    PyTreeDef,
    register_pytree_node,
    tree_flatten,
    tree_leaves,
    tree_map,
    tree_structure,
    tree_unflatten,
)


def close(a, b, tol=1e-12):
    np.testing.assert_allclose(np.asarray(a), np.asarray(b), rtol=tol, atol=tol)


class Pair(NamedTuple):
    first: Any
    second: Any


class Items(list):
    pass


class Record(dict):
    pass


@dataclasses.dataclass
class Params:
    """A user's parameter container, made a pytree node below."""

    w: Any
    b: Any


register_pytree_node(Params, lambda p: ((p.w, p.b), None), lambda _, children: Params(*children))


@dataclasses.dataclass
class Scaled:
    """A node with auxiliary data: the scale is structure, not a leaf."""

    value: Any
    scale: float


register_pytree_node(
    Scaled, lambda s: ((s.value,), s.scale), lambda scale, children: Scaled(children[0], scale)
)


def same(a, b) -> bool:
    """Equal, with the same container types and the same dict key order all the way down."""
    if type(a) is not type(b):
        return False
    if isinstance(a, dict):
        return list(a) == list(b) and all(same(a[k], b[k]) for k in a)
    if isinstance(a, (tuple, list)):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b))
    if isinstance(a, Params):
        return same(a.w, b.w) and same(a.b, b.b)
    return a == b


# ---------------------------------------------------------------------------- round trips

keys = st.one_of(st.text(max_size=3), st.integers(-5, 5))
trees = st.recursive(
    st.one_of(st.none(), st.integers(), st.floats(allow_nan=False), st.text(max_size=2)),
    lambda children: st.one_of(
        st.lists(children, max_size=4),
        st.lists(children, max_size=4).map(tuple),
        st.lists(children, max_size=4).map(Items),
        st.dictionaries(keys, children, max_size=4),
        st.dictionaries(st.text(max_size=3), children, max_size=4).map(Record),
        st.dictionaries(st.text(max_size=3), children, max_size=4).map(collections.OrderedDict),
        st.tuples(children, children).map(lambda t: Pair(*t)),
        st.tuples(children, children).map(lambda t: Params(*t)),
    ),
    max_leaves=20,
)


@settings(max_examples=200, deadline=None)
@given(trees)
def test_flatten_then_unflatten_gives_the_tree_back(tree):
    leaves, treedef = tree_flatten(tree)
    assert same(tree_unflatten(treedef, leaves), tree)
    assert treedef.num_leaves == len(leaves)
    assert tree_leaves(tree) == leaves
    assert tree_structure(tree) == treedef and hash(tree_structure(tree)) == hash(treedef)
    assert None not in leaves  # None is an empty container, not a leaf
    assert same(tree_map(lambda leaf: leaf, tree), tree)
    # the structure does not depend on the leaves
    assert tree_structure(tree_map(lambda leaf: 0, tree)) == treedef
    assert same(treedef.unflatten(iter(leaves)), tree)


def test_leaves_come_depth_first_with_dict_keys_sorted():
    tree = {"b": (2.0, [3.0, None]), "a": 1.0, "c": {"z": 5.0, "y": 4.0}}
    leaves, treedef = tree_flatten(tree)
    assert leaves == [1.0, 2.0, 3.0, 4.0, 5.0]
    # the rebuilt dicts keep the order they were given in
    rebuilt = tree_unflatten(treedef, leaves)
    assert list(rebuilt) == ["b", "a", "c"] and list(rebuilt["c"]) == ["z", "y"]
    # two dicts with the same keys have the same structure, whatever their order
    assert tree_structure({"a": 0, "b": 1}) == tree_structure({"b": 1, "a": 0})
    # keys that do not sort keep their order (JAX refuses them)
    assert tree_leaves({"x": 1, 2: 2}) == [1, 2]


def test_ordered_and_default_dicts():
    ordered = collections.OrderedDict([("b", 1), ("a", 2)])
    assert tree_leaves(ordered) == [1, 2]
    assert tree_structure(ordered) != tree_structure(collections.OrderedDict([("a", 2), ("b", 1)]))
    default = collections.defaultdict(list, {"b": 1, "a": 2})
    leaves, treedef = tree_flatten(default)
    assert leaves == [2, 1]
    rebuilt = tree_unflatten(treedef, [20, 10])
    assert type(rebuilt) is collections.defaultdict and rebuilt.default_factory is list
    assert rebuilt == {"a": 20, "b": 10}
    assert treedef != tree_structure(collections.defaultdict(dict, {"b": 1, "a": 2}))


def test_none_is_an_empty_container():
    assert tree_leaves(None) == []
    assert tree_unflatten(tree_structure(None), []) is None
    leaves, treedef = tree_flatten([1.0, None, (None, 2.0)])
    assert leaves == [1.0, 2.0]
    assert tree_unflatten(treedef, [3.0, 4.0]) == [3.0, None, (None, 4.0)]
    assert tree_map(lambda x: x * 2, {"a": None, "b": 1.0}) == {"a": None, "b": 2.0}
    # unless is_leaf says otherwise
    leaves, treedef = tree_flatten([1.0, None], is_leaf=lambda v: v is None)
    assert leaves == [1.0, None] and treedef.num_leaves == 2


def test_is_leaf_stops_the_descent():
    tree = {"a": (1.0, 2.0), "b": [3.0]}
    leaves = tree_leaves(tree, is_leaf=lambda v: isinstance(v, tuple))
    assert leaves == [(1.0, 2.0), 3.0]


# ---------------------------------------------------------------------------- treedefs


def test_treedef_repr():
    assert repr(tree_structure({"b": (1, [2, None]), "a": 3})) == (
        "PyTreeDef({'a': *, 'b': (*, [*, None])})"
    )
    assert repr(tree_structure((1,))) == "PyTreeDef((*,))"
    assert repr(tree_structure(5.0)) == "PyTreeDef(*)"
    assert repr(tree_structure(None)) == "PyTreeDef(None)"
    assert repr(tree_structure(Params(1.0, [2.0]))) == "PyTreeDef(CustomNode(Params[], [*, [*]]))"
    assert repr(tree_structure(Scaled(1.0, 3.0))) == "PyTreeDef(CustomNode(Scaled[3.0], [*]))"


def test_treedef_equality():
    base = tree_structure((1.0, [2.0]))
    assert base == tree_structure(("a", [np.zeros(3)]))
    assert base != tree_structure([1.0, [2.0]])  # tuple against list
    assert base != tree_structure((1.0, [2.0, 3.0]))  # more leaves
    assert base != tree_structure((1.0, (2.0,)))
    assert tree_structure({"a": 1}) != tree_structure({"b": 1})
    assert tree_structure(Pair(1, 2)) != tree_structure((1, 2))
    assert tree_structure(Scaled(1.0, 2.0)) == tree_structure(Scaled(5.0, 2.0))
    assert tree_structure(Scaled(1.0, 2.0)) != tree_structure(Scaled(1.0, 3.0))
    assert base != "not a treedef"
    assert isinstance(base, PyTreeDef)
    assert len({base, tree_structure(("x", ["y"]))}) == 1


def test_subclasses_of_the_builtin_containers_are_rebuilt_in_their_class():
    tree = Items([Pair(1.0, Record(b=2.0, a=3.0))])
    leaves, treedef = tree_flatten(tree)
    assert leaves == [1.0, 3.0, 2.0]
    rebuilt = tree_unflatten(treedef, leaves)
    assert same(rebuilt, tree)


# ---------------------------------------------------------------------------- errors


def test_misuse_is_refused_with_a_message():
    _, treedef = tree_flatten([1.0, 2.0])
    with pytest.raises(ValueError, match="has 2 leaves, got 3"):
        tree_unflatten(treedef, [1, 2, 3])
    with pytest.raises(ValueError, match="tree_map: tree 1 of the rest has structure"):
        tree_map(lambda a, b: a + b, [1.0, 2.0], (1.0, 2.0))
    with pytest.raises(ValueError, match="already registered"):
        register_pytree_node(Params, lambda p: ((), None), lambda _, c: None)
    with pytest.raises(ValueError, match="already registered"):
        register_pytree_node(dict, lambda p: ((), None), lambda _, c: None)


@pytest.mark.parametrize(
    "transform", [cr.grad, cr.value_and_grad, cr.jacrev, cr.jacfwd, cr.hessian]
)
def test_argnums_outside_the_arguments(transform):
    f = lambda x, y: cr.sum(x * y)  # noqa: E731
    with pytest.raises(ValueError, match=r"argnums=2 asks for argument 2 but the function was "
                                         r"called with 2 positional argument\(s\)"):
        transform(f, argnums=2)(1.0, 2.0)
    with pytest.raises(ValueError, match="asks for argument -3"):
        transform(f, argnums=(0, -3))(1.0, 2.0)
    with pytest.raises(ValueError, match="at least one argument"):
        transform(f, argnums=())(1.0, 2.0)


def test_a_leaf_that_cannot_be_differentiated_is_named():
    f = lambda x, p: cr.sum(x) + cr.sum(p["w"]) + p["n"]  # noqa: E731
    with pytest.raises(TypeError, match=r"grad: argument 1 \(leaf 0\) has dtype int64"):
        cr.grad(f, argnums=1)(1.0, {"w": np.ones(2), "n": 3})
    with pytest.raises(TypeError, match=r"jacfwd: argument 0 has dtype int64"):
        cr.jacfwd(f)(np.arange(2), {"w": np.ones(2), "n": 3.0})
    with pytest.raises(TypeError, match=r"jvp: primal 1 \(leaf 1\) has dtype int64"):
        cr.jvp(lambda a, b: a, (1.0, (2.0, 3)), (1.0, (1.0, 1)))
    with pytest.raises(TypeError, match=r"vjp: argument 0 has dtype bool"):
        cr.vjp(lambda a: a, np.array([True]))


# ---------------------------------------------------------------------------- transforms


def loss(params, x):
    return cr.sum(cr.tanh(params.w * x + params.b) ** 2)


def loss_gradient(params, x):
    t = np.tanh(params.w * x + params.b)
    d = 2 * t * (1 - t * t)
    return Params(d * x, np.sum(d))


PARAMS = Params(np.array([0.5, -1.0, 2.0]), np.float64(0.3))
X = np.array([1.0, 2.0, -0.5])


def test_grad_of_a_registered_class_is_that_class():
    g = cr.grad(loss)(PARAMS, X)
    assert isinstance(g, Params)
    expected = loss_gradient(PARAMS, X)
    close(g.w, expected.w)
    close(g.b, expected.b)
    value, g2 = cr.value_and_grad(loss)(PARAMS, X)
    close(value, np.sum(np.tanh(PARAMS.w * X + PARAMS.b) ** 2))
    assert isinstance(g2, Params)
    close(g2.w, expected.w)
    # argnums as a tuple: one result per argument, each in its argument's structure
    gp, gx = cr.grad(loss, argnums=(0, 1))(PARAMS, X)
    assert isinstance(gp, Params) and isinstance(gx, cr.Tensor)


def test_jacobians_of_a_registered_class():
    f = lambda p, x: cr.tanh(p.w * x + p.b)  # noqa: E731
    for jacobian in (cr.jacrev, cr.jacfwd):
        jac = jacobian(f)(PARAMS, X)
        assert isinstance(jac, Params)
        t = np.tanh(PARAMS.w * X + PARAMS.b)
        close(jac.w, np.diag((1 - t * t) * X))
        close(jac.b, 1 - t * t)
    # the output may be a registered class too: one Jacobian per output leaf
    g = lambda x: Params(x * 2.0, cr.sum(x))  # noqa: E731
    jac = cr.jacrev(g)(X)
    assert isinstance(jac, Params)
    close(jac.w, 2 * np.eye(3))
    close(jac.b, np.ones(3))
    hess = cr.hessian(lambda p: cr.sum(p.w ** 3) * p.b)(PARAMS)
    assert isinstance(hess, Params) and isinstance(hess.w, Params)
    close(hess.w.w, np.diag(6 * PARAMS.w * PARAMS.b))
    close(hess.w.b, 3 * PARAMS.w ** 2)


def test_vjp_and_jvp_of_a_registered_class():
    out, vjp_fn = cr.vjp(loss, PARAMS, X)
    (gp, gx) = vjp_fn(np.float64(1.0))
    assert isinstance(gp, Params)
    close(gp.w, loss_gradient(PARAMS, X).w)
    tangent = Params(np.array([1.0, 0.0, 0.0]), np.float64(0.0))
    primal_out, tangent_out = cr.jvp(lambda p: loss(p, X), (PARAMS,), (tangent,))
    close(tangent_out, loss_gradient(PARAMS, X).w[0])
    with pytest.raises(ValueError, match="same structure"):
        cr.jvp(lambda p: loss(p, X), (PARAMS,), ((np.zeros(3), np.float64(0.0)),))
    hv = cr.hvp(lambda p: loss(p, X), (PARAMS,), (tangent,))
    assert isinstance(hv, Params)


def test_gradient_tape_with_a_registered_class():
    params = Params(cr.tensor(PARAMS.w), cr.tensor(PARAMS.b))
    with cr.GradientTape() as tape:
        tape.watch(params)
        value = loss(params, X)
    g = tape.gradient(value, params)
    assert isinstance(g, Params)
    expected = loss_gradient(PARAMS, X)
    close(g.w, expected.w)
    close(g.b, expected.b)


def test_gradient_tape_nests():
    x, y = cr.tensor(2.0), cr.tensor(3.0)
    sources = {"y": [y], "pair": Pair(x, y)}
    with cr.GradientTape(persistent=True) as tape:
        tape.watch(sources)
        z = x * y
    g = tape.gradient([z, None], sources, output_gradients=[None, None])
    assert list(g) == ["y", "pair"] and isinstance(g["pair"], Pair)
    close(g["y"][0], 2.0)
    close(g["pair"].first, 3.0)
    jac = tape.jacobian(z, Pair(x, y))
    assert isinstance(jac, Pair)
    close(jac.second, 2.0)


def test_dicts_come_back_in_their_own_order():
    params = {"w": np.array([1.0, 2.0]), "b": np.float64(0.5)}
    g = cr.grad(lambda p: cr.sum(p["w"] * p["b"]))(params)
    assert list(g) == ["w", "b"]
    close(g["b"], 3.0)
    # a cotangent dict matches its output's structure whatever its key order, as in JAX
    out, vjp_fn = cr.vjp(lambda p: {"w": p["w"] * 2.0, "b": p["b"]}, params)
    (ct,) = vjp_fn({"b": np.float64(1.0), "w": np.ones(2)})
    close(ct["w"], [2.0, 2.0])
    close(ct["b"], 1.0)


def test_none_inside_arguments_and_outputs():
    g = cr.grad(lambda p: cr.sum(p["w"] ** 2))({"w": np.array([1.0, 2.0]), "unused": None})
    assert g["unused"] is None
    close(g["w"], [2.0, 4.0])
    out, tangent = cr.jvp(lambda x: (x * 2.0, None), (np.float64(1.0),), (np.float64(1.0),))
    assert out[1] is None and tangent[1] is None
    close(tangent[0], 2.0)


def test_aux_structures_are_kept():
    (value, aux), g = cr.value_and_grad(
        lambda x: (cr.sum(x ** 2), Params(x * 3.0, None)), has_aux=True
    )(np.array([1.0, 2.0]))
    assert isinstance(aux, Params) and aux.b is None
    assert aux.w.grad_fn is None  # cut from the transform's graph
    close(aux.w, [3.0, 6.0])


# ---------------------------------------------------------------------------- doctests


@pytest.mark.parametrize(
    "name", ["chainrule.tree_util", "chainrule.lift", "chainrule.functional", "chainrule.tape"]
)
def test_docstring_examples(name):
    module = importlib.import_module(name)
    failures, tried = doctest.testmod(module, optionflags=doctest.NORMALIZE_WHITESPACE)
    assert failures == 0
    if name != "chainrule.lift":
        assert tried > 0


def test_tree_util_is_a_submodule():
    assert importlib.import_module("chainrule.tree_util") is tree_util
