"""Alarm system: turns detector conditions into alarms people can acknowledge.

Pure logic (manager, tones, visuals, sound decisions): it imports core types only, never
Qt; the real speaker (`ui.sound.QtSoundSink`) implements `alerts.sound.SoundSink`.
"""

from oximon.alerts.manager import SYSTEM_STATION, AlarmManager, AlarmView, Audible, HistoryEntry
from oximon.alerts.sound import FakeSoundSink, SoundController, SoundSink, attach_sound
from oximon.alerts.watchdog import WatchdogThread, engine_stopped

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
