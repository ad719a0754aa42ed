"""How long to wait before reconnecting, by what went wrong.

Each error class has its own first delay and cap: a dropped link is retried almost at
once, a device out of range every few seconds, a machine with no Bluetooth at all every
half minute (someone may plug an adapter in; retrying faster only fills the log). Delays
double per failure up to the cap (never above it) and carry ±20 % jitter, so stations that
lost their devices together (a power cut, a reset adapter) do not reconnect in lockstep.
"""

from __future__ import annotations

import enum
import random
from dataclasses import dataclass


class ErrorClass(enum.Enum):
    DROPPED = "dropped"  # the link fell, or went silent: the device was just there
    NOT_FOUND = "not_found"  # device off, out of range, port unplugged
    BUSY = "busy"  # the stack is busy or aborted the attempt: transient
    UNSUPPORTED = "unsupported"  # connected, but it speaks nothing we know
    UNAVAILABLE = "unavailable"  # no adapter, no BlueZ, no D-Bus, no permission


@dataclass(frozen=True)
class Policy:
    first: float
    cap: float


POLICIES: dict[ErrorClass, Policy] = {
    ErrorClass.DROPPED: Policy(0.5, 10.0),
    ErrorClass.NOT_FOUND: Policy(2.0, 30.0),
    ErrorClass.BUSY: Policy(1.0, 15.0),
    ErrorClass.UNSUPPORTED: Policy(30.0, 300.0),
    ErrorClass.UNAVAILABLE: Policy(15.0, 60.0),
}
JITTER = 0.2


class Backoff:
    """Consecutive failures per class; `reset()` after a connection that delivered data."""

    def __init__(self, rng: random.Random | None = None,
                 policies: dict[ErrorClass, Policy] | None = None):
        self.rng = rng or random.Random()
        self.policies = policies or POLICIES
        self.failures = 0

    def next_delay(self, error: ErrorClass) -> float:
        policy = self.policies[error]
        # The base stops growing where base + jitter reaches the cap, so delays at the
        # cap are still spread out.
        base = min(policy.cap / (1 + JITTER), policy.first * 2 ** min(self.failures, 16))
        self.failures += 1
        return base * self.rng.uniform(1 - JITTER, 1 + JITTER)

    def reset(self) -> None:
        self.failures = 0
