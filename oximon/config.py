"""Site configuration: which booths exist, what device each watches, and site settings.

A TOML file (default: `site.toml` in the user config folder) that the dashboard's station
manager edits and saves. Loading is strict like the profile: an unknown key or a wrong type
is a `ConfigError` naming the file and the key. The file is written atomically and private
(0600), because aliases and device assignments describe a health service.

    [site]
    name = "Main St OPS"
    profile = "bc-ops-default"      # or a path to a profile TOML
    db = "sqlite:////var/lib/oximon/oximon.db"   # optional, else the default store
    real_names = false              # aliases only, unless a site turns this on

    [[stations]]
    id = "booth-1"
    alias = "Booth 1"
    booth = "1"                     # optional: where it is (default: the id)
    source = "ble:AA:BB:CC:DD:EE:FF:berrymed"   # optional: a booth may have no device yet
    hub = "room-1"                  # optional: the computer (`oximon hub --name`) that owns
                                    # the device, on a site of several computers, whose
                                    # [site] db is then PostgreSQL (see oximon.site)
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import platformdirs
import tomli_w

from oximon.private_files import replace_private
from oximon.safe_files import UnsafeFile, load_toml
from oximon.safe_text import check_line

APP = "oximon"


class ConfigError(ValueError):
    """A site configuration that cannot be used; the message names the file and the key."""


@dataclass
class StationConfig:
    id: str
    alias: str = ""
    source: str = ""  # a --source spec; empty when no device is assigned yet
    booth: str = ""  # the booth's number or name on the wall; empty: the id
    hub: str = ""  # the hub (computer) that owns the device; empty: whoever opens the file


@dataclass
class SiteConfig:
    name: str = "oximon site"
    profile: str = ""
    db: str = ""
    real_names: bool = False
    stations: list[StationConfig] = field(default_factory=list)
    path: Path | None = None

    def hubs(self) -> dict[str, list[StationConfig]]:
        """Each hub named in the file and its booths, in file order."""
        out: dict[str, list[StationConfig]] = {}
        for s in self.stations:
            if s.hub:
                out.setdefault(s.hub, []).append(s)
        return out

    def station(self, sid: str) -> StationConfig:
        for s in self.stations:
            if s.id == sid:
                return s
        raise KeyError(sid)


def default_config_path() -> Path:
    return Path(platformdirs.user_config_dir(APP)) / "site.toml"


_SITE_KEYS: dict[str, type] = {"name": str, "profile": str, "db": str, "real_names": bool}
_STATION_KEYS: dict[str, type] = {"id": str, "alias": str, "source": str, "booth": str,
                                  "hub": str}


def _check(value: Any, kind: type, where: str) -> Any:
    if not isinstance(value, kind) or (kind is not bool and isinstance(value, bool)):
        word = {str: "text", bool: "true or false"}[kind]
        raise ConfigError(f"{where}: expected {word}, got {value!r}")
    if isinstance(value, str):
        try:
            check_line(value, where)  # an alias with escape codes reaches terminals and CSV
        except ValueError as exc:
            raise ConfigError(str(exc)) from None
    return value


def parse_config(raw: dict[str, Any], source: str) -> SiteConfig:
    cfg = SiteConfig()
    for key in raw:
        if key not in ("site", "stations"):
            raise ConfigError(f"{source}: unknown key '{key}' (use [site] and [[stations]])")
    site = raw.get("site", {})
    if not isinstance(site, dict):
        raise ConfigError(f"{source}: 'site' must be a table")
    for key, value in site.items():
        if key not in _SITE_KEYS:
            raise ConfigError(f"{source}: unknown key 'site.{key}'")
        setattr(cfg, key, _check(value, _SITE_KEYS[key], f"{source}: key 'site.{key}'"))
    stations = raw.get("stations", [])
    if not isinstance(stations, list):
        raise ConfigError(f"{source}: 'stations' must be a list of [[stations]] tables")
    seen: set[str] = set()
    for i, entry in enumerate(stations):
        where = f"{source}: stations[{i}]"
        if not isinstance(entry, dict):
            raise ConfigError(f"{where}: must be a table")
        for key in entry:
            if key not in _STATION_KEYS:
                raise ConfigError(f"{where}: unknown key '{key}'")
        if "id" not in entry:
            raise ConfigError(f"{where}: key 'id' is missing")
        values = {k: _check(v, _STATION_KEYS[k], f"{where}: key '{k}'") for k, v in entry.items()}
        if not values["id"].strip():
            raise ConfigError(f"{where}: key 'id' is empty")
        if values["id"] in seen:
            raise ConfigError(f"{where}: key 'id': {values['id']!r} is used twice")
        seen.add(values["id"])
        cfg.stations.append(StationConfig(**values))
    return cfg


def load_config(path: str | Path | None = None) -> SiteConfig:
    """Load the site configuration; a missing default file is an empty site, a missing
    named file is an error."""
    p = Path(path) if path is not None else default_config_path()
    try:
        raw = load_toml(p)
    except FileNotFoundError:
        if path is None:
            return SiteConfig(path=p)
        raise ConfigError(f"{p}: no such configuration file") from None
    except UnsafeFile as exc:
        raise ConfigError(str(exc)) from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{p}: not valid TOML ({exc})") from None
    cfg = parse_config(raw, str(p))
    cfg.path = p
    return cfg


def config_to_dict(cfg: SiteConfig) -> dict[str, Any]:
    site: dict[str, Any] = {"name": cfg.name, "real_names": cfg.real_names}
    if cfg.profile:
        site["profile"] = cfg.profile
    if cfg.db:
        site["db"] = cfg.db
    stations = []
    for s in cfg.stations:
        entry = {"id": s.id, "alias": s.alias}
        if s.booth:
            entry["booth"] = s.booth
        if s.source:
            entry["source"] = s.source
        if s.hub:
            entry["hub"] = s.hub
        stations.append(entry)
    return {"site": site, "stations": stations}


def save_config(cfg: SiteConfig, path: str | Path | None = None) -> Path:
    """Write atomically (temp file + rename) with mode 0600; returns the path written."""
    p = Path(path) if path is not None else (cfg.path or default_config_path())
    replace_private(p, tomli_w.dumps(config_to_dict(cfg)))
    cfg.path = p
    return p
