import asyncio
import time

from oximon.clock import ManualClock, ScaledClock


def test_manual_clock_wakes_sleepers_in_due_order():
    clock = ManualClock()
    woke: list[tuple[str, float]] = []

    async def sleeper(name: str, delay: float) -> None:
        await clock.sleep(delay)
        woke.append((name, clock.now()))

    async def main() -> None:
        tasks = [asyncio.create_task(sleeper(n, d)) for n, d in (("b", 5), ("a", 2), ("c", 9))]
        await asyncio.sleep(0)
        await clock.advance(6)
        assert woke == [("a", 2), ("b", 5)]
        assert clock.now() == 6
        await clock.advance(10)
        await asyncio.gather(*tasks)

    asyncio.run(main())
    assert woke == [("a", 2), ("b", 5), ("c", 9)]


def test_manual_clock_wall_follows_engine_time():
    clock = ManualClock()
    start = clock.wall()
    clock.set(90)
    assert (clock.wall() - start).total_seconds() == 90


def test_scaled_clock_runs_faster_than_real_time():
    clock = ScaledClock(speed=1000)
    t0, r0 = clock.now(), time.monotonic()

    async def main() -> None:
        await clock.sleep(20)  # 20 virtual seconds = 20 ms

    asyncio.run(main())
    real = time.monotonic() - r0
    assert clock.now() - t0 >= 20
    assert real < 1.0
