"""Readable text for neurons: the weights, and what the neuron computes when it is a gate."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from .neurons import integer_form

__all__ = ["layer_lines", "neuron_text"]


def _gate_note(w: np.ndarray, b: float, names: Sequence[str]) -> str | None:
    form = integer_form(w, b)
    if form is None:
        return None
    lit = [("~" if neg else "") + names[i] for i, _, neg in form.literals]
    kind = form.kind
    if kind == "const1":
        return "always 1"
    if kind == "const0":
        return "always 0"
    if kind == "and" and all(a == form.literals[0][1] for _, a, _ in form.literals):
        return f"AND({', '.join(lit)})"
    if kind == "or":
        return f"OR({', '.join(lit)})"
    if all(a == 1 for _, a, _ in form.literals):
        return f"at least {form.threshold} of ({', '.join(lit)})"
    return None


def neuron_text(w: np.ndarray, b: float, names: Sequence[str]) -> str:
    """``theta(+x -y -0.5)    # AND(x, ~y)``: the sum, and the gate when it is one.

    >>> neuron_text(np.array([1.0, 1.0, 1.0]), -1.5, ["a", "b", "c"])
    'theta(+a +b +c -1.5)    # at least 2 of (a, b, c)'
    """
    terms = []
    for v, name in zip(w, names, strict=True):
        if v == 0:
            continue
        terms.append(f"+{name}" if v == 1 else f"-{name}" if v == -1 else f"{v:+g}*{name}")
    terms.append(f"{b:+g}")
    text = f"theta({' '.join(terms)})"
    note = _gate_note(w, b, names)
    return text if note is None else f"{text}    # {note}"


def layer_lines(
    weights: np.ndarray, biases: np.ndarray, names: Sequence[str], out_names: Sequence[str], max_neurons: int | None
) -> list[str]:
    """One line per neuron of a layer, at most ``max_neurons`` and a line saying how many more."""
    size = weights.shape[0]
    shown = size if max_neurons is None else min(size, max_neurons)
    lines = [f"  {out_names[j]} = {neuron_text(weights[j], biases[j], names)}" for j in range(shown)]
    if shown < size:
        lines.append(f"  ... {size - shown} more neurons (render(max_neurons=None) shows all)")
    return lines
