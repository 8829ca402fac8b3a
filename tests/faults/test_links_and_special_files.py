"""Links and special files: every file either package writes goes through ``logicnets.files``,
which never writes through a symbolic link it did not create and never into a FIFO, socket or
device. A planted one is refused with one line naming it, and its target stays untouched:
the package's own writers, Lightning's ``config.yaml`` and ``hparams.yaml`` in a reused run
folder, and the downloader's ``.part`` and ``.lock`` (``test_downloader.py``)."""

from __future__ import annotations

import json
import os
import socket
import stat
from pathlib import Path

import pytest
import torch
import yaml
from faults_cli import one_line_error, run_main, tiny_args

from logicnets import files
from logicnets.files import OutputPathError, atomic_write, open_regular

pytestmark = pytest.mark.skipif(os.name != "posix", reason="symbolic links, FIFOs and sockets of POSIX")


def plant(path: Path, kind: str, outside: Path) -> None:
    """Put a ``kind`` where the package will write ``path``; ``outside`` is a link's target."""
    path.parent.mkdir(parents=True, exist_ok=True)
    if kind == "link":
        outside.write_text("precious\n")
        path.symlink_to(outside)
    elif kind == "dangling link":
        path.symlink_to(outside)
    elif kind == "fifo":
        os.mkfifo(path)
    elif kind == "socket":
        with socket.socket(socket.AF_UNIX) as s:
            s.bind(str(path))
    elif kind == "link to a device":
        path.symlink_to("/dev/null")


def untouched(path: Path, kind: str, outside: Path) -> bool:
    """Is the planted thing still there, as it was, and its target as it was?"""
    mode = os.lstat(path).st_mode
    if kind == "link":
        return stat.S_ISLNK(mode) and outside.read_text() == "precious\n"
    if kind == "dangling link":
        return stat.S_ISLNK(mode) and not os.path.lexists(outside)
    if kind == "link to a device":
        return stat.S_ISLNK(mode)
    return stat.S_ISFIFO(mode) if kind == "fifo" else stat.S_ISSOCK(mode)


KINDS = ["link", "dangling link", "fifo", "socket", "link to a device"]
WORDS = {
    "link": "symbolic link",
    "dangling link": "symbolic link",
    "fifo": "FIFO",
    "socket": "socket",
    "link to a device": "symbolic link",
}


def _network(path: Path) -> None:
    from logicnets import compile

    compile("x & y").save(path)


def _checkpoint(path: Path) -> None:
    from lightning_mnist.checkpoints import AtomicCheckpointIO

    AtomicCheckpointIO().save_checkpoint({"state_dict": {"w": torch.ones(2)}}, path)


def _result(path: Path) -> None:
    from lightning_mnist.study.sweeps import write_json

    write_json(path, {"test_acc": 0.5})


def _figure(path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from lightning_mnist.study.figures import save_figure

    fig = plt.figure(figsize=(1, 1))
    try:
        save_figure(fig, path)
    finally:
        plt.close(fig)


WRITERS = {
    "atomic_write": lambda path: atomic_write(path, b"new"),
    "open_regular": lambda path: open_regular(path, "ab").close(),
    "logicnets network": _network,
    "checkpoint": _checkpoint,
    "study result": _result,
    "figure": _figure,
}


@pytest.mark.parametrize("writer", list(WRITERS))
@pytest.mark.parametrize("kind", KINDS)
def test_every_writer_refuses_links_and_special_files_and_leaves_them_untouched(tmp_path, writer, kind):
    target = tmp_path / "out" / ("out.png" if writer == "figure" else "out.json")
    outside = tmp_path / "elsewhere" / "precious.txt"
    outside.parent.mkdir()
    plant(target, kind, outside)
    with pytest.raises(OutputPathError) as info:
        WRITERS[writer](target)
    message = str(info.value)
    assert len(message.splitlines()) == 1 and str(target) in message and WORDS[kind] in message, message
    assert untouched(target, kind, outside)
    assert sorted(p.name for p in target.parent.iterdir()) == [target.name]  # no temporary left


def test_a_regular_file_is_still_replaced_whole(tmp_path):
    target = tmp_path / "out.txt"
    target.write_text("old")
    os.chmod(target, 0o600)
    atomic_write(target, "new")
    assert target.read_text() == "new" and stat.S_ISREG(os.lstat(target).st_mode)
    mask = os.umask(0)
    os.umask(mask)
    assert stat.S_IMODE(os.stat(target).st_mode) == 0o666 & ~mask  # a new file under the user's umask


def test_a_link_planted_while_the_data_are_written_is_refused(tmp_path):
    target, outside = tmp_path / "out.json", tmp_path / "precious.txt"
    outside.write_text("precious\n")

    def slow_writer(f):
        f.write(b"new")
        target.symlink_to(outside)  # planted between the first check and the rename

    with pytest.raises(OutputPathError, match="symbolic link"):
        atomic_write(target, slow_writer)
    assert target.is_symlink() and outside.read_text() == "precious\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.json", "precious.txt"]


def test_a_link_planted_under_the_temporary_name_is_never_followed(tmp_path, monkeypatch):
    """The writer creates its temporary with O_EXCL: a link waiting under the name it picks is
    skipped, not written through."""
    target, outside = tmp_path / "out.json", tmp_path / "precious.txt"
    outside.write_text("precious\n")
    trap = tmp_path / ".out.json.deadbeef.tmp"
    trap.symlink_to(outside)
    names = iter(["deadbeef", "cafe0001"])
    monkeypatch.setattr(files.secrets, "token_hex", lambda n: next(names))
    atomic_write(target, "new")
    assert target.read_text() == "new" and outside.read_text() == "precious\n" and trap.is_symlink()


@pytest.mark.parametrize("name", ["config.yaml", "hparams.yaml"])
@pytest.mark.parametrize("kind", ["link", "fifo"])
def test_lightnings_run_files_refuse_a_planted_link_or_fifo_in_a_reused_run_folder(
    data_dir, tmp_path, capsys, monkeypatch, name, kind
):
    runs, outside = tmp_path / "runs", tmp_path / "precious.yaml"
    planted = runs / "seed_mlp" / "version_0" / name
    plant(planted, kind, outside)
    extra = ("--trainer.logger.init_args.version", "0", "--trainer.max_epochs", "1")
    argv = ["fit", *tiny_args(data_dir, runs, *extra, "--trainer.limit_train_batches", "1")]
    one_line_error(*run_main(argv, capsys, monkeypatch), str(planted), WORDS[kind])
    assert untouched(planted, kind, outside)
    assert not list(runs.glob("**/*.ckpt"))  # refused before training


@pytest.mark.parametrize("kind", ["link", "fifo"])
def test_a_planted_metrics_csv_never_reaches_its_target(data_dir, tmp_path, capsys, monkeypatch, kind):
    """Lightning deletes a previous run's ``metrics.csv`` when it reuses a folder (a link: the
    link itself); what is left, a FIFO, is refused at the first write."""
    runs, outside = tmp_path / "runs", tmp_path / "precious.csv"
    planted = runs / "seed_mlp" / "version_0" / "metrics.csv"
    plant(planted, kind, outside)
    extra = ("--trainer.logger.init_args.version", "0", "--trainer.max_epochs", "1", "--test_after_fit", "false")
    argv = ["fit", *tiny_args(data_dir, runs, *extra, "--trainer.limit_train_batches", "2")]
    code, err = run_main(argv, capsys, monkeypatch)
    if kind == "link":
        assert code == 0 and outside.read_text() == "precious\n", err[-3000:]
        assert stat.S_ISREG(os.lstat(planted).st_mode) and planted.read_text().startswith("epoch")
    else:
        one_line_error(code, err, str(planted), "FIFO")
        assert stat.S_ISFIFO(os.lstat(planted).st_mode)


def test_a_reused_run_folder_of_regular_files_is_written_whole(data_dir, tmp_path, capsys, monkeypatch):
    run = tmp_path / "runs" / "seed_mlp" / "version_0"
    run.mkdir(parents=True)
    for name in ("config.yaml", "hparams.yaml"):
        (run / name).write_text("stale: true\n")
    extra = ("--trainer.logger.init_args.version", "0", "--trainer.max_epochs", "1", "--test_after_fit", "false")
    argv = ["fit", *tiny_args(data_dir, tmp_path / "runs", *extra, "--trainer.limit_train_batches", "1")]
    code, err = run_main(argv, capsys, monkeypatch)
    assert code == 0, err[-3000:]
    config = yaml.safe_load((run / "config.yaml").read_text())
    hparams = yaml.safe_load((run / "hparams.yaml").read_text())
    assert "stale" not in config and config["model"]["class_path"].endswith("MLPClassifier"), config
    assert "stale" not in hparams and hparams, hparams
    assert not [p for p in run.rglob("*") if p.name.endswith(".tmp")]


def test_logicnets_cli_refuses_a_link_in_one_line(tmp_path, capsys):
    from logicnets.cli import main

    outside = tmp_path / "precious.json"
    outside.write_text(json.dumps({"keep": True}))
    link = tmp_path / "net.json"
    link.symlink_to(outside)
    code = main(["compile", "x & y", "--json", str(link)])
    err = capsys.readouterr().err
    assert code == 2 and str(link) in err and "symbolic link" in err and len(err.strip().splitlines()) == 1
    assert json.loads(outside.read_text()) == {"keep": True}
