"""Figures of the code's shape: longest classes and functions, method probes, import names.

    python scripts/shape.py            # the source tree
    python scripts/shape.py --wheel    # also build the wheel and list its top-level names

A "probe" is `getattr(obj, "name", None)`: asking whether a port happens to offer a
method instead of the port promising it. The typed contract has none left.
"""

from __future__ import annotations

import argparse
import ast
import shutil
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path
from typing import TypeGuard

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("oximon", "drivers", "alerts", "ui")


def source_files() -> list[Path]:
    files: list[Path] = []
    for package in PACKAGES:
        base = ROOT / package
        if base.is_symlink():  # the installed name of a design-card folder: counted there
            continue
        files += sorted(p for p in base.rglob("*.py") if not any(
            part.is_symlink() for part in p.relative_to(ROOT).parents
            if part != Path(".") and (ROOT / part).is_symlink()))
    return [f for f in files if "migrations" not in f.parts]


Named = ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef


def spans(tree: ast.AST, kind: type[Named] | tuple[type[Named], ...],
          ) -> list[tuple[int, str, int]]:
    out = []
    for node in ast.walk(tree):
        if isinstance(node, kind):
            end = node.end_lineno if node.end_lineno is not None else node.lineno
            out.append((end - node.lineno + 1, node.name, node.lineno))
    return out


def is_probe(node: ast.AST) -> TypeGuard[ast.Call]:
    """getattr(x, "name", None) or getattr(x, "name", <default>) naming a method-ish
    attribute, not a dataclass field loop (getattr(row, col))."""
    return (isinstance(node, ast.Call) and isinstance(node.func, ast.Name)
            and node.func.id == "getattr" and len(node.args) == 3
            and isinstance(node.args[1], ast.Constant))


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--wheel", action="store_true", help="build the wheel and list its names")
    args = ap.parse_args()
    classes, functions, probes = [], [], []
    for path in source_files():
        rel = path.relative_to(ROOT)
        tree = ast.parse(path.read_text(encoding="utf-8"))
        classes += [(n, f"{rel}:{line} {name}") for n, name, line in spans(tree, ast.ClassDef)]
        functions += [(n, f"{rel}:{line} {name}") for n, name, line in
                      spans(tree, (ast.FunctionDef, ast.AsyncFunctionDef))]
        probes += [f"{rel}:{node.lineno}" for node in ast.walk(tree) if is_probe(node)]
    classes.sort(reverse=True)
    functions.sort(reverse=True)
    print(f"files: {len(source_files())}")
    print("longest classes:")
    for n, where in classes[:3]:
        print(f"  {n:5d} lines  {where}")
    print("longest functions:")
    for n, where in functions[:3]:
        print(f"  {n:5d} lines  {where}")
    print(f"getattr(..., 'name', default) probes: {len(probes)}")
    for where in probes:
        print(f"  {where}")
    if args.wheel:
        with tempfile.TemporaryDirectory() as tmp:
            # A clean copy: a stale build/ or *.egg-info would list names long gone.
            copy = Path(tmp) / "tree"
            shutil.copytree(ROOT, copy, symlinks=True, ignore=shutil.ignore_patterns(
                ".venv", ".git", "build", "dist", "*.egg-info", "__pycache__", ".*_cache"))
            subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "-q",
                            "-w", tmp, str(copy)], check=True)
            wheel = next(Path(tmp).glob("*.whl"))
            with zipfile.ZipFile(wheel) as zf:
                tops = sorted({n.split("/")[0] for n in zf.namelist()
                               if not n.split("/")[0].endswith((".dist-info", ".data"))})
        print(f"wheel top-level import names: {' '.join(tops)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
