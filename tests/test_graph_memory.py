"""Graphs of any depth: backward and freeing are iterative, nodes hold no reference
cycles, and a training loop's memory stays flat."""

import gc
import time
import tracemalloc
import weakref

import numpy as np

import chainrule as cr
from chainrule.node import Node


def test_a_million_deep_graph_backpropagates():
    # Built node by node (recording a million real ops takes ~15 s); the engine sees exactly
    # what recording `y = -y` a million times would give it.
    x = cr.tensor(3.0, dtype="float64", requires_grad=True)
    template = (-x).grad_fn
    start = time.perf_counter()
    parent = x
    for _ in range(1_000_000):
        parent = Node(
            template.prim, template.params, (parent,), template.saved, None, (),
            template.ans_shape, template.ans_dtype,
        )
    y = cr.Tensor._wrap(np.array(3.0), parent)
    y.backward()
    assert x.grad.item() == 1.0  # (-1) ** 1_000_000
    del y, parent
    assert time.perf_counter() - start < 20


def test_a_deep_recorded_chain_and_its_deletion():
    x = cr.tensor(0.5, dtype="float64", requires_grad=True)
    y = x
    for _ in range(20_000):  # far beyond the recursion limit
        y = y * 1.0
    kept = y
    y.backward(retain_graph=True)
    assert x.grad.item() == 1.0
    del y, kept  # freeing a deep graph must not recurse either
    z = x
    for _ in range(20_000):
        z = z + 0.0
    del z  # never backpropagated


def test_nodes_hold_no_reference_cycles():
    gc.collect()
    gc.disable()
    try:
        x = cr.arange(3.0, requires_grad=True)
        y = cr.exp(x * 2).sum()
        node = weakref.ref(y.grad_fn)
        inner = weakref.ref(y.grad_fn.next_functions[0])
        del y
        assert node() is None and inner() is None  # freed by reference counting alone
    finally:
        gc.enable()


def test_training_steps_do_not_grow_memory():
    rng = np.random.default_rng(0)
    inputs = cr.tensor(rng.standard_normal((16, 4)))
    targets = cr.tensor(rng.standard_normal((16, 1)))
    w = cr.tensor(rng.standard_normal((4, 1)) * 0.1, requires_grad=True)
    b = cr.zeros(1, dtype="float64", requires_grad=True)
    nodes = []

    def step():
        loss = (((inputs @ w + b) - targets) ** 2).mean()
        if len(nodes) < 100:
            nodes.append(weakref.ref(loss.grad_fn))
        loss.backward()
        with cr.no_grad():
            w.sub_(0.05 * w.grad)
            b.sub_(0.05 * b.grad)
            w.grad.zero_()
            b.grad.zero_()
        return loss.item()

    first = step()
    for _ in range(300):
        step()
    tracemalloc.start()
    for _ in range(50):  # NumPy refills its small caches once tracing starts
        step()
    warm = tracemalloc.get_traced_memory()[0]
    for _ in range(1000):
        last = step()
    grown = tracemalloc.get_traced_memory()[0] - warm
    tracemalloc.stop()
    assert last < first
    assert all(ref() is None for ref in nodes)  # every step's graph was freed
    # A graph is a few kB (six nodes and their saved arrays): one leaked per step would be
    # megabytes. What remains is interpreter and NumPy caching, a few bytes per step at most.
    assert grown < 200_000, f"memory grew by {grown} bytes over 1000 steps"
