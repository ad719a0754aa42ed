"""Shared test set-up: Qt offscreen, no screen, no sound, no Bluetooth."""

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

# Commands that open the default incident store (or the supervisor password file) use
# throwaway folders, never the developer's own (platformdirs honours XDG_*_HOME).
if "OXIMON_KEEP_XDG" not in os.environ:
    import tempfile

    os.environ["XDG_DATA_HOME"] = tempfile.mkdtemp(prefix="oximon-test-data-")
    os.environ["XDG_CONFIG_HOME"] = tempfile.mkdtemp(prefix="oximon-test-config-")
