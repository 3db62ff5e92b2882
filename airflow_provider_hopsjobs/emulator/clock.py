"""The emulator's notion of "now", and the two date encodings Hopsworks uses.

Jobs and executions carry ISO strings (``yyyy-MM-dd'T'HH:mm:ss.SSS'Z'``); v2 schedules
carry epoch milliseconds. Every timestamp the emulator writes comes from one
:class:`Clock`, which tests may move forward (admin route ``/_emulator/clock``) so a
cron schedule fires without waiting for the wall clock. Time only ever moves forward.
"""

from __future__ import annotations

import threading
import time
from datetime import datetime, timezone


class Clock:
    """Wall-clock UTC time plus an adjustable offset, in epoch milliseconds."""

    def __init__(self, offset_ms: int = 0) -> None:
        self._offset_ms = offset_ms
        self._lock = threading.Lock()

    @property
    def offset_ms(self) -> int:
        return self._offset_ms

    def now_ms(self) -> int:
        return int(time.time() * 1000) + self._offset_ms

    def now(self) -> datetime:
        return from_ms(self.now_ms())

    def advance(self, seconds: float) -> int:
        """Move the clock forward; returns the new offset. Going backwards is refused."""
        if seconds < 0:
            raise ValueError("the emulator clock only moves forward")
        with self._lock:
            self._offset_ms += int(seconds * 1000)
            return self._offset_ms

    def set_offset(self, offset_ms: int) -> None:
        with self._lock:
            self._offset_ms = offset_ms


def from_ms(ms: int) -> datetime:
    return datetime.fromtimestamp(ms / 1000, tz=timezone.utc)


def to_ms(value: datetime) -> int:
    if value.tzinfo is None:
        value = value.replace(tzinfo=timezone.utc)
    return int(value.timestamp() * 1000)


def iso_ms(ms: int) -> str:
    """Hopsworks' Date format: millisecond precision and a literal ``Z``."""
    return from_ms(ms).strftime("%Y-%m-%dT%H:%M:%S.") + f"{ms % 1000:03d}Z"


def iso_seconds(ms: int) -> str:
    """An ISO instant without fractions, as in ``-start_time 2023-08-19T18:00:00Z``."""
    return from_ms(ms).strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_filter_date(text: str) -> int:
    """Parse a ``submissiontime`` filter value the way Hopsworks' ``AbstractFacade.getDate`` does.

    Accepted: ``yyyy-MM-dd'T'HH:mm:ss.SSSX``, ``yyyy-MM-dd'T'HH:mm:ssX`` and ``yyyy-MM-dd``.
    Raises ValueError otherwise.
    """
    value = text.strip()
    if value.endswith("Z"):
        value = value[:-1] + "+00:00"
    for fmt in ("%Y-%m-%dT%H:%M:%S.%f%z", "%Y-%m-%dT%H:%M:%S%z", "%Y-%m-%d"):
        try:
            parsed = datetime.strptime(value, fmt)
        except ValueError:
            continue
        if parsed.tzinfo is None:
            parsed = parsed.replace(tzinfo=timezone.utc)
        return to_ms(parsed)
    raise ValueError(f"unparseable date {text!r}")
