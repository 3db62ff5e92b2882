"""Dates as ISO strings or epoch milliseconds."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest

from airflow_provider_hopsjobs.hooks.timestamps import parse_timestamp, to_epoch_ms


@pytest.mark.parametrize(
    "value",
    [
        "2024-05-01T10:00:00.123Z",
        "2024-05-01T10:00:00.123+00:00",
        1714557600123,
        "1714557600123",
        1714557600123.0,
    ],
)
def test_iso_and_epoch_ms_agree(value):
    assert parse_timestamp(value) == datetime(2024, 5, 1, 10, 0, 0, 123000, tzinfo=timezone.utc)


def test_empty_and_bad_timestamps():
    assert parse_timestamp(None) is None
    assert parse_timestamp("") is None
    with pytest.raises(ValueError):
        parse_timestamp("yesterday-ish")
    with pytest.raises(ValueError):
        parse_timestamp(True)


def test_epoch_ms_round_trip_and_naive_is_utc():
    assert to_epoch_ms(datetime(2023, 8, 18, 14, 20, tzinfo=timezone.utc)) == 1692368400000
    assert to_epoch_ms(datetime(2023, 8, 18, 14, 20)) == 1692368400000
