"""The alarm profile in words a supervisor reads: every setting's plain label, its unit and
a one-line meaning, and every section's title. The settings dialog shows these; the
profile's own keys ("spo2_low.delay_s") stay in the tooltip for whoever edits the file.

Kept beside the schema (`oximon.profile.SCHEMA`): a key added there without words here is
a test failure (tests/test_dashboard_dialogs.py), never a raw key on screen."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class SettingWords:
    label: str  # "Low oxygen: limit"
    unit: str  # "%", "seconds", "" (a choice or a yes/no)
    meaning: str  # one line: what it does


SECTIONS: dict[str, str] = {
    "averaging": "Smoothing the readings",
    "spo2_low": "Low oxygen alarm",
    "spo2_severe": "Severe low oxygen alarm",
    "spo2_drop": "Drop from the person's own level",
    "pr_low": "Low pulse alarm",
    "pr_high": "High pulse alarm",
    "no_reading": "No reading (finger out, searching)",
    "validity": "Readings that cannot be real",
    "artifact": "Movement (jumps too fast to be real)",
    "stale_data": "Frozen connection",
    "events": "Desaturation events in reports",
    "lost_device": "Lost or missing device",
    "battery_low": "Low battery",
    "alarms": "All alarms",
    "watchdog": "Monitoring stopped",
    "sound_unavailable": "No sound output",
    "records_not_saved": "Records not being saved",
    "sound": "Alarm sound",
    "review": "Supervisor review",
    "incidents": "Incident records",
}

_PRIORITY = "How urgent: high, medium or low (sets colour, sound and escalation)."
_HYST = "How far back past the limit the reading must come before the alarm clears."


def _p(meaning: str = _PRIORITY) -> SettingWords:
    return SettingWords("Priority", "", meaning)


WORDS: dict[str, SettingWords] = {
    "averaging.window_s": SettingWords(
        "Averaging time", "seconds", "Readings are smoothed over this long before any alarm "
        "rule sees them."),
    "averaging.method": SettingWords(
        "Averaging method", "", "Median ignores single spikes; mean follows every reading."),
    "spo2_low.threshold": SettingWords(
        "Alarm below", "% SpO₂", "SpO₂ under this starts the low oxygen alarm's wait."),
    "spo2_low.delay_s": SettingWords(
        "Wait before alarming", "seconds", "How long SpO₂ must stay below the limit."),
    "spo2_low.hysteresis": SettingWords("Clears after rising", "% points", _HYST),
    "spo2_low.priority": _p(),
    "spo2_low.sat_seconds": SettingWords(
        "Deep-dip shortcut", "points × seconds", "Alarms sooner the deeper SpO₂ falls "
        "(10 points below: 2.5 s); 0 turns it off."),
    "spo2_severe.threshold": SettingWords(
        "Alarm below", "% SpO₂", "SpO₂ under this starts the severe alarm's wait."),
    "spo2_severe.delay_s": SettingWords(
        "Wait before alarming", "seconds", "How long SpO₂ must stay below the limit."),
    "spo2_severe.hysteresis": SettingWords("Clears after rising", "% points", _HYST),
    "spo2_severe.priority": _p(),
    "spo2_drop.points": SettingWords(
        "Drop of at least", "% points", "A fall this far below the person's recent level."),
    "spo2_drop.delay_s": SettingWords(
        "Wait before alarming", "seconds", "How long the drop must last."),
    "spo2_drop.baseline_window_s": SettingWords(
        "Recent level over", "seconds", "The person's own level is the average over this "
        "long."),
    "spo2_drop.priority": _p(),
    "spo2_drop.baseline_lag_s": SettingWords(
        "Recent level ends", "seconds ago", "The fall being watched does not pull its own "
        "level down."),
    "spo2_drop.hysteresis": SettingWords("Clears after rising", "% points", _HYST),
    "pr_low.threshold": SettingWords(
        "Alarm below", "beats/min", "A pulse under this starts the low pulse alarm's wait."),
    "pr_low.delay_s": SettingWords(
        "Wait before alarming", "seconds", "How long the pulse must stay below the limit."),
    "pr_low.priority": _p(),
    "pr_low.hysteresis": SettingWords("Clears after rising", "beats/min", _HYST),
    "pr_high.threshold": SettingWords(
        "Alarm above", "beats/min", "A pulse over this starts the high pulse alarm's wait."),
    "pr_high.delay_s": SettingWords(
        "Wait before alarming", "seconds", "How long the pulse must stay above the limit."),
    "pr_high.priority": _p(),
    "pr_high.hysteresis": SettingWords("Clears after falling", "beats/min", _HYST),
    "no_reading.delay_s": SettingWords(
        "Wait before alarming", "seconds", "No valid reading this long while the device "
        "is connected."),
    "no_reading.priority": _p(),
    "validity.spo2_min": SettingWords(
        "Lowest real SpO₂", "%", "Readings under this are marked invalid (0 means \"no "
        "value\")."),
    "validity.pr_min": SettingWords(
        "Lowest real pulse", "beats/min", "Pulse readings under this are marked invalid."),
    "validity.pr_max": SettingWords(
        "Highest real pulse", "beats/min", "Pulse readings over this are marked invalid."),
    "validity.max_gap_s": SettingWords(
        "Gap that restarts waits", "seconds", "A longer gap in valid readings starts every "
        "alarm's wait again."),
    "artifact.max_step": SettingWords(
        "Largest sudden jump", "% points", "A bigger jump is held back as movement."),
    "artifact.max_rate": SettingWords(
        "Largest change per second", "% points/s", "Added to the jump allowed for each "
        "second since the last reading."),
    "artifact.hold_s": SettingWords(
        "Accept a held jump after", "seconds", "A new level that lasts this long is real "
        "(a real fall still alarms)."),
    "stale_data.delay_s": SettingWords(
        "Frozen after", "seconds", "No data at all this long while connected."),
    "stale_data.priority": _p(),
    "events.points": SettingWords(
        "Event depth", "% points", "Reports count dips at least this far below the level."),
    "events.min_duration_s": SettingWords(
        "Event length", "seconds", "Reports count dips lasting at least this long."),
    "lost_device.priority": _p(),
    "lost_device.escalate_to_high_s": SettingWords(
        "Becomes high after", "seconds", "Unacknowledged this long, a lost device is a "
        "high alarm."),
    "lost_device.not_found_s": SettingWords(
        "Not found after", "seconds", "A device that never connects this long raises "
        "\"device not found\"."),
    "battery_low.priority": _p(),
    "alarms.latch_high": SettingWords(
        "High alarms stay until acknowledged", "", "Even after the reading recovers, "
        "someone must acknowledge."),
    "alarms.escalate_after_s": SettingWords(
        "Full screen after", "seconds", "An unacknowledged high alarm takes the whole "
        "screen, louder."),
    "alarms.audio_pause_s": SettingWords(
        "Audio pause lasts", "seconds", "Then a still-active alarm sounds again."),
    "alarms.new_alarm_ends_pause": SettingWords(
        "A new alarm ends the pause", "", "A new alarm sounds at once during an audio "
        "pause."),
    "alarms.episode_s": SettingWords(
        "Same episode within", "seconds", "A condition back within this long is the same "
        "alarm, no new tone."),
    "alarms.realarm_step": SettingWords(
        "Sound again after a further fall of", "% points", "After acknowledging, a fall "
        "this far sounds again."),
    "alarms.reminder_s": SettingWords(
        "Reminder after", "seconds", "A high alarm acknowledged with no response logged "
        "beeps again."),
    "watchdog.stall_s": SettingWords(
        "Stopped after", "seconds", "\"Monitoring stopped\" when checking has not run "
        "this long."),
    "watchdog.priority": _p(),
    "sound_unavailable.priority": _p(),
    "records_not_saved.priority": _p(),
    "sound.volume": SettingWords(
        "Volume", "0–1", "Alarm loudness, as a share of the speaker's full volume."),
    "sound.escalated_volume": SettingWords(
        "Volume when full screen", "0–1", "Loudness of an escalated alarm."),
    "sound.high_interburst_s": SettingWords(
        "High alarm: silence between beeps", "seconds", "Between one burst and the next "
        "(2.5–15)."),
    "sound.medium_interburst_s": SettingWords(
        "Medium alarm: silence between beeps", "seconds", "Between one burst and the next "
        "(2.5–30)."),
    "sound.low_interburst_s": SettingWords(
        "Low alarm: silence between beeps", "seconds", "Between one burst and the next "
        "(over 15)."),
    "review.lock_after_s": SettingWords(
        "Supervisor mode locks after", "seconds idle", "Without input, supervisor mode "
        "locks itself."),
    "review.suppress_small_counts": SettingWords(
        "Hide small counts in exports", "", "Monthly tables show 1–4 as \"<5\"."),
    "incidents.resume_gap_s": SettingWords(
        "Carry on an open incident within", "seconds", "After a restart this soon, the "
        "open incident continues (0: never)."),
}


def words_for(dotted: str) -> SettingWords:
    """The words for a profile key; an unknown key gets its own name (never a crash)."""
    found = WORDS.get(dotted)
    if found is not None:
        return found
    return SettingWords(dotted.split(".", 1)[-1].replace("_", " ").capitalize(), "", "")


def section_title(section: str) -> str:
    return SECTIONS.get(section, section.replace("_", " ").capitalize())
