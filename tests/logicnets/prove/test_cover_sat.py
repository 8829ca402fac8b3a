"""SAT proofs on cube covers (issue 23): they agree with the exhaustive check wherever both run,
find real counterexamples in broken networks, and work far above the table size."""

from __future__ import annotations

import random

import numpy as np
import pytest

from logicnets import LogicError
from logicnets.construct.placompile import compile_function
from logicnets.network.multinet import MultiOutputNetwork
from logicnets.network.network import Layer
from logicnets.pla.function import IncompleteFunction
from logicnets.prove.cover_sat import verify_cubes
from logicnets.prove.function_check import verify_function, verify_function_any_width


def _triple(text: str, outs: int) -> tuple[int, int, int]:
    pos = sum(1 << i for i, c in enumerate(text) if c == "1")
    neg = sum(1 << i for i, c in enumerate(text) if c == "0")
    return pos, neg, outs


def _random_cover(rng: random.Random, n: int, m: int, count: int, p_dash: float) -> list[tuple[str, int]]:
    out = []
    for _ in range(count):
        text = "".join("-" if rng.random() < p_dash else rng.choice("01") for _ in range(n))
        out.append((text, rng.randrange(1, 1 << m)))
    return out


def _random_function(rng: random.Random, n: int, m: int, with_off: bool):
    """Cover strings and the IncompleteFunction of a random PLA; an fr overlap is resampled."""
    while True:
        on = _random_cover(rng, n, m, rng.randint(1, 6), 0.5)
        dc = _random_cover(rng, n, m, rng.randint(0, 3), 0.6)
        off = _random_cover(rng, n, m, rng.randint(1, 6), 0.5) if with_off else None
        try:
            f = IncompleteFunction.from_cubes([f"x{i}" for i in range(n)], [f"y{k}" for k in range(m)], on, dc, off)
        except LogicError:
            continue
        return on, dc, off, f


def _triples(cover):
    return None if cover is None else [_triple(t, o) for t, o in cover]


def _broken(net: MultiOutputNetwork, rng: random.Random) -> MultiOutputNetwork:
    """The network with one weight (hidden or output layer) negated or moved by one, or one bias moved."""
    hw, hb = net.hidden.weights.copy(), net.hidden.biases.copy()
    ow, ob = net.output_layer.weights.copy(), net.output_layer.biases.copy()
    target = rng.choice([hw, ow, hb]) if hw.size else ob
    idx = tuple(rng.randrange(s) for s in target.shape)
    target[idx] = -target[idx] if target[idx] and rng.random() < 0.5 else target[idx] + rng.choice([-1, 1])
    return MultiOutputNetwork(net.inputs, net.outputs, Layer(hw, hb), Layer(ow, ob))


def _assert_agree(net, f, on, dc, off) -> None:
    """Same verdict per output and side; every SAT counterexample is a row the exhaustive check flags."""
    ex = verify_function(net, f, max_examples=1 << 20)
    sat = verify_cubes(net, _triples(on), _triples(dc), _triples(off), max_examples=1 << 20)
    assert sat.ok == ex.ok
    assert [w > 0 for w in sat.wrong_on] == [w > 0 for w in ex.wrong_on]
    assert [w > 0 for w in sat.wrong_off] == [w > 0 for w in ex.wrong_off]
    assert set(sat.examples) <= set(ex.examples)


@pytest.mark.parametrize("with_off", [False, True])
def test_agrees_with_exhaustive_on_random_functions_and_broken_networks(with_off):
    rng = random.Random(23 + with_off)
    broken_found = 0
    for _ in range(40):
        n, m = rng.randint(2, 7), rng.randint(1, 3)
        on, dc, off, f = _random_function(rng, n, m, with_off)
        net = compile_function(f)
        _assert_agree(net, f, on, dc, off)
        assert verify_cubes(net, _triples(on), _triples(dc), _triples(off)).ok
        bad = _broken(net, rng)
        _assert_agree(bad, f, on, dc, off)
        broken_found += not verify_function(bad, f).ok
    assert broken_found >= 10  # the mutations do break networks, so the failing side is exercised


def _random_network(rng: random.Random, n: int, m: int, h: int) -> MultiOutputNetwork:
    """Integer threshold neurons of every kind, and output neurons that are not plain ORs."""
    hw = np.array([[rng.choice([-2, -1, 0, 0, 1, 1, 3]) for _ in range(n)] for _ in range(h)], dtype=float)
    hb = np.array([rng.randint(-4, 2) - 0.5 * rng.randint(0, 1) for _ in range(h)], dtype=float)
    ow = np.array([[rng.choice([-2, -1, 0, 1, 1, 2]) for _ in range(h)] for _ in range(m)], dtype=float)
    ob = np.array([rng.randint(-3, 1) + 0.25 for _ in range(m)], dtype=float)
    return MultiOutputNetwork([f"x{i}" for i in range(n)], [f"y{k}" for k in range(m)], Layer(hw, hb), Layer(ow, ob))


def _minterms(net: MultiOutputNetwork, n: int) -> list[tuple[str, int]]:
    """The network's own function as one minterm cube per row, with the outputs that are 1 there."""
    rows = [format(r, f"0{n}b") for r in range(1 << n)]
    y = net([[int(c) for c in t] for t in rows])
    return [(t, int(sum(int(v) << k for k, v in enumerate(y[i])))) for i, t in enumerate(rows) if y[i].any()]


@pytest.mark.parametrize("with_off", [False, True])
def test_agrees_with_exhaustive_on_general_threshold_networks(with_off):
    rng = random.Random(230 + with_off)
    for _ in range(30):
        n, m = rng.randint(2, 8), rng.randint(1, 3)
        on, dc, off, f = _random_function(rng, n, m, with_off)
        net = _random_network(rng, n, m, rng.randint(1, 5))
        _assert_agree(net, f, on, dc, off)
        # the network's own function (with don't-cares on top) is proven right
        own = _minterms(net, n)
        if own:
            g = IncompleteFunction.from_cubes(net.inputs, net.outputs, own, dc)
            _assert_agree(net, g, own, dc, None)
            assert verify_cubes(net, _triples(own), _triples(dc)).ok


def test_threshold_network_proven_right():
    # y = at least 3 of 5, z = exactly-2-of-5 as [>=2] and not [>=3]: an output with a negative weight
    n = 5
    net = MultiOutputNetwork(
        [f"x{i}" for i in range(n)],
        ["y", "z"],
        Layer([[1] * n, [1] * n], [-3, -2]),
        Layer([[1, 0], [-1, 1]], [-0.5, -0.5]),
    )
    rows = [format(r, f"0{n}b") for r in range(1 << n)]
    on = [_triple(t, 1) for t in rows if t.count("1") >= 3] + [_triple(t, 2) for t in rows if t.count("1") == 2]
    check = verify_cubes(net, on, [])
    assert check.ok and "SAT" in check.summary()
    assert not verify_cubes(net, [_triple("11-00", 3)], []).ok  # y is 0 on 11000


def _wide_net(n: int, flip: bool = False) -> MultiOutputNetwork:
    """y = x0 x1 ... x(n/2-1) | ~x(n-2) ~x(n-1); z = at least n-2 of the n inputs (one neuron).
    ``flip``: the AND neuron of y wants x3 = 0 instead of 1 (a broken network)."""
    half = n // 2
    and_w = [1.0] * half + [0.0] * (n - half)
    and_b = -half + 0.5
    if flip:
        and_w[3], and_b = -1.0, and_b + 1
    nand_w = [0.0] * (n - 2) + [-1.0, -1.0]
    hidden = Layer([and_w, nand_w, [1.0] * n], [and_b, 0.0, -(n - 2)])
    return MultiOutputNetwork([f"x{i}" for i in range(n)], ["y", "z"], hidden, Layer([[1, 1, 0], [0, 0, 1]], [-1, -1]))


def test_proof_far_above_the_table_size_and_a_real_counterexample():
    n = 60
    y_on = [_triple("1" * (n // 2) + "-" * (n // 2), 1), _triple("-" * (n - 2) + "00", 1)]
    z_on = [_triple("".join("-" if k in (i, j) else "1" for k in range(n)), 2) for i in range(n) for j in range(i)]
    good = verify_cubes(_wide_net(n), y_on + z_on, [])
    assert good.ok and good.rows_checked == 0
    assert not verify_cubes(_wide_net(n), y_on + z_on[1:], []).ok  # z has one ON cube less: an OFF point gives 1
    bad = verify_cubes(_wide_net(n, flip=True), y_on + z_on, [])
    assert not bad.ok and bad.wrong_on == (1, 0) and bad.wrong_off == (1, 0)
    # every counterexample: a real point of the covers that the float network gets wrong
    for name, row, expected in bad.examples:
        x = [(row >> (n - 1 - i)) & 1 for i in range(n)]
        assert name == "y" and _wide_net(n, flip=True)([x])[0, 0] != expected
        in_on = all(x[i] for i in range(n // 2)) or (x[-1] == 0 and x[-2] == 0)
        assert in_on == (expected == 1)
    assert "FAILED (SAT" in bad.summary() and f"input {bad.examples[0][1]:0{n}b}" in bad.summary()


def test_the_off_cover_makes_the_rest_free():
    n = 30
    net = _wide_net(n)
    on = [_triple("1" * 15 + "-" * 15, 1)]
    # f semantics: x28 = x29 = 0 with some of x0..x14 at 0 is OFF, but the network gives 1
    assert not verify_cubes(net, on, [], outputs=["y"]).ok
    # fr semantics: only the OFF cover is OFF; points the network sets to 1 outside it are free
    off = [_triple("0" + "-" * 27 + "1-", 1), _triple("0" + "-" * 28 + "1", 1)]
    assert verify_cubes(net, on, [], off, outputs=["y"]).ok
    assert not verify_cubes(net, on, [], [*off, _triple("0" + "-" * 29, 1)], outputs=["y"]).ok


def test_outputs_are_matched_by_name_and_constant_outputs():
    net = MultiOutputNetwork(["a", "b"], ["one", "zero"], Layer(np.zeros((0, 2)), []), Layer(np.zeros((2, 0)), [0, -1]))
    assert verify_cubes(net, [(0, 0, 1)], [], outputs=["one", "zero"]).ok  # one = 1 everywhere, zero has no ON
    assert not verify_cubes(net, [(0, 0, 1)], [], outputs=["zero", "one"]).ok
    assert verify_cubes(net, [(0, 0, 1)], [(1, 0, 1), (0, 1, 1)], outputs=["zero"]).ok  # all of it DC
    with pytest.raises(LogicError, match="no output"):
        verify_cubes(net, [], [], outputs=["w"])
    with pytest.raises(LogicError, match="beyond the network's 2"):
        verify_cubes(net, [(0b100, 0, 1)], [])  # input 2 of a 2-input network
    with pytest.raises(LogicError, match="beyond the 1 checked"):
        verify_cubes(net, [(0, 0, 0b10)], [], outputs=["one"])


def test_non_dyadic_weights_are_refused_with_a_clear_message():
    net = MultiOutputNetwork(["a"], ["y"], Layer([[0.1]], [-0.05]), Layer([[1]], [-0.5]))
    with pytest.raises(LogicError, match="dyadic"):
        verify_cubes(net, [(1, 0, 1)], [])


class _WideFunction:
    """The shape the cube-carrying IncompleteFunction will have (inputs, outputs, *_cubes)."""

    def __init__(self, n, on, dc, off=None):
        self.inputs = tuple(f"x{i}" for i in range(n))
        self.outputs = ("y",)
        self.n_inputs = n
        self.on_cubes, self.dc_cubes, self.off_cubes = on, dc, off


def test_verify_function_uses_sat_above_the_table_size_and_exhaustive_below():
    n = 40
    net = MultiOutputNetwork(
        [f"x{i}" for i in range(n)], ["y"], Layer([[1.0] * 20 + [0.0] * 20], [-19.5]), Layer([[1]], [-0.5])
    )
    check = verify_function(net, _WideFunction(n, [_triple("1" * 20 + "-" * 20, 1)], []))
    assert check.ok and check.summary().startswith("verified by SAT")
    small = compile_function(IncompleteFunction.from_cubes(["a", "b", "c"], ["y"], [("11-", 1)], [("1-1", 1)]))
    check = verify_function_any_width(small, ["a", "b", "c"], ["y"], [_triple("11-", 1)], [_triple("1-1", 1)])
    assert check.ok and check.rows_checked == 8 and "exhaustive, 2^n rows" in check.summary()
    wrong = verify_function_any_width(small, ["a", "b", "c"], ["y"], [_triple("0--", 1)], [])
    assert not wrong.ok and "FAILED" in wrong.summary()


def test_cube_functions_below_the_table_size_are_checked_exhaustively_from_the_cubes():
    f = _WideFunction(3, [_triple("11-", 1)], [_triple("1-1", 1)], off=[_triple("0--", 1)])
    small = compile_function(IncompleteFunction.from_cubes(["a", "b", "c"], ["y"], [("11-", 1)], [("1-1", 1)]))
    small = MultiOutputNetwork(f.inputs, ["y"], small.hidden, small.output_layer)
    check = verify_function(small, f)
    assert check.ok and check.rows_checked == 8 and check.dc_rows == (3,)  # 101, 111 (DC) and 100 (in no cover)
    f.off_cubes = [_triple("--0", 1)]  # 110 is ON and OFF: the network cannot be right on both
    assert not verify_function(small, f).ok


def test_scaled_weights_and_a_neuron_too_large_for_the_counter():
    # at least 3 of 5 with every weight 4 (the counter runs on the weights divided by their gcd)
    net = MultiOutputNetwork([f"x{i}" for i in range(5)], ["y"], Layer([[4.0] * 5], [-12.0]), Layer([[2]], [-1]))
    rows = [format(r, "05b") for r in range(32)]
    assert verify_cubes(net, [_triple(t, 1) for t in rows if t.count("1") >= 3], []).ok
    assert not verify_cubes(net, [_triple(t, 1) for t in rows if t.count("1") >= 2], []).ok
    big = 2.0**22
    hidden = Layer([[big, big + 1, 1, 1]], [-(big + 1)])
    net = MultiOutputNetwork(["a", "b", "c", "d"], ["y"], hidden, Layer([[1]], [-1]))
    with pytest.raises(LogicError, match="too large for the SAT counter"):
        verify_cubes(net, [(1, 0, 1)], [])
