"""Shared test set-up: Qt offscreen, no screen, no sound, no Bluetooth."""

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

# Commands that open the default incident store (or the supervisor password file) use
# throwaway folders, never the developer's own (platformdirs honours XDG_*_HOME).
if "OXIMON_KEEP_XDG" not in os.environ:
    import tempfile

    os.environ["XDG_DATA_HOME"] = tempfile.mkdtemp(prefix="oximon-test-data-")
    os.environ["XDG_CONFIG_HOME"] = tempfile.mkdtemp(prefix="oximon-test-config-")

from collections.abc import Iterator  # noqa: E402 (after the environment is set)

import pytest  # noqa: E402

PG_SKIPPED = "PostgreSQL not configured"


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo) -> Iterator[None]:
    """Every PostgreSQL skip (one per store test) is one reason: give them one location,
    so `-ra` folds them into a single "SKIPPED [44] ..." line instead of 44."""
    outcome = yield
    report = outcome.get_result()
    longrepr = report.longrepr
    if (report.skipped and isinstance(longrepr, tuple) and len(longrepr) == 3
            and PG_SKIPPED in str(longrepr[2])):
        report.longrepr = ("tests/store", None, longrepr[2])
