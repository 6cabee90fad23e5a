"""The guided tour (``chainrule tour``, ``make tour``): the chapter end to end, then its exercises.

The chapter's code runs as a transcript: each statement is printed as at a Python prompt, run,
and its value shown, first in the native API, then in each dialect exactly as the chapter writes
it for MXNet, PyTorch and TensorFlow (only the import line differs). ``assert`` lines check each
result. The exercises are answered with computations: measured costs, the errors chainrule
raises, the plot of sin and sin', the graph of exercise 5, the chain rule on it forward and
backward, and forward versus reverse mode on tall and wide Jacobians.

A section that fails is reported (with its error) and the tour goes on; the exit status is then
1, so a missing feature cannot go unnoticed.
"""

from __future__ import annotations

import ast
import textwrap
import time
import traceback
from collections.abc import Callable, Iterator
from functools import partial
from pathlib import Path
from typing import Any, TextIO

import numpy as np

from .node import Node
from .tensor import Tensor

# ---------------------------------------------------------------------- the chapter's code
NATIVE = '''
import chainrule as cr
x = cr.arange(4.0)
x
x.requires_grad_(True)  # or create it with cr.arange(4.0, requires_grad=True)
x.grad                  # None until a backward pass writes it
y = 2 * cr.dot(x, x)
y
y.backward()
x.grad
x.grad == 4 * x
assert (x.grad == 4 * x).all()
x.grad.zero_()          # the native API accumulates, as PyTorch does
y = x.sum()
y.backward()
x.grad
assert (x.grad == 1).all()
x.grad.zero_()
y = x * x
y.backward(gradient=cr.ones(len(y)))  # faster: y.sum().backward()
x.grad
assert (x.grad == 2 * x).all()
x.grad.zero_()
y = x * x
u = y.detach()
z = u * x
z.sum().backward()
x.grad == u
assert (x.grad == u).all()
x.grad.zero_()
y.sum().backward()
x.grad == 2 * x
assert (x.grad == 2 * x).all()
def f(a):
    b = a * 2
    while cr.linalg.norm(b) < 1000:
        b = b * 2
    if b.sum() > 0:
        c = b
    else:
        c = 100 * b
    return c
cr.random.seed(0)
a = cr.random.randn(size=(), requires_grad=True)
d = f(a)
d.backward()
a.grad == d / a
assert abs(a.grad.item() - (d / a).item()) <= 1e-5 * abs((d / a).item())  # float32 rounding
'''

PYTORCH = '''
import chainrule.torch as torch
x = torch.arange(4.0)
x
x.requires_grad_(True)
x.grad
y = 2 * torch.dot(x, x)
y
y.backward()
x.grad
x.grad == 4 * x
assert (x.grad == 4 * x).all()
x.grad.zero_()
y = x.sum()
y.backward()
x.grad
assert (x.grad == 1).all()
x.grad.zero_()
y = x * x
y.backward(gradient=torch.ones(len(y)))
x.grad
assert (x.grad == 2 * x).all()
x.grad.zero_()
y = x * x
u = y.detach()
z = u * x
z.sum().backward()
x.grad == u
assert (x.grad == u).all()
x.grad.zero_()
y.sum().backward()
x.grad == 2 * x
assert (x.grad == 2 * x).all()
def f(a):
    b = a * 2
    while b.norm() < 1000:
        b = b * 2
    if b.sum() > 0:
        c = b
    else:
        c = 100 * b
    return c
a = torch.randn(size=(), requires_grad=True)
d = f(a)
d.backward()
a.grad == d / a
assert abs(a.grad.item() - (d / a).item()) <= 1e-5 * abs((d / a).item())  # float32 rounding
'''

MXNET = '''
from chainrule.mxnet import autograd, np, npx
npx.set_np()
x = np.arange(4.0)
x
x.attach_grad()
x.grad                  # zeros: MXNet allocates the buffer
with autograd.record():
    y = 2 * np.dot(x, x)
y
y.backward()
x.grad
x.grad == 4 * x
assert (x.grad == 4 * x).all()
with autograd.record():
    y = x.sum()
y.backward()
x.grad                  # overwritten, not accumulated
assert (x.grad == 1).all()
with autograd.record():
    y = x * x
y.backward()            # a non-scalar y is summed first
x.grad
assert (x.grad == 2 * x).all()
with autograd.record():
    y = x * x
    u = y.detach()
    z = u * x
z.backward()
x.grad == u
assert (x.grad == u).all()
y.backward()
x.grad == 2 * x
assert (x.grad == 2 * x).all()
def f(a):
    b = a * 2
    while np.linalg.norm(b) < 1000:
        b = b * 2
    if b.sum() > 0:
        c = b
    else:
        c = 100 * b
    return c
a = np.random.normal()
a.attach_grad()
with autograd.record():
    d = f(a)
d.backward()
a.grad == d / a
assert abs(a.grad.item() - (d / a).item()) <= 1e-5 * abs((d / a).item())  # float32 rounding
'''

TENSORFLOW = '''
import chainrule.tensorflow as tf
x = tf.range(4, dtype=tf.float32)
x
x = tf.Variable(x)
with tf.GradientTape() as t:
    y = 2 * tf.tensordot(x, x, axes=1)
y
x_grad = t.gradient(y, x)
x_grad
x_grad == 4 * x
assert bool(tf.reduce_all(x_grad == 4 * x))
with tf.GradientTape() as t:
    y = tf.reduce_sum(x)
x_grad = t.gradient(y, x)
x_grad                  # a new tensor each time
assert bool(tf.reduce_all(x_grad == 1))
with tf.GradientTape() as t:
    y = x * x
x_grad = t.gradient(y, x)
x_grad                  # same as y = tf.reduce_sum(x * x)
assert bool(tf.reduce_all(x_grad == 2 * x))
with tf.GradientTape(persistent=True) as t:
    y = x * x
    u = tf.stop_gradient(y)
    z = u * x
x_grad = t.gradient(z, x)
x_grad == u
assert bool(tf.reduce_all(x_grad == u))
t.gradient(y, x) == 2 * x
assert bool(tf.reduce_all(t.gradient(y, x) == 2 * x))
def f(a):
    b = a * 2
    while tf.norm(b) < 1000:
        b = b * 2
    if tf.reduce_sum(b) > 0:
        c = b
    else:
        c = 100 * b
    return c
a = tf.Variable(tf.random.normal(shape=()))
with tf.GradientTape() as t:
    d = f(a)
d_grad = t.gradient(d, a)
d_grad
d_grad == d / a
assert abs(float(d_grad) - float(d / a)) <= 1e-5 * abs(float(d / a))  # float32 rounding
'''


def transcript(code: str, out: TextIO, namespace: dict | None = None) -> dict:
    """Run ``code`` statement by statement, printing each with its value, as at a prompt."""
    namespace = {} if namespace is None else namespace
    source = textwrap.dedent(code).strip("\n")
    lines = source.splitlines()
    tree = ast.parse(source)
    for statement in tree.body:
        text = lines[statement.lineno - 1: statement.end_lineno]
        print(">>> " + text[0], file=out)
        for line in text[1:]:
            print("... " + line, file=out)
        if isinstance(statement, ast.Expr):
            code_object = compile(ast.Expression(statement.value), "<tour>", "eval")
            value = eval(code_object, namespace)  # noqa: S307 - the tour's own code
            if value is not None or not isinstance(statement.value, ast.Call):
                print(textwrap.indent(repr(value), "    "), file=out)  # x.grad: None, shown
        else:
            module = ast.Module(body=[statement], type_ignores=[])
            exec(compile(module, "<tour>", "exec"), namespace)  # noqa: S102 - the tour's own code
    return namespace


# ---------------------------------------------------------------------- helpers
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


def _first_line(error: BaseException) -> str:
    return f"{type(error).__name__}: {str(error).splitlines()[0] if str(error) else ''}"


# ---------------------------------------------------------------------- the exercises
def exercise_1(out: TextIO) -> None:
    import chainrule as cr

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
    import chainrule as cr

    print("Run backward twice, immediately:", file=out)
    x = cr.arange(4.0, requires_grad=True)
    y = 2 * cr.dot(x, x)
    y.backward()
    print(f"  first y.backward(): x.grad = {x.grad}", file=out)
    try:
        y.backward()
    except RuntimeError as error:
        print(f"  second y.backward() raises {_first_line(error)}", file=out)
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
        print(f"  a non-persistent GradientTape used twice raises {_first_line(error)}",
              file=out)
    else:
        raise AssertionError("a non-persistent tape used twice should have raised")


def _control_flow(a: Any) -> Any:
    import chainrule as cr

    b = a * 2
    while cr.linalg.norm(b) < 1000:
        b = b * 2
    if b.sum() > 0:
        c = b
    else:
        c = 100 * b
    return c


def exercise_3(out: TextIO) -> None:
    import chainrule as cr

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
            print(f"  a of shape {shape}: d.backward() raises {_first_line(error)}", file=out)
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
    import chainrule as cr

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
    import chainrule as cr

    return cr.log(x ** 2) * cr.sin(x) + 1 / x


def exercise_5(out: TextIO, directory: Path) -> list[Path]:
    import chainrule as cr

    x = cr.tensor(2.0, dtype="float64", requires_grad=True)
    graph = cr.graph(exercise_f(x), names={"x": x}, grads=True,
                     title="f(x) = log(x**2) * sin(x) + 1/x at x = 2")
    print("cr.graph(cr.log(x ** 2) * cr.sin(x) + 1 / x): the dependency graph recorded from x\n"
          "to f, in evaluation order (value; grad = df/d(node), by one extra backward pass):",
          file=out)
    for vertex in graph.vertices:
        if vertex.kind != "constant":
            inputs = ", ".join(
                next(v.label if v.kind != "constant" else v.name for v in graph.vertices
                     if v.key == key)
                for key in vertex.inputs
            )
            what = f"{vertex.name}({inputs})" if vertex.kind == "op" else vertex.name
            print(f"  {vertex.label} = {what:<22} value {float(vertex.value):9.6f}   "
                  f"grad {float(vertex.grad):9.6f}", file=out)
    paths = [graph.save(directory / "exercise5_graph.svg"),
             graph.save(directory / "exercise5_graph.png")]
    engine = "Graphviz dot" if graph._use_dot() else "the built-in layout (no Graphviz)"
    for path in paths:
        print(f"  wrote {path} ({engine})", file=out)
    return paths


def exercises_6_7(out: TextIO) -> None:
    import chainrule as cr

    forward = cr.explain(exercise_f, 2.0, mode="forward", file=out)
    print(file=out)
    reverse = cr.explain(exercise_f, 2.0, mode="reverse", file=out)
    exact = 2 * np.sin(2.0) / 2.0 + np.log(4.0) * np.cos(2.0) - 1 / 4.0
    print(f"\nboth ways: {forward.derivative:.12g} and {reverse.derivative:.12g}; by hand\n"
          f"f'(x) = 2 sin(x)/x + log(x**2) cos(x) - 1/x**2 = {exact:.12g}", file=out)
    assert abs(forward.derivative - exact) < 1e-12 and abs(reverse.derivative - exact) < 1e-12


def exercise_8(out: TextIO) -> None:
    import chainrule as cr

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


# ---------------------------------------------------------------------- driver
def sections(directory: Path) -> list[tuple[str, Callable[[TextIO], Any]]]:
    return [
        ("The chapter in the native API (import chainrule as cr)", partial(transcript, NATIVE)),
        ("The chapter in the PyTorch dialect (import chainrule.torch as torch)",
         partial(transcript, PYTORCH)),
        ("The chapter in the MXNet dialect (from chainrule.mxnet import autograd, np, npx)",
         partial(transcript, MXNET)),
        ("The chapter in the TensorFlow dialect (import chainrule.tensorflow as tf)",
         partial(transcript, TENSORFLOW)),
        ("Exercise 1: the cost of a second derivative", exercise_1),
        ("Exercise 2: running backward twice", exercise_2),
        ("Exercise 3: control flow with a vector or matrix a", exercise_3),
        ("Exercise 4: plot sin and its derivative", lambda out: exercise_4(out, directory)),
        ("Exercise 5: the dependency graph of f(x) = log(x**2) sin(x) + 1/x",
         lambda out: exercise_5(out, directory)),
        ("Exercises 6 and 7: the chain rule on that graph, forward and reverse", exercises_6_7),
        ("Exercise 8: forward or reverse mode?", exercise_8),
    ]


def run(directory: str | Path = "tour-output", out: TextIO | None = None,
        only: list[int] | None = None) -> int:
    """Run the tour, writing its images into ``directory``; return the exit status."""
    import sys

    out = sys.stdout if out is None else out
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    chosen = sections(directory)
    failures = []
    start = time.perf_counter()
    for number, (title, section) in enumerate(chosen, 1):
        if only and number not in only:
            continue
        print(f"\n[{number}/{len(chosen)}] {title}", file=out)
        print("-" * min(100, len(title) + 8), file=out)
        began = time.perf_counter()
        try:
            section(out)
        except Exception as error:  # report it, keep going, fail at the end
            failures.append((number, title, error))
            print(f"!! section {number} FAILED: {_first_line(error)}", file=out)
            print(textwrap.indent("".join(traceback.format_exception(error)[-3:]), "   "),
                  file=out)
        print(f"   ({time.perf_counter() - began:.2f} s)", file=out)
        out.flush()
    elapsed = time.perf_counter() - start
    print(file=out)
    if failures:
        print(f"tour finished in {elapsed:.1f} s with {len(failures)} failed section(s): "
              + ", ".join(str(number) for number, _, _ in failures), file=out)
        return 1
    print(f"tour finished in {elapsed:.1f} s; images in {directory}/", file=out)
    return 0
