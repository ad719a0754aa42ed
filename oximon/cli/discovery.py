"""Device discovery for the dashboard's pairing dialog, on the drivers' own scan code.

One scan lists what `oximon scan` lists — BLE oximeters (protocol guessed from what they
advertise) and CP210x USB serial ports (Contec CMS50) — as the dialog's `FoundDevice`
entries, each with the `--source` spec that opens it. Devices already feeding a station are
left out. With no Bluetooth on the machine the scan still lists serial ports (and, in the
demo, simulated oximeters) and says why Bluetooth is missing, in the drivers' one
sentence.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from oximon.drivers import ble, serial_port
from oximon.engine import Engine
from oximon.ui.devices import Discovery, FoundDevice, ScanResult, devices_in_use

BleScan = Callable[[float], Awaitable[list[ble.Found]]]
PortList = Callable[[], list[serial_port.PortInfo]]


def ble_device(found: ble.Found) -> FoundDevice:
    spec = f"ble:{found.address}" + (f":{found.protocol}" if found.protocol else "")
    detail = ", ".join(x for x in (found.protocol, f"{found.rssi} dBm"
                                   if found.rssi is not None else "") if x)
    return FoundDevice(spec, found.name or found.address, "ble", detail)


def serial_device(port: serial_port.PortInfo) -> FoundDevice:
    return FoundDevice(f"serial:{port.device}", f"{port.description or 'USB serial'} "
                       f"({port.device})", "serial",
                       "CP210x USB serial: cms50 or cms50-legacy, detected on connect")


def hardware_discovery(engine: Engine, *, timeout: float = 5.0, scan: BleScan | None = None,
                       list_ports: PortList | None = None,
                       also: Discovery | None = None) -> Discovery:
    """A discovery for `DevicesDialog`: BLE for `timeout` seconds, then serial ports, then
    whatever `also` finds (the demo's simulated oximeters). `scan` and `list_ports` default
    to the drivers' (tests hand in fakes)."""
    scan = scan or ble.discover
    list_ports = list_ports or serial_port.list_oximeter_ports

    async def discover() -> ScanResult:
        in_use = {a.upper() for a in devices_in_use(engine)}
        notes: list[str] = []
        devices: list[FoundDevice] = []
        try:
            found = await scan(timeout)
        except Exception as exc:  # no adapter, no BlueZ, no D-Bus...: one sentence
            notes.append(ble.classify(exc).message)
            found = []
        oximeters = [f for f in found if f.protocol]
        devices += [ble_device(f) for f in oximeters if f.address.upper() not in in_use]
        others = len(found) - len(oximeters)
        if others:
            notes.append(f"{others} other Bluetooth device{'s' * (others != 1)} "
                         "(not oximeters oximon knows) not listed.")
        try:
            devices += [serial_device(p) for p in list_ports() if p.device.upper() not in in_use]
        except OSError as exc:
            notes.append(f"Could not list serial ports ({exc}).")
        if also is not None:
            extra = also()
            extra = await extra if isinstance(extra, Awaitable) else extra
            devices += extra.devices if isinstance(extra, ScanResult) else list(extra)
        return ScanResult(devices, notes)

    return discover

