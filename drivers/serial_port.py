"""Contec CMS50 oximeters on a USB serial port (CP210x bridge): a `Source` through pyserial.

A session opens the port with the protocol's settings (V7: 115200 8N1, legacy: 19200
8O1; never XON/XOFF, which would eat packet types 0x11 and 0x13), sends the start
sequence (V7: `A7`, `A2`, `A1`; legacy: `F6 F6 F6`), then reads. V7 devices stop streaming
unless they hear `AF` about every 5 s, so a keep-alive task sends it. Unplugging the cable
makes reads fail: the source reports the device lost and reopens the port when it
returns. Without a protocol in the spec, it tries V7 then legacy until one gives readings.

pyserial's reads block, so each runs in a worker thread with a short timeout (plain
pyserial works on every OS; pyserial-asyncio would add a dependency for no gain at
these rates: one read per 50 ms).
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import logging
import random
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from typing import Any

import serial
import serial.tools.list_ports

from oximon.clock import Clock
from oximon.drivers import cms50, cms50_legacy, protocols
from oximon.drivers.backoff import Backoff, ErrorClass
from oximon.drivers.link import Failure, LinkEnded, Streamer, keep_connected, silent
from oximon.drivers.protocols import ProtocolSpec
from oximon.types import DeviceInfo, SourceEvent

log = logging.getLogger(__name__)

CP210X_VID, CP210X_PID = 0x10C4, 0xEA60
WATCHDOG_S = 5.0
READ_TIMEOUT_S = 0.05
AUTO_ORDER = ("cms50", "cms50-legacy")

# What to send after opening, per protocol.
START: dict[str, list[bytes]] = {
    "cms50": [cms50.command(c) for c in cms50.START_SEQUENCE],
    "cms50-legacy": [cms50_legacy.LIVE_MODE],
}
KEEPALIVE: dict[str, bytes] = {"cms50": cms50.command(cms50.KEEPALIVE)}


@dataclass(frozen=True)
class PortInfo:
    device: str
    description: str
    serial_number: str | None


def list_oximeter_ports() -> list[PortInfo]:
    """Serial ports on a CP210x USB bridge (VID 0x10C4, PID 0xEA60), as CMS50s use."""
    return [PortInfo(p.device, p.description or "", p.serial_number)
            for p in serial.tools.list_ports.comports()
            if p.vid == CP210X_VID and p.pid == CP210X_PID]


def classify(exc: BaseException, port: str) -> Failure:
    err = exc.errno if isinstance(exc, OSError) else None
    text = str(exc)
    if err in (errno.ENOENT, errno.ENODEV, errno.ENXIO) or "No such file" in text \
            or ("could not open port" in text and "FileNotFound" in text):
        return Failure(ErrorClass.NOT_FOUND, f"serial port {port} not found (unplugged?)")
    if err in (errno.EACCES, errno.EPERM) or "Permission denied" in text \
            or "PermissionError" in text:
        return Failure(ErrorClass.UNAVAILABLE, f"no permission to open {port} (on Linux, "
                       "add the user to the 'dialout' group and log in again)")
    if err == errno.EBUSY or "busy" in text.lower():
        return Failure(ErrorClass.BUSY, f"serial port {port} is in use by another program")
    if isinstance(exc, serial.SerialException | OSError):
        return Failure(ErrorClass.NOT_FOUND, f"serial port {port} disconnected ({text})")
    return Failure(ErrorClass.BUSY, f"{type(exc).__name__}: {text}")


class SerialSource:
    """A CMS50 on `port` as a `Source`. Intervals are parameters so tests can run fast."""

    def __init__(self, port: str, protocol: str | None = None, *,
                 keepalive_s: float = cms50.KEEPALIVE_S, watchdog_s: float = WATCHDOG_S,
                 read_timeout: float = READ_TIMEOUT_S, rng: random.Random | None = None,
                 backoff: Backoff | None = None):
        self.port = port
        forced = protocols.get(protocol, "serial") if protocol else None
        self.candidates = [forced] if forced else [protocols.get(n) for n in AUTO_ORDER]
        self.keepalive_s = keepalive_s
        self.watchdog_s = watchdog_s
        self.read_timeout = read_timeout
        self.backoff = backoff or Backoff(rng or random.Random())
        self.info = DeviceInfo(address=port, transport="serial",
                               protocol=forced.name if forced else "",
                               name=f"Serial oximeter {port}")
        self._next = 0
        self.confirmed: ProtocolSpec | None = forced

    def events(self, clock: Clock) -> AsyncIterator[SourceEvent]:
        return keep_connected(self._new_session(clock), clock, self.backoff,
                              lambda exc: classify(exc, self.port), self.port, self._ended)

    def _new_session(self, clock: Clock) -> Callable[[], _Session]:
        def make() -> _Session:
            spec = self.confirmed or self.candidates[self._next % len(self.candidates)]
            return _Session(self, clock, spec)
        return make

    def _ended(self, session: _Session, _failure: Failure) -> None:
        """Auto-detection: a protocol that gave nothing on an open port makes way for the
        next candidate (one that gave readings was kept as `confirmed`)."""
        if session.opened and not session.delivered and self.confirmed is None:
            self._next += 1

    def next_candidate(self, spec: ProtocolSpec) -> ProtocolSpec:
        return self.candidates[(self.candidates.index(spec) + 1) % len(self.candidates)]


class _Session:
    def __init__(self, source: SerialSource, clock: Clock, spec: ProtocolSpec):
        self.source = source
        self.clock = clock
        self.spec = spec
        self.opened = False  # the port opened and the start sequence went out
        # "Connected" (a later failure is a lost device) only once the protocol is known:
        # while auto-detection tries a protocol the device may not speak, silence is
        # "still looking", not a device that was there and went away.
        self.connected = False
        self.delivered = False
        self.inbox: asyncio.Queue[tuple[str, Any]] = asyncio.Queue()

    def _open(self) -> serial.Serial:
        s = self.spec.serial
        assert s is not None
        return serial.Serial(self.source.port, baudrate=s.baudrate, bytesize=s.bytesize,
                             parity=s.parity, stopbits=s.stopbits,
                             timeout=self.source.read_timeout, xonxoff=False, rtscts=False,
                             dsrdtr=False, exclusive=True)

    async def run(self) -> AsyncIterator[SourceEvent]:
        src = self.source
        port = await asyncio.to_thread(self._open)
        tasks: list[asyncio.Task[None]] = []
        try:
            for packet in START[self.spec.name]:
                await asyncio.to_thread(port.write, packet)
            streamer = Streamer(self.spec, lambda: src.port)
            self.opened = True
            self.connected = src.confirmed is not None
            tasks.append(asyncio.create_task(self._read(port)))
            tasks.append(asyncio.create_task(self._tick()))
            if self.spec.name in KEEPALIVE:
                tasks.append(asyncio.create_task(self._keepalive(port,
                                                                 KEEPALIVE[self.spec.name])))
            last_data = self.clock.now()
            while True:
                kind, payload = await self.inbox.get()
                now = self.clock.now()
                if kind == "error":
                    raise LinkEnded(classify(payload, src.port))
                if kind == "tick":
                    if now - last_data >= src.watchdog_s:
                        if src.confirmed is None:
                            raise self._not_this_protocol()
                        raise silent(src.watchdog_s)
                    continue
                before = streamer.assembler.readings
                events = streamer.feed(payload, now)
                if streamer.assembler.readings > before:
                    last_data = now  # bytes that never make a reading don't count
                self.delivered = streamer.delivered
                if self.delivered and src.confirmed is None:
                    src.confirmed = self.spec  # auto-detection found it: keep it
                    self.connected = True
                    log.info("%s: %s detected", src.port, self.spec.title)
                for event in events:
                    yield event
        finally:
            for task in tasks:
                task.cancel()
            with contextlib.suppress(Exception):
                port.cancel_read()
            with contextlib.suppress(Exception):
                port.close()

    def _not_this_protocol(self) -> LinkEnded:
        src = self.source
        after = src.next_candidate(self.spec)
        trying = f"; trying {after.title}" if after is not self.spec else ""
        return LinkEnded(Failure(ErrorClass.DROPPED, f"no {self.spec.title} readings on "
                                 f"{src.port} for {src.watchdog_s:g} s{trying}"))

    async def _read(self, port: serial.Serial) -> None:
        try:
            while True:
                data = await asyncio.to_thread(port.read, 4096)
                if data:
                    self.inbox.put_nowait(("data", data))
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # unplugged: the session reports it
            self.inbox.put_nowait(("error", exc))

    async def _tick(self) -> None:
        while True:
            await self.clock.sleep(min(0.5, self.source.watchdog_s / 4))
            self.inbox.put_nowait(("tick", None))

    async def _keepalive(self, port: serial.Serial, packet: bytes) -> None:
        try:
            while True:
                await self.clock.sleep(self.source.keepalive_s)
                await asyncio.to_thread(port.write, packet)
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            self.inbox.put_nowait(("error", exc))
