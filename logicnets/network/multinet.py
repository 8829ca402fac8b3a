"""``MultiOutputNetwork``: several outputs over one shared hidden layer of Heaviside neurons.

Why a separate class: single-output :class:`~logicnets.network.ThresholdNetwork`
and its JSON stay exactly as they were; :meth:`MultiOutputNetwork.output`
gives any one output as such a network (only the hidden neurons it uses), so
``verify``, ``decompile`` and rendering work per output.

>>> net = MultiOutputNetwork(["a", "b"], ["and", "or"], Layer([[1, 1]], [-1.5]),
...                          Layer([[1], [0]], [-0.5, -0.5]))
>>> net([[1, 1], [0, 1]]).tolist()
[[1, 0], [0, 0]]
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..errors import LogicError
from ..files import atomic_write
from . import network
from .jsonio import check_names, jsonable, read_json
from .network import Layer, ThresholdNetwork, layer_from_json
from .neurons import heaviside
from .render import layer_lines

__all__ = ["MULTI_FORMAT", "MultiOutputNetwork"]

MULTI_FORMAT = "logicnets.MultiOutputNetwork"


@dataclass(frozen=True, eq=False)
class MultiOutputNetwork:
    """``outputs = θ(W2 θ(W1 x + b1) + b2)`` with one row of ``W2`` per named output."""

    inputs: tuple[str, ...]
    outputs: tuple[str, ...]
    hidden: Layer
    output_layer: Layer
    stats: dict = field(default_factory=dict)

    def __post_init__(self) -> None:
        object.__setattr__(self, "inputs", tuple(str(v) for v in self.inputs))
        object.__setattr__(self, "outputs", tuple(str(v) for v in self.outputs))
        h = self.hidden if isinstance(self.hidden, Layer) else Layer(*self.hidden)
        o = self.output_layer if isinstance(self.output_layer, Layer) else Layer(*self.output_layer)
        if len(set(self.inputs)) != len(self.inputs) or len(set(self.outputs)) != len(self.outputs):
            raise LogicError("input names and output names must be distinct")
        if h.weights.shape[1] != len(self.inputs):
            raise LogicError(f"hidden layer expects {h.weights.shape[1]} inputs, network has {len(self.inputs)}")
        if o.weights.shape != (len(self.outputs), h.size):
            raise LogicError(f"output layer must be ({len(self.outputs)}, {h.size}), got {o.weights.shape}")
        object.__setattr__(self, "hidden", h)
        object.__setattr__(self, "output_layer", o)
        object.__setattr__(self, "stats", dict(self.stats or {}))

    @property
    def n_inputs(self) -> int:
        return len(self.inputs)

    @property
    def n_outputs(self) -> int:
        return len(self.outputs)

    @property
    def hidden_size(self) -> int:
        return self.hidden.size

    def __call__(self, x: Any) -> np.ndarray:
        """(batch, n) 0/1 rows -> (batch, outputs) uint8."""
        arr = np.asarray(x, dtype=np.float64)
        if arr.ndim != 2 or arr.shape[1] != self.n_inputs:
            raise LogicError(f"expected a (batch, {self.n_inputs}) 0/1 array, got shape {arr.shape}")
        h = heaviside(arr @ self.hidden.weights.T + self.hidden.biases)
        return heaviside(h @ self.output_layer.weights.T + self.output_layer.biases).astype(np.uint8)

    def output(self, which: int | str) -> ThresholdNetwork:
        """One output as a single-output network over the hidden neurons it uses."""
        k = self.outputs.index(which) if isinstance(which, str) else int(which)
        w = self.output_layer.weights[k]
        used = np.flatnonzero(w)
        b = self.output_layer.biases[k]
        if used.size == 0:
            return ThresholdNetwork(
                self.inputs, (Layer(np.zeros((1, self.n_inputs)), [b]),), {"output": self.outputs[k]}
            )
        hid = Layer(self.hidden.weights[used], self.hidden.biases[used])
        return ThresholdNetwork(
            self.inputs,
            (hid, Layer(w[used][None, :], [b])),
            {"output": self.outputs[k], "hidden_indices": used.tolist()},
        )

    def to_torch(self, dtype: Any = None, device: Any = None) -> Any:
        """An ``nn.Module``: (batch, n) tensor -> (batch, outputs) tensor of 0./1."""
        from .torch_module import ThresholdModule  # torch is optional and slow to import

        return ThresholdModule(self, dtype=dtype, device=device, layers=(self.hidden, self.output_layer), columns=True)

    # ------------------------------------------------------------------ JSON
    def to_dict(self) -> dict:
        return {
            "format": MULTI_FORMAT,
            "version": 1,
            "activation": "heaviside, theta(z) = 1 if z >= 0 else 0",
            "inputs": list(self.inputs),
            "outputs": list(self.outputs),
            "hidden": {"weights": self.hidden.weights.tolist(), "biases": self.hidden.biases.tolist()},
            "output_layer": {
                "weights": self.output_layer.weights.tolist(),
                "biases": self.output_layer.biases.tolist(),
            },
            "stats": jsonable(self.stats),
        }

    @classmethod
    def from_dict(cls, data: Any) -> MultiOutputNetwork:
        if not isinstance(data, dict) or data.get("format") != MULTI_FORMAT:
            raise LogicError(f'not a multi-output network: expected "format": "{MULTI_FORMAT}"')
        inputs, outputs = check_names(data.get("inputs"), "inputs"), check_names(data.get("outputs"), "outputs")
        try:
            hidden = layer_from_json(data["hidden"], len(inputs), network.MAX_NETWORK_WEIGHTS)
            out = layer_from_json(data["output_layer"], hidden.size, network.MAX_NETWORK_WEIGHTS - hidden.weights.size)
        except (KeyError, TypeError, ValueError, OverflowError) as exc:
            if isinstance(exc, LogicError):
                raise
            raise LogicError(f"malformed multi-output network JSON ({exc})") from None
        stats = data.get("stats") or {}
        return cls(tuple(inputs), tuple(outputs), hidden, out, dict(stats) if isinstance(stats, dict) else {})

    def to_json(self, indent: int | None = 1) -> str:
        return json.dumps(self.to_dict(), indent=indent)

    def save(self, path: str | os.PathLike) -> None:
        """Write JSON atomically (see :func:`logicnets.files.atomic_write`)."""
        atomic_write(path, self.to_json() + "\n")

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, MultiOutputNetwork):
            return NotImplemented
        return (
            self.inputs == other.inputs
            and self.outputs == other.outputs
            and all(
                np.array_equal(a.weights, b.weights) and np.array_equal(a.biases, b.biases)
                for a, b in ((self.hidden, other.hidden), (self.output_layer, other.output_layer))
            )
        )

    __hash__ = None  # type: ignore[assignment]

    def render(self, max_neurons: int | None = 40) -> str:
        """One line per neuron, as :meth:`ThresholdNetwork.render`."""
        lines = [
            f"MultiOutputNetwork: {self.n_inputs} inputs [{', '.join(self.inputs)}] -> "
            f"{self.hidden_size} hidden -> {self.n_outputs} outputs [{', '.join(self.outputs)}]; "
            "theta(z) = 1 if z >= 0 else 0",
            f"hidden layer ({self.hidden_size} neurons):",
        ]
        lines += layer_lines(
            self.hidden.weights,
            self.hidden.biases,
            self.inputs,
            [f"h{j + 1}" for j in range(self.hidden_size)],
            max_neurons,
        )
        lines.append("outputs:")
        hnames = [f"h{j + 1}" for j in range(self.hidden_size)]
        lines += layer_lines(self.output_layer.weights, self.output_layer.biases, hnames, self.outputs, None)
        return "\n".join(lines)

    __str__ = render


def load_network(path: str | os.PathLike) -> Any:
    """A saved single- or multi-output network, by its ``format`` field; errors name the file."""
    data = read_json(path)
    try:
        if isinstance(data, dict) and data.get("format") == MULTI_FORMAT:
            return MultiOutputNetwork.from_dict(data)
        return ThresholdNetwork.from_dict(data)
    except LogicError as exc:
        raise LogicError(f"{os.fspath(path)}: {exc}") from None
