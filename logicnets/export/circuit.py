"""A saved network as a circuit of integer threshold gates: what every export format writes.

Why one view for all formats: PLA, BLIF and Verilog differ only in how they spell a gate, so
the network is read once into gates whose literals name signals (inputs, then gates in layer
order) and whose weights are exact integers (:func:`~logicnets.network.neurons.integer_forms`,
the same exact form the provers use). A gate fires iff ``sum(a * literal) >= threshold``,
where a negated literal is ``1 - x``; that is the network's float ``θ(w·x + b)`` on 0/1 rows.

>>> from logicnets import compile
>>> c = circuit_of(compile("x ^ y"))
>>> [(g.name, g.form.kind, g.output) for g in c.gates]
[('h1', 'and', False), ('h2', 'and', False), ('out', 'or', True)]
>>> c.signal_name(c.gates[2].form.literals[0][0])
'h1'
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from ..errors import LogicError
from ..network.multinet import MultiOutputNetwork
from ..network.network import Layer, ThresholdNetwork
from ..network.neurons import IntegerNeuron, integer_forms

__all__ = ["Circuit", "ExportError", "Gate", "check_words", "circuit_of", "is_word", "listed", "neurons", "unique_name"]


class ExportError(LogicError):
    """A network that a format cannot express (the message names the neurons and the way out)."""


@dataclass(frozen=True)
class Gate:
    """One neuron: ``form``'s literals index signals (inputs first, then gates in order)."""

    name: str
    layer: int
    form: IntegerNeuron
    output: bool


@dataclass(frozen=True)
class Circuit:
    """Inputs, gates in layer order, and the outputs as (name, gate index) in the network's order."""

    inputs: tuple[str, ...]
    gates: tuple[Gate, ...]
    outputs: tuple[tuple[str, int], ...]
    n_layers: int

    def signal_name(self, signal: int) -> str:
        """The network's name of a signal id (an input's name, or a gate's)."""
        n = len(self.inputs)
        return self.inputs[signal] if signal < n else self.gates[signal - n].name

    @property
    def hidden(self) -> tuple[Gate, ...]:
        return tuple(g for g in self.gates if not g.output)


def listed(names: Sequence[str], limit: int = 8) -> str:
    """``a, b, c`` or ``a, b, ... (12 in all)``: a list short enough for one line."""
    shown = ", ".join(names[:limit])
    return shown if len(names) <= limit else f"{shown}, ... ({len(names)} in all)"


def neurons(names: Sequence[str], verb: tuple[str, str] = ("has", "have")) -> str:
    """``neuron h1 has`` or ``neurons h1, h2 have``: a refusal's subject, listed.

    >>> neurons(["h1"]), neurons(["h1", "h2"], ("is", "are"))
    ('neuron h1 has', 'neurons h1, h2 are')
    """
    one = len(names) == 1
    return f"neuron{'' if one else 's'} {listed(names)} {verb[0] if one else verb[1]}"


def unique_name(base: str, used: set[str]) -> str:
    """``base``, or ``base_1``, ``base_2``, ... : the first not in ``used`` (which it joins).

    >>> used = {"h1", "h1_1"}
    >>> unique_name("h1", used), unique_name("h2", used)
    ('h1_2', 'h2')
    """
    name, k = base, 0
    while name in used:
        k += 1
        name = f"{base}_{k}"
    used.add(name)
    return name


def _layers_and_names(net: Any) -> tuple[tuple[Layer, ...], list[list[str]]]:
    """The layers and the names of their neurons: the outputs' own names (``out`` for a
    single-output network), hidden neurons as ``render`` shows them (h1.., h2_1..), each
    made distinct from every input and output name."""
    if isinstance(net, MultiOutputNetwork):
        layers, used = (net.hidden, net.output_layer), set(net.inputs) | set(net.outputs)
        outputs = list(net.outputs)
    elif isinstance(net, ThresholdNetwork):
        layers, used = net.layers, set(net.inputs)
        outputs = [unique_name("out", used)]
    else:
        raise LogicError(f"expected a ThresholdNetwork or MultiOutputNetwork, got {type(net).__name__}")
    prefix = "h" if len(layers) == 2 else "h{}_"
    hidden = [
        [unique_name(prefix.format(li + 1) + str(j + 1), used) for j in range(layer.size)]
        for li, layer in enumerate(layers[:-1])
    ]
    return layers, [*hidden, outputs]


def circuit_of(net: ThresholdNetwork | MultiOutputNetwork) -> Circuit:
    """The circuit of a single- or multi-output network; refuses neurons with no exact integer form."""
    layers, names = _layers_and_names(net)
    gates: list[Gate] = []
    inexact: list[str] = []
    first = 0  # signal id of the first column the current layer reads
    width = len(net.inputs)
    for li, layer in enumerate(layers):
        last = li == len(layers) - 1
        for name, form in zip(names[li], integer_forms(layer.weights, layer.biases), strict=True):
            if form is None:
                inexact.append(name)
                continue
            lits = tuple((first + i, a, neg) for i, a, neg in form.literals)
            gates.append(Gate(name, li, IntegerNeuron(lits, form.threshold), last))
        first += width
        width = layer.size
    if inexact:
        raise ExportError(
            f"{neurons(inexact)} weights that are not exact integers after scaling by 2^k "
            "(k <= 40, weight sums below 2^50), so no format can state them exactly"
        )
    outs = tuple((g.name, k) for k, g in enumerate(gates) if g.output)
    return Circuit(tuple(net.inputs), tuple(gates), outs, len(layers))


def is_word(name: str) -> bool:
    """A name that PLA and BLIF readers take back whole: printable, no spaces, ``#`` or ``\\``,
    not starting with ``.`` (which begins a directive).

    >>> [is_word(s) for s in ("x[3]", "a b", "#x", ".ilb", "")]
    [True, False, False, False, False]
    """
    return bool(name) and name.isprintable() and not any(c.isspace() or c in "#\\" for c in name) and name[0] != "."


def check_words(circuit: Circuit, fmt: str) -> None:
    """Refuse, in one line, input and output names that ``fmt`` (PLA, BLIF) cannot hold."""
    names = [*circuit.inputs, *(name for name, _ in circuit.outputs)]
    bad = [repr(v) for v in dict.fromkeys(names) if not is_word(v)]
    if bad:
        raise ExportError(
            f"{fmt} names are words without spaces, '#' or '\\\\' that do not start with '.': the names "
            f"{listed(bad)} cannot be written; rename them in the network JSON (--verilog escapes any name)"
        )
