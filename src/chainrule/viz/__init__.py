"""Seeing what autograd did: plots of f and its derivatives, the recorded graph, the chain rule.

``plot`` needs matplotlib (``pip install 'chainrule[plot]'``; without it, it raises
:class:`MissingExtraError` saying so); ``graph`` and ``explain`` need only NumPy (``graph`` uses
Graphviz's ``dot`` when it is installed, else its own layout, and matplotlib only for PNG and PDF
without Graphviz). ``cr.graph(y, step=True)`` and ``Graph.save("backward.html")`` show the
backward pass node by node (:mod:`chainrule.viz.steps`).
"""

from .explain import Explanation, explain
from .extras import MissingExtraError
from .graph import Graph, graph
from .plot import plot

__all__ = ["Explanation", "Graph", "MissingExtraError", "explain", "graph", "plot"]
