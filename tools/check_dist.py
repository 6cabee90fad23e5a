"""Build chainrule's wheel and sdist, install each into a fresh virtual environment, and smoke
test what a user gets: `make dist` runs it.

What ships is not what the test suite sees: the suite imports the working tree, so a file left
out of the package data, a missing `py.typed`, an import of an extra at `import chainrule` or a
version that disagrees with the metadata pass every test and still break an install. Here each
artifact goes into an environment that has only chainrule and NumPy, and a script run outside
the source tree checks it.

    python tools/check_dist.py              # builds into dist/
    python tools/check_dist.py --outdir D   # builds into D (the test does this)
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent

# Run by each fresh environment's Python, from outside the source tree. It checks what an
# install must give beyond the test suite: the version written once and read back from the
# metadata, the license, the type marker, the tour's data files and a gradient. The environment
# has NumPy and nothing else, so the imports also show that no extra is needed to import
# chainrule and its dialects.
SMOKE = r"""
import importlib.metadata as metadata
import importlib.resources as resources
import sys

import chainrule as cr
import chainrule.autograd, chainrule.mxnet, chainrule.tensorflow, chainrule.torch

expected = sys.argv[1]
problems = []
if not cr.__file__.startswith(sys.prefix):
    problems.append(f"chainrule imported from {cr.__file__}, not from the environment")
if not (cr.__version__ == metadata.version("chainrule") == expected):
    problems.append(f"versions differ: chainrule.__version__ {cr.__version__}, metadata "
                    f"{metadata.version('chainrule')}, file name {expected}")
meta = metadata.metadata("chainrule")
if meta.get("License-Expression") != "MIT":
    problems.append(f"License-Expression is {meta.get('License-Expression')!r}, not 'MIT'")
licenses = [f for f in metadata.files("chainrule") if f.name == "LICENSE"]
if not licenses:
    problems.append("no LICENSE file in the installed distribution")
if not resources.files("chainrule").joinpath("py.typed").is_file():
    problems.append("chainrule/py.typed is missing: type checkers would ignore the annotations")
chapter = resources.files("chainrule.tour").joinpath("chapter")
if not [f for f in chapter.iterdir() if f.name.endswith(".txt")]:
    problems.append("the tour's chapter/*.txt files are missing")
g = cr.grad(lambda x: (x ** 3).sum())(cr.arange(3.0))
if g.tolist() != [0.0, 3.0, 12.0]:
    problems.append(f"grad of sum(x**3) at [0, 1, 2] is {g.tolist()}, not [0, 3, 12]")
if problems:
    sys.exit("\n".join(problems))
print("import, version, license, py.typed, tour data, gradient: ok")
"""


def run(command: list, **kwargs: Any) -> subprocess.CompletedProcess:
    """Run a command, echoing it; a failure stops the check with the command's own output."""
    shown = ("<the smoke test>" if "\n" in str(part) else str(part) for part in command)
    print("+", " ".join(shown), flush=True)
    return subprocess.run(command, check=True, **kwargs)


def build(outdir: Path) -> tuple[Path, Path]:
    """The sdist, then the wheel built from that sdist (python -m build's default), so the wheel
    proves that the sdist holds everything a build needs."""
    for old in outdir.glob("chainrule-*"):
        old.unlink()
    run([sys.executable, "-m", "build", "--outdir", str(outdir), str(ROOT)])
    wheels = sorted(outdir.glob("chainrule-*.whl"))
    sdists = sorted(outdir.glob("chainrule-*.tar.gz"))
    if len(wheels) != 1 or len(sdists) != 1:
        sys.exit(f"expected one wheel and one sdist in {outdir}, found {wheels + sdists}")
    return wheels[0], sdists[0]


def check_install(artifact: Path, version: str, workdir: Path) -> None:
    """Install one artifact into a new environment (with only its dependencies) and run the
    smoke test and the command line there, from a directory outside the source tree."""
    venv = workdir / ("venv-" + ("wheel" if artifact.suffix == ".whl" else "sdist"))
    # No pip inside the environment: this Python's pip installs into it (--python), which
    # saves creating one pip per environment.
    run([sys.executable, "-m", "venv", "--without-pip", str(venv)])
    python = venv / "bin" / "python"
    run([sys.executable, "-m", "pip", "--python", str(python), "install", "-q",
         "--disable-pip-version-check", str(artifact)])
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONHOME")}
    run([str(python), "-c", SMOKE, version], cwd=workdir, env=env)
    run([str(venv / "bin" / "chainrule"), "--help"], cwd=workdir, env=env,
        stdout=subprocess.DEVNULL)
    out = run([str(venv / "bin" / "chainrule"), "diff", "x**3", "--at", "2"], cwd=workdir,
              env=env, capture_output=True, text=True).stdout
    if "f'(2) = 12" not in out:
        sys.exit(f"chainrule diff 'x**3' --at 2 printed no f'(2) = 12:\n{out}")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--outdir", type=Path, default=ROOT / "dist",
                        help="where the wheel and the sdist go (default: dist/)")
    args = parser.parse_args(argv)
    start = time.perf_counter()
    args.outdir.mkdir(parents=True, exist_ok=True)
    wheel, sdist = build(args.outdir)
    version = wheel.name.split("-")[1]
    if not sdist.name == f"chainrule-{version}.tar.gz":
        sys.exit(f"the wheel {wheel.name} and the sdist {sdist.name} disagree on the version")
    with tempfile.TemporaryDirectory(prefix="chainrule-dist-") as workdir:
        for artifact in (wheel, sdist):
            check_install(artifact, version, Path(workdir))
    print(f"{wheel.name} and {sdist.name}: installed and smoke tested in "
          f"{time.perf_counter() - start:.0f} s")


if __name__ == "__main__":
    main()
