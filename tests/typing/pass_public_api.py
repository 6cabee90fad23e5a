"""chainrule's public API as a user's code uses it, checked by mypy (`make typecheck`, strict
about this file: see pyproject.toml) and run by tests/test_packaging.py.

A type checker reads chainrule's annotations because of ``py.typed``; this file is what it
must accept without an error and the types it must infer, where the annotations give one
(``assert_type``). Running it shows that each line is real usage, not code that only
type-checks. fail_public_api.py holds what the checker must refuse.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

import chainrule as cr
import chainrule.autograd.numpy as anp
import chainrule.tensorflow as tf
import chainrule.torch as torch
from chainrule.autograd import grad as hips_grad
from chainrule.mxnet import autograd, npx
from chainrule.mxnet import np as mxnp

if TYPE_CHECKING:
    from typing_extensions import assert_type
else:
    def assert_type(value: Any, _type: Any) -> Any:
        """typing.assert_type at run time (Python 3.11+ only): the value, unchecked."""
        return value


# The chapter's first gradient, in the native spelling.
x = cr.arange(4.0, requires_grad=True)
assert_type(x, cr.Tensor)
y = 2 * cr.dot(x, x)
assert_type(y, cr.Tensor)
y.backward()
grad = x.grad
assert_type(grad, "cr.Tensor | None")  # None until a backward reaches x, as in PyTorch
assert grad is not None
assert_type(grad.zero_(), cr.Tensor)

# Tensor attributes and methods.
t = cr.tensor([[1.0, 2.0], [3.0, 4.0]], dtype=cr.float32)
assert_type(t.shape, tuple[int, ...])
assert_type(t.ndim, int)
assert_type(t.dtype, np.dtype)
assert_type(t.numpy(), np.ndarray)
assert_type(t.T @ t, cr.Tensor)
assert_type(t.sum(axis=0, keepdims=True), cr.Tensor)
assert_type(t.reshape(4), cr.Tensor)
assert_type(t[0, 1], cr.Tensor)
assert_type(t.detach(), cr.Tensor)
assert_type(cr.ones(2).requires_grad_(), cr.Tensor)
assert_type(t.mean() > 0, cr.Tensor)
assert_type(t.is_leaf, bool)
as_float: float = float(t.sum())
as_array = np.asarray(t.detach())
assert as_array.shape == (2, 2) and as_float == 10.0

# Grad modes, attach_grad and record (MXNet semantics).
with cr.no_grad():
    assert not cr.is_grad_enabled()
w = cr.ones(3)
w.attach_grad()
with cr.record():
    z = (w * w).sum()
z.backward()

# The functional transforms.
def f(v: cr.Tensor) -> cr.Tensor:
    return cr.dot(v, cr.sin(v))


df = cr.grad(f)
ddf = cr.hessian(f)
value, g = cr.value_and_grad(f)(cr.linspace(0.0, 1.0, 5))
out, vjp_fn = cr.vjp(cr.sin, cr.zeros(3))
primal_out, tangent_out = cr.jvp(cr.sin, (cr.zeros(3),), (cr.ones(3),))
jacobian = cr.jacrev(cr.tanh)(cr.ones(2))
gradients = cr.gradients(f(x), [x])
assert isinstance(gradients, tuple)
assert df(cr.ones(2)).shape == (2,) and ddf(cr.ones(2)).shape == (2, 2)

# cr.jit: a jitted function is called as the function was.
jitted = cr.jit(f)
jitted_loss = jitted(cr.ones(3))
assert float(jitted_loss) == float(f(cr.ones(3)))
static = cr.jit(lambda v, n: v ** n, static_argnums=(1,))
assert static(cr.ones(2), 2).shape == (2,)

# Custom rules, checkpointing, anomaly detection.
@cr.custom_jvp
def softplus(v: Any) -> Any:
    return cr.log1p(cr.exp(v))


@softplus.defjvp
def softplus_jvp(primals: tuple[Any, ...], tangents: tuple[Any, ...]) -> tuple[Any, Any]:
    (v,), (dv,) = primals, tangents
    return softplus(v), dv * cr.sigmoid(v)


assert cr.grad(softplus)(0.0).item() == 0.5
with cr.detect_anomaly():
    cr.checkpoint(f)(x).backward()
tape_x = cr.tensor(3.0)
with cr.GradientTape() as tape:
    tape.watch(tape_x)
    tape_y = tape_x * tape_x
assert tape.gradient(tape_y, tape_x).item() == 6.0

# The dialects' main names.
a = torch.tensor([1.0, 2.0], requires_grad=True)
torch.sum(a * a).backward()
with torch.no_grad():
    assert not (a * 2).requires_grad
v = tf.Variable([1.0, 2.0])
with tf.GradientTape() as tf_tape:
    loss = tf.reduce_sum(v * v)
assert tf_tape.gradient(loss, v) is not None
npx.set_np()
m = mxnp.arange(3.0)
m.attach_grad()
with autograd.record():
    mxnet_loss = (m * m).sum()
mxnet_loss.backward()
# What the dialects export (mypy --strict and pyright accept only names a module imports by
# the same name or lists in __all__).
exported = (tf.Variable, tf.Tensor, tf.TensorShape, tf.TensorSpec, tf.function,
            tf.custom_gradient, tf.recompute_grad, tf.GradientTape, tf.errors, torch.Tensor,
            torch.Size, torch.compile, torch.autograd.Function, torch.utils.checkpoint,
            torch.nn.functional.mse_loss, torch.optim.SGD, autograd.Function, cr.linalg.norm,
            cr.fft.fft, cr.random.normal, cr.tree_util.tree_map)
assert all(callable(name) or hasattr(name, "__name__") for name in exported)
assert hips_grad(lambda s: anp.sum(anp.tanh(s)))(anp.zeros(2)).shape == (2,)
assert __import__("chainrule").__version__ == cr.__version__
