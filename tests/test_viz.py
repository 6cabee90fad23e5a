"""cr.plot, cr.graph, cr.explain and the expression parser."""

from __future__ import annotations

import math
import sys
import xml.etree.ElementTree as ElementTree

import numpy as np
import pytest

import chainrule as cr
from chainrule.expr import ExpressionError, parse
from chainrule.viz.plot import derivatives


def exercise_f(x):
    return cr.log(x ** 2) * cr.sin(x) + 1 / x


def exercise_df(x):  # by hand
    return 2 * math.sin(x) / x + math.log(x ** 2) * math.cos(x) - 1 / x ** 2


# ---------------------------------------------------------------------- explain
@pytest.mark.parametrize("x", [2.0, 0.5, -1.3, 7.0])
def test_explain_forward_and_reverse_agree_with_each_other_and_with_grad(x):
    forward = cr.explain(exercise_f, x, mode="forward", file=None)
    reverse = cr.explain(exercise_f, x, mode="reverse", file=None)
    gradient = float(np.asarray(cr.grad(exercise_f)(np.float64(x))))
    assert forward.derivative == pytest.approx(reverse.derivative, rel=1e-13)
    assert forward.derivative == pytest.approx(gradient, rel=1e-13)
    assert forward.derivative == pytest.approx(exercise_df(x), rel=1e-12)
    assert forward.forward_mode_check == pytest.approx(gradient, rel=1e-13)
    assert forward.reverse_mode_check == pytest.approx(gradient, rel=1e-13)
    assert float(reverse) == reverse.derivative


def test_explain_prints_node_by_node_in_evaluation_order(capsys):
    print(cr.explain(exercise_f, 2.0, mode="forward"))
    forward = capsys.readouterr().out
    cr.explain(exercise_f, 2.0, mode="reverse", file=sys.stdout)
    reverse = capsys.readouterr().out
    ops = ["power(v0, 2)", "log(v1)", "sin(v0)", "multiply(v2, v3)", "true_divide(1, v0)",
           "add(v4, v5)"]
    positions = [forward.index(op) for op in ops]
    assert positions == sorted(positions)
    assert "dv1/dv0 = 4" in forward and "dv3/dv0 = -0.416147" in forward
    assert "tangent(v6) = 0.0823954" in forward
    # reverse mode visits v6 first and v0 last
    table = reverse[reverse.index("shares handed back"):]
    rows = [table.index(label) for label in ("\n  v6 ", "\n  v5 ", "\n  v1 ", "\n  v0 (x)")]
    assert rows == sorted(rows)
    assert "adjoint(v0) = 0.0823954" in reverse


def test_explain_rows_carry_the_running_quantities():
    forward = cr.explain(exercise_f, 2.0, mode="forward", file=None)
    tangents = [row["tangent"] for row in forward.rows]
    assert tangents[:3] == pytest.approx([1.0, 4.0, 1.0])  # dx, d(x**2), d log(x**2)
    reverse = cr.explain(exercise_f, 2.0, mode="reverse", file=None)
    assert reverse.rows[0]["adjoint"] == 1.0
    assert reverse.rows[-1]["adjoint"] == pytest.approx(exercise_df(2.0))


def test_explain_accepts_an_expression_and_shared_subexpressions():
    result = cr.explain("x * x * x", 1.5, mode="reverse", file=None)
    assert result.derivative == pytest.approx(3 * 1.5 ** 2)
    constant = cr.explain(lambda x: cr.tensor(3.0), 1.0, mode="forward", file=None)
    assert constant.derivative == 0.0
    with pytest.raises(ValueError, match="mode"):
        cr.explain(exercise_f, 1.0, mode="sideways")


# ---------------------------------------------------------------------- graph
def test_graph_of_exercise_5_is_one_call_and_lists_the_operations():
    x = cr.tensor(2.0, dtype="float64", requires_grad=True)
    graph = cr.graph(cr.log(x ** 2) * cr.sin(x) + 1 / x)
    ops = [v.name for v in graph.vertices if v.kind == "op"]
    assert ops == ["power", "log", "sin", "multiply", "true_divide", "add"]
    inputs = [v for v in graph.vertices if v.kind == "input"]
    assert [v.name for v in inputs] == ["x"]  # named after the caller's variable
    values = [float(v.value) for v in graph.vertices if v.kind == "op"]
    assert values == pytest.approx([4.0, math.log(4), math.sin(2), math.log(4) * math.sin(2),
                                    0.5, math.log(4) * math.sin(2) + 0.5])
    constants = sorted(v.name for v in graph.vertices if v.kind == "constant")
    assert constants == ["1", "2"]
    assert len(graph.edges()) == 10


def test_graph_dot_and_svg_are_well_formed():
    graph = cr.graph(exercise_f, 2.0, engine="python")
    dot = graph.dot()
    assert dot.startswith("digraph") and dot.rstrip().endswith("}")
    assert dot.count("->") == len(graph.edges())
    svg = graph.svg()
    root = ElementTree.fromstring(svg)
    assert root.tag.endswith("svg")
    texts = " ".join(e.text or "" for e in root.iter() if e.tag.endswith("text"))
    for op in ("power", "log", "sin", "multiply", "true_divide", "add"):
        assert op in texts
    assert graph._repr_svg_() == svg


def test_graph_gradients_by_an_extra_pass_and_after_backward(tmp_path):
    graph = cr.graph(exercise_f, 2.0)  # a function: gradients shown by default
    x_vertex = graph.vertices[0]
    assert x_vertex.kind == "input"
    assert float(x_vertex.grad) == pytest.approx(exercise_df(2.0))
    root = graph.vertices[-1]
    assert float(root.grad) == 1.0
    # on a tensor: values now, the input's .grad once the user has run backward
    x = cr.tensor(2.0, dtype="float64", requires_grad=True)
    y = exercise_f(x)
    graph = cr.graph(y, names={"x": x}, grads=True)
    assert x.grad is None  # the extra pass writes no .grad
    y.backward()  # the graph was retained for it
    assert float(x.grad) == pytest.approx(exercise_df(2.0))
    later = cr.graph(exercise_f(x), names={"x": x})
    later.show_grads = True
    assert any(line.startswith("grad") for line in later.lines(later.vertices[0]))


def test_graph_saves_svg_png_and_dot(tmp_path):
    import matplotlib.image

    graph = cr.graph(exercise_f, 2.0, engine="python")
    svg = graph.save(tmp_path / "g.svg")
    png = graph.save(tmp_path / "g.png")
    dot = graph.save(tmp_path / "g.dot")
    assert svg.read_text().startswith("<svg")
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert matplotlib.image.imread(png)[..., :3].std() > 0.02
    assert dot.read_text().startswith("digraph")
    with pytest.raises(ValueError, match="suffix|save"):
        graph.save(tmp_path / "g.jpeg")


def test_graph_of_vectors_matrices_and_a_deep_chain():
    a = cr.random.randn(3, 4, dtype="float64", requires_grad=True)
    b = cr.random.randn(4, dtype="float64", requires_grad=True)
    y = cr.tanh(cr.matmul(a, b)).sum()
    graph = cr.graph(y, names={"a": a, "b": b}, grads=True)
    by_name = {v.name: v for v in graph.vertices if v.kind == "input"}
    assert by_name["a"].shape == (3, 4) and by_name["b"].shape == (4,)
    assert by_name["a"].grad.shape == (3, 4)
    assert "shape (3, 4)" in graph.lines(by_name["a"])
    ElementTree.fromstring(graph.svg())
    x = cr.tensor(0.5, dtype="float64", requires_grad=True)
    z = x
    for _ in range(300):
        z = cr.sin(z)
    deep = cr.graph(z, engine="python")
    assert sum(v.kind == "op" for v in deep.vertices) == 300
    ElementTree.fromstring(deep.svg())


def test_graph_refuses_a_tensor_without_history():
    with pytest.raises(ValueError, match="requires_grad"):
        cr.graph(cr.ones(3))


# ---------------------------------------------------------------------- plot
def test_plot_sin_is_one_call_and_its_derivative_is_cos(tmp_path):
    path = tmp_path / "sin.png"
    figure = cr.plot(cr.sin, (-2 * np.pi, 2 * np.pi), path=path)
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    handles, labels = figure.axes[0].get_legend_handles_labels()
    assert labels == ["sin(x)", "sin'(x)"]
    xs, ys = handles[1].get_data()
    assert np.allclose(ys, np.cos(xs), atol=1e-12)


def test_plot_higher_derivatives_on_a_given_axis():
    from matplotlib.figure import Figure

    figure = Figure()
    ax = figure.add_subplot()
    returned = cr.plot("x**3", np.linspace(-1, 1, 11), derivatives=3, ax=ax)
    assert returned is figure
    curves = [line.get_data()[1] for line in ax.get_legend_handles_labels()[0]]
    xs = np.linspace(-1, 1, 11)
    for curve, expected in zip(curves, (xs ** 3, 3 * xs ** 2, 6 * xs, 6 + 0 * xs), strict=True):
        assert np.allclose(curve, expected)


def test_derivatives_handle_control_flow_and_non_elementwise_functions():
    def relu_like(a):
        return a * 2 if a > 0 else -a  # branches on the value: evaluated point by point

    values, slopes = derivatives(relu_like, [-1.0, 2.0])
    assert values.tolist() == [1.0, 4.0] and slopes.tolist() == [-1.0, 2.0]
    _, slopes = derivatives(lambda x: x * x.sum(), [1.0, 2.0])  # mixes points: not summed
    assert slopes.tolist() == [2.0, 4.0]


# ---------------------------------------------------------------------- expressions
def test_expressions_evaluate_with_chainrule():
    f = parse("log(x**2)*sin(x) + 1/x")
    assert float(f(2.0)) == pytest.approx(math.log(4) * math.sin(2) + 0.5)
    x = cr.tensor(2.0, dtype="float64", requires_grad=True)
    (grad,) = cr.gradients(f(x), x)
    assert float(grad) == pytest.approx(exercise_df(2.0))
    assert float(parse("exp(-t**2)", variable="t")(0.0)) == 1.0
    assert float(parse("pi + e + tau")(0.0)) == pytest.approx(math.pi * 3 + math.e)


@pytest.mark.parametrize("text", [
    "x.__class__", "__import__('os')", "getattr(x, 'y')", "lambda: 0", "[x for x in y]",
    "{x: 1}", "x[0]", "'s'", "b'bytes'", "1j", "None", "x < 1", "x and 1", "not x", "~x",
    "x @ x", "x % 2", "(yield)", "*x", "globals()", "sin.__call__(x)", "sin(*x)",
    "sin(x)(x)", "x\nx", "x = 1",
])
def test_expression_refusals(text):
    with pytest.raises(ExpressionError, match="^refused"):
        parse(text)


def test_docstring_examples_run():
    import doctest
    import importlib

    for name in ("chainrule.expr", "chainrule.viz.graph", "chainrule.viz.explain",
                 "chainrule.viz.plot"):
        module = importlib.import_module(name)
        failures, _ = doctest.testmod(module, optionflags=doctest.NORMALIZE_WHITESPACE)
        assert failures == 0, f"doctest failures in {name}"


def test_importing_chainrule_does_not_import_matplotlib():
    import subprocess
    import sys

    code = "import sys, chainrule; assert chainrule.plot; print('matplotlib' in sys.modules)"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            timeout=60)
    assert result.stdout.strip() == "False", result.stderr


@pytest.mark.parametrize("engine", ["python", "dot"])
def test_graph_engines_agree_on_the_format(tmp_path, engine):
    import shutil

    if engine == "dot" and shutil.which("dot") is None:
        pytest.skip("Graphviz is not installed (the built-in layout is tested above)")
    graph = cr.graph(exercise_f, 2.0, engine=engine)
    root = ElementTree.fromstring(graph.svg().encode())
    assert root.tag.endswith("svg")
    png = graph.save(tmp_path / "g.png")
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
