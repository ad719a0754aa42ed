"""`oximon decode PROTOCOL (HEX... | --file FILE)`: decode captured oximeter bytes.

Prints one JSON object per decoded frame, in order. Frames that carry a reading have
`spo2` and `pr` (null when the device had no valid value), `pi` and `flags`; others
(waveform, battery, status) are objects of their own with a `frame` key. Each HEX
argument, and each line of a hex FILE, is one chunk as it arrived (a BLE notification);
stream protocols reassemble frames across chunks, PLX takes each chunk as one record. A
FILE that is not hex text is read as raw bytes. Skipped bytes are counted on stderr.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from oximon.cli.errors import UsageError
from oximon.drivers.protocols import PROTOCOLS


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("decode", help="decode captured oximeter bytes to JSON",
                       description=__doc__.split("\n\n", 1)[1])
    p.add_argument("protocol", metavar="PROTOCOL", help=", ".join(PROTOCOLS))
    p.add_argument("hex", nargs="*", metavar="HEX", help="bytes in hex, one chunk each")
    p.add_argument("--file", type=Path, metavar="FILE",
                   help="hex text (one chunk per line, # comments) or raw bytes")
    p.set_defaults(run=run)


def parse_hex(text: str, where: str) -> bytes:
    cleaned = "".join(text.split()).replace(":", "")
    if cleaned.lower().startswith("0x"):
        cleaned = cleaned[2:]
    try:
        return bytes.fromhex(cleaned)
    except ValueError:
        bad = next((c for c in cleaned if c not in "0123456789abcdefABCDEF"), None)
        why = f"{bad!r} is not a hex digit" if bad else "odd number of hex digits"
        raise UsageError(f"{where}: {text.strip()!r} is not hex ({why})") from None


def read_chunks(path: Path) -> list[bytes]:
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise UsageError(f"argument --file: cannot read {path} ({exc.strerror})") from None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        return [raw]
    if "\0" in text:
        return [raw]
    chunks = []
    for number, line in enumerate(text.splitlines(), 1):
        line = line.split("#", 1)[0]
        if line.strip():
            chunks.append(parse_hex(line, f"{path}:{number}"))
    return chunks


def run(args: argparse.Namespace) -> int:
    spec = PROTOCOLS.get(args.protocol)
    if spec is None:
        raise UsageError(f"argument PROTOCOL: unknown protocol {args.protocol!r}; choose one "
                         f"of {', '.join(PROTOCOLS)}")
    if args.file is not None and args.hex:
        raise UsageError("give HEX arguments or --file, not both")
    if args.file is None and not args.hex:
        raise UsageError("nothing to decode: give HEX arguments or --file FILE")
    if args.file is not None:
        chunks = read_chunks(args.file)
    else:
        chunks = [parse_hex(h, f"argument HEX #{i}") for i, h in enumerate(args.hex, 1)]
    parser = spec.new_parser()
    frames = total = 0
    out = sys.stdout
    for chunk in chunks:
        total += len(chunk)
        decoded = parser.feed(chunk)
        frames += len(decoded)
        if decoded:
            out.write("".join(json.dumps(f.to_dict(), allow_nan=False) + "\n"
                              for f in decoded))
    pending = len(parser.pending)
    dropped = parser.out_of_range
    print(f"oximon decode: {frames} frame{'s' * (frames != 1)} from {total} bytes; "
          f"{parser.skipped} byte{'s' * (parser.skipped != 1)} skipped"
          + (f"; {pending} byte{'s' * (pending != 1)} of an incomplete frame at the end"
             if pending else "")
          + (f"; {dropped} value{'s' * (dropped != 1)} outside what a body shows "
             "printed as null" if dropped else ""), file=sys.stderr)
    return 0
