"""The docstring examples of the core modules run and print what they say."""

import doctest
import importlib

import pytest

MODULES = [
    "chainrule", "chainrule.tensor", "chainrule.engine", "chainrule.modes", "chainrule.creation",
    "chainrule.random", "chainrule.gradcheck",
]


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name):
    module = importlib.import_module(name)
    failures, tried = doctest.testmod(module, optionflags=doctest.NORMALIZE_WHITESPACE)
    assert failures == 0
    assert tried > 0
