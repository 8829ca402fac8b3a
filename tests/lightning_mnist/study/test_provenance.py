"""study.provenance: what an invocation's record says."""

from __future__ import annotations

from lightning_mnist.study import provenance


def test_a_session_record_says_how_it_ended():
    clock = {"started": 0.0, "wall_seconds": 2.5, "git": {"commit": "c" * 40, "modified": True}}
    done = provenance.session_record("cmd", None, "smoke", clock, {"runs": 3, "runs_trained": 2, "stopped_by": None})
    assert done["completed"] is True and "stopped_by" not in done and done["started"] == "1970-01-01T00:00:00+00:00"
    assert (done["command"], done["runs"], done["runs_trained"], done["git"]["modified"]) == ("cmd", 3, 2, True)
    stopped = provenance.session_record("cmd", ["logic"], "smoke", clock, {"runs": 3, "runs_trained": 0,
                                        "stopped_by": "SIGTERMException"})  # fmt: skip
    assert (
        stopped["completed"] is False and stopped["stopped_by"] == "SIGTERMException" and stopped["only"] == ["logic"]
    )


def test_versions_name_the_libraries_the_results_depend_on():
    versions = provenance.versions()
    assert {"python", "torch", "numpy", "scipy", "sympy"} <= set(versions)
    assert versions["python"].count(".") == 2
