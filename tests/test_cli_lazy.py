"""`oximon --help` imports no command; `oximon analyze` never loads Qt or the store."""

from __future__ import annotations

import argparse
import subprocess
import sys

from oximon.cli import COMMANDS, build_parser
from tests.synthetic import generate, write_csv


def _loaded(code: str) -> set[str]:
    code += "\nimport sys\nprint(' '.join(sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True).stdout
    return set(out.split("\n")[-2].split())


def test_help_lists_every_command_without_importing_them():
    mods = _loaded("from oximon.cli import main\n"
                   "try:\n    main(['--help'])\nexcept SystemExit:\n    pass")
    assert not {m for m in mods if m.startswith("oximon.cli.") and m != "oximon.cli.errors"}
    assert "numpy" not in mods


def test_analyze_loads_no_qt_store_or_sqlalchemy(tmp_path):
    path = tmp_path / "r.csv"
    write_csv(path, generate(1, 300))
    mods = _loaded(f"from oximon.cli import main\nmain(['analyze', {str(path)!r}, '--json'])")
    bad = {m for m in mods if m.split(".")[0] in ("sqlalchemy", "PySide6", "bleak", "serial",
                                                  "alembic")
           or m.startswith(("oximon.store", "oximon.ui", "oximon.drivers", "oximon.alerts"))}
    assert not bad


def test_analyze_imports_nothing_it_does_not_use(tmp_path):
    """What `oximon analyze FILE` leaves out of its start (each a few ms, against a budget
    of 1.5x python + numpy + reading the file): logging (it never logs), shutil and its
    compressors (argparse's formatter sizes itself through it), tempfile, dataclasses and
    the dataclass-heavy oximon.types (the batch path needs only Flags and Priority)."""
    path = tmp_path / "r.csv"
    write_csv(path, generate(1, 300))
    mods = _loaded(f"from oximon.cli import main\nmain(['analyze', {str(path)!r}, '--json'])")
    unused = {"logging", "shutil", "bz2", "lzma", "tempfile", "dataclasses", "threading",
              "oximon.types"}
    assert not unused & mods
    assert {"numpy", "oximon.analysis", "oximon.codes"} <= mods  # (the check looks)


def test_the_listing_matches_each_commands_own_help():
    parser = build_parser()
    sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    helps = {a.dest: a.help for a in sub._choices_actions}
    assert helps == COMMANDS
