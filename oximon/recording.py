"""The recording format (CSV): read for replay and analysis, written by the recorder.

Header row; columns `time,spo2,pr` and optionally `pi,flags`. `time` is seconds from the
start (int or float) or ISO 8601. An empty cell or `nan` means no valid reading, and so do
the protocol markers SpO2 127 and PR 255 that raw exports sometimes keep. Errors
name the file, line and column, because a supervisor fixing a file needs to find the cell.

Reading is vectorised, in three tiers. A file of plain numbers (and flag words) is parsed
over its bytes by numpy (`oximon.numeric_csv`: a 24 h, 1 Hz file in ~10 ms). Else it is
split into cells and each column converted at once (no-value words such as "nan",
spaces). Whenever that meets anything it does not accept outright (a cell that is not a
number, a value out of range, a time going back, ISO times, a line with the wrong number
of cells), the file is read again row by row by the exact reader, which either accepts it
or names the file, line and column, as before.
"""

from __future__ import annotations

import io
import math
from datetime import datetime
from itertools import repeat
from pathlib import Path
from typing import IO, TYPE_CHECKING

import numpy as np

from oximon import numeric_csv
from oximon.codes import Flags
from oximon.private_files import open_private

if TYPE_CHECKING:
    from oximon.types import Sample

REQUIRED = ("time", "spo2", "pr")
OPTIONAL = ("pi", "flags")
COLUMNS = REQUIRED + OPTIONAL


class RecordingError(ValueError):
    """A recording file cannot be used; the message names file, line and column."""


class Recording:
    """A whole recording as arrays (NaN = no valid value). `time` is seconds from start.
    (A plain class, not a dataclass: `dataclasses` brings `inspect` and its imports, ~5 ms
    of every `oximon analyze`.)"""

    __slots__ = ("flag_codes", "flags", "path", "pi", "pr", "source_format", "spo2",
                 "start_wall", "time")

    def __init__(self, path: str, time: np.ndarray, spo2: np.ndarray, pr: np.ndarray,
                 pi: np.ndarray, flags: list[Flags] | None = None,
                 start_wall: datetime | None = None, flag_codes: np.ndarray | None = None,
                 source_format: str = "oximon CSV"):
        self.path = path
        self.time = time
        self.spo2 = spo2
        self.pr = pr
        self.pi = pi
        self.flags: list[Flags] = [] if flags is None else flags
        self.start_wall = start_wall  # when the recording used ISO times
        # The flags as ints (`oximon.types.Flags`), one per row, for batch analysis.
        self.flag_codes: np.ndarray = (
            flag_codes if flag_codes is not None
            else np.fromiter(map(int, self.flags), dtype=np.int64, count=len(self.flags))
            if self.flags else np.zeros(len(self.time), dtype=np.int64))
        self.source_format = source_format  # which reader made it (device files: theirs)

    def __repr__(self) -> str:
        return (f"Recording({self.path!r}, {len(self.time)} rows, "
                f"{self.source_format!r})")

    def __len__(self) -> int:
        return len(self.time)

    def samples(self, offset: float = 0.0) -> list[Sample]:
        from oximon.types import Sample  # (here: reading a file for analysis needs none)

        out = []
        for i in range(len(self.time)):
            pi = float(self.pi[i])
            out.append(Sample(t=offset + float(self.time[i]), spo2=float(self.spo2[i]),
                              pr=float(self.pr[i]), pi=None if math.isnan(pi) else pi,
                              flags=self.flags[i] if self.flags else Flags.NONE))
        return out


def _number(text: str, where: str, low: float, high: float,
            marker: float | None = None) -> float:
    """A cell's number; `marker` is the protocol "no value" some exports keep (PR 255,
    SpO2 127): it means no reading, never a value."""
    text = text.strip()
    if text == "" or text.lower() in ("nan", "na", "null", "none", "-"):
        return math.nan
    try:
        value = float(text)
    except ValueError:
        raise RecordingError(f"{where}: {text!r} is not a number") from None
    if math.isnan(value) or value == marker:
        return math.nan
    if not (low <= value <= high):
        raise RecordingError(f"{where}: {value:g} is outside {low:g}..{high:g}")
    return value


def read_bytes(p: Path, what: str = "a CSV file") -> bytes:
    """The file's bytes; RecordingError says why not (missing, a folder, unreadable)."""
    try:
        return p.read_bytes()
    except FileNotFoundError:
        raise RecordingError(f"{p}: no such file") from None
    except IsADirectoryError:
        raise RecordingError(f"{p}: is a folder, not {what}") from None
    except OSError as exc:
        raise RecordingError(f"{p}: cannot read ({exc.strerror})") from None


def read_recording(path: str | Path) -> Recording:
    p = Path(path)
    try:
        text = read_bytes(p).decode("utf-8-sig")
    except UnicodeDecodeError:
        raise RecordingError(f"{p}: not a text (UTF-8) CSV file") from None
    return parse_text(p, text)


def parse_text(p: Path, text: str) -> Recording:
    """A recording from the text of a file (named `p` in messages)."""
    fast = _parse_fast(p, text)
    if fast is not None:
        return fast
    import csv  # (here: files of plain numbers never need it)

    with io.StringIO(text, newline="") as handle:
        try:
            return _parse(p, handle)
        except UnicodeDecodeError:
            raise RecordingError(f"{p}: not a text (UTF-8) CSV file") from None
        except csv.Error as exc:
            raise RecordingError(f"{p}: not a valid CSV file ({exc})") from None


_NO_VALUE = ("", "nan", "na", "null", "none", "-")


def _floats(cells: list[str]) -> np.ndarray | None:
    """A column of cells as floats (NaN for the "no value" words), or None if some cell is
    not a number (the exact reader then names it). Python's float() over the column is
    several times faster than numpy's own string conversion."""
    n = len(cells)
    try:
        return np.fromiter(map(float, cells), dtype=np.float64, count=n)
    except ValueError:
        pass
    try:  # empty cells (no reading) are the usual reason
        return np.fromiter(map(float, [c or "nan" for c in cells]), dtype=np.float64, count=n)
    except ValueError:
        pass
    a = np.char.lower(np.char.strip(np.array(cells, dtype=str)))
    a = np.where(np.isin(a, _NO_VALUE), "nan", a)  # (widens the dtype to fit "nan")
    try:
        return a.astype(np.float64)
    except ValueError:
        return None


def _in_range(v: np.ndarray, low: float, high: float, marker: float | None) -> np.ndarray | None:
    """The column with its "no value" marker as NaN; None if a value is out of range."""
    if marker is not None:
        v[v == marker] = np.nan
    ok = np.isnan(v) | ((v >= low) & (v <= high))
    return v if bool(ok.all()) else None


def _header(text: str) -> list[str] | None:
    """The column names, if the header is one the fast readers take as it is."""
    cut = text.find("\n")
    first = (text if cut < 0 else text[:cut]).rstrip("\r")
    names = [h.strip().lower() for h in first.lstrip("\ufeff").split(",")]
    if sorted(names) != sorted(set(names)) or not set(REQUIRED) <= set(names) \
            or not set(names) <= set(COLUMNS) or '"' in text:
        return None  # header problems and quoted cells: the exact reader
    return names


def parse_numbers(p: Path, raw: bytes) -> Recording | None:
    """The fastest reader, straight from a file's bytes (no text copy of the file: for a
    24 h recording, the decoding and its memory cost more than the parse); None when the
    file is not of that plain form, or not ASCII (then the readers of the text look)."""
    cut = raw.find(b"\n")
    try:
        # (plain utf-8: `_header` drops a byte-order mark; the utf-8-sig codec is a module)
        names = _header(raw[:len(raw) if cut < 0 else cut].decode("utf-8"))
    except UnicodeDecodeError:
        return None
    if names is None or b'"' in raw:
        return None
    return _parse_numbers(p, raw, names)


def _parse_numbers(p: Path, data: str | bytes, names: list[str]) -> Recording | None:
    """The fastest reader: every cell a plain number, empty, or (the flags column) words,
    parsed over the bytes (`oximon.numeric_csv`); None for anything else."""
    raw = data.encode("utf-8") if isinstance(data, str) else data
    if b"\r" in raw:
        raw = raw.replace(b"\r\n", b"\n")
    cut = raw.find(b"\n")
    if cut < 0:
        return None
    k = len(names)
    fj = names.index("flags") if "flags" in names else -1
    cells = numeric_csv.parse(raw, k, fj, cut + 1)
    if cells is None or cells.odd.size:
        return None  # a cell that is not a plain number: the next reader looks
    col = {name: cells.columns[j] for j, name in enumerate(names)}
    n = cells.columns.shape[1]
    t = col["time"]
    if not bool(np.isfinite(t).all()) or bool((t[1:] < t[:-1]).any()):
        return None
    spo2 = _in_range(col["spo2"], 0.0, 100.0, 127.0)
    pr = _in_range(col["pr"], 0.0, 400.0, 255.0)
    if "pi" in col:
        pi = _in_range(col["pi"], 0.0, 100.0, None)
    else:  # all NaN: the flags column's numbers (never parsed, NaN) if any, not a new array
        pi = cells.columns[fj] if fj >= 0 else np.full(n, np.nan)
    if spo2 is None or pr is None or pi is None:
        return None
    flags = [Flags.NONE] * n
    codes = np.zeros(n, dtype=np.int64)
    if fj >= 0:
        starts, ends = cells.bounds(fj)
        at = np.flatnonzero(starts < ends)  # rows with words
        if at.size:
            a, b = starts[at].tolist(), ends[at].tolist()
            words = [raw[cut + 1 + i:cut + 1 + j].decode() for i, j in zip(a, b, strict=True)]
            try:
                parsed = {w: Flags.parse(w) for w in set(words)}
            except ValueError:
                return None
            for r, w in zip(at.tolist(), words, strict=True):
                flags[r] = parsed[w]
            codes[at] = [int(parsed[w]) for w in words]
    return Recording(str(p), t, spo2, pr, pi, flags, None, codes)


def _parse_fast(p: Path, text: str) -> Recording | None:
    """The whole file at once, or None when the exact reader must look (see the module)."""
    names = _header(text)
    if names is None:
        return None
    fastest = _parse_numbers(p, text, names)
    if fastest is not None:
        return fastest
    body = text.splitlines()[1:]
    if "" in body:  # (lines of only commas or spaces fail below: the exact reader skips them)
        body = [line for line in body if line]
    k = len(names)
    if list(map(str.count, body, repeat(",", len(body)))).count(k - 1) != len(body):
        return None
    flat = ",".join(body).split(",") if body else []
    col = {name: flat[i::k] for i, name in enumerate(names)}
    t = _floats(col["time"])
    if t is None or not bool(np.isfinite(t).all()) or bool((np.diff(t) < 0).any()):
        return None
    spo2, pr = _floats(col["spo2"]), _floats(col["pr"])
    if spo2 is None or pr is None:
        return None
    spo2 = _in_range(spo2, 0.0, 100.0, 127.0)
    pr = _in_range(pr, 0.0, 400.0, 255.0)
    n = t.size
    pi = _floats(col["pi"]) if "pi" in col else np.full(n, np.nan)
    if spo2 is None or pr is None or pi is None:
        return None
    pi = _in_range(pi, 0.0, 100.0, None)
    if pi is None:
        return None
    words = col.get("flags")
    if words is None:
        flags = [Flags.NONE] * n
        codes = np.zeros(n, dtype=np.int64)
    else:
        try:
            parsed = {w: Flags.parse(w) for w in set(words)}
        except ValueError:
            return None
        flags = list(map(parsed.__getitem__, words))
        code = {w: int(f) for w, f in parsed.items()}
        codes = np.fromiter(map(code.__getitem__, words), dtype=np.int64, count=n)
    return Recording(str(p), t, spo2, pr, pi, flags, None, codes)


def _parse(p: Path, handle: IO[str]) -> Recording:
    import csv

    reader = csv.reader(handle)
    header = next(reader, None)
    if header is None:
        raise RecordingError(f"{p}: empty file (expected a header row {','.join(REQUIRED)})")
    names = [h.strip().lower() for h in header]
    for col in REQUIRED:
        if col not in names:
            raise RecordingError(f"{p}, line 1: missing column {col!r} (header is {header!r})")
    for number, col in enumerate(names, 1):
        if col not in COLUMNS:
            raise RecordingError(f"{p}, line 1: unknown column {col!r} (use {', '.join(COLUMNS)})")
        if names.index(col) != number - 1:  # which copy would win is a guess: refuse
            raise RecordingError(f"{p}, line 1: column {col!r} appears twice "
                                 f"(cells {names.index(col) + 1} and {number})")
    idx = {c: names.index(c) for c in names}
    times: list[float] = []
    spo2: list[float] = []
    pr: list[float] = []
    pi: list[float] = []
    flags: list[Flags] = []
    start_wall: datetime | None = None
    for row in reader:
        line = reader.line_num
        if not row or all(not c.strip() for c in row):
            continue
        if len(row) != len(names):
            raise RecordingError(f"{p}, line {line}: expected {len(names)} cells, got {len(row)}")

        def cell(col: str, row: list[str] = row) -> str:
            return row[idx[col]] if col in idx else ""

        where = f"{p}, line {line}, column"
        raw_t = cell("time").strip()
        try:
            t = float(raw_t)
            if not math.isfinite(t):
                raise RecordingError(f"{where} 'time': {raw_t!r} is not a finite time")
        except ValueError:
            try:
                stamp = datetime.fromisoformat(raw_t)
            except ValueError:
                raise RecordingError(
                    f"{where} 'time': {raw_t!r} is neither seconds nor an ISO 8601 time") from None
            if start_wall is None:
                if times:
                    raise RecordingError(
                        f"{where} 'time': mixes seconds and ISO 8601 times") from None
                start_wall = stamp
            try:
                t = (stamp - start_wall).total_seconds()
            except TypeError:
                raise RecordingError(
                    f"{where} 'time': mixes times with and without a time zone") from None
        else:
            if start_wall is not None:
                raise RecordingError(f"{where} 'time': mixes seconds and ISO 8601 times")
        if times and t < times[-1]:
            raise RecordingError(f"{where} 'time': {raw_t} goes back in time")
        times.append(t)
        spo2.append(_number(cell("spo2"), f"{where} 'spo2'", 0.0, 100.0, marker=127.0))
        pr.append(_number(cell("pr"), f"{where} 'pr'", 0.0, 400.0, marker=255.0))
        pi.append(_number(cell("pi"), f"{where} 'pi'", 0.0, 100.0))
        try:
            flags.append(Flags.parse(cell("flags")))
        except ValueError as exc:
            raise RecordingError(f"{where} 'flags': {exc}") from None
    return Recording(str(p), np.asarray(times, dtype=float), np.asarray(spo2, dtype=float),
                     np.asarray(pr, dtype=float), np.asarray(pi, dtype=float), flags, start_wall)


def _fmt(value: float | None) -> str:
    if value is None or math.isnan(value):
        return ""
    return f"{value:g}"


class RecordingWriter:
    """Writes samples in the recording format, at most one row per `interval` seconds.

    The file is created private (0600): a recording is health data. Each row is flushed,
    so a crash loses at most the row being written.
    """

    def __init__(self, path: str | Path, interval: float = 1.0, t0: float = 0.0):
        self.path = Path(path)
        import csv

        self._file = open_private(self.path)
        self._csv = csv.writer(self._file)
        self._csv.writerow(COLUMNS)
        self._interval = interval
        self._t0 = t0
        self._next_t = -math.inf
        self.rows = 0

    def write(self, sample: Sample) -> None:
        if sample.t < self._next_t:
            return
        self._next_t = sample.t + self._interval - 1e-9
        self._csv.writerow([f"{sample.t - self._t0:.3f}".rstrip("0").rstrip("."),
                            _fmt(sample.spo2), _fmt(sample.pr), _fmt(sample.pi),
                            "|".join(sample.flags.names())])
        self._file.flush()
        self.rows += 1

    def close(self) -> None:
        self._file.close()

    def __enter__(self) -> RecordingWriter:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
