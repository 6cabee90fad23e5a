"""The tour's exercises, each answered with a computation: measured costs, the errors
chainrule raises, the plot of sin and sin', the graph of exercise 5, the chain rule on it
forward and backward, and forward versus reverse mode on tall and wide Jacobians."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, TextIO

import numpy as np

import chainrule as cr

from ..node import Node
from ..tensor import Tensor
from ..viz.extras import MissingExtraError
from ..viz.trace import call_text


def _best_time(function: Callable, repeat: int = 5) -> float:
    """The best wall time of ``repeat`` calls (after one warm-up), in seconds."""
    function()
    best = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        function()
        best = min(best, time.perf_counter() - start)
    return best


def _timed(function: Callable) -> float:
    start = time.perf_counter()
    function()
    return time.perf_counter() - start


def _ms(seconds: float) -> str:
    return f"{seconds * 1e3:.2f} ms"


def _nodes(tensor: Tensor) -> Iterator[Node]:
    """Each node of the graph recorded behind ``tensor``, once."""
    seen: set[int] = set()
    stack = [tensor._node] if tensor._node is not None else []
    while stack:
        node = stack.pop()
        if id(node) in seen:
            continue
        seen.add(id(node))
        yield node
        stack.extend(p for p in node.parents if type(p) is Node)


def _graph_size(tensor: Tensor) -> int:
    return sum(1 for _ in _nodes(tensor))


def _saved_bytes(tensor: Tensor) -> int:
    """Bytes of the intermediate values (outputs of recorded operations) that the graph behind
    ``tensor`` keeps for its backward pass; inputs such as weights are not counted."""
    arrays: dict[int, int] = {}
    for node in _nodes(tensor):
        saved = node.saved or ()
        intermediates = [v for v, p in zip(saved, node.parents, strict=True) if type(p) is Node]
        for value in (*intermediates, node.ans):
            data = value._array if isinstance(value, Tensor) else value
            if isinstance(data, np.ndarray):
                arrays[id(data)] = data.nbytes
    return sum(arrays.values())


def first_line(error: BaseException) -> str:
    """An error's type and the first line of its message: a one-line report."""
    return f"{type(error).__name__}: {str(error).splitlines()[0] if str(error) else ''}"


# ---------------------------------------------------------------------- the exercises
def exercise_1(out: TextIO) -> None:
    print("Why is the second derivative much more expensive than the first? Measured on\n"
          "f(x) = sum(sin(x) * exp(x)) for x with 100,000 entries:", file=out)
    x = cr.tensor(np.linspace(-2, 2, 100_000), requires_grad=True)

    def f() -> Any:
        return (cr.sin(x) * cr.exp(x)).sum()

    def first() -> Any:
        return cr.gradients(f(), x)[0]

    def second() -> tuple:
        y = f()
        (dy,) = cr.gradients(y, x, create_graph=True)
        return y, dy, cr.gradients(dy.sum(), x)[0]

    t1, t2 = _best_time(first), _best_time(second)
    y, dy, d2 = second()
    exact = 2 * np.cos(x._array) * np.exp(x._array)
    print(f"  f' (one backward pass):                  {_ms(t1)}", file=out)
    print(f"  f'' (backward with create_graph=True, then a backward through it): {_ms(t2)} "
          f"= {t2 / t1:.1f}x", file=out)
    print(f"  graph of f: {_graph_size(y)} nodes; graph of f' (recorded by the first backward): "
          f"{_graph_size(dy)} nodes", file=out)
    print(f"  f'' matches 2 cos(x) exp(x) to {np.abs(d2._array - exact).max():.1e}", file=out)
    print("  Why: the first backward must itself be recorded (create_graph=True): every rule\n"
          "  runs as recorded tensor ops instead of raw NumPy, the saved values are kept, and\n"
          "  the second pass goes through that larger graph. For a full Hessian of n inputs it\n"
          "  is n such passes (or one batched pass n times as wide):", file=out)
    w = cr.random.randn(50, 50, dtype="float64") / 10
    loss = lambda v: cr.tanh(cr.matmul(w, v)).sum()  # noqa: E731
    v0 = np.ones(50)
    tg = _best_time(lambda: cr.grad(loss)(v0))
    th = _best_time(lambda: cr.hessian(loss)(v0), repeat=3)
    print(f"  n = 50: cr.grad {_ms(tg)}, cr.hessian {_ms(th)} = {th / tg:.0f}x", file=out)


def exercise_2(out: TextIO) -> None:
    print("Run backward twice, immediately:", file=out)
    x = cr.arange(4.0, requires_grad=True)
    y = 2 * cr.dot(x, x)
    y.backward()
    print(f"  first y.backward(): x.grad = {x.grad}", file=out)
    try:
        y.backward()
    except RuntimeError as error:
        print(f"  second y.backward() raises {first_line(error)}", file=out)
        print(f"  ... and x.grad is unchanged: {x.grad}", file=out)
    else:
        raise AssertionError("a second backward without retain_graph should have raised")
    print("  Why: the first pass frees the values the graph saved for it (memory matters\n"
          "  more than a second pass nobody asked for). With retain_graph=True they are kept:",
          file=out)
    x = cr.arange(4.0, requires_grad=True)
    y = 2 * cr.dot(x, x)
    y.backward(retain_graph=True)
    y.backward()
    print(f"  y.backward(retain_graph=True); y.backward() -> x.grad = {x.grad} "
          "(accumulated: 2 * 4x, PyTorch semantics)", file=out)
    assert np.array_equal(x.grad._array, 8 * x._array)
    x = cr.arange(4.0)
    x.attach_grad()
    with cr.record():
        y = 2 * cr.dot(x, x)
    y.backward(retain_graph=True)
    y.backward()
    print(f"  with attach_grad() (MXNet's grad_req='write'): x.grad = {x.grad} (overwritten)",
          file=out)
    assert np.array_equal(x.grad._array, 4 * x._array)
    x = cr.arange(4.0, requires_grad=True)
    with cr.GradientTape() as tape:
        y = 2 * cr.dot(x, x)
    tape.gradient(y, x)
    try:
        tape.gradient(y, x)
    except RuntimeError as error:
        print(f"  a non-persistent GradientTape used twice raises {first_line(error)}",
              file=out)
    else:
        raise AssertionError("a non-persistent tape used twice should have raised")


def _control_flow(a: Any) -> Any:
    b = a * 2
    while cr.linalg.norm(b) < 1000:
        b = b * 2
    if b.sum() > 0:
        c = b
    else:
        c = 100 * b
    return c


def exercise_3(out: TextIO) -> None:
    print("The control-flow example with a vector or a matrix a: f(a) = k * a, one k for all\n"
          "entries (the loop and the branch look at the norm and the sum), so d is no longer\n"
          "a scalar.", file=out)
    cr.random.seed(1)
    for shape in ((3,), (2, 3)):
        a = cr.random.randn(*shape, dtype="float64", requires_grad=True)
        d = _control_flow(a)
        try:
            d.backward()
        except RuntimeError as error:
            print(f"  a of shape {shape}: d.backward() raises {first_line(error)}", file=out)
        else:
            raise AssertionError("backward of a non-scalar should ask for gradient=")
        d.sum().backward()  # what MXNet does implicitly; gradient=ones in PyTorch
        k = (d / a)._array
        print(f"  d.sum().backward(): a.grad = {a.grad._array.round(3).tolist()}", file=out)
        print(f"    = d / a everywhere: {bool(np.allclose(a.grad._array, k))} (k = {k.flat[0]:g}); "
              "the gradient of sum(d), i.e. the Jacobian's column sums", file=out)
        assert np.allclose(a.grad._array, k)
        jacobian = np.asarray(cr.jacrev(_control_flow)(a.detach()))
        diagonal = np.allclose(jacobian.reshape(a.size, a.size), k.flat[0] * np.eye(a.size))
        print(f"    the full Jacobian (cr.jacrev) has shape {jacobian.shape} and is k * identity: "
              f"{diagonal}", file=out)
        assert diagonal


def exercise_4(out: TextIO, directory: Path) -> Path:
    path = directory / "sin_and_derivative.png"
    figure = cr.plot(cr.sin, (-2 * np.pi, 2 * np.pi), derivatives=1, path=path)
    xs, ys = figure.axes[0].get_lines()[1].get_data()
    error = np.abs(np.asarray(ys) - np.cos(xs)).max()
    print("cr.plot(cr.sin, (-2 * np.pi, 2 * np.pi), path=...): f' by reverse mode on 201\n"
          f"points, never by cos; it differs from cos by at most {error:.1e}", file=out)
    assert error < 1e-12
    print(f"  wrote {path}", file=out)
    return path


def exercise_f(x: Any) -> Any:
    """f(x) = log(x**2) * sin(x) + 1/x, the function of exercises 5 to 7."""
    return cr.log(x ** 2) * cr.sin(x) + 1 / x


def exercise_5(out: TextIO, directory: Path) -> list[Path]:
    x = cr.tensor(2.0, dtype="float64", requires_grad=True)
    graph = cr.graph(exercise_f(x), names={"x": x}, grads=True,
                     title="f(x) = log(x**2) * sin(x) + 1/x at x = 2")
    print("cr.graph(cr.log(x ** 2) * cr.sin(x) + 1 / x): the dependency graph recorded from x\n"
          "to f, in evaluation order (value; grad = df/d(node), by one extra backward pass):",
          file=out)
    by_key = {v.key: v for v in graph.vertices}
    for vertex in graph.vertices:
        if vertex.kind != "constant":
            what = call_text(vertex, by_key) if vertex.kind == "op" else vertex.name
            print(f"  {vertex.label} = {what:<22} value {float(vertex.value):9.6f}   "
                  f"grad {float(vertex.grad):9.6f}", file=out)
    engine = "Graphviz dot" if graph._use_dot() else "the built-in layout (no Graphviz)"
    paths = [graph.save(directory / "exercise5_graph.svg")]
    print(f"  wrote {paths[-1]} ({engine})", file=out)
    try:
        paths.append(graph.save(directory / "exercise5_graph.png"))
        print(f"  wrote {paths[-1]} ({engine})", file=out)
    except MissingExtraError as error:
        print(f"  skipped the PNG: {error}", file=out)
    paths.append(graph.save(directory / "exercise5_backward.html"))
    print(f"  wrote {paths[-1]}: the backward pass node by node (open it in a browser; x is "
          "used three times, and its three shares add up)", file=out)
    return paths


def exercises_6_7(out: TextIO) -> None:
    forward = cr.explain(exercise_f, 2.0, mode="forward", file=out)
    print(file=out)
    reverse = cr.explain(exercise_f, 2.0, mode="reverse", file=out)
    exact = 2 * np.sin(2.0) / 2.0 + np.log(4.0) * np.cos(2.0) - 1 / 4.0
    print(f"\nboth ways: {forward.derivative:.12g} and {reverse.derivative:.12g}; by hand\n"
          f"f'(x) = 2 sin(x)/x + log(x**2) cos(x) - 1/x**2 = {exact:.12g}", file=out)
    assert abs(forward.derivative - exact) < 1e-12 and abs(reverse.derivative - exact) < 1e-12


def exercise_8(out: TextIO) -> None:
    print("When forward, when reverse? Forward mode pushes one tangent per input direction\n"
          "(n passes for n inputs); reverse mode pulls one cotangent per output (m passes),\n"
          "but must keep every intermediate value until the backward pass. Measured on\n"
          "f(x) = tanh(W @ x):", file=out)
    rng = np.random.default_rng(0)
    rows = []
    for label, (m, n) in (("tall: m=1000 outputs, n=8 inputs", (1000, 8)),
                          ("wide: m=8 outputs, n=1000 inputs", (8, 1000))):
        weights = rng.standard_normal((m, n)) / np.sqrt(n)

        def f(v: Any, weights: np.ndarray = weights) -> Any:
            return cr.tanh(cr.matmul(weights, v))

        v0 = rng.standard_normal(n)
        jf = np.asarray(cr.jacfwd(f)(v0))
        jr = np.asarray(cr.jacrev(f)(v0))
        assert np.allclose(jf, jr)

        def forward_loop(f: Callable = f, v0: np.ndarray = v0, n: int = n) -> None:
            for i in range(n):
                cr.jvp(f, (v0,), (np.eye(1, n, i)[0],))

        def reverse_loop(f: Callable = f, v0: np.ndarray = v0, m: int = m) -> None:
            _, pullback = cr.vjp(f, v0)
            for i in range(m):
                pullback(np.eye(1, m, i)[0])

        t_fwd = _best_time(lambda f=f, v0=v0: cr.jacfwd(f)(v0), repeat=3)
        t_rev = _best_time(lambda f=f, v0=v0: cr.jacrev(f)(v0), repeat=3)
        l_fwd = _timed(forward_loop)
        l_rev = _timed(reverse_loop)
        rows.append((label, t_fwd, t_rev, l_fwd, l_rev, n, m))
    print(f"  {'Jacobian':<34} {'jacfwd':>10} {'jacrev':>10}   "
          f"{'one jvp per input':>20} {'one vjp per output':>20}", file=out)
    for label, t_fwd, t_rev, l_fwd, l_rev, n, m in rows:
        print(f"  {label:<34} {_ms(t_fwd):>10} {_ms(t_rev):>10}   "
              f"{_ms(l_fwd) + f' ({n})':>20} {_ms(l_rev) + f' ({m})':>20}", file=out)
    weights = [rng.standard_normal((500, 500)) / np.sqrt(500) for _ in range(10)]
    x = cr.tensor(rng.standard_normal((500, 100)), requires_grad=True)  # a batch of 100
    h = x
    for w in weights:
        h = cr.tanh(cr.matmul(w, h))
    kept = _saved_bytes(h.sum())
    print(f"  Intermediate data: ten layers h = tanh(W @ h) of width 500 on a batch of 100\n"
          f"  leave {kept / 1e6:.1f} MB of intermediate values in the recorded graph until "
          "reverse mode's\n  backward pass; forward mode drops each value as soon as the next "
          "one is computed.", file=out)
    print("  (jacfwd / jacrev push all directions in one batched pass; the loops show the\n"
          "  pass counts.) Use forward mode when there are few inputs and many outputs (tall\n"
          "  Jacobians, sensitivities of a simulation to a few parameters): no stored\n"
          "  intermediates, and the directions are independent, so they parallelize. Use\n"
          "  reverse mode when there are many inputs and few outputs: a scalar loss of millions\n"
          "  of parameters costs one backward pass, which is why deep learning trains with\n"
          "  backpropagation.", file=out)

