"""Shared test set-up: Qt offscreen, no screen, no sound, no Bluetooth."""

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

# Commands that open the default incident store write to a throwaway data folder, never
# the developer's own (platformdirs honours XDG_DATA_HOME).
if "OXIMON_KEEP_XDG" not in os.environ:
    import tempfile

    os.environ["XDG_DATA_HOME"] = tempfile.mkdtemp(prefix="oximon-test-data-")
