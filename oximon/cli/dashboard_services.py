"""The dashboard's services (`oximon.ui.services.DashboardServices`), built here, in the
composition root: what is not handed in gets the demo's working default."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from oximon.engine import Engine
from oximon.incident_log import ResponseNoting, StoreIncidentLog
from oximon.ports import IncidentLog
from oximon.profile import Profile
from oximon.review import ReviewBackend
from oximon.station_book import StationBook
from oximon.store.store import Store
from oximon.supervisor import PasswordFile, SupervisorSession
from oximon.ui.devices import Discovery, Opener, simulated_discovery
from oximon.ui.services import Confirm, DashboardServices, Login
from oximon.ui.settings import AuditSink


def build_services(engine: Engine, *, incident_log: IncidentLog | Store | None = None,
                   discover: Discovery | None = None, open_source: Opener | None = None,
                   audit: AuditSink | None = None,
                   apply_profile: Callable[[Profile], str] | None = None,
                   save_profile: Callable[[Profile], object] | None = None,
                   session: SupervisorSession | None = None,
                   review: ReviewBackend | None = None,
                   station_book: StationBook | None = None,
                   login: Login | None = None,
                   confirm: Confirm | None = None) -> DashboardServices:
    """No incident log: an in-memory one (records not saved, said on screen); no audit
    sink: the settings audit file; no profile applier: the running engine takes a new
    profile for every station at once; no session: supervisor mode audited there too."""
    from oximon.drivers import open_source as open_spec
    from oximon.ui.incident_memory import MemoryIncidentLog
    from oximon.ui.response import ask_yes_no
    from oximon.ui.review.login import ensure_supervisor
    from oximon.ui.settings import default_audit_sink

    if isinstance(incident_log, Store):
        incident_log = StoreIncidentLog(incident_log)
    sink = audit or default_audit_sink()

    def audit_supervisor(action: str, by: str, details: dict[str, Any]) -> None:
        sink({"type": "audit", "action": action, "by": by, "key": None, **details})

    def apply_here(profile: Profile) -> str:
        n = engine.apply_profile(profile)
        return (f"In force now on all {n} station(s): alarm rules, tile bands and audio "
                "pause.")

    return DashboardServices(
        incident_log=ResponseNoting(incident_log or MemoryIncidentLog(), engine),
        saving=incident_log is not None,
        discover=discover or simulated_discovery(engine),
        open_source=open_source or open_spec,
        audit=sink,
        apply_profile=apply_profile or apply_here,
        session=session or SupervisorSession(
            PasswordFile(), lock_after_s=engine.profile["review"]["lock_after_s"],
            audit=audit_supervisor),
        login=login or ensure_supervisor,
        confirm=confirm or ask_yes_no,
        save_profile=save_profile,
        review=review,
        station_book=station_book,
    )
