"""The compiled default profile (`oximon.profile_compiled`) is the shipped TOML, and the
TOML wins whenever the two differ."""

from __future__ import annotations

import runpy
import tomllib
import zlib
from pathlib import Path

from oximon import profile, profile_compiled

ROOT = Path(__file__).resolve().parent.parent
_SCRIPT = runpy.run_path(str(ROOT / "scripts" / "compile_default_profile.py"))
SOURCE: Path = _SCRIPT["SOURCE"]
render = _SCRIPT["render"]


def test_the_compiled_module_is_up_to_date():
    """Fails after an edit of the default profile until the script is re-run."""
    data = SOURCE.read_bytes()
    assert (len(data), zlib.crc32(data)) == profile_compiled.FINGERPRINT, \
        "the default profile changed: run python scripts/compile_default_profile.py"
    assert tomllib.loads(data.decode("utf-8")) == profile_compiled.RAW
    assert (ROOT / "oximon" / "profile_compiled.py").read_text(encoding="utf-8") == render(data)


def test_the_default_profile_comes_from_the_compiled_table_without_tomllib():
    profile._default_raw.cache_clear()
    try:
        assert profile._default_raw() is profile_compiled.RAW
    finally:
        profile._default_raw.cache_clear()


def test_an_edited_default_file_is_parsed_not_ignored(tmp_path, monkeypatch):
    edited = tmp_path / "bc-ops-default.toml"
    text = SOURCE.read_text(encoding="utf-8").replace("threshold = 90.0", "threshold = 91.0", 1)
    assert "threshold = 91.0" in text  # (the edit took)
    edited.write_text(text, encoding="utf-8")
    monkeypatch.setattr(profile, "_default_path", lambda: edited)
    profile._default_raw.cache_clear()
    profile._default_profile.cache_clear()
    try:
        assert profile.load_profile(None)["spo2_low"]["threshold"] == 91.0
    finally:
        monkeypatch.undo()
        profile._default_raw.cache_clear()
        profile._default_profile.cache_clear()
    assert profile.load_profile(None)["spo2_low"]["threshold"] == 90.0
