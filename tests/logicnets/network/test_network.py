"""ThresholdNetwork: evaluation, JSON round trip, text rendering, torch agreement."""

from __future__ import annotations

import itertools
import json
import os

import numpy as np
import pytest
import torch

from logicnets import Layer, LogicError, ThresholdNetwork, TruthTable, compile, from_dnf, parity_network
from logicnets.network.torch_module import ThresholdModule, exact_float32


def _rows(n):
    return np.array(list(itertools.product([0, 1], repeat=n)), dtype=np.uint8).reshape(1 << n, n)


NETS = {
    "xor": lambda: compile("x ^ y"),
    "dnf": lambda: compile("a & ~b | c & d | ~a & ~d"),
    "minimized": lambda: compile("a & b & c | a & b & ~c | ~a & c", minimize=True),
    "threshold": lambda: compile("a & b | a & c | b & c", method="auto"),
    "parity": lambda: parity_network(7),
    "constant": lambda: compile("x | ~x"),
    "empty_dnf": lambda: from_dnf([], ["x", "y"]),
    "float": lambda: ThresholdNetwork(
        ("p", "q", "r"), (Layer([[0.3, -0.7, 0.1], [1e-3, 2, 0]], [0.2, -1]), Layer([[0.6, 0.6]], [-0.5]))
    ),
    "deep": lambda: ThresholdNetwork(
        ("a", "b", "c"),
        (Layer([[1, 1, 0], [0, 1, 1]], [-1.5, -0.5]), Layer([[1, -1], [1, 1]], [-0.5, -1.5]), Layer([[1, 1]], [-0.5])),
    ),
}


def test_call_shapes_and_validation():
    net = compile("x & ~y")
    assert net([1, 0]) == 1  # one row -> scalar
    assert net([[1, 0], [1, 1]]).tolist() == [1, 0]
    assert net(np.array([[True, False]])).tolist() == [1]
    assert net([[1, 0]]).dtype == np.uint8
    with pytest.raises(LogicError, match="shape"):
        net([[1, 0, 1]])
    with pytest.raises(LogicError, match="0/1"):
        net([[2, 0]])


def test_network_validation_errors():
    with pytest.raises(LogicError, match="exactly one neuron"):
        ThresholdNetwork(("a",), (Layer([[1], [1]], [0, 0]),))
    with pytest.raises(LogicError, match="expects"):
        ThresholdNetwork(("a", "b"), (Layer([[1]], [0]),))
    with pytest.raises(LogicError, match="distinct"):
        ThresholdNetwork(("a", "a"), (Layer([[1, 1]], [0]),))
    with pytest.raises(LogicError, match="biases"):
        Layer([[1, 1]], [0, 1])
    with pytest.raises(LogicError, match="finite"):
        Layer([[np.nan]], [0])
    with pytest.raises(LogicError, match="one hidden layer"):
        _ = compile("x", method="auto").W1


def test_weights_are_numpy_and_read_only():
    net = compile("x ^ y")
    assert isinstance(net.W1, np.ndarray) and net.W1.dtype == np.float64
    with pytest.raises(ValueError):
        net.W1[0, 0] = 5


@pytest.mark.parametrize("name", sorted(NETS))
def test_json_round_trip(name, tmp_path):
    net = NETS[name]()
    again = ThresholdNetwork.from_json(net.to_json())
    assert again == net and again.inputs == net.inputs and again.stats == json.loads(net.to_json())["stats"]
    path = tmp_path / "net.json"
    net.save(path)
    loaded = ThresholdNetwork.load(path)
    assert loaded == net
    rows = _rows(net.n_inputs)
    assert np.array_equal(loaded(rows), net(rows))
    assert [p.name for p in tmp_path.iterdir()] == ["net.json"]  # no temp file left behind


def test_save_is_atomic_and_leaves_old_file_on_failure(tmp_path, monkeypatch):
    path = tmp_path / "net.json"
    compile("x").save(path)
    before = path.read_text()

    def broken(self, indent=1):
        raise RuntimeError("disk full")

    monkeypatch.setattr(ThresholdNetwork, "to_json", broken)
    with pytest.raises(RuntimeError):
        compile("x & y").save(path)
    assert path.read_text() == before
    assert os.listdir(tmp_path) == ["net.json"]


@pytest.mark.parametrize(
    "text, match",
    [
        ("not json", "not valid JSON"),
        ("[]", "not a logicnets network"),
        ('{"format": "logicnets.ThresholdNetwork", "version": 99}', "version"),
        ('{"format": "logicnets.ThresholdNetwork", "version": 1, "inputs": ["a"]}', "malformed"),
        (
            '{"format": "logicnets.ThresholdNetwork", "version": 1, "inputs": ["a"], '
            '"layers": [{"weights": [[1, 2]], "biases": [0]}]}',
            "expects",
        ),
        (
            '{"format": "logicnets.ThresholdNetwork", "version": 1, "inputs": [1], '
            '"layers": [{"weights": [[1]], "biases": [0]}]}',
            "list of names",
        ),
    ],
)
def test_bad_json_is_a_clear_error(text, match):
    with pytest.raises(LogicError, match=match):
        ThresholdNetwork.from_json(text)


def test_load_missing_file():
    with pytest.raises(LogicError, match="cannot read"):
        ThresholdNetwork.load("/nonexistent/dir/net.json")


def test_repr_and_render():
    net = compile("x ^ y")
    assert repr(net) == "ThresholdNetwork(inputs=['x', 'y'], layers=[2->2, 2->1], hidden=2)"
    text = str(net)
    assert "h1 = theta(+x -y -0.5)    # AND(x, ~y)" in text
    assert "out = theta(+h1 +h2 -0.5)    # OR(h1, h2)" in text
    assert "at least 4 of" in str(parity_network(5))
    assert "always 1" in str(compile("1"))
    big = compile(" ^ ".join(f"x{i}" for i in range(8)))
    assert "more neurons" in big.render() and "more neurons" not in big.render(max_neurons=None)
    assert "*p" in str(NETS["float"]())


def test_truth_table_method():
    assert compile("x -> y").truth_table().tolist() == [True, True, False, True]


# --------------------------------------------------------------------- torch
@pytest.mark.parametrize("name", sorted(NETS))
def test_torch_module_agrees_exactly_on_cpu(name):
    net = NETS[name]()
    module = net.to_torch()
    assert isinstance(module, torch.nn.Module)
    rows = _rows(net.n_inputs)
    out = module(torch.from_numpy(rows))
    assert out.shape == (len(rows),)
    assert np.array_equal(out.numpy().astype(np.uint8), net(rows))
    # batched random rows in other dtypes too
    rng = np.random.default_rng(0)
    batch = rng.integers(0, 2, size=(257, net.n_inputs))
    for dt in (torch.float32, torch.int64, torch.bool):
        assert np.array_equal(module(torch.tensor(batch).to(dt)).numpy().astype(np.uint8), net(batch))


def test_torch_dtype_choice():
    assert exact_float32(compile("x ^ y"))
    assert not exact_float32(NETS["float"]())
    assert compile("x ^ y").to_torch().compute_dtype == torch.float32
    assert NETS["float"]().to_torch().compute_dtype == torch.float64
    assert compile("x").to_torch(dtype=torch.float64).compute_dtype == torch.float64


def test_torch_module_has_no_trainable_parameters_and_moves_with_to():
    m = compile("a & b | c").to_torch()
    assert list(m.parameters()) == []
    assert len(list(m.buffers())) == 4
    m = m.to("cpu")
    assert m(torch.tensor([[1, 1, 0]])).tolist() == [1.0]
    assert "inputs=['a', 'b', 'c']" in repr(m)
    assert m(torch.tensor([0, 0, 1])).item() == 1.0  # one row
    with pytest.raises(ValueError, match="columns"):
        m(torch.zeros(2, 4))


@pytest.mark.skipif(not torch.cuda.is_available(), reason="no GPU here")
def test_torch_module_agrees_on_gpu():  # pragma: no cover - runs where a GPU exists
    for name, make in NETS.items():
        net = make()
        rows = _rows(net.n_inputs)
        module = ThresholdModule(net, device="cuda")
        out = module(torch.from_numpy(rows).cuda()).cpu().numpy().astype(np.uint8)
        assert np.array_equal(out, net(rows)), name


def test_torch_large_batch_matches_bit_sliced_truth_table():
    net = compile(" ^ ".join(f"x{i}" for i in range(14)), method="symmetric")
    rows = _rows(14)
    out = net.to_torch()(torch.from_numpy(rows)).numpy().astype(bool)
    assert np.array_equal(out, TruthTable.from_source(net).outputs)
    assert np.array_equal(out, rows.sum(1) % 2 == 1)
