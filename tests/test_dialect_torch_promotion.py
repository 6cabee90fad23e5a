"""``chainrule.torch`` promotes dtypes and raises exceptions as PyTorch does.

The first tests have PyTorch's answers written out, so they run without it; the differential
ones compare with PyTorch itself over grids of operand kinds (Python numbers, 0-d and n-d
tensors of every common dtype) and are skipped where it is not installed. Real PyTorch is
``real`` here; ``torch`` is always the dialect.
"""

from __future__ import annotations

import itertools
import operator
import warnings

import numpy as np
import pytest

import chainrule as cr
import chainrule.torch as torch


@pytest.fixture(scope="module")
def real():
    return pytest.importorskip("torch")


def evaluate(expression: str, module=torch):
    return eval(expression, {"torch": module, "np": np, "F": module.nn.functional})


# ---------------------------------------------------------------- written out
EXPECTED_DTYPES = [
    # the examples
    ("torch.tensor([1.0, 2, 4, 8]) + torch.tensor([2, 2, 2, 2])", "float32"),
    ("torch.tensor([1, 2]) / torch.tensor([2, 2])", "float32"),
    ("torch.sqrt(torch.tensor([1, 4]))", "float32"),
    ("torch.ones(2) * np.float64(2.0)", "float32"),
    ("torch.ones(2) * torch.tensor(2.0, dtype=torch.float64)", "float32"),
    ("torch.tensor([1.0, 2.0]) ** torch.tensor([1, 2])", "float32"),
    # categories: the higher wins; dimensioned tensors > 0-d tensors > Python numbers
    ("torch.tensor([1, 2], dtype=torch.int32) + 1", "int32"),
    ("torch.tensor([1, 2], dtype=torch.int32) + torch.tensor(1)", "int32"),
    ("torch.tensor([1, 2], dtype=torch.int32) + torch.tensor([1])", "int64"),
    ("torch.tensor([1, 2]) * 2.5", "float32"),
    ("torch.tensor([1, 2]) * torch.tensor(2.5, dtype=torch.float64)", "float64"),
    ("torch.tensor(1.0, dtype=torch.float64) + torch.tensor([1, 2], dtype=torch.float16)",
     "float16"),
    ("torch.tensor(1) + torch.tensor([1, 2], dtype=torch.uint8)", "uint8"),
    ("torch.tensor([1], dtype=torch.uint8) + torch.tensor([1], dtype=torch.int8)", "int16"),
    ("torch.tensor([True]) + 1", "int64"), ("torch.tensor([True]) + True", "bool"),
    ("torch.tensor([1, 2]) + 1j", "complex64"), ("torch.ones(2, dtype=torch.float64) + 1j",
                                                  "complex128"),
    ("torch.ones(2) + torch.tensor(1j, dtype=torch.complex128)", "complex64"),
    ("torch.ones(2, dtype=torch.float64) + torch.tensor(1j)", "complex128"),
    # division and floating functions of integers: the default float dtype
    ("1 / torch.tensor([1, 2])", "float32"), ("torch.tensor([1, 2]).div(2)", "float32"),
    ("torch.tensor([1, 2]) // 2", "int64"), ("torch.tensor([1, 2]) % 1.5", "float32"),
    ("torch.exp(torch.tensor([1, 2]))", "float32"), ("torch.tensor([True]).sigmoid()", "float32"),
    ("torch.tensor([1, 2], dtype=torch.uint8).sqrt()", "float32"),
    ("torch.tensor([1, 2], dtype=torch.float64).log()", "float64"),
    ("torch.tensor([1, 2]).abs()", "int64"), ("torch.tensor([1, 2]).relu()", "int64"),
    # pow
    ("torch.tensor([2]) ** 0.5", "float32"), ("2 ** torch.tensor([1, 2])", "int64"),
    ("2.5 ** torch.tensor([1, 2])", "float32"), ("torch.tensor(2) ** torch.tensor([1.0])",
                                                 "float32"),
    # comparisons
    ("torch.tensor([1, 2]) < 1.5", "bool"), ("torch.tensor([1.0]) == torch.tensor([1])", "bool"),
    # functions
    ("torch.maximum(torch.tensor([1.0, 2]), torch.tensor([1, 2]))", "float32"),
    ("torch.where(torch.tensor([True, False]), torch.tensor([1, 2]), 2.5)", "float32"),
    ("torch.where(torch.tensor([True, False]), torch.tensor([1.0, 2]), torch.tensor([1, 2]))",
     "float32"),
    ("torch.cat([torch.tensor([1.0, 2]), torch.tensor([1, 2])])", "float32"),
    ("torch.stack([torch.tensor([1, 2]), torch.tensor([1.0, 2], dtype=torch.float64)])",
     "float64"),
    ("torch.tensor([1, 2]).clamp(0.5, 1)", "float32"),
    ("torch.tensor([1, 2]).masked_fill(torch.tensor([True, False]), 3.5)", "int64"),
    ("torch.add(torch.tensor([1, 2]), 2.5)", "float32"),
    ("F.mse_loss(torch.ones(2), torch.tensor([1, 2]))", "float32"),
    # reductions: integers and booleans accumulate in int64
    ("torch.tensor([1, 2], dtype=torch.int32).sum()", "int64"),
    ("torch.tensor([1, 2], dtype=torch.uint8).sum()", "int64"),
    ("torch.tensor([True, False]).sum()", "int64"),
    ("torch.tensor([1, 2], dtype=torch.int32).prod()", "int64"),
    ("torch.tensor([1, 2], dtype=torch.int32).cumsum(0)", "int64"),
    ("torch.tensor([1, 2]).sum(dtype=torch.float32)", "float32"),
    ("torch.tensor([1, 2]).mean(dtype=torch.float64)", "float64"),
    ("torch.tensor([1, 2], dtype=torch.int32).max()", "int32"),
    ("torch.tensor([1, 2]).logsumexp(0)", "float32"),
    # NumPy values
    ("np.float64(2.0) * torch.ones(2)", "float32"), ("np.exp(torch.tensor([1, 2]))", "float64"),
    ("torch.tensor([1, 2]) * np.float32(2.5)", "float32"),
    ("torch.tensor([1, 2], dtype=torch.int8) * np.int64(2)", "int8"),
    ("torch.ones(2) * np.array([2.0])", "float64"),
    # new tensors
    ("torch.tensor([np.float64(1.0), 2.0])", "float64"), ("torch.tensor([1.0, 2])", "float32"),
    ("torch.tensor([np.int64(1), 2.5])", "float32"), ("torch.tensor(np.int32(1))", "int32"),
]


@pytest.mark.parametrize("expression, dtype", EXPECTED_DTYPES)
def test_result_dtypes_are_pytorchs(expression, dtype) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no NumPy warning on the way
        assert evaluate(expression).dtype == getattr(torch, dtype)


@pytest.mark.parametrize("expression, dtype", EXPECTED_DTYPES)
def test_written_out_dtypes_are_pytorchs(real, expression, dtype) -> None:
    """The table above is PyTorch's own answer."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # (PyTorch's own deprecation warnings)
        assert evaluate(expression, real).dtype == getattr(real, dtype)


def test_promotion_helpers_mirror_pytorchs() -> None:
    assert torch.result_type(torch.tensor([1, 2], dtype=torch.int32), 1.0) == torch.float32
    assert torch.result_type(torch.tensor([1, 2], dtype=torch.uint8), torch.tensor(1)) == (
        torch.uint8)
    assert torch.promote_types(torch.int64, torch.float32) is torch.float32
    assert torch.promote_types(torch.complex64, torch.float64) is torch.complex128
    assert torch.can_cast(torch.float64, torch.float32)
    assert not torch.can_cast(torch.float32, torch.int64)
    assert torch.get_default_dtype() is torch.float32


DTYPE_NAMES = ["bool", "uint8", "int8", "int16", "int32", "int64", "float16", "float32",
               "float64", "complex64", "complex128"]


def test_promote_types_and_can_cast_agree_with_pytorch(real) -> None:
    for first, second in itertools.product(DTYPE_NAMES, repeat=2):
        ours, theirs = getattr(torch, first), getattr(torch, second)
        expected = real.promote_types(getattr(real, first), getattr(real, second))
        assert repr(torch.promote_types(ours, theirs)) == repr(expected), (first, second)
        assert torch.can_cast(ours, theirs) == real.can_cast(getattr(real, first),
                                                             getattr(real, second))


# ---------------------------------------------------------------- grids against PyTorch
GRID_DTYPES = ["bool", "int32", "int64", "float32", "float64", "complex64"]
NUMBERS = {"True": True, "2": 2, "1.5": 1.5, "(1.5+0.5j)": 1.5 + 0.5j}


def operands(module) -> dict:
    """Every kind of operand: Python numbers, 0-d and n-d tensors of the grid's dtypes (no zeros
    and no negative numbers, so that division and powers stay finite)."""
    kinds = dict(NUMBERS)
    for name in GRID_DTYPES:
        dtype = getattr(module, name)
        kinds[f"0-d {name}"] = module.tensor(True if name == "bool" else 2, dtype=dtype)
        kinds[f"n-d {name}"] = module.tensor([True] * 3 if name == "bool" else [1, 2, 3],
                                             dtype=dtype)
    return kinds


def outcome(function, *args):
    """(dtype name, values) of ``function(*args)``, or the exception it raised."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            out = function(*args)
    except Exception as error:  # noqa: BLE001 - compared with PyTorch's
        return error
    values = out.detach().numpy() if hasattr(out, "detach") else np.asarray(out)
    return str(out.dtype).split(".")[-1], np.asarray(values)


def differences(ours, theirs, what: str) -> list:
    """Where our outcome is not PyTorch's: the dtype, the values, or the exception's class (ours
    must be an instance of PyTorch's, so that code catching it keeps working)."""
    if isinstance(theirs, Exception) or isinstance(ours, Exception):
        if isinstance(theirs, Exception) and isinstance(ours, type(theirs)):
            return []
        return [f"{what}: PyTorch {theirs!r:.80}, ours {ours!r:.80}"]
    if ours[0] != theirs[0]:
        return [f"{what}: PyTorch {theirs[0]}, ours {ours[0]}"]
    if not np.allclose(ours[1], theirs[1], rtol=1e-5, atol=1e-6, equal_nan=True):
        return [f"{what}: PyTorch {theirs[1]}, ours {ours[1]}"]
    return []


BINARY = {
    "+": operator.add, "-": operator.sub, "*": operator.mul, "/": operator.truediv,
    "**": operator.pow, "//": operator.floordiv, "%": operator.mod, "==": operator.eq,
    "<": operator.lt, ">=": operator.ge,
}
# PyTorch's one quirk left out: a bool tensor to a Python bool power is a bool tensor there
# (ours refuses it, as PyTorch refuses a bool tensor to a bool tensor power).
SKIPPED = {(symbol, left, "True") for symbol in ("**", "torch.pow")
           for left in ("0-d bool", "n-d bool")}


@pytest.mark.parametrize("symbol", list(BINARY))
def test_binary_operators_promote_as_pytorch(real, symbol) -> None:
    ours, theirs = operands(torch), operands(real)
    function = BINARY[symbol]
    found = []
    for left, right in itertools.product(ours, repeat=2):
        if left in NUMBERS and right in NUMBERS or (symbol, left, right) in SKIPPED:
            continue
        found += differences(outcome(function, ours[left], ours[right]),
                             outcome(function, theirs[left], theirs[right]),
                             f"{left} {symbol} {right}")
    assert not found, "\n".join(found)


FUNCTIONS = {
    "torch.add": lambda m, a, b: m.add(a, b), "torch.mul": lambda m, a, b: m.mul(a, b),
    "torch.div": lambda m, a, b: m.div(a, b), "torch.pow": lambda m, a, b: m.pow(a, b),
    "torch.maximum": lambda m, a, b: m.maximum(a, b),
    "torch.where": lambda m, a, b: m.where(m.tensor([True, False, True]), a, b),
    "torch.eq": lambda m, a, b: m.eq(a, b),
    "Tensor.sub": lambda m, a, b: a.sub(b), "Tensor.clamp": lambda m, a, b: a.clamp(min=b),
}


@pytest.mark.parametrize("name", list(FUNCTIONS))
def test_functions_and_methods_promote_as_pytorch(real, name) -> None:
    ours, theirs = operands(torch), operands(real)
    function = FUNCTIONS[name]
    found = []
    for left, right in itertools.product(ours, repeat=2):
        if left in NUMBERS:  # (the first argument is a tensor in PyTorch's signatures)
            continue
        if name == "torch.maximum" and right in NUMBERS or (name, left, right) in SKIPPED:
            continue
        found += differences(outcome(function, torch, ours[left], ours[right]),
                             outcome(function, real, theirs[left], theirs[right]),
                             f"{name}({left}, {right})")
    assert not found, "\n".join(found)


def test_cat_and_stack_promote_as_pytorch(real) -> None:
    found = []
    for first, second in itertools.product(GRID_DTYPES, repeat=2):
        for name in ("cat", "stack"):
            def join(module, name=name, first=first, second=second):
                parts = [module.tensor([1, 1], dtype=getattr(module, dtype))
                         for dtype in (first, second)]
                return getattr(module, name)(parts)

            found += differences(outcome(join, torch), outcome(join, real),
                                 f"{name} of {first} and {second}")
    assert not found, "\n".join(found)


FLOATING = ("exp expm1 log log1p log2 log10 sqrt reciprocal sin cos tan asin acos atan sinh cosh "
            "tanh sigmoid").split()


@pytest.mark.parametrize("name", FLOATING)
def test_floating_functions_of_integers_are_float32_as_in_pytorch(real, name) -> None:
    found = []
    for dtype in ["bool", "uint8", "int32", "int64", "float32", "float64", "complex64"]:
        for data in ([1, 2, 3], 2):
            for method in (False, True):
                def apply(module, dtype=dtype, data=data, method=method):
                    x = module.tensor(data, dtype=getattr(module, dtype))
                    return getattr(x, name)() if method else getattr(module, name)(x)

                form = f"Tensor.{name}" if method else f"torch.{name}"
                found += differences(outcome(apply, torch), outcome(apply, real),
                                     f"{form} of {dtype} {np.ndim(data)}-d")
    assert not found, "\n".join(found)


REDUCTIONS = {
    "sum": lambda x: x.sum(), "sum(0)": lambda x: x.sum(0), "prod": lambda x: x.prod(),
    "cumsum": lambda x: x.cumsum(0), "mean": lambda x: x.mean(), "max": lambda x: x.max(),
    "amin": lambda x: x.amin(0), "logsumexp": lambda x: x.logsumexp(0),
}


@pytest.mark.parametrize("name", list(REDUCTIONS))
def test_reductions_keep_pytorchs_dtypes(real, name) -> None:
    found = []
    for dtype in ["bool", "uint8", "int32", "int64", "float32", "float64"]:
        def reduce(module, dtype=dtype):
            return REDUCTIONS[name](module.tensor([1, 2, 3], dtype=getattr(module, dtype)))

        found += differences(outcome(reduce, torch), outcome(reduce, real), f"{name} of {dtype}")
    assert not found, "\n".join(found)


GRAD_KINDS = [("float32", 0), ("float32", 1), ("float64", 0), ("float64", 1),
              ("complex64", 1), ("number", None)]


@pytest.mark.parametrize("symbol", ["+", "-", "*", "/", "**"])
def test_gradients_come_back_in_each_inputs_dtype_as_in_pytorch(real, symbol) -> None:
    """Promotion casts with a recorded astype: each input's gradient is in its own dtype, with
    PyTorch's values."""
    found = []
    for left, right in itertools.product(GRAD_KINDS, repeat=2):
        if left[0] == right[0] == "number":
            continue
        results = []
        for module in (torch, real):
            def make(kind, module=module):
                name, ndim = kind
                if name == "number":
                    return 1.5
                return module.tensor([1.5, 2.0, 3.0] if ndim else 2.5,
                                     dtype=getattr(module, name), requires_grad=True)

            x, y = make(left), make(right)
            out = BINARY[symbol](x, y)
            loss = (out * out.conj()).real.sum() if out.dtype.is_complex else out.sum()
            loss.backward()
            grads = [t.grad for t in (x, y) if not isinstance(t, float)]
            results.append((str(out.dtype), [str(g.dtype) for g in grads],
                            [np.asarray(g.detach().numpy()) for g in grads]))
        (dtype, grad_dtypes, grads), (their_dtype, their_grad_dtypes, their_grads) = results
        what = f"{left} {symbol} {right}"
        if (dtype, grad_dtypes) != (their_dtype, their_grad_dtypes):
            found.append(f"{what}: PyTorch {their_dtype} {their_grad_dtypes}, ours {dtype} "
                         f"{grad_dtypes}")
        elif not all(np.allclose(a, b, rtol=1e-5) for a, b in zip(grads, their_grads,
                                                                  strict=True)):
            found.append(f"{what}: gradients {their_grads} in PyTorch, ours {grads}")
    assert not found, "\n".join(found)


def test_pow_with_integer_tensor_exponents(real) -> None:
    for module in (torch, real):
        x = module.tensor([1.0, 2.0, 3.0], requires_grad=True)
        y = x ** module.tensor([2, 1, 0])
        y.sum().backward()
        assert y.dtype == module.float32 and x.grad.dtype == module.float32
        assert x.grad.tolist() == [2.0, 1.0, 0.0]
        assert (module.tensor([2, 3]) ** module.tensor([2, 2])).dtype == module.int64
        assert (2.0 ** module.tensor([1, 2])).tolist() == [2.0, 4.0]


# ---------------------------------------------------------------- in place
def test_in_place_operations_keep_the_tensors_dtype() -> None:
    x = torch.ones(3)
    x += torch.ones(3, dtype=torch.float64)
    assert x.dtype == torch.float32 and x.tolist() == [2.0] * 3
    x.mul_(torch.tensor([1, 2, 3]))
    assert x.dtype == torch.float32 and x.tolist() == [2.0, 4.0, 6.0]
    n = torch.tensor([1, 2])
    n += 1
    assert n.dtype == torch.int64 and n.tolist() == [2, 3]


@pytest.mark.parametrize("update", [
    lambda t: t.add_(1.5), lambda t: t.__iadd__(0.5), lambda t: t.div_(2),
    lambda t: t.mul_(torch.ones(2)), lambda t: t.sub_(torch.ones(3)),
])
def test_refused_in_place_operations_raise_runtime_error_and_change_nothing(update) -> None:
    t = torch.tensor([1, 2])
    buffer = t._array
    with pytest.raises(RuntimeError, match="can't be cast|must match the size"):
        update(t)
    assert t.tolist() == [1, 2] and t.dtype == torch.int64 and t._array is buffer


def test_in_place_refusals_agree_with_pytorch(real) -> None:
    for module in (torch, real):
        with pytest.raises(RuntimeError, match="result type Float can't be cast to the "
                                               "desired output type Long"):
            module.arange(3).add_(1.5)
        with pytest.raises(RuntimeError, match="can't be cast to the desired output type Bool"):
            module.tensor([True]).add_(1)


# ---------------------------------------------------------------- exceptions
EXCEPTIONS = [
    ("torch.ones(2) + torch.ones(3)", RuntimeError, "must match the size of tensor b"),
    ("torch.ones(2, 3) * torch.ones(4, 1, 2)", RuntimeError, "at non-singleton dimension 2"),
    ("torch.ones(2).add(torch.ones(3))", RuntimeError, "must match"),
    ("torch.arange(6.0).view(4)", RuntimeError, r"shape '\[4\]' is invalid for input of size 6"),
    ("torch.arange(6.0).reshape(-1, 4)", RuntimeError, "is invalid for input of size 6"),
    ("torch.cat([torch.ones(2, 2), torch.ones(2, 3)])", RuntimeError,
     "Sizes of tensors must match except in dimension 0"),
    ("torch.cat([torch.tensor(1.0), torch.tensor(2.0)])", RuntimeError, "zero-dimensional"),
    ("torch.stack([torch.ones(2), torch.ones(3)])", RuntimeError, "equal size"),
    ("torch.ones(2, 3) @ torch.ones(2, 3)", RuntimeError, "cannot be multiplied"),
    ("torch.mm(torch.ones(2, 3), torch.ones(3, 2, dtype=torch.float64))", RuntimeError,
     "same dtype"),
    ("torch.dot(torch.ones(2, 2), torch.ones(2))", RuntimeError, "1D tensors expected"),
    ("torch.tensor([1, 2], requires_grad=True)", RuntimeError,
     "floating point and complex dtype can require gradients"),
    ("torch.arange(3).requires_grad_()", RuntimeError, "can require gradients"),
    ("torch.zeros(2, dtype=torch.int32, requires_grad=True)", RuntimeError, "require gradients"),
    ("bool(torch.ones(2))", RuntimeError, "more than one value is ambiguous"),
    ("float(torch.ones(2))", ValueError, "only one element tensors"),
    ("torch.ones(2).item()", RuntimeError, "cannot be converted to Scalar"),
    ("torch.ones(2, 3).expand(3, 3)", RuntimeError, "The expanded size of the tensor"),
    ("torch.ones(2, 3).permute(0)", RuntimeError, "number of dimensions"),
    ("torch.ones(2).sum(dim=3)", IndexError, "out of (bounds|range)"),
    ("torch.ones(2).unsqueeze(3)", IndexError, "out of (bounds|range)"),
    ("torch.ones(2).transpose(0, 3)", IndexError, "out of (bounds|range)"),
    ("torch.tensor([1, 2]).mean()", RuntimeError, "Input dtype must be either a floating point"),
    ("torch.tensor([1, 2]).var()", RuntimeError, "floating point"),
    ("torch.tensor([1, 2]).softmax(0)", NotImplementedError, "floating tensors only"),
    ("torch.tensor([1, 2], dtype=torch.int32) ** -1", RuntimeError,
     "Integers to negative integer powers are not allowed"),
    ("torch.tensor([True]) - torch.tensor([True])", RuntimeError, "Subtraction, the `-`"),
    ("-torch.tensor([True])", RuntimeError, "Negation, the `-` operator, on a bool tensor"),
    ("torch.tensor([1 + 1j]) < 1", NotImplementedError, "not implemented for 'ComplexFloat'"),
    ("torch.tensor([1 + 1j]) // 1", NotImplementedError, "not implemented for 'ComplexFloat'"),
    ("torch.ones(3, requires_grad=True).numpy()", RuntimeError, "detach"),
    ("torch.tensor(None)", RuntimeError, "Could not infer dtype of NoneType"),
    ("torch.tensor([1.0, None])", RuntimeError, "Could not infer dtype of NoneType"),
    ("torch.tensor('abc')", TypeError, "Could not infer dtype of str"),
    ("torch.ones(2, device='cuda')", AssertionError, "not compiled with CUDA"),
    ("torch.ones(2).to('cuda')", AssertionError, "not compiled with CUDA"),
    ("torch.ones(2).div(2, rounding_mode='round')", RuntimeError, "rounding_mode"),
    ("torch.ones(2) + None", TypeError, "unsupported operand"),
    ("torch.ones(2) < None", TypeError, "not supported between"),
    ("torch.ones(2) - [1.0, 2.0]", TypeError, "unsupported operand"),
]


def test_comparing_with_none_is_false_as_in_pytorch() -> None:
    assert (torch.ones(2) == None) is False and (torch.ones(2) != None) is True  # noqa: E711


@pytest.mark.parametrize("expression, error, message", EXCEPTIONS)
def test_exceptions_are_pytorchs_classes(expression, error, message) -> None:
    with pytest.raises(error, match=message) as caught:
        evaluate(expression)
    assert len(str(caught.value)) > 20  # says what was wrong


@pytest.mark.parametrize("expression, error, message", EXCEPTIONS)
def test_written_out_exceptions_are_pytorchs(real, expression, error, message) -> None:
    with pytest.raises(error):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            evaluate(expression, real)


def test_refusals_leave_the_tensors_as_they_were() -> None:
    x = torch.arange(6.0, requires_grad=True)
    with pytest.raises(RuntimeError):
        x.view(4)
    with pytest.raises(RuntimeError):
        x + torch.ones(4)
    with pytest.raises(RuntimeError):
        x.add_(1)  # a leaf that requires grad
    assert x.tolist() == list(range(6)) and x.grad is None and x.is_leaf and x.requires_grad
    n = torch.arange(3)
    with pytest.raises(RuntimeError):
        n.requires_grad_()
    assert not n.requires_grad


# ---------------------------------------------------------------- spellings
def test_numpy_names_for_dim_and_keepdim_are_accepted() -> None:
    x = torch.arange(6.0).reshape(2, 3)
    assert x.sum(axis=0, keepdims=True).shape == (1, 3)
    assert x.mean(axis=1).tolist() == [1.0, 4.0]
    assert torch.sum(x, axis=0).shape == (3,)
    assert x.max(axis=1).indices.tolist() == [2, 2]
    assert x.argmax(axis=1, keepdims=True).shape == (2, 1)
    assert x.std(axis=0).shape == (3,) and x.logsumexp(axis=1, keepdims=True).shape == (2, 1)
    assert torch.cat([x, x], axis=1).shape == (2, 6) and torch.stack([x, x], axis=0).shape == (
        2, 2, 3)
    assert x.softmax(axis=1).shape == (2, 3) and x.unsqueeze(axis=0).shape == (1, 2, 3)
    with pytest.raises(TypeError, match="both dim= and axis="):
        x.sum(dim=0, axis=0)


def test_device_arguments_accept_the_cpu() -> None:
    cpu = torch.device("cpu")
    assert torch.zeros(2, device="cpu").device == cpu == "cpu" and str(cpu) == "cpu"
    for make in (lambda d: torch.tensor([1.0], device=d), lambda d: torch.ones(2, device=d),
                 lambda d: torch.full((2,), 1.0, device=d), lambda d: torch.eye(2, device=d),
                 lambda d: torch.arange(3, device=d), lambda d: torch.randn(2, device=d),
                 lambda d: torch.linspace(0, 1, 3, device=d),
                 lambda d: torch.zeros_like(torch.ones(2), device=d),
                 lambda d: torch.normal(0, 1, (2,), device=d)):
        assert make("cpu").device.type == "cpu" and make(cpu).device == cpu
    x = torch.ones(2)
    assert x.to("cpu") is x and x.to(device=cpu) is x and x.cpu() is x
    assert x.to("cpu", torch.float64).dtype == torch.float64 and not x.is_cuda
    assert not torch.cuda.is_available() and torch.cuda.device_count() == 0


def test_grad_data_zero_as_in_old_pytorch_code() -> None:
    x = torch.ones(3, requires_grad=True)
    (x * x).sum().backward()
    x.grad.data.zero_()
    assert x.grad.tolist() == [0.0] * 3
    # .data: the same memory, no history, a version counter of its own (as PyTorch's)
    y = x * 2
    d = y.data
    assert isinstance(d, torch.Tensor) and d.grad_fn is None and not d.requires_grad
    d.mul_(10)
    assert y.tolist() == [20.0] * 3 and y._version == [0]
    with torch.no_grad():
        x.data = torch.zeros(3)  # replaces the values (PyTorch's x.data = t)
    assert x.tolist() == [0.0] * 3 and x.requires_grad


def test_a_tensor_combined_with_a_pandas_object_gives_a_tensor_of_numpy_data() -> None:
    pd = pytest.importorskip("pandas")
    x = torch.tensor([1.0, 2.0], requires_grad=True)
    series = pd.Series([10.0, 20.0])
    for out in (x + series, x * series, torch.maximum(x, series), torch.where(x > 1, x, series)):
        assert isinstance(out, torch.Tensor) and type(out._array) is np.ndarray
        assert out.dtype == torch.float64  # a Series is a float64 array to PyTorch
    (x * series).sum().backward()
    assert x.grad.tolist() == [10.0, 20.0] and x.grad.dtype == torch.float32
    assert torch.tensor(series).dtype == torch.float64


def test_native_tensors_keep_numpy_rules() -> None:
    """Only the dialect converts: the core keeps NumPy's promotion (DESIGN.md decision 11)."""
    assert (cr.tensor([1, 2]) / cr.tensor([2, 2])).dtype == np.float64
    assert cr.sqrt(cr.tensor([1, 4])).dtype == np.float64
