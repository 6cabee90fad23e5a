"""The docstring examples of the core modules and the dialects run and print what they say."""

import doctest
import importlib

import pytest

MODULES = [
    "chainrule", "chainrule.tensor", "chainrule.engine", "chainrule.modes", "chainrule.creation",
    "chainrule.random", "chainrule.gradcheck", "chainrule.custom",
    # the dialects
    "chainrule.torch", "chainrule.torch._tensor", "chainrule.torch._promotion",
    "chainrule.torch.autograd", "chainrule.torch.autograd.functional",
    "chainrule.torch.nn.functional", "chainrule.tensorflow", "chainrule.tensorflow._tensor",
    "chainrule.mxnet", "chainrule.mxnet._ndarray", "chainrule.mxnet.autograd",
    "chainrule.mxnet.np", "chainrule.mxnet.npx",
]


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name):
    module = importlib.import_module(name)
    failures, tried = doctest.testmod(module, optionflags=doctest.NORMALIZE_WHITESPACE)
    assert failures == 0
    assert tried > 0
