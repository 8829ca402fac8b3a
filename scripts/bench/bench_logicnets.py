"""logicnets benchmark: verification throughput and compile time, in one run.

    .venv/bin/python scripts/bench/bench_logicnets.py            # full (~1 min on 2 cores)
    .venv/bin/python scripts/bench/bench_logicnets.py --quick    # smaller grid

Part 1 verifies compiled networks exhaustively (bit-sliced, all 2^n rows) and
compares with the naive way: evaluating the sympy expression row by row
(``expr.xreplace``), timed on a random sample of rows and reported per row, and
with an explicit numpy row matrix (float network + formula on bool columns).
Part 2 times ``compile`` against the number of variables and of DNF terms, with
and without ``minimize``, and parity through the DNF against the symmetric
construction.  Numbers are medians of a few repeats; the machine is shared.
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

import sympy

from logicnets import Formula, compile, verify
from logicnets.rows import all_rows


def random_dnf(rng: random.Random, n: int, terms: int, lo: int = 3, hi: int = 10) -> str:
    names = [f"x{i}" for i in range(n)]
    out = []
    for _ in range(terms):
        k = rng.randint(min(lo, n), min(hi, n))
        out.append(" & ".join(("~" if rng.random() < 0.5 else "") + v for v in rng.sample(names, k)))
    return " | ".join(out)


def random_nested(rng: random.Random, n: int, leaves: int) -> str:
    names = [f"x{i}" for i in range(n)]
    pool = names[:] + [rng.choice(names) for _ in range(max(0, leaves - n))]
    rng.shuffle(pool)
    while len(pool) > 1:
        a = pool.pop(rng.randrange(len(pool)))
        b = pool.pop(rng.randrange(len(pool)))
        op = rng.choice(["&", "|", "&", "|", "^"])
        pool.append(f"{'~' if rng.random() < 0.25 else ''}({a} {op} {b})")
    return pool[0]


def median_time(fn, repeats: int) -> float:
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def sympy_rows_per_second(text: str, variables, budget_s: float, seed: int = 0) -> float:
    """Row-by-row ``xreplace`` of the sympy expression on random rows, for about ``budget_s``."""
    expr = Formula.parse(text, variables).to_sympy()
    syms = [sympy.Symbol(v) for v in variables]
    rng = np.random.default_rng(seed)
    done = 0
    t0 = time.perf_counter()
    while done < 20 or time.perf_counter() - t0 < budget_s:
        row = rng.integers(0, 2, size=len(variables))
        val = expr.xreplace({s: (sympy.true if b else sympy.false) for s, b in zip(syms, row, strict=True)})
        assert val in (sympy.true, sympy.false)
        done += 1
    return done / (time.perf_counter() - t0)


def numpy_rows_per_second(net, text: str, n: int) -> float:
    rows = all_rows(min(n, 18))
    f = Formula.parse(text, net.inputs)
    full = np.zeros((len(rows), n), dtype=np.uint8)
    full[:, n - rows.shape[1] :] = rows
    t0 = time.perf_counter()
    ok = np.array_equal(net(full).astype(bool), f.evaluate(full))
    dt = time.perf_counter() - t0
    assert ok
    return len(rows) / dt


def part_verify(quick: bool) -> list[dict]:
    rng = random.Random(2024)
    cases = [
        ("20 vars, 64-term DNF (3-10 literals)", 20, random_dnf(rng, 20, 64), "dnf"),
        ("20 vars, 64 full-length terms (20 literals)", 20, random_dnf(rng, 20, 64, 20, 20), "dnf"),
        ("20 vars, 1024-term DNF (8-16 literals)", 20, random_dnf(rng, 20, 1024, 8, 16), "dnf"),
        ("20 vars, nested and/or/xor formula (40 leaves)", 20, random_nested(rng, 20, 40), "dnf"),
        ("20-bit parity, symmetric net (threshold neurons)", 20, " ^ ".join(f"x{i}" for i in range(20)), "symmetric"),
        ("24 vars, 64-term DNF", 24, random_dnf(rng, 24, 64), "dnf"),
    ]
    if not quick:
        cases.append(("26 vars, 256-term DNF", 26, random_dnf(rng, 26, 256), "dnf"))
    results = []
    for label, n, text, method in cases:
        names = [f"x{i}" for i in range(n)]
        net = compile(text, names, method=method, max_terms=1 << 20)
        formula = Formula.parse(text, names)  # parse once: time the checker itself
        res = verify(net, formula)
        assert res.equivalent, label
        secs = median_time(lambda net=net, formula=formula: verify(net, formula), 3 if n <= 22 else 1)
        rate = (1 << n) / secs
        entry = {"case": label, "n": n, "hidden": net.hidden_size, "seconds": secs, "rows_per_s": rate}
        if n == 20:
            entry["sympy_rows_per_s"] = sympy_rows_per_second(text, names, 0.5 if quick else 2.0)
            entry["numpy_rows_per_s"] = numpy_rows_per_second(net, text, n)
        results.append(entry)
    return results


def part_compile(quick: bool) -> list[dict]:
    rng = random.Random(7)
    compile("a & b | a & c | b & c", minimize=True, method="auto")  # import scipy before timing
    out = []
    ns = [8, 12, 16, 20, 24, 32] if not quick else [8, 16, 24]
    ts = [16, 64, 256, 1024] if not quick else [16, 256]
    for n in ns:
        for t in ts:
            if t > 1 << (n - 2):
                continue
            text = random_dnf(rng, n, t, max(2, n // 3), max(3, (2 * n) // 3))
            names = [f"x{i}" for i in range(n)]
            net = compile(text, names)
            secs = median_time(lambda text=text, names=names: compile(text, names), 3)
            row = {
                "n": n,
                "terms_in": t,
                "hidden": net.hidden_size,
                "compile_s": secs,
                "constant": net.stats.get("method") == "constant",
            }
            if n <= 12 and t <= 256:
                t0 = time.perf_counter()
                small = compile(text, names, minimize=True, time_limit=5)
                row["minimize_s"] = time.perf_counter() - t0
                row["hidden_min"] = small.hidden_size
                row["minimal"] = small.stats.get("minimal")
            out.append(row)
    return out


def part_parity(quick: bool) -> list[dict]:
    out = []
    for n in [8, 12, 16] if quick else [8, 12, 16, 17]:
        text = " ^ ".join(f"x{i}" for i in range(n))
        t0 = time.perf_counter()
        dnf = compile(text, max_terms=1 << 20)
        t_dnf = time.perf_counter() - t0
        t0 = time.perf_counter()
        sym = compile(text, method="symmetric")
        t_sym = time.perf_counter() - t0
        out.append(
            {"n": n, "dnf_hidden": dnf.hidden_size, "dnf_s": t_dnf, "sym_hidden": sym.hidden_size, "sym_s": t_sym}
        )
    return out


def part_sat(quick: bool) -> list[dict]:
    """Proofs by SAT: python-sat (CaDiCaL) and sympy's DPLL on the same Tseitin miter, and,
    for scale, sympy ``satisfiable(Xor(formula, decompiled network))`` on a tiny case."""
    from sympy.logic.inference import satisfiable

    from logicnets import decompile
    from logicnets.prove.sat import have_solver

    rng = random.Random(11)
    cases = [
        ("dnf", 6, 8, True),
        ("dnf", 12, 32, True),
        ("dnf", 64, 256, True),
        ("nested", 32, 40, False),
        ("parity", 24, 0, False),
    ]
    if quick:
        cases = cases[:2]
    out = []
    for kind, n, size, with_sympy in cases:
        names = [f"x{i}" for i in range(n)]
        if kind == "dnf":
            text, label = random_dnf(rng, n, size, 3, 12), f"{n} vars, {size}-term DNF"
        elif kind == "nested":
            text, label = random_nested(rng, n, size), f"{n} vars, nested formula ({size} leaves)"
        else:
            text, label = " ^ ".join(names), f"{n}-bit parity, symmetric net"
        net = compile(text, names, method="symmetric" if kind == "parity" else "dnf", max_terms=1 << 16)
        formula = Formula.parse(text, names)
        row = {"case": label, "hidden": net.hidden_size}
        if have_solver():
            t0 = time.perf_counter()
            assert verify(net, formula, method="sat").equivalent
            row["sat_s"] = time.perf_counter() - t0
        if with_sympy:
            t0 = time.perf_counter()
            assert verify(net, formula, method="sympy").equivalent
            row["sympy_s"] = time.perf_counter() - t0
        if n <= 6:
            t0 = time.perf_counter()
            assert not satisfiable(sympy.Xor(formula.to_sympy(), decompile(net)))
            row["sympy_xor_s"] = time.perf_counter() - t0
        out.append(row)
    return out


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--quick", action="store_true", help="smaller grid (CI-sized)")
    args = p.parse_args()
    t_start = time.perf_counter()

    print("## Verification throughput (exhaustive, bit-sliced), median of repeats\n")
    print("| case | hidden | rows | seconds | rows/s | sympy row-by-row rows/s | ratio | numpy row matrix rows/s |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|")
    for r in part_verify(args.quick):
        sym = r.get("sympy_rows_per_s")
        extra = f"{sym:.3g} | {r['rows_per_s'] / sym:,.0f}x | {r['numpy_rows_per_s']:.3g}" if sym else " | | "
        print(f"| {r['case']} | {r['hidden']} | 2^{r['n']} | {r['seconds']:.4f} | {r['rows_per_s']:.3g} | {extra} |")

    print(
        "\n## compile time against variables and DNF terms (random DNFs, terms of n/3..2n/3 literals; "
        "method=dnf; minimize for n <= 12)\n"
    )
    print("| vars | terms in | hidden | compile s | minimize s | hidden after minimize | proven minimal |")
    print("|---:|---:|---:|---:|---:|---:|---|")
    for r in part_compile(args.quick):
        ms = f"{r['minimize_s']:.3f}" if "minimize_s" in r else ""
        hidden = "0 (tautology)" if r["constant"] else r["hidden"]
        print(
            f"| {r['n']} | {r['terms_in']} | {hidden} | {r['compile_s']:.4f} | {ms} | "
            f"{r.get('hidden_min', '')} | {r.get('minimal', '')} |"
        )

    print("\n## Parity: DNF (2^(n-1) hidden) against the symmetric construction (n hidden)\n")
    print("| n | DNF hidden | DNF compile s | symmetric hidden | symmetric compile s |")
    print("|---:|---:|---:|---:|---:|")
    for r in part_parity(args.quick):
        print(f"| {r['n']} | {r['dnf_hidden']} | {r['dnf_s']:.3f} | {r['sym_hidden']} | {r['sym_s']:.4f} |")
    print(
        "\n## SAT proofs: verify(method='sat') = python-sat on a Tseitin miter; method='sympy' = sympy "
        "DPLL on the same clauses; last column sympy satisfiable(Xor(formula, decompile(net)))\n"
    )
    print("| case | hidden | python-sat s | sympy on Tseitin s | sympy on Xor s |")
    print("|---|---:|---:|---:|---:|")
    for r in part_sat(args.quick):
        sat_s = f"{r['sat_s']:.3f}" if "sat_s" in r else "(python-sat missing)"
        sym_s = f"{r['sympy_s']:.3f}" if "sympy_s" in r else ""
        xor_s = f"{r['sympy_xor_s']:.2f}" if "sympy_xor_s" in r else ""
        print(f"| {r['case']} | {r['hidden']} | {sat_s} | {sym_s} | {xor_s} |")
    print(f"\n(total {time.perf_counter() - t_start:.1f} s; numpy {np.__version__}, sympy {sympy.__version__})")


if __name__ == "__main__":
    main()
