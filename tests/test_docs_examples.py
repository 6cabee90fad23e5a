"""Every code example of the documentation site and of the README runs in the suite, and every
output it shows is what chainrule prints (tests/docs_examples.py says how a page is read)."""

from __future__ import annotations

from pathlib import Path

import pytest
from docs_examples import run_page

ROOT = Path(__file__).resolve().parent.parent
PAGES = sorted(p for p in (ROOT / "docs").rglob("*.md") if not p.name.startswith("_")) + [
    ROOT / "README.md"]


@pytest.mark.parametrize("page", PAGES, ids=[str(p.relative_to(ROOT)) for p in PAGES])
def test_examples_run_and_show_what_chainrule_prints(page, tmp_path, monkeypatch):
    pytest.importorskip("scipy")
    monkeypatch.chdir(tmp_path)  # (examples write sin.png, graph.svg...)
    problems, ran, skipped = run_page(page)
    assert not problems, "\n\n".join(problems)
    assert len(skipped) <= 2, skipped  # a skip is an exception, with its reason on the page
