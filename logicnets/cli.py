"""Command line: ``logicnets compile|verify|decompile|export``.

Exit codes: 0 ok, 1 verification failed, 2 bad input (parse errors, bad files,
impossible requests, PLAs past their limits), 130/143 stopped by SIGINT (Ctrl-C)/SIGTERM
with no output file left behind.  Formulas are read by the package's parser, never eval'd.
"""

from __future__ import annotations

import argparse
import contextlib
import signal
import sys
import threading
from collections.abc import Iterator, Sequence

from .construct.compiler import compile as compile_
from .construct.placompile import compile_function
from .cover.unate import CoverLimitError
from .errors import LogicError, ParseError
from .export.command import add_export_parser, run_export
from .files import OutputPathError, read_text
from .formula.formula import Formula
from .formula.text import name_text
from .network.decompile import decompile_formula
from .network.multinet import MultiOutputNetwork, load_network
from .pla.format import PLA_LIMITS_ENV, Pla, PlaLimits, read_pla
from .progress import Progress
from .prove.function_check import verify_function
from .prove.truthtable import TruthTable
from .prove.verify import verify
from .rows import row_block

__all__ = ["build_parser", "main"]

EXIT_OK, EXIT_FAILED, EXIT_BAD_INPUT = 0, 1, 2


def _names(text: str | None) -> list[str] | None:
    if text is None:
        return None
    names = [v.strip() for v in text.split(",") if v.strip()]
    if not names:
        raise LogicError("--vars needs a comma-separated list of names, e.g. --vars x,y,z")
    return names


def _count(text: str) -> int:
    """A whole number of 0 or more (argparse reports anything else in one line, exit 2)."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"{text} is negative; give 0 or more")
    return value


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="logicnets",
        description="Compile boolean formulas into two-layer Heaviside networks and prove them right.",
        epilog="Grammar: names, ~ ! not, & and, ^ xor, | or, ->, <->, parentheses, 0 1 true false. "
        "Exit codes: 0 ok, 1 verification failed, 2 bad input.",
    )
    sub = p.add_subparsers(dest="command", required=True)

    c = sub.add_parser("compile", help="compile a formula (or truth table) into a network")
    c.add_argument("formula", nargs="?", help='formula, e.g. "x ^ y" (quote it for the shell)')
    src = c.add_mutually_exclusive_group()
    src.add_argument("--file", metavar="F", help="read the formula from file F (- for stdin)")
    src.add_argument(
        "--pla", metavar="FILE", help="Berkeley PLA file (- for stdin): one multi-output network using its don't-cares"
    )
    src.add_argument("--minterms", help="truth table as the true row numbers, e.g. 1,2 (with --vars or --n)")
    src.add_argument("--outputs", help="truth table as 2^n output bits, e.g. 0110")
    c.add_argument("--n", type=int, help="number of variables for --minterms (names x0, x1, ...)")
    c.add_argument("--vars", help="input order, comma-separated; may add variables the formula ignores")
    c.add_argument(
        "--method",
        default="dnf",
        choices=["dnf", "auto", "threshold", "symmetric"],
        help="dnf: the notebook's construction (default); auto: fewest hidden neurons",
    )
    c.add_argument("--minimize", action="store_true", help="use a minimal DNF (fewer hidden neurons)")
    c.add_argument("--verify", action="store_true", help="prove the network equals the formula")
    c.add_argument("--json", metavar="FILE", help="write the network as JSON (atomically)")
    c.add_argument("--truth-table", action="store_true", help="print the truth table of formula and network")
    c.add_argument("--max-rows", type=_count, default=256, help="rows shown by --truth-table (default 256)")
    _add_pla_limits(c)

    v = sub.add_parser("verify", help="verify a saved network against a formula")
    v.add_argument("network", help="network JSON file written by compile --json")
    v.add_argument("formula", nargs="?", help="formula to check against")
    v.add_argument("--pla", metavar="FILE", help="check every ON and OFF row of a PLA file instead")
    v.add_argument(
        "--method",
        default="auto",
        choices=["auto", "exhaustive", "sat", "sympy"],
        help="auto: every row up to 26 inputs, SAT beyond",
    )
    _add_pla_limits(v)

    d = sub.add_parser("decompile", help="print the formula a saved network computes")
    d.add_argument("network", help="network JSON file")
    d.add_argument("--simplify", action="store_true", help="minimal DNF of its truth table")
    add_export_parser(sub)
    return p


def _add_pla_limits(parser: argparse.ArgumentParser) -> None:
    defaults = PlaLimits()
    parser.add_argument(
        "--pla-limits",
        metavar="KEY=N,...",
        help=f"raise (or lower) the limits on a PLA file; keys (defaults) inputs ({defaults.inputs}), "
        f"outputs ({defaults.outputs}), terms ({defaults.terms}), cells ({defaults.cells}: terms x columns), "
        f"bytes ({defaults.bytes}), complement ({defaults.complement}: cubes and steps of an OFF cover); "
        f"also ${PLA_LIMITS_ENV}",
    )


def _pla_limits(args: argparse.Namespace) -> PlaLimits:
    limits = PlaLimits.from_env()
    return limits if args.pla_limits is None else PlaLimits.parse(args.pla_limits, base=limits)


def _read_pla(args: argparse.Namespace) -> Pla:
    """The ``--pla`` file within the limits of ``--pla-limits`` over ``$LOGICNETS_PLA_LIMITS``; warnings to stderr."""
    pla = read_pla(args.pla, _pla_limits(args))
    for warning in pla.warnings:
        print(f"logicnets: warning: {warning}", file=sys.stderr)
    return pla


def _source(args: argparse.Namespace):
    names = _names(args.vars)
    if getattr(args, "file", None) is not None:
        if args.formula is not None:
            raise LogicError("give either a formula or --file, not both")
        text = read_text(args.file, "formula file").strip()
        if not text:
            raise LogicError(f"formula file {args.file!r} is empty")
        try:
            return Formula.parse(text, names)
        except ParseError as exc:  # one line that names the file, not the text with a caret
            raise LogicError(f"{args.file}: parse error at character {exc.position}: {exc.message}") from None
    if args.minterms is not None or args.outputs is not None:
        if args.formula is not None:
            raise LogicError("give either a formula or --minterms/--outputs, not both")
        if args.outputs is not None:
            return TruthTable.from_outputs(args.outputs, names)
        try:
            mins = [int(m) for m in args.minterms.replace(" ", "").split(",") if m]
        except ValueError:
            raise LogicError(f"--minterms must be comma-separated row numbers, got {args.minterms!r}") from None
        if names is None and args.n is None:
            raise LogicError("--minterms needs --vars x,y,... or --n N")
        return TruthTable.from_minterms(mins, names if names is not None else args.n)
    if args.formula is None:
        raise LogicError('give a formula, e.g. logicnets compile "x ^ y", or --minterms/--outputs')
    return Formula.parse(args.formula, names)


def _table_text(spec, net, max_rows: int) -> str:
    n = net.n_inputs
    if n > 20:
        return f"truth table: {n} inputs give 2^{n} rows, too many to print"
    expected = TruthTable.from_source(spec).outputs
    got = TruthTable.from_source(net).outputs
    names = list(net.inputs)
    widths = [max(1, len(v)) for v in names]
    lines = [" ".join(v.rjust(w) for v, w in zip(names, widths, strict=True)) + " | expected network"]
    for r, bits in enumerate(row_block(0, min(1 << n, max_rows), n).tolist()):
        mark = "" if expected[r] == got[r] else "   <-- differs"
        lines.append(
            " ".join(str(b).rjust(w) for b, w in zip(bits, widths, strict=True))
            + f" | {int(expected[r]):>8} {int(got[r]):>7}{mark}"
        )
    if (1 << n) > max_rows:
        lines.append(f"... {(1 << n) - max_rows} more rows (--max-rows)")
    return "\n".join(lines)


def _compile_pla(args: argparse.Namespace) -> int:
    if args.formula is not None:
        raise LogicError("give either a formula or --pla, not both")
    progress = Progress()
    pla = _read_pla(args)
    progress.step("read the PLA", len(pla.rows))
    f = pla.function(cover_limit=_pla_limits(args).complement)
    try:
        net = compile_function(f, progress=progress)
    except CoverLimitError as exc:
        raise LogicError(
            f"{args.pla}: {exc}; raise it with --pla-limits complement=N (or ${PLA_LIMITS_ENV}), "
            "or give the OFF set in the file (.type fr)"
        ) from None
    print(net.render())
    st = net.stats
    print(f"method: {st['method']}; hidden neurons: {net.hidden_size} (the cover has {st['cubes']} cubes)")
    return _save_and_verify(args, net, lambda: verify_function(net, f))


def _save_and_verify(args: argparse.Namespace, net, check) -> int:
    """``--json`` and ``--verify`` of ``compile``: ``check()`` gives the verification result."""
    if args.json:
        net.save(args.json)
        args.wrote = args.json
        print(f"wrote {args.json}")
    if args.verify:
        result = check()
        print(result.summary())
        if not result:
            return EXIT_FAILED
    return EXIT_OK


def _as_multi(net, names):
    if isinstance(net, MultiOutputNetwork):
        return net
    if len(net.layers) != 2 or len(names) != 1:
        raise LogicError("--pla checks a multi-output network, or a one-hidden-layer network against a one-output PLA")
    return MultiOutputNetwork(net.inputs, tuple(names), net.layers[0], net.layers[1])


def _compile(args: argparse.Namespace) -> int:
    if args.pla is not None:
        return _compile_pla(args)
    spec = _source(args)
    net = compile_(spec, minimize=args.minimize, method=args.method)
    if isinstance(spec, Formula):
        print(f"formula: {spec}")
    print(net.render())
    st = net.stats
    line = f"method: {st.get('method')}; hidden neurons: {net.hidden_size}"
    if "hidden_before" in st and args.minimize:
        line += f" (before minimisation: {st['hidden_before']}"
        line += ", minimal)" if st.get("minimal") else ", not proven minimal)"
    elif "dnf_terms" in st and st.get("method") != "dnf":
        line += f" (the DNF has {st['dnf_terms']} terms)"
    elif "dnf_terms_at_most" in st:
        line += f" (the DNF has at most {st['dnf_terms_at_most']} terms)"
    print(line)
    if args.truth_table:
        print(_table_text(spec, net, args.max_rows))
    return _save_and_verify(args, net, lambda: verify(net, spec))


def _verify(args: argparse.Namespace) -> int:
    net = load_network(args.network)
    if args.pla is not None:
        if args.formula is not None:
            raise LogicError("give either a formula or --pla, not both")
        f = _read_pla(args).function()
        result = verify_function(_as_multi(net, f.outputs), f)
        print(result.summary())
        return EXIT_OK if result else EXIT_FAILED
    if args.formula is None:
        raise LogicError("give a formula to check against, or --pla FILE")
    if isinstance(net, MultiOutputNetwork):
        raise LogicError("a multi-output network is checked with --pla FILE")
    result = verify(net, args.formula, method=args.method)
    print(result.summary())
    return EXIT_OK if result else EXIT_FAILED


def _decompile(args: argparse.Namespace) -> int:
    """One formula per output, in the grammar ``compile`` reads (names that are not identifiers quoted)."""
    net = load_network(args.network)
    if isinstance(net, MultiOutputNetwork):
        for k, name in enumerate(net.outputs):
            print(f"{name_text(name)} = {decompile_formula(net.output(k), simplify=args.simplify)}")
        return EXIT_OK
    print(decompile_formula(net, simplify=args.simplify))
    return EXIT_OK


class Stopped(KeyboardInterrupt):
    """SIGINT or SIGTERM arrived: unwinds like Ctrl-C, so writers remove their temporary files."""

    def __init__(self, signum: int) -> None:
        super().__init__(signum)
        self.signum = signum


def _stop(signum: int, frame: object) -> None:
    raise Stopped(signum)


@contextlib.contextmanager
def _stop_on_signals() -> Iterator[None]:
    """SIGINT and SIGTERM raise :class:`Stopped` while the command runs (main thread only)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    old = {s: signal.signal(s, _stop) for s in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield
    finally:
        for s, handler in old.items():
            signal.signal(s, handler)


def _stopped(exc: KeyboardInterrupt, args: argparse.Namespace) -> int:
    """One line on stderr; exit 128 + the signal's number (130 for Ctrl-C, 143 for SIGTERM)."""
    signum = exc.signum if isinstance(exc, Stopped) else signal.SIGINT
    name = "SIGINT (Ctrl-C)" if signum == signal.SIGINT else signal.Signals(signum).name
    wrote = getattr(args, "wrote", None)
    left = f"{wrote} was written before" if wrote else "no output file written"
    print(f"logicnets: stopped by {name}; {left}", file=sys.stderr)
    return 128 + int(signum)


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``logicnets`` console script; returns the exit code."""
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # argparse: 0 for --help, 2 for usage errors
        return int(exc.code or 0)
    try:
        with _stop_on_signals():
            commands = {"compile": _compile, "verify": _verify, "decompile": _decompile, "export": run_export}
            return commands[args.command](args)
    except KeyboardInterrupt as exc:
        return _stopped(exc, args)
    except MemoryError:
        print(
            f"logicnets: error: out of memory in {args.command}; the input is too large for this machine",
            file=sys.stderr,
        )
        return EXIT_BAD_INPUT
    except LogicError as exc:
        print(f"logicnets: error: {exc}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except OutputPathError as exc:  # names the user's path already
        print(f"logicnets: error: {exc}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except OSError as exc:
        where = f"{exc.filename}: " if exc.filename else ""
        print(f"logicnets: error: {where}{exc.strerror or exc}", file=sys.stderr)
        return EXIT_BAD_INPUT


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
