"""The committed notebook reproduction (docs/notebook) regenerates its committed report.

Any refactor of the study must leave what a user sees unchanged: the report stage, run on the
committed point and result files, gives the same claims table, claims.csv and report, byte for byte.
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

from lightning_mnist.study.report import write_report
from lightning_mnist.study.sweeps import PROFILES

NOTEBOOK = Path(__file__).resolve().parents[3] / "docs" / "notebook"


def claims_table(report: str) -> str:
    (table,) = re.findall(r"## The notebook's claims and our measurements\n\n(.*?)\n\n", report, flags=re.S)
    return table


@pytest.fixture(scope="module")
def regenerated(tmp_path_factory) -> Path:
    if not (NOTEBOOK / "points").is_dir():
        pytest.skip("docs/notebook is not in this checkout")
    out = tmp_path_factory.mktemp("nb") / "notebook"
    shutil.copytree(NOTEBOOK, out)
    for name in ("claims.csv", "report.md", "report.html"):
        (out / name).unlink()
    write_report(out, PROFILES["notebook-fast"])
    return out


def test_the_committed_points_give_the_committed_claims(regenerated):
    committed = (NOTEBOOK / "report.md").read_text()
    assert claims_table((regenerated / "report.md").read_text()) == claims_table(committed)
    assert (regenerated / "claims.csv").read_bytes() == (NOTEBOOK / "claims.csv").read_bytes()


def test_the_committed_points_give_the_committed_report(regenerated):
    assert (regenerated / "report.md").read_text() == (NOTEBOOK / "report.md").read_text()
    assert (regenerated / "report.html").read_text() == (NOTEBOOK / "report.html").read_text()
