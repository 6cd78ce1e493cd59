"""Command line: parse arguments, call the job, map errors to exit codes. Nothing else."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from types import FrameType
from typing import TYPE_CHECKING

from . import __version__, kubeversions

if TYPE_CHECKING:
    import signal

# The exit codes each command can give (README "Exit codes" holds the same table; a test keeps
# them in step). 3 is never a verdict: a CI gate can tell a broken tool from bad manifests.
_STOPPED = "130 Ctrl-C (SIGINT), 143 SIGTERM, 129 SIGHUP"
_INTERNAL = "3 internal error of mcp-scaffold (a bug: nothing was written; please report it)"
EPILOG = f"""exit codes: 0 success; 2 bad input or usage; {_INTERNAL}"""
NEW_EPILOG = f"""exit codes: 0 success; 1 the rendered base failed verification (nothing written);
2 bad input or usage, or an output that may not be replaced (only a base an earlier `new`
wrote is, and only with --force); {_INTERNAL};
{_STOPPED} (stopped before the new base is in place, the previous one is left as it was)"""
CHECK_EPILOG = f"""exit codes: 0 no findings (suppressed ones aside); 1 findings; 2 bad input
or usage (unreadable file, invalid YAML, unknown rule id or --kube-version); {_INTERNAL};
{_STOPPED}"""
INTERNAL_EXIT = 3


def _ids(text: str) -> list[str]:
    """One --select/--skip value: comma-separated rule ids or patterns (checked by check)."""
    return [part.strip() for part in text.split(",")]


class _Formats:
    """The --format choices, read from scaffold.report's registry on first use (checking a
    value, or `check --help`): start-up and `new` do not import the reporters (dataclasses,
    inspect: a third of `--help`'s time). argparse only tests `in` and iterates choices."""

    def __init__(self, name: str) -> None:
        self.name = name

    def _names(self) -> tuple[str, ...]:
        from . import report

        names: tuple[str, ...] = getattr(report, self.name)
        return names

    def __contains__(self, item: object) -> bool:
        return item in self._names()

    def __iter__(self) -> Iterator[str]:
        return iter(self._names())


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="mcp-scaffold",
        description="Generate hardened, verified Kubernetes bundles for MCP servers, and check"
        " manifests against the same rules.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"mcp-scaffold {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    new = sub.add_parser("new", help="render a hardened Kustomize base for one MCP server",
                         description="Render, verify and write a hardened Kustomize base. Asks"
                         " for whatever --values does not answer (in a terminal).",
                         epilog=NEW_EPILOG)
    new.add_argument("--from", dest="from_", metavar="FILE|NAME",
                     help="start from an MCP registry server.json, or a built-in entry (see"
                     " `mcp-scaffold catalog`); --values wins key by key")
    new.add_argument("--values", metavar="FILE", help="values file (see `mcp-scaffold schema`)")
    new.add_argument("--output", metavar="DIR|-",
                     help="output directory (default: deploy/<name>), or - for a YAML stream"
                     " on stdout")
    new.add_argument("--no-input", action="store_true",
                     help="never ask; fail naming every missing key")
    new.add_argument("--force", action="store_true",
                     help="replace a base an earlier `new` wrote (never any other directory)")
    new.add_argument("--dry-run", action="store_true",
                     help="list what would be written; write nothing")
    new.add_argument("--offline", action="store_true",
                     help="never contact a registry: tag-only images are refused")

    check = sub.add_parser("check", help="check manifests against the hardening rules",
                           description="Check Kubernetes manifests (files, directories, or - for"
                           " stdin) against the same rules `new` enforces.", epilog=CHECK_EPILOG)
    check.add_argument("paths", nargs="+", metavar="PATH", help="file, directory, or - for stdin")
    check.add_argument("--format", choices=_Formats("FORMATS"), metavar="FORMAT", default="text",
                       help="one of %(choices)s (default: %(default)s)")
    check.add_argument("--kube-version", metavar="X", default=kubeversions.DEFAULT,
                       help="Kubernetes minor version the rules target (default:"
                       f" {kubeversions.DEFAULT})")
    check.add_argument("--select", metavar="IDS", action="append", type=_ids, default=[],
                       help="run only these rules: comma-separated rule ids or patterns"
                       " (repeatable; see `mcp-scaffold rules`)")
    check.add_argument("--skip", metavar="IDS", action="append", type=_ids, default=[],
                       help="do not run these rules (ids or patterns; wins over --select)")

    rules = sub.add_parser("rules", help="list the hardening rules",
                           description="List every rule `check` and `new` apply: id, pattern,"
                           " severity, the kinds it judges, and the fix.")
    rules.add_argument("--format", choices=_Formats("RULE_FORMATS"), metavar="FORMAT",
                       default="text", help="one of %(choices)s (default: %(default)s)")

    catalog = sub.add_parser("catalog", help="list the built-in server descriptions",
                             description="List the built-in server.json entries `new --from NAME`"
                             " deploys: source, transport, and what each still needs.")
    catalog.add_argument("--format", choices=("text", "json"), default="text")

    sub.add_parser("schema", help="print values.schema.json",
                   description="Print the JSON Schema of the values file.")
    return parser


def _run(args: argparse.Namespace) -> int:
    if args.command == "schema":
        from .values import schema_text

        sys.stdout.write(schema_text())
        return 0
    if args.command == "check":
        from .check import run

        return run(args.paths, fmt=args.format, kube_version=args.kube_version,
                   select=[i for ids in args.select for i in ids],
                   skip=[i for ids in args.skip for i in ids])
    if args.command == "rules":
        from .policy.listing import write_rules

        write_rules(sys.stdout, args.format)
        return 0
    if args.command == "catalog":
        from .importing import catalog_text

        sys.stdout.write(catalog_text(args.format))
        return 0
    from .pipeline import new

    interactive = not args.no_input and sys.stdin.isatty()
    return new(args.values, args.output, interactive=interactive, force=args.force,
               dry_run=args.dry_run, from_=args.from_, offline=args.offline)


def _stop(signum: int, frame: FrameType | None) -> None:
    from .errors import Signalled

    raise Signalled(signum)


@contextmanager
def _stop_on_signals() -> Iterator[None]:
    """SIGTERM and SIGHUP stop the run as Ctrl-C does (unwinding, so the writer puts the
    previous base back) instead of killing it mid-write. A signal the caller ignores (nohup)
    stays ignored; the previous handlers come back afterwards."""
    import signal  # here, not at start-up: `--help` needs neither module
    import threading

    installed: list[signal.Signals] = []
    if threading.current_thread() is threading.main_thread():
        for signum in (signal.SIGTERM, signal.SIGHUP):
            if signal.getsignal(signum) is signal.SIG_DFL:
                signal.signal(signum, _stop)
                installed.append(signum)
    try:
        yield
    finally:
        for signum in installed:
            signal.signal(signum, signal.SIG_DFL)


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the `mcp-scaffold` command; returns the exit code."""
    try:
        # Parsing inside the guard too: --format's choices are read from the reporters'
        # registry on first use, and nothing that fails there may escape as a traceback.
        parser = _parser()
        args = parser.parse_args(argv)
        if args.command is None:
            parser.print_help(sys.stderr)
            return 2
        return _guarded(args)
    except KeyboardInterrupt:
        sys.stderr.write("mcp-scaffold: interrupted; nothing was written\n")
        return 130
    except Exception as exc:  # a bug of ours: one line, the traceback only on request
        return _internal(exc)


def _guarded(args: argparse.Namespace) -> int:
    # Not before: --help needs no dataclasses.
    from .errors import Interrupted, ScaffoldError, Signalled

    try:
        with _stop_on_signals():
            return _run(args)
    except Interrupted as exc:  # the user stopped it: not an error worth the word
        # The wizard turns any KeyboardInterrupt into Interrupted; a signal keeps its code.
        if isinstance(exc.__context__, Signalled):
            sys.stderr.write(f"mcp-scaffold: {exc.__context__.message()}\n")
            return exc.__context__.exit_code
        sys.stderr.write(f"mcp-scaffold: {exc}\n")
        return exc.exit_code
    except ScaffoldError as exc:
        for line in exc.lines():
            sys.stderr.write(f"mcp-scaffold: error: {line}\n")
        return exc.exit_code
    except Signalled as exc:
        sys.stderr.write(f"mcp-scaffold: {exc.message()}\n")
        return exc.exit_code
    except KeyboardInterrupt:
        sys.stderr.write(f"mcp-scaffold: {Interrupted()}\n")
        return 130
    except BrokenPipeError:
        # The reader went away (| head): not an error worth a traceback.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 1


def _internal(exc: Exception) -> int:
    if os.environ.get("MCP_SCAFFOLD_DEBUG"):
        raise exc
    from .safetext import printable

    sys.stderr.write(f"mcp-scaffold: internal error: {type(exc).__name__}:"
                     f" {printable(str(exc))} (nothing was written; rerun with"
                     " MCP_SCAFFOLD_DEBUG=1 for a traceback and report it)\n")
    return INTERNAL_EXIT


def entry() -> None:
    """The `mcp-scaffold` program (console script, python -m scaffold): main() with the
    cyclic garbage collector off, then an exit that skips tearing the heap down.

    A run is short and builds few cycles, so the collector only re-walks what is still in use
    (and a large `check` stream would pay for it again and again); at exit, the interpreter's
    final collection and module teardown cost ~25 ms after a `new`. Output is flushed first, so
    the exit code and every byte are as with sys.exit; a reader gone away (| head) is exit 1
    without a traceback, as main() maps it. Library callers of main() keep their collector."""
    import gc

    gc.disable()
    try:
        code = main()
    except SystemExit as exc:  # argparse: --help, --version, usage errors
        if exc.code is not None and not isinstance(exc.code, int):
            raise
        code = exc.code or 0
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except BrokenPipeError:
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, stream.fileno())
            code = code or 1
        except (OSError, ValueError):
            code = code or 1
    os._exit(code)


if __name__ == "__main__":
    entry()
