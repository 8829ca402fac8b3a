"""The stages of a reproduction besides the sweeps, each a function of (profile, store) whose
result the store caches in ``results/<stage>.json``: the (l1, l2) grid (cells 7-9), the boolean
part (the notebook's text), and the autoencoders' summary with its pictures (cells 19-22, 33-34).
``STAGES`` names every stage ``reproduce --only`` accepts.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from lightning_mnist.errors import ConfigError
from lightning_mnist.study.points import PROFILES, Profile, sweep_points
from lightning_mnist.study.registry import SWEEPS_IN_ORDER
from lightning_mnist.study.store import ResultStore


def stage_grid(profile: Profile, store: ResultStore | None = None) -> dict:
    """Cells 7-9: 20 x 20 (l1, l2) grid, 10 GD iterations each, all 400 models in one program."""
    from lightning_mnist.data.datamodule import MNISTDataModule
    from lightning_mnist.study.grid import grid_accuracy, reg_coeffs

    dm = MNISTDataModule(batch_size=None, val_split="test", **profile.data_kwargs())  # the notebook's data
    dm.setup()
    coeffs = reg_coeffs()
    start = time.perf_counter()
    acc = grid_accuracy(dm.train_set.x, dm.train_set.y, dm.test_set.x, dm.test_set.y, coeffs, coeffs)
    return {
        "l1": coeffs.tolist(),
        "l2": coeffs.tolist(),
        "acc": acc.tolist(),
        "lr": 1.0,
        "iterations": 10,
        "seconds": time.perf_counter() - start,
    }


# The notebook's one-neuron weights (its text): θ(w·x + b), θ(z) = [z >= 0].
NOTEBOOK_NEURONS = {
    "and": ("x & y", (1, 1), -1.5),
    "or": ("x | y", (1, 1), -0.5),
    "not": ("~x", (-1,), 0.5),
}
SPECS = {"and": lambda x, y: x & y, "or": lambda x, y: x | y, "not": lambda x: 1 - x, "xor": lambda x, y: x ^ y}
FORMULAS = {"and": "x & y", "or": "x | y", "not": "~x", "xor": "x ^ y"}


def _rows(n: int) -> list[list[int]]:
    """Every input row of ``n`` variables, in logicnets' order (``logicnets.rows``)."""
    from logicnets.rows import all_rows

    return all_rows(n).tolist()


def stage_logic(profile: Profile | None = None, store: ResultStore | None = None) -> dict:
    """The boolean part, each claim proven as stated.

    - ``neurons``: and / or / not are each one neuron with the notebook's weights: logicnets'
      neuron has them, and it and the exact rational evaluation agree with the function on
      every input;
    - ``single_neuron``: for and / or / not / xor, a proof that one threshold neuron computes
      the function (weights, checked exactly) or that none does (a Farkas certificate checked
      in rational arithmetic, :func:`logicnets.prove.neuron.single_neuron_proof`);
    - ``networks``: each formula compiled to a two-layer network and ``verify``-ed.
    """
    from logicnets import and_neuron, not_neuron, or_neuron
    from logicnets.prove.neuron import single_neuron_proof

    neurons = [
        _neuron(name, neuron) for name, neuron in (("and", and_neuron(2)), ("or", or_neuron(2)), ("not", not_neuron()))
    ]
    single = []
    for name, fn in SPECS.items():
        table = [(tuple(r), fn(*r)) for r in _rows(1 if name == "not" else 2)]
        single.append({"name": name, "table": [[*x, o] for x, o in table], **single_neuron_proof(table)})
    return {"neurons": neurons, "single_neuron": single, "networks": [_network(n, f) for n, f in FORMULAS.items()]}


def _neuron(name: str, neuron) -> dict:
    """logicnets' neuron for ``name`` against the notebook's weights and the function, every input."""
    from logicnets.prove.neuron import neuron_computes

    formula, w, b = NOTEBOOK_NEURONS[name]
    table = _rows(len(w))
    spec = [SPECS[name](*r) for r in table]
    outputs = [int(o) for o in neuron(table)]
    return {
        "name": name,
        "formula": formula,
        "weights": [float(v) for v in neuron.weights],
        "bias": float(neuron.bias),
        "notebook_weights": [float(v) for v in w],
        "notebook_bias": float(b),
        "truth_table": [[*r, o] for r, o in zip(table, outputs, strict=True)],
        "spec": [[*r, o] for r, o in zip(table, spec, strict=True)],
        "is_notebook_neuron": [float(v) for v in neuron.weights] == list(map(float, w)) and float(neuron.bias) == b,
        "computes": outputs == spec and neuron_computes(w, b, [(r, o) for r, o in zip(table, spec, strict=True)]),
    }


def _network(name: str, formula: str) -> dict:
    """``formula`` compiled to a two-layer network, its truth table and ``verify``'s proof."""
    from logicnets import compile, verify

    net = compile(formula)
    table = _rows(len(net.inputs))
    check = verify(net, formula)
    return {
        "name": name,
        "formula": formula,
        "inputs": list(net.inputs),
        "layers": len(net.layers),
        "hidden": net.hidden_size,
        "network": str(net),
        "truth_table": [[*r, int(o)] for r, o in zip(table, net(table), strict=True)],
        "verified": bool(check),
        "verification": str(check),
    }


def summarize_autoencoders(results: list[dict], store: ResultStore) -> dict:
    """One record of the autoencoder studies, and the cell-21 / cell-33 pictures."""
    from lightning_mnist.study.figures import autoencoder_grid

    profile = store.profile
    by = {r["key"]: r for r in results}
    dropout = store.results_path("seed_dropout")
    rows = store.read_json(dropout) if dropout.exists() else None
    original = rows[0]["acc_mean"] if rows and rows[0].get("profile", profile.name) == profile.name else None
    for key, figure in (("autoencoder", "reconstructions_sigmoid"), ("autoencoder_linear", "reconstructions_linear")):
        ckpt, picture = store.checkpoint_path(key), store.figure_path(figure)
        # A clone has the committed pictures but not the (ignored) checkpoints: keep the pictures.
        if ckpt.exists() or not picture.exists():
            autoencoder_grid(ckpt, picture, data_dir=profile.data_dir, verify_checksums=profile.verify_checksums)
    summary = {
        "epochs": by["autoencoder"]["epochs"],
        "mse_sigmoid": by["autoencoder"]["test"]["test/mse"],
        "mse_linear": by["autoencoder_linear"]["test"]["test/mse"],
        "acc_reconstructed": by["reconstructed_dropout"]["test_acc"],
        "acc_encoder": by["encoder_classifier"]["test_acc"],
        "acc_original": original,
        "limit_train_batches": profile.limit_train_batches,
        "profile": profile.name,
    }
    store.write_json(store.results_path("autoencoders"), summary)
    return summary


EXTRA_STAGES: dict[str, Callable[[Profile, ResultStore], dict]] = {
    "grid": stage_grid,
    "logic": stage_logic,
}
REFERENCE = "reference"  # the profile's reference points (Profile.reference), in <out>/reference
STAGES = (*EXTRA_STAGES, *SWEEPS_IN_ORDER, REFERENCE)


def reference_points(profile: Profile) -> list[tuple[str, Profile, set]]:
    """(sweep, reference profile, values) of each sweep with reference points."""
    if profile.reference is None:
        return []
    if profile.reference not in PROFILES:
        raise ConfigError(
            f"profile {profile.name!r}: reference profile {profile.reference!r} is not one of {sorted(PROFILES)}"
        )
    ref = PROFILES[profile.reference]
    wanted: dict[str, set] = {}
    for sweep, value in profile.reference_points:
        if not any(p.x == value for p in sweep_points(sweep, ref)):
            raise ConfigError(f"profile {profile.name!r}: reference point {sweep}={value} is no point of {ref.name!r}")
        wanted.setdefault(sweep, set()).add(value)
    return [(sweep, ref, values) for sweep, values in wanted.items()]


def check_only(only: list[str] | None) -> None:
    """Refuse ``--only`` names that are no stage (an empty report is no answer)."""
    if only is None:
        return
    if not only:
        raise ConfigError(f"--only needs at least one stage: {', '.join(STAGES)}")
    unknown = [name for name in only if name not in STAGES]
    if unknown:
        raise ConfigError(f"--only: unknown stage(s) {', '.join(unknown)}; choose from {', '.join(STAGES)}")
