"""Emulated CMS50 devices on a pseudo-terminal, reached through a stable path (a symlink,
like /dev/serial/by-id/...) so they can be "unplugged" and "plugged back in".

The device only talks when the port is set the way the real one needs (V7: 115200 8N1,
legacy: 19200 8O1, no XON/XOFF), like a real UART at the wrong speed would only give
garbage. A V7 device streams after `A1` and stops when `AF` keep-alives stop arriving.
"""

from __future__ import annotations

import contextlib
import os
import pty
import select
import termios
import threading
import time
import tty
from pathlib import Path

from oximon.drivers import cms50

V7_LIVE = bytes.fromhex("0180c6d088c8e2fb80")  # SpO2 98, PR 72, PI 1.23
LEGACY_LIVE = bytes.fromhex("8a3f05485f")  # SpO2 95, PR 72


class EmulatedCms50:
    def __init__(self, link: Path, *, legacy: bool = False, keepalive_timeout: float = 0.5,
                 rate_hz: float = 60.0):
        self.link = link
        self.legacy = legacy
        self.keepalive_timeout = keepalive_timeout
        self.rate_hz = rate_hz
        self.commands: list[int] = []  # V7 command codes received, in order
        self.raw_in = bytearray()
        self.streaming = legacy  # legacy devices stream by themselves
        self.stops = 0  # times streaming stopped for lack of keep-alives
        self.sent_packets = 0
        self._last_alive = 0.0
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.master = self.slave = -1

    # -- cable -------------------------------------------------------------------------
    def plug(self) -> None:
        self.master, self.slave = pty.openpty()
        tty.setraw(self.slave)
        with contextlib.suppress(FileNotFoundError):
            self.link.unlink()
        self.link.symlink_to(os.ttyname(self.slave))
        self.streaming = self.legacy
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def unplug(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(2)
        with contextlib.suppress(FileNotFoundError):
            self.link.unlink()
        for fd in (self.master, self.slave):
            with contextlib.suppress(OSError):
                os.close(fd)
        self.master = self.slave = -1

    def __enter__(self) -> EmulatedCms50:
        self.plug()
        return self

    def __exit__(self, *exc: object) -> None:
        self.unplug()

    # -- the device ----------------------------------------------------------------------
    def port_settings_ok(self) -> bool:
        iflag, _o, cflag, _l, ispeed, _os, _cc = termios.tcgetattr(self.slave)
        parity = cflag & (termios.PARENB | termios.PARODD)
        if iflag & (termios.IXON | termios.IXOFF) or cflag & termios.CRTSCTS:
            return False
        if (cflag & termios.CSIZE) != termios.CS8 or cflag & termios.CSTOPB:
            return False
        # Linux ptys keep PARODD but drop PARENB, so odd parity shows as PARODD alone.
        if self.legacy:
            return ispeed == termios.B19200 and bool(parity & termios.PARODD)
        return ispeed == termios.B115200 and parity == 0

    def _run(self) -> None:
        period = 1.0 / self.rate_hz
        next_send = time.monotonic()
        while not self._stop.is_set():
            ready, _, _ = select.select([self.master], [], [], 0.005)
            if ready:
                try:
                    self._receive(os.read(self.master, 1024))
                except OSError:
                    return
            now = time.monotonic()
            if not self.legacy and self.streaming and \
                    now - self._last_alive > self.keepalive_timeout:
                self.streaming = False
                self.stops += 1
            if now >= next_send:
                next_send = max(next_send + period, now - 0.1)
                if self.streaming and self.port_settings_ok():
                    try:
                        os.write(self.master, LEGACY_LIVE if self.legacy else V7_LIVE)
                        self.sent_packets += 1
                    except OSError:
                        return

    def _receive(self, data: bytes) -> None:
        self.raw_in += data
        if self.legacy:
            return
        while len(self.raw_in) >= 9:
            start = self.raw_in.find(b"\x7d\x81")
            if start < 0 or len(self.raw_in) - start < 9:
                return
            code = cms50.parse_command(bytes(self.raw_in[start:start + 9]))
            del self.raw_in[:start + 9]
            if code is None or not self.port_settings_ok():
                continue
            self.commands.append(code)
            if code == cms50.START_LIVE:
                self.streaming = True
                self._last_alive = time.monotonic()
            elif code == cms50.STOP_LIVE:
                self.streaming = False
            elif code == cms50.KEEPALIVE:
                self._last_alive = time.monotonic()
