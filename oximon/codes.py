"""The two codes batch analysis needs: a reading's `Flags` and an alarm's `Priority`.

Kept apart from `oximon.types` (which re-exports both: one class each, whichever module
names it) because that module's dataclasses cost every `oximon analyze` ~4 ms to create,
and the batch path uses none of them.
"""

from __future__ import annotations

import enum


class Flags(enum.IntFlag):
    """Why a reading is missing or doubtful, as reported by (or inferred from) the device."""

    NONE = 0
    FINGER_OUT = enum.auto()
    SEARCHING = enum.auto()
    LOW_SIGNAL = enum.auto()
    LOW_BATTERY = enum.auto()
    MOTION = enum.auto()

    def names(self) -> list[str]:
        """Lower-case flag names, stable for JSON and CSV ("finger_out", ...)."""
        return [(f.name or "").lower() for f in Flags if f in self]

    @classmethod
    def parse(cls, text: str) -> Flags:
        """Inverse of `names()`: "finger_out|motion" -> Flags. Raises ValueError naming the word."""
        result = cls.NONE
        for word in text.replace(";", "|").replace(" ", "|").split("|"):
            word = word.strip()
            if not word:
                continue
            try:
                result |= cls[word.upper()]
            except KeyError:
                raise ValueError(f"unknown flag {word!r}") from None
        return result


class Priority(enum.IntEnum):
    """Alarm priority; the integer orders them (higher is more urgent)."""

    NONE = 0
    LOW = 1
    MEDIUM = 2
    HIGH = 3

    @property
    def label(self) -> str:
        return self.name.lower()

    @classmethod
    def parse(cls, text: str) -> Priority:
        try:
            return cls[text.strip().upper()]
        except KeyError:
            raise ValueError(f"unknown priority {text!r} (use high, medium, low)") from None
