"""Softmax regression by full-batch GD, 100 iterations: Lightning vs the notebook's numpy loop.

Runs both on the same data in one process and prints times, the ratio and both test
accuracies. The notebook's loop is copied verbatim from cells 3-6 (float64, since its
``np.hstack`` with a float64 ones column promotes X).

    .venv/bin/python scripts/bench/bench_softmax_gd.py [--iterations 100] [--repeats 3]
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from lightning_mnist import MNISTDataModule, SoftmaxRegression
from lightning_mnist.backend import pl


def notebook_fit(X_train, Y_train, X_test, y_test, iterations: int) -> tuple[float, float]:
    start = time.perf_counter()
    X_train_single = np.hstack([np.ones((X_train.shape[0], 1)), X_train])
    X_test_single = np.hstack([np.ones((X_test.shape[0], 1)), X_test])
    w = np.zeros((X_train_single.shape[1], 10))
    for _ in range(iterations):  # cell 3, sm_single_layer_train_gd
        prod = X_train_single @ w
        prod -= np.amax(prod, axis=1, keepdims=True)
        sm = np.exp(prod) / np.sum(np.exp(prod), axis=1, keepdims=True)
        g = (X_train_single.T @ (sm - Y_train)) / X_train_single.shape[0]
        w -= 1 * g
    seconds = time.perf_counter() - start
    prod = X_test_single @ w  # cells 4-5
    return seconds, float(1 - np.sum(np.argmax(prod, axis=1) != y_test) / y_test.shape[0])


def lightning_fit(dm: MNISTDataModule, iterations: int) -> tuple[float, float]:
    model = SoftmaxRegression(lr=1.0)
    trainer = pl.Trainer(
        max_epochs=iterations,
        accelerator="cpu",
        devices=1,
        logger=False,
        enable_checkpointing=False,
        enable_progress_bar=False,
        enable_model_summary=False,
        limit_val_batches=0,
        num_sanity_val_steps=0,
    )
    start = time.perf_counter()
    trainer.fit(model, datamodule=dm)
    seconds = time.perf_counter() - start
    acc = trainer.test(model, datamodule=dm, verbose=False)[0]["test/acc"]
    return seconds, acc


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--iterations", type=int, default=100)
    parser.add_argument("--repeats", type=int, default=3, help="best of N for each side")
    args = parser.parse_args()

    dm = MNISTDataModule(batch_size=None, eval_batch_size=None)
    dm.setup()
    X_train, y_train = dm.train_set.x.numpy(), dm.train_set.y.numpy()  # float32, as in cell 2
    X_test, y_test = dm.test_set.x.numpy(), dm.test_set.y.numpy()
    Y_train = np.eye(10)[y_train]

    numpy_runs = [notebook_fit(X_train, Y_train, X_test, y_test, args.iterations) for _ in range(args.repeats)]
    lightning_runs = [lightning_fit(dm, args.iterations) for _ in range(args.repeats)]
    t_np, acc_np = min(numpy_runs)
    t_pl, acc_pl = min(lightning_runs)
    print(f"{args.iterations} GD iterations on 60000x784, best of {args.repeats}:")
    print(f"  notebook numpy loop : {t_np:7.2f} s   test acc {acc_np:.4f}")
    print(f"  Lightning (this lib): {t_pl:7.2f} s   test acc {acc_pl:.4f}")
    print(f"  speed-up: {t_np / t_pl:.2f}x")


if __name__ == "__main__":
    main()
