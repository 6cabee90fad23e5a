"""The modules are layers that import downward, and a tensor is derived from another one way.

The layers, bottom up: ``node`` (and ``dtypes``, ``modes``: no chainrule imports); the tensor's
mixins (``conversion``, ``grad_state``); the tensor and the op table, with the modules the
tensor's methods call (the one cycle: operator overloading needs it); the engine and forward
mode; the transforms and the tape; the dialects and the tools.
"""

from __future__ import annotations

import ast
import doctest
import importlib
import pickle
from pathlib import Path

import numpy as np
import pytest

import chainrule as cr

SRC = Path(cr.__file__).parent

# Each module's layer; a module not named here is in the layer of its package.
LAYERS = {
    "codegen": 0, "backends": 0, "array_api": 0, "node": 0, "dtypes": 0, "modes": 0,
    "conversion": 1, "grad_state": 1,
    "tensor": 2, "ops": 2, "views": 2, "in_place": 2, "numpy_protocol": 2, "api": 2,
    "linalg": 2, "fft": 2, "creation": 2,
    "random": 2, "kernels": 2, "anomaly": 2, "saved_hooks": 2,
    "engine": 3, "lazy": 3, "forward": 3, "donation": 3, "hooks": 3, "commit": 3,
    "functional": 4, "tape": 4, "lift": 4, "tree_util": 0, "gradcheck": 4,
    "custom": 4, "checkpoint": 4, "tracing": 4,
    "scipy": 4,
    "torch": 5, "mxnet": 5, "tensorflow": 5, "autograd": 5,
    "viz": 6, "expr": 6, "tour": 6, "cli": 6, "__main__": 6,
}


def _module_name(path: Path) -> str:
    """``chainrule.ops.shape`` for src/chainrule/ops/shape.py."""
    parts = path.relative_to(SRC.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _layer(module: str) -> int:
    parts = module.split(".")[1:]  # without "chainrule"
    if not parts:  # the package, whose public names the dialects and the tools use
        return LAYERS["torch"]
    return LAYERS.get(parts[0], LAYERS.get(parts[-1], 6))


def _imports(path: Path) -> list[tuple[str, bool, int]]:
    """(the chainrule module imported, whether inside a function, line) for each import of
    chainrule in ``path``; names imported from a package count as its submodules when they
    are ones. Imports under ``if TYPE_CHECKING:`` are left out (annotations only)."""
    tree = ast.parse(path.read_text())
    package = _module_name(path).split(".")
    if path.name != "__init__.py":
        package = package[:-1]
    found = []

    def visit(node: ast.AST, in_function: bool) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.If) and "TYPE_CHECKING" in ast.unparse(child.test):
                continue
            inner = in_function or isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef))
            if isinstance(child, ast.ImportFrom):
                base = package[: len(package) - child.level + 1] if child.level else []
                module = ".".join([*base, *(child.module.split(".") if child.module else [])])
                for alias in child.names:
                    candidate = f"{module}.{alias.name}"
                    is_module = (SRC.parent / Path(*candidate.split("."))).exists() or (
                        SRC.parent / (str(Path(*candidate.split("."))) + ".py")).exists()
                    found.append((candidate if is_module else module, inner, child.lineno))
            elif isinstance(child, ast.Import):
                found.extend((alias.name, inner, child.lineno) for alias in child.names)
            visit(child, inner)

    visit(tree, False)
    return [(module, inner, line) for module, inner, line in found
            if module == "chainrule" or module.startswith("chainrule.")]


SOURCES = sorted(SRC.rglob("*.py"))


def _relative(path: Path) -> str:
    return str(path.relative_to(SRC.parent))


def test_the_bottom_modules_import_nothing_of_chainrule():
    assert _imports(SRC / "codegen.py") == []
    for name in ("node", "dtypes", "modes"):  # (but the code generator)
        imported = {module for module, _, _ in _imports(SRC / f"{name}.py")}
        assert imported <= {"chainrule.codegen", "chainrule.backends"}, name
    assert {module for module, _, _ in _imports(SRC / "backends.py")} <= {"chainrule.array_api"}
    assert _imports(SRC / "array_api.py") == []


def test_the_tensors_mixins_do_not_import_the_op_table():
    for name in ("conversion", "grad_state"):
        below = [(m, line) for m, inner, line in _imports(SRC / f"{name}.py")
                 if not inner and _layer(m) >= LAYERS["tensor"]]
        assert below == [], name


def test_module_level_imports_go_downward():
    """At module level a module imports its own layer or the ones below: the op table imports
    neither the engine nor forward mode, the engine no transform, tape or dialect."""
    upward = []
    for path in SOURCES:
        if path == SRC / "__init__.py":
            continue  # the package names every layer's public functions
        own = _layer(_module_name(path))
        for module, inner, line in _imports(path):
            if not inner and _layer(module) > own:
                upward.append(f"{_relative(path)}:{line} imports {module}")
    assert upward == []


def test_function_local_imports_only_go_upward():
    """An import inside a function is for a module of a higher layer (which imports this one);
    any other belongs at the top of the module."""
    local = []
    for path in SOURCES:
        own = _layer(_module_name(path))
        for module, inner, line in _imports(path):
            if inner and _layer(module) <= own:
                local.append(f"{_relative(path)}:{line} imports {module}")
    assert local == []


def test_the_op_table_imports_no_layer_above_it_even_inside_functions():
    above = []
    for path in sorted((SRC / "ops").glob("*.py")):
        for module, _, line in _imports(path):
            if _layer(module) > LAYERS["ops"]:
                above.append(f"{_relative(path)}:{line} imports {module}")
    assert above == []


def test_no_star_imports_and_no_file_wide_suppressions():
    for path in SOURCES:
        tree = ast.parse(path.read_text())
        stars = [node.lineno for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)
                 and any(alias.name == "*" for alias in node.names)]
        assert stars == [], _relative(path)
        for number, line in enumerate(path.read_text().splitlines(), 1):
            assert not line.strip().startswith("# ruff: noqa"), f"{_relative(path)}:{number}"


def test_no_reference_to_a_design_document():
    for path in SOURCES:
        assert "DESIGN.md" not in path.read_text(), _relative(path)


def test_files_and_functions_fit_their_budgets():
    """No file in src over 600 lines, no function over 60."""
    too_long = []
    for path in SOURCES:
        text = path.read_text()
        if len(text.splitlines()) > 600:
            too_long.append(f"{_relative(path)}: {len(text.splitlines())} lines")
        for node in ast.walk(ast.parse(text)):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                length = node.end_lineno - node.lineno + 1
                if length > 60:
                    too_long.append(f"{_relative(path)}:{node.lineno} {node.name}: {length}")
    assert too_long == []


def test_the_tensor_modules_fit_their_budgets():
    for name in ("tensor", "dtypes", "conversion", "grad_state", "in_place", "numpy_protocol",
                 "views", "api", "torch/_tensor"):
        assert len((SRC / f"{name}.py").read_text().splitlines()) <= 600, name


# ---------------------------------------------------------------- deriving a tensor


def test_derive_shares_data_version_history_and_tangents():
    x = cr.tensor([1.0, 2.0], requires_grad=True)
    y = x * 2
    y._tangents = {7: "tangent"}
    alias = y._derive()
    assert type(alias) is cr.Tensor
    assert alias._array is y._array and alias._version is y._version
    assert alias._node is y._node and alias._requires_grad
    assert alias._tangents is y._tangents
    alias._version[0] += 1
    assert y._version[0] == alias._version[0]


def test_derive_without_history_or_tangents():
    y = cr.tensor([1.0, 2.0], requires_grad=True) * 2
    y._tangents = {7: "tangent"}
    out = y._derive(history=False, tangents=None)
    assert out._node is None and not out._requires_grad and out._tangents is None
    assert out._version is y._version  # the same memory: the same counter
    replaced = y._derive(tangents={8: "other"})
    assert replaced._tangents == {8: "other"} and replaced._node is y._node


def test_derive_over_other_data_counts_its_own_versions():
    y = cr.tensor([1.0, 2.0], requires_grad=True) * 2
    copy = y._derive(data=y._array.copy())
    assert copy._version is not y._version and copy._node is y._node
    assert copy._view is None


def test_derive_in_another_class_keeps_a_view_a_view():
    import chainrule.torch as torch

    base = cr.tensor([1.0, 2.0, 3.0], requires_grad=True) * 1
    view = base[1:]
    other = view._derive(torch.Tensor)
    assert isinstance(other, torch.Tensor)
    assert other._view is not None and other._view.base is base
    assert other._version is view._version


def test_detach_shares_the_version_counter_so_a_write_is_seen():
    x = cr.tensor([1.0, 2.0], requires_grad=True)
    y = x * x
    detached = y.detach()
    assert detached._version is y._version
    z = y * y  # saves y
    detached.add_(1.0)  # writes y's memory
    with pytest.raises(RuntimeError):
        z.sum().backward()


def test_the_dialects_convert_through_derive():
    from chainrule.mxnet._ndarray import _as as as_mxnet
    from chainrule.tensorflow._tensor import _as as as_tensorflow
    from chainrule.torch._tensor import _as as as_torch

    x = cr.tensor([1.0, 2.0], requires_grad=True)
    y = x * 3
    for convert in (as_torch, as_mxnet, as_tensorflow):
        converted = convert(y)
        assert type(converted) is not cr.Tensor
        assert converted._node is y._node and converted._version is y._version
    as_torch(y).sum().backward()
    assert np.allclose(x.grad._array, [3.0, 3.0])


def test_torch_data_counts_its_own_versions():
    import chainrule.torch as torch

    x = torch.tensor([1.0, 2.0], requires_grad=True)
    data = x.data
    assert data._array is x._array and data._version is not x._version and not data._requires_grad


def test_pickling_keeps_a_tensor_in_its_class():
    x = cr.tensor([1.0, 2.0], requires_grad=True)
    again = pickle.loads(pickle.dumps(x))
    assert type(again) is cr.Tensor and again.requires_grad
    assert np.array_equal(again._array, x._array)


# ---------------------------------------------------------------- the helpers


def test_array_of_is_the_array_behind_a_tensor():
    from chainrule.tensor import array_of

    x = cr.tensor([1.0])
    assert array_of(x) is x._array
    assert array_of(2.0) == 2.0


@pytest.mark.parametrize("name", ["chainrule.grad_state", "chainrule.conversion",
                                  "chainrule.numpy_protocol"])
def test_docstring_examples_of_the_tensors_modules(name):
    module = importlib.import_module(name)
    failures, tried = doctest.testmod(module, optionflags=doctest.NORMALIZE_WHITESPACE)
    assert failures == 0 and tried > 0
