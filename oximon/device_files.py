"""Oximeters' own recording files, read into a `Recording`: pure parsers of bytes.

`read_any(path)` detects the format by the file's content (never by its name alone) and
returns the same `Recording` the oximon CSV reader gives, so `analyze` treats them alike.
Layouts (facts as published by the projects that read these files, chiefly OSCAR's
Viatom and CMS50 loaders; no code taken from them):

- **Viatom / Wellue .dat** (O2Ring, Checkme O2, ...; the ring's own file, named by its
  start time, e.g. `20250305223012`): a 40-byte little-endian header — u16 signature 3 or
  5, u16 year, u8 month, day, hour, minute, second, u32 file size, u32 duration (s), then
  the device's own summary (u8 mean SpO2, lowest SpO2, drops >= 3 %, drops >= 4 %, a byte
  OSCAR does not know, u16 seconds below 90 %, u8 events below 90 %, u8 O2 score x 10) —
  then 5-byte records: SpO2, pulse, invalid (0xFF: no reading), motion, vibration. A
  record stands for duration / records seconds (4 s); "2 s" files repeat each record twice.
- **ViHealth CSV export** (the Viatom/Wellue app): header `Time,Oxygen Level,Pulse Rate,
  Motion[,O2 Reminder,PR Reminder]` (desktop: `Time,SpO2(%),Pulse Rate(bpm),Motion,...`),
  local times such as `18:02:48 Aug 03 2026`, `21:34:53 16/07/2026` or
  `10:09:39 PM Mar 5, 2025`, and `--` for no reading.
- **CMS50 stored recordings** (Contec CMS50D+/E/F via SpO2 Review, `.spo`/`.spoR`): u16
  offset of the data; at byte 8 the start as 18 UTF-16LE characters `MM/dd/yy HH:mm:ss`
  (empty on a CMS50D+, which has no clock); then 2-byte records (pulse, SpO2), one a
  second. **SpO2 Assistant `.spo2`** (CMS50I and others): u16 offset; at offset + 200 six
  u32 (year, month, day, hour, minute, second) and a u32 sample count at offset + 224;
  records from offset + 228, each (2 unknown bytes if 4 a record) SpO2, pulse, one a
  second. In both, SpO2 127 and pulse 255 mean no reading.
"""

from __future__ import annotations

import io
import struct
from collections.abc import Callable
from datetime import datetime
from pathlib import Path

import numpy as np

from oximon.recording import (
    Recording,
    RecordingError,
    parse_numbers,
    parse_text,
    read_bytes,
)

VIATOM_HEADER = 40
VIATOM_RECORD = 5
SPO2_HEADER = 228  # .spo2: bytes from the data offset to the first record


def read_any(path: str | Path) -> Recording:
    """The recording in `path`, whatever its (supported) format; RecordingError names the
    file and what is wrong."""
    p = Path(path)
    return parse_bytes(p, read_bytes(p, "a recording"))


def parse_bytes(p: Path, data: bytes) -> Recording:
    """Detect the format by content and read it."""
    for detect, parse in _FORMATS:
        if detect(data):
            return parse(p, data)
    fast = parse_numbers(p, data)  # oximon's own CSV of plain numbers, from the bytes
    if fast is not None:
        return fast
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise RecordingError(f"{p}: not a recording oximon can read (not a text CSV, nor "
                             "a Viatom/Wellue .dat or CMS50 .spo/.spoR/.spo2 file)") from None
    head = text.lstrip()[:200].lower()
    if head.startswith("time,") and ("oxygen level" in head or "spo2(%)" in head):
        return _vihealth_csv(p, text)
    return parse_text(p, text)


def _recording(p: Path, fmt: str, step: float, spo2: np.ndarray, pr: np.ndarray,
               start: datetime | None) -> Recording:
    n = spo2.size
    sp = spo2.astype(float)
    sp[(spo2 == 127) | (spo2 > 100) | (spo2 == 0)] = np.nan
    pulse = pr.astype(float)
    pulse[(pr == 255) | (pr == 0)] = np.nan
    return Recording(str(p), np.arange(n) * step, sp, pulse, np.full(n, np.nan),
                     start_wall=start, flag_codes=np.zeros(n, dtype=np.int64),
                     source_format=fmt)


# -- Viatom / Wellue .dat --------------------------------------------------------------------

def _is_viatom(data: bytes) -> bool:
    if len(data) < VIATOM_HEADER + VIATOM_RECORD:
        return False
    sig, year, month, day, hour, minute, second = struct.unpack_from("<HHBBBBB", data)
    return (sig in (3, 5) and 2015 <= year <= 2099 and 1 <= month <= 12 and 1 <= day <= 31
            and hour < 24 and minute < 60 and second < 60)


def viatom_summary(data: bytes) -> dict[str, int]:
    """The device's own summary in the header (what the ring shows for the night)."""
    return {"duration_s": struct.unpack_from("<I", data, 13)[0], "mean_spo2": data[17],
            "lowest_spo2": data[18], "drops_3": data[19], "drops_4": data[20],
            "below_90_s": struct.unpack_from("<H", data, 22)[0], "events_below_90": data[24]}


def _viatom(p: Path, data: bytes) -> Recording:
    year, month, day, hour, minute, second = struct.unpack_from("<HBBBBB", data, 2)
    try:
        start = datetime(year, month, day, hour, minute, second)
    except ValueError:
        raise RecordingError(f"{p}: Viatom file header has an impossible date") from None
    duration = struct.unpack_from("<I", data, 13)[0]
    count = (len(data) - VIATOM_HEADER) // VIATOM_RECORD
    rec = np.frombuffer(data, dtype=np.uint8, count=count * VIATOM_RECORD,
                        offset=VIATOM_HEADER).reshape(count, VIATOM_RECORD)
    if count >= 2 and count % 2 == 0 and duration and duration / count < 3 \
            and np.array_equal(rec[0::2], rec[1::2]):
        rec = rec[0::2]  # a "2 s" file: every record written twice
    step = duration / rec.shape[0] if duration else 4.0
    step = float(round(step)) if round(step) >= 1 else step
    spo2, pr = rec[:, 0].copy(), rec[:, 1].copy()
    invalid = rec[:, 2] == 0xFF
    spo2[invalid], pr[invalid] = 127, 255
    return _recording(p, "Viatom/Wellue .dat", step, spo2, pr, start)


# -- CMS50: SpO2 Review (.spo/.spoR) and SpO2 Assistant (.spo2) ---------------------------------

def _spo2_layout(data: bytes) -> tuple[int, int, int] | None:
    """(data offset, sample count, bytes a record) of a .spo2 file, or None."""
    if len(data) < 2:
        return None
    pos = struct.unpack_from("<H", data)[0]
    first = pos + SPO2_HEADER
    if pos < 2 or len(data) < first or data[pos] != 1:
        return None
    year, month, day, hour, minute, second, samples = struct.unpack_from("<7I", data, pos + 200)
    if not (year == 0 or (2000 <= year <= 2099 and 1 <= month <= 12 and 1 <= day <= 31)) \
            or hour > 23 or minute > 59 or second > 59 or samples == 0:
        return None
    size = (len(data) - first) // samples
    if size not in (2, 4) or (len(data) - first) != size * samples:
        return None
    return pos, samples, size


def _is_spo2(data: bytes) -> bool:
    return _spo2_layout(data) is not None


def _spo2(p: Path, data: bytes) -> Recording:
    layout = _spo2_layout(data)
    assert layout is not None
    pos, samples, size = layout
    year, month, day, hour, minute, second = struct.unpack_from("<6I", data, pos + 200)
    start = datetime(year, month, day, hour, minute, second) if year else None
    rec = np.frombuffer(data, dtype=np.uint8, offset=pos + SPO2_HEADER).reshape(samples, size)
    return _recording(p, "CMS50 .spo2 (SpO2 Assistant)", 1.0, rec[:, size - 2].copy(),
                      rec[:, size - 1].copy(), start)


def _spor_start(data: bytes) -> tuple[bool, datetime | None]:
    """(looks like a .spo/.spoR header, start time if the device has a clock)."""
    raw = data[8:8 + 36]
    if len(raw) < 36 or any(raw[1::2]):  # UTF-16LE of ASCII: every high byte zero
        return False, None
    text = raw[0::2].split(b"\0", 1)[0].decode("ascii", "replace")
    if not text:
        return True, None  # a CMS50D+: no clock
    try:
        return True, datetime.strptime(text.strip(), "%m/%d/%y %H:%M:%S")
    except ValueError:
        return False, None


def _is_spor(data: bytes) -> bool:
    if len(data) < 46:
        return False
    pos = struct.unpack_from("<H", data)[0]
    return 44 <= pos < len(data) and (len(data) - pos) % 2 == 0 and _spor_start(data)[0]


def _spor(p: Path, data: bytes) -> Recording:
    pos = struct.unpack_from("<H", data)[0]
    rec = np.frombuffer(data, dtype=np.uint8, offset=pos).reshape(-1, 2)
    return _recording(p, "CMS50 .spo/.spoR (SpO2 Review)", 1.0, rec[:, 1].copy(),
                      rec[:, 0].copy(), _spor_start(data)[1])


# -- ViHealth CSV export ---------------------------------------------------------------------

_VIHEALTH_TIMES = ("%H:%M:%S %b %d %Y", "%H:%M:%S %d/%m/%Y", "%I:%M:%S %p %b %d, %Y",
                   "%H:%M:%S %b %d, %Y", "%Y-%m-%d %H:%M:%S")


def _vihealth_time(p: Path, line: int, text: str) -> tuple[str, datetime]:
    for fmt in _VIHEALTH_TIMES:
        try:
            return fmt, datetime.strptime(text.strip(), fmt)
        except ValueError:
            continue
    raise RecordingError(f"{p}, line {line}, column 'Time': {text!r} is not a time this "
                         "reader knows (e.g. '18:02:48 Aug 03 2026')")


def _vihealth_csv(p: Path, text: str) -> Recording:
    import csv  # (here: oximon's own CSV never needs it)

    rows = csv.reader(io.StringIO(text, newline=""))
    header = [h.strip() for h in next(rows)]
    fmt = ""
    stamps: list[datetime] = []
    spo2: list[int] = []
    pr: list[int] = []
    for line, row in enumerate(rows, 2):
        if not row or not "".join(row).strip():
            continue
        if len(row) < 3:
            raise RecordingError(f"{p}, line {line}: expected at least 3 cells "
                                 f"({', '.join(header[:3])}), got {len(row)}")
        try:
            stamp = datetime.strptime(row[0].strip(), fmt) if fmt else None
        except ValueError:
            stamp = None
        if stamp is None:
            fmt, stamp = _vihealth_time(p, line, row[0])
        stamps.append(stamp)
        for out, cell, col, none in ((spo2, row[1], header[1], 127), (pr, row[2], header[2],
                                                                     255)):
            cell = cell.strip()
            if cell in ("--", "", "-"):
                out.append(none)
                continue
            try:
                out.append(int(float(cell)))
            except ValueError:
                raise RecordingError(f"{p}, line {line}, column {col!r}: {cell!r} is not "
                                     "a number") from None
    if not stamps:
        raise RecordingError(f"{p}: a ViHealth CSV with no readings")
    t = np.array([(s - stamps[0]).total_seconds() for s in stamps])
    if bool((np.diff(t) < 0).any()):
        line = int(np.flatnonzero(np.diff(t) < 0)[0]) + 3
        raise RecordingError(f"{p}, line {line}, column 'Time': goes back in time")
    r = _recording(p, "ViHealth CSV", 1.0, np.array(spo2, dtype=np.int64),
                   np.array(pr, dtype=np.int64), stamps[0])
    r.time = t
    return r


_FORMATS: list[tuple[Callable[[bytes], bool], Callable[[Path, bytes], Recording]]] = [
    (_is_viatom, _viatom), (_is_spo2, _spo2), (_is_spor, _spor)]
