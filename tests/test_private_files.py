"""Private files: exports are 0600, but a device named as the output is never changed."""

from __future__ import annotations

import os
import stat
import tempfile

from oximon.private_files import open_private


def test_an_export_to_a_file_is_private(tmp_path):
    path = tmp_path / "out.csv"
    path.write_text("old")
    path.chmod(0o644)
    with open_private(path) as fh:
        fh.write("x")
    assert stat.S_IMODE(path.stat().st_mode) == 0o600 and path.read_text() == "x"


def test_a_device_keeps_its_mode(tmp_path):
    """`--output /dev/null` as root once left /dev/null 0600 for every other account. A FIFO
    of our own stands in for the device (a test must not touch the real /dev/null)."""
    fifo = os.path.join(tempfile.mkdtemp(dir=tmp_path), "fifo")
    os.mkfifo(fifo, 0o666)
    os.chmod(fifo, 0o666)
    reader = os.open(fifo, os.O_RDONLY | os.O_NONBLOCK)
    try:
        with open_private(fifo) as fh:
            fh.write("x")
    finally:
        os.close(reader)
    assert stat.S_IMODE(os.stat(fifo).st_mode) == 0o666
