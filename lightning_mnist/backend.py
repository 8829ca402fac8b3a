"""Which Lightning distribution the package builds on: ``lightning.pytorch`` or ``pytorch_lightning``.

The two ship the same classes under two names, and a Trainer of one refuses modules of the
other ("model must be a LightningModule"). The choice is made once, at import:

1. ``LIGHTNING_MNIST_BACKEND=lightning`` or ``=pytorch_lightning`` in the environment wins;
2. otherwise, if exactly one of them is already imported, that one (``import lightning as L``
   before ``import lightning_mnist``, the order isort gives, just works);
3. otherwise ``pytorch_lightning`` if it is installed (the package's own dependency), else
   ``lightning.pytorch``.

Everything else in the package imports Lightning through this module.

>>> BACKEND in ("lightning", "pytorch_lightning")
True
"""

from __future__ import annotations

import importlib
import importlib.util
import os
import sys
import warnings

CHOICES = {"lightning": "lightning.pytorch", "pytorch_lightning": "pytorch_lightning"}
ENV_VAR = "LIGHTNING_MNIST_BACKEND"


def choose_backend() -> str:
    """The distribution to use, by the rules in the module docstring."""
    wanted = os.environ.get(ENV_VAR, "").strip()
    if wanted:
        if wanted not in CHOICES:
            raise ImportError(f"{ENV_VAR}={wanted!r}: choose one of {sorted(CHOICES)}")
        return wanted
    imported = [name for name, module in CHOICES.items() if module in sys.modules]
    if len(imported) == 1:
        return imported[0]
    if importlib.util.find_spec("pytorch_lightning") is not None:
        return "pytorch_lightning"
    if importlib.util.find_spec("lightning") is not None:
        return "lightning"
    raise ImportError("lightning_mnist needs PyTorch Lightning: pip install pytorch-lightning (or lightning)")


# Lightning (2.6) builds torch's LeafSpec, deprecated in torch 2.13, whenever it sets up a
# loader: a FutureWarning in every fit that no code of ours or of its users can avoid.
warnings.filterwarnings("ignore", message=r"`isinstance\(treespec, LeafSpec\)` is deprecated", category=FutureWarning)

BACKEND = choose_backend()
ROOT = CHOICES[BACKEND]
pl = importlib.import_module(ROOT)
callbacks = importlib.import_module(f"{ROOT}.callbacks")
cli = importlib.import_module(f"{ROOT}.cli")
loggers = importlib.import_module(f"{ROOT}.loggers")
plugins = importlib.import_module(f"{ROOT}.plugins")
precision = importlib.import_module(f"{ROOT}.plugins.precision")
strategies = importlib.import_module(f"{ROOT}.strategies")
tuner = importlib.import_module(f"{ROOT}.tuner")
hooks = importlib.import_module(f"{ROOT}.core.hooks")  # ModelHooks, DataHooks, CheckpointHooks
is_overridden = importlib.import_module(f"{ROOT}.utilities.model_helpers").is_overridden
exceptions = importlib.import_module(f"{ROOT}.utilities.exceptions")

Callback = pl.Callback
LightningDataModule = pl.LightningDataModule
LightningModule = pl.LightningModule
Trainer = pl.Trainer
# Raised by the loops once SIGTERM arrived (a SystemExit, code None); older releases lack it
# (and a stand-in that nothing raises keeps `except SIGTERMException` valid).
SIGTERMException = getattr(exceptions, "SIGTERMException", None) or type("SIGTERMException", (SystemExit,), {})
