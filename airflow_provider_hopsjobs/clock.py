"""The one clock: wall time, monotonic time and sleeping, sync and async.

Every part that waits (the hook's retries and log waits, the synchronous poll loop, the
trigger) reads time and sleeps through a :class:`Clock` held in its ``clock`` attribute,
which defaults to :data:`SYSTEM_CLOCK`. Tests replace that one attribute with a fake clock;
nothing else about time is injectable, so there is one seam to know.
"""

from __future__ import annotations

import asyncio
import time


class Clock:
    """The system's clock. Subclass it (or duck-type it) to make time pass in tests."""

    def time(self) -> float:
        """Epoch seconds; deadlines are absolute so they survive a hand-over to the triggerer."""
        return time.time()

    def monotonic(self) -> float:
        """For durations measured inside one process (retry budgets, transient-error allowances)."""
        return time.monotonic()

    def sleep(self, seconds: float) -> None:
        time.sleep(seconds)

    async def async_sleep(self, seconds: float) -> None:
        await asyncio.sleep(seconds)


SYSTEM_CLOCK = Clock()
