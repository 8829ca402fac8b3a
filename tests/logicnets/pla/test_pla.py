"""PLA files, don't-cares and multi-output networks (issue 14)."""

from __future__ import annotations

import itertools
import json

import numpy as np
import pytest

from logicnets import LogicError
from logicnets.cli import main
from logicnets.construct.placompile import compile_function
from logicnets.construct.twolevel import cover_is_valid, minimize_cover
from logicnets.errors import PlaError
from logicnets.network.multinet import MultiOutputNetwork, load_network
from logicnets.pla.format import Pla, format_pla, parse_pla, read_pla, write_pla
from logicnets.pla.function import IncompleteFunction
from logicnets.prove.function_check import verify_function

ALU_LIKE = """# a small PLA with don't-cares
.i 4
.o 3
.ilb a b c d
.ob y z w
.p 6
11-- 100
1-1- 1-0
-111 010
0000 ~01
0-01 0-1
1000 --0
.e
"""


def rows_of(n):
    return np.array(list(itertools.product([0, 1], repeat=n)), dtype=np.uint8).reshape(-1, n)


def expected(pla: Pla):
    """ON / DC sets per output straight from the rows (fd semantics), no logicnets code."""
    n, m = pla.n_inputs, pla.n_outputs
    on = np.zeros((1 << n, m), bool)
    dc = np.zeros((1 << n, m), bool)
    for r, bits in enumerate(rows_of(n)):
        for ins, outs in pla.rows:
            if all(c == "-" or int(c) == b for c, b in zip(ins, bits, strict=True)):
                for k, c in enumerate(outs):
                    on[r, k] |= c == "1"
                    dc[r, k] |= c == "-"
    return on & ~dc, dc


def test_parse_names_type_and_function():
    p = parse_pla(ALU_LIKE, "alu.pla")
    assert p.inputs == ("a", "b", "c", "d") and p.outputs == ("y", "z", "w") and p.type == "fd"
    f = p.function()
    on, dc = expected(p)
    for k in range(3):
        assert [r for r in range(16) if f.on[k] >> r & 1] == np.flatnonzero(on[:, k]).tolist()
        assert [r for r in range(16) if f.dc[k] >> r & 1] == np.flatnonzero(dc[:, k]).tolist()


def test_types_f_and_fr():
    text = ".i 2\n.o 1\n.type {}\n11 1\n00 0\n01 -\n.e\n"
    f = parse_pla(text.format("f")).function()
    assert (f.on[0], f.dc[0]) == (0b1000, 0)  # '-' is not a DC in type f
    f = parse_pla(text.format("fr")).function()
    assert (f.on[0], f.off[0], f.dc[0]) == (0b1000, 0b0001, 0b0110)  # unlisted rows are free
    f = parse_pla(text.format("fdr")).function()
    assert f.dc[0] == 0b0110
    with pytest.raises(PlaError, match=r"^c\.pla: output f0: a row is in both the ON and OFF"):
        parse_pla(".i 1\n.o 1\n.type fr\n1 1\n- 0\n", "c.pla").function()


@pytest.mark.parametrize(
    "text, where, what",
    [
        (".i 2\n.o 1\n1 1\n", ":3:", "product term has 2 characters"),
        (".i 2\n.o 1\n1x 1\n", ":3:", "input 2 is 'x'"),
        (".i 2\n.o 1\n11 z\n", ":3:", "output 1 is 'z'"),
        ("11 1\n", ":1:", "before .i and .o"),
        (".i two\n", ":1:", ".i needs one integer from 1 to"),
        (".i 2\n.o 1\n.ilb a\n", ":3:", ".ilb lists 1 names"),
        (".i 2\n.o 1\n.type fx\n", ":3:", ".type must be one of"),
        (".i 2\n.o 1\n.phase 1\n", ":3:", "unsupported directive .phase"),
        (".i 2\n", "bad.pla:", "missing .o"),
    ],
)
def test_malformed_pla_names_file_and_line(text, where, what):
    with pytest.raises(PlaError) as err:
        parse_pla(text, "bad.pla")
    msg = str(err.value)
    assert "\n" not in msg and msg.startswith("bad.pla") and where in msg and what in msg


def test_cli_reports_bad_pla_with_exit_2(tmp_path, capsys):
    bad = tmp_path / "bad.pla"
    bad.write_text(".i 2\n.o 1\n1x 1\n")
    assert main(["compile", "--pla", str(bad)]) == 2
    err = capsys.readouterr().err
    assert err.strip() == f"logicnets: error: {bad}:3: input 2 is 'x'; inputs must be 0, 1 or -"
    assert main(["compile", "--pla", str(tmp_path / "missing.pla")]) == 2


def test_write_read_round_trip(tmp_path):
    p = parse_pla(ALU_LIKE)
    path = tmp_path / "out.pla"
    write_pla(p, path)
    q = read_pla(path)
    assert q == p and format_pla(q) == path.read_text()
    assert [x.name for x in tmp_path.iterdir()] == ["out.pla"]  # no temp file left


def test_dont_cares_are_used():
    # ON: a&b; DC: a&~b -> one literal "a" suffices
    f = IncompleteFunction.from_cubes(["a", "b"], ["y"], on=[("11", 1)], dc=[("10", 1)])
    net = compile_function(f)
    assert net.hidden_size == 1
    assert net.hidden.weights.tolist() == [[1.0, 0.0]]
    check = verify_function(net, f)
    assert check.ok and check.dc_rows == (1,) and "1 output rows were don't-cares, free" in check.summary()


def test_multi_output_sharing_and_threshold_neuron():
    # y = majority(a, b, c), z = majority & d: one shared threshold neuron for the majority part
    pla = parse_pla(".i 4\n.o 2\n.ilb a b c d\n.ob y z\n11-0 10\n1-10 10\n-110 10\n11-1 11\n1-11 11\n-111 11\n.e\n")
    f = pla.function()
    net = compile_function(f)
    assert verify_function(net, f).ok
    assert net.hidden_size <= 2 < len(minimize_cover(f).cubes)


def test_verify_reports_wrong_rows():
    f = parse_pla(".i 2\n.o 1\n11 1\n00 -\n").function()
    net = compile_function(f)
    bad = MultiOutputNetwork(
        net.inputs, net.outputs, net.hidden, type(net.output_layer)(net.output_layer.weights, [0.5])
    )  # always 1
    check = verify_function(bad, f)
    assert not check.ok and check.wrong_off == (2,) and check.wrong_on == (0,)
    assert "FAILED" in check.summary()


def test_multi_json_round_trip_and_views(tmp_path, capsys):
    f = parse_pla(ALU_LIKE).function()
    net = compile_function(f)
    path = tmp_path / "net.json"
    net.save(path)
    back = load_network(path)
    assert isinstance(back, MultiOutputNetwork) and back == net and back.outputs == ("y", "z", "w")
    assert json.loads(path.read_text())["format"] == "logicnets.MultiOutputNetwork"
    x = rows_of(4)
    y = net(x)
    for k in range(3):
        assert np.array_equal(net.output(k)(x), y[:, k])
    torch = pytest.importorskip("torch")
    t = net.to_torch()(torch.tensor(x))
    assert np.array_equal(t.numpy().astype(np.uint8), y)
    assert "MultiOutputNetwork: 4 inputs" in net.render()
    pla_path = tmp_path / "f.pla"
    write_pla(parse_pla(ALU_LIKE), pla_path)
    assert main(["verify", str(path), "--pla", str(pla_path)]) == 0
    assert main(["decompile", str(path)]) == 0
    out = capsys.readouterr().out
    assert "verified: all ON and OFF rows right for 3 output(s)" in out and "y = " in out


def test_cli_compile_pla_and_formula_from_file(tmp_path, capsys, monkeypatch):
    import io

    pla_path = tmp_path / "f.pla"
    pla_path.write_text(ALU_LIKE)
    js = tmp_path / "n.json"
    assert main(["compile", "--pla", str(pla_path), "--verify", "--json", str(js)]) == 0
    assert "verified: all ON and OFF rows right" in capsys.readouterr().out
    formula = tmp_path / "f.txt"
    formula.write_text("a & b | c\n")
    assert main(["compile", "--file", str(formula), "--verify"]) == 0
    assert "verified: equivalent" in capsys.readouterr().out
    monkeypatch.setattr("sys.stdin", io.StringIO("x ^ y"))
    assert main(["compile", "--file", "-", "--verify"]) == 0
    monkeypatch.setattr("sys.stdin", io.StringIO(ALU_LIKE))
    assert main(["compile", "--pla", "-"]) == 0
    assert main(["compile", "--file", str(tmp_path / "nope.txt")]) == 2


def _random_function(rng, n, m):
    table = rng.choice(3, size=(1 << n, m), p=[0.4, 0.35, 0.25])  # 0 OFF, 1 ON, 2 DC
    on = tuple(sum(1 << r for r in range(1 << n) if table[r, k] == 1) for k in range(m))
    dc = tuple(sum(1 << r for r in range(1 << n) if table[r, k] == 2) for k in range(m))
    names = tuple(f"x{i}" for i in range(n))
    return IncompleteFunction.from_rows(names, tuple(f"y{k}" for k in range(m)), on, dc), table


@pytest.mark.parametrize("engine", ["cubes", "rows"])
@pytest.mark.parametrize("seed", range(12))
def test_random_functions_with_dont_cares_brute_force(seed, engine):
    rng = np.random.default_rng(seed)
    n, m = int(rng.integers(2, 7)), int(rng.integers(1, 4))
    f, table = _random_function(rng, n, m)
    net = compile_function(f, engine=engine)
    assert net.stats["engine"] == engine
    got = net(rows_of(n))  # plain numpy evaluation, row by row
    for k in range(m):
        assert np.all(got[table[:, k] == 1, k] == 1)
        assert np.all(got[table[:, k] == 0, k] == 0)
    assert verify_function(net, f).ok
    assert cover_is_valid(f, minimize_cover(f).cubes)
    assert net.hidden_size <= net.stats["cubes"]


def test_row_sets_stop_at_24_inputs_covers_do_not():
    wide = IncompleteFunction.from_cubes([f"x{i}" for i in range(25)], ["y"], on=[("1" * 25, 1)])
    assert wide.on_cubes == (((1 << 25) - 1, 0, 1),)
    with pytest.raises(LogicError, match="stop at 24 inputs"):
        _ = wide.on
    with pytest.raises(LogicError, match="overlap"):
        IncompleteFunction.from_rows(("a",), ("y",), (1,), (1,))


def test_fast_verification_agrees_with_row_by_row():
    from logicnets.prove.function_check import _fast_rows, _network_rows

    rng = np.random.default_rng(5)
    n = 13
    rows = []
    for _ in range(40):
        rows.append("".join(rng.choice(list("01---"), size=n)) + " " + "".join(rng.choice(list("100-"), size=3)))
    f = parse_pla(f".i {n}\n.o 3\n" + "\n".join(rows) + "\n").function()
    net = compile_function(f)
    assert _fast_rows(net, n) == _network_rows(net, n)
    assert verify_function(net, f).ok
    wrong = MultiOutputNetwork(
        net.inputs,
        net.outputs,
        net.hidden,
        type(net.output_layer)(net.output_layer.weights[::-1], net.output_layer.biases),
    )
    assert _fast_rows(wrong, n) == _network_rows(wrong, n)
