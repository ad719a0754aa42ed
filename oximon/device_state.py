"""Streaming or no reading: what a device's samples say about its state.

A device's state has one owner, its source (the link for BLE and serial, the simulator,
the replay): it knows when it connects, drops and reconnects, and with this watch it
also says when readings start and stop. The engine and the screen only apply and render
the StateChanges a source yields; nobody infers a device state a second time.
"""

from __future__ import annotations

from oximon.types import DeviceState, Flags, Sample, SourceEvent, StateChange

# States from which an invalid sample means "no reading" (not: lost, ended, unassigned).
_CAN_LOSE_SIGNAL = frozenset({DeviceState.STREAMING, DeviceState.CONNECTING,
                              DeviceState.RECONNECTING, DeviceState.SEARCHING})


class SignalWatch:
    """Follows one source's events and adds a StateChange before a sample whose validity
    changes the state (valid: STREAMING; invalid while streaming or connecting:
    NO_SIGNAL, saying why)."""

    def __init__(self, state: DeviceState = DeviceState.CONNECTING):
        self.state = state

    def see(self, event: SourceEvent, streaming_detail: str = "") -> list[SourceEvent]:
        if isinstance(event, StateChange):
            self.state = event.state
            return [event]
        change = self._change(event, streaming_detail)
        if change is None:
            return [event]
        self.state = change.state
        return [change, event]

    def _change(self, sample: Sample, streaming_detail: str) -> StateChange | None:
        if sample.valid:
            if self.state is DeviceState.STREAMING:
                return None
            return StateChange(sample.t, DeviceState.STREAMING, streaming_detail)
        if self.state in _CAN_LOSE_SIGNAL:
            return StateChange(sample.t, DeviceState.NO_SIGNAL, why_no_signal(sample.flags))
        return None


def why_no_signal(flags: Flags) -> str:
    if flags & Flags.FINGER_OUT:
        return "finger out"
    if flags & Flags.SEARCHING:
        return "searching for pulse"
    if flags & Flags.LOW_SIGNAL:
        return "weak signal"
    return "no SpO2 value from the device"  # e.g. a pulse rate but no SpO2 yet
