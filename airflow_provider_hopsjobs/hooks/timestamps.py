"""Dates as Hopsworks sends them, and as it wants them back.

Jobs and executions carry ISO strings (``2024-05-01T10:00:00.123Z``) on the backends we
can read, but the official SDK's own CLI says 5.x sends epoch milliseconds; schedules
always use epoch milliseconds. Accepting both keeps the provider working on either.
"""

from __future__ import annotations

from datetime import datetime, timezone

import pendulum


def parse_timestamp(value: str | int | float | None) -> datetime | None:
    """An aware UTC datetime from an ISO string or epoch milliseconds (None stays None)."""
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        raise ValueError(f"Not a timestamp: {value!r}")
    if isinstance(value, (int, float)):
        return datetime.fromtimestamp(value / 1000.0, tz=timezone.utc)
    text = str(value).strip()
    if text.lstrip("-").isdigit():
        return datetime.fromtimestamp(int(text) / 1000.0, tz=timezone.utc)
    parsed = pendulum.parse(text, tz="UTC")
    if not isinstance(parsed, datetime):
        raise ValueError(f"Not a date and time: {value!r}")
    return parsed.astimezone(timezone.utc)


def to_epoch_ms(value: datetime) -> int:
    """Epoch milliseconds for the schedule API; a naive datetime is taken as UTC (as the SDK does)."""
    if value.tzinfo is None:
        value = value.replace(tzinfo=timezone.utc)
    return int(value.timestamp() * 1000)
