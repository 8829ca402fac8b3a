"""Export with a dynamic batch axis: ``to_onnx()`` with no argument runs in onnxruntime on any
batch size, beside ``torch.export`` with a dynamic batch (TorchScript is deprecated: not wanted)."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from lightning_mnist import Autoencoder, EncoderClassifier, Layer, MLPClassifier, SoftmaxRegression, StackedMLP

MODELS = {
    "mlp": lambda: MLPClassifier([Layer(16, dropout=0.2)]),
    "softmax": lambda: SoftmaxRegression(),
    "autoencoder": lambda: Autoencoder(code_size=8),
    "encoder": lambda: EncoderClassifier(None, code_size=8, layers=[Layer(16)]),
    "stacked": lambda: StackedMLP([Layer(16)], seeds=[1, 2]),
}
BATCHES = (1, 7)


@pytest.mark.parametrize("kind", MODELS)
def test_to_onnx_runs_on_any_batch_size(kind, tmp_path):
    ort = pytest.importorskip("onnxruntime")
    pytest.importorskip("onnxscript")
    torch.manual_seed(0)
    model = MODELS[kind]().eval()
    path = tmp_path / "model.onnx"
    model.to_onnx(path)
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    (name,) = [i.name for i in session.get_inputs()]
    for batch in BATCHES:
        x = torch.rand(batch, 784)
        (got,) = session.run(None, {name: x.numpy()})
        with torch.no_grad():
            want = model(x).numpy()
        assert got.shape == want.shape
        np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("kind", MODELS)
def test_torch_export_with_a_dynamic_batch(kind):
    torch.manual_seed(0)
    model = MODELS[kind]().eval()
    program = torch.export.export(model, (torch.rand(2, 784),), dynamic_shapes=({0: torch.export.Dim.DYNAMIC},))
    for batch in BATCHES:
        x = torch.rand(batch, 784)
        with torch.no_grad():
            torch.testing.assert_close(program.module()(x), model(x))


def test_to_onnx_keeps_the_callers_axes(tmp_path):
    ort = pytest.importorskip("onnxruntime")
    pytest.importorskip("onnxscript")
    model = MLPClassifier([Layer(4)]).eval()
    model.to_onnx(tmp_path / "fixed.onnx", torch.zeros(3, 784), dynamic_shapes=None)
    session = ort.InferenceSession(str(tmp_path / "fixed.onnx"), providers=["CPUExecutionProvider"])
    assert session.get_inputs()[0].shape == [3, 784]
