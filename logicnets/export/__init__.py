"""Networks out to the formats of logic tools: Berkeley PLA, BLIF and Verilog-2001.

Why: ESPRESSO, ABC, Yosys and Verilog simulators read none of the package's own formats
(JSON, torch); these writers let a compiled network be minimized, synthesized or simulated.
``logicnets export NET.json --pla|--blif|--verilog OUT`` is the command line.
"""

from .blif import to_blif
from .circuit import Circuit, ExportError, circuit_of
from .pla import to_pla
from .verilog import to_verilog

__all__ = ["Circuit", "ExportError", "circuit_of", "to_blif", "to_pla", "to_verilog"]
