"""Seeing what autograd did: plots of f and its derivatives, the recorded graph, the chain rule.

``plot`` needs matplotlib (``pip install chainrule[plot]``); ``graph`` and ``explain`` need only
NumPy (``graph`` uses Graphviz's ``dot`` when it is installed, else its own layout).
"""

from .explain import Explanation, explain
from .graph import Graph, graph
from .plot import plot

__all__ = ["Explanation", "Graph", "explain", "graph", "plot"]
