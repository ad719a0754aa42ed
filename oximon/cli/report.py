"""`oximon report --month YYYY-MM`: the monthly report to the health authority (PDF through
Qt's own PDF writer, or CSV), figures per station and in total, small counts suppressed
unless the profile's `review.suppress_small_counts` is false."""

from __future__ import annotations

import argparse
import getpass
import sys
from collections.abc import Callable
from pathlib import Path

from oximon.cli.errors import RuntimeFailure, UsageError
from oximon.cli.wiring import add_store_options, demo_hint, get_profile, open_db, store_choice
from oximon.report import (
    MonthlyReport,
    build_report,
    month_bounds,
    parse_month,
    to_csv,
    write_private_text,
)
from oximon.review import IncidentFilter
from oximon.review_store import StoreReview
from oximon.store import StoreUnavailable


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("report", help="the monthly report (PDF or CSV)",
                       description="Monthly figures per station and in total: incidents, "
                       "naloxone doses, 9-1-1 calls, transports, median response times. "
                       "Counts of 1-4 are shown as '<5' unless the profile's "
                       "review.suppress_small_counts is false.")
    p.add_argument("--month", required=True, type=_month, metavar="YYYY-MM",
                   help="the calendar month (local time)")
    p.add_argument("--format", choices=("pdf", "csv"),
                   help="pdf or csv (default: from the --output suffix, else csv)")
    p.add_argument("--output", type=Path, metavar="FILE",
                   help="write to FILE (created private, 0600); CSV goes to stdout without it")
    add_store_options(p)
    p.add_argument("--profile", metavar="NAME|FILE", help="profile with the [review] settings")
    p.add_argument("--site", default="", metavar="NAME",
                   help="site name for the PDF heading (PDF only)")
    p.set_defaults(run=run)


def _month(text: str) -> tuple[int, int]:
    try:
        return parse_month(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def run(args: argparse.Namespace) -> int:
    form = args.format or ("pdf" if args.output and args.output.suffix.lower() == ".pdf"
                           else "csv")
    if form == "pdf" and args.output is None:
        raise UsageError("argument --output: a PDF needs --output FILE")
    if args.site and form != "pdf":
        raise UsageError("argument --site: only for a PDF (the CSV has no heading); add "
                         "--format pdf --output FILE")
    if args.output is not None and not args.output.parent.is_dir():
        raise UsageError(f"argument --output: no folder {args.output.parent}")
    profile = get_profile(args.profile)
    year, month = args.month
    db = store_choice(args)
    store = open_db(db, create=db is None)  # the site's log: empty until the first run
    try:
        review = StoreReview(store)
        start, end = month_bounds(year, month)
        incidents = review.list_incidents(IncidentFilter(since_ts=start, until_ts=end))
        report = build_report(incidents, year, month,
                              suppress=profile["review"]["suppress_small_counts"],
                              stations=review.stations())
        if not incidents:
            demo_hint(args, 0)
        if form == "csv":
            text = to_csv(report)
            if args.output is None:
                sys.stdout.write(text)
            else:
                _write(lambda: write_private_text(args.output, text), args.output)
        else:
            _write(lambda: _pdf(report, args.output, args.site), args.output)
        # The review window's word for the same act; by: who ran it on this computer.
        review.audit("report.exported", _user(), {"month": report.month_key, "format": form,
                                                  "suppressed": report.suppress,
                                                  "output": str(args.output or "stdout")})
    except StoreUnavailable as exc:
        raise RuntimeFailure(str(exc)) from None
    finally:
        store.close()
    return 0


def _user() -> str:
    try:
        return getpass.getuser()
    except (OSError, KeyError):
        return "unknown"


def _write(write: Callable[[], object], path: Path) -> None:
    try:
        write()
    except OSError as exc:
        raise UsageError(f"argument --output: cannot write {path} ({exc.strerror})") from None


def _pdf(report: MonthlyReport, path: Path, site: str) -> None:
    try:
        from oximon.ui.pdf import ensure_app
        from oximon.ui.review.documents import write_monthly_pdf
    except ImportError as exc:
        raise RuntimeFailure(f"cannot write a PDF: Qt is not available ({exc})") from None
    try:
        ensure_app()  # headless when there is no display
    except RuntimeError as exc:
        raise RuntimeFailure(str(exc)) from None
    write_monthly_pdf(report, path, site)
