"""A fake monotonic clock for code that takes `clock` and `sleep`: waits are recorded, never slept."""

from __future__ import annotations

import asyncio


class FakeClock:
    """Seconds that move only when the code under test sleeps (or a test moves them); records each wait."""

    def __init__(self, start: float = 0.0) -> None:
        self.now = start
        self.waits: list[float] = []

    def __call__(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        """Advance by `seconds` at once, yielding to the event loop as a real sleep would."""
        self.waits.append(seconds)
        self.now += seconds
        await asyncio.sleep(0)
