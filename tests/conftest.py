"""Shared test set-up: Qt offscreen, no screen, no sound, no Bluetooth."""

import os
from collections.abc import Generator
from pathlib import Path

import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

# Commands that open the default incident store (or the supervisor password file) use
# throwaway folders, never the developer's own (platformdirs honours XDG_*_HOME).
if "OXIMON_KEEP_XDG" not in os.environ:
    import tempfile

    os.environ["XDG_DATA_HOME"] = tempfile.mkdtemp(prefix="oximon-test-data-")
    os.environ["XDG_CONFIG_HOME"] = tempfile.mkdtemp(prefix="oximon-test-config-")


PG_SKIPPED = "PostgreSQL not configured"
PG_SKIP_AT = ("tests/store/conftest.py", next(  # where the store tests skip (0-based line)
    n for n, line in enumerate((Path(__file__).parent / "store" / "conftest.py")
                               .read_text().splitlines()) if "pytest.skip(PG_SKIP)" in line))


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]
                              ) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    """Every PostgreSQL skip (one per store test) is one reason: give them one location,
    so `-ra` folds them into a single "SKIPPED [44] ..." line instead of 44."""
    report = yield
    longrepr = report.longrepr
    if isinstance(longrepr, tuple) and PG_SKIPPED in str(longrepr[2]):
        report.longrepr = (*PG_SKIP_AT, longrepr[2])
    return report
