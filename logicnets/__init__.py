"""Compile boolean formulas into two-layer Heaviside threshold networks and prove them right.

>>> from logicnets import compile, verify
>>> net = compile("x ^ y")
>>> net([[0, 0], [0, 1], [1, 0], [1, 1]]).tolist()
[0, 1, 1, 0]
>>> bool(verify(net, "(x | y) & ~(x & y)"))
True

Layout, each layer importing only the ones above it:

* :mod:`logicnets.errors`, :mod:`logicnets.files`, :mod:`logicnets.rows` — error types,
  the one file writer and reader, the row numbering convention;
* :mod:`logicnets.formula` — the formula tree, its walker, parser, text/sympy forms, DNF;
* :mod:`logicnets.pla` — PLA files and incompletely specified functions;
* :mod:`logicnets.network` — neurons, networks, JSON, torch export, decompiling;
* :mod:`logicnets.prove` — truth tables, bit-sliced evaluation, SAT, ``verify``;
* :mod:`logicnets.construct` — ``compile`` and its constructions;
* :mod:`logicnets.cli` — the ``logicnets`` command.
"""

from .construct.compiler import METHODS, compile
from .construct.dnfnet import constant_network, from_dnf
from .construct.placompile import compile_function
from .construct.separable import threshold_function
from .construct.symmetric import exactly_k_network, parity_network, symmetric_network, symmetric_profile
from .construct.twolevel import minimize_cover
from .errors import LogicError, ParseError, PlaError
from .formula.dnf import dnf_terms
from .formula.formula import Formula, parse
from .formula.minimize import minimize_table
from .network.decompile import decompile, decompile_formula
from .network.multinet import MultiOutputNetwork, load_network
from .network.network import Layer, ThresholdNetwork
from .network.neurons import Neuron, and_neuron, heaviside, not_neuron, or_neuron, threshold_neuron
from .pla.format import Pla, PlaLimits, parse_pla, read_pla, write_pla
from .pla.function import IncompleteFunction
from .progress import Progress
from .prove.function_check import verify_function
from .prove.truthtable import TruthTable
from .prove.verify import Verification, verify

__all__ = [
    "METHODS",
    "Formula",
    "IncompleteFunction",
    "Layer",
    "LogicError",
    "MultiOutputNetwork",
    "Neuron",
    "ParseError",
    "Pla",
    "PlaError",
    "PlaLimits",
    "Progress",
    "ThresholdNetwork",
    "TruthTable",
    "Verification",
    "and_neuron",
    "compile",
    "compile_function",
    "constant_network",
    "decompile",
    "decompile_formula",
    "dnf_terms",
    "exactly_k_network",
    "from_dnf",
    "heaviside",
    "load_network",
    "minimize_cover",
    "minimize_table",
    "not_neuron",
    "or_neuron",
    "parity_network",
    "parse",
    "parse_pla",
    "read_pla",
    "symmetric_network",
    "symmetric_profile",
    "threshold_function",
    "threshold_neuron",
    "verify",
    "verify_function",
    "write_pla",
]
