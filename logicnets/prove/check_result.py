"""The result of checking a network against an incompletely specified function.

Its own module because both proofs produce it: the exhaustive one
(:mod:`.function_check`) and the SAT one on covers (:mod:`.cover_sat`).
"""

from __future__ import annotations

from dataclasses import dataclass, field

__all__ = ["FunctionCheck"]


@dataclass(frozen=True)
class FunctionCheck:
    """Per output: ON rows that gave 0, OFF rows that gave 1, and DC rows (free)."""

    ok: bool
    outputs: tuple[str, ...]
    wrong_on: tuple[int, ...]
    wrong_off: tuple[int, ...]
    dc_rows: tuple[int, ...]
    rows_checked: int
    seconds: float
    examples: list = field(default_factory=list)
    method: str = "exhaustive, 2^n rows"
    n_inputs: int = 0

    def summary(self) -> str:
        dc = sum(self.dc_rows)
        if self.ok and self.method.startswith("SAT"):
            return (
                f"verified by {self.method}: every ON point gives 1 and every OFF point gives 0 for "
                f"{len(self.outputs)} output(s) over {self.n_inputs} inputs; {self.seconds:.3f} s"
            )
        if self.ok:
            return (
                f"verified: all ON and OFF rows right for {len(self.outputs)} output(s) over "
                f"{self.rows_checked} rows ({dc} output rows were don't-cares, free); "
                f"{self.seconds:.3f} s ({self.method})"
            )
        if self.method.startswith("SAT"):
            lines = [
                f"FAILED ({self.method}): {sum(self.wrong_on)} output(s) with an ON point that gives 0, "
                f"{sum(self.wrong_off)} with an OFF point that gives 1"
            ]
        else:
            lines = [f"FAILED: {sum(self.wrong_on)} ON rows give 0 and {sum(self.wrong_off)} OFF rows give 1"]
        lines += [f"  output {o}, input {r:0{self.n_inputs}b}: expected {e}" for o, r, e in self.examples]
        return "\n".join(lines)

    __str__ = summary

    def __bool__(self) -> bool:
        return self.ok
