"""The insertion order of the dicts among a jitted function's arguments is part of the
signature: the treedef sorts a dict's keys (as JAX does), but the function sees their order."""

from __future__ import annotations

import collections

import numpy as np
from test_jit import assert_same

import chainrule as cr


def _values(tree):
    """The arrays of nested dicts in the order the function sees them, each scaled by its
    position."""
    out = []
    for item in tree:
        for value in item.values():
            out.append(value * len(out))
    return out


def test_the_order_of_a_nested_dict_is_told_apart_by_position():
    # (which of two dicts is unsorted matters, not only that one is)
    jitted = cr.jit(_values)
    for first, second in ("ba", "ab"), ("ab", "ba"), ("ba", "ab"), ("ab", "ba"):
        tree = [{k: np.full(2, float(ord(k))) for k in first},
                {k: np.full(2, float(ord(k)) * 10) for k in second}]
        assert_same(jitted(tree), _values(tree), what=first + second)


def test_the_order_of_a_defaultdicts_keys():
    jitted = cr.jit(lambda d: [value * i for i, value in enumerate(d.values())])
    for order in ("ba", "ab", "ba", "ab"):
        d = collections.defaultdict(list, {k: np.full(2, float(ord(k))) for k in order})
        assert_same(jitted(d), [value * i for i, value in enumerate(d.values())], what=order)


def test_a_returned_dict_keeps_the_callers_order():
    jitted = cr.jit(lambda d: {key: value * 2 for key, value in d.items()})
    for order in ("ba", "ab", "ba", "ab"):
        d = {k: np.ones(2) for k in order}
        assert list(jitted(d)) == list(order)


def test_keys_that_do_not_compare_keep_their_order():
    jitted = cr.jit(lambda d: [value * i for i, value in enumerate(d.values())])
    for keys in ((1, "a"), ("a", 1), (1, "a")):
        d = {key: np.full(2, 3.0 if key == 1 else 5.0) for key in keys}
        assert_same(jitted(d), [value * i for i, value in enumerate(d.values())])
