"""`oximon analyze FILE.csv [--profile NAME] [--json]`: batch analysis of a recording."""

from __future__ import annotations

import argparse
import json
import sys

from oximon.analysis import AnalysisResult, analyze
from oximon.cli.errors import UsageError
from oximon.cli.wiring import get_profile
from oximon.recording import RecordingError, read_recording


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("analyze", help="analyse a recording (ODI, CT90, events, alarms)",
                       description="Batch analysis of a recording CSV: oxygen desaturation "
                       "index, time below 90/85 %, desaturation events, and the alarms the "
                       "live engine would have raised under the profile.")
    p.add_argument("file", metavar="FILE.csv", help="a recording (time,spo2,pr[,pi,flags])")
    p.add_argument("--profile", metavar="NAME|FILE", help="alarm profile (TOML)")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    profile = get_profile(args.profile)
    try:
        rec = read_recording(args.file)
    except RecordingError as exc:
        raise UsageError(str(exc)) from None
    if len(rec.time) == 0:
        raise UsageError(f"{args.file}: no readings (a header and no rows): nothing to analyse")
    result = analyze(rec.time, rec.spo2, rec.pr, profile,
                     flags=[int(f) for f in rec.flags] if rec.flags else None)
    if args.json:
        sys.stdout.write(json.dumps(result.to_dict(), ensure_ascii=False) + "\n")
    else:
        sys.stdout.write(summary(args.file, profile.name, result))
    return 0


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
        f"  averaging delays alarms by about {r.averaging_delay_s:g} s",
        f"  {len(r.events)} desaturation events, {len(r.alarms)} alarms",
    ]
    for a in r.alarms:
        end = "still active at the end" if a.cleared_s is None else \
            f"cleared {_clock(a.cleared_s)}"
        lines.append(f"    {_clock(a.raised_s)}  {a.priority.label:<6} {a.condition:<13} {end}")
    return "\n".join(lines) + "\n"
