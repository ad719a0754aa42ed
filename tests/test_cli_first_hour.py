"""A new user's first hour (issue 16): every message says what to do, every exit code
follows the contract (0 / 2 bad input naming it / 1 failure), every option does something."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from oximon.cli import main
from oximon.clock import ManualClock
from oximon.store import open_store
from oximon.types import Sample, Station
from tests.eventkit import alarm_event

ROOT = Path(__file__).parent.parent


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    try:
        code = main(list(argv))
    except SystemExit as exc:  # argparse's own usage errors
        code = int(exc.code or 0)
    out, err = capsys.readouterr()
    assert "Traceback" not in err and "internal error" not in err, err
    return code, out, err


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A user who has never run oximon: empty data and config folders."""
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    return tmp_path / "data" / "oximon"


def simulated_run(capsys: pytest.CaptureFixture[str], seconds: str = "400") -> tuple[str, str]:
    code, out, err = run(capsys, "monitor", "--source", "sim:slow-desat:3", "--duration",
                         seconds, "--speed", "2000", "--json")
    assert code == 0, err
    return out, err


def make_store(path: Path, incidents: int, alias: str = "Booth 1",
               close: bool = True) -> list[str]:
    """`incidents` incidents on station s1 of a store at `path` (March 2026), the last one
    left open unless `close`; each with a trace that falls to 80 %."""
    store = open_store(str(path), writer=True, clock=ManualClock(
        epoch=datetime(2026, 3, 20, 12, tzinfo=UTC)))
    store.add_station(Station("s1", alias=alias, booth="1"))
    ids = []
    for k in range(incidents):
        t0 = 1000.0 * k
        for i in range(60):
            store.on_sample("s1", Sample(t=t0 + i, spo2=95 - i / 4, pr=72.0))
            store.tick(t0 + i)
        store.on_event(alarm_event("raised", t0 + 30, "s1", "spo2_low"))
        iid = store.current_incident("s1")
        assert iid is not None
        ids.append(iid)
        if close or k < incidents - 1:
            store.close_incident(iid, t0 + 60, "responsive", by="worker")
    store.close()
    return ids


# -- screens ---------------------------------------------------------------------------------
def test_review_without_a_screen_says_so_like_the_dashboard(capsys, monkeypatch, home):
    for name in ("QT_QPA_PLATFORM", "DISPLAY", "WAYLAND_DISPLAY"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setattr(sys, "platform", "linux")
    code, _, err = run(capsys, "review")
    assert code == 1
    assert "no screen to show the review window" in err and "oximon incidents" in err
    code, _, err = run(capsys, "dashboard", "--demo")
    assert code == 1 and "no screen to show the dashboard" in err


# -- the demo store --------------------------------------------------------------------------
def test_a_first_user_finds_the_incidents_of_the_readme_run(capsys, home):
    code, out, err = run(capsys, "incidents", "list")  # nothing recorded anywhere yet
    assert code == 0 and out == "no incidents\n" and "--db" not in err
    out, err = simulated_run(capsys)
    assert "'oximon incidents list --demo'" in err
    opened = [json.loads(line)["id"] for line in out.splitlines() if '"opened"' in line]
    assert opened
    code, out, err = run(capsys, "incidents", "list")  # the site's log: none, but...
    assert code == 0 and "no incidents" in out
    assert "demo store (1 incident there): add --demo" in err and "--db" not in err
    code, out, err = run(capsys, "incidents", "list", "--demo")
    assert code == 0 and opened[0] in out and "add --demo" not in err
    code, out, _ = run(capsys, "incidents", "show", opened[0][:15], "--demo")
    assert code == 0 and f"Incident {opened[0]}" in out
    code, _, err = run(capsys, "report", "--month", date.today().strftime("%Y-%m"))
    assert code == 0 and "add --demo" in err
    code, out, _ = run(capsys, "report", "--month", date.today().strftime("%Y-%m"), "--demo")
    assert code == 0 and out.count("\n") >= 2
    code, _, err = run(capsys, "incidents", "list", "--demo", "--db", str(home / "x.db"))
    assert code == 2 and "argument --demo: not with --db" in err


def test_a_run_that_stops_with_an_open_incident_says_what_became_of_it(capsys, home):
    first, err = simulated_run(capsys, "300")  # stops while the incident is open
    opened = [json.loads(line)["id"] for line in first.splitlines() if '"opened"' in line]
    assert len(opened) == 1
    # Never silent: the stop closed it as interrupted (issue 14), and says where it is.
    assert f"incident {opened[0]} was still open when monitoring stopped" in err
    assert f"oximon incidents show {opened[0]} --demo" in err
    second, err = simulated_run(capsys, "20")
    assert opened[0] not in second  # the next run never joins it


# -- incidents: messages and exit codes ------------------------------------------------------
def test_an_ambiguous_prefix_is_not_no_such_incident(capsys, tmp_path):
    db = tmp_path / "i.db"
    ids = make_store(db, 2)
    code, _, err = run(capsys, "incidents", "show", "2026", "--db", str(db))
    assert code == 2 and "2 incidents start with it" in err and ids[0] in err
    code, _, err = run(capsys, "incidents", "show", "1999", "--db", str(db))
    assert code == 2 and "no such incident" in err


def test_paging_past_the_end_says_how_many_there_are(capsys, tmp_path):
    db = tmp_path / "i.db"
    make_store(db, 2)
    code, _, err = run(capsys, "incidents", "list", "--offset", "5", "--db", str(db))
    assert code == 0 and "showing 5-5" not in err
    assert "no incidents at --offset 5: 2 match" in err and "--offset 0" in err
    code, _, err = run(capsys, "incidents", "list", "--offset", "1", "--db", str(db))
    assert code == 0 and "showing 2-2 of 2 incidents" in err


@pytest.mark.parametrize(("argv", "words"), [
    (["--db", "foo://x"], "oximon: argument --db: 'foo://x': use a file path"),
    (["--limit", "0"], "oximon: argument --limit: must be at least 1 (not 0)\n"),
    (["--offset", "-1"], "oximon: argument --offset: must be at least 0 (not -1)\n"),
])
def test_each_message_names_its_argument_once(capsys, tmp_path, argv, words):
    code, _, err = run(capsys, "incidents", "list", *argv)
    assert code == 2 and words in err
    assert err.count("--db") + err.count("--limit") + err.count("--offset") == 1


@pytest.mark.parametrize("action", [["show", "x"], ["verify"], ["settings"]])
@pytest.mark.parametrize("option", [["--since", "2026-01-01"], ["--until", "2026-01-01"],
                                    ["--station", "s1"]])
def test_actions_refuse_options_they_would_ignore(capsys, tmp_path, action, option):
    code, _, err = run(capsys, "incidents", *action, *option, "--db", str(tmp_path / "i.db"))
    assert code == 2 and "unrecognized arguments" in err and option[0] in err


@pytest.mark.parametrize("action", ["verify", "settings"])
def test_verify_and_settings_offer_only_text_or_json(capsys, tmp_path, action):
    code, _, err = run(capsys, "incidents", action, "--format", "csv")
    assert code == 2 and "argument --format" in err and "'text', 'json'" in err


def test_a_reversed_date_range_is_bad_input(capsys, tmp_path):
    db = tmp_path / "i.db"
    make_store(db, 1)
    code, out, err = run(capsys, "incidents", "list", "--since", "2026-03-31", "--until",
                         "2026-03-01", "--db", str(db))
    assert code == 2 and out == "" and "argument --until" in err and "--since" in err
    code, out, _ = run(capsys, "incidents", "list", "--since", "2026-03-01", "--until",
                       "2026-03-31", "--db", str(db))
    assert code == 0 and "s1" in out


def test_terminal_output_never_carries_control_characters(capsys, tmp_path):
    db = tmp_path / "i.db"
    evil = "Booth\x1b]0;owned\x07\x1b[2J 1"
    iid = make_store(db, 1, alias=evil)[0]
    for argv in (["list"], ["show", iid], ["export", "--format", "text"]):
        code, out, _ = run(capsys, "incidents", *argv, "--db", str(db))
        assert code == 0 and "\x1b" not in out and "\x07" not in out, argv
        assert "owned" in out or argv == ["list"]  # the text stays, its controls do not
    code, out, _ = run(capsys, "incidents", "show", iid, "--format", "json", "--db", str(db))
    alias = json.loads(out)["alias"]  # the store took the alias without its controls
    assert "owned" in alias and not any(ord(c) < 32 for c in alias)


# -- report, decode, analyze -----------------------------------------------------------------
@pytest.mark.parametrize(("month", "why"), [
    ("1999-01", "give a year from 2000 on"),
    ("2026-13", "the month is 13; months are 01 to 12"),
    ("2026-3x", "not a month in the form YYYY-MM"),
])
def test_report_says_why_a_month_is_not_valid(capsys, month, why):
    code, _, err = run(capsys, "report", "--month", month)
    assert code == 2 and "argument --month" in err and why in err


def test_report_site_is_for_the_pdf_only(capsys, home):
    code, _, err = run(capsys, "report", "--month", "2026-03", "--site", "Main St")
    assert code == 2 and "argument --site: only for a PDF" in err


def test_decode_says_what_is_missing(capsys, tmp_path):
    code, _, err = run(capsys, "decode")
    assert code == 2 and "argument PROTOCOL" in err and "--file FILE" in err
    assert "HEX" in err and "required" not in err
    capture = tmp_path / "c.hex"
    capture.write_text("12 34 84 32 05 48 62 86 40 47 16 61 84\n")
    code, out, _ = run(capsys, "decode", "berrymed", "--file", str(capture))
    assert code == 0 and len(out.splitlines()) == 2  # --file alone is enough


def test_decode_of_no_frame_is_exit_2(capsys, tmp_path):
    code, out, err = run(capsys, "decode", "berrymed", "00")
    assert code == 2 and out == ""
    assert "no BerryMed BCI frame found (0 frames from 1 bytes" in err and "protocol" in err


def test_decode_file_streams_in_bounded_blocks(tmp_path):
    from oximon.cli import decode

    frame = bytes.fromhex("8432054862")
    raw = tmp_path / "big.bin"
    raw.write_bytes(b"\x80\xff" + frame * 60_000)  # 300 kB, not UTF-8: raw bytes
    chunks = list(decode.read_chunks(raw))
    assert len(chunks) > 1 and max(map(len, chunks)) <= decode.BLOCK
    assert b"".join(chunks) == raw.read_bytes()
    text = tmp_path / "late.hex"
    lines = decode.BLOCK // 11 + 10  # the bad byte comes after the first block
    text.write_bytes(b"8432054862\n" * lines + b"84 \xff\n")
    with pytest.raises(decode.UsageError, match=rf"late\.hex:{lines + 1}: not hex text"):
        list(decode.read_chunks(text))


def test_decode_file_of_any_size_gives_every_frame(capsys, tmp_path):
    frame = bytes.fromhex("8432054862")
    raw = tmp_path / "big.bin"
    raw.write_bytes(b"\x80" + frame * 20_000)
    code, out, err = run(capsys, "decode", "berrymed", "--file", str(raw))
    assert code == 0 and len(out.splitlines()) == 20_000 and "1 byte skipped" in err


def test_a_header_only_recording_is_bad_input(capsys, tmp_path):
    csv = tmp_path / "empty.csv"
    csv.write_text("time,spo2,pr,pi,flags\n")
    code, out, err = run(capsys, "analyze", str(csv))
    assert code == 2 and out == "" and "no readings" in err and str(csv) in err


def test_analyze_help_shows_a_plain_percent(capsys):
    code, out, _ = run(capsys, "analyze", "--help")
    assert code == 0 and "%%" not in " ".join(out.split()) and "90/85 %" in " ".join(out.split())


# -- monitor --record ------------------------------------------------------------------------
def test_record_never_overwrites_a_recording(capsys, tmp_path):
    folder = tmp_path / "rec"
    argv = ["monitor", "--source", "sim:normal:1", "--duration", "5", "--speed", "500",
            "--db", str(tmp_path / "i.db"), "--record", str(folder)]
    code, _, err = run(capsys, *argv)
    assert code == 0, err
    before = (folder / "sim-1.csv").read_text()
    assert before.count("\n") > 2
    code, out, err = run(capsys, *argv)
    assert code == 2 and out == ""
    assert f"argument --record: {folder / 'sim-1.csv'} already exists" in err
    assert (folder / "sim-1.csv").read_text() == before


def test_record_into_a_file_says_give_a_folder(capsys, tmp_path):
    existing = tmp_path / "existing.csv"
    existing.write_text("keep me\n")
    code, _, err = run(capsys, "monitor", "--source", "sim:normal:1", "--duration", "2",
                       "--db", str(tmp_path / "i.db"), "--record", str(existing))
    assert code == 2 and "Errno" not in err
    assert f"argument --record: {existing} is a file; give a folder" in err
    assert existing.read_text() == "keep me\n"


# -- the windows and the PDF -----------------------------------------------------------------
def test_windows_open_centred_and_never_larger_than_the_screen(qtbot):
    from PySide6.QtCore import QRect
    from PySide6.QtWidgets import QWidget

    from oximon.ui.app import place_on_screen
    from oximon.ui.dialog_fit import FRAME_GUESS

    big, small = QWidget(), QWidget()
    free = big.screen().availableGeometry()
    for w in (big, small):
        qtbot.addWidget(w)
    big.resize(free.width() + 500, free.height() + 300)
    small.resize(free.width() // 2, free.height() // 2)
    place_on_screen(big)
    place_on_screen(small)
    assert free.contains(big.frameGeometry())  # its title bar included
    frame = FRAME_GUESS  # a title bar's worth until the window manager says
    assert (big.width(), big.height()) == (free.width() - frame.left() - frame.right(),
                                           free.height() - frame.top() - frame.bottom())
    assert big.pos() == free.topLeft()
    # Centred with its (guessed) frame: the window manager puts the frame at its place.
    centre = QRect(small.pos(), small.size().grownBy(frame)).center()
    assert abs(centre.x() - free.center().x()) <= 1
    assert abs(centre.y() - free.center().y()) <= 1


def test_qt_noise_is_dropped_and_other_messages_kept(capfd):
    from PySide6.QtCore import qInstallMessageHandler, qWarning

    from oximon.ui.app import quiet_qt_messages

    quiet_qt_messages()
    try:
        qWarning("This plugin does not support propagateSizeHints()")
        qWarning("PulseAudioService: pa_context_connect() failed")
        qWarning("something a user should see")
    finally:
        qInstallMessageHandler(None)
    err = capfd.readouterr().err
    assert "propagateSizeHints" not in err and "PulseAudio" not in err
    assert "something a user should see" in err


def test_the_browser_shows_an_open_incidents_nadir(qtbot, tmp_path):
    from oximon.review_store import StoreReview
    from oximon.ui.review.browser import IncidentBrowser

    db = tmp_path / "i.db"
    closed, still_open = make_store(db, 2, close=False)
    store = open_store(str(db))
    try:
        browser = IncidentBrowser(StoreReview(store), today=date(2026, 3, 31))
        qtbot.addWidget(browser)
        def cell(row: int, column: int) -> str:
            item = browser.table.item(row, column)
            assert item is not None
            return item.text()

        nadir = {cell(r, 9): cell(r, 3) for r in range(browser.table.rowCount())}
        assert nadir[closed] != "—"
        assert nadir[still_open] == "80 %"  # the trace so far, as `incidents show` has it
    finally:
        store.close()


def test_the_report_pdf_never_breaks_acknowledge(tmp_path, home):
    from tests.pdftext import pdf_text

    db = tmp_path / "i.db"
    make_store(db, 1)
    out = tmp_path / "r.pdf"
    assert main(["report", "--month", "2026-03", "--db", str(db), "--output", str(out)]) == 0
    text = pdf_text(out)
    assert "Median alarm → acknowledge (s)" in text and "acknowled ge" not in text


# -- set-up and test noise -------------------------------------------------------------------
def test_postgresql_skips_fold_into_one_line_with_a_hint_that_works_as_root(tmp_path):
    env = {k: v for k, v in os.environ.items() if k != "OXIMON_TEST_PG_URL"}
    proc = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
                           "tests/store/test_store_tamper.py", "tests/store/test_store_crash.py"],
                          capture_output=True, text=True, cwd=ROOT, env=env, timeout=300)
    assert proc.returncode == 0, proc.stdout[-2000:]
    skipped = [line for line in proc.stdout.splitlines() if line.startswith("SKIPPED")]
    assert len(skipped) == 1 and "PostgreSQL not configured" in skipped[0]
    assert 'eval "$(bash .ci/start-postgres)"' in skipped[0] and "sudo" not in skipped[0]


def test_setup_silences_the_editable_install_warning():
    setup = (ROOT / "scripts" / "_setup.sh").read_text()
    assert 'PYTHONWARNINGS="ignore:Editable installation"' in setup


def test_the_default_profile_points_to_nothing_missing():
    text = (ROOT / "oximon" / "profiles" / "bc-ops-default.toml").read_text()
    assert "GUIDELINE.md" not in text and "Toward the Heart" in text
