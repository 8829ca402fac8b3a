"""Inputs that would cost far more than their size are refused before the work, in one line
(exit 2), within the bounds ``lightning_mnist.budgets`` and ``lightning_mnist.data.idx`` state:
checkpoint decompression, unpickled structure, YAML aliases, gzip'd IDX files."""

from __future__ import annotations

import gzip
import io
import zipfile
from pathlib import Path

import jsonargparse
import numpy as np
import pytest
import torch
from faults_cli import STEMS, idx_header, one_line_error, run_main, write_tiny_mnist

from lightning_mnist import budgets, checkpoints
from lightning_mnist.data import idx
from lightning_mnist.errors import ConfigError, DataError, ResumeError
from lightning_mnist.trainer_cli import install_yaml_bound


def fit_argv(data: Path, tmp_path: Path, *extra: str) -> list[str]:
    return [
        "fit", "--config", "seed_mlp", "--data.data_dir", str(data), "--data.verify_checksums", "false",
        "--trainer.logger.init_args.save_dir", str(tmp_path / "runs"), "--trainer.enable_progress_bar", "false",
        "--trainer.accelerator", "cpu", "--trainer.max_epochs", "1", "--trainer.limit_train_batches", "1", *extra,
    ]  # fmt: skip


@pytest.fixture(scope="module")
def data(tmp_path_factory) -> Path:
    return write_tiny_mnist(tmp_path_factory.mktemp("tiny"))


@pytest.fixture
def no_torch_load(monkeypatch):
    """Fail the test if anything calls torch.load: a refusal must come before the load."""

    def refuse(*args, **kwargs):
        raise AssertionError("torch.load was called on a checkpoint that should be refused first")

    monkeypatch.setattr(torch, "load", refuse)


# ---------------------------------------------------------------------------------------
# Checkpoint decompression
# ---------------------------------------------------------------------------------------


def deflate_bomb(path: Path, inflated: int) -> Path:
    """A real torch checkpoint whose weights (``inflated`` bytes of zeros) are stored deflated:
    a few kilobytes on disk that declare ``inflated`` bytes."""
    plain = io.BytesIO()
    torch.save({"state_dict": {"w": torch.zeros(inflated // 4)}}, plain)
    with zipfile.ZipFile(plain) as src, zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            dst.writestr(info.filename, src.read(info))
    return path


def test_a_checkpoint_declaring_more_than_its_bound_is_refused_before_it_is_inflated(tmp_path, no_torch_load):
    path = deflate_bomb(tmp_path / "bomb.ckpt", 16 << 20)
    assert path.stat().st_size < 1 << 20
    with pytest.raises(ResumeError, match="refusing to inflate it") as info:
        checkpoints.read_checkpoint(path)
    assert str(path) in str(info.value) and "16.0 MiB" in str(info.value)


def test_a_deflate_bomb_checkpoint_is_one_line_and_exit_2(data, tmp_path, capsys, monkeypatch):
    path = deflate_bomb(tmp_path / "bomb.ckpt", 16 << 20)
    one_line_error(*run_main([*fit_argv(data, tmp_path), "--ckpt_path", str(path)], capsys, monkeypatch), str(path))
    assert not (tmp_path / "runs").exists()


def test_a_checkpoint_within_its_bound_still_loads(tmp_path):
    path = tmp_path / "ok.ckpt"
    torch.save({"state_dict": {"w": torch.arange(300_000.0)}, "hyper_parameters": {"lr": 0.1}}, path)
    read_path, ckpt = checkpoints.read_checkpoint(path)
    assert read_path == path and torch.equal(ckpt["state_dict"]["w"], torch.arange(300_000.0))


def test_a_legacy_format_checkpoint_whose_sizes_cannot_be_checked_is_refused(tmp_path, no_torch_load):
    path = tmp_path / "old.ckpt"
    with open(path, "wb") as f:
        torch.save({"state_dict": {"w": torch.zeros(3)}}, f, _use_new_zipfile_serialization=False)
    with pytest.raises(ResumeError, match=r"legacy \(pre-1.6\) format"):
        checkpoints.read_checkpoint(path)


# ---------------------------------------------------------------------------------------
# Unpickled structure
# ---------------------------------------------------------------------------------------


def memo_bomb(levels: int) -> list:
    """2**levels leaves in a list of ``levels`` shared pairs: a few bytes pickled."""
    node: list = ["laugh"]
    for _ in range(levels):
        node = [node, node]
    return node


def deep(levels: int) -> list:
    node: list = []
    for _ in range(levels):
        node = [node]
    return node


@pytest.mark.parametrize("where", ["hyper_parameters", "optimizer_states", "loops"])
def test_a_pickle_memo_bomb_anywhere_in_a_checkpoint_is_refused_by_its_structure(where, tmp_path):
    path = tmp_path / "memo.ckpt"
    bomb = {"bomb": memo_bomb(40)} if where == "hyper_parameters" else [memo_bomb(40)]
    torch.save({"state_dict": {"w": torch.zeros(2)}, where: bomb}, path)
    assert path.stat().st_size < 10_000
    with pytest.raises(ResumeError, match=f"more than {budgets.MAX_NODES} objects"):
        checkpoints.read_checkpoint(path)


def test_a_memo_bomb_in_hyperparameters_is_one_line_and_exit_2(data, tmp_path, capsys, monkeypatch):
    path = tmp_path / "memo.ckpt"
    torch.save({"state_dict": {}, "hyper_parameters": {"layers": memo_bomb(40)}}, path)
    one_line_error(*run_main([*fit_argv(data, tmp_path), "--ckpt_path", str(path)], capsys, monkeypatch), str(path))


def test_a_checkpoint_nested_past_the_bound_is_refused(tmp_path):
    path = tmp_path / "deep.ckpt"
    torch.save({"state_dict": {}, "hyper_parameters": {"x": deep(budgets.MAX_DEPTH + 5)}}, path)
    with pytest.raises(ResumeError, match=f"nested more than {budgets.MAX_DEPTH} levels"):
        checkpoints.read_checkpoint(path)


def test_structure_counts_shared_references_each_time_and_tensors_once():
    assert budgets.structure_problem(memo_bomb(10)) is None  # 2**11 nodes
    assert budgets.structure_problem(memo_bomb(10), max_nodes=1000) is not None
    assert budgets.structure_problem({"w": torch.zeros(10**6)}, max_nodes=3) is None  # dict, key, tensor
    assert budgets.structure_problem("x" * 10**6, max_nodes=10_000) is not None  # text counts by its length


# ---------------------------------------------------------------------------------------
# YAML aliases
# ---------------------------------------------------------------------------------------


def laughs(levels: int, fanout: int = 10) -> str:
    """A YAML document of ``fanout ** levels`` nodes in a few hundred bytes."""
    lines = ["l0: &l0 [" + ", ".join(["ha"] * fanout) + "]"]
    lines += [f"l{i}: &l{i} [" + ", ".join([f"*l{i - 1}"] * fanout) + "]" for i in range(1, levels)]
    return "\n".join([*lines, "model:", "  init_args:", f"    bomb: *l{levels - 1}", ""])


def test_a_billion_laughs_config_is_one_line_and_exit_2(data, tmp_path, capsys, monkeypatch):
    config = tmp_path / "laughs.yaml"
    config.write_text(laughs(6))  # 10**6 nodes once expanded
    assert config.stat().st_size < 1000
    argv = [*fit_argv(data, tmp_path), "--config", str(config)]
    one_line_error(*run_main(argv, capsys, monkeypatch), "aliases expand it to more than 100000 nodes")
    assert not (tmp_path / "runs").exists()


def test_the_cli_yaml_loader_refuses_alias_expansion_before_building_anything(monkeypatch):
    monkeypatch.setitem(jsonargparse._loaders_dumpers.loaders, "yaml", jsonargparse.get_loader("yaml"))
    install_yaml_bound()
    install_yaml_bound()  # idempotent: the bound wraps the loader once
    load = jsonargparse.get_loader("yaml")
    with pytest.raises(ConfigError, match="billion laughs"):
        load(laughs(9))  # 10**9 nodes: refused from the 1 kB graph
    assert load("a: &x [1, 2]\nb: *x\n") == {"a": [1, 2], "b": [1, 2]}  # aliases within the bound load


def test_yaml_expansion_is_counted_on_the_graph():
    assert budgets.yaml_problem(laughs(4)) is None  # 10**4 nodes
    assert budgets.yaml_problem(laughs(5)) is not None  # 10**5 leaves and more
    assert budgets.yaml_problem("not: [valid") is None  # for the loader to report


# ---------------------------------------------------------------------------------------
# Gzip'd IDX files
# ---------------------------------------------------------------------------------------


def gzip_bomb(path: Path, n_images: int) -> Path:
    """An IDX header for ``n_images`` images followed by zeros, gzip'd in 1 MiB chunks."""
    with gzip.open(path, "wb") as f:
        f.write(idx_header(n_images, 28, 28))
        left = n_images * 28 * 28
        while left:
            f.write(bytes(min(left, 1 << 20)))
            left -= min(left, 1 << 20)
    return path


def test_an_idx_gzip_bomb_is_refused_from_its_header_before_it_is_inflated(tmp_path, monkeypatch):
    path = gzip_bomb(tmp_path / "train-images-idx3-ubyte.gz", 60_000)  # 47 MB of zeros in ~50 kB
    asked = []
    real_read = gzip.GzipFile.read
    monkeypatch.setattr(gzip.GzipFile, "read", lambda self, n=-1: (asked.append(n), real_read(self, n))[1])
    with pytest.raises(DataError, match="gzip bomb"):
        idx.read_idx_bytes(path, (-1, 28, 28))
    assert sum(asked) <= 16  # the header only


def test_a_real_gzipped_idx_file_is_within_the_bound(tmp_path):
    rng = np.random.default_rng(1)
    images = rng.integers(0, 256, (50, 28, 28)).astype(np.uint8)
    images[:, :4] = 0  # a margin, as real digits have
    path = tmp_path / "t10k-images-idx3-ubyte.gz"
    path.write_bytes(gzip.compress(idx_header(50, 28, 28) + images.tobytes()))
    content = idx.read_idx_bytes(path, (-1, 28, 28))
    assert np.array_equal(idx.parse_idx(content, str(path), (-1, 28, 28)), images)


def test_an_idx_gzip_bomb_in_the_data_folder_is_one_line_and_exit_2(data, tmp_path, capsys, monkeypatch):
    folder = write_tiny_mnist(tmp_path / "data")
    (folder / STEMS[0]).unlink()
    gzip_bomb(folder / (STEMS[0] + ".gz"), 60_000)
    one_line_error(*run_main(fit_argv(folder, tmp_path), capsys, monkeypatch), "gzip bomb")


@pytest.mark.parametrize("bomb", ["deflate", "memo"])
def test_an_autoencoder_checkpoint_past_its_bounds_is_refused_by_load_autoencoder(bomb, tmp_path):
    """The other reader of checkpoints (``--data.autoencoder_ckpt``, figures) keeps the same bounds."""
    from lightning_mnist.models.autoencoder import AutoencoderCheckpointError, load_autoencoder

    path = tmp_path / "ae.ckpt"
    if bomb == "deflate":
        deflate_bomb(path, 16 << 20)
    else:
        torch.save({"state_dict": {}, "hyper_parameters": {"decoder": memo_bomb(40)}}, path)
    with pytest.raises(AutoencoderCheckpointError, match="refus"):
        load_autoencoder(path)
