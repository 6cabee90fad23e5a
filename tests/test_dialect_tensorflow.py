"""``chainrule.tensorflow``: TensorFlow's names and dtypes, variables and the gradient tape."""

from __future__ import annotations

import numpy as onp
import pytest

import chainrule as cr
import chainrule.tensorflow as tf


def test_constants_ranges_and_dtypes() -> None:
    assert tf.constant([1, 2]).dtype == tf.int32
    assert tf.constant(1.5).dtype == tf.float32 and tf.constant([1.0]).dtype == tf.float32
    assert tf.constant(onp.zeros(2)).dtype == tf.float64  # NumPy arrays keep theirs
    assert tf.constant(0.0, shape=(2, 2)).shape == (2, 2)
    assert tf.range(4).dtype == tf.int32 and tf.range(4).numpy().tolist() == [0, 1, 2, 3]
    assert tf.range(4, dtype=tf.float32).dtype == tf.float32
    assert tf.range(1, 7, 2).numpy().tolist() == [1, 3, 5]
    assert tf.zeros((2, 3)).dtype == tf.float32 and tf.ones(2).numpy().tolist() == [1.0, 1.0]
    assert tf.zeros_like(tf.range(3)).dtype == tf.int32
    assert tf.ones_like(tf.constant([1.0, 2.0])).numpy().tolist() == [1.0, 1.0]
    assert tf.fill((2,), 3.0).numpy().tolist() == [3.0, 3.0]
    assert tf.cast(tf.range(3), tf.float32).dtype == tf.float32
    assert repr(tf.constant([1.0, 2.0]).shape) == "TensorShape([2])"
    assert tf.constant(3.0).numpy() == 3.0 and isinstance(tf.constant(3.0).numpy(), onp.floating)


def test_random_normal_is_seeded() -> None:
    tf.random.set_seed(0)
    a = tf.random.normal(shape=(2, 3))
    tf.random.set_seed(0)
    b = tf.random.normal((2, 3))
    assert a.shape == (2, 3) and a.dtype == tf.float32
    onp.testing.assert_array_equal(a.numpy(), b.numpy())
    assert tf.random.normal(shape=()).shape == ()
    assert tf.random.normal((1000,), mean=5.0, stddev=0.1).numpy().mean() == pytest.approx(
        5.0, abs=0.05)
    assert tf.random.uniform((10,), minval=2, maxval=3).numpy().min() >= 2


def test_variables_assign() -> None:
    v = tf.Variable([1.0, 2.0])
    assert isinstance(v, tf.Variable) and v.trainable and v.dtype == tf.float32
    assert v.assign([3.0, 4.0]) is v and v.numpy().tolist() == [3.0, 4.0]
    v.assign_add([1.0, 1.0])
    v.assign_sub(tf.constant([0.5, 0.5]))
    assert v.numpy().tolist() == [3.5, 4.5]
    y = v * 2  # operations on a variable give tensors
    assert type(y) is tf.Tensor and not isinstance(y, tf.Variable)
    assert type(tf.stop_gradient(v)) is tf.Tensor
    assert repr(v) == ("<tf.Variable 'Variable:0' shape=(2,) dtype=float32, "
                       "numpy=array([3.5, 4.5], dtype=float32)>")
    assert tf.Variable(3).dtype == tf.int32


def test_reductions_and_math() -> None:
    x = tf.constant([[1.0, 2.0], [3.0, 4.0]])
    assert tf.reduce_sum(x).numpy() == 10.0
    assert tf.reduce_sum(x, axis=0).numpy().tolist() == [4.0, 6.0]
    assert tf.reduce_sum(x, 1, keepdims=True).shape == (2, 1)
    assert tf.reduce_mean(x).numpy() == 2.5 and tf.reduce_max(x, axis=1).numpy().tolist() == [
        2.0, 4.0]
    assert tf.tensordot(x, x, axes=1).numpy().tolist() == (x.numpy() @ x.numpy()).tolist()
    assert tf.tensordot(x, x, axes=2).numpy() == 30.0
    assert tf.matmul(x, x, transpose_b=True).numpy().tolist() == [[5.0, 11.0], [11.0, 25.0]]
    assert tf.norm(x).numpy() == pytest.approx(onp.sqrt(30.0))
    assert tf.norm(tf.constant([3.0, -4.0]), ord=1).numpy() == 7.0
    onp.testing.assert_allclose(tf.exp(x).numpy(), onp.exp(x.numpy()), rtol=1e-6)
    onp.testing.assert_allclose(tf.math.log(x).numpy(), onp.log(x.numpy()), rtol=1e-6)
    assert tf.abs(tf.constant([-1.0, 2.0])).numpy().tolist() == [1.0, 2.0]
    assert tf.reshape(tf.range(6), (2, 3)).shape == (2, 3)
    assert tf.reshape(tf.range(6), [3, -1]).shape == (3, 2)
    assert tf.transpose(x).numpy().tolist() == [[1.0, 3.0], [2.0, 4.0]]
    assert tf.transpose(tf.zeros((2, 3, 4)), perm=[2, 0, 1]).shape == (4, 2, 3)
    assert tf.concat([x, x], axis=0).shape == (4, 2) and tf.concat([x, x], 1).shape == (2, 4)
    assert tf.stack([x, x]).shape == (2, 2, 2)
    assert tf.argmax(x).numpy().tolist() == [1, 1]  # axis 0 by default
    assert tf.one_hot([0, 2], depth=3).numpy().tolist() == [[1, 0, 0], [0, 0, 1]]
    onp.testing.assert_allclose(tf.nn.softmax(x).numpy().sum(1), [1.0, 1.0], rtol=1e-6)
    assert tf.nn.relu(tf.constant([-1.0, 1.0])).numpy().tolist() == [0.0, 1.0]


def test_gradient_tape_basics() -> None:
    x = tf.Variable(tf.range(4, dtype=tf.float32))
    with tf.GradientTape() as t:
        y = 2 * tf.tensordot(x, x, axes=1)
    assert t.gradient(y, x).numpy().tolist() == [0.0, 4.0, 8.0, 12.0]
    with pytest.raises(RuntimeError) as error:
        t.gradient(y, x)
    assert str(error.value) == ("A non-persistent GradientTape can only be used to compute one "
                                "set of gradients (or jacobians)")


def test_non_scalar_target_and_list_of_sources() -> None:
    w = tf.Variable([[1.0], [2.0]])
    b = tf.Variable([0.5])
    unused = tf.Variable(1.0)
    X = tf.constant([[1.0, 1.0], [2.0, 0.0]])
    with tf.GradientTape() as tape:
        y = tf.matmul(X, w) + b  # non-scalar: the gradient of its sum
    dw, db, du = tape.gradient(y, [w, b, unused])
    assert dw.numpy().tolist() == [[3.0], [1.0]] and db.numpy().tolist() == [2.0]
    assert du is None
    with tf.GradientTape() as tape:
        y = w * 3
    grads = tape.gradient(y, {"w": w, "unused": unused}, unconnected_gradients="zero")
    assert grads["w"].numpy().tolist() == [[3.0], [3.0]] and grads["unused"].numpy() == 0.0


def test_watch_constants_and_watch_accessed_variables() -> None:
    x = tf.constant(3.0)
    with tf.GradientTape() as tape:
        y = x * x
    assert tape.gradient(y, x) is None  # a constant is not watched
    with tf.GradientTape() as tape:
        tape.watch(x)
        y = x * x
    assert tape.gradient(y, x).numpy() == 6.0
    v = tf.Variable(2.0)
    with tf.GradientTape(watch_accessed_variables=False) as tape:
        y = v * v
    assert tape.gradient(y, v) is None
    with tf.GradientTape(watch_accessed_variables=False) as tape:
        tape.watch(v)
        y = v * v
    assert tape.gradient(y, v).numpy() == 4.0
    with tf.GradientTape() as tape:
        y = x * v  # x was watched by an earlier tape only
    assert tape.gradient(y, [x, v])[0] is None


def test_persistent_tape_stop_gradient_and_stop_recording() -> None:
    x = tf.Variable([1.0, 2.0])
    with tf.GradientTape(persistent=True) as t:
        y = x * x
        u = tf.stop_gradient(y)
        z = u * x
        with t.stop_recording():
            ignored = x * 10
    assert t.gradient(z, x).numpy().tolist() == [1.0, 4.0]
    assert t.gradient(y, x).numpy().tolist() == [2.0, 4.0]
    assert t.gradient(ignored, x) is None


def test_jacobian_and_second_derivatives() -> None:
    x = tf.Variable([1.0, 2.0, 3.0])
    with tf.GradientTape() as tape:
        y = x * x
    jac = tape.jacobian(y, x)
    assert jac.shape == (3, 3)
    onp.testing.assert_array_equal(jac.numpy(), onp.diag([2.0, 4.0, 6.0]))
    with tf.GradientTape() as outer:
        with tf.GradientTape() as inner:
            y = tf.reduce_sum(x ** 3)
        dy = inner.gradient(y, x)
    assert dy.numpy().tolist() == [3.0, 12.0, 27.0]
    assert outer.gradient(dy, x).numpy().tolist() == [6.0, 12.0, 18.0]


def test_control_flow_gradient() -> None:
    a = tf.Variable(-0.3)
    with tf.GradientTape() as t:
        b = a * 2
        while tf.norm(b) < 1000:
            b = b * 2
        c = b if tf.reduce_sum(b) > 0 else 100 * b
    assert t.gradient(c, a).numpy() == 409600.0


def test_core_gradient_tape_on_native_tensors() -> None:
    x = cr.tensor([1.0, 2.0])
    w = cr.tensor([3.0, 4.0], requires_grad=True)
    with cr.GradientTape() as tape:
        tape.watch(x)
        y = (x * w).sum()
    dx, dw = tape.gradient(y, [x, w])
    assert dx.tolist() == [3.0, 4.0] and dw.tolist() == [1.0, 2.0]
    assert w.grad is None  # the tape writes no .grad


def test_only_operations_inside_a_tape_are_recorded() -> None:
    v = tf.Variable(3.0)
    y = v * v  # before the tape: TensorFlow records nothing here
    assert y.grad_fn is None
    with tf.GradientTape() as tape:
        z = y * v
    assert tape.gradient(z, v).numpy() == 9.0  # y is a constant to this tape
    with tf.GradientTape(persistent=True) as tape:
        z = v * v
    after = z * v  # after the tape closed
    assert after.grad_fn is None and tape.gradient(after, v) is None
    assert tape.gradient(z, v).numpy() == 6.0


def test_tensors_are_immutable() -> None:
    x = tf.constant([1.0, 2.0])
    y = x
    y += 1
    assert y is not x and x.numpy().tolist() == [1.0, 2.0] and y.numpy().tolist() == [2.0, 3.0]
    with pytest.raises(TypeError, match="does not support item assignment"):
        x[0] = 5.0
    v = tf.Variable([1.0, 2.0])
    w = v
    w += 1  # a variable too: a new tensor, the variable is unchanged
    assert type(w) is tf.Tensor and v.numpy().tolist() == [1.0, 2.0]


def test_core_tape_options() -> None:
    x = cr.tensor([1.0, 2.0])
    with cr.no_grad(), cr.GradientTape(persistent=True) as tape:  # a tape records regardless
        tape.watch(x)
        y = x * x
    assert tape.gradient(y, x, output_gradients=cr.tensor([1.0, 0.0])).tolist() == [2.0, 0.0]
    assert tape.jacobian(y, x).tolist() == [[2.0, 0.0], [0.0, 4.0]]
    assert tape.jacobian(y, [x, cr.tensor(1.0)])[1] is None
    assert tape.watched_variables() == (x,)
    with pytest.raises(ValueError, match="must be recording"), tape.stop_recording():
        pass
    with pytest.raises(ValueError, match="can only watch tensors"), cr.GradientTape() as t:
        t.watch([1.0])
    assert cr.is_grad_enabled() and not cr.modes.state.recording  # modes restored
    with cr.GradientTape(persistent=True) as t:
        t.watch(x)
        y = cr.sin(x)
        twice = y * 2
    assert t.gradient([y, twice], x).tolist() == pytest.approx((3 * onp.cos([1.0, 2.0])).tolist())
    # y * 2 computed after the block was not recorded by the tape: a constant to it
    assert t.gradient([y, y * 2], x).tolist() == pytest.approx(onp.cos([1.0, 2.0]).tolist())


# ---------------------------------------------------------------- TensorFlow refuses mixed dtypes
MIXED = [
    "tf.constant(1.0) + tf.constant(1, tf.int32)",
    "tf.constant([1.0], tf.float64) * tf.constant([1.0])",
    "tf.constant([1.0]) - tf.Variable([1.0], dtype=tf.float64)",
    "tf.add(tf.constant([1]), tf.constant([1], tf.int64))",
    "tf.maximum(tf.constant([1.0]), tf.constant([1]))",
    "tf.matmul(tf.constant([[1.0]]), tf.constant([[1]]))",
    "tf.tensordot(tf.constant([1.0]), tf.constant([1]), axes=1)",
    "tf.where(tf.constant([True]), tf.constant([1.0]), tf.constant([1]))",
    "tf.concat([tf.constant([1.0]), tf.constant([1])], 0)",
    "tf.stack([tf.constant([1.0]), tf.constant([1])])",
    "tf.constant([1.0]) < tf.constant([1])", "tf.constant([1.0]) ** tf.constant([2])",
    "tf.sqrt(tf.constant([1, 4]))", "tf.exp(tf.constant([1]))", "tf.nn.sigmoid(tf.constant([1]))",
    "tf.math.log(tf.constant([1]))",
]


@pytest.mark.parametrize("expression", MIXED)
def test_mixed_dtypes_raise_invalid_argument_error(expression) -> None:
    with pytest.raises(tf.errors.InvalidArgumentError) as caught:
        eval(expression, {"tf": tf})
    message = str(caught.value)
    assert ("expected to be a" in message or "not in the list of allowed values" in message)
    assert "tf.cast" in message  # how to fix it
    assert isinstance(caught.value, tf.errors.OpError)


@pytest.mark.parametrize("expression", [
    "tf.constant([1, 2]) + 1.5", "2.5 * tf.constant([1, 2])", "tf.constant([1, 2]) < 1.5",
    "tf.add(tf.constant([1]), 1.5)", "tf.constant([1.0]) + 1j",
    "tf.constant([1, 2]) + onp.array([0.5, 1.5])",
])
def test_a_value_that_cannot_take_the_tensors_dtype_raises_type_error(expression) -> None:
    with pytest.raises(TypeError, match="Cannot convert .* to EagerTensor of dtype"):
        eval(expression, {"tf": tf, "onp": onp})


@pytest.mark.parametrize("expression, dtype", [
    ("tf.constant([1.0]) + 1", "float32"), ("2 * tf.constant([1.0], tf.float64)", "float64"),
    ("tf.constant([1.0]) * 2.5", "float32"), ("tf.constant([2]) ** 2", "int32"),
    ("tf.constant([1.0]) + onp.array([1.0])", "float32"),  # converted to the tensor's dtype
    ("tf.constant([1.0]) * onp.float64(2.0)", "float32"),
    ("onp.float64(2.0) * tf.constant([1.0])", "float32"),
    ("tf.constant([1, 2]) + onp.array([1, 2])", "int32"),
    ("tf.constant([1.0]) + tf.Variable([2.0])", "float32"),
    ("tf.constant([1, 2], tf.int32) // 2", "int32"),
    ("tf.constant([1, 2]) / tf.constant([2, 2])", "float64"),  # int32 divides in float64
    ("tf.constant([1, 2]) / 2", "float64"),
    ("tf.constant([1, 2], tf.int8) / tf.constant([2, 2], tf.int8)", "float32"),
    ("tf.constant([1.0]) / 2", "float32"), ("1 / tf.constant([2.0], tf.float64)", "float64"),
    ("tf.reduce_sum(tf.constant([1, 2]))", "int32"),
    ("tf.reduce_mean(tf.constant([1, 2]))", "int32"),  # an integer mean, as TensorFlow's
    ("tf.constant([1, 2]) < 2", "bool"),
])
def test_dtypes_follow_tensorflow(expression, dtype) -> None:
    out = eval(expression, {"tf": tf, "onp": onp})
    assert isinstance(out, tf.Tensor) and out.dtype == onp.dtype(dtype)


def test_integer_division_and_mean_values() -> None:
    assert tf.reduce_mean(tf.constant([1, 2])).numpy() == 1
    assert (tf.constant([1, 2]) / 2).numpy().tolist() == [0.5, 1.0]
    with pytest.raises(TypeError, match="`x` and `y` must have the same dtype"):
        tf.constant([1, 2]) / tf.constant([1.0, 2.0])
    with pytest.raises(TypeError, match="`x` and `y` must have the same dtype"):
        tf.constant([1, 2]) / 2.5
    assert (tf.constant([1]) == None) is False and (tf.constant([1]) != None) is True  # noqa: E711


def test_refusals_leave_variables_as_they_were_and_casting_works() -> None:
    v = tf.Variable([1.0, 2.0])
    with tf.GradientTape() as tape:
        with pytest.raises(tf.errors.InvalidArgumentError):
            v * tf.constant([1, 2])
        y = tf.reduce_sum(v * tf.cast(tf.constant([1, 2]), tf.float32))
    assert v.numpy().tolist() == [1.0, 2.0]
    assert tape.gradient(y, v).numpy().tolist() == [1.0, 2.0]


def test_a_tensor_combined_with_a_pandas_object_holds_numpy_data() -> None:
    pd = pytest.importorskip("pandas")
    series = pd.Series([1.0, 3.0])
    x = tf.constant([2.0, 2.0], tf.float64)
    for out in (x + series, x < series, tf.add(x, series), tf.sqrt(series)):
        assert isinstance(out, tf.Tensor) and type(out.data) is onp.ndarray
    assert (tf.constant([2.0, 2.0]) * series).dtype == tf.float32  # converted to the tensor's
