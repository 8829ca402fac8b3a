"""A network as a synthesizable Verilog-2001 module: one continuous assignment per neuron.

Why this form: each neuron is its integer weighted sum and one compare, exactly the exact
integer form the provers use, so simulators and synthesis tools see the network itself and
not a cover of it. Negative weights are written on the right of the compare (``x - z >= 2``
becomes ``(x) >= (2 + z)``): every sum then adds non-negative terms, so no signed arithmetic,
and each compare carries its threshold constant, which makes the sums at least 32 bits wide
(wider, with sized constants, when a sum can pass 2^31).

Names: a network name that is a plain Verilog identifier is kept; one of other printable
ASCII characters (``x[3]``, ``a.b``, a keyword) becomes an escaped identifier ``\\x[3] ``;
anything else (spaces, other characters), and an output named as an input, gets a fresh name
that a comment at the top of the module states.

>>> from logicnets import compile
>>> print(to_verilog(compile("x & ~y | z", method="threshold"), module="f"), end="")
// written by logicnets export: 3 inputs, 0 hidden neurons, 1 output
// a neuron fires when its integer weighted sum reaches its threshold: theta(z) = 1 for z >= 0
`default_nettype none
module f (
  input wire x,
  input wire y,
  input wire z,
  output wire out
);
  assign out = (x + 2*z) >= (1 + y);
endmodule
`default_nettype wire
"""

from __future__ import annotations

import json
import re
from typing import Any

from ..network.neurons import IntegerNeuron
from .circuit import Circuit, ExportError, circuit_of, unique_name

__all__ = ["KEYWORDS", "to_verilog", "verilog_names"]

_PLAIN = re.compile(r"[A-Za-z_][A-Za-z0-9_$]*\Z")

#: Reserved words of Verilog (IEEE 1364-2005) and SystemVerilog (1800-2017): a name that is one
#: is written escaped, so the module reads the same in either language.
KEYWORDS = frozenset(
    """always and assign automatic begin buf bufif0 bufif1 case casex casez cell cmos config deassign default
    defparam design disable edge else end endcase endconfig endfunction endgenerate endmodule endprimitive
    endspecify endtable endtask event for force forever fork function generate genvar highz0 highz1 if ifnone
    incdir include initial inout input instance integer join large liblist library localparam macromodule medium
    module nand negedge nmos nor noshowcancelled not notif0 notif1 or output parameter pmos posedge primitive
    pull0 pull1 pulldown pullup pulsestyle_ondetect pulsestyle_onevent rcmos real realtime reg release repeat
    rnmos rpmos rtran rtranif0 rtranif1 scalared showcancelled signed small specify specparam strong0 strong1
    supply0 supply1 table task time tran tranif0 tranif1 tri tri0 tri1 triand trior trireg unsigned use uwire
    vectored wait wand weak0 weak1 while wire wor xnor xor
    accept_on alias always_comb always_ff always_latch assert assume before bind bins binsof bit break byte chandle
    checker class clocking const constraint context continue cover covergroup coverpoint cross dist do endchecker
    endclass endclocking endgroup endinterface endpackage endprogram endproperty endsequence enum eventually
    expect export extends extern final first_match foreach forkjoin global iff ignore_bins illegal_bins implements
    implies import inside int interconnect interface intersect join_any join_none let local logic longint matches
    modport nettype new nexttime null package packed priority program property protected pure rand randc randcase
    randsequence ref reject_on restrict return s_always s_eventually s_nexttime s_until s_until_with sequence
    shortint shortreal soft solve static string strong struct super sync_accept_on sync_reject_on tagged this
    throughout timeprecision timeunit type typedef union unique unique0 until until_with untyped var virtual void
    wait_order weak wildcard with within""".split()  # noqa: SIM905 (a list of 250 words reads better as text)
)


def _escapable(name: str) -> bool:
    return bool(name) and all(33 <= ord(c) <= 126 for c in name)


def _spelling(name: str) -> str:
    """How Verilog writes a name kept as it is: plain, or escaped (backslash ... space)."""
    return name if _PLAIN.match(name) and name not in KEYWORDS else f"\\{name} "


def _fresh_base(name: str) -> str:
    """A plain identifier close to ``name``: ``a b`` -> ``a_b``, ``α`` -> ``u03b1``, ``3x`` -> ``n_3x``."""
    base = "".join(
        c if c.isascii() and (c.isalnum() or c == "_") else "_" if c.isascii() else f"u{ord(c):04x}" for c in name
    )
    return base if base and not base[0].isdigit() and base not in KEYWORDS else f"n_{base}"


def verilog_names(c: Circuit) -> tuple[list[str], list[str], list[str], list[str]]:
    """Verilog spellings of the inputs, the outputs and the gates (by position), and the
    comment lines for names that had to change; distinct identifiers throughout.

    Every name Verilog can write (plain or escaped) is kept first, so a fresh name never takes
    one of the network's own; the first of two equal names (an output named as an input) keeps it.
    """
    named = [(v, "input") for v in c.inputs] + [(v, "output") for v, _ in c.outputs]
    named += [(g.name, "hidden neuron") for g in c.gates if not g.output]
    used: set[str] = set()  # identifiers, without the escaping backslash
    spelled: list[str | None] = [None] * len(named)
    for k, (name, _) in enumerate(named):
        if _escapable(name) and name not in used:
            used.add(name)
            spelled[k] = _spelling(name)
    notes: list[str] = []
    for k, (name, what) in enumerate(named):
        if spelled[k] is None:
            spelled[k] = unique_name(_fresh_base(name), used)
            notes.append(f"// {spelled[k]} is the network's {what} {json.dumps(name)}")
    n, m = len(c.inputs), len(c.outputs)
    inputs, outputs, hidden = spelled[:n], spelled[n : n + m], iter(spelled[n + m :])
    out_of = {k: outputs[j] for j, (_, k) in enumerate(c.outputs)}
    gates = [out_of[k] if k in out_of else next(hidden) for k in range(len(c.gates))]
    return inputs, outputs, gates, notes


def _constant(value: int, width: int | None) -> str:
    return str(value) if width is None else f"{width}'d{value}"


def _side(terms: list[tuple[int, str]], constant: int | None, width: int | None) -> str:
    """``(2 + z)``: a sum of ``weight*signal`` terms (and a constant first), parenthesized."""
    parts = [] if constant is None else [_constant(constant, width)]
    parts += [name if a == 1 else f"{_constant(a, width)}*{name}" for a, name in terms]
    text = " + ".join(parts) if parts else "0"
    return f"({text})" if len(parts) > 1 else text


def assignment(form: IntegerNeuron, target: str, signal: list[str]) -> str:
    """``assign h = (x + 2*y) >= (1 + z);``: the neuron's compare, or a constant."""
    if form.kind in ("const0", "const1"):
        return f"  assign {target} = 1'b{int(form.kind == 'const1')};"
    pos = [(a, signal[s]) for s, a, neg in form.literals if not neg]
    neg = [(a, signal[s]) for s, a, neg in form.literals if neg]
    t = form.threshold - sum(a for a, _ in neg)  # the threshold of the signed sum
    largest = max(sum(a for a, _ in pos) + max(-t, 0), sum(a for a, _ in neg) + max(t, 0))
    width = None if largest < 2**31 else largest.bit_length() + 1
    left = _side(pos, -t if t < 0 else None, width)
    right = _side(neg, t if t >= 0 else None, width)
    return f"  assign {target} = {left} >= {right};"


def _count(k: int, noun: str) -> str:
    return f"{k} {noun}" + ("" if k == 1 else "s")


def to_verilog(net: Any, module: str = "network") -> str:
    """Verilog-2001 text of a network: a module with the network's inputs and outputs as ports."""
    if not _PLAIN.match(module) or module in KEYWORDS:
        raise ExportError(f"Verilog module name {module!r} must be a plain identifier (letters, digits, _ and $)")
    c = circuit_of(net)
    inputs, outputs, gates, notes = verilog_names(c)
    signal = [*inputs, *gates]
    hidden = [gates[k] for k, g in enumerate(c.gates) if not g.output]
    ports = [f"  input wire {v}" for v in inputs] + [f"  output wire {v}" for v in outputs]
    lines = [
        f"// written by logicnets export: {_count(len(inputs), 'input')}, {_count(len(hidden), 'hidden neuron')}, "
        f"{_count(len(outputs), 'output')}",
        "// a neuron fires when its integer weighted sum reaches its threshold: theta(z) = 1 for z >= 0",
        *notes,
        "`default_nettype none",
        f"module {module} (",
        ",\n".join(ports),
        ");",
        *(f"  wire {h};" for h in hidden),
    ]
    lines += [assignment(g.form, gates[k], signal) for k, g in enumerate(c.gates)]
    lines += ["endmodule", "`default_nettype wire"]
    return "\n".join(lines) + "\n"
