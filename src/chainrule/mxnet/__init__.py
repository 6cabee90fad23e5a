"""MXNet spelling: ``from chainrule.mxnet import autograd, np, npx``.

Arrays are float32 by default, gradients are allocated by ``attach_grad()`` (zeros, overwritten
by each backward), operations are recorded only inside ``autograd.record()``, and ``backward()``
on a non-scalar differentiates the sum of its elements. Arithmetic promotes dtypes as MXNet's
NumPy interface does (``_promotion``: an integer meeting a float takes the float's dtype,
integer division and ``np.sqrt`` of int32 give float32).

>>> from chainrule.mxnet import autograd, np, npx
>>> npx.set_np()
>>> x = np.arange(4.0)
>>> x.attach_grad()
>>> with autograd.record():
...     y = 2 * np.dot(x, x)
>>> y.backward()
>>> x.grad
array([ 0.,  4.,  8., 12.])
"""

from . import autograd, np, npx
from ._ndarray import ndarray

__all__ = ["autograd", "ndarray", "np", "npx"]
