"""compile_optimizer: torch.compile of the optimizer's own step gives its eager update."""

from __future__ import annotations

import shutil

import pytest
import torch

from lightning_mnist import Layer, MLPClassifier, MNISTDataModule
from lightning_mnist.backend import pl
from lightning_mnist.errors import ConfigError
from lightning_mnist.models.optimizers import make_optimizer
from lightning_mnist.models.presets import depth_member, seed_dropout, width_member
from lightning_mnist.models.stacked import StackedMLP
from lightning_mnist.study.stacked_runs import stack
from lightning_mnist.study.store import ResultStore
from lightning_mnist.study.sweeps import PROFILES, Point, Profile, point_settings
from lightning_mnist.study.training import build, run_config

LAYERS = [Layer(16, "relu"), Layer(12, "tanh")]
# torch.compile on CPU builds C++; without a compiler only the clear error can be tested.
needs_compiler = pytest.mark.skipif(
    not any(shutil.which(c) for c in ("g++", "c++", "clang++")), reason="torch.compile needs a C++ compiler"
)


def params(seed: int) -> list[torch.nn.Parameter]:
    g = torch.Generator().manual_seed(seed)
    return [torch.nn.Parameter(torch.randn(3, 9, 5, generator=g, dtype=torch.float64)) for _ in range(2)]


@needs_compiler
@pytest.mark.parametrize("name", ["rmsprop", "adadelta", "sgd"])
def test_the_compiled_step_is_the_eager_update(name):
    eager_params, compiled_params = params(0), params(0)
    eager = make_optimizer(name, eager_params)
    compiled = make_optimizer(name, compiled_params, compiled=True)
    assert type(compiled) is type(eager)
    g = torch.Generator().manual_seed(1)
    for _ in range(5):
        for a, b in zip(eager_params, compiled_params, strict=True):
            a.grad = torch.randn(a.shape, generator=g, dtype=a.dtype)
            b.grad = a.grad.clone()
        eager.step()
        compiled.step()
    for a, b in zip(eager_params, compiled_params, strict=True):
        torch.testing.assert_close(b, a, rtol=0, atol=1e-12)
    # The same state dict: a checkpoint of one loads into the other.
    fresh = make_optimizer(name, params(0))
    fresh.load_state_dict(compiled.state_dict())
    for key, value in eager.state_dict()["state"].get(0, {}).items():
        torch.testing.assert_close(fresh.state_dict()["state"][0][key].double(), value.double(), rtol=0, atol=1e-12)


@needs_compiler
def test_a_scheduler_changes_the_compiled_learning_rate():
    eager_params, compiled_params = params(2), params(2)
    eager = make_optimizer("rmsprop", eager_params)
    compiled = make_optimizer("rmsprop", compiled_params, compiled=True)
    schedulers = [torch.optim.lr_scheduler.StepLR(opt, step_size=1, gamma=0.1) for opt in (eager, compiled)]
    for _ in range(3):
        for a, b in zip(eager_params, compiled_params, strict=True):
            a.grad = torch.ones_like(a)
            b.grad = torch.ones_like(b)
        eager.step()
        compiled.step()
        for s in schedulers:
            s.step()
    assert float(compiled.param_groups[0]["lr"]) == pytest.approx(1e-3 * 0.1**3)
    for a, b in zip(eager_params, compiled_params, strict=True):
        torch.testing.assert_close(b, a, rtol=0, atol=1e-12)


@needs_compiler
def test_the_closure_runs_and_its_loss_comes_back():
    p = torch.nn.Parameter(torch.tensor([1.0, -2.0]))
    opt = make_optimizer("sgd", [p], lr=0.5, compiled=True)

    def closure():
        opt.zero_grad()
        loss = (p**2).sum()
        loss.backward()
        return loss

    assert opt.step(closure).item() == pytest.approx(5.0)
    torch.testing.assert_close(p.detach(), torch.tensor([0.0, 0.0]))  # p - 0.5 * 2p


def test_a_failed_compile_says_what_to_do():
    import torch._inductor.config as inductor

    p = torch.nn.Parameter(torch.randn(7, 3))  # a shape no other test compiled
    p.grad = torch.randn(7, 3)
    opt = make_optimizer("rmsprop", [p], compiled=True)
    with (
        inductor.patch({"cpp.cxx": ("/nonexistent/c++",), "fx_graph_cache": False}),
        pytest.raises(ConfigError, match=r"C\+\+ compiler.*compile_optimizer: false"),
    ):
        opt.step()


@pytest.fixture
def tiny_dir(helpers, tmp_path):
    helpers.write_tiny(tmp_path / "data", n_train=256, n_test=100, label_noise=0.1)
    return tmp_path / "data"


@needs_compiler
@pytest.mark.parametrize("steps_per_execution", [1, 4])
def test_lightning_trains_the_compiled_optimizer_like_the_eager_one(tiny_dir, tmp_path, steps_per_execution):
    weights = {}
    for compiled in (False, True):
        pl.seed_everything(3)
        model = MLPClassifier(LAYERS, "rmsprop", compile_optimizer=compiled)
        trainer = pl.Trainer(
            accelerator="cpu",
            max_epochs=2,
            precision="64-true",
            logger=False,
            enable_checkpointing=False,
            enable_progress_bar=False,
            enable_model_summary=False,
            default_root_dir=tmp_path,
        )
        dm = MNISTDataModule(
            val_split="test",
            data_dir=str(tiny_dir),
            verify_checksums=False,
            batch_size=32,
            steps_per_execution=steps_per_execution,
        )
        trainer.fit(model, datamodule=dm)
        assert trainer.global_step == 16
        weights[compiled] = model.state_dict()
    for key, value in weights[False].items():
        torch.testing.assert_close(weights[True][key], value, rtol=0, atol=1e-10)


def test_presets_and_stacked_runs_pass_the_flag_on(tiny_dir, tmp_path):
    assert depth_member(2, "rmsprop", compile_optimizer=True).hparams.compile_optimizer
    assert seed_dropout(compile_optimizer=True).hparams.compile_optimizer
    assert not width_member(8).hparams.compile_optimizer
    profile = Profile("p", 1, 2, data_dir=str(tiny_dir), verify_checksums=False, compile_optimizer=("depth_rmsprop",))
    point = Point("depth_rmsprop", "depth=2-seed=1", "depth_rmsprop", ("--model.init_args.depth", "2"), 1, 2)
    config = run_config(point_settings(point, profile), ResultStore(tmp_path, profile), "x", False)
    cli = stack(build(config), [1, 2])
    assert isinstance(cli.model, StackedMLP) and cli.model.hparams.compile_optimizer


def test_profiles_record_and_pass_compile_optimizer(tmp_path):
    fast = PROFILES["notebook-fast"]
    rms = Point("depth_rmsprop", "depth=3-seed=1337", "depth_rmsprop", ("--model.init_args.depth", "3"), 1337, 3)
    sgd = Point("depth_sgd", "depth=3-seed=1337", "depth_sgd", ("--model.init_args.depth", "3"), 1337, 3)
    assert point_settings(rms, fast)["compile_optimizer"] is True
    assert "compile_optimizer" not in point_settings(sgd, fast)
    assert "compile_optimizer" not in point_settings(rms, PROFILES["notebook"])
    store = ResultStore(tmp_path, fast)
    assert run_config(point_settings(rms, fast), store, "x", False)["model"]["init_args"]["compile_optimizer"] is True
    assert "compile_optimizer" not in run_config(point_settings(sgd, fast), store, "x", False)["model"]["init_args"]
    assert Profile("p", epochs=1, seeds=1).compile_optimizer == ()
