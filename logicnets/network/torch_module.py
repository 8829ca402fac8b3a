"""``ThresholdModule``: a ThresholdNetwork as a torch ``nn.Module`` (CPU or GPU, batched).

Exact agreement with the numpy network needs exact pre-activations.  Compiled
networks have small integer weights and half-integer biases: those sums are
exact in float32 (and in TF32 matmuls, whose 10-bit mantissa still holds
integers up to 2048), so float32 is used for them; any other network runs in
float64.  The weights are buffers, not parameters: θ has no gradient.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import torch
from torch import nn

__all__ = ["ThresholdModule", "exact_float32"]


def exact_float32(network: Any, layers: Sequence[Any] | None = None) -> bool:
    """True when every pre-activation is exactly representable in float32 and TF32 products."""
    for layer in network.layers if layers is None else layers:
        w, b = layer.weights, layer.biases
        if not (np.all(w == np.round(w)) and np.all(np.abs(w) <= 1024)):
            return False
        if not np.all(b * 2 == np.round(b * 2)) or np.any(np.abs(b) > 2**20):
            return False
        if np.abs(w).sum(axis=1).max(initial=0) + np.abs(b).max(initial=0) > 2**22:
            return False
    return True


class ThresholdModule(nn.Module):
    """forward(x: (batch, n) 0/1 tensor) -> (batch,) tensor of 0./1. (θ(z) = [z >= 0]).

    ``network`` is a ThresholdNetwork; a MultiOutputNetwork passes its two ``layers`` and
    ``columns=True`` and gets every output column, (batch, outputs).
    """

    def __init__(
        self,
        network: Any,
        dtype: Any = None,
        device: Any = None,
        layers: Sequence[Any] | None = None,
        columns: bool = False,
    ) -> None:
        super().__init__()
        layers = tuple(network.layers if layers is None else layers)
        if dtype is None:
            dtype = torch.float32 if exact_float32(network, layers) else torch.float64
        self.inputs = tuple(network.inputs)
        self.compute_dtype = dtype
        for i, layer in enumerate(layers):
            self.register_buffer(f"weight{i}", torch.tensor(layer.weights, dtype=dtype, device=device))
            self.register_buffer(f"bias{i}", torch.tensor(layer.biases, dtype=dtype, device=device))
        self.n_layers = len(layers)
        self.columns = columns

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.dim() == 1:  # one row -> a 0-d tensor
            return self.forward(x.unsqueeze(0))[0]
        if x.dim() != 2 or x.shape[1] != len(self.inputs):
            raise ValueError(
                f"expected a (batch, {len(self.inputs)}) tensor with columns "
                f"{list(self.inputs)}, got shape {tuple(x.shape)}"
            )
        h = x.to(self.compute_dtype)
        for i in range(self.n_layers):
            w = getattr(self, f"weight{i}")
            b = getattr(self, f"bias{i}")
            h = (torch.addmm(b, h, w.t()) >= 0).to(self.compute_dtype)
        return h if self.columns else h[:, 0]

    def extra_repr(self) -> str:
        return f"inputs={list(self.inputs)}, layers={self.n_layers}, dtype={self.compute_dtype}"
