"""The one registry of the study's sweeps: every other list of sweep names is derived from it.

A sweep is a shipped config run at each value of one model argument (or once), for several
seeds; its entry says which notebook cells it reproduces, which optimizer the report names, and
what kind of run it is (``gd``: deterministic gradient descent, one run; ``mlp``: an
``MLPClassifier``, whose seeds may be stacked into one run and whose precision a profile may
lower; ``autoencoders``: the dependent autoencoder runs of cells 19-22 and 33-34). Adding a
sweep is one entry here plus its claim in ``claims.CLAIMS``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

__all__ = [
    "CLASSIFIER_SWEEPS",
    "CURVE_SWEEPS",
    "DEPTH_SWEEPS",
    "MLP_SWEEPS",
    "REGISTRY",
    "STACKABLE_CONFIGS",
    "SWEEPS_IN_ORDER",
    "Sweep",
]


@dataclass(frozen=True)
class Sweep:
    """One sweep: ``config`` run for each of ``values(profile)`` (set through ``arg``), per seed."""

    name: str
    config: str  # a shipped config
    kind: str  # "gd" | "mlp" | "autoencoders"
    cells: str  # the notebook cells it reproduces
    optimizer: str  # as the report's settings column names it
    var: str | None = None  # the swept variable: the points' key prefix and the figures' axis
    arg: str | None = None  # the CLI argument that sets it
    values: Callable[[Any], tuple[Any, ...]] | None = None  # of a points.Profile
    many_seeds: bool = False  # runs per value from Profile.depth_seeds (claims resting on small gaps)

    def values_for(self, profile: Any) -> tuple[Any, ...]:
        """The swept values under ``profile`` (``(None,)``: one unswept value)."""
        return (None,) if self.values is None else tuple(self.values(profile))


REGISTRY: dict[str, Sweep] = {
    s.name: s
    for s in (
        Sweep("softmax_gd", "softmax_gd", "gd", "3-6", "GD"),
        Sweep("seed_mlp", "seed_mlp", "mlp", "11", "SGD lr 0.01"),
        Sweep("width", "width", "mlp", "12-13", "SGD", "width", "--model.init_args.width", lambda p: p.widths),
        Sweep("depth_sgd", "depth_sgd", "mlp", "14-15", "SGD", "depth", "--model.init_args.depth", lambda p: p.depths,
              many_seeds=True),
        Sweep("depth_rmsprop", "depth_rmsprop", "mlp", "16-17", "RMSprop", "depth", "--model.init_args.depth",
              lambda p: p.depths, many_seeds=True),
        Sweep("seed_dropout", "seed_dropout", "mlp", "18", "Adadelta"),
        Sweep("autoencoders", "autoencoder", "autoencoders", "19-22, 33-34", "Adadelta"),
    )
}  # fmt: skip

# Derived views, in the registry's (the notebook's) order.
SWEEPS_IN_ORDER = tuple(REGISTRY)
CLASSIFIER_SWEEPS = tuple(n for n, s in REGISTRY.items() if s.kind != "autoencoders")
MLP_SWEEPS = tuple(n for n, s in REGISTRY.items() if s.kind == "mlp")
DEPTH_SWEEPS = tuple(n for n, s in REGISTRY.items() if s.many_seeds)
CURVE_SWEEPS = tuple(n for n, s in REGISTRY.items() if s.var is not None)  # those with a table and a figure
# Configs whose model is an MLPClassifier (checked again on the built model): their seeds stack.
STACKABLE_CONFIGS = tuple(s.config for s in REGISTRY.values() if s.kind == "mlp")
