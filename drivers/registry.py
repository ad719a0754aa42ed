"""`--source` specs → Source objects: `sim:SCENARIO[:SEED]`, `replay:FILE.csv`,
`ble:ADDRESS[:PROTOCOL]`, `serial:PORT[:PROTOCOL]`."""

from __future__ import annotations

import re
from collections.abc import Callable

from oximon.drivers.replay import ReplaySource
from oximon.drivers.sim import SimulatorSource
from oximon.drivers.sim_model import SCENARIOS
from oximon.ports import Source
from oximon.recording import RecordingError


class SourceSpecError(ValueError):
    """A `--source` value that cannot be used; the message says why and what would work."""


def _sim(rest: str, waveform: bool) -> Source:
    scenario, _, seed_text = rest.partition(":")
    if scenario not in SCENARIOS:
        raise SourceSpecError(
            f"unknown scenario {scenario!r}; choose one of {', '.join(SCENARIOS)}")
    try:
        seed = int(seed_text) if seed_text else 0
    except ValueError:
        raise SourceSpecError(f"seed {seed_text!r} is not a whole number") from None
    if seed < 0:  # numpy's generator would fail later, inside the running engine
        raise SourceSpecError(f"seed {seed} must be 0 or more")
    return SimulatorSource(scenario, seed, pleth=waveform)


def _replay(rest: str, waveform: bool) -> Source:
    if not rest:
        raise SourceSpecError("replay needs a file: replay:FILE.csv")
    try:
        return ReplaySource(rest)
    except RecordingError as exc:
        raise SourceSpecError(str(exc)) from None


_MAC = re.compile(r"^[0-9A-Fa-f]{2}(:[0-9A-Fa-f]{2}){5}$")
_UUID = re.compile(r"^[0-9A-Fa-f]{8}-([0-9A-Fa-f]{4}-){3}[0-9A-Fa-f]{12}$")  # macOS


def _split_protocol(rest: str, transport: str) -> tuple[str, str | None]:
    """`THING[:PROTOCOL]` → (THING, PROTOCOL or None); the suffix counts as a protocol only
    when it is one of this transport's (addresses and ports contain colons too)."""
    from oximon.drivers.protocols import PROTOCOLS

    head, sep, tail = rest.rpartition(":")
    names = [p.name for p in PROTOCOLS.values() if p.transport == transport]
    if sep and tail.lower() in names:
        return head, tail.lower()
    return rest, None


def _ble(rest: str, waveform: bool) -> Source:
    from oximon.drivers.protocols import PROTOCOLS

    if not rest:
        raise SourceSpecError("ble needs an address: ble:AA:BB:CC:DD:EE:FF[:PROTOCOL]")
    address, protocol = _split_protocol(rest, "ble")
    names = ", ".join(p.name for p in PROTOCOLS.values() if p.transport == "ble")
    if not (_MAC.match(address) or _UUID.match(address)):
        head, _, tail = address.rpartition(":")
        if _MAC.match(head):
            raise SourceSpecError(f"unknown BLE protocol {tail!r}; choose one of {names}")
        raise SourceSpecError(f"{address!r} is not a Bluetooth address (like "
                              "AA:BB:CC:DD:EE:FF; 'oximon scan' lists nearby devices)")
    from oximon.drivers.ble import BleSource  # bleak is imported only when BLE is used

    return BleSource(address.upper() if _MAC.match(address) else address, protocol)


def _serial(rest: str, waveform: bool) -> Source:
    from oximon.drivers.protocols import PROTOCOLS

    port, protocol = _split_protocol(rest, "serial")
    if not port:
        raise SourceSpecError("serial needs a port: serial:/dev/ttyUSB0 or serial:COM3")
    head, sep, tail = port.rpartition(":")
    if sep and head and tail and "/" not in tail and "\\" not in tail:
        names = ", ".join(p.name for p in PROTOCOLS.values() if p.transport == "serial")
        raise SourceSpecError(f"unknown serial protocol {tail!r}; choose one of {names}")
    from oximon.drivers.serial_port import SerialSource

    return SerialSource(port, protocol)


# kind -> opener(rest of the spec, whether anyone will draw the waveform)
OPENERS: dict[str, Callable[[str, bool], Source]] = {
    "sim": _sim, "replay": _replay, "ble": _ble, "serial": _serial}


def open_source(spec: str, waveform: bool = True) -> Source:
    """`waveform=False` lets a headless run skip pleth work nobody will draw."""
    kind, sep, rest = spec.partition(":")
    if not sep or kind not in OPENERS:
        kinds = ", ".join(f"{k}:..." for k in OPENERS)
        raise SourceSpecError(f"source {spec!r}: expected one of {kinds}")
    try:
        return OPENERS[kind](rest, waveform)
    except SourceSpecError as exc:
        raise SourceSpecError(f"source {spec!r}: {exc}") from None
