"""The site configuration's booths, kept in step with what people do on the dashboard.

Pairing a device to a booth, renaming, swapping devices between booths and removing a
booth all happen on the running wall; without this they would be forgotten at the next
start. The book remembers which source spec ("ble:AA:..:plx", "serial:/dev/ttyUSB0") each
station was opened from and rewrites the `[[stations]]` of the site file (atomically,
0600, through `save_config`) after every change, so each device reconnects to the same
booth, alias and station id after a restart — and the incident store keeps filing its
records under the same station.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from oximon.config import SiteConfig, StationConfig, save_config
from oximon.types import Station


class StationBook:
    def __init__(self, config: SiteConfig):
        self.config = config
        self.specs: dict[str, str] = {s.id: s.source for s in config.stations if s.source}

    def paired(self, station_id: str, spec: str) -> None:
        """A device opened from `spec` now feeds `station_id` (saved with the next `save`)."""
        self.specs[station_id] = spec

    def save(self, stations: Iterable[Station]) -> Path:
        """The running stations, in wall order, become the site's `[[stations]]`."""
        entries = []
        hubs = {s.id: s.hub for s in self.config.stations}  # which computer owns each booth
        for st in stations:
            entries.append(StationConfig(st.id, alias=st.alias, source=self.specs.get(st.id, ""),
                                         booth="" if st.booth == st.id else st.booth,
                                         hub=hubs.get(st.id, "")))
        keep = {e.id for e in entries}
        self.specs = {sid: spec for sid, spec in self.specs.items() if sid in keep}
        self.config.stations = entries
        return save_config(self.config)
