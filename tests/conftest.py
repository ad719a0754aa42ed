"""Shared test set-up: Qt offscreen, no screen, no sound, no Bluetooth."""

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
