"""`oximon site`: the site of several computers from a shell.

`status` prints every configured booth as every screen must see it (numbers only while its
hub is alive); `ack` acknowledges a booth's alarm through its owning hub, audited there
like a tap (for a pager bridge, or a test). Exit 1 when the site database cannot be
reached, or the hub did not apply the acknowledgement.
"""

from __future__ import annotations

import argparse
import json
import socket
import sys

import psycopg

from oximon.cli import COMMANDS
from oximon.cli.errors import RuntimeFailure, UsageError
from oximon.cli.hub import site_url
from oximon.cli.wiring import get_config
from oximon.config import SiteConfig
from oximon.site import commands
from oximon.site.schema import connect, ensure_schema
from oximon.site.state import BoothStatus, SiteSnapshot, booth_status
from oximon.site.viewer import read_site
from oximon.store import StoreInputError, StoreUnavailable, open_store

ACK_WAIT_S = 5.0


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("site", help=COMMANDS["site"],
                       description="Look at and act on a site whose booths run on hubs "
                       "('oximon hub'), through the site's PostgreSQL.")
    what = p.add_subparsers(dest="site_command", metavar="ACTION", required=True)
    st = what.add_parser("status", help="every booth of the site, one line (or JSON) each")
    st.add_argument("--config", required=True, metavar="SITE", help="site configuration")
    st.add_argument("--json", action="store_true", help="one JSON object per line")
    st.set_defaults(run=run_status)
    ack = what.add_parser("ack", help="acknowledge a booth's alarm on its hub")
    ack.add_argument("booth", metavar="BOOTH", help="the booth's station id")
    ack.add_argument("--config", required=True, metavar="SITE", help="site configuration")
    ack.add_argument("--by", required=True, metavar="NAME", help="who acknowledges (recorded)")
    ack.set_defaults(run=run_ack)
    init = what.add_parser("init", help="make the site database's tables (once, with the "
                           "owner's login: see the README's roles)")
    init.add_argument("--config", required=True, metavar="SITE", help="site configuration")
    init.set_defaults(run=run_init)


def _connect(url: str) -> psycopg.Connection:
    try:
        return connect(url, "site cli")
    except psycopg.Error as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise RuntimeFailure(f"cannot reach the site database: {first}") from None


def site_lines(config: SiteConfig, snap: SiteSnapshot) -> list[BoothStatus]:
    """Every configured booth with a hub, in file order."""
    return [booth_status(s.id, s.hub, snap.booths.get(s.id), snap.hubs.get(s.hub),
                         snap.ages.get(s.id), s.alias or s.id)
            for s in config.stations if s.hub]


def run_status(args: argparse.Namespace) -> int:
    config = get_config(args.config)
    url = site_url(config)
    with _connect(url) as conn:
        try:
            snap = read_site(conn)
        except psycopg.Error as exc:
            raise RuntimeFailure(f"cannot read the site database: {exc}") from None
    for line in site_lines(config, snap):
        if args.json:
            print(json.dumps(line.to_json(), ensure_ascii=False))
        else:
            print(_human(line))
    return 0


def _human(line: BoothStatus) -> str:
    hub = f"{line.hub} {'alive' if line.hub_alive else 'NOT ALIVE'}"
    nums = (f"SpO2 {_n(line.spo2):>3}  PR {_n(line.pr):>3}  {line.device_state}"
            if line.hub_alive else "not monitored")
    alarm = ""
    if line.alarm is not None:
        who = f" by {line.alarm['acknowledged_by']}" if line.alarm["acknowledged_by"] else ""
        alarm = (f"  {line.alarm['priority'].upper()} {line.alarm_words} "
                 f"({line.alarm['state']}{who})")
    said = f"  last response: {line.responses[-1][0]}" if line.responses else ""
    return f"{line.label:<12} {hub:<20} {nums}{alarm}{said}"


def _n(x: float | None) -> str:
    return "--" if x is None else f"{x:.0f}"


def run_init(args: argparse.Namespace) -> int:
    """The incident store's tables (migrated to the newest revision) and the live tables,
    made by the role that owns them, so hubs and screens need no right to change the
    schema. Safe to run again (an upgrade brings both up to date)."""
    config = get_config(args.config)
    url = site_url(config)
    try:
        open_store(config.db, create=True).close()
    except (StoreInputError, StoreUnavailable) as exc:
        raise RuntimeFailure(f"cannot make the site's records: {exc}") from None
    with _connect(url) as conn:
        try:
            ensure_schema(conn)
        except psycopg.Error as exc:
            raise RuntimeFailure(f"cannot make the site's live tables: {exc}") from None
    print(f"{config.path}: site database ready (records and live tables)")
    return 0


def run_ack(args: argparse.Namespace) -> int:
    config = get_config(args.config)
    url = site_url(config)
    by = args.by.strip()
    if not by:
        raise UsageError("argument --by: say who acknowledges (a name or role)")
    try:
        station = config.station(args.booth)
    except KeyError:
        known = ", ".join(s.id for s in config.stations) or "none"
        raise UsageError(f"argument BOOTH: no booth {args.booth!r} in {config.path} "
                         f"(booths: {known})") from None
    if not station.hub:
        raise UsageError(f"{config.path}: booth {station.id!r} has no 'hub': it is not run by "
                         "a hub of the site")
    with _connect(url) as conn:
        try:
            snap = read_site(conn)
            hub = snap.hubs.get(station.hub)
            if hub is None or not hub.alive:
                raise RuntimeFailure(f"hub {station.hub} is not running: {station.id} is not "
                                     "monitored; nothing was acknowledged")
            cid = commands.send(conn, station.hub, "acknowledge", by, socket.gethostname(),
                                booth=station.id)
            result = commands.wait_result(conn, cid, ACK_WAIT_S)
        except psycopg.errors.UndefinedTable:
            raise RuntimeFailure(f"hub {station.hub} has never run on this site database: "
                                 "nothing was acknowledged") from None
        except psycopg.Error as exc:
            raise RuntimeFailure(f"cannot use the site database: {exc}") from None
    if result is None:
        raise RuntimeFailure(f"hub {station.hub} did not apply the acknowledgement within "
                             f"{ACK_WAIT_S:g} s (command {cid} stays queued for "
                             f"{commands.STALE_S:g} s)")
    print(f"{station.id}: {result} (hub {station.hub})", file=sys.stdout)
    return 0 if not result.startswith(("not applied", "failed")) else 1
