"""PLA export, read back three ways: by logicnets (compile the export, verify it against the
export and the source PLA on every ON and OFF row), by ESPRESSO (``-Dverify`` between the
export and the source, built from ../shared/tools/espresso-src) and by a small reader here."""

from __future__ import annotations

import re
import subprocess

import numpy as np
import pytest
from export_cases import PLAS, formula_networks, outputs_of, pla_outputs, rows_for

from logicnets import compile
from logicnets.cli import main
from logicnets.export import ExportError, circuit_of, to_pla
from logicnets.pla.format import format_pla, read_pla
from logicnets.prove.function_check import verify_function


def export_file(tmp_path, net, name="net"):
    """The network saved as JSON and exported by the command line; the PLA's path."""
    net.save(tmp_path / f"{name}.json")
    out = tmp_path / f"{name}-export.pla"
    assert main(["export", str(tmp_path / f"{name}.json"), "--pla", str(out)]) == 0
    return out


@pytest.mark.parametrize("name", PLAS)
def test_cube_network_round_trips(pla_network, tmp_path, capsys, name):
    source, net = pla_network(name, False)
    exported = export_file(tmp_path, net, name)
    pla = read_pla(exported)
    assert pla.type == "f" and (pla.inputs, pla.outputs) == (net.inputs, net.outputs)
    assert len(pla.rows) == net.hidden_size  # one product term per cube neuron
    assert verify_function(net, pla.function())  # the export is the network, every ON and OFF row
    again = tmp_path / "again.json"
    assert main(["compile", "--pla", str(exported), "--json", str(again)]) == 0
    assert main(["verify", str(again), "--pla", str(exported)]) == 0
    assert main(["verify", str(again), "--pla", str(source)]) == 0  # equal to the original PLA
    assert capsys.readouterr().out.count("verified") >= 2


@pytest.mark.parametrize("name", PLAS)
def test_espresso_finds_the_export_equal_to_the_source(espresso, pla_network, tmp_path, name):
    source, net = pla_network(name, False)
    named = tmp_path / "source.pla"  # the source with the names the network got from it
    named.write_text(format_pla(read_pla(source)))
    exported = tmp_path / "export.pla"
    exported.write_text(to_pla(net))
    same = subprocess.run([espresso, "-Dverify", str(named), str(exported)], capture_output=True, text=True)
    assert same.returncode == 0 and "compared equal" in same.stdout, same.stdout + same.stderr
    lines = exported.read_text().splitlines()  # the check can fail: drop the first product term
    first = next(k for k, line in enumerate(lines) if line[:1] in "01-")
    broken = tmp_path / "broken.pla"
    broken.write_text("\n".join(lines[:first] + lines[first + 1 :]).replace(f".p {net.hidden_size}", "") + "\n")
    differ = subprocess.run([espresso, "-Dverify", str(named), str(broken)], capture_output=True, text=True)
    assert differ.returncode != 0, differ.stdout


@pytest.mark.parametrize(
    "formula", ["(a & ~b) | (c & d & ~e) | (~a & e)", "x | ~y | z", "x & ~y & z", "x & ~x", "x | ~x"]
)
def test_formula_networks_read_back_by_a_plain_reader(formula):
    net = compile(formula, method="auto")
    text = to_pla(net)
    rows = rows_for(net.n_inputs)
    assert (pla_outputs(text, rows) == outputs_of(net, rows)).all()


def test_pla_text():
    assert to_pla(compile("x ^ y")) == ".i 2\n.o 1\n.ilb x y\n.ob out\n.type f\n.p 2\n10 1\n01 1\n.e\n"


def threshold_names(net) -> list[str]:
    """Hidden neurons that are not cubes (the outputs of a compiled PLA are ORs)."""
    return [g.name for g in circuit_of(net).hidden if g.form.kind not in ("and", "const0", "const1")]


# 9sym's cover is a minimal one with no two cubes forming one neuron; rd84 merges (255 -> 167)
@pytest.mark.parametrize("name", [*(p for p in PLAS if p != "9sym"), "rd84"])
def test_threshold_merged_network_is_refused_by_name(pla_network, tmp_path, capsys, name):
    _, net = pla_network(name, True)
    capsys.readouterr()  # a compile past 2 s reports its progress on stderr
    names = threshold_names(net)
    assert names, "the merged network has threshold neurons"
    net.save(tmp_path / "net.json")
    out, also = tmp_path / "out.pla", tmp_path / "out.v"
    assert main(["export", str(tmp_path / "net.json"), "--pla", str(out), "--verilog", str(also)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "net.json" in err and "use --blif or --verilog" in err, err
    assert all(re.search(rf"[ ,]{h}[ ,]", err) for h in names[:8])
    assert len(names) <= 8 or f"({len(names)} in all)" in err
    assert not out.exists() and not also.exists()  # nothing written when one format refuses


@pytest.mark.parametrize(
    ("name", "refused"),
    [("maj3 (one neuron)", "out"), ("parity5 (negated hidden)", "h2"), ("maj5 (threshold hidden)", "h1")],
)
def test_threshold_formula_networks_are_refused(name, refused):
    with pytest.raises(ExportError, match=rf"threshold neurons? .*\b{refused}\b"):
        to_pla(formula_networks()[name])


def test_deeper_networks_and_unwritable_names_are_refused():
    with pytest.raises(ExportError, match="two-level; this network has 3 layers"):
        to_pla(formula_networks()["three layers"])
    net = compile("a & b")
    spaced = type(net)(("a b", "c"), net.layers)
    with pytest.raises(ExportError, match="'a b'"):
        to_pla(spaced)


def test_or_of_hidden_neurons_is_required(tmp_path):
    """An output that negates a hidden cube is not an OR of product terms."""
    from logicnets.network.network import ThresholdNetwork

    net = ThresholdNetwork.two_layer(["x", "y"], [[1, 1], [1, -1]], [-1.5, -0.5], [1, -1], -0.5)
    with pytest.raises(ExportError, match=r"threshold neurons? out\b"):
        to_pla(net)
    assert np.array_equal(outputs_of(net, rows_for(2)).ravel(), [0, 0, 0, 1])  # x & y, written as h1 & ~h2
