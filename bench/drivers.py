"""Decode throughput per protocol (a benchmark, not a test: prints figures and ratios).

Goal (issue 4): one hour of a 100 Hz BerryMed stream (360 000 packets, 1.8 MB) decodes in
under 0.5 s on one core. Each protocol gets one hour of its own traffic, fed the way a
transport feeds it (BLE notifications of 20 bytes, serial reads of 512 bytes) and, for
the stream framers, also as one buffer (`oximon decode --file` on a capture).

Run: python bench/drivers.py
"""

from __future__ import annotations

import random
import sys
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from oximon.drivers import berrymed, viatom
from oximon.drivers.protocols import PROTOCOLS

GOAL_S = 0.5
HOUR = 3600


def berrymed_hour() -> bytes:
    rng = random.Random(1)
    out = bytearray()
    for i in range(100 * HOUR):
        pleth = 1 + (i * 7) % 99
        out += bytes([0x84, pleth, 0x05, 0x48, 0x62 - (rng.random() < 0.01)])
    return bytes(out)


def cms50_hour() -> bytes:
    pkt = bytes.fromhex("0180c6d088c8e2fb80")
    return pkt * (60 * HOUR)


def legacy_hour() -> bytes:
    return bytes.fromhex("8a3f05485f") * (60 * HOUR)


def viatom_hour() -> bytes:
    wave = viatom.frame(0x0F, 0x02, bytes([49, 48, 46, 45, 44]))
    params = bytes.fromhex("aa550f08016144000000c094")
    second = wave * 10 + params
    return second * HOUR


def plx_hour() -> list[bytes]:
    return [bytes.fromhex("1c5f005a00200000000057f0")] * HOUR  # 1 Hz records


def chunks(data: bytes, size: int) -> list[bytes]:
    return [data[i:i + size] for i in range(0, len(data), size)]


def timed(fn: Callable[[], int]) -> tuple[float, int]:
    best, count = float("inf"), 0
    for _ in range(3):
        t0 = time.perf_counter()
        count = fn()
        best = min(best, time.perf_counter() - t0)
    return best, count


def run_feeds(name: str, pieces: list[bytes]) -> Callable[[], int]:
    def go() -> int:
        p = PROTOCOLS[name].new_parser()
        return sum(len(p.feed(c)) for c in pieces)
    return go


def main() -> None:
    cases = [
        ("berrymed", berrymed_hour(), 20),
        ("cms50", cms50_hour(), 512),
        ("cms50-legacy", legacy_hour(), 512),
        ("viatom", viatom_hour(), 20),
    ]
    print(f"{'protocol':<14} {'feeding':<22} {'bytes':>10} {'frames':>8} {'seconds':>8} "
          f"{'MB/s':>7} {'x realtime':>11}")
    for name, data, chunk in cases:
        for label, pieces in (("one buffer", [data]), (f"{chunk}-byte chunks",
                                                        chunks(data, chunk))):
            secs, frames = timed(run_feeds(name, pieces))
            print(f"{name:<14} {label:<22} {len(data):>10} {frames:>8} {secs:>8.3f} "
                  f"{len(data) / secs / 1e6:>7.1f} {HOUR / secs:>11.0f}")
    packets = plx_hour()
    secs, frames = timed(run_feeds("plx", packets))
    print(f"{'plx':<14} {'1 record/notify':<22} {sum(map(len, packets)):>10} {frames:>8} "
          f"{secs:>8.3f} {'':>7} {HOUR / secs:>11.0f}")

    data = berrymed_hour()
    secs, frames = timed(run_feeds("berrymed", [data]))
    p = berrymed.parser()  # the five-byte parser, for its columnar path
    t0 = time.perf_counter()
    cols = p.feed_columns(data)
    col_secs = time.perf_counter() - t0
    print()
    print(f"goal: 1 h of 100 Hz BerryMed ({len(data) / 1e6:.1f} MB, {frames} packets) "
          f"< {GOAL_S} s")
    print(f"  to Reading objects: {secs:.3f} s  ({GOAL_S / secs:.1f}x under the goal)")
    print(f"  to numpy columns:   {col_secs:.3f} s  ({len(cols)} packets)")


if __name__ == "__main__":
    main()
