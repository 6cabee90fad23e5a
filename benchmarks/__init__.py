"""Side-by-side benchmarks: chainrule, PyTorch, HIPS autograd and hand-written NumPy.

``run.py`` is the entry point (``make bench``); ``data.py`` makes the inputs every framework
shares; ``impl_<framework>.py`` holds one function per workload that returns a ``step``: a
callable doing one forward and backward pass and returning the gradients as NumPy arrays.
"""
