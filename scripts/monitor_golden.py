"""Print `oximon monitor --json` for one source in deterministic virtual time.

A `--speed` run of `monitor` is paced by real time, so its sample stamps wobble by a
millisecond or two between runs and its incident ids carry the wall clock and random
bytes. This harness runs the very same command (`oximon.cli.main`) with a discrete-event
clock (time jumps to the next sleeper when every task waits) and seeded ids, so two runs
print the same bytes: the check that a refactor left the JSON contract unchanged.

    python scripts/monitor_golden.py sim:slow-desat:3 600 > out.jsonl
"""

from __future__ import annotations

import asyncio
import heapq
import random
import secrets
import sys
import tempfile
from datetime import UTC, datetime
from pathlib import Path
from unittest import mock

from oximon.clock import ManualClock

EPOCH = datetime(2026, 1, 1, tzinfo=UTC)


class DiscreteEventClock(ManualClock):
    """Virtual time that moves only when every task of the loop waits on it: a
    ManualClock that advances itself instead of waiting for a test to call `advance`."""

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(0.0, EPOCH)
        self._advancer: asyncio.Handle | None = None

    async def sleep(self, seconds: float) -> None:
        self._schedule(asyncio.get_running_loop())
        await super().sleep(seconds)

    def _schedule(self, loop: asyncio.AbstractEventLoop) -> None:
        if self._advancer is None:
            self._advancer = loop.call_soon(self._advance, loop, 0)

    def _advance(self, loop: asyncio.AbstractEventLoop, idle_rounds: int) -> None:
        self._advancer = None
        # Other callbacks ready to run: let them run first (they may sleep too).
        # asyncio has no public "is a callback ready?": read the loop's private queue
        ready = bool(loop._ready)  # type: ignore[attr-defined]
        if ready or idle_rounds < 2:
            self._advancer = loop.call_soon(self._advance, loop, 0 if ready else idle_rounds + 1)
            return
        while self._sleepers:
            due, _, fut = heapq.heappop(self._sleepers)
            if fut.done():
                continue
            self._now = max(self._now, due)
            fut.set_result(None)
            break
        if self._sleepers:
            self._schedule(loop)


def main(argv: list[str]) -> int:
    source = argv[0] if argv else "sim:slow-desat:3"
    duration = argv[1] if len(argv) > 1 else "600"
    from oximon.cli import main as oximon_main

    seeded = random.Random(20260101)
    with tempfile.TemporaryDirectory() as tmp, \
            mock.patch("oximon.cli.monitor.ScaledClock", DiscreteEventClock), \
            mock.patch.object(secrets, "token_hex",
                              lambda n=16: seeded.getrandbits(8 * n).to_bytes(n, "big").hex()):
        db = f"sqlite:///{Path(tmp) / 'golden.sqlite3'}"
        return oximon_main(["monitor", "--source", source, "--duration", duration,
                            "--db", db, "--json"])


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
