"""`--source` specs → Source objects: `sim:SCENARIO[:SEED]`, `replay:FILE.csv`,
`ble:ADDRESS[:PROTOCOL]`, `serial:PORT[:PROTOCOL]`."""

from __future__ import annotations

from collections.abc import Callable

from drivers.replay import ReplaySource
from drivers.sim import SimulatorSource
from drivers.sim_model import SCENARIOS
from oximon.ports import Source
from oximon.recording import RecordingError


class SourceSpecError(ValueError):
    """A `--source` value that cannot be used; the message says why and what would work."""


def _sim(rest: str, waveform: bool) -> Source:
    scenario, _, seed_text = rest.partition(":")
    if scenario not in SCENARIOS:
        raise SourceSpecError(
            f"unknown scenario {scenario!r}; choose one of {', '.join(SCENARIOS)}")
    try:
        seed = int(seed_text) if seed_text else 0
    except ValueError:
        raise SourceSpecError(f"seed {seed_text!r} is not a whole number") from None
    return SimulatorSource(scenario, seed, pleth=waveform)


def _replay(rest: str, waveform: bool) -> Source:
    if not rest:
        raise SourceSpecError("replay needs a file: replay:FILE.csv")
    try:
        return ReplaySource(rest)
    except RecordingError as exc:
        raise SourceSpecError(str(exc)) from None


# kind -> opener(rest of the spec, whether anyone will draw the waveform)
OPENERS: dict[str, Callable[[str, bool], Source]] = {"sim": _sim, "replay": _replay}


def open_source(spec: str, waveform: bool = True) -> Source:
    """`waveform=False` lets a headless run skip pleth work nobody will draw."""
    kind, sep, rest = spec.partition(":")
    if not sep or kind not in OPENERS:
        kinds = ", ".join(f"{k}:..." for k in OPENERS)
        raise SourceSpecError(f"source {spec!r}: expected one of {kinds}")
    try:
        return OPENERS[kind](rest, waveform)
    except SourceSpecError as exc:
        raise SourceSpecError(f"source {spec!r}: {exc}") from None
