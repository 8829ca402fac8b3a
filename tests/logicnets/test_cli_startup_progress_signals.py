"""``logicnets compile``: a light start, progress on long compiles, a clean stop on SIGINT/SIGTERM (issue 23)."""

from __future__ import annotations

import io
import os
import signal
import subprocess
import sys
import textwrap

import pytest

from logicnets.cli import main
from logicnets.construct.placompile import compile_function
from logicnets.pla.format import parse_pla
from logicnets.progress import Progress

SMALL_PLA = ".i 4\n.o 2\n11-- 10\n--11 01\n1--1 11\n.e\n"
HEAVY = ("scipy", "torch", "pysat")


def _run_python(code: str, *args: str, **kwargs) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", code, *args], capture_output=True, text=True, timeout=120, **kwargs)


def test_importing_the_cli_loads_no_heavy_library():
    code = "import sys, logicnets, logicnets.cli; print(' '.join(sorted(m for m in sys.modules if '.' not in m)))"
    loaded = set(_run_python(code).stdout.split())
    assert "logicnets" in loaded
    assert not loaded & set(HEAVY), sorted(loaded & set(HEAVY))


def test_a_small_compile_loads_no_heavy_library(tmp_path):
    path = tmp_path / "s.pla"
    path.write_text(SMALL_PLA)
    code = textwrap.dedent(
        """
        import sys
        from logicnets.cli import main
        assert main(["compile", "--pla", sys.argv[1], "--verify"]) == 0
        assert main(["compile", "x ^ y", "--verify"]) == 0
        print("LOADED", *sorted(m for m in sys.modules if "." not in m))
        """
    )
    out = _run_python(code, str(path)).stdout
    loaded = set(out.split("LOADED", 1)[1].split())
    assert not loaded & set(HEAVY), sorted(loaded & set(HEAVY))


class _Clock:
    def __init__(self, *times: float) -> None:
        self.times = iter(times)

    def __call__(self) -> float:
        return next(self.times)


def test_progress_is_silent_when_fast_then_at_most_once_per_interval():
    out = io.StringIO()
    p = Progress(out, delay=2.0, interval=1.0, clock=_Clock(10.0, 10.5, 11.9, 12.5, 12.9, 13.4, 13.6, 20.0))
    for stage, cubes in [("a", 9), ("b", 8), ("c", 7), ("d", 6), ("e", 5), ("f", 4), ("g", 3)]:
        p.step(stage, cubes)
    assert out.getvalue().splitlines() == [
        "logicnets: 2 s: c, 7 cubes",
        "logicnets: 4 s: f, 4 cubes",
        "logicnets: 10 s: g, 3 cubes",
    ]
    assert (p.stage, p.cubes, p.lines) == ("g", 3, 3)


def test_compile_function_reports_every_stage():
    seen = []

    class Recorder(Progress):
        def step(self, stage: str, cubes: int) -> None:
            seen.append((stage, cubes))

    f = parse_pla(SMALL_PLA).function()
    net = compile_function(f, progress=Recorder())
    stages = [s for s, _ in seen]
    assert stages[0] == "minimize" and stages[-2:] == ["merge into threshold neurons", "wire the outputs"]
    assert "expand" in stages  # the minimizer reports its passes too
    assert seen[0][1] == 3 and seen[-2][1] == net.stats["cubes"] and seen[-1][1] == net.hidden_size
    seen.clear()
    compile_function(f, threshold=False, progress=Recorder())
    assert [s for s, _ in seen][-2:] == ["one neuron per cube", "wire the outputs"]


def test_a_fast_compile_prints_no_progress(tmp_path, capsys):
    path = tmp_path / "s.pla"
    path.write_text(SMALL_PLA)
    assert main(["compile", "--pla", str(path)]) == 0
    assert capsys.readouterr().err == ""


# A test-only slow compile: the subprocess replaces a function with one that announces itself on
# stderr and sleeps, so the signal arrives while the compile (or the write) is under way.
_SLOW = textwrap.dedent(
    """
    import os, sys, time
    import logicnets.progress
    where = sys.argv[1]

    def stall(*args, **kwargs):
        sys.stderr.write("STALLED\\n")
        sys.stderr.flush()
        time.sleep(60)

    if where == "compile":
        logicnets.progress.Progress.step = lambda self, stage, cubes: stall() if stage == "minimize" else None
    else:  # in the middle of writing the output file, before it is renamed into place
        real_fsync = os.fsync
        os.fsync = lambda fd: (stall(), real_fsync(fd))
    from logicnets.cli import main
    sys.exit(main(sys.argv[2:]))
    """
)


@pytest.mark.skipif(os.name != "posix", reason="POSIX signals")
@pytest.mark.parametrize("where", ["compile", "write"])
@pytest.mark.parametrize("sig, code, name", [(signal.SIGINT, 130, "SIGINT (Ctrl-C)"), (signal.SIGTERM, 143, "SIGTERM")])
def test_a_signal_stops_the_compile_with_one_line_and_no_output_file(tmp_path, where, sig, code, name):
    pla = tmp_path / "in" / "f.pla"
    pla.parent.mkdir()
    pla.write_text(SMALL_PLA)
    out = tmp_path / "out"
    out.mkdir()
    argv = [sys.executable, "-c", _SLOW, where, "compile", "--pla", str(pla), "--json", str(out / "net.json")]
    proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert proc.stderr.readline() == "STALLED\n"
        if where == "write":
            assert [p.name.endswith(".tmp") for p in out.iterdir()] == [True]  # the temporary file exists
        proc.send_signal(sig)
        rc = proc.wait(timeout=30)
    finally:
        proc.kill()
        proc.wait()
    err = proc.stderr.read()
    assert rc == code
    assert err == f"logicnets: stopped by {name}; no output file written\n"
    assert list(out.iterdir()) == []  # neither net.json nor a temporary file
