"""Compile boolean formulas into two-layer Heaviside threshold networks and prove them right.

>>> from logicnets import compile, verify
>>> net = compile("x ^ y")
>>> net([[0, 0], [0, 1], [1, 0], [1, 1]]).tolist()
[0, 1, 1, 0]
>>> bool(verify(net, "(x | y) & ~(x & y)"))
True
"""
from .compiler import METHODS, compile, constant_network, from_dnf
from .decompile import decompile, decompile_formula
from .dnf import dnf_terms
from .errors import LogicError, ParseError, PlaError
from .incomplete import IncompleteFunction
from .multinet import MultiOutputNetwork, load_network
from .pla import Pla, parse_pla, read_pla, write_pla
from .placompile import compile_function, verify_function
from .twolevel import minimize_cover
from .formula import Formula
from .minimize import minimize_table
from .network import Layer, ThresholdNetwork
from .neurons import Neuron, and_neuron, heaviside, not_neuron, or_neuron, threshold_neuron
from .parser import parse
from .separable import threshold_function
from .symmetric import exactly_k_network, parity_network, symmetric_network, symmetric_profile
from .truthtable import TruthTable
from .verify import Verification, verify

__all__ = [
    "compile", "verify", "decompile", "decompile_formula", "parse", "from_dnf", "constant_network",
    "ThresholdNetwork", "Layer", "TruthTable", "Formula", "Verification",
    "Neuron", "and_neuron", "or_neuron", "not_neuron", "threshold_neuron", "heaviside",
    "threshold_function", "symmetric_profile", "symmetric_network", "parity_network",
    "exactly_k_network", "minimize_table", "dnf_terms", "LogicError", "ParseError", "METHODS",
    "PlaError", "Pla", "parse_pla", "read_pla", "write_pla", "IncompleteFunction",
    "MultiOutputNetwork", "load_network", "compile_function", "verify_function", "minimize_cover",
]
