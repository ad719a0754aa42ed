"""Re-run, with real processes, a short reproduction of each of the nine failures of issue 14
and print one line per item: what was done, what happened, PASS or FAIL.

    /work/main/.venv/bin/python scripts/fault_probes.py [--only 1,2,9] [--keep DIR]

Needs: root for the tmpfs of items 1 and 7 (else they say SKIP: no other honest way to fill
a disk under a running process); PostgreSQL binaries for item 2 (it uses the cluster named
by OXIMON_TEST_PG_URL / OXIMON_TEST_PG_DIR, or starts a throwaway one with
.ci/start-postgres and stops it after). Every figure is measured in this run.
"""

from __future__ import annotations

import argparse
import contextlib
import csv
import io
import json
import os
import re
import shutil
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.faults.disk import fill, free  # noqa: E402  (the tests' own disk filler)
from tests.faults.procs import finish, run, spawn, wait_for  # noqa: E402

DESAT = ["--source", "sim:rapid-desat", "--source", "sim:slow-desat", "--source",
         "sim:apnea", "--speed", "50"]
Result = tuple[str, str, bool | None]  # what was done, what happened, pass (None: skipped)
REFERENCE: Path | None = None  # --reference: another checkout to compare item 9 with


def _events(out: str) -> list[dict]:
    return [json.loads(x) for x in out.splitlines() if x.startswith("{")]


def _opened(out: str) -> set[str]:
    return {e["id"] for e in _events(out) if e.get("type") == "incident"
            and e.get("state") == "opened"}


@contextlib.contextmanager
def tmpfs(where: Path, size: str = "2m") -> Iterator[Path | None]:
    """A small tmpfs (None when it cannot be mounted: not root)."""
    where.mkdir(parents=True, exist_ok=True)
    got = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size},mode=0700", "tmpfs",
                          str(where)], capture_output=True, text=True)
    if got.returncode != 0:
        yield None
        return
    try:
        yield where
    finally:
        subprocess.run(["umount", "-l", str(where)], check=False)


def _count(db: str, sql: str) -> int:
    con = sqlite3.connect(db)
    try:
        return int(con.execute(sql).fetchone()[0])
    finally:
        con.close()


def probe_1(tmp: Path) -> Result:
    env = {"OXIMON_JOURNAL_DIR": str(tmp / "journal1")}
    with tmpfs(tmp / "disk1") as disk:
        if disk is None:
            return "full tmpfs", "cannot mount a tmpfs (not root)", None
        db = str(disk / "s.db")
        run("monitor", "--source", "sim:normal", "--duration", "2", "--db", db, env=env)
        filler = fill(disk)
        code, out, err = run("monitor", *DESAT, "--duration", "900", "--db", db, "--json",
                             env=env)
        announced = _opened(out)
        kept = list((tmp / "journal1").glob("*.json"))
        free(filler)
        code2 = run("monitor", "--source", "sim:normal", "--duration", "2", "--speed", "10",
                    "--db", db, env=env)[0]
        con = sqlite3.connect(db)
        stored = {r[0] for r in con.execute("select id from incidents")}
        con.close()
        vcode = run("incidents", "verify", "--db", db)[0]
    ok = (code == 1 and len(kept) == 1 and str(kept[0]) in err and announced <= stored
          and code2 == 0 and vcode == 0)
    return ("900 s (x50) of 3 desaturations on a full 2 MB tmpfs, then the disk freed",
            f"exit {code}, journal named on stderr: {bool(kept) and str(kept[0]) in err}; next "
            f"run exit {code2}, {len(announced & stored)}/{len(announced)} announced incidents "
            f"stored; verify exit {vcode}", ok)


@contextlib.contextmanager
def postgres() -> Iterator[tuple[str, str] | None]:
    """(url, cluster dir) of a PostgreSQL to freeze: the configured one or a new one."""
    url, pgdir = os.environ.get("OXIMON_TEST_PG_URL"), os.environ.get("OXIMON_TEST_PG_DIR")
    if url and pgdir:
        yield url, pgdir
        return
    got = subprocess.run(["bash", str(ROOT / ".ci/start-postgres")], capture_output=True,
                         text=True, cwd=ROOT)
    found = dict(re.findall(r"(OXIMON_TEST_PG_(?:URL|DIR))=['\"]?([^'\"\s;]+)", got.stdout))
    if got.returncode != 0 or len(found) != 2:
        yield None
        return
    try:
        yield found["OXIMON_TEST_PG_URL"], found["OXIMON_TEST_PG_DIR"]
    finally:
        subprocess.run(["bash", str(ROOT / ".ci/start-postgres"), "--stop",
                        found["OXIMON_TEST_PG_DIR"]], capture_output=True, cwd=ROOT)


def _cluster_pids(pgdir: str) -> list[int]:
    pidfile = subprocess.run(["find", pgdir, "-name", "postmaster.pid"], capture_output=True,
                             text=True).stdout.split()[0]
    postmaster = int(Path(pidfile).read_text().splitlines()[0])
    children = subprocess.run(["pgrep", "-P", str(postmaster)], capture_output=True,
                              text=True).stdout.split()
    return [postmaster, *map(int, children)]


def probe_2(tmp: Path) -> Result:
    with postgres() as pg:
        if pg is None:
            return "SIGSTOP of a PostgreSQL", "no PostgreSQL could be started", None
        url, pgdir = pg
        proc = spawn("monitor", "--source", "sim:normal", "--db", url, "--json",
                     env={"OXIMON_JOURNAL_DIR": str(tmp / "journal2")})
        pids: list[int] = []
        took = None
        try:
            wait_for(proc, "streaming")
            time.sleep(3)
            pids = _cluster_pids(pgdir)
            for pid in pids:
                os.kill(pid, signal.SIGSTOP)
            frozen = time.monotonic()
            seen = wait_for(proc, "records_not_saved", timeout=60)
            took = time.monotonic() - frozen
            raised = json.loads(seen[-1]).get("state") == "raised"
        except AssertionError:
            raised = False
        finally:
            for pid in pids:
                os.kill(pid, signal.SIGCONT)
        cleared = False
        with contextlib.suppress(AssertionError):
            cleared = json.loads(wait_for(proc, "records_not_saved", timeout=90)[-1]
                                 ).get("state") == "cleared"
        proc.send_signal(signal.SIGTERM)
        code = finish(proc)[0]
        vcode = run("incidents", "verify", "--db", url)[0]
    when = f"{took:.1f} s" if took is not None else "never (60 s)"
    ok = raised and took is not None and took <= 10.0 and cleared and code == 0 and vcode == 0
    return (f"all {len(pids)} processes of a throwaway cluster SIGSTOPped under a monitor",
            f"'Records are not being saved' raised after {when}; cleared after SIGCONT: "
            f"{cleared}; exit {code}; verify exit {vcode}", ok)


def probe_3(tmp: Path) -> Result:
    site = tmp / "site3.toml"
    site.write_text('[[stations]]\nid = "booth-1"\nalias = "Booth 1\\r=2+2"\n')
    code_site, _o, err_site = run("dashboard", "--config", str(site))
    db = str(tmp / "csv.db")
    run("monitor", "--source", "sim:rapid-desat", "--speed", "50", "--duration", "120",
        "--db", db)
    # The backstop: a hostile alias already in a record (written past every entry check).
    con = sqlite3.connect(db)
    con.execute("update incident_events set data = replace(data, '\"alias\":\"Booth 1\"', "
                "'\"alias\":\"Booth 1\\r=2+2\"') where kind = 'opened'")
    con.commit()
    n = con.execute("select count(*) from incidents").fetchone()[0]
    con.close()
    code, out, _e = run("incidents", "export", "--db", db)
    rows = list(csv.reader(io.StringIO(out))) if code == 0 else []
    formulas = [c for r in rows for c in r if c and c[0] in "=+-@"]
    ok = code_site == 2 and str(site) in err_site and len(rows) == n + 1 and not formulas \
        and n > 0
    return ("alias 'Booth 1\\r=2+2' in a site file; the same alias forced into a record, "
            "then 'incidents export'",
            f"site file exit {code_site} naming it; export: {len(rows) - 1} rows for {n} "
            f"incidents, {len(formulas)} cells a spreadsheet would run", ok)


def _peak_rss_mb(argv: list[str]) -> tuple[int, float, float]:
    """Exit code, peak resident MB and seconds of one oximon process."""
    began = time.monotonic()
    with open(os.devnull, "w") as sink:
        proc = subprocess.Popen([sys.executable, "-m", "oximon", *argv], cwd=ROOT,
                                stdout=sink, stderr=sink)
        _pid, status, usage = os.wait4(proc.pid, 0)
    return os.waitstatus_to_exitcode(status), usage.ru_maxrss / 1024, time.monotonic() - began


def probe_4(tmp: Path) -> Result:
    files = {"latin1": tmp / "latin1.toml", "nested": tmp / "nested.toml",
             "zero": tmp / "zero.toml", "fifo": tmp / "fifo.toml"}
    files["latin1"].write_bytes(b'[site]\nname = "Caf\xe9"\n')
    files["nested"].write_text("x = " + "[" * 100_000 + "]" * 100_000 + "\n")
    files["zero"].symlink_to("/dev/zero")
    os.mkfifo(files["fifo"])
    verdicts = []
    for name, path in files.items():
        began = time.monotonic()
        code, _o, err = run("monitor", "--source", "sim:normal", "--duration", "1", "--db",
                            str(tmp / "s4.db"), "--profile", str(path), timeout=60)
        named = str(path) in err and "Traceback" not in err
        verdicts.append((name, code, named, time.monotonic() - began))
    big = tmp / "capture.bin"
    with open(big, "wb") as fh:
        for _ in range(40):
            fh.write(os.urandom(1 << 20))
    dcode, rss, secs = _peak_rss_mb(["decode", "berrymed", "--file", str(big)])
    big.unlink()
    ok = all(code == 2 and named for _n, code, named, _s in verdicts) and rss < 200
    words = ", ".join(f"{n} exit {c}{' naming it' if named else ''} in {s:.1f} s"
                      for n, c, named, s in verdicts)
    return ("--profile: not UTF-8, 100,000 nested brackets, symlink to /dev/zero, a FIFO; "
            "decode --file of 40 MB",
            f"{words}; decode exit {dcode}, peak {rss:.0f} MB in {secs:.0f} s", ok)


def probe_5(tmp: Path) -> Result:
    db = str(tmp / "term.db")
    proc = spawn("monitor", "--source", "sim:normal", "--db", db, "--json")
    wait_for(proc, "streaming")
    time.sleep(2)
    proc.send_signal(signal.SIGTERM)
    code, _o, _e = finish(proc)
    code2, _o, err2 = run("monitor", "--source", "sim:normal", "--duration", "1", "--db", db)
    con = sqlite3.connect(db)
    reasons = [r[0] for r in con.execute("select end_reason from sessions where end_reason "
                                         "!= 'write' order by started_ts")]
    con.close()
    ok = code == 0 and code2 == 0 and "unexpectedly" not in err2 and "crashed" not in reasons
    return ("SIGTERM to a running monitor, then a second run",
            f"exit {code}; sessions ended {reasons}; next run mentions a crash: "
            f"{'unexpectedly' in err2}", ok)


def probe_6(tmp: Path) -> Result:
    db = str(tmp / "two.db")
    first = spawn("monitor", "--source", "sim:normal", "--db", db, "--json")
    try:
        wait_for(first, "streaming")
        code, _o, err = run("monitor", "--source", "sim:normal", "--db", db, "--duration", "5")
    finally:
        first.send_signal(signal.SIGTERM)
        finish(first)
    vcode = run("incidents", "verify", "--db", db)[0]
    names = "sim-1" in err and str(first.pid) in err
    ok = code == 2 and names and vcode == 0
    return ("a second monitor with the same station id on one store",
            f"second exit {code}, names the booth and the other computer/process: {names}; "
            f"verify exit {vcode}", ok)


def probe_7(tmp: Path) -> Result:
    env = {"OXIMON_JOURNAL_DIR": str(tmp / "journal7")}
    with tmpfs(tmp / "disk7") as disk:
        if disk is None:
            return "monitor starting on a full tmpfs", "cannot mount a tmpfs (not root)", None
        filler = fill(disk)
        db = str(disk / "s.db")
        proc = spawn("monitor", *DESAT, "--db", db, "--json", env=env)
        began = time.monotonic()
        seen = wait_for(proc, "records_not_saved", timeout=60)
        raised_after = time.monotonic() - began
        raised = json.loads(seen[-1])["state"] == "raised"
        opened = bool(_opened("".join(wait_for(proc, '"opened"', timeout=90))))
        free(filler)
        cleared = json.loads(wait_for(proc, "records_not_saved", timeout=60)[-1]
                             )["state"] == "cleared"
        proc.send_signal(signal.SIGTERM)
        code = finish(proc)[0]
        stored = _count(db, "select count(*) from incidents")
    ok = raised and opened and cleared and code == 0 and stored >= 1
    return ("monitor started with its database on a full tmpfs, the disk freed later",
            f"monitoring started; records alarm raised after {raised_after:.1f} s; clinical "
            f"incident announced: {opened}; cleared once freed: {cleared}; exit {code}; "
            f"{stored} incident(s) stored", ok)


def probe_8(tmp: Path) -> Result:
    db = str(tmp / "tamper.db")
    run("monitor", "--source", "sim:rapid-desat", "--speed", "50", "--duration", "120", "--db",
        db)
    run("monitor", "--source", "sim:slow-desat", "--speed", "50", "--duration", "300", "--db",
        db)
    anchor = tmp / "anchor.json"
    run("incidents", "verify", "--db", db, "--save-anchor", str(anchor))
    con = sqlite3.connect(db)
    heads = con.execute("select * from chain_head order by id").fetchall()
    con.close()
    first = sorted(_opened_ids(db))[0]
    run("incidents", "show", first, "--db", db)
    run("incidents", "export", "--db", db)
    con = sqlite3.connect(db)
    heads_after = con.execute("select * from chain_head order by id").fetchall()
    # The insider's rewind: the newest incident's events and audit rows gone, the heads
    # and every session's anchor pointed at the last survivors.
    last = sorted(_opened_ids(db))[-1]
    keep_ev = con.execute("select min(seq) - 1 from incident_events where incident_id = ?",
                          (last,)).fetchone()[0]
    keep_au = con.execute("select min(seq) - 1 from audit_log where target = ?",
                          (last,)).fetchone()[0]
    ev = con.execute("select hash from incident_events where seq = ?", (keep_ev,)).fetchone()[0]
    au = con.execute("select hash from audit_log where seq = ?", (keep_au,)).fetchone()[0]
    al = list(con.execute("select last_seq, last_hash from chain_head where id = 3").fetchone())
    con.executescript(
        f"delete from incident_events where seq > {keep_ev};"
        f"delete from audit_log where seq > {keep_au};"
        f"delete from incidents where id = '{last}';"
        f"update chain_head set last_seq = {keep_ev}, last_hash = '{ev}' where id = 1;"
        f"update chain_head set last_seq = {keep_au}, last_hash = '{au}' where id = 2;"
        "update sessions set anchor = '" + json.dumps({"1": [keep_ev, ev], "2": [keep_au, au],
                                                      "3": al}) + "';")
    con.commit()
    con.close()
    alone = run("incidents", "verify", "--db", db)[0]
    against = run("incidents", "verify", "--db", db, "--against", str(anchor))[0]
    ok = heads == heads_after and against == 1
    return ("show + export, then delete the newest incident and rewind heads and anchors "
            "with sqlite3",
            f"chain heads moved by reads: {heads != heads_after}; verify alone exit {alone} "
            f"(documented limit), verify --against the kept anchor exit {against}", ok)


def _opened_ids(db: str) -> list[str]:
    con = sqlite3.connect(db)
    try:
        return [r[0] for r in con.execute("select id from incidents order by opened_ts")]
    finally:
        con.close()


def probe_9(tmp: Path) -> Result:
    db = str(tmp / "episodes.db")
    proc = spawn("monitor", "--source", "sim:rapid-desat", "--speed", "10", "--db", db,
                 "--json")
    wait_for(proc, '"opened"', timeout=90)
    time.sleep(2)
    proc.send_signal(signal.SIGTERM)
    finish(proc)
    first = _opened_ids(db)
    run("monitor", "--source", "sim:rapid-desat", "--speed", "50", "--duration", "120", "--db",
        db)
    ids = _opened_ids(db)
    code, out, _e = run("incidents", "show", first[0], "--format", "json", "--db", db)
    rec = json.loads(out) if code == 0 else {}
    signed = _sign_off(db, first[0])
    # The second half: a compressed run's stamps against the wall clock (and, with
    # --reference, the same run of another checkout side by side).
    ahead, marked = _ahead_at_speed(ROOT, db)
    ref = ""
    if REFERENCE is not None:
        ref_ahead, _m = _ahead_at_speed(REFERENCE, str(tmp / "reference.db"))
        ref = f" (reference {REFERENCE}: {ref_ahead:+.1f} s)"
    ok = (len(first) == 1 and len(ids) == 2 and rec.get("status") == "closed"
          and rec.get("interrupted") and rec.get("nadir") is not None and signed
          and ahead <= 0 and marked >= 1)
    return ("SIGTERM during an incident, a second run on the same booth; then 400 s at x10",
            f"incidents {len(first)} then {len(ids)} (not adopted); first: "
            f"{rec.get('status')}, interrupted {rec.get('interrupted')}, nadir "
            f"{rec.get('nadir')}, signed off {signed}; x10 run: newest stored time "
            f"{ahead:+.1f} s vs the wall clock{ref}, {marked} incident(s) marked simulated ×10",
            ok)


def _ahead_at_speed(code: Path, db: str) -> tuple[float, int]:
    """Run 400 s of two desaturations at x10 with the oximon of `code`; how far the newest
    stored time is ahead of the wall clock at the end, and how many incidents are marked."""
    began = time.time()
    subprocess.run([sys.executable, "-m", "oximon", "monitor", "--source", "sim:rapid-desat",
                    "--source", "sim:slow-desat", "--speed", "10", "--duration", "400",
                    "--db", db], cwd=code, capture_output=True, timeout=300)
    wall = time.time()
    con = sqlite3.connect(db)
    try:
        ahead = max(con.execute(f"select coalesce(max({c}), 0) from {t}").fetchone()[0]
                    for t, c in (("readings", "ts"), ("incident_trace", "ts"),
                                 ("incident_events", "ts"), ("alarm_log", "ts"),
                                 ("audit_log", "ts"), ("sessions", "heartbeat_ts"))) - wall
        cols = [r[1] for r in con.execute("pragma table_info(incidents)")]
        marked = con.execute("select count(*) from incidents where opened_ts >= ? and "
                             "timeline = 'simulated ×10'", (began,)).fetchone()[0] \
            if "timeline" in cols else 0
    finally:
        con.close()
    return ahead, marked


def _sign_off(db: str, iid: str) -> bool:
    from oximon.store import open_store

    with open_store(db) as store:
        store.sign_off(iid, "supervisor-1", "probe", False)
        rec = store.get_incident(iid, with_trace=False)
        return rec is not None and rec.reviewed


PROBES: dict[int, Callable[[Path], Result]] = {
    1: probe_1, 2: probe_2, 3: probe_3, 4: probe_4, 5: probe_5, 6: probe_6, 7: probe_7,
    8: probe_8, 9: probe_9}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--only", default="", help="comma-separated item numbers (default all)")
    ap.add_argument("--keep", type=Path, help="work in DIR and leave it (default: a temp dir)")
    ap.add_argument("--reference", type=Path, metavar="CHECKOUT", help="also run item 9's "
                    "x10 run with the oximon of another checkout (e.g. /work/main)")
    args = ap.parse_args()
    global REFERENCE
    REFERENCE = args.reference
    items = [int(x) for x in args.only.split(",") if x] or sorted(PROBES)
    failed = 0
    with contextlib.ExitStack() as stack:
        base = args.keep or Path(stack.enter_context(tempfile.TemporaryDirectory()))
        base.mkdir(parents=True, exist_ok=True)
        for n in items:
            work = base / f"item{n}"
            shutil.rmtree(work, ignore_errors=True)
            work.mkdir()
            began = time.monotonic()
            try:
                did, happened, ok = PROBES[n](work)
            except Exception as exc:  # a probe that breaks is a failure, said plainly
                did, happened, ok = "probe", f"broke: {type(exc).__name__}: {exc}", False
            verdict = {True: "PASS", False: "FAIL", None: "SKIP"}[ok]
            failed += ok is False
            print(f"{n}. {verdict} ({time.monotonic() - began:.0f} s) {did}: {happened}",
                  flush=True)
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
