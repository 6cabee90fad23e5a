"""Every public function shows its real signature and a docstring.

Most of ``cr``'s math functions are made at import time by factories (``api._elementwise``);
``help()``, IDEs and the API reference (Sphinx autodoc, which reads the live objects) show what
those functions carry, so a generic ``(*args, **params)`` or an empty docstring would be all a
user sees.
"""

from __future__ import annotations

import inspect

import numpy as np
import pytest

import chainrule as cr


def _public_callables() -> list[tuple[str, object]]:
    return [(name, getattr(cr, name)) for name in cr.__all__
            if callable(getattr(cr, name)) and not inspect.ismodule(getattr(cr, name))]


def test_every_public_callable_has_a_docstring_and_a_real_signature():
    problems = []
    for name, obj in _public_callables():
        doc = inspect.getdoc(obj) or ""
        if len(doc.split()) < 3:
            problems.append(f"{name}: no docstring")
        params = inspect.signature(obj).parameters.values()
        kinds = {p.kind for p in params}
        if {inspect.Parameter.VAR_POSITIONAL, inspect.Parameter.VAR_KEYWORD} <= kinds:
            problems.append(f"{name}{inspect.signature(obj)}: a forwarding signature")
        for p in params:  # a function that truly takes varargs says what they are
            if p.kind in (p.VAR_POSITIONAL, p.VAR_KEYWORD) and p.name not in doc:
                problems.append(f"{name}: its docstring does not say what *{p.name} is")
    assert not problems, "\n".join(problems)
    assert len(_public_callables()) > 150  # (the survey saw the whole namespace)


@pytest.mark.parametrize("name, params, differentiable", [
    ("sin", ["x"], True), ("add", ["x1", "x2"], True), ("arctan2", ["x1", "x2"], True),
    ("sigmoid", ["x"], True), ("equal", ["x1", "x2"], False), ("floor", ["x"], False),
])
def test_elementwise_functions_describe_themselves(name, params, differentiable):
    function = getattr(cr, name)
    sig = inspect.signature(function)
    assert list(sig.parameters) == params
    assert all(p.kind is p.POSITIONAL_ONLY for p in sig.parameters.values())
    doc = inspect.getdoc(function)
    if hasattr(np, name):  # NumPy's own summary, and the counterpart named
        assert f"numpy.{name}" in doc
        assert doc.split("\n")[0] in " ".join(inspect.getdoc(getattr(np, name)).split())
    assert ("Differentiable" in doc) is differentiable
    assert ("Not differentiable" in doc) is not differentiable
    assert "broadcast" in doc if len(params) > 1 else True
    # the signature is what the function accepts: positional inputs, nothing else
    args = [np.array([0.5, 1.5])] * len(params)
    np.testing.assert_allclose(np.asarray(function(*args)),
                               np.asarray(getattr(cr.ops, name)(*args)))
    with pytest.raises(TypeError):
        function(*args, out=None)


def test_context_manager_classes_show_their_constructor():
    assert str(inspect.signature(cr.no_grad)) == "()"
    assert str(inspect.signature(cr.record)) == "()"
    assert list(inspect.signature(cr.set_grad_enabled).parameters) == ["mode"]
    assert list(inspect.signature(cr.detect_anomaly).parameters) == ["check_nan"]
    with pytest.raises(TypeError):
        cr.no_grad(1, 2)  # the constructor takes nothing (a single callable is decorated)

    @cr.no_grad
    def f(x):
        return x * 2

    assert not f(cr.tensor(1.0, requires_grad=True)).requires_grad


def test_the_api_reference_lists_every_public_name():
    """docs/api/chainrule.md names each function, class and dtype of ``cr`` once, so a name
    added to ``__all__`` without a place in the reference fails here."""
    import re
    from pathlib import Path

    page = (Path(__file__).resolve().parent.parent / "docs" / "api" / "chainrule.md").read_text()
    listed = re.findall(r"^\.\. (?:auto\w+|py:data):: chainrule\.(\w+)$", page, re.M)
    public = [n for n in cr.__all__ if not inspect.ismodule(getattr(cr, n))]
    assert sorted(listed) == sorted(public)
