"""The Tensor: creation, dtypes, attributes, operators, conversions, NumPy interop, repr."""

import numpy as np
import pytest

import chainrule as cr

# ---------------------------------------------------------------------------- creation and dtypes


@pytest.mark.parametrize(
    ("make", "dtype"),
    [
        (lambda: cr.tensor(1.5), np.float32),
        (lambda: cr.tensor([1.0, 2.0]), np.float32),
        (lambda: cr.tensor([[1.0], [2.0]]), np.float32),
        (lambda: cr.tensor(3), np.int64),
        (lambda: cr.tensor([1, 2]), np.int64),
        (lambda: cr.tensor(True), np.bool_),
        (lambda: cr.tensor(np.zeros(2)), np.float64),
        (lambda: cr.tensor(np.zeros(2, np.int32)), np.int32),
        (lambda: cr.tensor(np.zeros(2, np.float16)), np.float16),
        (lambda: cr.tensor(np.float64(2.0)), np.float64),
        (lambda: cr.tensor([1, 2], dtype="float64"), np.float64),
        (lambda: cr.tensor([1, 2], dtype=np.float32), np.float32),
        (lambda: cr.tensor([1, 2], dtype=cr.float64), np.float64),
        (lambda: cr.tensor([1.0], dtype=float), np.float64),
        (lambda: cr.arange(3), np.int64),
        (lambda: cr.arange(3.0), np.float32),
        (lambda: cr.arange(0, 1, 0.25), np.float32),
        (lambda: cr.arange(3, dtype="float64"), np.float64),
        (lambda: cr.zeros(2, 3), np.float32),
        (lambda: cr.zeros((2, 3), dtype=cr.float64), np.float64),
        (lambda: cr.ones(2), np.float32),
        (lambda: cr.full((2,), 7.0), np.float32),
        (lambda: cr.full((2,), 7), np.int64),
        (lambda: cr.full(2, 7, dtype="float64"), np.float64),
        (lambda: cr.eye(3), np.float32),
        (lambda: cr.linspace(0, 1, 5), np.float32),
        (lambda: cr.zeros_like(cr.arange(3)), np.int64),
        (lambda: cr.ones_like(np.zeros(2)), np.float64),
        (lambda: cr.full_like(cr.arange(3.0), 2), np.float32),
        (lambda: cr.random.randn(2, 3), np.float32),
        (lambda: cr.random.normal(size=(2,), dtype="float64"), np.float64),
        (lambda: cr.random.rand(4), np.float32),
        (lambda: cr.random.uniform(1, 2, size=3), np.float32),
        (lambda: cr.random.randint(0, 5, size=3), np.int64),
    ],
)
def test_default_dtypes(make, dtype):
    assert make().dtype == np.dtype(dtype)


def test_creation_values_and_shapes():
    assert cr.arange(4).tolist() == [0, 1, 2, 3]
    assert cr.arange(1, 7, 2).tolist() == [1, 3, 5]
    assert cr.zeros(2, 3).shape == cr.zeros((2, 3)).shape == (2, 3)
    assert cr.ones(2).tolist() == [1.0, 1.0]
    assert cr.full((2, 2), 7.0).tolist() == [[7.0, 7.0], [7.0, 7.0]]
    np.testing.assert_array_equal(cr.eye(2, 3).numpy(), np.eye(2, 3))
    np.testing.assert_allclose(cr.linspace(0, 1, 5).numpy(), [0, 0.25, 0.5, 0.75, 1])
    assert cr.zeros_like(cr.ones((2, 1))).shape == (2, 1)
    assert cr.full_like(cr.arange(3.0), 5).tolist() == [5.0, 5.0, 5.0]


def test_tensor_copies_its_data_but_from_numpy_shares_it():
    array = np.zeros(3)
    t = cr.tensor(array)
    array[0] = 1.0
    assert t[0].item() == 0.0
    shared = cr.from_numpy(array)
    array[1] = 2.0
    assert shared.tolist() == [1.0, 2.0, 0.0]


def test_creation_requires_grad():
    for t in (
        cr.tensor([1.0], requires_grad=True), cr.arange(3.0, requires_grad=True),
        cr.zeros(2, requires_grad=True), cr.ones(2, requires_grad=True),
        cr.full((2,), 1.0, requires_grad=True), cr.eye(2, requires_grad=True),
        cr.linspace(0, 1, 3, requires_grad=True),
        cr.ones_like(cr.arange(2.0), requires_grad=True),
        cr.random.randn(2, requires_grad=True),
    ):
        assert t.requires_grad and t.is_leaf and t.grad is None and t.grad_fn is None


def test_random_seed_reproduces():
    cr.random.seed(42)
    first = (cr.random.randn(3).numpy(), cr.random.rand(2).numpy(),
             cr.random.normal(1.0, 2.0, size=(2,)).numpy())
    cr.random.seed(42)
    second = (cr.random.randn(3).numpy(), cr.random.rand(2).numpy(),
              cr.random.normal(1.0, 2.0, size=(2,)).numpy())
    for a, b in zip(first, second, strict=True):
        np.testing.assert_array_equal(a, b)
    cr.random.seed(43)
    assert not np.array_equal(cr.random.randn(3).numpy(), first[0])
    assert cr.random.randn(size=(2, 3)).shape == cr.random.randn(2, 3).shape == (2, 3)
    assert cr.random.normal().shape == ()


def test_bad_dtype_is_explained():
    with pytest.raises(TypeError, match="dtype .* is not understood"):
        cr.tensor([1.0], dtype="not-a-dtype")


# ---------------------------------------------------------------------------- attributes


def test_attributes():
    t = cr.arange(6.0).reshape(2, 3)
    assert t.shape == (2, 3) and t.ndim == 2 and t.size == 6 and t.dtype == cr.float32
    assert t.T.shape == (3, 2)
    assert len(t) == 2
    assert [row.tolist() for row in t] == [[0.0, 1.0, 2.0], [3.0, 4.0, 5.0]]
    assert t.is_leaf and not t.requires_grad and t.grad is None and t.grad_fn is None


# ---------------------------------------------------------------------------- operators


def test_operators_follow_numpy_broadcasting():
    a = np.arange(6.0).reshape(2, 3) + 1
    b = np.array([1.0, 2.0, 4.0])
    ta, tb = cr.tensor(a), cr.tensor(b)
    for op in (
        lambda x, y: x + y, lambda x, y: x - y, lambda x, y: x * y, lambda x, y: x / y,
        lambda x, y: x ** y, lambda x, y: y - x, lambda x, y: y / x,
    ):
        np.testing.assert_allclose(op(ta, tb).numpy(), op(a, b))
    for op in (lambda x: 2 + x, lambda x: 2 - x, lambda x: 2 * x, lambda x: 2 / x,
               lambda x: 2 ** x, lambda x: x ** 2, lambda x: -x, lambda x: abs(-x)):
        np.testing.assert_allclose(op(ta).numpy(), op(a))
    np.testing.assert_allclose((ta @ cr.tensor(a.T)).numpy(), a @ a.T)
    np.testing.assert_allclose((a.T @ ta).numpy(), a.T @ a)  # reflected through NumPy


def test_comparisons_return_boolean_tensors_without_graph():
    x = cr.tensor([1.0, 2.0, 3.0], requires_grad=True)
    for result, expected in (
        (x > 1.5, [False, True, True]), (x >= 2, [False, True, True]),
        (x < 2, [True, False, False]), (x <= 2, [True, True, False]),
        (x == 2, [False, True, False]), (x != 2, [True, False, True]),
    ):
        assert isinstance(result, cr.Tensor) and result.dtype == np.bool_
        assert result.tolist() == expected
        assert not result.requires_grad and result.grad_fn is None


def test_python_scalars_do_not_promote():
    x = cr.arange(3.0)
    assert (x * 2.0).dtype == (2 + x).dtype == (x / 3).dtype == (x ** 2).dtype == cr.float32
    assert (cr.arange(3) * 2).dtype == cr.int64
    assert (x * np.ones(3)).dtype == cr.float64  # a float64 array does promote, as in NumPy


# ---------------------------------------------------------------------------- conversions


def test_conversions():
    assert bool(cr.tensor(1.0)) is True and bool(cr.tensor([0.0])) is False
    assert float(cr.tensor([2.5])) == 2.5 and int(cr.tensor(2.7)) == 2
    assert cr.tensor(3).item() == 3 and isinstance(cr.tensor(3.0).item(), float)
    assert cr.tensor([[1, 2]]).tolist() == [[1, 2]]
    assert [10, 20, 30][cr.tensor(1)] == 20  # __index__
    assert f"{cr.tensor(3.14159):.2f}" == "3.14"


def test_conversion_errors_are_explained():
    with pytest.raises(ValueError, match="ambiguous"):
        bool(cr.ones(2))
    with pytest.raises(ValueError, match="exactly one element"):
        cr.ones(2).item()
    with pytest.raises(ValueError, match="exactly one element"):
        float(cr.ones(2))


def test_numpy_and_array_share_memory_and_carry_no_history():
    x = cr.arange(3.0)
    array = x.numpy()
    assert isinstance(array, np.ndarray) and np.shares_memory(array, x.data)
    np.testing.assert_array_equal(np.asarray(x), [0.0, 1.0, 2.0])
    assert np.shares_memory(np.asarray(x), x.data)
    assert np.asarray(x, dtype=np.float64).dtype == np.float64
    copied = np.array(x)  # np.array copies, as for any array
    assert copied.dtype == np.float32 and not np.shares_memory(copied, x.data)


def test_numpy_ufuncs_on_tensors_are_differentiable():
    x = cr.tensor([0.5, 1.0, 2.0], requires_grad=True)
    y = np.sin(x)
    assert isinstance(y, cr.Tensor) and y.grad_fn is not None
    (np.exp(y) * np.ones(3)).sum().backward()
    expected = np.exp(np.sin(x.detach().numpy())) * np.cos(x.detach().numpy())
    np.testing.assert_allclose(x.grad.numpy(), expected, rtol=1e-6)
    z = np.add(np.ones(3, np.float32), x)  # an array on the left still records
    assert isinstance(z, cr.Tensor) and z.requires_grad


# ---------------------------------------------------------------------------- repr


def test_repr_is_pytorch_like():
    assert repr(cr.tensor([1.0, 2.0])) == "tensor([1., 2.])"
    assert repr(cr.tensor([1, 2])) == "tensor([1, 2])"
    assert repr(cr.tensor([1.0], dtype="float64")) == "tensor([1.], dtype=float64)"
    x = cr.tensor([1.0, 2.0], requires_grad=True)
    assert repr(x) == "tensor([1., 2.], requires_grad=True)"
    assert repr(x * 2) == "tensor([2., 4.], grad_fn=<MultiplyBackward>)"
    assert repr((x * 2).sum()) == "tensor(6., grad_fn=<SumBackward>)"
    assert repr((x * 2).detach()) == "tensor([2., 4.])"
    assert str(x) == repr(x)
    assert repr(cr.eye(2)) == "tensor([[1., 0.],\n        [0., 1.]])"


def test_numpy_reductions_on_tensors_are_recorded():
    x = cr.arange(6.0, requires_grad=True)
    y = np.sum(np.sin(x)) + np.mean(x) + np.max(x) + np.std(x, ddof=1) + np.prod(x + 1)
    assert isinstance(y, cr.Tensor)
    y.backward()
    data = np.arange(6.0)
    expected = np.cos(data) + 1 / 6 + (data == 5)
    expected = expected + (data - data.mean()) / (5 * data.std(ddof=1))
    expected = expected + np.prod(data + 1) / (data + 1)
    np.testing.assert_allclose(x.grad.numpy(), expected, rtol=1e-5)
    assert np.sum(x, dtype="float64").dtype == cr.float64
    assert np.cumsum(x).tolist() == np.cumsum(data).tolist()
    assert np.argmax(x).item() == 5 and bool(np.any(x > 4)) and bool(np.all(x >= 0))
    with pytest.raises(TypeError, match="out= is not supported"):
        np.sum(x, out=np.zeros(()))
