"""Alarm/detection profiles: TOML files whose every key is checked against a schema.

A profile is data, not code: a site can review and change thresholds without touching
Python. Loading is strict — an unknown key, a wrong type or an out-of-range value raises
`ProfileError` naming the file and the dotted key, because a typo in a safety threshold
must never be silently ignored.
"""

from __future__ import annotations

import functools
import math
import zlib
from pathlib import Path
from typing import Any, NamedTuple

from oximon import profile_floors as floors
from oximon.codes import Priority
from oximon.safe_files import UnsafeFile, load_toml

DEFAULT_PROFILE_NAME = "bc-ops-default"


class ProfileError(ValueError):
    """A profile file is unreadable or one of its keys is wrong (message names both)."""


class Rule(NamedTuple):
    """Schema entry: the type a key must have and the range it must fall in."""

    kind: type
    low: float | None = None
    high: float | None = None
    choices: tuple[str, ...] = ()  # for kind=str: the words allowed


_PRIORITY = Rule(Priority)
_SECONDS = Rule(float, 0.0, 3600.0)
_SPO2 = Rule(float, 0.0, 100.0)
_PR = Rule(float, 0.0, 300.0)

# section -> key -> rule. Extend here when a detector or alarm needs a new setting.
SCHEMA: dict[str, dict[str, Rule]] = {
    "averaging": {"window_s": Rule(float, 0.0, 60.0),
                  "method": Rule(str, choices=("median", "mean"))},
    "spo2_low": {"threshold": _SPO2, "delay_s": _SECONDS, "hysteresis": Rule(float, 0, 10),
                 "priority": _PRIORITY, "sat_seconds": Rule(float, 0.0, 1000.0)},
    "spo2_severe": {"threshold": _SPO2, "delay_s": _SECONDS, "hysteresis": Rule(float, 0, 10),
                    "priority": _PRIORITY},
    "spo2_drop": {"points": Rule(float, 1.0, 50.0), "delay_s": _SECONDS,
                  "baseline_window_s": Rule(float, 10.0, 3600.0), "priority": _PRIORITY,
                  "baseline_lag_s": Rule(float, 0.0, 600.0), "hysteresis": Rule(float, 0, 10)},
    "pr_low": {"threshold": _PR, "delay_s": _SECONDS, "priority": _PRIORITY,
               "hysteresis": Rule(float, 0, 50)},
    "pr_high": {"threshold": _PR, "delay_s": _SECONDS, "priority": _PRIORITY,
                "hysteresis": Rule(float, 0, 50)},
    "no_reading": {"delay_s": _SECONDS, "priority": _PRIORITY},
    # Added by the signal pipeline (issue 3): validity, artifacts, rate of fall, stale data,
    # batch events.
    "validity": {"spo2_min": _SPO2, "pr_min": _PR, "pr_max": _PR, "max_gap_s": _SECONDS},
    "artifact": {"max_step": Rule(float, 1.0, 100.0), "max_rate": Rule(float, 0.0, 100.0),
                 "hold_s": Rule(float, 0.0, 60.0)},
    "stale_data": {"delay_s": Rule(float, 0.5, 3600.0), "priority": _PRIORITY},
    "events": {"points": Rule(float, 1.0, 50.0), "min_duration_s": _SECONDS},
    "lost_device": {"priority": _PRIORITY, "escalate_to_high_s": _SECONDS,
                    "not_found_s": Rule(float, 1.0, 3600.0)},
    "battery_low": {"priority": _PRIORITY},
    "alarms": {"latch_high": Rule(bool), "escalate_after_s": _SECONDS,
               "audio_pause_s": Rule(float, 0.0, 120.0),
               "new_alarm_ends_pause": Rule(bool),
               # Issue 12: one alarm per booth episode.
               "episode_s": _SECONDS, "realarm_step": Rule(float, 0.0, 100.0),
               "reminder_s": _SECONDS},
    "watchdog": {"stall_s": Rule(float, 0.1, 60.0), "priority": _PRIORITY},
    "sound_unavailable": {"priority": _PRIORITY},
    "records_not_saved": {"priority": _PRIORITY},
    "sound": {"volume": Rule(float, 0.05, 1.0), "escalated_volume": Rule(float, 0.05, 1.0),
              "high_interburst_s": Rule(float, 2.5, 15.0),
              "medium_interburst_s": Rule(float, 2.5, 30.0),
              "low_interburst_s": Rule(float, 15.0, 120.0)},
    # Supervisor review (issue 8): how soon supervisor mode locks itself when idle, and
    # whether exported monthly tables hide small counts (1-4).
    "review": {"lock_after_s": Rule(float, 30.0, 3600.0), "suppress_small_counts": Rule(bool)},
    "incidents": {"resume_gap_s": Rule(float, 0.0, 3600.0)},
}


# Sections that existed once and were replaced: a site's old file is told what to do.
REPLACED = {"spo2_falling": "the rate-of-fall alarm was replaced by the integrated delay "
                            "'spo2_low.sat_seconds' (points x seconds below the limit); "
                            "remove the section"}


class Profile:
    """A validated profile. Read values as `profile["spo2_low"]["threshold"]` or
    `profile.get("spo2_low.threshold")`."""

    def __init__(self, name: str, sections: dict[str, dict[str, Any]], source: str):
        self.name = name
        self.source = source
        self._sections = sections

    def __getitem__(self, section: str) -> dict[str, Any]:
        return self._sections[section]

    def get(self, dotted: str) -> Any:
        section, key = dotted.split(".", 1)
        return self._sections[section][key]

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name} | {
            s: {k: (v.label if isinstance(v, Priority) else v) for k, v in keys.items()}
            for s, keys in self._sections.items()
        }

    def with_overrides(self, overrides: dict[str, Any]) -> Profile:
        """A copy with some dotted keys changed (validated like a file)."""
        raw = self.to_dict()
        for dotted, value in overrides.items():
            section, key = dotted.split(".", 1)
            raw.setdefault(section, {})[key] = value
        return _validate(raw, f"{self.source} (overridden)", defaults=None)

    @classmethod
    def default(cls) -> Profile:
        return load_profile(None)


@functools.cache
def _default_raw() -> dict[str, Any]:
    """The shipped default profile's table, read once per process (read-only here): the
    copy compiled into `oximon.profile_compiled` while the file is byte for byte the one
    it was compiled from (no TOML parser, no `tomllib` import: a few ms of every
    `oximon analyze`), else the file itself, parsed."""
    data = _default_path().read_bytes()
    from oximon import profile_compiled as compiled

    if (len(data), zlib.crc32(data)) == compiled.FINGERPRINT:
        return compiled.RAW
    import tomllib

    return tomllib.loads(data.decode("utf-8"))


@functools.cache
def _default_profile() -> Profile:
    """The default profile, validated once per process: `analyze()` without a profile and
    every command that uses the default share it. Profiles are read-only by convention
    (change one with `with_overrides`, which copies)."""
    return _validate(_default_raw(), f"{DEFAULT_PROFILE_NAME}.toml", defaults=None)


def _default_path() -> Path:
    # The file beside this module (package data; importlib.resources would cost a batch
    # analysis ~5 ms of imports: tempfile, shutil, bz2, lzma).
    return Path(__file__).with_name("profiles") / f"{DEFAULT_PROFILE_NAME}.toml"


def _coerce(value: Any, rule: Rule, where: str) -> Any:
    if rule.kind is Priority:
        if not isinstance(value, str):
            raise ProfileError(f"{where}: expected one of high, medium, low, got {value!r}")
        try:
            return Priority.parse(value)
        except ValueError as exc:
            raise ProfileError(f"{where}: {exc}") from None
    if rule.kind is str:
        if not isinstance(value, str) or (rule.choices and value not in rule.choices):
            raise ProfileError(f"{where}: expected one of {', '.join(rule.choices)}, "
                               f"got {value!r}")
        return value
    if rule.kind is bool:
        if not isinstance(value, bool):
            raise ProfileError(f"{where}: expected true or false, got {value!r}")
        return value
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ProfileError(f"{where}: expected a number, got {value!r}")
    value = float(value)
    if not math.isfinite(value):  # TOML allows nan and inf; NaN passes every comparison
        raise ProfileError(f"{where}: expected a finite number, got {value!r}")
    if (rule.low is not None and value < rule.low) or (rule.high is not None and value > rule.high):
        raise ProfileError(f"{where}: {value:g} is outside {rule.low:g}..{rule.high:g}")
    return value


def _validate(raw: dict[str, Any], source: str, defaults: dict[str, Any] | None) -> Profile:
    name = raw.get("name", Path(source).stem)
    if not isinstance(name, str):
        raise ProfileError(f"{source}: key 'name': expected text")
    sections: dict[str, dict[str, Any]] = {}
    for section, value in raw.items():
        if section == "name":
            continue
        if section in REPLACED:
            raise ProfileError(f"{source}: section [{section}]: {REPLACED[section]}")
        if section not in SCHEMA:
            raise ProfileError(f"{source}: unknown section [{section}]")
        if not isinstance(value, dict):
            raise ProfileError(f"{source}: [{section}] must be a table")
        for key in value:
            if key not in SCHEMA[section]:
                raise ProfileError(f"{source}: unknown key '{section}.{key}'")
    for section, rules in SCHEMA.items():
        given = raw.get(section, {})
        base = (defaults or {}).get(section, {})
        out: dict[str, Any] = {}
        for key, rule in rules.items():
            where = f"{source}: key '{section}.{key}'"
            if key in given:
                out[key] = _coerce(given[key], rule, where)
            elif key in base:
                out[key] = _coerce(base[key], rule, where)
            else:
                raise ProfileError(f"{where} is missing")
        sections[section] = out
    for key, why in floors.problems(lambda dotted: sections[dotted.split(".", 1)[0]][
            dotted.split(".", 1)[1]]):
        raise ProfileError(f"{source}: key '{key}': {why}")
    return Profile(name, sections, source)


def load_profile(path: str | Path | None) -> Profile:
    """Load a profile file (keys it omits come from the default), or the default profile.

    `path` may also be a bare profile name of a shipped profile ("bc-ops-default").
    """
    if path is None or str(path) == DEFAULT_PROFILE_NAME:
        return _default_profile()
    import tomllib  # (here: the default profile needs no TOML parser)

    default_raw = _default_raw()
    p = Path(path)
    try:
        raw = load_toml(p)
    except FileNotFoundError:
        raise ProfileError(f"{p}: no such profile file") from None
    except UnsafeFile as exc:
        raise ProfileError(str(exc)) from None
    except tomllib.TOMLDecodeError as exc:
        raise ProfileError(f"{p}: not valid TOML ({exc})") from None
    return _validate(raw, str(p), defaults=default_raw)
