"""The PLA reader reads what ESPRESSO reads, and stops at its limits with one line (issue 23)."""

from __future__ import annotations

import pathlib

import pytest

from logicnets.cli import main
from logicnets.errors import PlaError
from logicnets.pla.format import PLA_LIMITS_ENV, PlaLimits, parse_pla, read_pla

SUITE = pathlib.Path(__file__).resolve().parents[4] / "shared" / "logic-bench" / "pla"
SUITE_FILES = sorted(SUITE.glob("*.pla")) if SUITE.is_dir() else []


def _error(text: str, limits: PlaLimits | None = None) -> str:
    with pytest.raises(PlaError) as err:
        parse_pla(text, "bad.pla", limits)
    msg = str(err.value)
    assert "\n" not in msg and msg.startswith("bad.pla")
    return msg


# ---------------------------------------------------------------- ESPRESSO's reading


def test_product_terms_wrap_over_lines():
    text = ".i 3\n.o 4\n1-0\n1100\n01- 10\n01\n\n-11 1\n1\n# a comment\n11\n.e\n"
    assert parse_pla(text).rows == (("1-0", "1100"), ("01-", "1001"), ("-11", "1111"))


def test_fields_and_directives_share_lines():
    p = parse_pla(".i 2 .o 2 .ilb a b .ob y z .type fr .p 2 11 10 00 0 1 .e 11 11")
    assert (p.inputs, p.outputs, p.type) == (("a", "b"), ("y", "z"), "fr")
    assert p.rows == (("11", "10"), ("00", "01"))  # nothing after .e
    assert parse_pla(".i 3\n.o 1\n1|1|0|1\n1 1 1 0\n").rows == (("110", "1"), ("111", "0"))


def test_name_lines_before_the_size_are_skipped_as_espresso_skips_them():
    p = parse_pla("test2\n.i 2\nsome title words\n.o 1\n11 1\n")
    assert p.rows == (("11", "1"),) and p.inputs == ("x0", "x1")
    assert "before .i and .o" in _error(".i 2\n11 1\n.o 1\n")  # a product term there is an error


def test_labels_are_the_next_words_wherever_they_are():
    p = parse_pla(".i 3\n.o 1\n.ilb a b\n c\n.ob y\n1-0 1\n")
    assert p.inputs == ("a", "b", "c") and not p.warnings
    # too few names on the line: like ESPRESSO, the next words are names too, with a warning
    p = parse_pla(".i 2\n.o 3\n.ob u\n.p 2\n11 101\n00 011\n", "n.pla")
    assert p.outputs == ("u", ".p", "2") and p.rows == (("11", "101"), ("00", "011"))
    assert len(p.warnings) == 1 and p.warnings[0].startswith("n.pla:3: .ob has fewer than 3 names")


def test_crlf_and_tabs():
    assert parse_pla(".i 2\r\n.o 1\r\n1\t1 1\r\n.e\r\n").rows == (("11", "1"),)


@pytest.mark.parametrize(
    "text, where, what",
    [
        (".i 2\n.o 1\n11\n.e\n", ":3:", "product term has 2 characters, expected 2 inputs + 1 outputs = 3"),
        (".i 2\n.o 1\n1 1\n11 1\n", ":3:", "product term has 2 characters, expected 2 inputs + 1 outputs = 3 (with"),
        (".i 2\n.o 1\n11 1 1\n", ":3:", "1 characters left on the line after a product term"),
        (".i 2\n.o 1\n1111\n", ":3:", "product term has 4 characters"),
        (".i 2\n.o 1\n.p x\n", ":3:", ".p needs one integer from 0 to"),
        (".i 0\n", ":1:", ".i needs one integer from 1 to"),
        (".i\n", ":1:", ".i needs one integer from 1 to 1024, got nothing"),
        (".i 2\n.o 1\n.ilb a a\n", ":3:", ".ilb repeats a name"),
        (".ob y\n", ":1:", ".ob comes before .o"),
        (".i 2\n.o 1\n11 1\n.i 3\n", ":4:", ".i must come once"),
        (".i 2\n.o 1\n.type\n", ":3:", ".type must be one of f, fd, fr, fdr, got nothing"),
        (".i 2\n.o 1\n11 1\n.type fr\n", ":4:", ".type must come before the product terms"),
        (".i 2\n.o 1\n\n-1 1\n1- 5\n", ":5:", "output 1 is '5'"),
    ],
)
def test_malformed_files_name_file_and_line(text, where, what):
    msg = _error(text)
    assert where in msg and what in msg, msg


@pytest.mark.skipif(not SUITE_FILES, reason="the shared PLA suite (../shared/logic-bench/pla) is absent")
@pytest.mark.parametrize("path", SUITE_FILES, ids=lambda p: p.stem)
def test_every_pla_of_the_suite_parses(path):
    p = read_pla(path)
    assert p.rows and all(len(i) == p.n_inputs and len(o) == p.n_outputs for i, o in p.rows)
    assert set("".join(i for i, _ in p.rows)) <= set("01-")


@pytest.mark.skipif(len(SUITE_FILES) < 76, reason="the shared PLA suite (../shared/logic-bench/pla) is absent")
def test_the_suite_files_espresso_reads_differently_from_lines():
    counts = {name: read_pla(SUITE / f"{name}.pla") for name in ("cps", "opa", "test2", "newxcpla1")}
    # sizes and term counts as ESPRESSO reads them (its -Decho prints the same cubes)
    assert [(p.n_inputs, p.n_outputs, len(p.rows)) for p in counts.values()] == [
        (24, 109, 654),
        (17, 69, 342),
        (11, 35, 2048),
        (9, 23, 40),
    ]
    assert counts["newxcpla1"].outputs[15:17] == (".p", "43") and counts["newxcpla1"].warnings


# ---------------------------------------------------------------- limits


@pytest.mark.parametrize(
    "text, key",
    [
        (".i 2\n.o 1000000\n", "outputs"),
        (".i 99999999999999999999999999999999999999\n", "inputs"),
        (".i 1000\n.o 1\n.p 1000000\n", "terms"),
    ],
)
def test_declared_counts_past_a_limit_stop_at_once(text, key):
    msg = _error(text)
    assert msg.startswith("bad.pla: ") and "(the limit is " in msg
    assert f"raise it with --pla-limits {key}=N or {PLA_LIMITS_ENV}={key}=N" in msg


def test_product_terms_are_counted_while_reading():
    row = "01-" * 333 + "1 1\n"
    body = row * 60 + "this is not a product term\n"  # never reached: the limit stops the reading first
    msg = _error(".i 1000\n.o 1\n" + body, PlaLimits(terms=50))
    assert msg.startswith("bad.pla: product term 51 (line 53) is one too many (the limit is 50 product terms)")
    msg = _error(".i 1000\n.o 1\n" + body, PlaLimits(cells=20_000))
    assert "hold 20020 characters (the limit is 20000 characters of product terms)" in msg
    assert "cells" in _error(".i 1000\n.o 1\n.p 50\n", PlaLimits(cells=20_000))  # declared: stops at .p


def test_limits_from_the_environment_and_the_command_line(tmp_path, monkeypatch, capsys):
    path = tmp_path / "w.pla"
    path.write_text(".i 4\n.o 1\n11-- 1\n--11 1\n")
    monkeypatch.setenv(PLA_LIMITS_ENV, "inputs=3")
    assert main(["compile", "--pla", str(path)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err == [
        f"logicnets: error: {path}: .i declares 4 inputs (the limit is 3 inputs); "
        f"raise it with --pla-limits inputs=N or {PLA_LIMITS_ENV}=inputs=N"
    ]
    assert main(["compile", "--pla", str(path), "--pla-limits", "inputs=4"]) == 0
    assert main(["compile", "--pla", str(path), "--pla-limits", "inputs=4,bytes=10"]) == 2
    assert "the PLA file is too large (the limit is 10 bytes)" in capsys.readouterr().err
    monkeypatch.setenv(PLA_LIMITS_ENV, "inputs=lots")
    assert main(["compile", "--pla", str(path)]) == 2
    assert capsys.readouterr().err.startswith(f"logicnets: error: {PLA_LIMITS_ENV}: expected KEY=N")


def test_limits_parse():
    assert PlaLimits.parse("inputs=2048, terms=1_000_000") == PlaLimits(inputs=2048, terms=1_000_000)
    assert PlaLimits.from_env({PLA_LIMITS_ENV: "cells=5"}).cells == 5
    for bad in ("inputs", "rows=5", "inputs=-1", "inputs=0x10", "inputs=" + "9" * 30):
        with pytest.raises(ValueError, match="expected KEY=N"):
            PlaLimits.parse(bad)


def test_wide_pla_compiles_and_verifies_without_row_sets(monkeypatch, tmp_path, capsys):
    from logicnets.pla import function

    def never(*args, **kwargs):
        raise AssertionError("row sets built")

    monkeypatch.setattr(function, "cube_rows", never)  # every row bitset is built through it
    path = tmp_path / "wide.pla"
    path.write_text(".i 40\n.o 2\n" + "1" * 40 + " 10\n" + "0" + "-" * 39 + " 01\n" + "-1" + "-" * 38 + " 11\n")
    net_path = tmp_path / "net.json"
    assert main(["compile", "--pla", str(path), "--json", str(net_path)]) == 0
    assert main(["verify", str(net_path), "--pla", str(path)]) == 0
    assert "SAT" in capsys.readouterr().out


def test_cli_prints_the_reader_warnings(tmp_path, capsys):
    path = tmp_path / "n.pla"
    path.write_text(".i 2\n.o 3\n.ob u\n.p 2\n11 101\n00 011\n")
    assert main(["compile", "--pla", str(path)]) == 0
    err = capsys.readouterr().err
    assert err.startswith(f"logicnets: warning: {path}:3: .ob has fewer than 3 names") and err.count("\n") == 1


def test_an_exploding_off_set_stops_with_one_line(tmp_path, capsys):
    # x0x1 + x2x3 + ... + x38x39: the complement has 2^20 cubes; the limit stops it early
    n = 40
    rows = ["-" * (2 * j) + "11" + "-" * (n - 2 * j - 2) + " 1" for j in range(n // 2)]
    path = tmp_path / "wide.pla"
    path.write_text(f".i {n}\n.o 1\n" + "\n".join(rows) + "\n.e\n")
    assert main(["compile", "--pla", str(path), "--pla-limits", "complement=5000"]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith(f"logicnets: error: {path}: the OFF set of output f0 (the complement of ON ∪ DC)")
    assert "raise it with --pla-limits complement=N" in err and "\n" not in err
