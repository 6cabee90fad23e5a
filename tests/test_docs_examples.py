"""Every code example of the documentation site and of the README runs in the suite, and every
output it shows is what chainrule prints (tests/docs_examples.py says how a page is read)."""

from __future__ import annotations

from pathlib import Path

import pytest
from docs_examples import run_page

from chainrule.ops import primitive as cr_primitive

ROOT = Path(__file__).resolve().parent.parent
PAGES = sorted(p for p in (ROOT / "docs").rglob("*.md") if not p.name.startswith("_")) + [
    ROOT / "README.md"]


@pytest.mark.parametrize("page", PAGES, ids=[str(p.relative_to(ROOT)) for p in PAGES])
def test_examples_run_and_show_what_chainrule_prints(page, tmp_path, monkeypatch):
    pytest.importorskip("scipy")
    monkeypatch.chdir(tmp_path)  # (examples write sin.png, graph.svg...)
    # ops a page declares (the custom-rules page's softplus) leave the op table with the page
    before = dict(cr_primitive.REGISTRY)
    try:
        problems, ran, skipped = run_page(page)
    finally:
        cr_primitive.REGISTRY.clear()
        cr_primitive.REGISTRY.update(before)
    assert not problems, "\n\n".join(problems)
    assert len(skipped) <= 2, skipped  # a skip is an exception, with its reason on the page


def test_a_drifted_output_is_caught(tmp_path):
    """The reader fails a page whose shown outputs are not what chainrule prints (the README's
    ``tensor(-2.2974963)`` was one), whatever the kind of block."""
    page = tmp_path / "page.md"
    page.write_text(
        "```python\nimport chainrule as cr\n"
        "f = lambda x: cr.log(x**2) * cr.sin(x) + 1 / x\n"
        "cr.grad(cr.grad(f))(2.0)   # tensor(-2.2974963)   drifted\n"
        "cr.grad(cr.grad(f))(2.0)   # tensor(-2.297496)    as printed\n"
        "(cr.arange(2.0, requires_grad=True) * 1).backward()  # RuntimeError: grad can be\n"
        "                                                     # implicitly created only ...\n"
        "cr.tensor([1.0]) + cr.tensor([1.0, 2.0, 3.0])  # ValueError: no such message\n"
        "```\n\n"
        "```pycon\n>>> cr.tensor(1.0) * 2\ntensor(3.)\n```\n\n"
        "```console\n$ chainrule diff \"x**2\" --at 3\nf(x) = x**2\nat x = 3:\n"
        "  f(3) = 9\n  f'(3) = 7\n```\n\n"
        "<!-- docs-test: skip: shown, not run -->\n```python\nraise SystemExit\n```\n")
    problems, ran, skipped = run_page(page)
    assert ran == 3 and skipped == ["shown, not run"]
    assert len(problems) == 4, problems
    assert "tensor(-2.2974963)" in problems[0] and "tensor(-2.297496)" in problems[0]
    assert "ValueError" in problems[1]
    assert "Expected:" in problems[2] and "tensor(3.)" in problems[2]
    assert "f'(3) = 6" in problems[3]
