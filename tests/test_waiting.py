"""The shared wait policy: schedule, deadlines, event validation."""

from __future__ import annotations

import itertools
from datetime import datetime, timedelta, timezone

import pytest

from airflow_provider_hopsjobs.errors import HopsworksError
from airflow_provider_hopsjobs.waiting import (
    FIRST_POLL_INTERVAL,
    earliest_deadline,
    parse_deadline,
    poll_intervals,
    terminal_event,
    validate_event,
)


def test_poll_schedule_starts_fast_backs_off_and_caps() -> None:
    intervals = list(itertools.islice(poll_intervals(10), 200))
    assert intervals[0] == FIRST_POLL_INTERVAL
    assert intervals == sorted(intervals)  # never speeds up again
    assert max(intervals) == 10  # reaches the cap, never passes it
    assert intervals[-1] == 10
    assert list(itertools.islice(poll_intervals(0.2), 3)) == [0.2, 0.2, 0.2]


def test_poll_schedule_resumes_a_wait_that_began_earlier() -> None:
    assert list(itertools.islice(poll_intervals(30, waited=100), 2)) == [5.0, 5.25]
    assert list(itertools.islice(poll_intervals(30, waited=3600), 2)) == [30, 30]
    assert next(poll_intervals(30, waited=-5)) == FIRST_POLL_INTERVAL  # a clock that went back


def test_poll_schedule_is_cheap_for_long_waits() -> None:
    """An hour's wait with a 30 s cap costs a few hundred polls, not thousands."""
    waited, polls = 0.0, 0
    for interval in poll_intervals(30):
        if waited >= 3600:
            break
        waited += interval
        polls += 1
    assert polls < 400


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (None, None),
        (1_900_000_000, 1_900_000_000.0),
        ("1900000000.5", 1_900_000_000.5),
        ("2030-01-01T00:00:00Z", datetime(2030, 1, 1, tzinfo=timezone.utc).timestamp()),
        ("2030-01-01T02:00:00+02:00", datetime(2030, 1, 1, tzinfo=timezone.utc).timestamp()),
        (datetime(2030, 1, 1, tzinfo=timezone.utc), datetime(2030, 1, 1, tzinfo=timezone.utc).timestamp()),
    ],
)
def test_parse_deadline(value: object, expected: float | None) -> None:
    assert parse_deadline(value) == expected  # type: ignore[arg-type]


@pytest.mark.parametrize("value", ["soon", True, datetime(2030, 1, 1), float("inf"), timedelta(1)])
def test_parse_deadline_refuses(value: object) -> None:
    with pytest.raises(ValueError):
        parse_deadline(value)  # type: ignore[arg-type]


def test_earliest_deadline() -> None:
    assert earliest_deadline(None, None) is None
    assert earliest_deadline(None, 5.0, 3.0) == 3.0


def test_terminal_event_is_none_while_running() -> None:
    assert terminal_event({"state": "RUNNING"}, job_name="j", execution_id=1, job_type="PYTHON") is None
    event = terminal_event(
        {"state": "FINISHED", "finalStatus": "SUCCEEDED"}, job_name="j", execution_id=1, job_type=None
    )
    assert event is not None and event["status"] == "success"


@pytest.mark.parametrize(
    "bad",
    [
        None,
        [],
        {"status": "success"},
        {"status": "done", "execution_id": 1, "job_name": "j"},
        {"status": "success", "execution_id": None, "job_name": "j"},
    ],
)
def test_validate_event_refuses(bad: object) -> None:
    with pytest.raises(HopsworksError):
        validate_event(bad)


def test_validate_event_normalises() -> None:
    event = validate_event({"status": "failed", "execution_id": "4", "job_name": "j", "message": None})
    assert event["execution_id"] == 4
    assert event["message"] == ""
    assert event["transient"] is False
