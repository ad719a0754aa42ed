"""A booth's own settings for the guest in it: limits a supervisor adjusted (e.g. a resting
pulse of 45) and standby (no guest: no "no reading" alarms).

Why per booth: alarm rates differ a lot between people (MIMIC-II: 10 % of patients cause
most alarms), so a guest whose pulse sits at 45 while asleep should not make the whole
site lower its pulse limit. Only the keys below may differ per booth, always within the
profile's safety floors (`oximon.profile_floors`); standby and a new guest reset them.
"""

from __future__ import annotations

from dataclasses import dataclass, field

# The limits a supervisor may set for one guest, with the words the tile uses.
BOOTH_KEYS: dict[str, str] = {
    "pr_low.threshold": "pulse low",
    "pr_high.threshold": "pulse high",
    "spo2_low.threshold": "SpO2 low",
}

# Conditions a booth in standby does not raise: nobody is there to check on.
STANDBY_QUIET = frozenset({"no_reading", "stale_data"})


class BoothSettingsError(ValueError):
    """A booth setting that cannot be used (the message names the booth and the key)."""


@dataclass
class BoothSettings:
    """One booth's limits (dotted profile keys → values) and whether it is in standby."""

    limits: dict[str, float] = field(default_factory=dict)
    standby: bool = False

    def words(self, site: dict[str, float]) -> str:
        """What the tile says: "Standby", "limits: pulse 45–140" or "" (site limits)."""
        if self.standby:
            return "Standby"
        if not self.limits:
            return ""
        parts = []
        if "pr_low.threshold" in self.limits or "pr_high.threshold" in self.limits:
            lo = self.limits.get("pr_low.threshold", site["pr_low.threshold"])
            hi = self.limits.get("pr_high.threshold", site["pr_high.threshold"])
            parts.append(f"pulse {lo:.0f}–{hi:.0f}")
        if "spo2_low.threshold" in self.limits:
            parts.append(f"SpO2 < {self.limits['spo2_low.threshold']:.0f} %")
        return "limits: " + ", ".join(parts)


def checked(station: str, limits: dict[str, float]) -> dict[str, float]:
    """The limits if every key may be set per booth (else BoothSettingsError)."""
    for key in limits:
        if key not in BOOTH_KEYS:
            raise BoothSettingsError(f"booth {station}: '{key}' cannot be set per booth "
                                     f"(only {', '.join(BOOTH_KEYS)})")
    return dict(limits)
