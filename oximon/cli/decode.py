"""`oximon decode PROTOCOL (HEX... | --file FILE)`: decode captured oximeter bytes.

Prints one JSON object per decoded frame, in order. Frames that carry a reading have
`spo2` and `pr` (null when the device had no valid value), `pi` and `flags`; others
(waveform, battery, status) are objects of their own with a `frame` key. Each HEX
argument, and each line of a hex FILE, is one chunk as it arrived (a BLE notification);
stream protocols reassemble frames across chunks, PLX takes each chunk as one record. A
FILE that is not hex text is read as raw bytes. Skipped bytes are counted on stderr; no
frame at all is exit 2 (wrong protocol, or not a capture).
"""

from __future__ import annotations

import argparse
import codecs
import io
import json
import sys
from collections.abc import Iterable, Iterator
from pathlib import Path

from oximon.cli.errors import UsageError
from oximon.drivers.protocols import PROTOCOLS


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("decode", help="decode captured oximeter bytes to JSON",
                       description=__doc__.split("\n\n", 1)[1],
                       usage="oximon decode PROTOCOL (HEX ... | --file FILE)")
    # Both optional to argparse: run() says what is missing in one sentence (argparse
    # would call HEX required, though --file works without it).
    p.add_argument("protocol", nargs="?", metavar="PROTOCOL", help=", ".join(PROTOCOLS))
    p.add_argument("hex", nargs="*", metavar="HEX", help="bytes in hex, one chunk each")
    p.add_argument("--file", type=Path, metavar="FILE",
                   help="hex text (one chunk per line, # comments) or raw bytes; read as a "
                   "stream, so a capture of any size decodes in little memory")
    p.set_defaults(run=run)


BLOCK = 64 * 1024  # raw bytes are fed in blocks of this size; hex text a line at a time


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


def _is_text(head: bytes) -> bool:
    """Hex text or raw bytes, from the first block: UTF-8 (a character cut at the block's
    end allowed) with no NUL byte is text."""
    if b"\0" in head:
        return False
    try:
        codecs.getincrementaldecoder("utf-8")().decode(head, final=False)
    except UnicodeDecodeError:
        return False
    return True


def read_chunks(path: Path) -> Iterator[bytes]:
    """The chunks of a capture file, one at a time (bounded memory whatever its size)."""
    try:
        fh = io.BufferedReader(open(path, "rb", buffering=0), BLOCK)  # noqa: SIM115 (closed by the with below)
    except OSError as exc:
        raise UsageError(f"argument --file: cannot read {path} ({exc.strerror})") from None
    with fh:
        try:
            text = _is_text(fh.peek(BLOCK)[:BLOCK])
            if not text:
                while block := fh.read(BLOCK):
                    yield block
                return
            for number, raw_line in enumerate(fh, 1):  # a line at a time
                try:
                    line = raw_line.decode("utf-8").split("#", 1)[0]
                except UnicodeDecodeError:
                    raise UsageError(f"{path}:{number}: not hex text (the file starts as "
                                     "text but is not UTF-8 here)") from None
                if line.strip():
                    yield parse_hex(line, f"{path}:{number}")
        except OSError as exc:
            raise UsageError(f"argument --file: cannot read {path} ({exc.strerror})") from None


def run(args: argparse.Namespace) -> int:
    if args.protocol is None:
        raise UsageError(f"argument PROTOCOL: which protocol? one of {', '.join(PROTOCOLS)}, "
                         "then HEX bytes or --file FILE")
    spec = PROTOCOLS.get(args.protocol)
    if spec is None:
        raise UsageError(f"argument PROTOCOL: unknown protocol {args.protocol!r}; choose one "
                         f"of {', '.join(PROTOCOLS)}")
    if args.file is not None and args.hex:
        raise UsageError("argument --file: give HEX arguments or --file, not both")
    if args.file is None and not args.hex:
        raise UsageError("nothing to decode: give HEX arguments or --file FILE")
    if args.file is not None:
        chunks: Iterable[bytes] = read_chunks(args.file)
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
    summary = (f"{frames} frame{'s' * (frames != 1)} from {total} bytes; "
               f"{parser.skipped} byte{'s' * (parser.skipped != 1)} skipped"
               + (f"; {pending} byte{'s' * (pending != 1)} of an incomplete frame at the end"
                  if pending else "")
               + (f"; {dropped} value{'s' * (dropped != 1)} outside what a body shows "
                  "printed as null" if dropped else ""))
    if frames == 0:
        where = f"{args.file}" if args.file is not None else "argument HEX"
        raise UsageError(f"{where}: no {spec.title} frame found ({summary}); is it the "
                         "right protocol, and the whole capture?")
    print(f"oximon decode: {summary}", file=sys.stderr)
    return 0
