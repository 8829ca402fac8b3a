"""study.figures: the sweep figures are drawn from a sweep's rows, written whole."""

from __future__ import annotations

import os

import pytest

from lightning_mnist.study.figures import depth_figure, main, width_figure

ROWS = [{"x": x, "n": 2, "epochs": 5, "acc_mean": 0.9 + 0.001 * i, "acc_std": 0.001, "seconds_mean": 1.0 + i}
        for i, x in enumerate((2, 4, 8))]  # fmt: skip


def test_sweep_figures_are_pngs(tmp_path):
    width = width_figure(ROWS, tmp_path / "width.png")
    depth = depth_figure({"SGD": ROWS, "RMSprop": ROWS}, tmp_path / "depth.png")
    for path in (width, depth):
        assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["depth.png", "width.png"]  # no temporary left


def test_the_figures_command_refuses_a_special_output_before_reading_anything(tmp_path, capsys):
    fifo = tmp_path / "grid.png"
    os.mkfifo(fifo)
    with pytest.raises(SystemExit) as exit_:
        main(["--ckpt", str(tmp_path / "missing.ckpt"), "--out", str(fifo)])
    err = capsys.readouterr().err
    assert exit_.value.code == 2 and "not a regular file" in err and "missing.ckpt" not in err
