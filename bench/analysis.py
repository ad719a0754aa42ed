"""Benchmark: batch analysis of 24 h at 1 Hz, side by side with pobm in the same run; the
end-to-end command against its floor; a real O2Ring night against the ring's own summary.

Run: /work/main/.venv/bin/python bench/analysis.py   (prints figures; not a test)

pobm (the Oximetry Toolbox, Levy et al. 2021) needs numpy < 2, so it runs in its own venv
as a subprocess, on the very same SpO2 array, timed inside that process like oximon here:
    python3 -m venv bench/.venv-pobm && bench/.venv-pobm/bin/pip install pobm "numpy<2"
(pobm's "general" module also needs a SciPy older than any built for Python 3.11; its
desaturation and hypoxic-burden modules, used here, do not.) pobm has no time axis: it
sees samples, so the gridded and the jittered record are the same input to it.
Where the definitions agree the values are compared: pobm counts CT as readings <= the
threshold, so its CT at 89 on whole-percent readings is oximon's CT90 (< 90); its CT at 90
is shown too (the figure that disagrees with device summaries). Both tools are timed
alike: WARMUP calls, then the median of RUNS (the first call in brackets). Figures vary with
the load on the machine and with the host (10-15 % between quiet hours here): read the
ratios. To compare two checkouts of oximon itself, use scripts/analysis_compare.py speed.
"""

from __future__ import annotations

import compileall
import json
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402 (after the path set-up)

from oximon.analysis import analyze  # noqa: E402 (after the path set-up)
from oximon.pipeline import StationPipeline  # noqa: E402 (after the path set-up)
from oximon.profile import load_profile  # noqa: E402 (after the path set-up)
from oximon.types import Flags, Sample  # noqa: E402 (after the path set-up)
from tests.synthetic import bench_axes, generate, write_csv  # noqa: E402 (after the path set-up)

POBM_PY = ROOT / "bench" / ".venv-pobm" / "bin" / "python"
REAL = ROOT.parent.parent / "shared" / "real"
if not REAL.exists():
    REAL = Path("/work/shared/real")

# Runs inside pobm's venv: range check, 9-sample median, desaturations (ODI3), hypoxic
# burden (CT), timed as one pipeline, as oximon is (WARMUP calls, then the median of RUNS).
POBM_CODE = r"""
import json, sys, time, warnings
import numpy as np
warnings.filterwarnings("ignore")
from pobm.prep import set_range, median_spo2
from pobm.obm.desat import DesaturationsMeasures
from pobm.obm.burden import HypoxicBurdenMeasures
spo2 = np.load(sys.argv[1])
def run():
    x = median_spo2(set_range(spo2.copy()))
    d = DesaturationsMeasures(ODI_Threshold=3, desat_min_length=10).compute(x)
    h = HypoxicBurdenMeasures(d.begin, d.end, CT_Threshold=90).compute(x)
    return d, h
WARMUP, RUNS = (int(a) for a in sys.argv[2:4])
t0 = time.perf_counter(); run(); first = time.perf_counter() - t0
for _ in range(WARMUP - 1):
    run()
times = []
for _ in range(RUNS):
    t0 = time.perf_counter(); d, h = run(); times.append(time.perf_counter() - t0)
raw = set_range(spo2.copy())
ct89 = HypoxicBurdenMeasures(d.begin, d.end, CT_Threshold=89).compute(raw).CT
ct90 = HypoxicBurdenMeasures(d.begin, d.end, CT_Threshold=90).compute(raw).CT
print(json.dumps({"ms": sorted(times)[RUNS // 2] * 1e3, "first_ms": first * 1e3,
                  "odi3": float(d.ODI),
                  "ct_le_89_raw": float(ct89), "ct_le_90_raw": float(ct90),
                  "nadir_raw": float(np.nanmin(raw)), "mean_raw": float(np.nanmean(raw))}))
"""


# Both tools are timed alike: WARMUP calls first (the first calls in a process pay for
# fresh memory: page faults, malloc growing its heap; they settle within ~10 calls), then
# the median of RUNS calls. The first call is reported too.
WARMUP, RUNS = 10, 31


def _median_ms(fn) -> tuple[float, float]:
    """(median ms of RUNS calls after WARMUP, ms of the very first call)."""
    t0 = time.perf_counter()
    fn()
    first = time.perf_counter() - t0
    for _ in range(WARMUP - 1):
        fn()
    times = []
    for _ in range(RUNS):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times) * 1e3, first * 1e3


def _pobm(spo2: np.ndarray) -> dict[str, float] | None:
    if not POBM_PY.exists():
        print(f"pobm: not installed ({POBM_PY} missing; see this file's docstring)")
        return None
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "spo2.npy"
        np.save(path, spo2)
        out = subprocess.run([str(POBM_PY), "-c", POBM_CODE, str(path), str(WARMUP),
                              str(RUNS)], capture_output=True, text=True, check=False)
    if out.returncode != 0:
        print(f"pobm failed: {out.stderr.strip()[-300:]}")
        return None
    result: dict[str, float] = json.loads(out.stdout)
    return result


def side_by_side() -> None:
    profile = load_profile(None)
    rec = generate(24, 86400.0, slow_falls=12, dips=200, rapid=6, gaps=60, spikes=300)
    print(f"24 h at 1 Hz ({rec.time.size} rows), each tool timed alike: median of {RUNS} "
          f"calls after {WARMUP} (first call in brackets), same run:")
    ms, first = {}, {}
    # (the irregular axes have no pobm figure of their own: pobm sees the same samples)
    for name, t in bench_axes(rec.time).items():
        ms[name], first[name] = _median_ms(lambda t=t: analyze(t, rec.spo2, rec.pr, profile,
                                                               flags=rec.flags))
    res = analyze(rec.time, rec.spo2, rec.pr, profile, flags=rec.flags)
    pobm = _pobm(rec.spo2)
    for name, m in ms.items():
        line = (f"  oximon analyze(), {name:<21}: {m:6.2f} ms [{first[name]:5.1f}] "
                f"({m / ms['gridded']:.2f}x gridded)")
        if pobm:
            line += (f"   pobm {pobm['ms']:6.1f} ms [{pobm['first_ms']:5.1f}]   "
                     f"pobm / oximon = {pobm['ms'] / m:5.1f}x")
        print(line)
    mt = res.metrics
    print(f"  oximon: ct90 {mt['ct90']} %, nadir {mt['nadir']}, mean {mt['mean_spo2']}, "
          f"odi3 {mt['odi3']}/h, {len(res.events)} events, {len(res.alarms)} alarms")
    if pobm:
        print(f"  pobm:   CT(<= 89 = oximon's < 90, raw readings) {pobm['ct_le_89_raw']:.3f} %, "
              f"CT(<= 90) {pobm['ct_le_90_raw']:.3f} %, min {pobm['nadir_raw']:g}, "
              f"mean {pobm['mean_raw']:.3f}, ODI3 {pobm['odi3']:.3f}/h (its own desaturation "
              "rule: not the same definition)")
        print("  (oximon leaves out rejected motion artifacts and invalid rows; pobm counts "
              "every in-range sample: small differences in CT and mean come from there)")


def end_to_end() -> None:
    """The command as a user runs it, against python start + numpy import + reading the
    file, each as a whole process (median of 7, A/B interleaved). The package is byte-
    compiled first, as an installed one is (a shell with PYTHONDONTWRITEBYTECODE=1 would
    otherwise compile every module from source on every run)."""
    compileall.compile_dir(ROOT / "oximon", quiet=1)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "day.csv"
        write_csv(path, generate(24, 86400.0, dips=200, gaps=60, spikes=300))
        floor = [sys.executable, "-c", f"import numpy; open({str(path)!r}).read()"]
        cmd = [sys.executable, "-m", "oximon", "analyze", str(path), "--json"]
        helpcmd = [sys.executable, "-m", "oximon", "--help"]
        runs: dict[str, list[float]] = {"floor": [], "analyze": [], "help": []}
        for _ in range(8):
            for name, argv in (("floor", floor), ("analyze", cmd), ("help", helpcmd)):
                t0 = time.perf_counter()
                subprocess.run(argv, stdout=subprocess.DEVNULL, check=True, cwd=ROOT)
                runs[name].append(time.perf_counter() - t0)
        med = {k: statistics.median(v[1:]) * 1e3 for k, v in runs.items()}
    print(f"end to end, 24 h at 1 Hz CSV: `oximon analyze FILE --json` {med['analyze']:.0f} ms"
          f" vs floor (python + import numpy + read the file) {med['floor']:.0f} ms: "
          f"{med['analyze'] / med['floor']:.2f}x (goal <= 1.5x); `oximon --help` "
          f"{med['help']:.0f} ms (goal <= 200 ms)")


def real_o2ring() -> None:
    """A real night against the ring's own summary (read from the README next to it)."""
    csv_path, readme = REAL / "o2ring-night-1.csv", REAL / "README.md"
    if not csv_path.exists() or not readme.exists():
        print(f"real O2Ring night: {csv_path} not present, skipped")
        return
    from oximon.device_files import read_any

    text = readme.read_text(encoding="utf-8")
    summ = re.search(r"mean SpO2 (\d+) %, lowest (\d+) %, (\d+) drops of >= 3 %, (\d+) drops "
                     r"of >= 4 %, \**(\d+) s below 90 %", text)
    hours = re.search(r"o2ring-night-1\.csv`[^|]*\|[^|]*\|[^|]*\|\s*([\d.]+) h", text)
    rec = read_any(csv_path)
    r = analyze(rec.time, rec.spo2, rec.pr)
    m = r.metrics
    below = (m["ct90"] or 0.0) * r.valid_s / 100
    hv = r.valid_s / 3600
    print(f"real O2Ring night ({csv_path.name}, {rec.time.size} readings):")
    print(f"  {'':<22}{'oximon':>10}  ring")
    if summ is None:
        print("  (the ring's summary line was not found in the README)")
        return
    mean, low, d3, d4, s90 = (int(g) for g in summ.groups())
    rows = [("length (h)", f"{hv:.2f}", hours.group(1) if hours else "?"),
            ("time below 90 % (s)", f"{below:.0f}", str(s90)),
            ("CT90 (%)", f"{m['ct90']}", f"{100 * s90 / (float(hours.group(1)) * 3600):.2f}"
             if hours else "?"),
            ("lowest SpO2", f"{m['nadir']:g}", str(low)),
            ("mean SpO2", f"{m['mean_spo2']:.1f}", str(mean)),
            ("drops >= 3 points", f"{round((m['odi3'] or 0) * hv)}", f"{d3} (vendor rule)"),
            ("drops >= 4 points", f"{round((m['odi4'] or 0) * hv)}", f"{d4} (vendor rule)")]
    for name, ours, ring in rows:
        print(f"  {name:<22}{ours:>10}  {ring}")


def streaming() -> None:
    profile = load_profile(None)
    rec = generate(24, 20000.0)
    n = rec.time.size
    samples = [Sample(float(rec.time[i]), float(rec.spo2[i]), float(rec.pr[i]),
                      flags=Flags(int(rec.flags[i]))) for i in range(n)]
    costs = []
    for _ in range(5):
        p = StationPipeline("bench", profile)
        t0 = time.perf_counter()
        for s in samples:
            p.push(s)
        costs.append((time.perf_counter() - t0) / n * 1e6)
    print(f"streaming: {statistics.median(costs):.2f} µs per sample per station "
          f"(median of 5 × {n} samples); goal <= 20 µs")


def main() -> None:
    side_by_side()
    end_to_end()
    real_o2ring()
    streaming()


if __name__ == "__main__":
    main()
