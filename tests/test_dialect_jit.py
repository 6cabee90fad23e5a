"""``torch.compile`` and ``tf.function`` are ``cr.jit``: the chapter's examples in each spelling,
compiled, give the eager results (and leave the eager state) on the first call, which traces,
and on later calls with new values, which replay; the arguments are checked as the frameworks
check them."""

from __future__ import annotations

import contextlib
import doctest
import importlib
import inspect
import warnings

import numpy as onp
import pytest

import chainrule as cr
import chainrule.tensorflow as tf
import chainrule.torch as torch

RNG = onp.random.default_rng(0)
BATCHES = [(RNG.normal(size=(8, 2)).astype(onp.float32),
            RNG.normal(size=(8, 1)).astype(onp.float32)) for _ in range(5)]
W0 = onp.array([[0.5], [-0.3]], onp.float32)


def _np(value):
    if isinstance(value, (tuple, list)):
        return [_np(v) for v in value]
    if value is None or isinstance(value, onp.ndarray):
        return value
    return onp.asarray(value.detach().numpy() if hasattr(value, "detach") else value.numpy())


def _same(ours, theirs) -> None:
    ours, theirs = _np(ours), _np(theirs)
    if isinstance(theirs, list):
        assert len(ours) == len(theirs)
        for a, b in zip(ours, theirs, strict=True):
            _same(a, b)
        return
    assert ours.dtype == theirs.dtype and ours.shape == theirs.shape
    onp.testing.assert_allclose(ours, theirs, rtol=1e-6, atol=1e-7)


@contextlib.contextmanager
def _no_warnings():
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a JitWarning would mean the dialect call ran eagerly
        yield


@pytest.mark.parametrize("name", ["chainrule.torch.compiler", "chainrule.tensorflow._function"])
def test_docstring_examples(name) -> None:
    module = importlib.import_module(name)
    failures, tried = doctest.testmod(module, optionflags=doctest.NORMALIZE_WHITESPACE)
    assert failures == 0 and tried > 0


# ---------------------------------------------------------------- PyTorch
def torch_training(compile_step, batches=BATCHES):
    """The chapter's linear regression step, PyTorch style: backward() and an SGD update on
    parameters the step closes over; the losses and parameters after each batch."""
    w = torch.tensor(W0.copy(), requires_grad=True)
    b = torch.zeros(1, requires_grad=True)
    runs = []

    def step(X, y):
        nonlocal w, b  # ``w -= ...`` is in place, and rebinds the name to the same tensor
        runs.append(1)
        loss = ((X @ w + b - y) ** 2 / 2).mean()
        loss.backward()
        with torch.no_grad():
            w -= 0.03 * w.grad
            b -= 0.03 * b.grad
            w.grad.zero_()
            b.grad.zero_()
        return loss.detach()

    step = compile_step(step)
    history = []
    for X, y in batches:
        loss = step(torch.from_numpy(X), torch.from_numpy(y))
        history.append((loss, w.detach().clone(), b.detach().clone(), w.grad.clone()))
    return history, len(runs)


@pytest.mark.parametrize("compile_step", [
    torch.compile, torch.compile(), torch.compile(mode="max-autotune", fullgraph=True),
    lambda f: torch.compile(f, dynamic=False, backend="eager", options={"x": 1}),
])
def test_compiled_training_step_is_the_eager_one(compile_step) -> None:
    eager, runs = torch_training(lambda f: f)
    with _no_warnings():
        compiled, traces = torch_training(compile_step)
    _same(compiled, eager)
    # traced twice (the first backward() creates .grad: that call cannot be replayed), then
    # replayed
    assert runs == len(BATCHES) and traces == 2


def test_compiled_full_batch_descent_is_the_eager_one() -> None:
    batches = BATCHES[:1] * 4  # the same batch: only the parameters change
    eager, _ = torch_training(lambda f: f, batches)
    with _no_warnings():
        compiled, traces = torch_training(torch.compile, batches)
    _same(compiled, eager)
    assert traces == 2


def _sgd_training(lib, compile_step, momentum: float, set_to_none: bool) -> list:
    """torch.optim.SGD on a parameter the step closes over: losses and parameters."""
    w = lib.tensor(W0.copy(), requires_grad=True)
    optimizer = lib.optim.SGD([w], lr=0.1, momentum=momentum, weight_decay=0.01)

    def step(X, y):
        loss = ((X @ w - y) ** 2).mean()
        loss.backward()
        optimizer.step()
        optimizer.zero_grad(set_to_none=set_to_none)
        return loss.detach()

    step = compile_step(step)
    return [(step(lib.from_numpy(X), lib.from_numpy(y)), w.detach().clone())
            for X, y in BATCHES * 2]


@pytest.mark.parametrize("set_to_none", [True, False])
@pytest.mark.parametrize("momentum", [0.0, 0.9])
def test_compiled_sgd_is_the_eager_one(momentum, set_to_none) -> None:
    """The velocity is a buffer of the optimizer's own, updated in place: replayed, and not
    p.grad itself (which zero_grad(set_to_none=False) would zero), as PyTorch's."""
    eager = _sgd_training(torch, lambda f: f, momentum, set_to_none)
    with _no_warnings():
        _same(_sgd_training(torch, torch.compile, momentum, set_to_none), eager)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)  # importing PyTorch
        real = pytest.importorskip("torch")
    _same(eager, _sgd_training(real, lambda f: f, momentum, set_to_none))


def _tensor_writes(compile_step, how: str) -> list:
    """A parameter updated by ``copy_`` (written in place: replayed) or by assigning
    ``.data`` (a new array bound at each call: the call runs eagerly)."""
    w = torch.tensor(W0.copy(), requires_grad=True)
    view = w.detach()[0]

    def step(X, y):
        loss = ((X @ w - y) ** 2).mean()
        loss.backward()
        if how == "copy_":
            with torch.no_grad():
                w.copy_(w - 0.1 * w.grad)
        else:
            w.data = w.data - 0.1 * w.grad
        w.grad.zero_()
        return loss.detach(), view.clone()

    step = compile_step(step)
    return [(*step(torch.from_numpy(X), torch.from_numpy(y)), w.detach().clone())
            for X, y in BATCHES]


def test_compiled_copy_is_the_eager_one() -> None:
    eager = _tensor_writes(lambda f: f, "copy_")
    with _no_warnings():
        _same(_tensor_writes(torch.compile, "copy_"), eager)


def test_compiled_data_assignment_runs_eagerly() -> None:
    eager = _tensor_writes(lambda f: f, "data")
    with pytest.warns(cr.tracing.JitWarning, match="stores new arrays into Python objects"):
        _same(_tensor_writes(torch.compile, "data"), eager)



def _data_bound(compile_step) -> list:
    """``w.data = other`` binds another tensor's array (whose values change between calls)
    after ``w`` was read: a replay would read the array ``w`` had when traced."""
    w, sources = torch.tensor([1.0, 2.0]), []

    def step(x):
        y = w * x
        w.data = sources[-1]
        return y

    step = compile_step(step)
    history = []
    for value in [10.0, 100.0, 5.0, 7.0]:
        sources.append(torch.tensor([value, -value]))
        history.append((step(torch.tensor([1.0, value])), w.clone()))
    return history


def test_compiled_data_binding_another_tensor_runs_eagerly() -> None:
    with pytest.warns(cr.tracing.JitWarning, match="stores new arrays into Python objects"):
        _same(_data_bound(torch.compile), _data_bound(lambda f: f))

def _control_flow(x):
    """The chapter's f(a): a while loop and an if on values, differentiated with backward()."""
    a = x.clone().requires_grad_()
    b = a * 2
    while b.norm() < 1000:
        b = b * 2
    c = b if b.sum() > 0 else 100 * b
    c.backward()
    return c.detach(), a.grad


def test_compiled_control_flow_is_the_eager_one() -> None:
    f = torch.compile(_control_flow)
    with _no_warnings():
        for value in [2.0, 0.7, -0.3, 3.0, 2.0, -0.3]:
            x = torch.tensor(value)
            _same(f(x), _control_flow(x))


class Linear:
    """A model: parameters held as attributes, called through ``forward``."""

    def __init__(self) -> None:
        self.weight = torch.tensor(W0.copy(), requires_grad=True)
        self.bias = torch.zeros(1, requires_grad=True)

    def forward(self, X):
        return X @ self.weight + self.bias

    def __call__(self, X):
        return self.forward(X)


def _module_training(model, compiled) -> list:
    history = []
    for X, y in BATCHES:
        loss = ((compiled(torch.from_numpy(X)) - torch.from_numpy(y)) ** 2).mean()
        loss.backward()
        with torch.no_grad():
            for p in (model.weight, model.bias):
                p -= 0.1 * p.grad
                p.grad = None
        history.append((loss.detach(), model.weight.detach().clone()))
    return history


def test_compiled_module_is_the_module_with_jitted_calls() -> None:
    eager_model, model = Linear(), Linear()
    compiled = torch.compile(model)
    assert type(compiled).__name__ == "OptimizedModule" and compiled._orig_mod is model
    assert compiled.weight is model.weight and compiled.forward == model.forward
    compiled.scale = 2.0  # attributes are the module's, as PyTorch's wrapper makes them
    assert model.scale == 2.0
    with _no_warnings(), torch.no_grad():  # inference: replayed
        for X, _ in BATCHES:
            _same(compiled(torch.from_numpy(X)), eager_model(torch.from_numpy(X)))
    # Training with backward() outside the compiled call: its output carries a graph, which a
    # replay cannot give, so the calls run eagerly (said once), with the eager results.
    with pytest.warns(cr.tracing.JitWarning, match="graph to differentiate later"):
        ours = _module_training(model, compiled)
    _same(ours, _module_training(eager_model, eager_model))


def test_disable_and_functions_compiled() -> None:
    def f(x):
        return (x * x).sum()

    assert torch.compile(f, disable=True) is f
    assert torch.compile(disable=True)(f) is f
    compiled = torch.compile(f)
    assert isinstance(compiled, cr.tracing.Jitted) and compiled.__name__ == "f"
    assert torch.compile(compiled) is compiled


def test_is_compiling_inside_the_traced_call() -> None:
    seen = []

    @torch.compile
    def f(x):
        seen.append(torch.compiler.is_compiling())
        return x + 1

    _same(f(torch.tensor([1.0])), torch.tensor([2.0]))
    _same(f(torch.tensor([2.0])), torch.tensor([3.0]))  # replayed: the Python body does not run
    assert seen == [True] and not torch.compiler.is_compiling()


COMPILE_ERRORS = [
    ((lambda x: x,), {"mode": "bogus"}, RuntimeError, "Unrecognized mode=bogus"),
    ((lambda x: x,), {"mode": "default", "options": {}}, RuntimeError, "Either mode or options"),
    ((lambda x: x,), {"backend": "nope"}, RuntimeError, "Invalid backend: 'nope'"),
    ((3,), {}, AssertionError, "A callable function is expected"),
]


def _refusal(module, args, kwargs, error, message) -> None:
    with pytest.raises(error, match=message):
        module.compile(*args, **kwargs)
    if args:  # as a decorator: refused when applied
        decorator = module.compile(**kwargs)
        with pytest.raises(error, match=message):
            decorator(*args)


@pytest.mark.parametrize(("args", "kwargs", "error", "message"), COMPILE_ERRORS)
def test_compile_refuses_what_pytorch_refuses(args, kwargs, error, message) -> None:
    _refusal(torch, args, kwargs, error, message)


@pytest.mark.parametrize(("args", "kwargs", "error", "message"), COMPILE_ERRORS)
@pytest.mark.filterwarnings("ignore::DeprecationWarning")  # importing PyTorch
def test_pytorch_refuses_the_same(args, kwargs, error, message) -> None:
    _refusal(pytest.importorskip("torch"), args, kwargs, error, message)


@pytest.mark.filterwarnings("ignore::DeprecationWarning")
def test_compile_signature_is_pytorchs() -> None:
    real = pytest.importorskip("torch")
    theirs = inspect.signature(real.compile).parameters
    for name, parameter in inspect.signature(torch.compile).parameters.items():
        assert theirs[name].kind == parameter.kind
        if name != "backend":  # PyTorch's default is "inductor", chosen when it is None
            assert theirs[name].default == parameter.default, name
    assert set(real._inductor.list_mode_options()) == set(torch.compiler.MODES)
    assert set(real._dynamo.list_backends()) <= set(torch.compiler.BACKENDS)


# ---------------------------------------------------------------- TensorFlow
def tf_training(function):
    """The chapter's linear regression step, TensorFlow style: a tape inside the function and
    variables updated with assign_sub."""
    w, b = tf.Variable(W0.copy()), tf.Variable(tf.zeros(1))
    runs = []

    @function
    def step(X, y):
        runs.append(1)
        with tf.GradientTape() as tape:
            loss = tf.reduce_mean((tf.matmul(X, w) + b - y) ** 2 / 2)
        dw, db = tape.gradient(loss, [w, b])
        w.assign_sub(0.03 * dw)
        b.assign_sub(0.03 * db)
        return loss, dw

    return [(*step(tf.constant(X), tf.constant(y)), tf.identity(w), tf.identity(b))
            for X, y in BATCHES], len(runs)


@pytest.mark.parametrize("function", [
    tf.function, tf.function(), tf.function(jit_compile=True, reduce_retracing=True,
                                            autograph=False, experimental_relax_shapes=True),
    tf.function(input_signature=[tf.TensorSpec([None, 2]), tf.TensorSpec([None, 1])]),
])
def test_tf_function_training_step_is_the_eager_one(function) -> None:
    eager, runs = tf_training(lambda f: f)
    with _no_warnings():
        ours, traces = tf_training(function)
    _same(ours, eager)
    assert runs == len(BATCHES) and traces <= len(BATCHES)


def test_tf_function_training_step_replays() -> None:
    with _no_warnings():
        _, traces = tf_training(tf.function)
    assert traces == 1


def test_tf_function_variable_assignment_is_the_eager_one() -> None:
    def run(function) -> list:
        v = tf.Variable([1.0])

        @function
        def f(x):
            v.assign_add(x)
            return v * 1

        # the same value each time: the value guard that an assignment leaves passes
        return [(f(tf.constant([1.0])), tf.identity(v)) for _ in range(3)]

    with _no_warnings():
        ours = run(tf.function)
    _same(ours, run(lambda f: f))


def test_tf_function_full_batch_descent_is_the_eager_one() -> None:
    X, y = (tf.constant(a) for a in BATCHES[0])

    def run(function) -> list:
        w = tf.Variable(W0.copy())

        @function
        def step(X, y):
            with tf.GradientTape() as tape:
                loss = tf.reduce_mean((tf.matmul(X, w) - y) ** 2)
            w.assign_sub(0.1 * tape.gradient(loss, w))
            return loss

        return [(step(X, y), tf.identity(w)) for _ in range(4)]

    with _no_warnings():
        ours = run(tf.function)
    _same(ours, run(lambda f: f))


def _tf_descent(function, steps: int = 10):
    """Full-batch descent written by hand (a tape, assign_sub): the losses and the parameters
    after each step, and how many calls ran the Python function."""
    w, b = tf.Variable(W0.copy()), tf.Variable(tf.zeros(1))
    runs = []

    def step(X, y):
        runs.append(1)
        with tf.GradientTape() as tape:
            loss = tf.reduce_mean((tf.matmul(X, w) + b - y) ** 2)
        dw, db = tape.gradient(loss, [w, b])
        w.assign_sub(0.1 * dw)
        b.assign(b - 0.1 * db)
        return loss

    step = function(step)
    history = [(step(*map(tf.constant, BATCHES[i % 2])), w.numpy(), b.numpy())
               for i in range(steps)]
    return history, len(runs), step


def test_tf_function_descent_replays_bitwise() -> None:
    """Ten steps replayed from one trace give bitwise the eager parameters; the program gives
    the variables new arrays, as eagerly, and checks no value (a guard would trace again at
    each step)."""
    eager, _, _ = _tf_descent(lambda f: f)
    with _no_warnings():
        ours, runs, step = _tf_descent(tf.function)
    for mine, theirs in zip(ours, eager, strict=True):
        for a, b in zip(_np(list(mine)), _np(list(theirs)), strict=True):
            onp.testing.assert_array_equal(a, b)
            assert a.dtype == b.dtype
    assert runs == 1
    program = str(cr.jit(step.python_function).trace(*map(tf.constant, BATCHES[0])))
    assert program.count("._array = ") == 2 and "same(" not in program
    assert "._version[0]" not in program  # (a new array: no write into the old one)


def _tf_assignments(function):
    """Assignments by TensorFlow's conversions: a float64 tensor or a NumPy float64 array cast
    to a float32 variable, a Python int to an int32 one; a shape mismatch refused with
    TensorFlow's message, leaving the variable as it was."""
    v, n = tf.Variable([1.0, 2.0]), tf.Variable([3, 4])

    @function
    def f(x, y):
        v.assign(tf.cast(x, tf.float64) * 3)
        v.assign_add(onp.array([0.25, 0.5]))
        v.assign_sub(y)
        n.assign_add(2)
        return v + 1, n * 1

    history = [(*f(tf.constant([i, 1.0]), tf.constant([0.5, i])), v.numpy(), n.numpy())
               for i in (1.0, 2.0, 3.0)]
    with pytest.raises(ValueError, match=r"Cannot assign value to variable ' Variable:0': "
                       r"Shape mismatch. The variable shape \(2,\), and the assigned value "
                       r"shape \(3,\) are incompatible."):
        f(tf.constant([1.0, 2.0, 3.0]), tf.constant([0.5, 0.5, 0.5]))
    return [*history, v.numpy(), n.numpy()]


def test_tf_function_assignment_converts_as_eagerly() -> None:
    eager = _tf_assignments(lambda f: f)
    assert eager[-2].dtype == onp.float32 and eager[-1].dtype == onp.int32
    with _no_warnings():
        _same(_tf_assignments(tf.function), eager)


def test_tf_variable_reads_keep_their_value() -> None:
    """What was read from a variable keeps its value after an assignment (TensorFlow gives the
    variable a new buffer): a .numpy() taken between jitted steps, and eagerly a slice and the
    values a tape saved."""
    w = tf.Variable([1.0, 2.0])
    step = tf.function(lambda x: w.assign_add(x) * 1)
    with _no_warnings():
        before = [(w.numpy(), step(tf.constant([1.0, 1.0])).numpy()) for _ in range(3)]
    onp.testing.assert_array_equal([b for b, _ in before], [[1, 2], [2, 3], [3, 4]])
    onp.testing.assert_array_equal(w.numpy(), [4, 5])
    part, version = w[0:1], w._version[0]
    with tf.GradientTape() as tape:
        loss = tf.reduce_sum(w * w)
    w.assign_sub([4.0, 4.0])
    onp.testing.assert_array_equal(part.numpy(), [4])
    onp.testing.assert_array_equal(tape.gradient(loss, w).numpy(), [8, 10])
    assert w._version[0] == version  # (eagerly a new buffer: nothing saved was overwritten)


def test_tf_function_reads_before_an_assignment_keep_their_value() -> None:
    """A view of the variable that the call still holds when it assigns keeps the old value:
    the variable gets a new buffer, at the trace and at each replay."""
    def run(function) -> list:
        w = tf.Variable([1.0, 2.0])

        @function
        def f(x):
            part = tf.reshape(w, (2, 1))
            w.assign_add(x)
            return tf.identity(part), w * 1

        return [f(tf.constant([1.0, i])) for i in (1.0, 2.0, 3.0, 4.0)]

    with _no_warnings():
        ours = run(tf.function)
    _same(ours, run(lambda f: f))


def test_tf_function_views_taken_outside_keep_their_value() -> None:
    """A view taken outside the call keeps the value it saw: an assignment gives the variable
    a new buffer, at each replay too."""
    def run(function) -> list:
        w = tf.Variable([1.0, 2.0])
        step = function(lambda x: w.assign_add(x) * 1)
        first = w[0]
        return [(step(tf.constant([1.0, 1.0])), tf.identity(first)) for _ in range(3)]

    _same(run(tf.function), run(lambda f: f))


def test_tf_function_gradient_after_an_assignment() -> None:
    """What a tape saved before an assignment keeps the old value: the gradient is the eager
    one (the saved values are not overwritten)."""
    def run(function) -> list:
        w = tf.Variable([1.0, 2.0])

        @function
        def f(x):
            with tf.GradientTape() as tape:
                loss = tf.reduce_sum(w * w * x)
            w.assign_sub(x)
            return tape.gradient(loss, w)

        return [f(tf.constant([1.0, i])) for i in (1.0, 2.0, 3.0)]

    _same(run(tf.function), run(lambda f: f))


def _tf_control_flow(a):
    with tf.GradientTape() as tape:
        tape.watch(a)
        b = a * 2
        while tf.norm(b) < 1000:
            b = b * 2
        c = b if tf.reduce_sum(b) > 0 else 100 * b
    return c, tape.gradient(c, a)


def test_tf_function_control_flow_is_the_eager_one() -> None:
    f = tf.function(_tf_control_flow)
    assert isinstance(f, cr.tracing.Jitted) and f.python_function is _tf_control_flow
    with _no_warnings():
        for value in [-0.3, 0.7, 5.0, -0.3, 0.7]:
            _same(f(tf.constant(value)), _tf_control_flow(tf.constant(value)))


def test_tf_function_on_a_method() -> None:
    class Model:
        def __init__(self) -> None:
            self.w = tf.Variable([1.0, 2.0])

        @tf.function
        def __call__(self, x):
            return tf.reduce_sum(self.w * x)

        @tf.function(input_signature=[tf.TensorSpec([2])])
        def scaled(self, x):
            return self.w * x

    model = Model()
    with _no_warnings():
        for value in [1.0, 2.0, 3.0]:
            _same(model(tf.constant([value, 1.0])), tf.constant(value + 2.0))
            _same(model.scaled([value, 1.0]), tf.constant([value, 2.0]))
    with pytest.raises(TypeError, match=r"Can not cast .* for signature: \(x: TensorSpec"):
        model.scaled([1.0, 2.0, 3.0])
    assert Model.scaled.input_signature == (tf.TensorSpec([2]),)


def test_input_signature_checks_and_converts() -> None:
    @tf.function(input_signature=[tf.TensorSpec(shape=[None, 2], dtype=tf.float32),
                                  [tf.TensorSpec(None, tf.int32), tf.TensorSpec([], tf.float32)]])
    def f(x, pair):
        return tf.reduce_sum(x) * tf.cast(tf.reduce_sum(pair[0]), tf.float32) + pair[1]

    assert f(tf.ones((3, 2)), [tf.constant([1, 2]), 1.0]).numpy() == 19.0
    assert f([[1.0, 2.0]], [[[1]], tf.constant(0.5)]).numpy() == 3.5  # lists converted
    mismatches = [
        ((tf.ones((3, 3)), [tf.constant(1), 1.0]), "Can not cast TensorSpec.shape=.3, 3."),
        ((tf.ones(2), [tf.constant(1), 1.0]), "Can not cast"),  # rank
        ((tf.ones((1, 2), dtype=tf.float64), [tf.constant(1), 1.0]), "dtype=tf.float64"),
        ((tf.ones((1, 2)), [tf.constant(1.0), 1.0]), "dtype=tf.float32, name=None. to "
                                                     "TensorSpec.shape=None, dtype=tf.int32"),
        ((tf.ones((1, 2)), tf.constant(1)), "Can not cast"),  # structure
        ((tf.ones((1, 2)),), "missing a required argument"),
        ((tf.ones((1, 2)), [tf.constant(1), 1.0], 3), "too many positional arguments"),
        ((tf.ones((1, 2)), [tf.constant(1), 1.5 + 1j]), "Cannot convert"),
    ]
    for args, message in mismatches:
        with pytest.raises(TypeError, match="Binding inputs to tf.function `f` failed") as info:
            f(*args)
        assert info.match(message)
    with pytest.raises(TypeError, match="input_signature must be either a tuple or a list"):
        tf.function(lambda x: x, input_signature=tf.TensorSpec([2]))
    with pytest.raises(TypeError, match="input_signature must hold tf.TensorSpec"):
        tf.function(lambda x: x, input_signature=[3])(tf.ones(2))


def test_tensor_spec() -> None:
    spec = tf.TensorSpec([None, 3], tf.float32, name="x")
    assert repr(spec) == "TensorSpec(shape=(None, 3), dtype=tf.float32, name='x')"
    assert spec.shape.as_list() == [None, 3] and spec.dtype == tf.float32
    assert spec.is_compatible_with(tf.ones((5, 3))) and not spec.is_compatible_with(tf.ones(3))
    assert spec == tf.TensorSpec((None, 3), tf.float32, "x") != tf.TensorSpec([None, 3])
    assert tf.TensorSpec.from_tensor(tf.constant([1, 2])) == tf.TensorSpec([2], tf.int32)


def test_tf_function_signature_is_tensorflows() -> None:
    # TensorFlow 2.13-2.16 (its documentation: tf.function); the real one where installed.
    documented = ["func", "input_signature", "autograph", "jit_compile", "reduce_retracing",
                  "experimental_implements", "experimental_autograph_options",
                  "experimental_attributes", "experimental_relax_shapes", "experimental_compile",
                  "experimental_follow_type_hints"]
    ours = inspect.signature(tf.function).parameters
    assert list(ours) == documented
    assert ours["autograph"].default is True and ours["reduce_retracing"].default is False
    try:
        import tensorflow as real
    except ImportError:
        return
    assert list(inspect.signature(real.function).parameters) == documented



_TRAINING_SCRIPT = """
import chainrule.torch as torch
torch.manual_seed(0)
w1 = torch.randn(4, 8, requires_grad=True); b1 = torch.zeros(8, requires_grad=True)
w2 = torch.randn(8, 1, requires_grad=True)
opt = torch.optim.SGD([w1, b1, w2], lr=1e-2, momentum=0.9)
x, y = torch.randn(32, 4), torch.randn(32, 1)

class Model:
    training = True

    def __call__(self, x):
        h = torch.nn.functional.dropout(torch.tanh(x @ w1 + b1), 0.1, training=self.training)
        return h @ w2

model = Model()

def step(x, y):
    opt.zero_grad(set_to_none=False)
    loss = ((model(x) - y) ** 2).mean()
    loss.backward()
    opt.step()
    return loss.detach()
"""


def _training_script(compile_step):
    """A training script's module (its globals): SGD with momentum (velocity buffers made at
    the first step, in a dict keyed by id), a model whose parameters only its method's
    globals name, dropout off after six steps. The losses, the parameters, the step."""
    namespace = {"__name__": "training_script"}
    exec(_TRAINING_SCRIPT, namespace)  # noqa: S102 - the test's own source
    step = compile_step(namespace["step"])
    losses = []
    for k in range(9):
        namespace["model"].training = k < 6
        losses.append(step(namespace["x"], namespace["y"]))
    return losses, [namespace[name].detach() for name in ("w1", "b1", "w2")], step


def test_sgd_with_momentum_under_torch_compile_replays():
    """The velocity buffers written in place are state found on the heap (a reference count
    says something outside holds them, which nothing the step names explains): replayed, not
    refused as unchecked."""
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        got, params, step = _training_script(torch.compile)
    want, want_params, _ = _training_script(lambda f: f)
    for g, w in zip(got + params, want + want_params, strict=True):
        onp.testing.assert_array_equal(g.numpy(), w.numpy())
    assert sum(len(entry.programs) for entry in step._cache.values()) == 2  # (dropout, not)
