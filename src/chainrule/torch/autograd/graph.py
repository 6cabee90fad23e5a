"""``torch.autograd.graph``: hooks on the values that the graph saves for backward.

>>> import numpy as np, chainrule.torch as torch
>>> x = torch.tensor([1.0, 2.0], requires_grad=True)
>>> with torch.autograd.graph.saved_tensors_hooks(lambda t: t.detach().numpy().copy(),
...                                               lambda a: torch.tensor(a)):
...     y = x.exp()
>>> y.sum().backward(); x.grad
tensor([2.7183, 7.3891])
"""

from __future__ import annotations

from chainrule.saved_hooks import save_on_cpu, saved_tensors_hooks

__all__ = ["save_on_cpu", "saved_tensors_hooks"]
