"""The notebook's autoencoder studies end to end, with its settings (cells 18-22, 33-34).

Five trainings, each 50 epochs (``--epochs``) of batch 128 with Adadelta (Keras 1 defaults),
validated on the test images as the notebook does, then tested on the original test images:

1. cell 19: autoencoder 784-32(relu)-784(sigmoid)        -> test MSE, cell-21 picture
2. cell 22: seed_dropout trained on 1's reconstructions   -> test accuracy
3. cell 34: autoencoder 784-32(relu)-784(linear)         -> test MSE, cell-33 picture
4. cell 34: EncoderClassifier on 3's frozen encoder       -> test accuracy
5. cell 18: seed_dropout on the original images          -> test accuracy (the reference)

The same modules, DataModules and Trainer options as the shipped configs, built in Python
so the script needs no CLI; one device (``--accelerator``). Results go to
``<out>/results.json`` after every step (a cut-short run keeps what it finished), the two
pictures to ``--figures``, and a table to stdout.

    .venv/bin/python scripts/bench/autoencoder_studies.py [--epochs 50] [--out runs/autoencoder_studies]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import time
from pathlib import Path

import torch

from lightning_mnist import (
    Autoencoder,
    EncoderClassifier,
    MNISTDataModule,
    ReconstructedDataModule,
    load_autoencoder,
)
from lightning_mnist.backend import loggers, pl
from lightning_mnist.models.presets import seed_dropout
from lightning_mnist.study.figures import autoencoder_grid

CSVLogger = loggers.CSVLogger


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=50, help="epochs of every training (notebook: 50)")
    parser.add_argument("--out", type=Path, default=Path("runs/autoencoder_studies"))
    parser.add_argument("--figures", type=Path, default=None, help="folder for the PNGs (default: <out>)")
    parser.add_argument("--results", type=Path, default=None, help="JSON results file (default: <out>/results.json)")
    parser.add_argument("--data_dir", default=None)
    parser.add_argument("--accelerator", default="auto")
    parser.add_argument("--seed", type=int, default=1337)
    args = parser.parse_args()
    figures = args.figures or args.out
    results_path = args.results or args.out / "results.json"
    args.out.mkdir(parents=True, exist_ok=True)
    results: dict = {
        "settings": {
            "epochs": args.epochs,
            "batch_size": 128,
            "optimizer": "adadelta (lr 1, rho .95, eps 1e-8)",
            "seed": args.seed,
            "torch": torch.__version__,
            "pl": pl.__version__,
            "machine": platform.node(),
            "threads": torch.get_num_threads(),
        },
        "studies": {},
    }

    def data(**kwargs) -> MNISTDataModule:
        cls = ReconstructedDataModule if "autoencoder_ckpt" in kwargs else MNISTDataModule
        return cls(data_dir=args.data_dir, batch_size=128, eval_batch_size=1000, **kwargs)

    def run(name: str, make_model, datamodule: MNISTDataModule, metric: str) -> pl.LightningModule:
        pl.seed_everything(args.seed)
        model = make_model()
        trainer = pl.Trainer(
            max_epochs=args.epochs,
            accelerator=args.accelerator,
            devices=1,
            deterministic=True,
            logger=CSVLogger(args.out, name=name),
            enable_checkpointing=False,
            enable_progress_bar=False,
            enable_model_summary=False,
        )
        start = time.perf_counter()
        trainer.fit(model, datamodule=datamodule)
        (test,) = trainer.test(model, datamodule=datamodule, verbose=False)
        seconds = time.perf_counter() - start
        ckpt = args.out / f"{name}.ckpt"
        trainer.save_checkpoint(ckpt)
        results["studies"][name] = {
            metric: test[metric],
            "seconds": round(seconds, 1),
            "ckpt": str(ckpt),
            "device": str(trainer.strategy.root_device),
        }
        print(f"{name}: {metric} = {test[metric]:.4f}  ({seconds:.0f} s)", flush=True)
        if isinstance(datamodule, ReconstructedDataModule):
            results["studies"][name]["reconstructed_on"] = str(datamodule.reconstruction_device)
        write_results(results_path, results)
        return model

    run("autoencoder", lambda: Autoencoder(decoder="sigmoid"), data(), "test/mse")
    grid = autoencoder_grid(args.out / "autoencoder.ckpt", figures / "autoencoder_sigmoid.png", args.data_dir, dpi=60)
    results["studies"]["autoencoder"]["figure"] = str(grid)
    run("reconstructed_dropout", seed_dropout, data(autoencoder_ckpt=str(args.out / "autoencoder.ckpt")), "test/acc")
    run("autoencoder_linear", lambda: Autoencoder(decoder="linear"), data(), "test/mse")
    grid = autoencoder_grid(
        args.out / "autoencoder_linear.ckpt", figures / "autoencoder_linear.png", args.data_dir, dpi=60
    )
    results["studies"]["autoencoder_linear"]["figure"] = str(grid)
    classifier = run(
        "encoder_classifier", lambda: EncoderClassifier(str(args.out / "autoencoder_linear.ckpt")), data(), "test/acc"
    )
    pretrained = load_autoencoder(args.out / "autoencoder_linear.ckpt").encoder.state_dict()
    results["studies"]["encoder_classifier"]["encoder_bit_identical_after_training"] = all(
        torch.equal(value.cpu(), pretrained[key]) for key, value in classifier.encoder.state_dict().items()
    )
    run("seed_dropout", seed_dropout, data(), "test/acc")
    write_results(results_path, results)

    rows = [
        ("19", "autoencoder 784-32-784 (sigmoid)", "test MSE", "autoencoder", "test/mse"),
        ("34", "autoencoder 784-32-784 (linear)", "test MSE", "autoencoder_linear", "test/mse"),
        ("18", "seed_dropout on original images", "test accuracy", "seed_dropout", "test/acc"),
        ("22", "seed_dropout on sigmoid-AE reconstructions", "test accuracy", "reconstructed_dropout", "test/acc"),
        ("34", "cell-18 head on the frozen linear-AE encoder", "test accuracy", "encoder_classifier", "test/acc"),
    ]
    print(f"\n{args.epochs} epochs, batch 128, Adadelta; device {results['studies']['autoencoder']['device']}")
    print("| cell | model | metric | value | time |\n|---|---|---|---|---|")
    for cell, what, label, name, key in rows:
        study = results["studies"][name]
        print(f"| {cell} | {what} | {label} | {study[key]:.4f} | {study['seconds']:.0f} s |")


def write_results(path: Path, results: dict) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(results, indent=1))
    os.replace(tmp, path)


if __name__ == "__main__":
    main()
