"""``chainrule.mxnet``: float32 defaults, record-only recording, attach_grad, implicit sums."""

from __future__ import annotations

import numpy as onp
import pytest

import chainrule as cr
from chainrule.mxnet import autograd, ndarray, np, npx


def test_float32_everywhere_by_default() -> None:
    npx.set_np()
    assert np.arange(4).dtype == np.float32 and np.arange(4.0).dtype == np.float32
    assert np.array([1, 2]).dtype == np.float32
    assert np.array(onp.arange(3)).dtype == onp.int64  # a NumPy array keeps its dtype
    assert np.array([True, False]).dtype == onp.bool_
    assert np.zeros((2, 3)).dtype == np.float32 and np.ones(2).shape == (2,)
    assert np.full((2,), 3).tolist() == [3.0, 3.0]
    assert np.eye(2).dtype == np.float32 and np.linspace(0, 1, 3).tolist() == [0, 0.5, 1]
    assert isinstance(np.arange(3), ndarray)


def test_random_normal_without_size_is_0d() -> None:
    np.random.seed(0)
    a = np.random.normal()
    assert a.shape == () and a.dtype == np.float32 and isinstance(a, ndarray)
    assert np.random.normal(0, 1, size=(2, 3)).shape == (2, 3)
    assert np.random.uniform(size=4).max() < 1
    np.random.seed(0)
    assert float(np.random.normal()) == float(a)


def test_printing_and_conversion() -> None:
    x = np.arange(4.0)
    assert repr(x) == "array([0., 1., 2., 3.])"
    assert repr(np.array([1, 2], dtype="int32")) == "array([1, 2], dtype=int32)"
    assert str(x) == "[0. 1. 2. 3.]"
    array = x.asnumpy()
    array[0] = 10  # a copy
    assert isinstance(array, onp.ndarray) and x[0].item() == 0.0


def test_attach_grad_zeros_then_overwritten() -> None:
    x = np.arange(4.0)
    x.attach_grad()
    assert x.grad.tolist() == [0.0] * 4 and isinstance(x.grad, ndarray)
    buffer = x.grad
    with autograd.record():
        y = 2 * np.dot(x, x)
    y.backward()
    assert x.grad.tolist() == [0.0, 4.0, 8.0, 12.0]
    with autograd.record():
        y = x.sum()
    y.backward()
    assert x.grad.tolist() == [1.0] * 4  # overwritten, not accumulated
    assert x.grad is buffer  # in the same buffer
    x.attach_grad(grad_req="add")
    for _ in range(2):
        with autograd.record():
            y = x.sum()
        y.backward()
    assert x.grad.tolist() == [2.0] * 4


def test_non_scalar_backward_sums_implicitly() -> None:
    x = np.arange(4.0)
    x.attach_grad()
    with autograd.record():
        y = x * x
    y.backward()
    assert x.grad.tolist() == [0.0, 2.0, 4.0, 6.0]
    with autograd.record():
        y = x * x
    y.backward(out_grad=np.array([1.0, 0.0, 0.0, 2.0]))
    assert x.grad.tolist() == [0.0, 0.0, 0.0, 12.0]


def test_only_record_blocks_are_recorded() -> None:
    x = np.arange(3.0)
    x.attach_grad()
    y = x * 2  # outside record(): nothing recorded, as in MXNet
    assert y.grad_fn is None and not autograd.is_recording()
    with pytest.raises(RuntimeError):
        y.backward()
    with autograd.record():
        assert autograd.is_recording() and autograd.is_training()
        z = x * 3
        with autograd.pause():
            assert not autograd.is_recording()
            w = x * 4
    assert z.grad_fn is not None and w.grad_fn is None
    # parameter updates outside record() are plain in-place writes
    x[:] = x - 0.1 * x.grad
    x -= 1
    assert x.tolist() == pytest.approx([-1.0, 0.0, 1.0])


def test_detach_and_retain_graph() -> None:
    x = np.arange(4.0)
    x.attach_grad()
    with autograd.record():
        y = x * x
        u = y.detach()
        z = u * x
    z.backward()
    assert (x.grad == u).all()
    assert u.grad_fn is None and isinstance(u, ndarray)
    y.backward(retain_graph=True)
    y.backward()
    assert (x.grad == 2 * x).all()


def test_autograd_grad_and_backward_functions() -> None:
    x = np.array([1.0, 2.0])
    x.attach_grad()
    with autograd.record():
        y = (x ** 3).sum()
    dx = autograd.grad(y, x, create_graph=True, retain_graph=True)
    assert dx.tolist() == [3.0, 12.0]
    assert x.grad.tolist() == [0.0, 0.0]  # grad() leaves .grad alone
    with autograd.record():
        y = x * x
    autograd.backward([y])
    assert x.grad.tolist() == [2.0, 4.0]


def test_np_functions_and_npx() -> None:
    x = np.array([[1.0, -2.0], [3.0, 4.0]])
    assert np.linalg.norm(x).item() == pytest.approx(onp.sqrt(30.0))
    assert np.sum(x, axis=0).tolist() == [4.0, 2.0] and x.sum(axis=1, keepdims=True).shape == (
        2, 1)
    assert np.maximum(x, 0).tolist() == [[1.0, 0.0], [3.0, 4.0]]
    assert np.concatenate([x, x]).shape == (4, 2) and np.stack([x, x], axis=2).shape == (2, 2, 2)
    assert isinstance(np.exp(x), ndarray) and isinstance(np.dot(x, x), ndarray)
    assert npx.relu(x).tolist() == [[1.0, 0.0], [3.0, 4.0]]
    onp.testing.assert_allclose(npx.softmax(x).sum(axis=-1).asnumpy(), [1.0, 1.0], rtol=1e-6)
    assert npx.pick(x, np.array([1, 0])).tolist() == [-2.0, 3.0]
    assert npx.one_hot(np.array([0, 1]), 3).tolist() == [[1, 0, 0], [0, 1, 0]]


def test_mxnet_arrays_do_not_change_the_native_default() -> None:
    x = cr.tensor([1.0, 2.0], requires_grad=True)
    y = x * 2  # native tensors record whenever grad mode is on
    assert y.grad_fn is not None


def test_d2l_style_synthetic_data_and_float_index_arrays() -> None:
    def synthetic_data(w, b, num_examples):
        X = np.random.normal(0, 1, (num_examples, len(w)))  # positional size
        y = np.dot(X, w) + b
        y += np.random.normal(0, 0.01, y.shape)
        return X, y.reshape((-1, 1))

    np.random.seed(0)
    true_w = np.array([2, -3.4])
    features, labels = synthetic_data(true_w, 4.2, 20)
    assert features.shape == (20, 2) and labels.shape == (20, 1)
    batch_indices = np.array([3, 1, 4])  # float32, as in MXNet; indexing still works
    assert batch_indices.dtype == np.float32
    assert features[batch_indices].tolist() == features.asnumpy()[[3, 1, 4]].tolist()
    p = np.array([[0.1, 0.9], [0.8, 0.2]])
    assert p[range(2), np.array([1, 0])].tolist() == pytest.approx([0.9, 0.8])


def test_autograd_backward_of_several_heads_sums_them():
    x = np.array([1.0, 2.0])
    x.attach_grad()
    with autograd.record():
        a, b = x * 2, x * 3
    autograd.backward([a, b])
    assert x.grad.tolist() == [5.0, 5.0]


def test_mark_variables_uses_the_given_buffers_and_each_grad_req() -> None:
    x, y = np.array([1.0, 2.0]), np.array([3.0])
    x_grad, y_grad = np.ones(2), np.zeros(1)
    autograd.mark_variables([x, y], [x_grad, y_grad], ["add", "write"])
    assert x.grad is x_grad and y.grad is y_grad
    for _ in range(2):
        with autograd.record():
            z = (x * x).sum() * y
        z.backward()
    # "add" accumulates onto what the buffer held, "write" overwrites: both in those arrays
    assert x_grad.tolist() == [13.0, 25.0] and y_grad.tolist() == [5.0]
    assert x.grad_req == "add" and y.grad_req == "write"
    w = np.array([1.0])
    autograd.mark_variables(w, np.zeros(1), "null")
    with autograd.record():
        (w * 2).backward()
    assert w.grad.tolist() == [0.0]


def test_mark_variables_refuses_mismatched_arguments_before_changing_anything() -> None:
    x, y = np.array([1.0, 2.0]), np.array([3.0])
    with pytest.raises(ValueError, match="one gradient buffer and one grad_req per variable"):
        autograd.mark_variables([x, y], [np.zeros(2)])
    with pytest.raises(ValueError, match=r"must be an array of its shape \(2,\)"):
        autograd.mark_variables([x, y], [np.zeros(3), np.zeros(1)])
    with pytest.raises(ValueError, match="grad_req must be"):
        autograd.mark_variables([x], [np.zeros(2)], ["sometimes"])
    assert x.grad is None and y.grad is None and x.grad_req is None


# ---------------------------------------------------------------- MXNet's type promotion
# MXNet's own rules (src/operator/numpy: type_promotion, NumpyBinaryScalarType,
# TrueDivideType, MixedUnaryOpType), written out.
MXNET_DTYPES = [
    ("np.array([1, 2], dtype='int64') + np.array([0.5, 1.5])", "float32"),  # NumPy: float64
    ("np.array([1, 2], dtype='int32') * np.array([1, 2], dtype='float16')", "float16"),
    ("np.array([1.0]) + np.array([1.0], dtype='float64')", "float64"),
    ("np.array([1], dtype='int32') + np.array([1], dtype='int64')", "int64"),
    ("np.array([True]) + np.array([True])", "bool"),
    ("np.array([True]) * np.array([2], dtype='int32')", "int32"),
    ("np.array([1], dtype='int32') + 1", "int32"), ("np.array([1.0]) + 1.5", "float32"),
    ("np.array([1.0]) * onp.float64(2)", "float32"), ("onp.float64(2) * np.array([1.0])",
                                                      "float32"),
    ("np.array([1, 2], dtype='int32') + 1.5", "float64"),
    ("np.array([1, 2], dtype='int32') ** 0.5", "float64"),
    ("np.array([True]) + 1", "int64"), ("np.array([True]) * 2.5", "float64"),
    ("np.array([1, 2], dtype='int32') / np.array([1, 2], dtype='int32')", "float32"),
    ("np.array([1, 2], dtype='int32') / 2", "float32"), ("1 / np.array([1, 2], dtype='int64')",
                                                         "float32"),
    ("np.array([1, 2], dtype='int32') / np.array([2.0], dtype='float64')", "float64"),
    ("np.divide(np.array([1], dtype='int64'), np.array([2], dtype='int64'))", "float32"),
    ("np.array([1.0], dtype='float16') / 2", "float16"),
    ("np.sqrt(np.array([1, 4], dtype='int32'))", "float32"),
    ("np.exp(np.array([1], dtype='int64'))", "float32"),
    ("np.log(np.array([1], dtype='uint8'))", "float16"),
    ("np.sin(np.array([True]))", "float16"), ("np.floor(np.array([1], dtype='int64'))", "float32"),
    ("np.tanh(np.array([1.0], dtype='float64'))", "float64"),
    ("onp.exp(np.array([1], dtype='int32'))", "float32"),
    ("np.add(np.array([1], dtype='int64'), np.array([1.0]))", "float32"),
    ("np.maximum(np.array([1], dtype='int64'), np.array([1.0]))", "float32"),
    ("np.array([1, 2], dtype='int32') < 1.5", "bool"),
]


@pytest.mark.parametrize("expression, dtype", MXNET_DTYPES)
def test_dtypes_follow_mxnet(expression, dtype) -> None:
    out = eval(expression, {"np": np, "onp": onp})
    assert isinstance(out, ndarray) and out.dtype == onp.dtype(dtype)


def test_promotion_casts_are_recorded_and_gradients_keep_each_dtype() -> None:
    x = np.array([1.0, 2.0], dtype="float64")
    w = np.array([3.0, 4.0])  # float32
    x.attach_grad()
    w.attach_grad()
    with autograd.record():
        y = (x * w) / np.array([1, 2], dtype="int32")
    assert y.dtype == np.float64
    y.backward()
    assert x.grad.dtype == np.float64 and w.grad.dtype == np.float32
    assert x.grad.tolist() == [3.0, 2.0] and w.grad.tolist() == [1.0, 1.0]


def test_an_array_combined_with_a_pandas_object_holds_numpy_data() -> None:
    pd = pytest.importorskip("pandas")
    series = pd.Series([1.0, 3.0])
    x = np.array([2.0, 2.0])
    for out in (x + series, x < series, np.maximum(x, series), np.less(x, series),
                np.sin(series), np.add(series, 2)):
        assert isinstance(out, ndarray) and type(out.data) is onp.ndarray
    assert (x < series).tolist() == [False, True] and (x + series).dtype == np.float64
    # pandas on the left hands the operation to the array (__pandas_priority__)
    assert isinstance(series + x, ndarray) and type((series + x).data) is onp.ndarray
