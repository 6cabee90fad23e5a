"""The teaching tools as a learner meets them: without matplotlib, plots of functions with poles,
cr.explain in a notebook and on vectors, which operand is which in a graph, the CLI's --range,
and the backward pass step by step."""

from __future__ import annotations

import html.parser
import json
import math
import shutil
import subprocess
import sys
import textwrap
import xml.etree.ElementTree as ElementTree
from pathlib import Path

import numpy as np
import pytest

import chainrule as cr
from chainrule.viz.plot import derivatives
from chainrule.viz.poles import poles

INSTALL = "pip install 'chainrule[plot]'"
SRC = Path(cr.__file__).parent.parent


def exercise_f(x):
    return cr.log(x ** 2) * cr.sin(x) + 1 / x


# ---------------------------------------------------------------------- without matplotlib
_WITHOUT_MATPLOTLIB = textwrap.dedent("""
    import contextlib, io, json, shutil, sys
    class Blocker:  # as if matplotlib were not installed
        def find_spec(self, name, path=None, target=None):
            if name == "matplotlib" or name.startswith("matplotlib."):
                raise ModuleNotFoundError(f"No module named {name!r}", name=name)
    sys.meta_path.insert(0, Blocker())
    import chainrule as cr
    from chainrule.cli import main
    out = sys.argv[1]
    report = {}
    def error_of(call):
        try:
            call()
        except Exception as error:
            return [type(error).__name__, isinstance(error, ImportError), str(error)]
    report["plot"] = error_of(lambda: cr.plot("x**2"))
    g = cr.graph(lambda x: 1 / x, 2.0, engine="python")
    report["png"] = error_of(lambda: g.save(out + "/g.png"))
    report["svg"] = str(g.save(out + "/g.svg"))
    def cli(*args):
        stdout, stderr = io.StringIO(), io.StringIO()
        with contextlib.redirect_stdout(stdout), contextlib.redirect_stderr(stderr):
            status = main(list(args))
        return [status, stdout.getvalue(), stderr.getvalue()]
    report["diff_plot"] = cli("diff", "x**2", "--plot", out + "/p.png")
    report["diff_graph"] = cli("diff", "x**2", "--graph", out + "/d.png")
    report["dot"] = shutil.which("dot") is not None
    report["tour"] = cli("tour", "--out", out + "/tour", "--section", "8", "--section", "9")
    report["imported"] = "matplotlib" in sys.modules
    print(json.dumps(report))
""")


def test_without_matplotlib_every_tool_says_how_to_install_it(tmp_path):
    result = subprocess.run([sys.executable, "-c", _WITHOUT_MATPLOTLIB, str(tmp_path)],
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    for key in ("plot", "png"):
        name, is_import_error, message = report[key]
        assert name != "ModuleNotFoundError" and is_import_error, report[key]
        assert INSTALL in message and "\n" not in message, message
    assert Path(report["svg"]).read_text().startswith("<svg")  # SVG needs nothing
    cases = [report["diff_plot"]] + ([] if report["dot"] else [report["diff_graph"]])
    for status, stdout, stderr in cases:  # refused before any result is printed
        assert status == 1 and stdout == "", (status, stdout)
        assert len(stderr.strip().splitlines()) == 1 and INSTALL in stderr, stderr
    status, stdout, _ = report["tour"]
    assert status == 0, stdout
    assert f"skipped: cr.plot needs matplotlib, which is not installed: {INSTALL}" in stdout
    assert "FAILED" not in stdout and "Traceback" not in stdout
    written = {path.name for path in (tmp_path / "tour").iterdir()}
    assert {"exercise5_graph.svg", "exercise5_backward.html"} <= written
    assert not report["imported"]


# ---------------------------------------------------------------------- plot
def test_plot_labels_an_expression_as_f_and_marks_the_pole_of_1_over_x(tmp_path):
    figure = cr.plot("x**3 - 2*x", (-2, 2))
    labels = figure.axes[0].get_legend_handles_labels()[1]
    assert labels == ["f(x) = x**3 - 2*x", "f'(x)"]
    assert cr.plot(cr.sin).axes[0].get_legend_handles_labels()[1] == ["sin(x)", "sin'(x)"]
    path = tmp_path / "pole.png"
    ax = cr.plot("1/x", (-2 * np.pi, 2 * np.pi), path=path).axes[0]
    low, high = ax.get_ylim()
    assert -20 < low < -1 and 1 < high < 20, (low, high)  # the finite part, not 1e16
    dashed = [line for line in ax.get_lines() if line.get_linestyle() == "--"
              and np.ptp(line.get_xdata()) == 0]
    assert [float(line.get_xdata()[0]) for line in dashed] == [0.0]
    assert "pole" in ax.get_legend_handles_labels()[1]
    xs, ys = ax.get_lines()[0].get_data()  # f: a gap at the pole, no line from -inf to +inf
    gap = int(np.flatnonzero(np.isnan(ys))[0])
    assert xs[gap - 1] < 0 < xs[gap + 1]
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


@pytest.mark.parametrize(("expression", "interval", "expected"), [
    ("1/x", (-5, 5), [0.0]),  # a grid point on the pole
    ("1/x", (-2 * math.pi, 2 * math.pi), [0.0]),
    ("log(x**2)*sin(x) + 1/x", (-2 * math.pi, 2 * math.pi), [0.0]),  # the chapter's f
    ("1/(x-1)", (-3, 3), [1.0]),  # between grid points
    ("1/x**2", (-3, 3), [0.0]),  # even
    ("tan(x)", (-2 * math.pi, 2 * math.pi), [-1.5 * math.pi, -math.pi / 2, math.pi / 2,
                                              1.5 * math.pi]),
    ("x**3 - 2*x", (-6, 6), []),
    ("exp(x)", (-10, 10), []),  # steep at an end: shown whole
    ("1/(x**2 + 0.01)", (-3, 3), []),  # a tall finite peak
    ("sin(x)/x", (-10, 10), []),  # a hole at 0, not a pole
    ("100*tanh(100*x)", (-1, 1), []),  # a steep finite crossing
])
def test_poles_are_found_where_f_blows_up_and_nowhere_else(expression, interval, expected):
    xs = np.linspace(*interval, 201)
    found = poles(xs, derivatives(expression, xs, 2))
    assert np.allclose(found, expected, atol=1e-6), found


# ---------------------------------------------------------------------- explain
class _Table(html.parser.HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.rows = 0
        self.tables = 0

    def handle_starttag(self, tag, attrs):
        self.rows += tag == "tr"
        self.tables += tag == "table"


def test_explain_displays_as_its_table_and_works_on_vectors():
    for mode in ("forward", "reverse"):
        result = cr.explain(exercise_f, 2.0, mode=mode, file=None)
        assert repr(result) == result.text and not repr(result).startswith("Explanation(")
        table = _Table()
        table.feed(result._repr_html_())
        assert table.tables == 1 and table.rows == len(result.rows) + 1
        markdown = result._repr_markdown_().splitlines()
        assert sum(line.startswith("| `v") for line in markdown) == len(result.rows)
        assert "0.0823954" in result._repr_html_() and "0.0823954" in markdown[-1]
    x = np.arange(4.0)
    for mode in ("forward", "reverse"):  # the chapter's y = 2 x.x
        result = cr.explain(lambda v: 2 * cr.dot(v, v), x, mode=mode, file=None)
        assert np.array_equal(result.derivative, 4 * x)
        assert np.array_equal(result.forward_mode_check, 4 * x)
        assert np.array_equal(result.reverse_mode_check, 4 * x)
        assert "[0, 4, 8, 12]" in result.text
        with pytest.raises(TypeError, match="gradient"):
            float(result)
    # x used twice in one operation and again elsewhere: the shares add up
    result = cr.explain(lambda v: (v * v).sum() * v[0], cr.tensor([1.0, 2.0]), file=None)
    assert np.allclose(result.derivative, [7.0, 4.0])
    assert "-> [7, 4]" in result.text
    with pytest.raises(ValueError, match="at most 64"):
        cr.explain(lambda v: (v * v).sum(), np.ones(100), file=None)
    with pytest.raises(ValueError, match="one number"):
        cr.explain(lambda v: v * 2, np.ones(3), file=None)


# ---------------------------------------------------------------------- graph
def test_graph_shows_which_operand_is_which_and_values_everywhere_or_nowhere():
    x = cr.tensor(2.0, dtype="float64", requires_grad=True)
    reciprocal = cr.graph(1 / x, names={"x": x}, engine="python")
    quotient = cr.graph(x / 1, names={"x": x}, engine="python")
    heads = [g.lines(g.vertices[-1])[0] for g in (reciprocal, quotient)]
    assert heads == ["v1: true_divide(1, v0)", "v1: true_divide(v0, 1)"]
    dot = reciprocal.dot()
    assert 'n0 -> n2 [headlabel="arg 1"' in dot and 'n1 -> n2 [headlabel="arg 0"' in dot
    root = ElementTree.fromstring(reciprocal.svg())
    ends = {}
    for element in root.iter():
        if element.tag.endswith("text") and element.get("class") == "arg":
            ends[element.text] = float(element.get("x"))
    assert set(ends) == {"arg 0", "arg 1"} and ends["arg 0"] < ends["arg 1"]  # left to right
    y = cr.exp(x) * cr.tensor([1.0, 2.0, 3.0])
    drawn = cr.graph(y, names={"x": x})
    assert all(any(line.startswith("value") or line == v.name for line in drawn.lines(v))
               for v in drawn.vertices)
    assert "value [1, 2, 3]" in drawn.lines(drawn.vertices[2])  # a constant array too
    y = exercise_f(x)
    y.backward()  # frees what the graph saved: some values are gone, so none is shown
    after = cr.graph(y, names={"x": x})
    assert not any(line.startswith("value") for v in after.vertices for line in after.lines(v))
    assert "values not shown" in after.title


# ---------------------------------------------------------------------- diff --range, --graph
def test_diff_range_forms_and_graph_formats(tmp_path, capsys):
    from chainrule.cli import main

    def diff(*args):
        status = main(["diff", "x**2", *args])
        out, err = capsys.readouterr()
        return status, out, err

    status, out, err = diff("--plot", str(tmp_path / "p.png"), "--range", "3:1")
    assert status == 2 and out == "" and "reversed" in err and "--range 1:3" in err
    status, out, err = diff("--plot", str(tmp_path / "p.png"), "--range", "1..3")
    assert status == 2 and "A:B" in err and "A < B" in err
    status, out, err = diff("--plot", str(tmp_path / "p.png"), "--range=-1:2")
    assert status == 0 and (tmp_path / "p.png").exists()
    status, out, err = diff("--graph", str(tmp_path / "g.jpg"))
    assert status == 2 and out == "" and ".svg" in err and ".html" in err
    status, out, err = diff("--graph", str(tmp_path / "g.html"), "--at", "3")
    assert status == 0 and "f'(3) = 6" in out
    assert (tmp_path / "g.html").read_text().startswith("<!DOCTYPE html>")


# ---------------------------------------------------------------------- backward step by step
class _Page(html.parser.HTMLParser):
    """The parts of the step-by-step page: its data, its scripts, its SVG, what it links."""

    def __init__(self) -> None:
        super().__init__()
        self.data = self.script = None
        self.svg_start = None
        self.external = []
        self._in = None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "script":
            self._in = "data" if attrs.get("type") == "application/json" else "script"
            assert "src" not in attrs
        if tag in ("link", "img", "iframe") or "href" in attrs:
            self.external.append(tag)

    def handle_endtag(self, tag):
        self._in = None

    def handle_data(self, data):
        if self._in:
            setattr(self, self._in, data)


# A minimal DOM, enough to run the page's player in Node: the vertices, edges, buttons.
_NODE_HARNESS = """
const page = require("fs").readFileSync(process.argv[2], "utf8");
const data = page.match(/<script type="application\\/json" class="cr-data">([^]*?)<\\/script>/)[1];
const script = page.match(/<script>([^]*?)<\\/script>/)[1];
function element(attributes) {
  const classes = new Set();
  return {attributes, textContent: "", handlers: {}, grad: {textContent: ""},
          getAttribute(name) { return this.attributes[name]; },
          classList: {toggle(name, on) { classes[on ? "add" : "delete"](name); },
                      has(name) { return classes.has(name); }},
          querySelector(selector) { return this.grad; },
          addEventListener(kind, handler) { this.handlers[kind] = handler; }};
}
const vertices = [...page.matchAll(/<g class="vertex" data-i="(\\d+)">/g)]
  .map(m => element({"data-i": m[1]}));
const edges = [...page.matchAll(/class="edge" data-source="(\\d+)" data-target="(\\d+)"/g)]
  .map(m => element({"data-source": m[1], "data-target": m[2]}));
const buttons = [...page.matchAll(/data-move="(\\w+)"/g)].map(m => element({"data-move": m[1]}));
const pre = element({}), counter = element({}), json = element({});
json.textContent = data;
const root = element({});
root.querySelector = s => ({"script.cr-data": json, "pre": pre, ".counter": counter})[s];
root.querySelectorAll = s => ({"g.vertex": vertices, "path.edge": edges, "button": buttons})[s];
global.document = {getElementById: () => root};
eval(script);
const seen = [counter.textContent + "|" + pre.textContent];
const next = buttons.find(b => b.attributes["data-move"] === "next");
for (let i = 0; i < 20; i++) {
  next.handlers.click();
  seen.push(counter.textContent + "|" + pre.textContent);
}
const shown = vertices.map(v => v.grad.textContent);
console.log(JSON.stringify({seen, shown}));
"""


def test_backward_step_by_step_page(tmp_path):
    x = cr.tensor(2.0, dtype="float64", requires_grad=True)
    graph = cr.graph(exercise_f(x), names={"x": x}, grads=True, step=True)
    ops = [v for v in graph.vertices if v.kind == "op"]
    steps = graph.steps()
    assert steps[0].seed and [s.vertex for s in steps[1:]] == ops[::-1]  # reverse order
    received = [(s.vertex.label, share.target.label, share.accumulated)
                for s in steps for share in s.shares if share.target.name == "x"]
    assert received == [("v5", "v0", False), ("v3", "v0", True), ("v1", "v0", True)]
    assert float(steps[-1].shares[-1].total) == pytest.approx(float(graph.vertices[0].grad))
    assert graph._repr_html_().startswith('<div class="cr-steps"')
    assert cr.graph(exercise_f(x), names={"x": x})._repr_html_() is None  # plain: the SVG
    path = graph.save(tmp_path / "backward.html")
    text = path.read_text(encoding="utf-8")
    page = _Page()
    page.feed(text)
    data = json.loads(page.data)
    assert len(data) == len(ops) + 1
    index = {v.key: i for i, v in enumerate(graph.vertices)}
    assert [step["active"] for step in data[1:]] == [index[v.key] for v in ops[::-1]]
    assert [bool(step["accumulated"]) for step in data].count(True) == 2
    assert "its gradients add up" in data[-1]["caption"]
    assert page.external == [] and "http" not in text.replace(
        'xmlns="http://www.w3.org/2000/svg"', "")
    svg = text[text.index("<svg"): text.index("</svg>") + 6]
    assert ElementTree.fromstring(svg).tag.endswith("svg")
    node = shutil.which("node")
    if node is None:
        pytest.skip("Node.js is not installed: the page's script was not run")
    (tmp_path / "harness.js").write_text(_NODE_HARNESS)
    run = subprocess.run([node, str(tmp_path / "harness.js"), str(path)], capture_output=True,
                         text=True, timeout=60)
    assert run.returncode == 0, run.stderr
    result = json.loads(run.stdout)
    assert result["seen"][0].startswith("step 1 of 7|seed")
    assert result["seen"][6].startswith("step 7 of 7|v1 = power(v0, 2)")
    assert result["seen"][-1] == result["seen"][6]  # stops at the last step
    assert result["shown"][0] == "grad 0.0824"  # x's three shares added up


def test_step_by_step_refusals():
    x = cr.tensor([1.0, 2.0], requires_grad=True)
    with pytest.raises(ValueError, match="one number"):
        cr.graph(x * 2, step=True)
    y = (x * x).sum()
    y.backward()
    with pytest.raises(RuntimeError, match="retain_graph=True"):
        cr.graph(y, step=True)
