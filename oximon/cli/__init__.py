"""The `oximon` command: the composition root.

This package is the only place in `oximon` that imports `drivers`, `alerts` and `ui`; it
builds the concrete objects and hands them to the engine. Each subcommand is a module here
with `add_parser(subparsers)` and `run(args) -> int`.

Exit codes (a contract scripts rely on): 0 success, 2 bad usage or bad input (message on
stderr naming the file, line, key or argument), 1 runtime failure. No traceback reaches a
user unless OXIMON_DEBUG=1.
"""

from __future__ import annotations

import argparse
import importlib
import logging
import os
import sys
from collections.abc import Sequence
from typing import NoReturn

from oximon.cli.errors import RuntimeFailure, UsageError

# Subcommand modules, in the order `oximon --help` lists them.
COMMANDS = ["dashboard", "monitor", "scan", "decode", "analyze", "incidents", "report",
            "review"]
COMMANDS += ["hub", "site"]  # a site of several computers (oximon.site)


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:  # argparse's own exit 2, without the usage dump
        self.exit(2, f"oximon: {message}\n(see 'oximon {self.prog.split(' ', 1)[-1]} --help')\n"
                  if " " in self.prog else f"oximon: {message}\n")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="oximon", description="Watch pulse oximeters at overdose "
                     "prevention sites. Without a command, opens the demo dashboard.")
    parser.add_argument("--debug", action="store_true", help="show tracebacks and debug logs")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    for name in COMMANDS:
        module = importlib.import_module(f"oximon.cli.{name}")
        module.add_parser(sub)
    _accept_debug_anywhere(parser)
    return parser


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
    argv = list(sys.argv[1:] if argv is None else argv)
    parser = build_parser()
    args = parser.parse_args(argv)
    debug = args.debug or os.environ.get("OXIMON_DEBUG") == "1"
    logging.basicConfig(level=logging.DEBUG if debug else logging.WARNING,
                        format="oximon: %(levelname)s %(name)s: %(message)s")
    if args.command is None:
        args = parser.parse_args(["dashboard", "--demo", *argv])
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
