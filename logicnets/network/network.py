"""``ThresholdNetwork``: layers of Heaviside neurons with named inputs.

The network is plain data (numpy weights and biases per layer) so it can be
evaluated, verified, exported to torch and saved as JSON.  The last layer has
exactly one neuron, the output.  Compiled networks have one hidden layer
(``θ(W2 θ(W1 x + b1) + b2)``), or none when one neuron suffices.
"""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..errors import LogicError
from ..files import atomic_write
from ..rows import MAX_TABLE_VARS, row_block
from .decompile import decompile_formula
from .jsonio import check_names, jsonable, loads, read_json
from .neurons import heaviside
from .render import layer_lines

__all__ = ["FORMAT", "MAX_NETWORK_LAYERS", "MAX_NETWORK_WEIGHTS", "Layer", "ThresholdNetwork"]

FORMAT = "logicnets.ThresholdNetwork"
FORMAT_VERSION = 1

#: Most layers a network file may hold (compiled networks have two; decompiling is bounded apart).
MAX_NETWORK_LAYERS = 1024
#: Most weights (neurons x inputs, over all layers) a network file may describe: 2^25 float64
#: weights are 256 MiB.  Checked before any array is built, since an empty weight list stands
#: for a zero matrix of the declared size and a few bytes could otherwise ask for terabytes.
MAX_NETWORK_WEIGHTS = 1 << 25


@dataclass(frozen=True, eq=False)
class Layer:
    """One layer: ``weights`` (m, k) and ``biases`` (m,), float64."""

    weights: np.ndarray
    biases: np.ndarray

    def __post_init__(self) -> None:
        w = np.array(self.weights, dtype=np.float64, copy=True)
        b = np.array(self.biases, dtype=np.float64, copy=True).reshape(-1)
        if w.ndim != 2:
            raise LogicError(f"layer weights must be a 2-D (neurons, inputs) array, got shape {w.shape}")
        if b.shape != (w.shape[0],):
            raise LogicError(f"layer has {w.shape[0]} neurons but {b.shape[0]} biases")
        if not (np.all(np.isfinite(w)) and np.all(np.isfinite(b))):
            raise LogicError("layer weights and biases must be finite numbers")
        w.setflags(write=False)
        b.setflags(write=False)
        object.__setattr__(self, "weights", w)
        object.__setattr__(self, "biases", b)

    @property
    def size(self) -> int:
        return self.weights.shape[0]


@dataclass(frozen=True, eq=False)
class ThresholdNetwork:
    """Feed-forward Heaviside network ``θ(W_L ... θ(W_1 x + b_1) ... + b_L)``.

    ``inputs`` names the input columns, in order.  θ(z) = 1 for z >= 0.
    ``stats`` records how the network was built (method, hidden counts, ...).
    """

    inputs: tuple[str, ...]
    layers: tuple[Layer, ...]
    stats: dict = field(default_factory=dict)

    def __post_init__(self) -> None:
        inputs = tuple(str(v) for v in self.inputs)
        if len(set(inputs)) != len(inputs):
            raise LogicError(f"network input names must be distinct, got {list(inputs)}")
        layers = tuple(layer if isinstance(layer, Layer) else Layer(*layer) for layer in self.layers)
        if not layers:
            raise LogicError("a network needs at least one layer (the output neuron)")
        width = len(inputs)
        for i, layer in enumerate(layers):
            if layer.weights.shape[1] != width:
                raise LogicError(
                    f"layer {i + 1} expects {layer.weights.shape[1]} inputs but the previous layer gives {width}"
                )
            width = layer.size
        if width != 1:
            raise LogicError(f"the last layer must have exactly one neuron, got {width}")
        object.__setattr__(self, "inputs", inputs)
        object.__setattr__(self, "layers", layers)
        object.__setattr__(self, "stats", dict(self.stats or {}))

    @classmethod
    def two_layer(
        cls, inputs: Sequence[str], W1: Any, b1: Any, W2: Any, b2: float, stats: dict | None = None
    ) -> ThresholdNetwork:
        """The notebook's form ``θ(W2·θ(W1 x + b1) + b2)`` from its four arrays.

        >>> net = ThresholdNetwork.two_layer(["x", "y"], [[1, -1], [-1, 1]], [-0.5, -0.5], [1, 1], -0.5)
        >>> net([[0, 1], [1, 1]]).tolist()
        [1, 0]
        """
        W2 = np.asarray(W2, dtype=np.float64).reshape(1, -1)
        return cls(tuple(inputs), (Layer(W1, b1), Layer(W2, [float(b2)])), stats or {})

    # ------------------------------------------------------------------ shape
    @property
    def n_inputs(self) -> int:
        return len(self.inputs)

    @property
    def hidden_sizes(self) -> tuple[int, ...]:
        return tuple(layer.size for layer in self.layers[:-1])

    @property
    def hidden_size(self) -> int:
        """Total number of hidden neurons (0 for a single-neuron network)."""
        return sum(self.hidden_sizes)

    def _two(self) -> None:
        if len(self.layers) != 2:
            raise LogicError(
                f"this network has {len(self.layers)} layer(s); W1/b1/W2/b2 "
                "exist only for networks with one hidden layer (see .layers)"
            )

    @property
    def W1(self) -> np.ndarray:
        self._two()
        return self.layers[0].weights

    @property
    def b1(self) -> np.ndarray:
        self._two()
        return self.layers[0].biases

    @property
    def W2(self) -> np.ndarray:
        """Output weights as a vector (the notebook's W2)."""
        self._two()
        return self.layers[1].weights[0]

    @property
    def b2(self) -> float:
        self._two()
        return float(self.layers[1].biases[0])

    # ------------------------------------------------------------- evaluation
    def _rows(self, x: Any) -> tuple[np.ndarray, bool]:
        arr = np.asarray(x)
        single = arr.ndim == 1
        if single:
            arr = arr[None, :]
        if arr.ndim != 2 or arr.shape[1] != self.n_inputs:
            raise LogicError(
                f"expected a 0/1 array of shape (batch, {self.n_inputs}) with columns "
                f"{list(self.inputs)}, got shape {np.shape(x)}"
            )
        if arr.dtype != np.bool_ and arr.size and not ((arr == 0) | (arr == 1)).all():
            raise LogicError("network inputs must be 0/1 values")
        return arr.astype(np.float64), single

    def preactivations(self, x: Any) -> list[np.ndarray]:
        """``w·h + b`` of every layer on 0/1 rows (to inspect the 0.5 margins)."""
        h, _ = self._rows(x)
        out = []
        for layer in self.layers:
            z = h @ layer.weights.T + layer.biases
            out.append(z)
            h = heaviside(z)
        return out

    def __call__(self, x: Any, at_zero: float = 1.0) -> np.ndarray:
        """Outputs (uint8 0/1) for a (batch, n) 0/1 array, or a scalar for one row.

        ``at_zero`` is θ(0); the package's networks give the same answer for 0 and 1.
        """
        h, single = self._rows(x)
        for layer in self.layers:
            h = heaviside(h @ layer.weights.T + layer.biases, at_zero)
        out = h[:, 0].astype(np.uint8)
        return out[0] if single else out

    def truth_table(self) -> np.ndarray:
        """Outputs (bool) on all 2^n rows, first input as the most significant bit.

        >>> ThresholdNetwork(["x", "y"], [([[1, 1]], [-1.5])]).truth_table().tolist()
        [False, False, False, True]
        """
        n = self.n_inputs
        if n > MAX_TABLE_VARS:
            raise LogicError(f"{n} inputs: too many to tabulate (at most {MAX_TABLE_VARS})")
        out = np.empty(1 << n, dtype=bool)
        step = 1 << min(n, 16)
        for start in range(0, 1 << n, step):
            out[start : start + step] = self(row_block(start, step, n))
        return out

    # ---------------------------------------------------------------- export
    def to_torch(self, dtype: Any = None, device: Any = None) -> Any:
        """An ``nn.Module`` computing the same outputs, batched, on CPU or GPU."""
        from .torch_module import ThresholdModule  # torch is optional and slow to import

        return ThresholdModule(self, dtype=dtype, device=device)

    def decompile(self, simplify: bool = False) -> Any:
        """Back to a sympy formula; see :func:`logicnets.decompile`."""
        return decompile_formula(self, simplify=simplify).to_sympy()

    def to_dict(self) -> dict:
        return {
            "format": FORMAT,
            "version": FORMAT_VERSION,
            "activation": "heaviside, theta(z) = 1 if z >= 0 else 0",
            "inputs": list(self.inputs),
            "layers": [{"weights": layer.weights.tolist(), "biases": layer.biases.tolist()} for layer in self.layers],
            "stats": jsonable(self.stats),
        }

    @classmethod
    def from_dict(cls, data: Any) -> ThresholdNetwork:
        if not isinstance(data, dict) or data.get("format") != FORMAT:
            raise LogicError(f'not a logicnets network: expected a JSON object with "format": "{FORMAT}"')
        if data.get("version") != FORMAT_VERSION:
            raise LogicError(
                f"unsupported network format version {data.get('version')!r}; "
                f"this logicnets reads version {FORMAT_VERSION}"
            )
        inputs = check_names(data.get("inputs"), "inputs")
        layers = []
        width = len(inputs)
        if isinstance(data.get("layers"), list) and len(data["layers"]) > MAX_NETWORK_LAYERS:
            raise LogicError(f"network has {len(data['layers'])} layers, more than the limit of {MAX_NETWORK_LAYERS}")
        budget = MAX_NETWORK_WEIGHTS
        try:
            for entry in data["layers"]:
                layer = layer_from_json(entry, width, budget)
                budget -= layer.weights.size
                layers.append(layer)
                width = layer.size
        except (KeyError, TypeError, ValueError, OverflowError) as exc:
            if isinstance(exc, LogicError):
                raise
            raise LogicError(
                f"malformed network JSON ({exc}); expected inputs and layers with weights and biases"
            ) from None
        stats = data.get("stats") or {}
        return cls(tuple(inputs), tuple(layers), dict(stats) if isinstance(stats, dict) else {})

    def to_json(self, indent: int | None = 1) -> str:
        return json.dumps(self.to_dict(), indent=indent)

    @classmethod
    def from_json(cls, text: str, source: str = "<json>") -> ThresholdNetwork:
        return cls.from_dict(loads(text, source))

    def save(self, path: str | os.PathLike) -> None:
        """Write JSON atomically (see :func:`logicnets.files.atomic_write`)."""
        atomic_write(path, self.to_json() + "\n")

    @classmethod
    def load(cls, path: str | os.PathLike) -> ThresholdNetwork:
        try:
            return cls.from_dict(read_json(path))
        except LogicError as exc:
            name = os.fspath(path)
            raise LogicError(str(exc) if str(exc).startswith(name) else f"{name}: {exc}") from None

    # ------------------------------------------------------------ comparison
    def __eq__(self, other: object) -> bool:
        if not isinstance(other, ThresholdNetwork):
            return NotImplemented
        return (
            self.inputs == other.inputs
            and len(self.layers) == len(other.layers)
            and all(
                np.array_equal(a.weights, b.weights) and np.array_equal(a.biases, b.biases)
                for a, b in zip(self.layers, other.layers, strict=True)
            )
        )

    __hash__ = None  # type: ignore[assignment]

    # ------------------------------------------------------------- rendering
    def __repr__(self) -> str:
        shapes = ", ".join(f"{layer.weights.shape[1]}->{layer.size}" for layer in self.layers)
        return f"ThresholdNetwork(inputs={list(self.inputs)!r}, layers=[{shapes}], hidden={self.hidden_size})"

    def __str__(self) -> str:
        return self.render()

    def render(self, max_neurons: int | None = 40) -> str:
        """Readable text: one line per neuron, with what it computes.

        >>> from logicnets import compile
        >>> print(compile("x ^ y").render())
        ThresholdNetwork: 2 inputs [x, y] -> 2 hidden -> 1 output; theta(z) = 1 if z >= 0 else 0
        hidden layer 1 (2 neurons):
          h1 = theta(+x -y -0.5)    # AND(x, ~y)
          h2 = theta(-x +y -0.5)    # AND(~x, y)
        output:
          out = theta(+h1 +h2 -0.5)    # OR(h1, h2)
        """
        sizes = " -> ".join(
            [f"{self.n_inputs} inputs [{', '.join(self.inputs)}]"]
            + [f"{s} hidden" for s in self.hidden_sizes]
            + ["1 output"]
        )
        lines = [f"ThresholdNetwork: {sizes}; theta(z) = 1 if z >= 0 else 0"]
        names = list(self.inputs)
        for li, layer in enumerate(self.layers):
            last = li == len(self.layers) - 1
            prefix = "h" if len(self.layers) == 2 else f"h{li + 1}_"
            lines.append("output:" if last else f"hidden layer {li + 1} ({layer.size} neurons):")
            out_names = ["out"] if last else [f"{prefix}{j + 1}" for j in range(layer.size)]
            lines += layer_lines(layer.weights, layer.biases, names, out_names, max_neurons)
            names = out_names
        return "\n".join(lines)


def layer_from_json(entry: Any, width: int, budget: int | None = None) -> Layer:
    """A layer from its JSON object; an empty weight list means a (neurons, width) zero matrix.

    At most ``budget`` weights (neurons x width; default :data:`MAX_NETWORK_WEIGHTS`), checked
    before the weight matrix is built.
    """
    biases = np.asarray(entry["biases"], dtype=np.float64).reshape(-1)
    if biases.size * width > (MAX_NETWORK_WEIGHTS if budget is None else budget):
        raise LogicError(
            f"network layer of {biases.size} neurons x {width} inputs passes the limit of "
            f"{MAX_NETWORK_WEIGHTS} weights in a network file"
        )
    weights = np.asarray(entry["weights"], dtype=np.float64)
    if weights.size == 0:
        weights = weights.reshape(biases.size, width)
    return Layer(weights, biases)
