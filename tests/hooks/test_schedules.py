"""v2 (Quartz cron) schedules: epoch milliseconds, POST to create, PUT with the id to update."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest

from airflow_provider_hopsjobs.errors import HopsworksConfigError, HopsworksNotFoundError
from airflow_provider_hopsjobs.hooks.cron import normalise_quartz_cron
from tests.hooks.conftest import P

SCHEDULE = f"{P}/jobs/etl/schedule/v2"
NO_SCHEDULE = {
    "status_code": 404,
    "json": {
        "errorCode": 130042,
        "errorMsg": "Cannot find the job schedule.",
        "usrMsg": "There is no schedule for this job id `5`.",
    },
}


def dto(**overrides) -> dict:
    value = {
        "href": SCHEDULE,
        "id": 3,
        "startDateTime": 1692368400000,
        "nextExecutionDateTime": 1692370800000,
        "enabled": True,
        "cronExpression": "0 0 * ? * * *",
    }
    value.update(overrides)
    return value


def test_get_schedule(hook, project, requests_mock):
    requests_mock.get(SCHEDULE, json=dto())
    assert hook.get_schedule("etl")["cronExpression"] == "0 0 * ? * * *"


def test_no_schedule_is_none(hook, project, requests_mock):
    requests_mock.get(SCHEDULE, **NO_SCHEDULE)
    assert hook.get_schedule("etl") is None


def test_schedule_of_unknown_job_is_not_found(hook, project, requests_mock):
    requests_mock.get(SCHEDULE, status_code=404, json={"errorCode": 130009, "errorMsg": "Job not found."})
    with pytest.raises(HopsworksNotFoundError):
        hook.get_schedule("etl")


def test_create_posts_epoch_milliseconds(hook, project, requests_mock):
    requests_mock.get(SCHEDULE, **NO_SCHEDULE)
    post = requests_mock.post(SCHEDULE, status_code=201, json=dto())
    start = datetime(2023, 8, 18, 14, 20, 0, 365000, tzinfo=timezone.utc)
    end = datetime(2024, 1, 1)  # naive = UTC
    result = hook.create_or_update_schedule("etl", "0 0 * ? * * *", start=start, end=end)
    assert result["id"] == 3
    assert post.last_request.json() == {
        "cronExpression": "0 0 * ? * * *",
        "enabled": True,
        "catchup": False,
        "startDateTime": 1692368400365,
        "endDateTime": 1704067200000,
    }


def test_create_without_start_starts_now(hook, project, requests_mock):
    requests_mock.get(SCHEDULE, **NO_SCHEDULE)
    post = requests_mock.post(SCHEDULE, status_code=201, json=dto())
    before = datetime.now(timezone.utc).timestamp() * 1000
    hook.create_or_update_schedule("etl", "@daily")
    body = post.last_request.json()
    assert body["cronExpression"] == "0 0 0 * * ?"
    assert body["startDateTime"] >= before - 1
    assert "endDateTime" not in body


def test_update_puts_with_the_id_read_from_get(hook, project, requests_mock):
    requests_mock.get(SCHEDULE, json=dto())
    put = requests_mock.put(SCHEDULE, json=dto(cronExpression="0 30 6 ? * MON-FRI"))
    post = requests_mock.post(SCHEDULE, status_code=201, json={})
    hook.create_or_update_schedule("etl", "0 30 6 ? * MON-FRI", enabled=False)
    assert post.call_count == 0
    assert put.last_request.json() == {
        "id": 3,
        "cronExpression": "0 30 6 ? * MON-FRI",
        "enabled": False,
        "catchup": False,
        "startDateTime": 1692368400000,
    }


@pytest.mark.parametrize("enabled", [True, False])
def test_enable_and_disable(hook, project, requests_mock, enabled):
    requests_mock.get(SCHEDULE, json=dto(enabled=not enabled, endDateTime=1800000000000))
    put = requests_mock.put(SCHEDULE, json=dto(enabled=enabled))
    assert hook.set_schedule_enabled("etl", enabled)["enabled"] is enabled
    assert put.last_request.json() == {
        "id": 3,
        "cronExpression": "0 0 * ? * * *",
        "startDateTime": 1692368400000,
        "endDateTime": 1800000000000,
        "enabled": enabled,
    }


def test_catchup_and_max_active_runs_are_sent(hook, project, requests_mock):
    requests_mock.get(SCHEDULE, **NO_SCHEDULE)
    post = requests_mock.post(SCHEDULE, status_code=201, json=dto())
    hook.create_or_update_schedule("etl", "0 0 * ? * *", catchup=True, max_active_runs=2)
    body = post.last_request.json()
    assert (body["catchup"], body["maxActiveRuns"]) == (True, 2)


def test_bad_max_active_runs_fails_before_any_request(hook, requests_mock):
    with pytest.raises(HopsworksConfigError, match="max_active_runs must be a positive integer"):
        hook.create_or_update_schedule("etl", "0 0 * ? * *", max_active_runs=0)
    assert requests_mock.call_count == 0


def test_pause_keeps_catchup_and_max_active_runs(hook, project, requests_mock):
    """A PUT replaces the whole schedule: leaving ``catchup`` out would reset it."""
    requests_mock.get(SCHEDULE, json=dto(catchup=False, maxActiveRuns=1))
    put = requests_mock.put(SCHEDULE, json=dto(enabled=False))
    hook.set_schedule_enabled("etl", False)
    assert put.last_request.json()["catchup"] is False
    assert put.last_request.json()["maxActiveRuns"] == 1


def test_enable_without_schedule(hook, project, requests_mock):
    requests_mock.get(SCHEDULE, **NO_SCHEDULE)
    with pytest.raises(HopsworksNotFoundError, match="has no schedule"):
        hook.set_schedule_enabled("etl", True)


def test_delete_schedule(hook, project, requests_mock):
    delete = requests_mock.delete(SCHEDULE, status_code=204)
    hook.delete_schedule("etl")
    assert delete.call_count == 1


@pytest.mark.parametrize(
    ("cron", "message"),
    [
        ("0 * * * *", "5-field Unix cron"),
        ("30 0 * ? * *", "seconds field to be 0"),
        ("0 0 * * * *", "'?'"),
        ("", "required"),
    ],
)
def test_bad_cron_fails_before_any_request(hook, requests_mock, cron, message):
    with pytest.raises(HopsworksConfigError, match=message):
        hook.create_or_update_schedule("etl", cron)
    assert requests_mock.call_count == 0


def test_end_before_start_fails_before_any_request(hook, requests_mock):
    with pytest.raises(HopsworksConfigError, match="end must be after"):
        hook.create_or_update_schedule(
            "etl", "0 0 * ? * *", start=datetime(2024, 2, 1), end=datetime(2024, 1, 1)
        )
    assert requests_mock.call_count == 0


@pytest.mark.parametrize(
    ("given", "expected"),
    [("0  0 * ? * * *", "0 0 * ? * * *"), ("@hourly", "0 0 * * * ?"), ("@WEEKLY", "0 0 0 ? * SUN")],
)
def test_cron_normalisation(given, expected):
    assert normalise_quartz_cron(given) == expected
