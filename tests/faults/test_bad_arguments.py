"""Bad arguments: a layer, depth, sweep index or stage that names nothing ends in one line
and exit 2, before anything is trained or written; a genuine bug stays a traceback."""

from __future__ import annotations

import errno

import pytest
from faults_cli import one_line_error, run_main, tiny_args

from lightning_mnist import cli


@pytest.mark.parametrize("layers", ["[{width: -3}]", "[{width: 0}]", "[{width: 8, dropout: 1.5}]"])
def test_bad_layer_is_one_line(layers, data_dir, tmp_path, capsys, monkeypatch):
    code, err = run_main(["fit", *tiny_args(data_dir, tmp_path, "--model.layers", layers)], capsys, monkeypatch)
    one_line_error(code, err, "bad layer")


def test_bad_depth_is_one_line(data_dir, tmp_path, capsys, monkeypatch):
    argv = ["fit", *tiny_args(data_dir, tmp_path, "--model.init_args.depth", "0", config="depth_sgd")]
    one_line_error(*run_main(argv, capsys, monkeypatch), "depth must be >= 1")


def test_a_genuine_value_error_stays_a_traceback():
    assert cli.user_error(ValueError("a bug")) is None
    assert cli.user_error(OSError(errno.ENOSPC, "No space left on device", "/x")) is not None


@pytest.mark.parametrize(
    ("argv", "needles"),
    [
        (["sweep", "width", "--index", "99"], ("points 0..21", "--index 99")),
        (["collect", "width", "--out", "{tmp}"], ("no results for sweep 'width'", "run it first")),
        (["reproduce", "--only", "bogus", "--out", "{tmp}"], ("bogus", "grid", "autoencoders")),
        (["reproduce", "--only", "--out", "{tmp}"], ("at least one stage",)),
    ],
)
def test_study_commands_refuse_bad_arguments_in_one_line(argv, needles, tmp_path, capsys, monkeypatch):
    argv = [a.replace("{tmp}", str(tmp_path)) for a in argv]
    one_line_error(*run_main(argv, capsys, monkeypatch), *needles)
    assert not (tmp_path / "report.md").exists()
