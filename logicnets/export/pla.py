"""A network as a Berkeley PLA cover (``.type f``): one product term per cube neuron.

Why only cube networks: a PLA is a two-level AND-OR cover, so the network must be one too,
every hidden neuron an AND of literals and every output an OR of hidden neurons (or, with no
hidden layer, each output neuron a cube or an OR of literals). A threshold neuron has no
single product term; it is refused by name rather than expanded behind the user's back
(``--blif`` writes its minimal cover, ``--verilog`` the neuron itself).

>>> from logicnets import compile
>>> print(to_pla(compile("x & ~y | z")), end="")
.i 3
.o 1
.ilb x y z
.ob out
.type f
.p 2
10- 1
--1 1
.e
"""

from __future__ import annotations

from typing import Any

from ..network.neurons import IntegerNeuron
from ..pla.format import Pla, format_pla
from .circuit import Circuit, ExportError, check_words, circuit_of, neurons

__all__ = ["pla_of", "to_pla"]


def _cube(form: IntegerNeuron, n: int) -> str:
    """The input part of an AND neuron over the inputs (``-`` where it does not look; all ``-``
    for a neuron that is always 1, whatever weights it has)."""
    cells = ["-"] * n
    for s, _, neg in form.literals if form.kind == "and" else ():
        cells[s] = "0" if neg else "1"
    return "".join(cells)


def _is_cube(form: IntegerNeuron) -> bool:
    return form.kind in ("and", "const1", "const0")


def _or_terms(form: IntegerNeuron) -> list[int] | None:
    """The signals an OR neuron joins (all positive), [] for always 0, None when not such an OR."""
    if form.kind == "const0":
        return []
    if form.kind == "const1" or any(neg for _, _, neg in form.literals):
        return None
    return [s for s, _, _ in form.literals] if form.threshold <= min(a for _, a, _ in form.literals) else None


def _single_layer_cubes(form: IntegerNeuron, n: int) -> list[str] | None:
    """Cubes of an output neuron over the inputs: itself if a cube, one per literal if an OR."""
    if _is_cube(form):
        return [] if form.kind == "const0" else [_cube(form, n)]
    if form.kind == "or":
        return [_cube(IntegerNeuron(((s, 1, neg),), 1), n) for s, _, neg in form.literals]
    return None


def _rows(c: Circuit) -> dict[str, set[int]]:
    """Each cube's input part and the outputs (by position) that it feeds."""
    n, rows, refused = len(c.inputs), {}, set()  # refused: gate positions
    for k, (_, i) in enumerate(c.outputs):
        g = c.gates[i]
        if c.n_layers == 1:
            cubes = _single_layer_cubes(g.form, n)
        elif g.form.kind == "const1":
            cubes = ["-" * n]
        else:
            terms = _or_terms(g.form)
            refused.update(s - n for s, _, _ in g.form.literals if not _is_cube(c.gates[s - n].form))
            kept = [c.gates[s - n].form for s in terms or ()]
            cubes = None if terms is None else [_cube(f, n) for f in kept if f.kind != "const0"]
        if cubes is None:
            refused.add(i)
            continue
        for cube in cubes:
            rows.setdefault(cube, set()).add(k)
    if refused:
        names = [c.gates[i].name for i in sorted(refused)]
        raise ExportError(
            f"a PLA holds cubes (ANDs of literals) ORed into outputs; the threshold "
            f"{neurons(names, ('is', 'are'))} neither: use --blif or --verilog"
        )
    return rows


def pla_of(net: Any) -> Pla:
    """The network's cover as a ``.type f`` :class:`~logicnets.pla.format.Pla` (refuses non-cube networks)."""
    c = circuit_of(net)
    if c.n_layers > 2:
        raise ExportError(f"a PLA is two-level; this network has {c.n_layers} layers: use --blif or --verilog")
    if not c.inputs:
        raise ExportError("a PLA needs at least one input; this network has none")
    check_words(c, "PLA")
    m = len(c.outputs)
    rows = tuple((cube, "".join("1" if k in outs else "0" for k in range(m))) for cube, outs in _rows(c).items())
    return Pla(c.inputs, tuple(name for name, _ in c.outputs), rows, "f")


def to_pla(net: Any) -> str:
    """The text of :func:`pla_of`."""
    return format_pla(pla_of(net))
