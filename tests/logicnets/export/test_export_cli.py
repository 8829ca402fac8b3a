"""``logicnets export``: several formats at once, one-line refusals with exit 2, atomic writes,
and nothing written when any requested format or path is refused."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap

import pytest
from export_cases import formula_networks

from logicnets import compile
from logicnets.cli import main


def run(capsys, *argv):
    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture
def cube_net(tmp_path):
    path = tmp_path / "my-net.json"
    compile("(a & ~b) | c").save(path)
    return path


@pytest.fixture
def threshold_net(tmp_path):
    path = tmp_path / "maj.json"
    formula_networks()["maj5 (threshold hidden)"].save(path)
    return path


def test_three_formats_at_once(capsys, tmp_path, cube_net):
    pla, blif, v = tmp_path / "o.pla", tmp_path / "out" / "o.blif", tmp_path / "o.v"
    code, out, err = run(capsys, "export", cube_net, "--pla", pla, "--blif", blif, "--verilog", v)
    assert (code, err) == (0, "")
    assert out.splitlines() == [f"wrote {pla} (pla)", f"wrote {blif} (blif)", f"wrote {v} (verilog)"]
    assert pla.read_text().startswith(".i 3\n.o 1\n.ilb a b c\n")
    assert blif.read_text().startswith(".model my_net\n")  # the name comes from the file name
    assert "module my_net (" in v.read_text()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["my-net.json", "o.pla", "o.v", "out"]  # no temp files


def test_module_name_and_stdout(capsys, cube_net):
    code, out, _ = run(capsys, "export", cube_net, "--verilog", "-", "--module", "top")
    assert code == 0 and out.startswith("// written by logicnets export") and "module top (" in out
    code, _, err = run(capsys, "export", cube_net, "--verilog", "-", "--module", "1top")
    assert code == 2 and "plain identifier" in err and err.count("\n") == 1


def test_threshold_network_pla_refused_blif_and_verilog_written(capsys, tmp_path, threshold_net):
    code, out, err = run(capsys, "export", threshold_net, "--pla", tmp_path / "m.pla", "--verilog", tmp_path / "m.v")
    assert code == 2 and out == ""
    assert err.startswith(f"logicnets: error: {threshold_net}: ") and "threshold neuron h1 is neither" in err
    assert err.count("\n") == 1 and not (tmp_path / "m.pla").exists() and not (tmp_path / "m.v").exists()
    code, _, err = run(capsys, "export", threshold_net, "--blif", tmp_path / "m.blif", "--verilog", tmp_path / "m.v")
    assert (code, err) == (0, "") and (tmp_path / "m.blif").exists() and (tmp_path / "m.v").exists()


def test_blif_cover_limit_is_an_option(capsys, tmp_path, threshold_net):
    code, _, err = run(capsys, "export", threshold_net, "--blif", tmp_path / "m.blif", "--blif-max-cubes", "5")
    assert code == 2 and "neuron h1's minimal cover has more than 5 cubes" in err and err.count("\n") == 1
    assert not (tmp_path / "m.blif").exists()
    code, _, err = run(capsys, "export", threshold_net, "--blif", tmp_path / "m.blif", "--blif-max-cubes", "0")
    assert code == 2 and "--blif-max-cubes must be at least 1" in err


@pytest.mark.parametrize(
    ("content", "expect"),
    [(None, "No such file"), ("{not json", "JSON"), ('{"format": "x"}', "not a logicnets network"), ("", "")],
)
def test_a_network_that_does_not_load(capsys, tmp_path, content, expect):
    path = tmp_path / "bad.json"
    if content is not None:
        path.write_text(content)
    code, out, err = run(capsys, "export", path, "--verilog", tmp_path / "o.v")
    assert code == 2 and out == "" and err.count("\n") == 1 and expect in err and "bad.json" in err
    assert not (tmp_path / "o.v").exists()


def test_output_paths_that_are_not_files(capsys, tmp_path, cube_net):
    folder = tmp_path / "folder"
    folder.mkdir()
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    for bad, kind in ((folder, "a folder"), (fifo, "a special file")):
        code, out, err = run(capsys, "export", cube_net, "--pla", tmp_path / "ok.pla", "--verilog", bad)
        assert code == 2 and out == "" and err.count("\n") == 1
        assert f"--verilog {bad} is {kind}: refusing to replace it" in err
        assert not (tmp_path / "ok.pla").exists()  # the good path is not written either


def test_one_file_twice_and_no_format(capsys, tmp_path, cube_net):
    code, _, err = run(capsys, "export", cube_net, "--pla", tmp_path / "x", "--blif", tmp_path / "x")
    assert code == 2 and "--pla and --blif both write" in err
    code, _, err = run(capsys, "export", cube_net)
    assert code == 2 and "give at least one of --pla OUT, --blif OUT, --verilog OUT" in err


def test_a_refusal_keeps_the_old_file(capsys, tmp_path, threshold_net):
    old = tmp_path / "keep.pla"
    old.write_text("old\n")
    code, _, _ = run(capsys, "export", threshold_net, "--pla", old)
    assert code == 2 and old.read_text() == "old\n"


def test_console_script_exit_code(tmp_path, threshold_net):
    """The installed command, as a user runs it: one line on stderr, exit 2, no traceback."""
    cmd = [sys.executable, "-m", "logicnets.cli", "export", str(threshold_net), "--pla", str(tmp_path / "m.pla")]
    res = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
    assert res.returncode == 2 and res.stderr.count("\n") == 1 and "Traceback" not in res.stderr


def test_weights_with_no_exact_integer_form_are_refused(capsys, tmp_path):
    from logicnets.network.network import ThresholdNetwork

    path = tmp_path / "tenths.json"
    ThresholdNetwork(["x", "y"], [([[0.1, 0.2]], [-0.25])]).save(path)
    code, _, err = run(capsys, "export", path, "--verilog", tmp_path / "t.v", "--blif", tmp_path / "t.blif")
    assert code == 2 and "neuron out has weights that are not exact integers" in err and err.count("\n") == 1
    assert not (tmp_path / "t.v").exists()


def test_a_file_in_the_way_of_a_folder(capsys, tmp_path, cube_net):
    (tmp_path / "file").write_text("x\n")
    bad = tmp_path / "file" / "sub" / "o.v"
    code, _, err = run(capsys, "export", cube_net, "--pla", tmp_path / "ok.pla", "--verilog", bad)
    assert code == 2 and f"{tmp_path / 'file'} is not a folder" in err and err.count("\n") == 1
    assert not (tmp_path / "ok.pla").exists()


def test_export_loads_no_heavy_library(tmp_path, cube_net):
    """A network file out to three formats needs numpy only: no scipy, torch, python-sat or sympy."""
    code = textwrap.dedent(
        """
        import sys
        from logicnets.cli import main
        net, out = sys.argv[1:]
        assert main(["export", net, "--pla", out + ".pla", "--blif", out + ".blif", "--verilog", out + ".v"]) == 0
        print("LOADED", *sorted(m for m in sys.modules if "." not in m))
        """
    )
    cmd = [sys.executable, "-c", code, str(cube_net), str(tmp_path / "o")]
    loaded = set(subprocess.run(cmd, capture_output=True, text=True, timeout=120).stdout.split("LOADED", 1)[1].split())
    heavy = {"scipy", "torch", "pysat", "sympy"}
    assert not loaded & heavy, sorted(loaded & heavy)
