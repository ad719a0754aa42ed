"""Alarm system: turns detector conditions into alarms people can acknowledge.

Pure logic (manager, tones, visuals, sound decisions) imports no Qt; `alerts.qt_sound` is
the one module that does, lazily.
"""

from alerts.manager import SYSTEM_STATION, AlarmManager, AlarmView, Audible, HistoryEntry
from alerts.sound import FakeSoundSink, SoundController, SoundSink, attach_sound
from alerts.watchdog import WatchdogThread, engine_stopped

__all__ = [
    "SYSTEM_STATION",
    "AlarmManager",
    "AlarmView",
    "Audible",
    "FakeSoundSink",
    "HistoryEntry",
    "SoundController",
    "SoundSink",
    "WatchdogThread",
    "attach_sound",
    "engine_stopped",
]
