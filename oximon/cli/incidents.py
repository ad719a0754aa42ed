"""`oximon incidents list|show ID|export|verify`: read, export and check the incident log.

Reading never changes a record; each export is written to the audit log (who exported
what, when), because an export carries health information off the store.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable
from datetime import date, datetime, timedelta
from pathlib import Path

from oximon.cli.errors import RuntimeFailure, UsageError
from oximon.private_files import open_private
from oximon.review_store import to_incident
from oximon.store import (
    IncidentError,
    IncidentQuery,
    IncidentRecord,
    Store,
    StoreInputError,
    StoreUnavailable,
    open_store,
)
from oximon.store import export as fmt
from oximon.store.store import SETTINGS

FORMATS = ("text", "csv", "json", "pdf")


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("incidents", help="list, show, export or verify recorded incidents",
                       description="Read the incident log. Text formats go to stdout unless "
                       "--output is given; PDF needs --output.")
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--format", choices=FORMATS, help="output format")
    common.add_argument("--since", type=_day_or_time("since"), metavar="DATE",
                        help="incidents opened on/after DATE (YYYY-MM-DD or ISO time, local)")
    common.add_argument("--until", type=_day_or_time("until"), metavar="DATE",
                        help="incidents opened before the end of DATE (or before an ISO time)")
    common.add_argument("--station", metavar="ID", help="only this station")
    common.add_argument("--output", type=Path, metavar="FILE", help="write to FILE")
    common.add_argument("--db", metavar="URL", help="incident store (default: SQLite in the "
                        "user data folder)")
    actions = p.add_subparsers(dest="action", metavar="ACTION", required=True)
    listing = actions.add_parser("list", parents=[common], help="one line per incident, "
                                 "newest first, a page at a time")
    listing.add_argument("--limit", type=_count("--limit", 1), default=DEFAULT_LIMIT,
                         metavar="N", help=f"at most N incidents (default {DEFAULT_LIMIT}); "
                         "the count of all that match goes to stderr")
    listing.add_argument("--offset", type=_count("--offset", 0), default=0, metavar="N",
                         help="skip the newest N matching incidents (the next page)")
    show = actions.add_parser("show", parents=[common], help="one incident in full, with "
                              "the alarm log over its period")
    show.add_argument("id", metavar="ID", help="incident id (a unique prefix is enough)")
    actions.add_parser("export", parents=[common], help="all matching incidents (CSV default)")
    verify = actions.add_parser(
        "verify", parents=[common], help="check no record was edited or deleted; exit 1 "
        "naming each one that was", formatter_class=argparse.RawDescriptionHelpFormatter,
        description=VERIFY_HELP)
    verify.add_argument("--against", type=Path, metavar="FILE", help="also check against "
                        "an anchor file kept outside the database (see --save-anchor)")
    verify.add_argument("--save-anchor", type=Path, metavar="FILE", help="after a clean "
                        "check, write the chain heads to FILE: keep it on other media")
    settings = actions.add_parser(
        "settings", parents=[common], help="show or change the site settings kept in the "
        "store (retention, quiet close)", description="Settings every monitoring station "
        "using this store follows (a running monitor takes a change within the hour). "
        "Each change is written to the audit log.")
    settings.add_argument("--retention-days", type=float, metavar="DAYS",
                          help="keep readings this many days (1-3650; default 30). Incident "
                          "traces are kept with their incident whatever this says")
    settings.add_argument("--quiet-close-min", type=float, metavar="MIN",
                          help="close an incident nobody closed after this many minutes "
                          "with no high alarm, outcome 'not recorded' (1-240; default 10)")
    settings.add_argument("--by", default="", metavar="NAME",
                          help="who is changing them (default: the computer's user)")
    p.set_defaults(run=run)


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


def _count(flag: str, lowest: int) -> Callable[[str], int]:
    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
        if value < lowest:
            raise argparse.ArgumentTypeError(f"{flag} must be at least {lowest}")
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
    form = args.format or ("csv" if args.action == "export" else "text")
    if form not in ("text", "json") and args.action in ("verify", "settings"):
        raise UsageError(f"argument --format: {args.action} prints text or json")
    if form == "pdf" and args.output is None:
        raise UsageError("argument --output: a PDF needs --output FILE")
    try:
        store = open_store(args.db, writer=False, create=False)
    except StoreInputError as exc:
        raise UsageError(f"--db: {exc}") from None
    except StoreUnavailable as exc:
        raise RuntimeFailure(str(exc)) from None
    try:
        return _run(store, args, form)
    except StoreUnavailable as exc:
        raise RuntimeFailure(str(exc)) from None
    finally:
        store.close()


def _run(store: Store, args: argparse.Namespace, form: str) -> int:
    q = IncidentQuery(since_ts=args.since, until_ts=args.until, station=args.station)
    if args.action == "settings":
        return _settings(store, args, form)
    if args.action == "verify":
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
            _emit(args, fmt.problems_text(events, n, problems) + fmt.heads_text(heads))
        if args.save_anchor is not None and not problems:
            _save_anchor(store, args.save_anchor, heads)
        return 1 if problems else 0
    if args.action == "list":
        page = IncidentQuery(since_ts=args.since, until_ts=args.until, station=args.station,
                             limit=args.limit, offset=args.offset)
        rows = store.list_incidents(page)
        total = store.count_incidents(q)
        if total > len(rows) or args.offset:
            first = args.offset + 1 if rows else args.offset
            more = (f"; next page: --offset {args.offset + len(rows)}"
                    if args.offset + len(rows) < total else "")
            print(f"showing {first}-{args.offset + len(rows)} of {total} incidents{more}",
                  file=sys.stderr)
        if form == "text":
            _emit(args, fmt.list_text(rows))
            return 0
        q = page
    if args.action == "show":
        iid = store.resolve_id(args.id)
        rec = store.get_incident(iid) if iid else None
        if rec is None:
            raise UsageError(f"incident {args.id!r}: no such incident (see 'oximon incidents "
                             "list')")
        records = [rec]
        title, heading = f"oximon incident {rec.id}", ""
        history = store.incident_alarms(rec)
    else:
        records = store.iter_records(q)
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
            _emit(args, text)
    except (UsageError, RuntimeFailure) as exc:  # written down as failed, never as done
        store.record_audit("export_failed", access[0], {**access[1], "error": str(exc)})
        raise
    store.record_audit(done, *access)
    return 0


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
    changes = {k: v for k, v in (("retention_days", args.retention_days),
                                 ("quiet_close_min", args.quiet_close_min)) if v is not None}
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


def _emit(args: argparse.Namespace, text: str) -> None:
    if args.output is None:
        sys.stdout.write(text)
        return
    try:
        with open_private(args.output) as fh:
            fh.write(text)
    except OSError as exc:
        raise UsageError(f"argument --output: cannot write {args.output} ({exc.strerror})"
                         ) from None
