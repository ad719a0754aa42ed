"""`oximon incidents list|show ID|export|verify`: read, export and check the incident log.

Reading never changes a record; each export is written to the audit log (who exported
what, when), because an export carries health information off the store.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from datetime import date, datetime, timedelta
from pathlib import Path

from oximon.cli.errors import RuntimeFailure, UsageError
from oximon.review_store import to_incident
from oximon.store import (
    IncidentQuery,
    IncidentRecord,
    Store,
    StoreInputError,
    StoreUnavailable,
    open_store,
)
from oximon.store import export as fmt

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
    actions.add_parser("list", parents=[common], help="one line per incident")
    show = actions.add_parser("show", parents=[common], help="one incident in full")
    show.add_argument("id", metavar="ID", help="incident id (a unique prefix is enough)")
    actions.add_parser("export", parents=[common], help="all matching incidents (CSV default)")
    actions.add_parser("verify", parents=[common], help="check no record was edited or "
                       "deleted; exit 1 naming each one that was")
    p.set_defaults(run=run)


def _day_or_time(which: str):  # type: ignore[no-untyped-def]
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
    if form == "pdf" and args.action == "verify":
        raise UsageError("argument --format: verify prints text or json")
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
    if args.action == "verify":
        events, n, problems = store.verify()
        if form == "json":
            _emit(args, json.dumps({"ok": not problems, "records": events, "incidents": n,
                                    "problems": [p.__dict__ for p in problems]}, indent=2) + "\n")
        else:
            _emit(args, fmt.problems_text(events, n, problems))
        return 1 if problems else 0
    if args.action == "show":
        iid = store.resolve_id(args.id)
        rec = store.get_incident(iid) if iid else None
        if rec is None:
            raise UsageError(f"incident {args.id!r}: no such incident (see 'oximon incidents "
                             "list')")
        records = [rec]
        title, heading = f"oximon incident {rec.id}", ""
    elif args.action == "list" and form == "text":
        _emit(args, fmt.list_text(store.list_incidents(q)))
        return 0
    else:
        records = store.iter_records(q)
        title, heading = "oximon incidents", _selection(args, len(records))
    if form == "text":
        text = "".join(fmt.record_text(r) + "\n" for r in records)
    elif form == "csv":
        text = fmt.to_csv(records)
    elif form == "json":
        text = json.dumps(fmt.record_json(records[0]), indent=2, ensure_ascii=False) + "\n" \
            if args.action == "show" else fmt.to_json(records)
    else:
        text = None
    store.record_audit("viewed" if args.action == "show" else "exported",
                       records[0].id if args.action == "show" else None,
                       {"format": form, "incidents": len(records),
                        "output": str(args.output) if args.output else "stdout"})
    if text is None:
        _pdf(store, records, args.output, title, heading)
        return 0
    _emit(args, text)
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
        from ui.pdf import ensure_app
        from ui.review.documents import write_incidents_pdf
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
        fd = os.open(args.output, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as fh:
            fh.write(text)
    except OSError as exc:
        raise UsageError(f"argument --output: cannot write {args.output} ({exc.strerror})"
                         ) from None
