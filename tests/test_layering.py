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
LIBRARIES = ("PySide6", "shiboken6", "pyqtgraph", "qasync", "bleak", "serial")
# The design card's outer folders, installed under the one import name `oximon`.
OUTER = ("oximon.drivers", "oximon.alerts", "oximon.ui")
OUTER_DIRS = {name.split(".")[1] for name in OUTER}
# Scripts that run when imported: `python -m oximon` (the CLI itself) and Alembic's
# environment script (it runs a migration; alembic loads it, not oximon's code).
NOT_IMPORTABLE = {"oximon.__main__", "oximon.store.migrations.env"}


def is_forbidden(module: str, allowed: str = "") -> bool:
    """A Qt/device library, or an outer layer other than `allowed` (e.g. "oximon.alerts")."""
    if module.split(".")[0] in LIBRARIES:
        return True
    return any(module == o or module.startswith(o + ".") for o in OUTER if o != allowed)


def core_files() -> list[Path]:
    """oximon/ outside its composition root (cli/) and the outer layers' folders."""
    return [p for p in sorted((ROOT / "oximon").rglob("*.py"))
            if p.relative_to(ROOT).parts[1] not in OUTER_DIRS | {"cli"}]


def core_modules() -> list[str]:
    names = []
    for path in core_files():
        parts = path.relative_to(ROOT).with_suffix("").parts
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
        f"bad = sorted(m for m in sys.modules if m.split('.')[0] in {LIBRARIES!r}\n"
        f"             or m.startswith({tuple(o + '.' for o in OUTER)!r}) or m in {OUTER!r})\n"
        "print(' '.join(bad))\n")
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True,
                          text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == [], f"the core loaded {done.stdout.strip()}"


def imports(source: str) -> list[tuple[int, str]]:
    """(line, module) of every absolute import, at any depth."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            mods = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            mods = [node.module]
        else:
            continue
        found += [(node.lineno, m) for m in mods]
    return found


def forbidden_imports(source: str, allowed: str = "") -> list[tuple[int, str]]:
    """(line, module) of every import of a Qt/device library or an outer layer."""
    return [(line, m) for line, m in imports(source) if is_forbidden(m, allowed)]


def test_scan_catches_an_import_inside_a_function() -> None:
    source = ("def write_pdf():\n    from PySide6.QtGui import QPdfWriter\n"
              "    import oximon.ui.pdf\n")
    assert forbidden_imports(source) == [(2, "PySide6.QtGui"), (3, "oximon.ui.pdf")]
    assert forbidden_imports("import serialize\nfrom oximon import types\n") == []


def test_alerts_import_no_qt_device_library_or_other_layer() -> None:
    """DESIGN: alerts may import core types only (the Qt speaker lives in ui/)."""
    bad = [f"{path.relative_to(ROOT)}:{line}: {mod}"
           for path in sorted((ROOT / "alerts").rglob("*.py"))
           for line, mod in forbidden_imports(path.read_text(encoding="utf-8"),
                                              allowed="oximon.alerts")]
    assert bad == []


def test_no_core_source_imports_qt_device_libraries_or_outer_layers() -> None:
    bad = []
    for path in core_files():
        rel = path.relative_to(ROOT)
        bad += [f"{rel}:{line}: {mod}"
                for line, mod in forbidden_imports(path.read_text(encoding="utf-8"))]
    assert bad == []


def test_everything_imports_the_one_installed_name() -> None:
    """The wheel installs only `oximon`: code, tests, benches and scripts import
    `oximon.drivers`, `oximon.alerts` and `oximon.ui`, never the bare folder names."""
    bare = {"drivers", "alerts", "ui"}
    bad = []
    for top in ("oximon", "drivers", "alerts", "ui", "tests", "bench", "scripts", "docs"):
        base = ROOT / top
        if not base.is_dir() or base.is_symlink():
            continue
        for path in sorted(base.rglob("*.py")):
            bad += [f"{path.relative_to(ROOT)}:{line}: {mod}"
                    for line, mod in imports(path.read_text(encoding="utf-8"))
                    if mod.split(".")[0] in bare]
    assert bad == []


def test_the_design_card_folders_are_the_installed_subpackages() -> None:
    for name in ("drivers", "alerts", "ui"):
        link = ROOT / "oximon" / name
        assert link.is_symlink() and link.resolve() == (ROOT / name).resolve()
