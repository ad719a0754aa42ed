"""`oximon analyze PATH... [--summary OUT.csv] [--profile NAME] [--json] [--jobs N]`.

One recording: the readable report (or `--json`, the DESIGN.md object). Several, or a
folder (searched for recordings, sub-folders too): each is analysed on its own core, a
progress bar runs on stderr, and `--summary OUT.csv` gets one row per recording. A file
that cannot be read is named on stderr and skipped; the batch goes on (exit 2 at the end
if any was skipped). Only numpy and the analysis are imported: no Qt, store or SQLAlchemy.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

from oximon.analysis import AnalysisResult, analyze
from oximon.cli import RawDescriptionHelpFormatter
from oximon.cli.errors import UsageError
from oximon.cli.heap import reuse_freed_memory
from oximon.device_files import read_any
from oximon.profile import Profile, ProfileError, load_profile
from oximon.recording import RecordingError

DEFINITIONS = """\
definitions (DESIGN.md; sources in the README):
  ct90, ct85      percent of valid time with readings strictly below 90 / 85 (as device
                  summaries and OSCAR count; pobm counts <= and reads higher)
  events          averaged SpO2 >= events.points (3) below the person's baseline for
                  >= events.min_duration_s (10 s, AASM scoring); nadir = lowest reading
  odi3, odi4      events >= 3 / >= 4 points deep per hour of valid time
  nadir           the lowest valid reading (a device value, never an average)
  mean_spo2       time-weighted mean of the valid readings
  hypoxic_burden  area between baseline and readings over the events, %·min per hour
                  (event-level form of Azarbarzin et al., Eur Heart J 2019)
  note            set when readings are too far apart for the live alarm rules (e.g.
                  one a minute): metrics only, no simulated alarms
formats (detected by content): oximon CSV, ViHealth CSV export, Viatom/Wellue .dat
  (O2Ring, Checkme O2), CMS50 .spo/.spoR (SpO2 Review) and .spo2 (SpO2 Assistant)"""

# A folder is searched for these (Viatom files carry no extension: their name is their
# start time, 14 digits).
SUFFIXES = {".csv", ".dat", ".spo", ".spor", ".spo2"}
SUMMARY_COLUMNS = ["path", "format", "start", "duration_s", "valid_s", "odi3", "odi4",
                   "ct90", "ct85", "nadir", "mean_spo2", "hypoxic_burden", "events",
                   "alarms", "note"]


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("analyze", help="analyse recordings (ODI, CT90, events, alarms); "
                       "folders to a summary",
                       description="Batch analysis of recordings: oxygen desaturation "
                       "index, time below 90/85 %, desaturation events, and the alarms the "
                       "live engine would have raised under the profile. Several files or "
                       "folders: one row per recording in --summary.",
                       epilog=DEFINITIONS, formatter_class=RawDescriptionHelpFormatter)
    p.add_argument("paths", nargs="+", metavar="PATH",
                   help="recording files, or folders to search for them")
    p.add_argument("--profile", metavar="NAME|FILE", help="alarm profile (TOML)")
    p.add_argument("--json", action="store_true",
                   help="print one JSON object per recording (with 'path' when several)")
    p.add_argument("--summary", metavar="OUT.csv",
                   help="write one row per recording to this CSV ('-': stdout)")
    p.add_argument("--progress", action="store_true",
                   help="show the progress bar even when stderr is not a terminal")
    p.add_argument("--jobs", type=int, metavar="N", default=0,
                   help="recordings analysed at once (default: all cores)")
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    reuse_freed_memory()
    try:
        profile = load_profile(args.profile)
    except ProfileError as exc:
        raise UsageError(str(exc)) from None
    files = list(_recordings(args.paths))
    if len(files) == 1 and not args.summary and Path(args.paths[0]).is_file():
        return _one(files[0], profile, args.json)
    return _batch(files, profile, args)


def _one(path: Path, profile: Profile, as_json: bool) -> int:
    try:
        rec = read_any(path)
    except RecordingError as exc:
        raise UsageError(str(exc)) from None
    if len(rec.time) == 0:
        raise UsageError(f"{path}: no readings (a header and no rows): nothing to analyse")
    result = analyze(rec.time, rec.spo2, rec.pr, profile, flags=rec.flag_codes)
    if as_json:
        sys.stdout.write(json.dumps(result.to_dict(), ensure_ascii=False) + "\n")
    else:
        sys.stdout.write(summary(str(path), profile.name, result))
    return 0


def _recordings(paths: list[str]) -> Iterator[Path]:
    """The files named, and the recordings found in the folders named (sorted)."""
    for name in paths:
        p = Path(name)
        if p.is_dir():
            found = [f for f in sorted(p.rglob("*")) if f.is_file() and
                     (f.suffix.lower() in SUFFIXES or (f.name.isdigit() and len(f.name) == 14))]
            if not found:
                print(f"oximon: {p}: no recordings in this folder", file=sys.stderr)
            yield from found
        elif p.exists():
            yield p
        else:
            raise UsageError(f"{p}: no such file or folder")


def analyse_file(path: str, profile: Profile) -> tuple[str, dict[str, Any] | None, str | None]:
    """(path, summary row, None) or (path, None, why it could not be read): runs in a
    worker process, so it returns plain data."""
    try:
        rec = read_any(path)
    except RecordingError as exc:
        return path, None, str(exc)
    r = analyze(rec.time, rec.spo2, rec.pr, profile, flags=rec.flag_codes)
    row: dict[str, Any] = {"path": path, "format": rec.source_format,
                           "start": rec.start_wall.isoformat() if rec.start_wall else "",
                           "duration_s": r.duration_s, "valid_s": r.valid_s, **r.metrics,
                           "events": len(r.events), "alarms": len(r.alarms),
                           "note": r.note or ""}
    return path, row, None


def _batch(files: list[Path], profile: Profile, args: argparse.Namespace) -> int:
    from concurrent.futures import Future, ProcessPoolExecutor, as_completed

    from tqdm import tqdm  # the progress bar: only batch runs need it

    jobs = args.jobs or os.cpu_count() or 1
    rows: dict[str, dict[str, Any]] = {}
    failed: list[str] = []
    bar = tqdm(total=len(files), unit="rec", file=sys.stderr,
               disable=False if args.progress else None,
               desc="analysing")
    names = [str(f) for f in files]

    def take(path: str, row: dict[str, Any] | None, error: str | None) -> None:
        if row is None:
            failed.append(path)
            bar.write(f"oximon: skipped {error}", file=sys.stderr)
        else:
            rows[path] = row
        bar.update()

    if jobs <= 1 or len(names) <= 1:
        for name in names:
            take(*analyse_file(name, profile))
    else:
        with ProcessPoolExecutor(max_workers=min(jobs, len(names))) as pool:
            futures: list[Future[tuple[str, dict[str, Any] | None, str | None]]] = [
                pool.submit(analyse_file, name, profile) for name in names]
            for fut in as_completed(futures):
                take(*fut.result())
    bar.close()
    ordered = [rows[n] for n in names if n in rows]
    if args.summary:
        _write_summary(args.summary, ordered)
    elif args.json:
        for row in ordered:
            sys.stdout.write(json.dumps(row, ensure_ascii=False) + "\n")
    else:
        _write_rows(sys.stdout, ordered)
    print(f"oximon: {len(ordered)} of {len(names)} recordings analysed"
          + (f"; {len(failed)} skipped (named above)" if failed else "")
          + (f"; summary in {args.summary}" if args.summary and args.summary != "-" else ""),
          file=sys.stderr)
    return 2 if failed else 0


def _write_rows(out: IO[str], rows: list[dict[str, Any]]) -> None:
    import csv  # (here: one recording's run writes no CSV)

    w = csv.DictWriter(out, SUMMARY_COLUMNS, lineterminator="\n")
    w.writeheader()
    for row in rows:
        w.writerow({k: "" if row.get(k) is None else row[k] for k in SUMMARY_COLUMNS})


def _write_summary(target: str, rows: list[dict[str, Any]]) -> None:
    if target == "-":
        _write_rows(sys.stdout, rows)
        return
    try:
        with open(target, "w", encoding="utf-8", newline="") as out:
            _write_rows(out, rows)
    except OSError as exc:
        raise UsageError(f"{target}: cannot write the summary ({exc.strerror})") from None


def _fmt(x: float | None, unit: str = "") -> str:
    return "—" if x is None else f"{x:g}{unit}"


def _clock(s: float) -> str:
    s = round(s)
    return f"{s // 3600:d}:{s % 3600 // 60:02d}:{s % 60:02d}"


def summary(path: str, profile: str, r: AnalysisResult) -> str:
    """A readable report for a supervisor."""
    m = r.metrics
    lines = [
        f"{path}  (profile: {profile})",
        f"  recorded {_clock(r.duration_s)}, valid readings {_clock(r.valid_s)}"
        f" ({100 * r.valid_s / r.duration_s:.0f} %)" if r.duration_s else
        f"  no usable rows in {path}",
        f"  lowest SpO2 {_fmt(m['nadir'], ' %')}, mean {_fmt(m['mean_spo2'], ' %')}",
        f"  time below 90 %: {_fmt(m['ct90'], ' %')} of valid time; below 85 %: "
        f"{_fmt(m['ct85'], ' %')}",
        f"  desaturations per hour: {_fmt(m['odi3'])} (>= 3 points), {_fmt(m['odi4'])} "
        f"(>= 4 points); hypoxic burden {_fmt(m['hypoxic_burden'])} %·min/h",
    ]
    if r.note:
        lines.append(f"  note: {r.note}")
    else:
        lines.append(f"  averaging delays alarms by about {r.averaging_delay_s:g} s")
    lines.append(f"  {len(r.events)} desaturation events, {len(r.alarms)} alarms")
    for a in r.alarms:
        end = "still active at the end" if a.cleared_s is None else \
            f"cleared {_clock(a.cleared_s)}"
        lines.append(f"    {_clock(a.raised_s)}  {a.priority.label:<6} {a.condition:<13} {end}")
    return "\n".join(lines) + "\n"
