"""AlarmManager: detector conditions in, alarm events out.

Pure: no clock of its own, no I/O, no Qt. Time comes from the conditions' `t` and from the
`now` the engine passes to `tick`, `acknowledge` and `pause_audio`, so every rule below is
tested with plain numbers, and `--speed` runs stamp events in virtual time.

The rules (IEC 60601-1-8 style, values from the profile):
- one alarm per booth episode: a booth's vital-sign conditions combine into one alarm
  (`alarm_state`) with the highest priority and its details; a condition of higher
  priority raises that alarm's priority (an `AlarmRaised` with `from_priority`: it sounds),
  it never adds a second alarm; every condition change is an `AlarmUpdated` for the log.
  Technical alarms (device, system) stay one per (station, condition);
- flapping: a booth alarm whose conditions all ended stays (silent, "cleared") for
  `alarms.episode_s`; a condition back within that time is the same episode (no new alarm,
  no tone), otherwise it clears then;
- re-alarm on worsening: after an acknowledge, SpO2 `alarms.realarm_step` points below its
  value at the acknowledge for `REALARM_CONFIRM_S`, or a worse condition, makes the alarm
  sound again ("worse since acknowledged: 84 → 77 %");
- reminder: a high alarm still active `alarms.reminder_s` after its acknowledge with no
  response logged for the booth (`note_response`) gives a short reminder tone;
- an unacknowledged high alarm of an interrupted incident comes back latched at start
  (`restore`), escalated if it was;
- a high alarm *latches*: if its condition clears before anyone acknowledged it, it stays
  (showing the worst value) until acknowledged; medium and low alarms clear by themselves;
- acknowledging silences an alarm; it stays visible while its condition holds;
- an unacknowledged high alarm escalates after `alarms.escalate_after_s`; a lost device
  (medium) becomes high after `lost_device.escalate_to_high_s`; escalations also go to an
  optional notification hook (a second screen, a supervisor's phone);
- audio pause silences every alarm for at most `alarms.audio_pause_s`, then sound resumes
  if anything still needs it (a new alarm ends the pause at once if the profile says so);
- every state change goes into `history`, with who acknowledged or paused;
- a request that cannot be met (acknowledging an alarm that is gone, a pause longer than
  allowed) raises `AlarmRequestError` with words for the person, never a silent no-op.
"""

from __future__ import annotations

import logging
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypedDict

from oximon.alarms import (
    SYSTEM_STATION,
    WORST_IS_HIGHEST,
    AlarmRequestError,
    AlarmView,
    Audible,
    RestoredAlarm,
    worse,
)
from oximon.alerts.alarm_state import VITAL, Alarm, Held, rank
from oximon.alerts.visual import condition_words
from oximon.events import (
    AlarmAcknowledged,
    AlarmCleared,
    AlarmEscalated,
    AlarmRaised,
    AlarmReminder,
    AlarmUpdated,
    AudioPaused,
    AudioResumed,
    EngineEvent,
)
from oximon.profile import Profile
from oximon.types import ConditionChange, Priority, Sample

__all__ = ["SYSTEM_STATION", "WORST_IS_HIGHEST", "AlarmManager", "AlarmRequestError",
           "AlarmView", "Audible", "HistoryEntry", "RestoredAlarm"]

log = logging.getLogger(__name__)

HISTORY_LIMIT = 100_000  # entries kept in memory; the store keeps the full record

Notifier = Callable[[AlarmEscalated], None]

# A further fall must hold this long before an acknowledged alarm sounds again: one
# motion artifact a step lower must not undo an acknowledge.
REALARM_CONFIRM_S = 5.0


class _AlarmFields(TypedDict):
    t: float
    station: str
    condition: str
    priority: Priority
    technical: bool
    message: str
    raised_t: float
    worst: float | None


@dataclass(frozen=True, slots=True)
class HistoryEntry:
    """One alarm or audio state change. `state` is an event state ("raised",
    "acknowledged", "escalated", "cleared", "paused", "resumed") or "condition_cleared"
    (a latched alarm's condition ended; the alarm stays until acknowledged)."""

    t: float
    kind: str  # "alarm" | "audio"
    state: str
    station: str | None = None
    condition: str | None = None
    priority: Priority = Priority.NONE
    by: str = ""
    value: float | None = None
    worst: float | None = None


class AlarmManager:
    """The `oximon.ports.AlarmSystem`: the one owner of alarm state (plus its `history`)."""

    def __init__(self, profile: Profile, notify: Notifier | None = None):
        self.apply_profile(profile)
        self.notify = notify
        self._alarms: dict[tuple[str, str], Alarm] = {}
        self.history: deque[HistoryEntry] = deque(maxlen=HISTORY_LIMIT)
        self.paused_until: float | None = None
        self.paused_by = ""
        self._spo2: dict[str, float] = {}  # each station's latest valid SpO2
        self._response_t: dict[str, float] = {}  # each station's last logged response

    def apply_profile(self, profile: Profile) -> None:
        """Take the profile's alarm settings (at start, and when a supervisor changes them
        while running: alarms already raised keep their state and follow the new timings)."""
        alarms = profile["alarms"]
        self.latch_high: bool = alarms["latch_high"]
        self.escalate_after_s: float = alarms["escalate_after_s"]
        self.audio_pause_s: float = alarms["audio_pause_s"]
        self.new_alarm_ends_pause: bool = alarms["new_alarm_ends_pause"]
        self.episode_s: float = alarms["episode_s"]
        self.realarm_step: float = alarms["realarm_step"]
        self.reminder_s: float = alarms["reminder_s"]
        self.escalate_to_high_s: dict[str, float] = {
            "lost_device": profile["lost_device"]["escalate_to_high_s"],
            "device_not_found": profile["lost_device"]["escalate_to_high_s"],
        }

    # -- conditions ---------------------------------------------------------------------
    def on_condition(self, change: ConditionChange) -> list[EngineEvent]:
        if change.priority is Priority.NONE:
            return []  # shown on the tile (e.g. the watch band), never an alarm
        key = (change.station, change.condition if change.technical else VITAL)
        if not change.active and key not in self._alarms:  # a clear need not say technical
            key = (change.station, change.condition)
        alarm = self._alarms.get(key)
        if change.active:
            if alarm is None:
                return self._new(key, change)
            return self._joined(alarm, change)
        if alarm is None or not alarm.condition_active or change.condition not in alarm.held:
            return []
        return self._ended(key, alarm, change)

    def _new(self, key: tuple[str, str], change: ConditionChange) -> list[EngineEvent]:
        message = change.message or condition_words(change.condition)
        alarm = Alarm(change.station, change.condition, change.priority, change.technical,
                      change.t, message, onset=change.onset, raised_priority=change.priority,
                      lead=change.condition)
        alarm.held[change.condition] = Held(change.priority, message, change.value)
        alarm.see(change.value)
        self._alarms[key] = alarm
        out: list[EngineEvent] = [self._raised(alarm, change)]
        if self.paused_until is not None and self.new_alarm_ends_pause:
            out.append(self._resumed(change.t, reason="new alarm"))
        return out

    def _joined(self, alarm: Alarm, change: ConditionChange) -> list[EngineEvent]:
        """A condition started (or came back) while the booth's alarm is up."""
        cond, t = change.condition, change.t
        message = change.message or condition_words(cond)
        returned = not alarm.condition_active
        if returned:
            alarm.held.clear()  # what was kept for the details had ended
        was_lead = alarm.lead if alarm.held else ""
        alarm.held[cond] = Held(change.priority, message, change.value)
        alarm.see(change.value, cond)
        if returned:  # back within the episode time (or latched): the same episode
            alarm.condition_active = True
            alarm.condition_cleared_t = None
            self._record(alarm, "condition_returned", t)
        if change.priority > alarm.priority:  # worse: the one alarm takes the priority
            before = alarm.priority
            alarm.priority, alarm.condition, alarm.lead = change.priority, cond, cond
            alarm.message = message
            alarm.acknowledged_t, alarm.acknowledged_by = None, ""
            alarm.escalated_t = None
            alarm.raised_t = t
            out: list[EngineEvent] = [self._raised(alarm, change, from_priority=before)]
            if self.paused_until is not None and self.new_alarm_ends_pause:
                out.append(self._resumed(t, reason="new alarm"))
            return out
        r = rank(cond, change.priority)
        if not was_lead or r < rank(was_lead, alarm.held[was_lead].priority):
            alarm.lead, alarm.message = cond, message
        if alarm.acknowledged and alarm.ack_rank is not None and r < alarm.ack_rank:
            # worse than anything since the acknowledge: sounds again (once per step)
            alarm.ack_rank = r
            return [self._realarm(alarm, t, f"worse since acknowledged: "
                                  f"{condition_words(cond).split(' — ')[0].lower()}",
                                  change.value)]
        if returned and len(alarm.held) == 1:
            return []  # a flapping condition: nothing new to say
        return [self._updated(alarm, t, f"{cond} started", change.value)]

    def _ended(self, key: tuple[str, str], alarm: Alarm, change: ConditionChange
               ) -> list[EngineEvent]:
        cond, t = change.condition, change.t
        held = alarm.held.pop(cond)
        held.value = change.value
        alarm.see(change.value, cond)
        if alarm.held:  # others still hold: the one alarm goes on
            if cond == alarm.lead:
                alarm.lead = alarm.conditions()[0]
                alarm.message = alarm.held[alarm.lead].message
            return [self._updated(alarm, t, f"{cond} ended", change.value)]
        alarm.held[cond] = held  # kept for the details while the alarm is still shown
        alarm.condition_active = False
        alarm.condition_cleared_t = t
        if not alarm.acknowledged and self._latches(alarm):
            self._record(alarm, "condition_cleared", t)
            return []
        if self.episode_s > 0 and not alarm.technical:  # may come back: the same episode
            self._record(alarm, "condition_cleared", t)
            return []
        del self._alarms[key]
        return [self._cleared(alarm, t)]

    def _latches(self, alarm: Alarm) -> bool:
        return self.latch_high and alarm.priority >= Priority.HIGH

    def _sounds(self, alarm: Alarm) -> bool:
        """Unacknowledged and holding, or latched (not one waiting out its episode time)."""
        return not alarm.acknowledged and (alarm.condition_active or self._latches(alarm))

    # -- time ---------------------------------------------------------------------------
    def tick(self, now: float) -> list[EngineEvent]:
        out: list[EngineEvent] = []
        for key, alarm in list(self._alarms.items()):
            cleared_t = alarm.condition_cleared_t
            if (cleared_t is not None and not alarm.condition_active
                    and (alarm.acknowledged or not self._latches(alarm))
                    and now - cleared_t >= self.episode_s):
                del self._alarms[key]  # the episode is over: nothing came back
                out.append(self._cleared(alarm, max(cleared_t + self.episode_s,
                                                    alarm.acknowledged_t or cleared_t)))
                continue
            out += self._worse_or_reminder(alarm, now)
            if alarm.escalated or not self._sounds(alarm):
                continue
            age = now - alarm.raised_t
            to_high = self.escalate_to_high_s.get(alarm.condition)
            if alarm.priority < Priority.HIGH:
                if to_high is not None and age >= to_high:
                    before = alarm.priority
                    alarm.priority = Priority.HIGH
                    out.append(self._escalate(alarm, now, from_priority=before))
            elif age >= self.escalate_after_s:
                out.append(self._escalate(alarm, now))
        if self.paused_until is not None and now >= self.paused_until:
            out.append(self._resumed(now, reason="pause expired"))
        return out

    def _worse_or_reminder(self, alarm: Alarm, now: float) -> list[EngineEvent]:
        """An acknowledged alarm that still holds: sound again if SpO2 fell a step further
        (held `REALARM_CONFIRM_S`), remind if high and nobody logged a response."""
        if not alarm.acknowledged or not alarm.condition_active or alarm.technical:
            return []
        since = alarm.below_since
        if since is not None and now - since >= REALARM_CONFIRM_S:
            ref = alarm.ack_spo2
            value = self._spo2.get(alarm.station)
            return [self._realarm(alarm, now, f"worse since acknowledged: {ref:.0f} → "
                                  f"{value:.0f} %", value)]
        if alarm.priority < Priority.HIGH or self.reminder_s <= 0:
            return []
        quiet_from = max(t for t in (alarm.acknowledged_t, alarm.last_reminder_t,
                                     self._response_t.get(alarm.station)) if t is not None)
        if now - quiet_from < self.reminder_s:
            return []
        alarm.last_reminder_t = now
        self._record(alarm, "reminder", now)
        assert alarm.acknowledged_t is not None
        return [AlarmReminder(**self._common(alarm, now),
                              acknowledged_s=round(now - alarm.acknowledged_t, 3))]

    def _realarm(self, alarm: Alarm, t: float, reason: str, value: float | None
                 ) -> AlarmUpdated:
        """The guest got worse since the acknowledge: the alarm sounds again."""
        alarm.acknowledged_t, alarm.acknowledged_by = None, ""
        alarm.escalated_t, alarm.raised_t = None, t  # escalates again if nobody comes
        alarm.below_since = None
        alarm.worse_text = reason
        return self._updated(alarm, t, reason, value, sounds=True)

    def _escalate(self, alarm: Alarm, now: float,
                  from_priority: Priority | None = None) -> AlarmEscalated:
        alarm.escalated_t = now
        self._record(alarm, "escalated", now)
        event = AlarmEscalated(**self._common(alarm, now),
                               unacknowledged_s=round(now - alarm.raised_t, 3),
                               from_priority=from_priority)
        if self.notify is not None:
            try:
                self.notify(event)
            except Exception:  # a broken second screen must never stop the alarms
                log.exception("escalation notifier failed on %s", event)
        return event

    # -- people -------------------------------------------------------------------------
    def acknowledge(self, now: float, station: str, condition: str | None = None,
                    by: str = "") -> list[EngineEvent]:
        """Acknowledge a station's alarms (`condition`: only the alarm holding it; one
        that is gone is an `AlarmRequestError` saying so)."""
        out: list[EngineEvent] = []
        found = False
        for key, alarm in list(self._alarms.items()):
            if key[0] != station or (condition is not None and condition != alarm.condition
                                     and condition not in alarm.held and key[1] != condition):
                continue
            found = True
            if alarm.acknowledged:
                continue
            alarm.acknowledged_t, alarm.acknowledged_by = now, by
            alarm.ack_spo2 = self._spo2.get(station, alarm.value)
            alarm.ack_rank = min((rank(c, h.priority) for c, h in alarm.held.items()),
                                 default=None)
            alarm.below_since = None
            self._record(alarm, "acknowledged", now, by)
            out.append(AlarmAcknowledged(**self._common(alarm, now), by=by))
            if not alarm.condition_active and self._latches(alarm):  # seen now: it ends
                del self._alarms[key]
                out.append(self._cleared(alarm, now, by))
        if not found and condition is not None:
            what = f" ({condition_words(condition).split(' — ')[0].lower()})" if condition \
                else ""
            raise AlarmRequestError(f"nothing to acknowledge at {station}{what}: that alarm "
                                    "has already cleared")
        return out

    def pause_audio(self, now: float, by: str = "", seconds: float | None = None
                    ) -> list[EngineEvent]:
        """Silence every alarm for `seconds` (default and most: `alarms.audio_pause_s`;
        pausing again restarts the countdown, never lengthens it past the maximum). More
        than the maximum, or any pause when the profile sets 0, is refused with words."""
        limit = self.audio_pause_s
        if limit <= 0:
            raise AlarmRequestError("audio pause is not allowed by this site's profile "
                                    "(alarms.audio_pause_s = 0)")
        duration = limit if seconds is None else seconds
        if not 0 < duration <= limit:
            raise AlarmRequestError(f"audio can be paused for at most {limit:g} s "
                                    f"(alarms.audio_pause_s), not {duration:g} s")
        self.paused_until = now + duration
        self.paused_by = by
        self.history.append(HistoryEntry(now, "audio", "paused", by=by))
        return [AudioPaused(t=now, by=by, until=round(self.paused_until, 3),
                            duration_s=duration)]

    def resume_audio(self, now: float, by: str = "") -> list[EngineEvent]:
        if self.paused_until is None:
            return []
        return [self._resumed(now, by=by, reason="by hand")]

    def end_station(self, station: str, now: float, by: str = "", force: bool = False
                    ) -> list[EngineEvent]:
        """The station is removed (`force`), or its guest left (standby): its alarms end
        now. Without `force` one still unacknowledged is refused (`AlarmRequestError`):
        someone must see it first."""
        mine = [(k, a) for k, a in self._alarms.items() if k[0] == station]
        loud = [a for _, a in mine if self._sounds(a)]
        if loud and not force:
            raise AlarmRequestError(f"{station} still has an unacknowledged alarm "
                                    f"({loud[0].details() or loud[0].message}): acknowledge "
                                    "it first")
        out: list[EngineEvent] = []
        for key, alarm in mine:
            del self._alarms[key]
            out.append(self._cleared(alarm, now, by))
        self._spo2.pop(station, None)
        self._response_t.pop(station, None)
        return out

    def note_response(self, station: str, t: float) -> None:
        """A person logged a response action for the booth: the reminder waits again."""
        self._response_t[station] = t

    def restore(self, alarms: list[RestoredAlarm], now: float) -> list[EngineEvent]:
        """Unacknowledged high alarms an interrupted run left: back, latched (and
        escalated if they were) until someone acknowledges them."""
        out: list[EngineEvent] = []
        for r in alarms:
            key = (r.station, VITAL)
            if key in self._alarms:
                continue
            message = r.message or condition_words(r.condition)
            alarm = Alarm(r.station, r.condition, r.priority, False, now, message,
                          value=r.value, worst=r.worst, worst_seen=r.worst,
                          condition_active=False, condition_cleared_t=now,
                          raised_priority=r.priority, lead=r.condition)
            alarm.held[r.condition] = Held(r.priority, message, r.value)
            self._alarms[key] = alarm
            self._record(alarm, "raised", now)
            out.append(AlarmRaised(**self._common(alarm, now), value=r.value, restored=True))
            if r.escalated:
                out.append(self._escalate(alarm, now))
        return out

    def observe(self, station: str, sample: Sample) -> None:
        """A reading of a station: the worst value its alarms have seen follows it (while
        their condition holds), so the screen can say "lowest 77 %" between verdicts; and
        an acknowledged alarm notes how long SpO2 has been a step below its value then."""
        if not sample.valid:
            return
        self._spo2[station] = sample.spo2
        for (sid, _key), alarm in self._alarms.items():
            if sid != station or not alarm.condition_active:
                continue
            alarm.follow(sample.spo2, sample.pr)
            condition = alarm.lead or alarm.condition
            if condition.startswith("spo2"):
                alarm.worst_seen = worse(condition, alarm.worst_seen, sample.spo2)
            elif condition.startswith("pr") and sample.pr == sample.pr:
                alarm.worst_seen = worse(condition, alarm.worst_seen, sample.pr)
            ref = alarm.ack_spo2
            if alarm.acknowledged and ref is not None and self.realarm_step > 0 \
                    and any(c.startswith("spo2") for c in alarm.held):
                if sample.spo2 <= ref - self.realarm_step:
                    if alarm.below_since is None:
                        alarm.below_since = sample.t
                else:
                    alarm.below_since = None

    # -- what the UI and the speaker read -----------------------------------------------
    def active_alarms(self) -> list[AlarmView]:
        """Every alarm still shown, most urgent first (unacknowledged, escalated, priority,
        oldest)."""
        return sorted((a.view() for a in self._alarms.values()), key=AlarmView.sort_key)

    def audible(self) -> Audible | None:
        """The tone that should sound now, or None (nothing unacknowledged, or paused)."""
        if self.paused_until is not None:
            return None
        loud = [a for a in self._alarms.values() if self._sounds(a)]
        if not loud:
            return None
        top = max(a.priority for a in loud)
        return Audible(top, any(a.escalated for a in loud if a.priority == top))

    @property
    def audio_paused(self) -> bool:
        return self.paused_until is not None

    def pause_remaining(self, now: float) -> float:
        """Seconds left of the audio pause (0 when not paused), for the UI's countdown."""
        return 0.0 if self.paused_until is None else max(0.0, self.paused_until - now)

    # -- events and history -------------------------------------------------------------
    def _resumed(self, t: float, by: str = "", reason: str = "") -> AudioResumed:
        self.paused_until = None
        self.paused_by = ""
        self.history.append(HistoryEntry(t, "audio", "resumed", by=by))
        sounding = self.audible()
        return AudioResumed(t=t, by=by, reason=reason,
                            sounding=sounding.priority if sounding else None)

    def _record(self, alarm: Alarm, state: str, t: float, by: str = "") -> None:
        self.history.append(HistoryEntry(t, "alarm", state, alarm.station, alarm.condition,
                                         alarm.priority, by, alarm.value, alarm.worst))

    @staticmethod
    def _common(alarm: Alarm, t: float) -> _AlarmFields:
        """The fields every alarm event carries, as the alarm stands at `t`."""
        return {"t": t, "station": alarm.station, "condition": alarm.condition,
                "priority": alarm.priority, "technical": alarm.technical,
                "message": alarm.message, "raised_t": round(alarm.raised_t, 3),
                "worst": alarm.worst}

    def _raised(self, alarm: Alarm, change: ConditionChange,
                from_priority: Priority | None = None) -> AlarmRaised:
        self._record(alarm, "raised", change.t)
        return AlarmRaised(**self._common(alarm, change.t), value=change.value,
                           onset=None if change.onset is None else round(change.onset, 3),
                           from_priority=from_priority)

    def _updated(self, alarm: Alarm, t: float, reason: str, value: float | None,
                 sounds: bool = False) -> AlarmUpdated:
        self._record(alarm, "updated", t)
        return AlarmUpdated(**self._common(alarm, t), reason=reason,
                            conditions=alarm.conditions() if alarm.condition_active else (),
                            value=value, sounds=sounds)

    def _cleared(self, alarm: Alarm, t: float, by: str = "") -> AlarmCleared:
        self._record(alarm, "cleared", t, by)
        cleared_t = alarm.condition_cleared_t
        return AlarmCleared(**self._common(alarm, t), by=by,
                            condition_cleared_t=None if cleared_t in (None, t)
                            else round(cleared_t, 3))
