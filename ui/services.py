"""What the dashboard window works with besides its model: one typed, frozen set, built by
the composition root (`oximon.cli.dashboard_services`). The window builds no defaults.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from PySide6.QtWidgets import QWidget

from oximon.ports import IncidentLog
from oximon.profile import Profile
from oximon.review import ReviewBackend
from oximon.station_book import StationBook
from oximon.supervisor import SupervisorSession
from oximon.ui.devices import Discovery, Opener
from oximon.ui.settings import AuditSink

Login = Callable[[SupervisorSession, QWidget], bool]
Confirm = Callable[[QWidget, str, str], bool]


@dataclass(frozen=True)
class DashboardServices:
    """- `incident_log`: the store as an IncidentLog, or an in-memory one (`saving` False:
      the panels say records are not being saved);
    - `discover` / `open_source`: device discovery and the source-spec opener for pairing;
    - `audit` / `apply_profile` / `save_profile`: where settings changes are audited, how a
      new profile is applied, how it is kept for the next start (None: not kept);
    - `session`: supervisor mode (one per app, shared by settings and the review window);
    - `review`: the incident store as the review window's backend (None: no review button);
    - `station_book`: keeps the site configuration in step with pairing, rename, swap and
      remove (None: changes last until the app stops, as in the demo);
    - `login` / `confirm`: the supervisor password prompt and the yes/no question (kiosk
      mode and quitting while stations are monitored)."""

    incident_log: IncidentLog
    saving: bool
    discover: Discovery
    open_source: Opener
    audit: AuditSink
    apply_profile: Callable[[Profile], str]
    session: SupervisorSession
    login: Login
    confirm: Confirm
    save_profile: Callable[[Profile], object] | None = None
    review: ReviewBackend | None = None
    station_book: StationBook | None = None
