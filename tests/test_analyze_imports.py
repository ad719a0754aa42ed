"""`oximon analyze FILE --json` leaves out what it does not use: no TOML parser (the default
profile is compiled), no csv module (a file of plain
numbers is read from its bytes), no utf-8-sig codec."""

from __future__ import annotations

import subprocess
import sys

from tests.synthetic import generate, write_csv


def test_analyze_imports_no_toml_or_csv(tmp_path):
    path = tmp_path / "r.csv"
    write_csv(path, generate(1, 300))
    code = (f"from oximon.cli import main\nmain(['analyze', {str(path)!r}, '--json'])\n"
            "import sys\nprint(' '.join(sys.modules), file=sys.stderr)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True)
    mods = set(out.stderr.split("\n")[-2].split())
    assert not {"tomllib", "csv", "encodings.utf_8_sig"} & mods
    assert {"numpy", "oximon.analysis", "oximon.profile_compiled"} <= mods  # (it looks)
