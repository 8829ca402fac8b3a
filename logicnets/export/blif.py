"""A network as BLIF (Berkeley Logic Interchange Format): one ``.names`` cover per neuron.

Why covers: BLIF's logic is sums of products, so a neuron is written as its own minimal cover
over the signals it reads. A threshold function is unate, so its minimal cover is unique: the
set of its prime implicants, one per *minimal* set of literals whose weights reach the
threshold (an AND is one such set, an OR one per literal). A majority of 2k+1 inputs has
C(2k+1, k+1) of them, so a neuron whose cover passes ``max_cubes`` is refused by name.

>>> from logicnets import compile
>>> print(to_blif(compile("x ^ y"), model="xor"), end="")
.model xor
.inputs x y
.outputs out
.names x y h1
10 1
.names x y h2
01 1
.names h1 h2 out
1- 1
-1 1
.end
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from ..network.neurons import IntegerNeuron
from .circuit import Circuit, ExportError, check_words, circuit_of, is_word, listed

__all__ = ["DEFAULT_MAX_CUBES", "minimal_sets", "to_blif"]

#: Largest cover written for one neuron unless the caller asks for more.
DEFAULT_MAX_CUBES = 10_000


def minimal_sets(weights: Sequence[int], threshold: int, limit: int) -> list[tuple[int, ...]] | None:
    """Every minimal set of positions whose positive ``weights`` sum to ``threshold`` or more
    (None once there are more than ``limit``): the prime implicants of a threshold gate.

    Depth first over the weights, largest first: a set stops growing when it reaches the
    threshold (the weight just added is its smallest, so it is minimal), and a branch stops when
    the weights left cannot reach it; so the search visits at most n nodes per set it returns.

    >>> minimal_sets([1, 1, 1], 2, 10)
    [(0, 1), (0, 2), (1, 2)]
    >>> minimal_sets([2, 1, 1], 2, 10), minimal_sets([1] * 5, 3, 9)
    ([(0,), (1, 2)], None)
    """
    order = sorted(range(len(weights)), key=lambda i: -weights[i])
    w = [weights[i] for i in order]
    left = [sum(w[p:]) for p in range(len(w) + 1)]
    found: list[tuple[int, ...]] = []
    stack: list[tuple[int, int, tuple[int, ...]]] = [(0, 0, ())]
    while stack:
        pos, total, chosen = stack.pop()
        if total >= threshold:
            found.append(tuple(sorted(chosen)))
            if len(found) > limit:
                return None
        elif total + left[pos] >= threshold:
            stack.append((pos + 1, total, chosen))
            stack.append((pos + 1, total + w[pos], (*chosen, order[pos])))
    return sorted(found)


def _names_block(form: IntegerNeuron, name: str, signal: Sequence[str], max_cubes: int) -> list[str]:
    """``.names`` line and cover rows of one neuron (a constant reads no signals)."""
    if form.kind in ("const0", "const1"):
        return [f".names {name}", *(["1"] if form.kind == "const1" else [])]
    sets = minimal_sets([a for _, a, _ in form.literals], form.threshold, max_cubes)
    if sets is None:
        raise ExportError(
            f"neuron {name}'s minimal cover has more than {max_cubes} cubes; "
            "raise --blif-max-cubes, or use --verilog, which writes the neuron as a weighted sum"
        )
    lines = [".names " + " ".join(signal[s] for s, _, _ in form.literals) + f" {name}"]
    for chosen in sets:
        cells = ["-"] * len(form.literals)
        for j in chosen:
            cells[j] = "0" if form.literals[j][2] else "1"
        lines.append("".join(cells) + " 1")
    return lines


def _signals(c: Circuit) -> list[str]:
    """Signal names; BLIF has one namespace, so an output named as an input is refused."""
    clash = [name for name, _ in c.outputs if name in set(c.inputs)]
    if clash:
        raise ExportError(
            f"outputs {listed(clash)} have the names of inputs, and BLIF has one name per signal; "
            "rename them in the network JSON"
        )
    return [*c.inputs, *(g.name for g in c.gates)]


def to_blif(net: Any, model: str = "network", max_cubes: int = DEFAULT_MAX_CUBES) -> str:
    """BLIF text of a network: ``.model``, ``.inputs``, ``.outputs`` and one ``.names`` per neuron."""
    if not is_word(model):
        raise ExportError(f"BLIF model name {model!r} must be one word without spaces, '#' or '\\\\'")
    c = circuit_of(net)
    check_words(c, "BLIF")
    signal = _signals(c)
    lines = [f".model {model}", " ".join([".inputs", *c.inputs]), " ".join([".outputs", *(n for n, _ in c.outputs)])]
    for g in c.gates:
        lines += _names_block(g.form, g.name, signal, max_cubes)
    lines.append(".end")
    return "\n".join(lines) + "\n"
