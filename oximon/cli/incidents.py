"""`oximon incidents list|show ID|export|verify`: read, export and check the incident log.

Reading never changes a record; each export is written to the audit log (who exported
what, when), because an export carries health information off the store.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from collections.abc import Callable
from datetime import date, datetime, timedelta
from pathlib import Path

from oximon.cli.errors import RuntimeFailure, UsageError
from oximon.cli.wiring import add_store_options, demo_hint, open_db, store_choice
from oximon.private_files import open_private
from oximon.review_store import to_incident
from oximon.store import (
    IncidentError,
    IncidentQuery,
    IncidentRecord,
    Store,
    StoreUnavailable,
)
from oximon.store import export as fmt
from oximon.store.store import SETTINGS

FORMATS = ("text", "csv", "json", "pdf")


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("incidents", help="list, show, export or verify recorded incidents",
                       description="Read the incident log. Text formats go to stdout unless "
                       "--output is given; PDF needs --output. Simulated and replayed runs "
                       "keep their incidents in the demo store: add --demo.")
    # Each action takes only the options it uses.
    store = argparse.ArgumentParser(add_help=False)
    add_store_options(store)
    output = argparse.ArgumentParser(add_help=False)
    output.add_argument("--output", type=Path, metavar="FILE", help="write to FILE (created "
                        "private, 0600) instead of stdout")
    select = argparse.ArgumentParser(add_help=False)
    select.add_argument("--since", type=_day_or_time("since"), metavar="DATE",
                        help="incidents opened on/after DATE (YYYY-MM-DD or ISO time, local)")
    select.add_argument("--until", type=_day_or_time("until"), metavar="DATE",
                        help="incidents opened before the end of DATE (or before an ISO time)")
    select.add_argument("--station", metavar="ID", help="only this station")
    actions = p.add_subparsers(dest="action", metavar="ACTION", required=True)
    listing = actions.add_parser("list", parents=[select, output, store], help="one line per "
                                 "incident, newest first, a page at a time")
    _formats(listing, FORMATS, "text")
    listing.add_argument("--limit", type=_count(1), default=DEFAULT_LIMIT,
                         metavar="N", help=f"at most N incidents (default {DEFAULT_LIMIT}); "
                         "the count of all that match goes to stderr")
    listing.add_argument("--offset", type=_count(0), default=0, metavar="N",
                         help="skip the newest N matching incidents (the next page)")
    show = actions.add_parser("show", parents=[output, store], help="one incident in full, "
                              "with the alarm log over its period")
    show.add_argument("id", metavar="ID", help="incident id (a unique prefix is enough)")
    _formats(show, FORMATS, "text")
    export = actions.add_parser("export", parents=[select, output, store],
                                help="all matching incidents in full (CSV default)")
    _formats(export, FORMATS, "csv")
    verify = actions.add_parser(
        "verify", parents=[output, store], help="check no record was edited or deleted; "
        "exit 1 naming each one that was", formatter_class=argparse.RawDescriptionHelpFormatter,
        description=VERIFY_HELP)
    _formats(verify, ("text", "json"), "text")
    verify.add_argument("--against", type=Path, metavar="FILE", help="also check against "
                        "an anchor file kept outside the database (see --save-anchor)")
    verify.add_argument("--save-anchor", type=Path, metavar="FILE", help="after a clean "
                        "check, write the chain heads to FILE: keep it on other media")
    settings = actions.add_parser(
        "settings", parents=[output, store], help="show or change the site settings kept in "
        "the store (retention, quiet close)", description="Settings every monitoring station "
        "using this store follows (a running monitor takes a change within the hour). "
        "Each change is written to the audit log.")
    _formats(settings, ("text", "json"), "text")
    settings.add_argument("--retention-days", type=float, metavar="DAYS",
                          help="keep readings this many days (1-3650; default 30). Incident "
                          "traces are kept with their incident whatever this says")
    settings.add_argument("--quiet-close-min", type=float, metavar="MIN",
                          help="close an incident nobody closed after this many minutes "
                          "with no high alarm, outcome 'not recorded' (1-240; default 10)")
    settings.add_argument("--by", default="", metavar="NAME",
                          help="who is changing them (default: the computer's user)")
    p.set_defaults(run=run)


def _formats(p: argparse.ArgumentParser, choices: tuple[str, ...], default: str) -> None:
    p.add_argument("--format", choices=choices, default=default,
                   help=f"output format (default {default})")


DEFAULT_LIMIT = 200
VERIFY_HELP = """\
Check the incident log has not been changed behind oximon's back.

What verify detects:
  - any edited or deleted incident record (actions, alarms, outcome, amendments,
    sign-offs): every record is hash-chained to the one before it;
  - an edited incident list (the summary a listing shows) that no longer matches
    its records;
  - an edited or deleted SpO2/pulse trace row, of closed incidents and of open or
    interrupted ones (traces are sealed into the chain every few seconds);
  - edited or deleted audit log and alarm log entries (chained too);
  - the newest records deleted with the chain head rewound, or every record deleted
    (each monitoring session keeps a copy of the chain heads).

  - trace rows added to an open or interrupted incident after its last seal
    once no running session records it;
  - with --against FILE (an anchor made by --save-anchor and kept on other media):
    the newest records deleted with the heads AND every session's copy pointed at
    the last surviving hashes, or the whole database rewritten with recomputed
    hashes, up to the records the anchor saw.

Every write is anchored (each monitoring heartbeat, and each sign-off, amendment,
review or settings change made after monitoring stopped). Reads (show, export,
reports) go to a separate access log and never move the chain heads.

What it cannot detect:
  - without --against: someone with write access who rewrites the whole database
    consistently (records, hashes, heads and every session's copy). Only an anchor
    kept outside the database catches that;
  - with --against: changes to records made AFTER the anchor was saved, if they are
    rewritten consistently (save a new anchor regularly, e.g. monthly);
  - the access log (reads) is not chained: it can be edited without trace;
  - readings outside incidents (they are purged after the retention period and are
    not chained) and the trace of the last few seconds before a crash.
"""


def _count(lowest: int) -> Callable[[str], int]:
    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
        if value < lowest:
            raise argparse.ArgumentTypeError(f"must be at least {lowest} (not {value})")
        return value
    return parse


def _day_or_time(which: str) -> Callable[[str], float]:
    def parse(text: str) -> float:
        try:
            if len(text) == 10:
                day = date.fromisoformat(text)
                if which == "until":
                    day += timedelta(days=1)  # --until 2026-01-31 includes the 31st
                return datetime(day.year, day.month, day.day).astimezone().timestamp()
            moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not a date (YYYY-MM-DD) or ISO "
                                             "time") from None
        if moment.tzinfo is None:
            moment = moment.astimezone()
        return moment.timestamp()
    return parse


def run(args: argparse.Namespace) -> int:
    form = args.format
    if form == "pdf" and args.output is None:
        raise UsageError("argument --output: a PDF needs --output FILE")
    if args.action in SELECTING:
        _check_range(args.since, args.until)
    db = store_choice(args)
    # The default log is made empty on first use (as `review` does): "no incidents yet"
    # rather than an error about a file the user never named. A named --db must exist.
    store = open_db(db, create=db is None or (args.action == "settings" and
                                              _setting_changes(args) != {}))
    try:
        return _run(store, args, form)
    except StoreUnavailable as exc:
        raise RuntimeFailure(str(exc)) from None
    finally:
        store.close()


def _run(store: Store, args: argparse.Namespace, form: str) -> int:
    if args.action == "settings":
        return _settings(store, args, form)
    if args.action == "verify":
        return _verify(store, args, form)
    if args.action == "show":
        rec = _find(store, args.id)
        records = [rec]
        title, heading = f"oximon incident {rec.id}", ""
        history = store.incident_alarms(rec)
    else:
        q = IncidentQuery(since_ts=args.since, until_ts=args.until, station=args.station)
        if args.action == "list":
            total = store.count_incidents(q)
            q = IncidentQuery(since_ts=args.since, until_ts=args.until, station=args.station,
                              limit=args.limit, offset=args.offset)
            _page_note(args, total, min(args.limit, max(total - args.offset, 0)))
            if form == "text":
                _emit(args, fmt.list_text(store.list_incidents(q)), tty_safe=True)
                return 0
        records = store.iter_records(q)
        if args.action == "export":
            demo_hint(args, len(records))
        title, heading = "oximon incidents", _selection(args, len(records))
    if form == "text" and args.action == "show":
        text = fmt.record_text(records[0]) + fmt.alarm_history_text(history) + "\n"
    elif form == "text":
        text = "".join(fmt.record_text(r) + "\n" for r in records)
    elif form == "csv":
        text = fmt.to_csv(records)
    elif form == "json" and args.action == "show":
        text = json.dumps({**fmt.record_json(records[0]), "alarm_history": history},
                          indent=2, ensure_ascii=False) + "\n"
    elif form == "json":
        text = fmt.to_json(records)
    else:
        text = None
    done = "viewed" if args.action == "show" else "exported"
    access = (records[0].id if args.action == "show" else None,
              {"format": form, "incidents": len(records),
               "output": str(args.output) if args.output else "stdout"})
    try:
        if text is None:
            _pdf(store, records, args.output, title, heading)
        else:
            _emit(args, text, tty_safe=form == "text")
    except (UsageError, RuntimeFailure) as exc:  # written down as failed, never as done
        store.record_audit("export_failed", access[0], {**access[1], "error": str(exc)})
        raise
    store.record_audit(done, *access)
    return 0


SELECTING = ("list", "export")  # the actions with --since/--until/--station


def _check_range(since: float | None, until: float | None) -> None:
    if since is not None and until is not None and until <= since:
        raise UsageError(f"argument --until: {fmt.when(until)} is not after --since "
                         f"{fmt.when(since)} (the range is reversed or empty)")


def _page_note(args: argparse.Namespace, total: int, shown: int) -> None:
    """On stderr, where this page sits among all that match (nothing when it is all)."""
    if total == 0:
        demo_hint(args, 0)
    elif shown == 0:
        print(f"oximon: no incidents at --offset {args.offset}: {total} match (the first "
              f"page is --offset 0, the last --offset {(total - 1) // args.limit * args.limit})",
              file=sys.stderr)
    elif shown < total:
        more = (f"; next page: --offset {args.offset + shown}"
                if args.offset + shown < total else "")
        print(f"showing {args.offset + 1}-{args.offset + shown} of {total} incidents{more}",
              file=sys.stderr)


def _find(store: Store, text: str) -> IncidentRecord:
    """The incident an id or a unique prefix names; exit 2 saying why not otherwise."""
    iid = store.resolve_id(text)
    rec = store.get_incident(iid) if iid else None
    if rec is not None:
        return rec
    # Not found or not unique: which? (only on this error path: a scan of the ids)
    matches = [r.id for r in store.list_incidents(IncidentQuery()) if r.id.startswith(text)]
    if len(matches) > 1:
        shown = ", ".join(matches[:3]) + (", ..." if len(matches) > 3 else "")
        raise UsageError(f"incident {text!r}: {len(matches)} incidents start with it "
                         f"({shown}); give more of the id")
    raise UsageError(f"incident {text!r}: no such incident in {store.target.label} (see "
                     "'oximon incidents list'; simulated runs' incidents: add --demo)")


def _verify(store: Store, args: argparse.Namespace, form: str) -> int:
    events, n, problems = store.verify()
    heads = store.chain_heads()
    problems += _against_anchor(store, args)
    if form == "json":
        _emit(args, json.dumps({"ok": not problems, "records": events, "incidents": n,
                                "problems": [p.__dict__ for p in problems],
                                "chain_heads": {k: {"seq": s, "hash": h} for k, (s, h)
                                                in heads.items()}},
                               indent=2) + "\n")
    else:
        _emit(args, fmt.problems_text(events, n, problems) + fmt.heads_text(heads),
              tty_safe=True)
    if args.save_anchor is not None and not problems:
        _save_anchor(store, args.save_anchor, heads)
    return 1 if problems else 0


def _setting_changes(args: argparse.Namespace) -> dict[str, float]:
    return {k: v for k, v in (("retention_days", args.retention_days),
                              ("quiet_close_min", args.quiet_close_min)) if v is not None}


def _against_anchor(store: Store, args: argparse.Namespace) -> list:
    """Problems an anchor file kept outside the database finds (`--against`)."""
    if args.against is None:
        return []
    from oximon.store import anchor

    try:
        kept = anchor.load(args.against)
    except anchor.AnchorError as exc:
        raise UsageError(f"argument --against: {exc}") from None
    return store.check_anchor(kept, str(args.against))


def _save_anchor(store: Store, path: Path, heads: dict[str, tuple[int, str]]) -> None:
    from oximon.store import anchor

    try:
        anchor.save(path, anchor.make(heads, store.target.label))
    except OSError as exc:
        raise UsageError(f"argument --save-anchor: cannot write {path} ({exc.strerror})"
                         ) from None
    print(f"anchor written to {path}: keep it on other media (a USB key, a printout); "
          f"'oximon incidents verify --against {path}' checks the store against it",
          file=sys.stderr)


def _settings(store: Store, args: argparse.Namespace, form: str) -> int:
    changes = _setting_changes(args)
    if changes:
        try:
            values = store.change_settings(args.by, **changes)
        except IncidentError as exc:
            flag = "--" + str(exc).split(":")[0].replace("_", "-")
            raise UsageError(f"argument {flag}: {str(exc).split(': ', 1)[-1]}") from None
    else:
        values = store.settings()
    if form == "json":
        _emit(args, json.dumps(values, indent=2) + "\n")
    else:
        _emit(args, "".join(f"{k.replace('_', '-'):<16} {v:g}   ({SETTINGS[k][3]})\n"
                            for k, v in values.items()))
    return 0


def _selection(args: argparse.Namespace, n: int) -> str:
    """What an export holds, for the top of its first page."""
    parts = [f"oximon incidents: {n} incident{'' if n == 1 else 's'}"]
    if args.station:
        parts.append(f"station {args.station}")
    if args.since is not None:
        parts.append(f"opened from {fmt.when(args.since)}")
    if args.until is not None:
        parts.append(f"opened before {fmt.when(args.until)}")
    return ", ".join(parts)


def _pdf(store: Store, records: list[IncidentRecord], path: Path, title: str,
         heading: str) -> None:
    """The incidents as the review screen prints them (ui/review/documents.py), each with
    its trace: drawn headless, one incident at a time."""
    try:
        from oximon.ui.pdf import ensure_app
        from oximon.ui.review.documents import write_incidents_pdf
    except ImportError as exc:
        raise RuntimeFailure(f"cannot write a PDF: Qt is not available ({exc})") from None
    try:
        ensure_app()
    except RuntimeError as exc:
        raise RuntimeFailure(str(exc)) from None
    # iter_records leaves traces out; fetch each incident's own as its page is drawn
    incidents = (to_incident(rec if rec.trace is not None else
                             store.get_incident(rec.id, with_trace=True) or rec)
                 for rec in records)
    try:
        write_incidents_pdf(incidents, path, title, heading)
    except OSError as exc:
        raise UsageError(f"argument --output: cannot write {path} "
                         f"({exc.strerror or exc})") from None


def _emit(args: argparse.Namespace, text: str, tty_safe: bool = False) -> None:
    """Write to --output or stdout. Text meant for people (`tty_safe`), and anything bound
    for a terminal, has its control characters shown as U+FFFD: an alias or a note with
    escape codes must not drive the supervisor's terminal."""
    if args.output is None:
        if tty_safe or sys.stdout.isatty():
            text = printable(text)
        sys.stdout.write(text)
        return
    try:
        with open_private(args.output) as fh:
            fh.write(printable(text) if tty_safe else text)
    except OSError as exc:
        raise UsageError(f"argument --output: cannot write {args.output} ({exc.strerror})"
                         ) from None


_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def printable(text: str) -> str:
    """`text` with every control character but newline and tab replaced by U+FFFD."""
    return _CONTROL.sub("\ufffd", text)
