"""The protocols oximon speaks, as one table: how to parse them and how to reach them.

Transports, `scan` and `decode` look things up here instead of branching on names, so a
new device is a row (plus its parser module), not edits across the code.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass

from oximon.drivers import berrymed, cms50, cms50_legacy, plx, plx_spot, viatom
from oximon.drivers.frames import Parser


@dataclass(frozen=True)
class SerialSettings:
    baudrate: int
    bytesize: int
    parity: str  # "N", "O", "E"
    stopbits: int


@dataclass(frozen=True)
class ProtocolSpec:
    name: str
    title: str
    new_parser: Callable[[], Parser]
    transport: str  # "ble" | "serial"
    pleth_rate: float = 0.0  # Hz of the waveform points, 0 when there are none
    service: str = ""  # BLE: the GATT service that identifies it
    data_char: str = ""  # BLE: the characteristic to subscribe to
    indicate: bool = False  # BLE: the characteristic indicates rather than notifies
    name_hints: tuple[str, ...] = ()  # BLE: advertised-name fragments (lower case)
    serial: SerialSettings | None = None


PROTOCOLS: dict[str, ProtocolSpec] = {p.name: p for p in (
    ProtocolSpec("plx", "Bluetooth SIG Pulse Oximeter (continuous)", plx.parser, "ble",
                 service=plx.SERVICE, data_char=plx.CONTINUOUS),
    ProtocolSpec("plx-spot", "Bluetooth SIG Pulse Oximeter (spot-check)", plx_spot.parser,
                 "ble", service=plx.SERVICE, data_char=plx.SPOT_CHECK, indicate=True),
    ProtocolSpec("berrymed", "BerryMed BCI", berrymed.parser, "ble",
                 pleth_rate=berrymed.MODEL.pleth_rate, service=berrymed.SERVICE,
                 data_char=berrymed.NOTIFY, name_hints=berrymed.NAME_HINTS),
    ProtocolSpec("viatom", "Viatom / Wellue PC-60FW", viatom.parser, "ble",
                 pleth_rate=viatom.PLETH_RATE, service=viatom.SERVICE,
                 data_char=viatom.NOTIFY, name_hints=viatom.NAME_HINTS),
    ProtocolSpec("cms50", "Contec CMS50 (V7.0 protocol)", cms50.Cms50Parser, "serial",
                 pleth_rate=cms50.PLETH_RATE,
                 serial=SerialSettings(cms50.BAUD, cms50.BYTESIZE, cms50.PARITY,
                                       cms50.STOPBITS)),
    ProtocolSpec("cms50-legacy", "Contec CMS50 (legacy protocol)", cms50_legacy.parser,
                 "serial", pleth_rate=cms50_legacy.MODEL.pleth_rate,
                 serial=SerialSettings(cms50_legacy.BAUD, cms50_legacy.BYTESIZE,
                                       cms50_legacy.PARITY, cms50_legacy.STOPBITS)),
)}

BATTERY_SERVICE = plx.uuid16(0x180F)
BATTERY_LEVEL = plx.uuid16(0x2A19)


class UnknownProtocol(ValueError):
    pass


def get(name: str, transport: str | None = None) -> ProtocolSpec:
    spec = PROTOCOLS.get(name)
    if spec is None or (transport is not None and spec.transport != transport):
        names = [p.name for p in PROTOCOLS.values() if transport in (None, p.transport)]
        raise UnknownProtocol(f"unknown protocol {name!r}; choose one of {', '.join(names)}")
    return spec


def guess_ble(service_uuids: Iterable[str], name: str | None = None,
              char_uuids: Iterable[str] = ()) -> ProtocolSpec | None:
    """The protocol a BLE device speaks, from its services (advertised or discovered),
    its characteristics where known, and its name (BerryMed does not advertise its
    service). PLX with a continuous characteristic wins over spot-check."""
    services = {u.lower() for u in service_uuids}
    chars = {u.lower() for u in char_uuids}
    lowered = (name or "").lower()
    for spec in PROTOCOLS.values():
        if spec.transport != "ble" or spec.service not in services:
            continue
        if spec.service == plx.SERVICE and chars and spec.data_char not in chars:
            continue
        return spec
    for spec in PROTOCOLS.values():
        if spec.transport == "ble" and any(h in lowered for h in spec.name_hints):
            return spec
    return None
