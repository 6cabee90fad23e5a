"""Mistakes in a user's code that mypy must report through chainrule's annotations: each line
carries the error code it must raise as a ``type: ignore``, and ``warn_unused_ignores``
(pyproject.toml) fails the check when one of them raises nothing, so this file shows that the
annotations catch these mistakes. Checked by `make typecheck`, never run.
"""

from __future__ import annotations

import chainrule as cr

x = cr.arange(3.0, requires_grad=True)
(x * x).sum().backward()

# .grad is None until a backward reaches the tensor (as PyTorch's): check before using it.
x.grad.zero_()  # type: ignore[union-attr]

# Flags are booleans, sizes and axes numbers, not strings.
cr.tensor([1.0], requires_grad="yes")  # type: ignore[arg-type]
cr.eye("3")  # type: ignore[arg-type]
cr.grad(cr.sin, argnums="0")  # type: ignore[arg-type]
cr.jit(cr.sin, static_argnums=1.5)  # type: ignore[arg-type]
x.sum().backward(create_graph="no")  # type: ignore[arg-type]

# A tensor's shape, ndim and dtype are read-only, and typed.
x.shape = (3,)  # type: ignore[misc]
label: str = x.ndim  # type: ignore[assignment]

# Tensor methods that do not exist.
x.backwards()  # type: ignore[attr-defined]
