"""The ``chainrule`` command, run as a subprocess: ``tour`` and ``diff``."""

from __future__ import annotations

import math
import re
import subprocess
import sys
import xml.etree.ElementTree as ElementTree
from pathlib import Path

import pytest

COMMAND = [sys.executable, "-m", "chainrule"]
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def run(*args: str, cwd: Path | None = None, timeout: float = 120) -> subprocess.CompletedProcess:
    return subprocess.run([*COMMAND, *args], capture_output=True, text=True, cwd=cwd,
                          timeout=timeout)


def assert_png(path: Path) -> None:
    import matplotlib.image

    data = path.read_bytes()
    assert data[:8] == PNG_SIGNATURE, f"{path} is not a PNG"
    pixels = matplotlib.image.imread(path)
    assert pixels.shape[0] > 100 and pixels.shape[1] > 100
    assert pixels[..., :3].std() > 0.02, f"{path} is blank"


def assert_svg(path: Path) -> None:
    text = path.read_text()
    root = ElementTree.fromstring(text)  # well-formed XML
    assert root.tag.endswith("svg"), f"{path} is not an SVG"
    drawn = [e for e in root.iter() if e.tag.split("}")[-1] in ("text", "path", "rect", "ellipse",
                                                                  "polygon")]
    assert len(drawn) > 10, f"{path} draws nothing"


# ---------------------------------------------------------------------- tour
@pytest.fixture(scope="module")
def tour(tmp_path_factory: pytest.TempPathFactory) -> tuple[subprocess.CompletedProcess, Path]:
    out = tmp_path_factory.mktemp("tour")
    return run("tour", "--out", str(out)), out


def test_tour_exits_zero(tour):
    result, _ = tour
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    assert "Traceback" not in result.stderr
    assert "FAILED" not in result.stdout


def test_tour_prints_a_progress_line_per_section(tour):
    result, _ = tour
    numbers = re.findall(r"^\[(\d+)/(\d+)\] ", result.stdout, flags=re.M)
    assert numbers, result.stdout[:2000]
    total = int(numbers[0][1])
    assert [int(n) for n, _ in numbers] == list(range(1, total + 1))
    for dialect in ("native API", "PyTorch", "MXNet", "TensorFlow"):
        assert dialect in result.stdout


def test_tour_writes_real_images_and_prints_their_paths(tour):
    result, out = tour
    plot = out / "sin_and_derivative.png"
    svg = out / "exercise5_graph.svg"
    png = out / "exercise5_graph.png"
    for path in (plot, svg, png):
        assert path.exists(), f"{path} missing"
        assert str(path) in result.stdout
    assert_png(plot)
    assert_png(png)
    assert_svg(svg)
    text = svg.read_text()
    for op in ("log", "sin", "multiply", "add"):
        assert op in text


def test_tour_answers_the_exercises_with_numbers(tour):
    result, _ = tour
    stdout = result.stdout
    assert re.search(r"f'' .* = [\d.]+x", stdout)  # exercise 1: measured ratio
    assert "retain_graph=True" in stdout and "second y.backward() raises" in stdout
    assert "(2, 3)" in stdout  # exercise 3 with a matrix
    assert stdout.count("0.0823954") >= 4  # exercises 5 to 7, both modes
    assert "jacfwd" in stdout and "jacrev" in stdout


# ---------------------------------------------------------------------- diff
def derivatives_printed(stdout: str) -> dict[str, float]:
    return {
        name: float(value)
        for name, value in re.findall(r"^\s+(f'*(?:\^\(\d+\))?\([^)]*\)) = (\S+)$", stdout,
                                      flags=re.M)
    }


S2 = math.sin(2.0)
C2 = math.cos(2.0)
# (expression, x, order, hand-derived value of the order-th derivative at x)
TABLE = [
    ("x**2", 3.0, 1, 6.0),
    ("x**3", 2.0, 2, 12.0),
    ("x**3", 2.0, 3, 6.0),
    ("sin(x)", 1.0, 1, math.cos(1.0)),
    ("sin(x)", 1.0, 2, -math.sin(1.0)),
    ("exp(2*x)", 0.5, 1, 2 * math.exp(1.0)),
    ("log(x**2)*sin(x) + 1/x", 2.0, 1, 2 * S2 / 2 + math.log(4) * C2 - 1 / 4),
    ("1/x", 2.0, 2, 2 / 8),
    ("sqrt(x)", 4.0, 1, 0.25),
    ("tanh(x)", 0.5, 1, 1 - math.tanh(0.5) ** 2),
    ("sigmoid(x)", 0.0, 1, 0.25),
    ("x**x", 2.0, 1, 4 * (math.log(2) + 1)),
    ("-x**2 + 3*x", 1.0, 1, 1.0),
    ("exp(-x**2/2)", 1.0, 2, 0.0),
    ("cos(pi*x)", 0.5, 1, -math.pi),
    ("pow(x, 3) - maximum(x, 0)", 2.0, 1, 11.0),
    ("arctan(x)", 1.0, 1, 0.5),
    ("abs(x) * x", -3.0, 1, 6.0),
    ("7", 1.0, 2, 0.0),
]


def run_in_process(capsys: pytest.CaptureFixture, *args: str) -> subprocess.CompletedProcess:
    """The same command through ``cli.main`` in this interpreter (no start-up cost)."""
    from chainrule.cli import main

    try:
        status = main(list(args))
    except SystemExit as exit_:  # argparse's own usage errors
        status = exit_.code
    captured = capsys.readouterr()
    return subprocess.CompletedProcess(args, status, captured.out, captured.err)


def check_table_entry(result: subprocess.CompletedProcess, at: float, order: int,
                      expected: float) -> None:
    assert result.returncode == 0, result.stderr
    printed = derivatives_printed(result.stdout)
    key = "f" + ("'" * order if order <= 3 else f"^({order})") + f"({at:g})"
    assert key in printed, result.stdout
    assert printed[key] == pytest.approx(expected, rel=1e-10, abs=1e-12)


# A subset runs as real subprocesses, all started at once (each is a fresh interpreter, and
# start-up dominates); the whole table also runs in-process through the same main().
SUBPROCESS_ROWS = [0, 1, 4, 6, 11, 15]


@pytest.fixture(scope="module")
def table_runs() -> dict:
    processes = {}
    for row in SUBPROCESS_ROWS:
        expression, at, order, _ = TABLE[row]
        processes[row] = subprocess.Popen(
            [*COMMAND, "diff", expression, "--at", repr(at), "--order", str(order)],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        )
    results = {}
    for row, process in processes.items():
        stdout, stderr = process.communicate(timeout=120)
        results[row] = subprocess.CompletedProcess(process.args, process.returncode, stdout,
                                                   stderr)
    return results


@pytest.mark.parametrize("row", SUBPROCESS_ROWS)
def test_diff_table_subprocess(table_runs, row):
    _, at, order, expected = TABLE[row]
    check_table_entry(table_runs[row], at, order, expected)


@pytest.mark.parametrize(("expression", "at", "order", "expected"), TABLE)
def test_diff_table(capsys, expression, at, order, expected):
    result = run_in_process(capsys, "diff", expression, "--at", repr(at), "--order", str(order))
    check_table_entry(result, at, order, expected)


def test_diff_several_points_and_another_variable():
    result = run("diff", "exp(-t**2)", "--wrt", "t", "--at", "0,1,-1")
    assert result.returncode == 0, result.stderr
    printed = derivatives_printed(result.stdout)
    assert printed["f'(0)"] == 0.0
    assert printed["f'(1)"] == pytest.approx(-2 * math.exp(-1))
    assert printed["f'(-1)"] == pytest.approx(2 * math.exp(-1))


REFUSED = [
    ("x.__class__", "attribute"),
    ("__import__('os').system('echo pwned')", "refused"),
    ("().__class__.__bases__[0].__subclasses__()", "refused"),
    ("open('/etc/passwd')", "open"),
    ("eval('1')", "eval"),
    ("lambda: 1", "lambda"),
    ("[c for c in (1, 2)]", "comprehension"),
    ("x[0]", "subscript"),
    ("'abc'", "constant"),
    ("y + 1", "'y'"),
    ("sin(x, x)", "argument"),
    ("sin(x=1)", "keyword"),
    ("(x := 3)", "assignment"),
    ("x if x else 1", "conditional"),
    ("x // 2", "'//'"),
    ("sin(x", "syntax"),
    ("import os", "syntax"),
    ("x; 1", "syntax"),
    ("f'{x}'", "f-string"),
    ("2 ** 10 ** 100000000000000000", "too large"),
    ("True + x", "True"),
    ("sin", "without being called"),
    ("", "empty"),
]


def check_refusal(expression: str, needle: str, status: int, stdout: str, stderr: str) -> None:
    assert status == 2, (expression, stdout, stderr)
    assert "Traceback" not in stderr and "Traceback" not in stdout, (expression, stderr)
    lines = stderr.strip().splitlines()
    assert len(lines) == 1, (expression, stderr)
    assert "refused" in lines[0], (expression, stderr)
    assert needle.lower() in lines[0].lower(), (expression, needle, stderr)
    assert "pwned" not in stdout


def test_diff_refuses_malicious_and_malformed_expressions(tmp_path):
    chosen = REFUSED[:12]  # as real subprocesses, started at once
    processes = [
        (expression, needle, subprocess.Popen(
            [*COMMAND, "diff", expression], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
            text=True, cwd=tmp_path,
        ))
        for expression, needle in chosen
    ]
    for expression, needle, process in processes:
        stdout, stderr = process.communicate(timeout=120)
        check_refusal(expression, needle, process.returncode, stdout, stderr)
    assert list(tmp_path.iterdir()) == []  # nothing ran: no file appeared


@pytest.mark.parametrize(("expression", "needle"), REFUSED)
def test_diff_refusals_in_process(capsys, expression, needle):
    result = run_in_process(capsys, "diff", expression)
    check_refusal(expression, needle, result.returncode, result.stdout, result.stderr)


def test_diff_bad_options_exit_two_without_traceback(capsys):
    assert run("diff", "x", "--at", "abc").returncode == 2
    for args in (["x", "--at", "abc"], ["x", "--plot", "p.png", "--range", "3:1"],
                 ["x", "--wrt", "__class__"], ["x", "--order", "-1"]):
        result = run_in_process(capsys, "diff", *args)
        assert result.returncode == 2, (args, result.stdout, result.stderr)
        assert "Traceback" not in result.stderr
        assert len(result.stderr.strip().splitlines()) == 1


def test_diff_plot_graph_and_explain(tmp_path):
    plot = tmp_path / "f.png"
    graph = tmp_path / "g.svg"
    result = run("diff", "log(x**2)*sin(x) + 1/x", "--at", "2", "--plot", str(plot),
                 "--range", "0.5:6", "--graph", str(graph), "--explain", "reverse")
    assert result.returncode == 0, result.stderr
    assert_png(plot)
    assert_svg(graph)
    assert "adjoint(v0)" in result.stdout
    forward = run("diff", "log(x**2)*sin(x) + 1/x", "--at", "2", "--explain", "forward")
    final = re.findall(r"^f'\(2\) = \S+ = (\S+)$", forward.stdout + result.stdout, flags=re.M)
    assert len(final) == 2 and final[0] == final[1]
    assert float(final[0]) == pytest.approx(2 * S2 / 2 + math.log(4) * C2 - 1 / 4)


def test_diff_negative_values_and_expressions():
    result = run("diff", "-x**2", "--at", "-1")
    assert result.returncode == 0, result.stderr
    assert derivatives_printed(result.stdout)["f'(-1)"] == 2.0


def test_help_and_missing_command():
    assert run("--help").returncode == 0
    assert "whitelist" in run("diff", "--help").stdout
    missing = run()
    assert missing.returncode == 2 and "Traceback" not in missing.stderr


def test_python_dash_m_and_entry_point_agree():
    script = Path(sys.executable).with_name("chainrule")
    if not script.exists():
        pytest.skip("the chainrule entry point is not installed next to this interpreter")
    result = subprocess.run([str(script), "diff", "x**2", "--at", "3"], capture_output=True,
                            text=True, timeout=60)
    assert result.returncode == 0
    assert derivatives_printed(result.stdout)["f'(3)"] == 6.0
