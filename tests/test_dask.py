"""chainrule on Dask arrays as a Dask user uses it: chunked, lazy arrays run by the threaded
scheduler and by a ``dask.distributed`` cluster of two worker processes on the loopback
interface (started and closed here, once for the module).

Each computation is compared with the same one on NumPy arrays made from the same data; what
is checked beyond the values is what a Dask user relies on: results, gradients and tangents
stay Dask arrays until computed, nothing is computed before ``cr.compute`` (or ``bool()`` in
Python control flow), work shared by several values runs once, and an op Dask lacks is refused
before anything runs. A chunk-generating function that counts its calls (``map_blocks``)
tells what ran. The op-table samples on Dask are in test_backends.py."""

from __future__ import annotations

import threading
import warnings

import numpy as np
import pytest

da = pytest.importorskip("dask.array")
dask = pytest.importorskip("dask")
distributed = pytest.importorskip("distributed")

from strict_array import StrictArray  # noqa: E402

import chainrule as cr  # noqa: E402

ROWS, COLS, ROW_CHUNK = 40, 5, 10  # four chunks of rows
CHUNKS = ROWS // ROW_CHUNK


@pytest.fixture(autouse=True)
def _threaded():
    """The threaded scheduler unless a test names another: counted chunk functions run in this
    process."""
    with dask.config.set(scheduler="threads"):
        yield


@pytest.fixture(scope="module")
def client():
    """One ``LocalCluster`` of two worker processes for the module, closed at its end even when
    a test failed (the context managers); not the default scheduler, so that no other test
    module runs on it by accident."""
    with warnings.catch_warnings():  # (its HTTP server moves off a port already in use)
        warnings.filterwarnings("ignore", "Port .* is already in use", UserWarning)
        cluster = distributed.LocalCluster(
            n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1",
            dashboard_address=None,
        )
    with cluster, distributed.Client(cluster, set_as_default=False) as running:
        yield running


class Counter:
    """A chunk function (identity) that counts its calls, from any thread."""

    def __init__(self) -> None:
        self.calls = 0
        self._lock = threading.Lock()

    def __call__(self, block: np.ndarray) -> np.ndarray:
        with self._lock:
            self.calls += 1
        return block

    def counted(self, array: np.ndarray, chunks: tuple) -> da.Array:
        """``array`` as a Dask array whose every chunk passes through this counter."""
        lazy = da.from_array(array, chunks=chunks)
        return lazy.map_blocks(self, dtype=array.dtype, meta=np.empty((0,) * array.ndim))


def is_dask(value) -> bool:
    return isinstance(value.data if isinstance(value, cr.Tensor) else value, da.Array)


def value_of(value) -> np.ndarray:
    """A copy of a tensor's or array's values in NumPy (a lazy one computed)."""
    value = cr.compute(value)[0]
    return np.array(value.detach().numpy() if isinstance(value, cr.Tensor) else value)


def assert_matches(got, want) -> None:
    """``got`` (a Dask result, not computed yet) has the values of ``want`` (NumPy's)."""
    assert is_dask(got), f"a {type(getattr(got, 'data', got)).__name__}, not a Dask array"
    np.testing.assert_allclose(value_of(got), value_of(want), rtol=1e-12, atol=1e-12)


def data(seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((ROWS, COLS))
    return x, (x[:, 0] > 0).astype(np.float64)


# ---------------------------------------------------------------- the issue's example


def logistic(X, y, w):
    """The mean logistic loss of the issue's example: lazy on Dask arrays."""
    return cr.mean(cr.logaddexp(0, X @ w) - y * (X @ w))


def numpy_logistic(w0: np.ndarray, dtype=np.float64) -> tuple[np.ndarray, np.ndarray]:
    x, y = (v.astype(dtype) for v in data())
    w = cr.tensor(w0.astype(dtype), requires_grad=True)
    loss = logistic(x, y, w)
    loss.backward()
    return loss.detach().numpy(), w.grad.numpy()


def test_the_issue_example_is_lazy_and_computed_in_one_pass():
    counter = Counter()
    X = counter.counted(data()[0].astype("float32"), (ROW_CHUNK, COLS))
    y = (X[:, 0] > 0).astype("float32")
    w = cr.tensor(da.zeros(COLS, dtype="float32"), requires_grad=True)
    loss = cr.mean(cr.logaddexp(0, X @ w) - y * (X @ w))  # lazy: nothing computed yet
    loss.backward()
    assert is_dask(loss) and is_dask(w.grad) and counter.calls == 0  # lazy: nothing ran
    assert "dask.array<" in repr(w.grad) and counter.calls == 0
    loss_value, grad = cr.compute(loss, w.grad)  # one pass over the data
    assert counter.calls == CHUNKS  # each chunk of X made once, for the loss and its gradient
    assert not is_dask(loss_value) and not is_dask(grad)
    assert isinstance(loss_value.data, np.generic) and type(grad.data) is np.ndarray
    assert loss_value.dtype == grad.dtype == np.float32
    want_loss, want_grad = numpy_logistic(np.zeros(COLS), np.float32)
    np.testing.assert_allclose(loss_value.detach().numpy(), want_loss, rtol=1e-6)
    np.testing.assert_allclose(grad.numpy(), want_grad, rtol=1e-5, atol=1e-7)


def test_logistic_loss_on_a_local_cluster(client):
    x, y = data()

    def on_a_worker(block):  # (a local function: cloudpickle sends it by value)
        distributed.get_worker()  # raises ValueError outside a worker
        return block

    X = da.from_array(x, chunks=(ROW_CHUNK, COLS)).map_blocks(on_a_worker, dtype=x.dtype)
    Y = da.from_array(y, chunks=ROW_CHUNK)
    w0 = np.linspace(-0.5, 0.5, COLS)
    w = cr.tensor(da.zeros(COLS) + w0, requires_grad=True)
    loss = logistic(X, Y, w)
    loss.backward()
    assert is_dask(w.grad)
    with dask.config.set(scheduler=client):
        loss_value, grad = cr.compute(loss, w.grad)
        persisted = w.grad.persist()
        assert is_dask(persisted)
        np.testing.assert_allclose(value_of(persisted), grad.numpy(), rtol=1e-12)
    want_loss, want_grad = numpy_logistic(w0)
    np.testing.assert_allclose(loss_value.detach().numpy(), want_loss, rtol=1e-12)
    np.testing.assert_allclose(grad.numpy(), want_grad, rtol=1e-12, atol=1e-15)


def test_computing_loss_and_gradient_together_shares_the_forward_pass():
    x, y = data()
    counter = Counter()
    X, Y = counter.counted(x, (ROW_CHUNK, COLS)), da.from_array(y, chunks=ROW_CHUNK)
    w = cr.tensor(da.zeros(COLS), requires_grad=True)
    loss = logistic(X, Y, w)
    loss.backward()
    apart = [loss.compute(), w.grad.compute()]
    assert counter.calls == 2 * CHUNKS  # two passes over X
    counter.calls = 0
    together = cr.compute({"loss": loss, "grad": w.grad})[0]
    assert counter.calls == CHUNKS  # one
    np.testing.assert_array_equal(together["loss"].detach().numpy(), apart[0].detach().numpy())
    np.testing.assert_array_equal(together["grad"].numpy(), apart[1].numpy())


# ---------------------------------------------------------------- transforms


def scalar_f(x):
    return cr.sum(cr.sin(x) * x**2) + cr.dot(x, cr.flip(x))


def vector_f(x):
    return cr.exp(cr.sin(x)) * cr.flip(x)


X0 = np.linspace(-1.2, 0.9, 6)
V0 = np.linspace(0.3, -0.4, 6)


def dask_array(a: np.ndarray, chunks=3) -> da.Array:
    return da.from_array(a, chunks=chunks)


def numpy_array(a: np.ndarray, chunks=None) -> np.ndarray:
    return a


def both(make):
    """``make(A)`` with ``A`` making Dask arrays (several chunks), and with NumPy's."""
    return make(dask_array), make(numpy_array)


@pytest.mark.parametrize(
    "transform",
    [
        pytest.param(lambda A: cr.grad(scalar_f)(A(X0)), id="grad"),
        pytest.param(lambda A: cr.value_and_grad(scalar_f)(A(X0)), id="value_and_grad"),
        pytest.param(lambda A: cr.vjp(vector_f, A(X0))[1](A(V0)), id="vjp"),
        pytest.param(lambda A: cr.vjp(vector_f, A(X0))[0], id="vjp-value"),
        pytest.param(lambda A: cr.jvp(vector_f, (A(X0),), (A(V0),)), id="jvp"),
        pytest.param(lambda A: cr.jacfwd(vector_f)(A(X0)), id="jacfwd"),
        pytest.param(lambda A: cr.jacrev(vector_f)(A(X0)), id="jacrev"),
        pytest.param(lambda A: cr.jacobian(vector_f)(A(X0)), id="jacobian"),
        pytest.param(lambda A: cr.hessian(scalar_f)(A(X0)), id="hessian"),
        pytest.param(lambda A: cr.hvp(scalar_f, (A(X0),), (A(V0),)), id="hvp"),
        pytest.param(lambda A: cr.grad(scalar_f)(cr.tensor(A(X0))), id="grad-of-tensor"),
        pytest.param(lambda A: cr.grad(lambda x: cr.sum(cr.grad(scalar_f)(x) ** 2))(A(X0)),
                     id="grad-of-grad"),
    ],
)
def test_transforms_give_lazy_values_equal_to_numpys(transform):
    got, want = both(transform)
    got, want = (got, want) if isinstance(got, tuple) else ((got,), (want,))
    assert len(got) == len(want)
    for g, w in zip(got, want, strict=True):
        assert_matches(g, w)


def test_gradient_tape_on_dask():
    def run(A):
        x = cr.tensor(A(X0))
        with cr.GradientTape(persistent=True) as tape:
            tape.watch(x)
            y = vector_f(x)
            s = cr.sum(y * y)
        return tape.gradient(s, x), tape.jacobian(y, x), tape.gradient(y, x)

    got, want = both(run)
    for g, w in zip(got, want, strict=True):
        assert_matches(g, w)


# ---------------------------------------------------------------- compute and persist


def test_compute_gives_numpy_and_keeps_the_history():
    counter = Counter()
    x = cr.tensor(counter.counted(X0, 3), requires_grad=True)
    y = (x * x).compute()
    assert type(y.data) is np.ndarray and counter.calls == 2
    np.testing.assert_allclose(y.detach().numpy(), X0 * X0)
    cr.sum(cr.sin(y)).backward()  # through the computed tensor to x
    assert_matches(x.grad, np.cos(X0 * X0) * 2 * X0)


def test_a_computed_leaf_passes_a_dask_gradient_to_the_leaf():
    x = cr.tensor(da.from_array(X0, chunks=3), requires_grad=True)
    leaf = x.compute()  # a leaf that requires grad: its derivative still reaches it
    assert type(leaf.data) is np.ndarray and leaf.requires_grad and is_dask(x)
    cr.sum(leaf * 3).backward()
    assert_matches(x.grad, np.full(6, 3.0))


def test_persist_keeps_dask_and_the_gradient_flows_through_it():
    counter = Counter()
    x = cr.tensor(counter.counted(X0, 3), requires_grad=True)
    hidden = cr.tanh(x * 2).persist()  # halfway through a model
    assert is_dask(hidden) and hidden.grad_fn is not None and counter.calls == 2
    out = cr.sum(hidden**3)
    assert value_of(out) == pytest.approx(np.sum(np.tanh(2 * X0) ** 3))
    assert counter.calls == 2  # the persisted chunks are used, not made again
    out.backward()
    assert_matches(x.grad, 3 * np.tanh(2 * X0) ** 2 * (1 - np.tanh(2 * X0) ** 2) * 2)


def test_a_persisted_leaf_passes_its_gradient_to_the_leaf():
    w = cr.tensor(da.from_array(X0, chunks=3), requires_grad=True)
    kept = w.persist()
    assert is_dask(kept) and kept.requires_grad and is_dask(w)
    cr.sum(cr.exp(kept)).backward()
    assert_matches(w.grad, np.exp(X0))
    (kept,) = cr.persist(w)  # the functional form, same result
    cr.sum(kept * 2).backward()
    assert_matches(w.grad, np.exp(X0) + 2)


# ---------------------------------------------------------------- control flow


def chapter_f(a):
    """The chapter's function: Python control flow on a lazy value computes what it needs."""
    b = a * 2
    while cr.linalg.norm(b) < 1000:
        b = b * 2
    if b.sum() > 0:
        c = b
    else:
        c = 100 * b
    return c


@pytest.mark.parametrize("start", [np.array([0.3, -0.1, 0.2]), np.array([-0.3, 0.1, -0.2])])
def test_python_control_flow_on_a_lazy_value(start):
    def run(A):
        a = cr.tensor(A(start, chunks=2), requires_grad=True)
        d = chapter_f(a)
        cr.sum(d).backward()
        return d, a.grad

    (d, grad), (want_d, want_grad) = both(run)
    assert_matches(d, want_d)
    assert_matches(grad, want_grad)
    np.testing.assert_allclose(value_of(grad), value_of(d) / start)


@pytest.mark.parametrize("make", [cr.ones_like, cr.zeros_like, lambda t: cr.full_like(t, 2.0)],
                         ids=["ones_like", "zeros_like", "full_like"])
def test_like_constructors_of_a_lazy_tensor_stay_lazy(make):
    counter = Counter()
    start = np.array([0.3, -0.1, 0.2])
    a = cr.tensor(counter.counted(start, 2), requires_grad=True)
    d = cr.exp(a) * 2
    like = make(d)
    assert counter.calls == 0  # nothing computed
    assert_matches(like, make(cr.tensor(np.exp(start) * 2)))
    d.backward(gradient=cr.ones_like(d))  # the chapter's form of a vector's backward
    assert_matches(a.grad, np.exp(start) * 2)


# ---------------------------------------------------------------- refusals


def test_mixing_dask_and_another_library_names_both():
    x = cr.tensor(da.from_array(X0, chunks=3), requires_grad=True)
    strict = cr.tensor(StrictArray(V0))
    ops = (lambda: x + strict, lambda: strict * x, lambda: cr.dot(x, strict),
           lambda: x - StrictArray(V0))  # (an array, not a tensor, as the other operand)
    for op in ops:
        with pytest.raises(TypeError, match="dask") as error:
            op()
        assert "strict_array" in str(error.value)
    assert x.grad is None and is_dask(x)


def test_an_op_dask_lacks_is_refused_before_anything_runs():
    counter = Counter()
    m = np.array([[2.0, 0.5, 0.0], [0.5, 3.0, 0.2], [0.0, 0.2, 1.0]])
    a = cr.tensor(counter.counted(m, (2, 2)), requires_grad=True)
    cr.sum(a * a).backward()
    grad_before = a.grad
    graph_before = a.grad.data.name
    for op in (lambda: cr.linalg.eigh(a), lambda: cr.linalg.eigh(a * 2)):
        with pytest.raises(NotImplementedError, match="eigh") as error:
            op()
        assert "Dask" in str(error.value)
    assert counter.calls == 0  # nothing computed
    assert is_dask(a) and a.grad is grad_before and a.grad.data.name == graph_before
    with pytest.warns(FutureWarning, match="not implemented by Dask"):  # Dask's own fallback
        np.linalg.eigh(da.from_array(m, chunks=2))
    assert_matches(a.grad, 2 * m)  # and the gradient is still the one computed before


def test_the_repr_of_a_lazy_tensor_computes_nothing():
    counter = Counter()
    x = cr.tensor(counter.counted(X0, 3), requires_grad=True)
    y = cr.exp(x) * 2
    for t in (x, y):
        text = repr(t)
        assert "dask.array<" in text and "tensor(" in text
    assert "grad_fn=" in repr(y) and "requires_grad=True" in repr(x)
    str(y)
    assert counter.calls == 0


# ---------------------------------------------------------------- NumPy's speed tricks


def test_backward_twice_accumulates_into_a_lazy_grad():
    def run(A):
        w = cr.tensor(A(np.linspace(-0.5, 0.5, COLS)), requires_grad=True)
        x, _ = data()
        X = A(x, chunks=(ROW_CHUNK, COLS))
        names = [getattr(a, "name", None) for a in (X, w.data)]
        first = None
        for scale in (1.0, 3.0):  # broadcasting: the gradient is summed over X's rows
            cr.sum(cr.tanh(X * w) * scale).backward()
            first = value_of(w.grad) if first is None else first
        # a Dask array written in place (out=, donation) would have a new graph, a new name
        assert [getattr(a, "name", None) for a in (X, w.data)] == names
        return w.grad, first

    (grad, first), (want, want_first) = both(run)
    assert_matches(grad, want)
    np.testing.assert_allclose(first, want_first, rtol=1e-12)
    np.testing.assert_allclose(value_of(grad), 4 * want_first, rtol=1e-12)


def test_an_optimizer_loop_keeps_dask_arrays():
    def run(A):
        w = cr.tensor(A(X0), requires_grad=True)
        for _ in range(3):
            scalar_f(w).backward()
            with cr.no_grad():
                w -= 0.1 * w.grad
            w.grad.zero_()
            assert is_dask(w) == is_dask(w.grad) == (A is dask_array)
        return w.detach()

    got, want = both(run)
    assert_matches(got, want)
