"""The core (oximon/, outside oximon/cli/, the composition root) never imports Qt, the
device libraries (bleak, pyserial) or the outer layers (drivers, alerts, ui).

Two checks, because each misses what the other sees: a fresh process imports every core
module and looks at what got loaded (an import hidden behind another module); and a scan
of the source finds imports inside functions, which run only when called (the store once
drew PDFs with a PySide6 import inside its `write_pdf`)."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
FORBIDDEN = ("PySide6", "shiboken6", "pyqtgraph", "qasync", "bleak", "serial",
             "drivers", "alerts", "ui")
# Scripts that run when imported: `python -m oximon` (the CLI itself) and Alembic's
# environment script (it runs a migration; alembic loads it, not oximon's code).
NOT_IMPORTABLE = {"oximon.__main__", "oximon.store.migrations.env"}


def core_modules() -> list[str]:
    names = []
    for path in sorted((ROOT / "oximon").rglob("*.py")):
        parts = path.relative_to(ROOT).with_suffix("").parts
        if parts[:2] == ("oximon", "cli"):
            continue
        name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        if name not in NOT_IMPORTABLE:
            names.append(name)
    return names


def test_core_modules_are_found() -> None:
    names = core_modules()
    assert {"oximon.store.export", "oximon.report", "oximon.review", "oximon.supervisor",
            "oximon.engine", "oximon.store.migrations.versions"} <= set(names)
    assert not any(n.startswith("oximon.cli") for n in names)


def test_importing_the_core_loads_no_qt_device_library_or_outer_layer() -> None:
    code = (
        "import importlib, sys\n"
        f"for name in {core_modules()!r}:\n"
        "    importlib.import_module(name)\n"
        f"bad = sorted(m for m in sys.modules if m.split('.')[0] in {FORBIDDEN!r})\n"
        "print(' '.join(bad))\n")
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True,
                          text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == [], f"the core loaded {done.stdout.strip()}"


def forbidden_imports(source: str) -> list[tuple[int, str]]:
    """(line, module) of every import of a FORBIDDEN package, at any depth."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            mods = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            mods = [node.module]
        else:
            continue
        found += [(node.lineno, m) for m in mods if m.split(".")[0] in FORBIDDEN]
    return found


def test_scan_catches_an_import_inside_a_function() -> None:
    source = "def write_pdf():\n    from PySide6.QtGui import QPdfWriter\n    import ui.pdf\n"
    assert forbidden_imports(source) == [(2, "PySide6.QtGui"), (3, "ui.pdf")]
    assert forbidden_imports("import serialize\nfrom oximon import types\n") == []


def test_alerts_import_no_qt_device_library_or_other_layer() -> None:
    """DESIGN: alerts may import core types only (the Qt speaker lives in ui/)."""
    bad = [f"{path.relative_to(ROOT)}:{line}: {mod}"
           for path in sorted((ROOT / "alerts").rglob("*.py"))
           for line, mod in forbidden_imports(path.read_text(encoding="utf-8"))
           if mod.split(".")[0] != "alerts"]
    assert bad == []


def test_no_core_source_imports_qt_device_libraries_or_outer_layers() -> None:
    bad = []
    for path in sorted((ROOT / "oximon").rglob("*.py")):
        rel = path.relative_to(ROOT)
        if rel.parts[:2] == ("oximon", "cli"):
            continue
        bad += [f"{rel}:{line}: {mod}"
                for line, mod in forbidden_imports(path.read_text(encoding="utf-8"))]
    assert bad == []
