"""What the package tells its users beside the code: the version, the changelog, the typed
public API (tests/typing/), and the built wheel and sdist (tools/check_dist.py, on request)."""

import json
import os
import re
import runpy
import subprocess
import sys
from importlib import metadata
from pathlib import Path

import pytest

import chainrule as cr

ROOT = Path(__file__).resolve().parent.parent


def test_version_is_the_metadata_and_the_changelog():
    """pyproject.toml reads the version from chainrule.__version__, so an install of this
    checkout reports the same one; the changelog's newest entry must be that version."""
    newest = re.search(r"^## \[(\d+\.\d+\.\d+)\]", (ROOT / "CHANGELOG.md").read_text(), re.M)
    assert newest and newest.group(1) == cr.__version__, "CHANGELOG.md has no entry for it"
    try:
        distribution = metadata.distribution("chainrule")
    except metadata.PackageNotFoundError:
        pytest.skip("chainrule is not installed (the suite runs it from src/)")
    url = json.loads(distribution.read_text("direct_url.json") or "{}").get("url")
    if url != ROOT.as_uri():
        pytest.skip(f"the installed chainrule is another checkout's ({url})")
    assert distribution.version == cr.__version__
    assert distribution.metadata["License-Expression"] == "MIT"


def test_the_typed_usage_runs():
    """tests/typing/pass_public_api.py, which mypy checks (make typecheck), is real usage:
    every line of it runs."""
    runpy.run_path(str(ROOT / "tests" / "typing" / "pass_public_api.py"))


@pytest.mark.skipif(os.environ.get("CHAINRULE_TEST_DIST") != "1",
                    reason="builds and installs the wheel and sdist (about 15 s, PyPI reached "
                           "for setuptools and NumPy): CHAINRULE_TEST_DIST=1 runs it")
def test_wheel_and_sdist_install_and_work(tmp_path):
    pytest.importorskip("build")
    subprocess.run([sys.executable, str(ROOT / "tools" / "check_dist.py"), "--outdir",
                    str(tmp_path)], check=True)
