"""How data becomes a tensor (``cr.tensor`` and every function taking raw data): the defaults for
Python numbers, dtypes kept from NumPy and array-likes, clear refusals for what is not numbers;
and what happens when a tensor meets a pandas object."""

from __future__ import annotations

import numpy as np
import pytest

import chainrule as cr


@pytest.mark.parametrize("data, dtype", [
    (1.5, "float32"), (2, "int64"), (True, "bool"), (1j, "complex64"),
    ([1.0, 2], "float32"), ([1, 2], "int64"), ([True, False], "bool"), ([1j, 2], "complex64"),
    ([[1.0, 2.0], [3.0, 4.0]], "float32"), ((1, 2.5), "float32"), ([], "float32"),
    (np.float64(1.0), "float64"), (np.float32(1.0), "float32"), (np.int32(3), "int32"),
    ([np.float64(1.0), np.float64(2.0)], "float64"), ([np.float64(1.0), 2.0], "float64"),
    ([np.float32(1.0), 2.0], "float32"), ([np.int32(1), 2], "int64"),
    (np.arange(3), "int64"), (np.zeros(2), "float64"), (np.zeros(2, "float16"), "float16"),
    ([np.zeros(2), np.ones(2)], "float64"), ([np.zeros(2, "float32"), [1.0, 2.0]], "float32"),
])
def test_python_numbers_take_the_defaults_numpy_values_keep_their_dtype(data, dtype) -> None:
    assert cr.tensor(data).dtype == np.dtype(dtype)
    assert cr.tensor(data, dtype="complex128").dtype == np.complex128  # dtype= always wins


@pytest.mark.parametrize("data, found", [
    (None, "NoneType"), ("abc", "str"), ([1.0, "a", None], "str"), ([1.0, None], "NoneType"),
    ([[1.0], [object()]], "object"), (np.array(["a", "b"]), "str"),
    (np.array([1.0, None], dtype=object), "NoneType"),
])
def test_data_that_are_not_numbers_raise_a_clear_type_error(data, found) -> None:
    with pytest.raises(TypeError, match=rf"^Could not infer dtype of {found}: a tensor holds "
                                        r"numbers .* convert it to numbers first"):
        cr.tensor(data)
    with pytest.raises(TypeError, match="Could not infer dtype"):
        cr.tensor(data, dtype="float32")  # "1.5" strings are not parsed either


def test_an_integer_too_large_for_any_dtype_is_an_overflow() -> None:
    with pytest.raises(OverflowError, match="does not fit"):
        cr.tensor([2 ** 70])


def test_functions_taking_raw_data_convert_it_the_same_way() -> None:
    assert cr.sin(np.float64(1.0)).dtype == np.float64
    assert cr.sin([np.float64(1.0)]).dtype == np.float64
    assert cr.sin(1.0).dtype == np.float32
    with pytest.raises(TypeError, match="Could not infer dtype of NoneType"):
        cr.sin(None)


# ---------------------------------------------------------------- pandas
def test_pandas_values_keep_their_dtype() -> None:
    pd = pytest.importorskip("pandas")
    series = pd.Series([1.0, 2.0, 4.0])
    assert cr.tensor(series).dtype == np.float64
    assert cr.tensor(series).tolist() == [1.0, 2.0, 4.0]
    assert cr.tensor(pd.Series([1, 2], dtype="int32")).dtype == np.int32
    frame = pd.DataFrame({"a": [1.0, 2.0], "b": [3, 4]})
    assert cr.tensor(frame).dtype == np.float64 and cr.tensor(frame).shape == (2, 2)
    assert cr.tensor(frame.values).dtype == np.float64
    out = cr.sin(series)
    assert type(out.data) is np.ndarray and out.dtype == np.float64
    with pytest.raises(TypeError, match="Could not infer dtype of str"):
        cr.tensor(pd.DataFrame({"a": [1.0], "name": ["x"]}))


def test_a_pandas_object_on_the_left_of_a_tensor_hands_the_operation_to_it() -> None:
    """``series + t``: pandas defers to the tensor (``__pandas_priority__``), which converts
    the Series, so the result is a tensor of NumPy data that keeps the gradient."""
    pd = pytest.importorskip("pandas")
    series = pd.Series([1.0, 2.0])
    t = cr.tensor([10.0, 20.0], requires_grad=True)
    out = series * t
    assert isinstance(out, cr.Tensor) and type(out.data) is np.ndarray
    assert out.dtype == np.float64  # a Series is float64 data
    out.sum().backward()
    assert t.grad.tolist() == [1.0, 2.0] and t.grad.dtype == np.float32


@pytest.mark.parametrize("op", ["add", "multiply", "maximum"])
def test_a_tensor_combined_with_a_pandas_object_holds_a_numpy_array(op) -> None:
    """NumPy's operators hand ``ndarray + Series`` to pandas; the core converts constants
    that are array-likes of another kind (not arrays, not array-API libraries) first."""
    pd = pytest.importorskip("pandas")
    t = cr.tensor([1.0, 2.0], requires_grad=True)
    out = getattr(cr, op)(t, pd.Series([10.0, 20.0]))
    assert type(out.data) is np.ndarray
    out.sum().backward()
    assert type(t.grad.data) is np.ndarray
