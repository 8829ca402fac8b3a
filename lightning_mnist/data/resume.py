"""An exact mid-epoch resume: the training loader's place in the epoch and the random state
to go on from, carried by the checkpoint through Lightning's own fault-tolerance hooks.

A fit stopped after training batch k (SIGTERM, or a checkpoint saved inside an epoch) and
resumed from its checkpoint must take batch k+1 next, in the same order, with the same
dropout masks. Lightning saves the loop counters, the model and the optimizer; three things
are left to the data side:

* **the position**: ``ResumableLoader`` is a ``DataLoader`` with ``state_dict`` /
  ``load_state_dict``, which Lightning stores in its fit-loop state and hands back, only when
  it restarts inside an epoch. The position is what the fit loop took (its batch progress),
  not what the iterator yielded, which a fetcher that reads ahead would overcount;
* **the sampler's epoch**: the loader's state is loaded before Lightning calls ``set_epoch``,
  so the DataModule builds the sampler at the fit loop's epoch, and a position is taken only
  for that epoch;
* **the random state** (torch, CUDA, NumPy, Python), saved by the DataModule in every
  checkpoint and restored when the resumed fit makes its first training iterator, the last
  moment before the next batch is fetched (and transformed) and trained. Making an iterator
  draws its worker seed from the global torch generator: at an epoch boundary the
  uninterrupted run drew it after the checkpoint (unless its workers persist), so the state is
  restored before the iterator is made; otherwise it is restored after.

Exact on CPU with ``num_workers=0``, and with workers when the transform draws no random
numbers (a worker's own random stream is not saved). Whatever runs before the first iterator
(``setup``, ``on_fit_start``, the model's construction) may draw; ``on_train_start``, which
only the resumed fit runs after it, must not draw from the global generators.
"""

from __future__ import annotations

import random
import warnings
from collections.abc import Iterator
from typing import Any, Protocol

import numpy as np
import torch
from torch.utils.data import DataLoader

from lightning_mnist.errors import ResumeError

__all__ = ["ResumableLoader", "TrainingStream", "restore_rng", "rng_state"]


def rng_state() -> dict[str, Any]:
    """The global random state (torch, CUDA when in use, NumPy, Python) as tensors, ints and
    strings, so that a checkpoint holding it still loads with ``weights_only=True``."""
    kind, keys, pos, has_gauss, cached = np.random.get_state()
    version, internal, gauss_next = random.getstate()
    state = {
        "torch": torch.get_rng_state(),
        "numpy": {
            "kind": kind,
            "keys": torch.from_numpy(keys.astype(np.int64)),
            "pos": int(pos),
            "has_gauss": int(has_gauss),
            "cached_gaussian": float(cached),
        },
        "python": {"version": version, "internal": torch.tensor(internal, dtype=torch.int64), "gauss_next": gauss_next},
    }
    if torch.cuda.is_available() and torch.cuda.is_initialized():
        state["cuda"] = torch.cuda.get_rng_state_all()
    return state


def restore_rng(state: dict[str, Any]) -> None:
    """Set the global random state to one ``rng_state`` returned."""
    torch.set_rng_state(state["torch"])
    if "cuda" in state and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(state["cuda"])
    numpy = state["numpy"]
    keys = numpy["keys"].numpy().astype(np.uint32)
    np.random.set_state((numpy["kind"], keys, numpy["pos"], numpy["has_gauss"], numpy["cached_gaussian"]))
    python = state["python"]
    random.setstate((python["version"], tuple(python["internal"].tolist()), python["gauss_next"]))


class TrainingStream(Protocol):
    """What a ``ResumableLoader`` asks its DataModule (``MNISTDataModule`` is one)."""

    def batches_taken(self) -> int | None:
        """Loader batches the running fit loop has taken in this epoch (None outside a fit)."""

    def restarting_mid_epoch(self) -> bool:
        """Whether the running fit resumes inside an epoch (Lightning then restores loader states)."""

    def pop_resume_rng(self) -> dict[str, Any] | None:
        """The random state of the checkpoint this fit resumes from, once (None: not resuming)."""


class ResumableLoader(DataLoader):
    """A training ``DataLoader`` that Lightning checkpoints with the fit loop (``state_dict``),
    resuming at the next batch with the random state of the uninterrupted run.

    ``stream`` is the DataModule that built it; its sampler takes ``skip(n)`` (the first ``n``
    indices of the next pass are left out) and has an ``epoch``."""

    def __init__(self, *args: Any, stream: TrainingStream | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.stream = stream
        self._restart: dict[str, Any] | None = None  # a loaded state, for the next pass

    def state_dict(self) -> dict[str, Any]:
        """Where the fit loop is in this loader's epoch (called when a checkpoint is saved)."""
        taken = self.stream.batches_taken() if self.stream is not None else None
        return {
            "epoch": int(getattr(self.sampler, "epoch", 0)),
            "batches": int(taken or 0),
            "batch_size": self.batch_size,
        }

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Called by Lightning before the first pass of a fit that resumes inside an epoch."""
        if int(state.get("epoch", -1)) != int(getattr(self.sampler, "epoch", 0)):
            return  # the position in an epoch that has finished (a fit counted in max_steps)
        if state.get("batches", 0) and state.get("batch_size") != self.batch_size:
            raise ResumeError(
                f"the checkpoint stopped inside an epoch with {state.get('batch_size')} images per training step, "
                f"this run takes {self.batch_size}: resume with the same batch_size and steps_per_execution"
            )
        self._restart = state

    def __iter__(self) -> Iterator:
        restart, self._restart = self._restart, None
        rng = self.stream.pop_resume_rng() if self.stream is not None else None
        if restart is not None:
            if restart["batches"]:
                self.sampler.skip(restart["batches"] * self.batch_size)
        elif self.stream is not None and self.stream.restarting_mid_epoch():
            self._warn_without_position()
        # Making an iterator draws its worker seed from torch's generator. Uninterrupted, that
        # draw came after an epoch-boundary checkpoint (unless workers persist: their iterator
        # is made once), and none came after a mid-epoch one.
        drew_after = restart is None and not self.persistent_workers
        if rng is not None and drew_after:
            restore_rng(rng)
        inner = super().__iter__()
        if rng is not None and not drew_after:
            restore_rng(rng)
        return inner

    def _warn_without_position(self) -> None:
        taken = self.stream.batches_taken() or 0
        if 0 < taken < len(self):
            warnings.warn(
                f"resuming after training batch {taken} of {len(self)} from a checkpoint without the data "
                "position (saved before lightning-mnist recorded it): the epoch restarts its data order, so "
                "this run will differ from an uninterrupted one; resume from an end-of-epoch checkpoint for "
                "an exact run",
                stacklevel=3,
            )
