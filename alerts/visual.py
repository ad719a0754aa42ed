"""How each alarm priority looks: the source of truth the UI imports.

IEC 60601-1-8 (medical alarm systems) asks that priority be told apart by colour *and*
flashing rate, and oximon adds words and a shape to each, so nobody has to rely on colour
alone (colour blindness, glare, a glance from across the room). Pure data: no Qt here.
"""

from __future__ import annotations

from dataclasses import dataclass

from oximon.types import Priority


@dataclass(frozen=True, slots=True)
class AlarmVisual:
    """One priority's look. `flash_hz` 0 means steady; `duty` is the lit share of a flash."""

    words: str
    colour: str
    shape: str
    flash_hz: float
    duty: float = 0.5

    @property
    def flashes(self) -> bool:
        return self.flash_hz > 0

    def lit(self, seconds: float) -> bool:
        """Whether the indicator is lit `seconds` after the alarm began showing."""
        if not self.flashes:
            return True
        return (seconds * self.flash_hz) % 1.0 < self.duty


# IEC 60601-1-8 table 2: high = red, 1.4–2.8 Hz, 20–60 % duty; medium = yellow, 0.4–0.8 Hz,
# 20–60 % duty; low = cyan or yellow, steady. oximon's choices sit inside those ranges.
HIGH_FLASH_RANGE_HZ = (1.4, 2.8)
MEDIUM_FLASH_RANGE_HZ = (0.4, 0.8)

ALARM_VISUALS: dict[Priority, AlarmVisual] = {
    Priority.HIGH: AlarmVisual("HIGH ALARM", "#ff1744", "■", 2.0, 0.5),
    Priority.MEDIUM: AlarmVisual("ALARM", "#ffd600", "▲", 0.6, 0.5),
    Priority.LOW: AlarmVisual("Notice", "#18ffff", "●", 0.0, 1.0),
    Priority.NONE: AlarmVisual("", "#888888", "", 0.0, 1.0),
}

# An escalated alarm (unacknowledged too long) takes the whole screen: same colour and rate
# as high, with words that say what happened.
ESCALATED_VISUAL = AlarmVisual("NOBODY HAS ACKNOWLEDGED — CHECK NOW", "#ff1744", "■", 2.0, 0.5)
# A latched high alarm whose condition has cleared still shows (steady), so people see what
# happened ("was 84 %, now 95 %") until someone acknowledges it.
LATCHED_WORDS = "was"
ACKNOWLEDGED_WORDS = "acknowledged"

# What each condition means, in the words a peer worker reads on the tile and banner.
CONDITION_WORDS: dict[str, str] = {
    "spo2_low": "Low oxygen — check breathing, SAVE ME",
    "spo2_severe": "Severe low oxygen — check breathing now, SAVE ME",
    "spo2_drop": "Oxygen dropping — look now",
    "pr_low": "Pulse low",
    "pr_high": "Pulse high",
    "no_reading": "No reading — check on the person",
    "lost_device": "Lost device",
    "device_not_found": "Device not found — check it is on and near",
    "battery_low": "Battery low",
    "monitoring_stopped": "Monitoring stopped — check every person in person",
    "sound_unavailable": "Sound unavailable — alarms will not be heard, watch the screen",
}


# The fewest words that still say what is wrong, for a tile too narrow for the sentence.
SHORT_WORDS: dict[str, str] = {
    "spo2_low": "Low oxygen",
    "spo2_severe": "Severe low",
    "spo2_drop": "Dropping",
    "no_reading": "No reading",
    "lost_device": "Lost",
    "device_not_found": "Not found",
    "battery_low": "Battery",
    "monitoring_stopped": "Stopped",
    "sound_unavailable": "No sound",
}


def condition_words(condition: str) -> str:
    return CONDITION_WORDS.get(condition, condition.replace("_", " ").capitalize())


def visual_for(priority: Priority, escalated: bool = False) -> AlarmVisual:
    return ESCALATED_VISUAL if escalated else ALARM_VISUALS[priority]
