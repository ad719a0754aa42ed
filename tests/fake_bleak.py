"""A fake bleak backend: `BleakClient(address, backend=FakeBackend)` talks to a scripted
`FakePeripheral` instead of BlueZ, so the real BleakClient code path (callback wrapping,
characteristic resolution, disconnect callback) runs in tests without Bluetooth.

A peripheral has GATT services, values to read, and a list of notifications it replays
on its data characteristic, paced by the test's clock. It can drop the link after N
notifications, go silent, refuse connections, or raise any error on connect.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

from bleak.assigned_numbers import CharacteristicPropertyName
from bleak.backends.characteristic import BleakGATTCharacteristic
from bleak.backends.client import BaseBleakClient, NotifyCallback
from bleak.backends.service import BleakGATTService, BleakGATTServiceCollection
from bleak.exc import BleakDeviceNotFoundError, BleakError

from oximon.clock import Clock


@dataclass
class FakeChar:
    uuid: str
    properties: list[CharacteristicPropertyName]
    value: bytes = b""


@dataclass
class FakePeripheral:
    address: str
    name: str
    services: dict[str, list[FakeChar]]
    data_char: str
    notifications: list[bytes]
    clock: Clock
    interval: float = 0.04
    drop_after: list[int] = field(default_factory=list)  # per connection: drop after N
    silent_after: list[int] = field(default_factory=list)  # per connection: go quiet
    connect_errors: list[BaseException] = field(default_factory=list)  # raised in turn
    loop: bool = True  # replay again from the start when the list ends
    # What happened, for assertions:
    connections: int = 0
    subscribed: list[tuple[str, str]] = field(default_factory=list)
    written: list[tuple[str, bytes]] = field(default_factory=list)
    sent: int = 0


class FakeBackend(BaseBleakClient):
    devices: ClassVar[dict[str, FakePeripheral]] = {}

    def __init__(self, address_or_ble_device: Any, *, disconnected_callback: Any = None,
                 timeout: float = 10.0, **kwargs: Any):
        super().__init__(address_or_ble_device, disconnected_callback=disconnected_callback,
                         timeout=timeout)
        self.peripheral = self.devices.get(self.address)
        self._connected = False
        self._tasks: list[asyncio.Task[None]] = []

    # -- connection ------------------------------------------------------------------
    @property
    def name(self) -> str:
        return self.peripheral.name if self.peripheral else self.address

    @property
    def mtu_size(self) -> int:
        return 23

    @property
    def is_connected(self) -> bool:
        return self._connected

    async def connect(self, pair: bool, **kwargs: Any) -> None:
        p = self.peripheral
        if p is None:
            raise BleakDeviceNotFoundError(self.address, f"Device {self.address} not found")
        if p.connect_errors:
            raise p.connect_errors.pop(0)
        self._connected = True
        p.connections += 1
        self.services = _collection(p.services)

    async def disconnect(self) -> None:
        self._connected = False
        for task in self._tasks:
            task.cancel()

    async def pair(self, *args: Any, **kwargs: Any) -> None:
        return None

    async def unpair(self) -> None:
        return None

    def drop_link(self) -> None:
        """The device went away: no more data, and the stack tells the client."""
        if self._connected:
            self._connected = False
            if self._disconnected_callback is not None:
                self._disconnected_callback()

    # -- GATT --------------------------------------------------------------------------
    async def read_gatt_char(self, characteristic: BleakGATTCharacteristic, **kwargs: Any
                             ) -> bytearray:
        return bytearray(characteristic.obj.value)

    async def read_gatt_descriptor(self, descriptor: Any, **kwargs: Any) -> bytearray:
        return bytearray()

    async def write_gatt_char(self, characteristic: BleakGATTCharacteristic, data: Any,
                              response: bool) -> None:
        assert self.peripheral is not None
        self.peripheral.written.append((characteristic.uuid, bytes(data)))

    async def write_gatt_descriptor(self, descriptor: Any, data: Any) -> None:
        return None

    async def start_notify(self, characteristic: BleakGATTCharacteristic,
                           callback: NotifyCallback, **kwargs: Any) -> None:
        p = self.peripheral
        assert p is not None
        props = characteristic.properties
        if "notify" not in props and "indicate" not in props:
            raise BleakError(f"{characteristic.uuid} cannot notify or indicate")
        # Like BlueZ: notify when the characteristic can, else indicate.
        p.subscribed.append((characteristic.uuid, "notify" if "notify" in props else "indicate"))
        if characteristic.uuid == p.data_char:
            self._tasks.append(asyncio.create_task(self._replay(callback)))

    async def stop_notify(self, characteristic: BleakGATTCharacteristic) -> None:
        return None

    def _dropped(self) -> bool:
        """Read afresh after an await (a plain `not self._connected` there would look
        unreachable to mypy, which keeps the loop condition's narrowing)."""
        return not self._connected

    async def _replay(self, callback: Callable[[bytearray], None]) -> None:
        p = self.peripheral
        assert p is not None
        n = p.connections - 1
        drop = p.drop_after[n] if n < len(p.drop_after) else None
        silent = p.silent_after[n] if n < len(p.silent_after) else None
        sent_here, i = 0, 0
        while self._connected:
            await p.clock.sleep(p.interval)
            if self._dropped():  # while asleep
                return
            if drop is not None and sent_here >= drop:
                self.drop_link()
                return
            if silent is not None and sent_here >= silent:
                continue  # still connected, says nothing
            if i >= len(p.notifications):
                if not p.loop:
                    continue
                i = 0
            callback(bytearray(p.notifications[i]))
            i += 1
            sent_here += 1
            p.sent += 1


def _collection(services: dict[str, list[FakeChar]]) -> BleakGATTServiceCollection:
    coll = BleakGATTServiceCollection()
    handle = 1
    for uuid, chars in services.items():
        svc = BleakGATTService(None, handle, uuid)
        coll.add_service(svc)
        handle += 1
        for c in chars:
            coll.add_characteristic(BleakGATTCharacteristic(
                c, handle, c.uuid, list(c.properties), lambda: 20, svc))
            handle += 2
    return coll


def load_notifications(name: str) -> list[bytes]:
    path = Path(__file__).parent / "data" / name
    return [bytes.fromhex(line) for line in path.read_text().splitlines()
            if line.strip() and not line.startswith("#")]


@contextlib.contextmanager
def peripherals(*items: FakePeripheral):
    FakeBackend.devices = {p.address: p for p in items}
    try:
        yield
    finally:
        FakeBackend.devices = {}
