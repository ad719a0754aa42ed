"""BLE oximeters through bleak: a `Source` that connects by address, finds the protocol
from the GATT services, streams `Sample`s and keeps the link up for a whole shift.

One connection is a *session*: connect, pick the protocol, subscribe (notify, or indicate
for PLX spot-check — bleak enables whichever the characteristic supports), read the
battery where the device has a Battery Service, then parse notifications until the link
drops (disconnect callback) or goes silent (data watchdog). Between sessions the source
reports the device lost and waits a jittered, capped delay chosen by what went wrong.

Why not bleak-retry-connector: it needs a `BLEDevice` from a scan (we connect by
address), waits with real `asyncio.sleep` (our waits go through the engine's clock so
tests and `--speed` control them) and gives up after a few attempts, where a station must
keep trying all shift. The part we need — backoff by error class — is `backoff.py`.

No Bluetooth on the machine (no adapter, no BlueZ, no D-Bus) is reported as one plain
sentence in the device state, retried slowly, never a traceback.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

from bleak import BleakClient
from bleak.backends.client import BaseBleakClient
from bleak.exc import (
    BleakBluetoothNotAvailableError,
    BleakDBusError,
    BleakDeviceNotFoundError,
    BleakError,
)

from oximon.clock import Clock
from oximon.drivers import protocols
from oximon.drivers.backoff import Backoff, ErrorClass
from oximon.drivers.frames import BatteryLevel
from oximon.drivers.link import Failure, LinkEnded, Streamer, keep_connected, silent
from oximon.drivers.protocols import ProtocolSpec
from oximon.types import DeviceInfo, SourceEvent

log = logging.getLogger(__name__)
# bleak warns on every connect when `bluetoothctl` is missing (it only wants BlueZ's
# version); with no Bluetooth at all that is noise next to our one clear sentence.
logging.getLogger("bleak.backends.bluezdbus.version").setLevel(logging.ERROR)

WATCHDOG_S = 5.0  # connected but silent this long → reconnect
TICK_S = 0.5
CONNECT_TIMEOUT_S = 20.0

NO_BLUETOOTH = ("Bluetooth is not available on this computer ({why}). Check that a "
                "Bluetooth adapter is plugged in and the bluetooth service (BlueZ) is running.")
_UNAVAILABLE_DBUS = {
    "org.freedesktop.DBus.Error.ServiceUnknown",  # BlueZ not running
    "org.freedesktop.DBus.Error.AccessDenied",
    "org.freedesktop.DBus.Error.NoReply",
    "org.bluez.Error.NotReady",  # adapter powered off
    "org.bluez.Error.NotAvailable",
}


class UnsupportedDevice(Exception):
    """Connected, but the device offers no oximeter service we know."""


def classify(exc: BaseException, address: str = "") -> Failure:
    """What went wrong, in one sentence a site worker can act on, and its retry class."""
    where = f" {address}" if address else ""
    if isinstance(exc, FileNotFoundError):
        return Failure(ErrorClass.UNAVAILABLE, NO_BLUETOOTH.format(why="no system D-Bus"))
    if isinstance(exc, PermissionError):
        return Failure(ErrorClass.UNAVAILABLE, NO_BLUETOOTH.format(why="permission denied"))
    if isinstance(exc, BleakBluetoothNotAvailableError):
        why = exc.reason.name.lower().replace("_", " ")
        return Failure(ErrorClass.UNAVAILABLE, NO_BLUETOOTH.format(why=why))
    if isinstance(exc, BleakDBusError):
        if exc.dbus_error in _UNAVAILABLE_DBUS:
            return Failure(ErrorClass.UNAVAILABLE, NO_BLUETOOTH.format(why=exc.dbus_error))
        return Failure(ErrorClass.BUSY, f"Bluetooth error: {exc.dbus_error}")
    if isinstance(exc, BleakDeviceNotFoundError):
        return Failure(ErrorClass.NOT_FOUND, f"device{where} not found (switched off, out "
                       "of range, or connected to something else?)")
    if isinstance(exc, TimeoutError | asyncio.TimeoutError):
        return Failure(ErrorClass.NOT_FOUND, f"no answer from device{where}")
    if isinstance(exc, UnsupportedDevice):
        return Failure(ErrorClass.UNSUPPORTED, str(exc))
    if isinstance(exc, BleakError) and "adapter" in str(exc).lower():
        return Failure(ErrorClass.UNAVAILABLE, NO_BLUETOOTH.format(why=str(exc).rstrip(".")))
    if isinstance(exc, BleakError | OSError | EOFError):
        return Failure(ErrorClass.BUSY, f"Bluetooth error: {str(exc) or type(exc).__name__}")
    return Failure(ErrorClass.BUSY, f"{type(exc).__name__}: {exc}")


def is_bluetooth_unavailable(exc: BaseException) -> bool:
    return classify(exc).kind is ErrorClass.UNAVAILABLE


class BleSource:
    """A BLE oximeter as a `Source`. `protocol` forces a protocol (else it is found from
    the GATT services); `backend` swaps bleak's platform backend (tests)."""

    def __init__(self, address: str, protocol: str | None = None, *,
                 backend: type[BaseBleakClient] | None = None, rng: random.Random | None = None,
                 watchdog_s: float = WATCHDOG_S, connect_timeout: float = CONNECT_TIMEOUT_S,
                 backoff: Backoff | None = None):
        self.address = address
        self.forced = protocols.get(protocol, "ble") if protocol else None
        self.backend = backend
        self.backoff = backoff or Backoff(rng or random.Random())
        self.watchdog_s = watchdog_s
        self.connect_timeout = connect_timeout
        self.info = DeviceInfo(address=address, transport="ble",
                               protocol=self.forced.name if self.forced else "",
                               name=f"BLE oximeter {address}")
        self.sessions = 0  # successful connections, for tests and logs

    def events(self, clock: Clock) -> AsyncIterator[SourceEvent]:
        return keep_connected(lambda: _Session(self, clock), clock, self.backoff,
                              lambda exc: classify(exc, self.address), self.address)


class _Session:
    """One connection, from connect to drop."""

    def __init__(self, source: BleSource, clock: Clock):
        self.source = source
        self.clock = clock
        self.connected = False
        self.delivered = False
        self.inbox: asyncio.Queue[tuple[str, Any]] = asyncio.Queue()

    def _on_disconnect(self, _client: BleakClient) -> None:
        self.inbox.put_nowait(("disconnected", None))

    async def run(self) -> AsyncIterator[SourceEvent]:
        src = self.source
        client = BleakClient(src.address, disconnected_callback=self._on_disconnect,
                             timeout=src.connect_timeout, backend=src.backend)
        ticker: asyncio.Task[None] | None = None
        try:
            await client.connect()
            spec = choose_protocol(client, src.forced)
            streamer = Streamer(spec, lambda: _name(client))
            await client.start_notify(
                spec.data_char, lambda _c, data: self.inbox.put_nowait(("data", bytes(data))))
            self.connected = True  # streaming is set up: from now on a failure is "lost"
            src.sessions += 1
            await self._battery(client, streamer)
            ticker = asyncio.create_task(self._tick())
            last_data = self.clock.now()
            while True:
                kind, payload = await self.inbox.get()
                now = self.clock.now()
                if kind == "disconnected":
                    raise LinkEnded(Failure(ErrorClass.DROPPED, "Bluetooth link dropped"))
                if kind == "tick":
                    if now - last_data >= src.watchdog_s:
                        raise silent(src.watchdog_s)
                    continue
                if kind == "battery":
                    streamer.assembler.push([BatteryLevel(float(payload))])
                    continue
                last_data = now
                for event in streamer.feed(payload, now):
                    yield event
                self.delivered = streamer.delivered
        finally:
            if ticker is not None:
                ticker.cancel()
            with contextlib.suppress(Exception):
                await asyncio.wait_for(client.disconnect(), 5.0)

    def _on_battery(self, _char: object, data: bytearray) -> None:
        if data:
            self.inbox.put_nowait(("battery", data[0]))

    async def _tick(self) -> None:
        while True:
            await self.clock.sleep(TICK_S)
            self.inbox.put_nowait(("tick", None))

    async def _battery(self, client: BleakClient, streamer: Streamer) -> None:
        """Battery Service 0x180F where offered: read once, then follow notifications."""
        char = client.services.get_characteristic(protocols.BATTERY_LEVEL)
        if char is None:
            return
        try:
            value = await client.read_gatt_char(char)
            if value:
                streamer.assembler.push([BatteryLevel(float(value[0]))])
            if "notify" in char.properties:
                await client.start_notify(char, self._on_battery)
        except BleakError as exc:  # a battery we cannot read is not a reason to drop
            log.info("BLE %s: battery level unavailable (%s)", self.source.address, exc)


@dataclass(frozen=True)
class Found:
    """A device seen by a scan."""

    address: str
    name: str
    rssi: int | None
    protocol: str  # "" when it is not an oximeter we know


async def discover(timeout: float) -> list[Found]:
    """Scan for `timeout` seconds; raises bleak's errors (see `classify`)."""
    from bleak import BleakScanner

    seen = await BleakScanner.discover(timeout=timeout, return_adv=True)
    out = []
    for device, adv in seen.values():
        name = adv.local_name or device.name or ""
        spec = protocols.guess_ble(adv.service_uuids, name)
        out.append(Found(device.address, name, adv.rssi, spec.name if spec else ""))
    return sorted(out, key=lambda f: (f.protocol == "", -(f.rssi or -999), f.address))


def choose_protocol(client: BleakClient, forced: ProtocolSpec | None) -> ProtocolSpec:
    """The protocol from the services the connected device exposes (or the forced one,
    checked: its characteristic must exist)."""
    services = client.services
    service_uuids = [s.uuid for s in services]
    char_uuids = [c.uuid for s in services for c in s.characteristics]
    spec = forced or protocols.guess_ble(service_uuids, _name(client), char_uuids)
    if spec is None or services.get_characteristic(spec.data_char) is None:
        wanted = f"{spec.name} characteristic {spec.data_char}" if spec else \
            "pulse-oximeter service oximon knows"
        raise UnsupportedDevice(f"device {client.address} has no {wanted}")
    return spec


def _name(client: BleakClient) -> str:
    try:
        return client.name or ""
    except (NotImplementedError, BleakError):
        return ""
