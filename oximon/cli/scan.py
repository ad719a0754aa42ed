"""`oximon scan [--timeout S]`: find oximeters — BLE devices with the protocol guessed
from their advertised services and names, and CP210x USB serial ports (Contec CMS50).

Each line starts with the `--source` value to monitor that device. With no Bluetooth on
the machine, one sentence says so and the serial ports are still listed. Exit 1 only when
Bluetooth is unavailable and no serial oximeter was found either.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import sys

from oximon.cli.errors import UsageError


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("scan", help="find BLE and USB-serial oximeters",
                       description=__doc__.split("\n\n", 1)[1])
    p.add_argument("--timeout", type=float, default=5.0, metavar="S",
                   help="seconds to listen for Bluetooth devices (default 5)")
    p.add_argument("--all", action="store_true",
                   help="also list Bluetooth devices that are not oximeters we know")
    p.add_argument("--json", action="store_true", help="one JSON object per device")
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    if not (args.timeout > 0 and math.isfinite(args.timeout)):
        raise UsageError(f"argument --timeout: {args.timeout} must be a positive number")
    from oximon.drivers import ble, serial_port  # the composition root may import drivers

    lines: list[str] = []
    records: list[dict[str, object]] = []
    bluetooth_ok = True
    try:
        found = asyncio.run(ble.discover(args.timeout))
    except Exception as exc:  # no adapter, no BlueZ, no D-Bus...: one sentence, no traceback
        bluetooth_ok = False
        failure = ble.classify(exc)
        print(f"oximon scan: {failure.message}", file=sys.stderr, flush=True)
        found = []
    oximeters = [f for f in found if f.protocol]
    others = [f for f in found if not f.protocol]
    if bluetooth_ok:
        lines.append(f"Bluetooth oximeters ({len(oximeters)} found in {args.timeout:g} s):")
        for f in oximeters + (others if args.all else []):
            source = f"ble:{f.address}" + (f":{f.protocol}" if f.protocol else "")
            rssi = f"{f.rssi} dBm" if f.rssi is not None else ""
            lines.append(f"  {source:<34} {f.name or '(no name)':<20} {rssi}".rstrip())
            records.append({"source": source, "transport": "ble", "address": f.address,
                            "name": f.name, "protocol": f.protocol or None, "rssi": f.rssi})
        if others and not args.all:
            lines.append(f"  ({len(others)} other Bluetooth device"
                         f"{'s' * (len(others) != 1)} not shown; --all lists them)")
    ports = serial_port.list_oximeter_ports()
    lines.append(f"Serial oximeters on CP210x USB ports ({len(ports)} found):")
    for p in ports:
        source = f"serial:{p.device}"
        lines.append(f"  {source:<34} {p.description}  (cms50 or cms50-legacy, detected on "
                     "connect)")
        records.append({"source": source, "transport": "serial", "address": p.device,
                        "name": p.description, "protocol": None, "rssi": None})
    if args.json:
        for record in records:
            print(json.dumps(record))
    else:
        print("\n".join(lines))
    return 0 if bluetooth_ok or ports else 1
