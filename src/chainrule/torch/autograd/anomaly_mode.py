"""``torch.autograd.anomaly_mode``: ``detect_anomaly`` and ``set_detect_anomaly``.

As PyTorch, ``detect_anomaly()`` warns that it slows the program down.

>>> import warnings, chainrule.torch as torch
>>> x = torch.tensor([0.0, 1.0], requires_grad=True)
>>> with warnings.catch_warnings():
...     warnings.simplefilter("ignore")
...     with torch.autograd.detect_anomaly():
...         (x.sqrt() * 0.0).sum().backward()
Traceback (most recent call last):
RuntimeError: Function 'SqrtBackward' returned nan values in its 0th output.
...
"""

from __future__ import annotations

import warnings

from chainrule import anomaly

__all__ = ["detect_anomaly", "set_detect_anomaly"]

set_detect_anomaly = anomaly.set_detect_anomaly


class detect_anomaly(anomaly.detect_anomaly):  # noqa: N801 - PyTorch's name
    """``torch.autograd.detect_anomaly(check_nan=True)``: chainrule's, with PyTorch's warning."""

    def __init__(self, check_nan: bool = True) -> None:
        super().__init__(check_nan)
        warnings.warn(
            "Anomaly Detection has been enabled. This mode will increase the runtime and should "
            "only be enabled for debugging.", UserWarning, stacklevel=2,
        )
