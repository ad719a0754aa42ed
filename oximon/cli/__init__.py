"""The `oximon` command: the composition root.

This package is the only place in `oximon` that imports `drivers`, `alerts` and `ui`; it
builds the concrete objects and hands them to the engine. Each subcommand is a module here
with `add_parser(subparsers)` and `run(args) -> int`.

Imports are lazy: `oximon --help` imports no subcommand, and `oximon COMMAND` imports only
that command's module, so `oximon analyze` never loads Qt, SQLAlchemy or the store, and
`--help` answers at once. The one-line help of each command is kept here for that listing
(tests/test_cli_lazy.py checks it against each module's own).

Exit codes (a contract scripts rely on): 0 success, 2 bad usage or bad input (message on
stderr naming the file, line, key or argument), 1 runtime failure. No traceback reaches a
user unless OXIMON_DEBUG=1.
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys
from collections.abc import Iterable, Sequence
from typing import Any, NoReturn

from oximon.cli.errors import RuntimeFailure, UsageError

# Subcommand modules, in the order `oximon --help` lists them, with their one-line help.
COMMANDS: dict[str, str] = {
    "dashboard": "open the dashboard (the default command)",
    "monitor": "monitor sources with no screen (headless)",
    "scan": "find BLE and USB-serial oximeters",
    "decode": "decode captured oximeter bytes to JSON",
    "analyze": "analyse recordings (ODI, CT90, events, alarms); folders to a summary",
    "incidents": "list, show, export or verify recorded incidents",
    "report": "the monthly report (PDF or CSV)",
    "review": "supervisor review: browse, replay, sign off incidents",
    "hub": "run a hub's booths headless for a site of several computers",
    "site": "a site's booths and hubs: status, acknowledge from a shell",
}


# Commands that import no module that logs: their runs skip configuring `logging` (its
# import is a few ms of `oximon analyze`'s start; tests/test_cli_lazy.py checks it).
QUIET_COMMANDS = frozenset({"analyze"})
# Commands that, run as the program, end the process as soon as their output is flushed,
# without Python's teardown (`_exit_now`): they start no threads and leave no atexit work.
FAST_EXIT_COMMANDS = frozenset({"analyze"})


def _width() -> int:
    """The help's width as argparse's own formatter takes it (shutil.get_terminal_size),
    without importing shutil: that import (bz2, lzma, fnmatch) would be paid by every
    parser built, at each add_argument, not only when help is printed."""
    try:
        columns = int(os.environ.get("COLUMNS", "0"))
    except ValueError:
        columns = 0
    if columns <= 0:
        stream = sys.__stdout__
        try:
            columns = os.get_terminal_size(stream.fileno()).columns if stream else 0
        except (AttributeError, ValueError, OSError):
            columns = 0
    return (columns or 80) - 2


class HelpFormatter(argparse.HelpFormatter):
    """argparse's formatter, its width from `_width` (for every oximon parser)."""

    def __init__(self, prog: str, indent_increment: int = 2, max_help_position: int = 24,
                 width: int | None = None):
        super().__init__(prog, indent_increment, max_help_position,
                         _width() if width is None else width)


class RawDescriptionHelpFormatter(HelpFormatter, argparse.RawDescriptionHelpFormatter):
    """argparse's raw-description formatter, its width from `_width`."""


class _Parser(argparse.ArgumentParser):
    def __init__(self, *args: Any, **kwargs: Any):
        kwargs.setdefault("formatter_class", HelpFormatter)
        super().__init__(*args, **kwargs)

    def error(self, message: str) -> NoReturn:  # argparse's own exit 2, without the usage dump
        self.exit(2, f"oximon: {message}\n(see 'oximon {self.prog.split(' ', 1)[-1]} --help')\n"
                  if " " in self.prog else f"oximon: {message}\n")


def build_parser(load: Iterable[str] | None = None, *,
                 others: bool = True) -> argparse.ArgumentParser:
    """The parser, with the commands in `load` (default: all) built by their modules; the
    others are listed by name and help only (their modules are not imported), or left out
    (`others=False`: a command line that names its command needs no listing, and each
    listed parser costs its construction)."""
    wanted = set(COMMANDS if load is None else load)
    parser = _Parser(prog="oximon", description="Watch pulse oximeters at overdose "
                     "prevention sites. Without a command, opens the demo dashboard.")
    parser.add_argument("--debug", action="store_true", help="show tracebacks and debug logs")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    for name, text in COMMANDS.items():
        if name in wanted:
            importlib.import_module(f"oximon.cli.{name}").add_parser(sub)
        elif others:
            sub.add_parser(name, help=text, add_help=False)
    _accept_debug_anywhere(parser)
    return parser


def _command_in(argv: Sequence[str]) -> str | None:
    """The subcommand named on the command line (the first word that is not an option)."""
    for word in argv:
        if word == "--":
            return None
        if not word.startswith("-"):
            return word if word in COMMANDS else None
    return None


def _accept_debug_anywhere(parser: argparse.ArgumentParser) -> None:
    """Errors say "run with --debug": accept it after any subcommand too
    (`oximon analyze FILE --debug`), without overriding one given before it."""
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for child in action.choices.values():
                if "--debug" not in child._option_string_actions:
                    child.add_argument("--debug", action="store_true",
                                       default=argparse.SUPPRESS, help=argparse.SUPPRESS)
                _accept_debug_anywhere(child)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line `argv` (default: the program's own) and return its exit code.
    Run as the program (`argv` None) a command of FAST_EXIT_COMMANDS ends the process
    itself once its output is flushed (see `_exit_now`)."""
    program = argv is None
    argv = list(sys.argv[1:] if argv is None else argv)
    command = _command_in(argv)
    parser = build_parser([command], others=False) if command else build_parser([])
    args = parser.parse_args(argv)
    debug = args.debug or os.environ.get("OXIMON_DEBUG") == "1"
    if debug or args.command not in QUIET_COMMANDS:
        import logging

        logging.basicConfig(level=logging.DEBUG if debug else logging.WARNING,
                            format="oximon: %(levelname)s %(name)s: %(message)s")
    if args.command is None:
        args = build_parser(["dashboard"]).parse_args(["dashboard", "--demo", *argv])
    code = _run(args, debug)
    if program and not debug and args.command in FAST_EXIT_COMMANDS:
        _exit_now(code)
    return code


def _run(args: argparse.Namespace, debug: bool) -> int:
    try:
        return int(args.run(args) or 0)
    except UsageError as exc:
        print(f"oximon: {exc}", file=sys.stderr)
        return 2
    except RuntimeFailure as exc:
        print(f"oximon: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        return 0
    except Exception as exc:
        if debug:
            raise
        print(f"oximon: internal error: {type(exc).__name__}: {exc} "
              "(run with --debug for details)", file=sys.stderr)
        return 1


def _exit_now(code: int) -> NoReturn:
    """End the process without the interpreter's teardown (freeing every module and
    numpy's state: ~15-20 ms, more than a 24 h analysis itself), after flushing what the
    command wrote. Only for commands that leave nothing to finish: no threads, no atexit
    work, files closed. Output that cannot be flushed (a full disk) is still an error."""
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except BrokenPipeError:  # (the reader went away: as `main` treats it)
            pass
        except OSError as exc:
            try:
                print(f"oximon: cannot write the output ({exc.strerror})", file=sys.stderr)
                sys.stderr.flush()
            except OSError:
                pass
            os._exit(1)
    os._exit(code)
