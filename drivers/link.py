"""What every live transport shares: turning bytes into samples and state changes, and
keeping a link up all shift (reconnect with backoff after a drop, a silence or a failed
attempt). BLE and serial differ only in how a session connects and gets bytes.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from typing import Protocol, TypeVar

from oximon.clock import Clock
from oximon.device_state import SignalWatch
from oximon.drivers.assembler import SampleAssembler
from oximon.drivers.backoff import Backoff, ErrorClass
from oximon.drivers.frames import Frame
from oximon.drivers.protocols import ProtocolSpec
from oximon.types import DeviceState, SourceEvent, StateChange

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Failure:
    kind: ErrorClass
    message: str


class LinkEnded(Exception):
    """A session ends because the link dropped or went silent (not a programming error)."""

    def __init__(self, failure: Failure):
        super().__init__(failure.message)
        self.failure = failure


def silent(seconds: float) -> LinkEnded:
    return LinkEnded(Failure(ErrorClass.DROPPED, f"connected but no data for {seconds:g} s"))


class Streamer:
    """Bytes of one connection in; samples (about every 0.1 s) and state changes out."""

    def __init__(self, spec: ProtocolSpec, describe: Callable[[], str] = lambda: ""):
        self.spec = spec
        self.parser = spec.new_parser()
        self.assembler = SampleAssembler(spec.pleth_rate)
        self.describe = describe
        self.delivered = False  # at least one sample came out
        self._watch = SignalWatch()

    def frames(self, frames: list[Frame], now: float) -> list[SourceEvent]:
        self.assembler.push(frames)
        sample = self.assembler.take(now)
        if sample is None:
            return []
        self.delivered = True
        name = self.describe()
        return self._watch.see(sample, f"{self.spec.title}{' ' + name if name else ''}")

    def feed(self, data: bytes, now: float) -> list[SourceEvent]:
        return self.frames(self.parser.feed(data), now)


class Session(Protocol):
    connected: bool  # streaming was set up (a failure after this is "lost")
    delivered: bool  # samples came out (the backoff starts over)

    def run(self) -> AsyncIterator[SourceEvent]: ...


S = TypeVar("S", bound=Session)  # a transport's own session type (its on_end sees it whole)


async def keep_connected(new_session: Callable[[], S], clock: Clock, backoff: Backoff,
                         classify: Callable[[BaseException], Failure], address: str,
                         on_end: Callable[[S, Failure], None] | None = None
                         ) -> AsyncIterator[SourceEvent]:
    """Run sessions forever. States: CONNECTING first; SEARCHING while no attempt has
    ever succeeded; LOST when a working link ends, then RECONNECTING; a failed attempt
    after that stays RECONNECTING (with the reason)."""
    yield StateChange(clock.now(), DeviceState.CONNECTING, f"connecting to {address}")
    ever_connected = False
    while True:
        session = new_session()
        try:
            async for event in session.run():
                yield event
            failure = Failure(ErrorClass.DROPPED, "link ended")
        except LinkEnded as ended:
            failure = ended.failure
        except Exception as exc:  # every failure becomes a state, never a traceback
            failure = classify(exc)
            log.debug("%s: %r", address, exc)
        if on_end is not None:
            on_end(session, failure)
        if session.delivered:
            backoff.reset()
        ever_connected = ever_connected or session.connected
        if session.connected:
            state = DeviceState.LOST
        elif ever_connected:
            state = DeviceState.RECONNECTING
        else:
            state = DeviceState.SEARCHING
        yield StateChange(clock.now(), state, failure.message)
        delay = backoff.next_delay(failure.kind)
        log.info("%s: %s; retrying in %.1f s", address, failure.message, delay)
        await clock.sleep(delay)
        if session.connected:
            yield StateChange(clock.now(), DeviceState.RECONNECTING, f"reconnecting to {address}")
