"""v2 cron schedules and their firing.

Sources: the Hopsworks REST resource ``JobScheduleV2Resource`` with ``JobScheduleV2InputValidation``
and ``JobScheduleV2Controller``, Hopsworks' integration test ``job_schedule_spec.rb``, and
the ``hops job`` CLI's field notes (hopsworks-cli ``docs/feature/jobs.md``).

These tests move the emulator's clock, so they get an emulator of their own whose background
schedule loop is effectively off (``--schedule-tick 3600``): every fire happens through an
explicit ``tick_scheduler()``, which makes the outcome deterministic.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from datetime import datetime, timezone
from typing import Any

import pytest

from airflow_provider_hopsjobs.emulator.handle import EmulatorHandle
from tests.emulator.conftest import Api

EVERY_MINUTE = "0 * * ? * * *"
ENV_SCRIPT = "import os\nprint(os.environ.get('HOPS_START_TIME'), os.environ.get('HOPS_END_TIME'))\n"


@pytest.fixture(scope="module")
def scheduling_emulator(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EmulatorHandle]:
    with EmulatorHandle(
        tmp_path_factory.mktemp("schedules"), extra_args=["--schedule-tick", "3600"]
    ) as handle:
        yield handle


@pytest.fixture
def sapi(scheduling_emulator: EmulatorHandle) -> Iterator[Api]:
    client = Api(scheduling_emulator)
    yield client
    client.session.close()


def _schedule(api: Api, name: str, method: str = "POST", **body: object) -> object:
    return api.request(method, f"jobs/{name}/schedule/v2", json=body)


def _tick(api: Api, name: str) -> list[dict[str, Any]]:
    """One scheduler pass; only what concerns ``name`` (other tests' schedules share the emulator)."""
    return [r for r in api.emulator.tick_scheduler() if r["job"] == name]


def _executions(api: Api, name: str) -> list[dict[str, Any]]:
    return list(api.get(f"jobs/{name}/executions", params={"sort_by": "id:asc"}).json().get("items", []))


def test_no_schedule_is_404_130042(sapi: Api, job_name: str) -> None:
    """GET without a schedule -> 404/130042 naming the job id.

    Source: the Hopsworks REST resource ``JobScheduleV2Resource``.
    """
    job = sapi.python_job(job_name, "print(1)\n")
    response = sapi.get(f"jobs/{job_name}/schedule/v2")
    assert response.status_code == 404
    assert response.json() == {
        "errorCode": 130042,
        "errorMsg": "Cannot find the job schedule.",
        "usrMsg": f"There is no schedule for this job id {job['id']}.",
    }


def test_create_truncates_epoch_ms_and_computes_next_in_utc(sapi: Api, job_name: str) -> None:
    """Start 1692368400365 is stored as ...400000; "0 0 * ? * * *" -> next 1692370800000.

    Source: Hopsworks' integration test ``job_schedule_spec.rb``.
    """
    sapi.python_job(job_name, "print(1)\n")
    response = sapi.post(
        f"jobs/{job_name}/schedule/v2",
        json={"cronExpression": "0 0 * ? * * *", "startDateTime": 1692368400365, "enabled": False},
    )
    assert response.status_code == 201
    body = response.json()
    assert response.headers["Location"] == body["href"] == f"{sapi.project}/jobs/{job_name}/schedule/v2"
    assert body["startDateTime"] == 1692368400000
    assert body["nextExecutionDateTime"] == 1692370800000
    assert (body["enabled"], body["cronExpression"]) == (False, "0 0 * ? * * *")
    assert "endDateTime" not in body
    assert sapi.get(f"jobs/{job_name}").json()["jobSchedule"] == body
    assert sapi.get(f"jobs/{job_name}/schedule/v2").json() == body


@pytest.mark.parametrize(
    ("cron", "message"),
    [
        ("30 0 * ? * *", "Seconds should be 0."),
        ("0 0 * * * *", "Invalid cron expression"),
        ("not a cron", "Invalid cron expression"),
        ("@daily", "Invalid cron expression"),
        ("0 0 25 ? * *", "Invalid cron expression"),
    ],
)
def test_invalid_cron_or_seconds_is_422(sapi: Api, job_name: str, cron: str, message: str) -> None:
    """Quartz only (one ``?`` day field), seconds exactly 0; otherwise 422/120001; nothing stored.

    Source: Hopsworks' ``JobScheduleV2InputValidation``.
    """
    sapi.python_job(job_name, "print(1)\n")
    response = sapi.post(f"jobs/{job_name}/schedule/v2", json={"cronExpression": cron})
    assert response.status_code == 422
    assert response.json()["errorCode"] == 120001
    assert message in response.json()["usrMsg"]
    assert sapi.get(f"jobs/{job_name}/schedule/v2").status_code == 404


def test_put_needs_id_and_delete_is_204(sapi: Api, job_name: str) -> None:
    """PUT without ``id`` -> 422; unknown id -> 404/130042; with id -> 200; DELETE -> 204.

    Source: the Hopsworks REST resource ``JobScheduleV2Resource``.
    """
    sapi.python_job(job_name, "print(1)\n")
    created = sapi.post(
        f"jobs/{job_name}/schedule/v2",
        json={"cronExpression": "0 0 * ? * *", "startDateTime": sapi.emulator.now_ms()},
    ).json()
    no_id = sapi.put(f"jobs/{job_name}/schedule/v2", json={"cronExpression": "0 */15 * ? * *"})
    assert (no_id.status_code, no_id.json()["errorCode"]) == (422, 120001)
    assert "id is missing" in no_id.json()["usrMsg"]
    unknown = sapi.put(f"jobs/{job_name}/schedule/v2", json={"id": 99999, "cronExpression": "0 */15 * ? * *"})
    assert (unknown.status_code, unknown.json()["errorCode"]) == (404, 130042)
    updated = sapi.put(
        f"jobs/{job_name}/schedule/v2", json={"id": created["id"], "cronExpression": "0 */15 * ? * *"}
    )
    assert updated.status_code == 200
    assert updated.json()["cronExpression"] == "0 */15 * ? * *"
    assert updated.json()["id"] == created["id"]
    twice = sapi.post(
        f"jobs/{job_name}/schedule/v2",
        json={"cronExpression": "0 0 * ? * *", "startDateTime": sapi.emulator.now_ms()},
    )
    assert twice.status_code == 500
    assert "Duplicate entry" in twice.json()["usrMsg"]
    deleted = sapi.delete(f"jobs/{job_name}/schedule/v2")
    assert (deleted.status_code, deleted.content) == (204, b"")
    assert sapi.get(f"jobs/{job_name}/schedule/v2").status_code == 404
    assert "jobSchedule" not in sapi.get(f"jobs/{job_name}").json()


def test_create_that_would_never_fire_is_422(sapi: Api, job_name: str) -> None:
    """No fire time before endDateTime -> 422 "...will never be triggered".

    Source: Hopsworks' ``JobScheduleV2Controller``.
    """
    sapi.python_job(job_name, "print(1)\n")
    response = sapi.post(
        f"jobs/{job_name}/schedule/v2",
        json={"cronExpression": "0 0 0 1 1 ? 2020", "startDateTime": 1700000000000},
    )
    assert response.status_code == 422
    assert "never be triggered" in response.json()["usrMsg"]


def test_due_schedule_fires_once_with_the_data_interval(sapi: Api, job_name: str) -> None:
    """An enabled schedule fires when due, with HOPS_START_TIME/HOPS_END_TIME (5.x) in the env.

    Source: Hopsworks' ``JobScheduleV2Controller``.
    """
    sapi.python_job(job_name, ENV_SCRIPT)
    now = sapi.emulator.now_ms()
    # startDateTime is required; an earlier start leaves the data interval unclamped, and the
    # given nextExecutionDateTime puts the first fire after now.
    body = {"cronExpression": EVERY_MINUTE, "startDateTime": now - 120_000, "nextExecutionDateTime": now}
    schedule = sapi.post(f"jobs/{job_name}/schedule/v2", json=body).json()
    fire_ms = schedule["nextExecutionDateTime"]
    assert _tick(sapi, job_name) == []
    sapi.emulator.advance_clock(61)
    report = _tick(sapi, job_name)
    assert [(r["fireTime"], r["skipped"]) for r in report] == [(fire_ms, False)]
    assert _tick(sapi, job_name) == []
    (execution,) = _executions(sapi, job_name)
    done = sapi.wait(job_name, int(execution["id"]))
    log = sapi.get(f"jobs/{job_name}/executions/{done['id']}/log/out").json()["log"]
    fire = datetime.fromtimestamp(fire_ms / 1000, timezone.utc)
    previous = datetime.fromtimestamp(fire_ms / 1000 - 60, timezone.utc)
    assert log.split() == [previous.isoformat(), fire.isoformat()]
    after = sapi.get(f"jobs/{job_name}/schedule/v2").json()
    assert after["nextExecutionDateTime"] == fire_ms + 60_000
    sapi.delete(f"jobs/{job_name}/schedule/v2")


def test_fire_is_skipped_while_an_execution_is_unfinished(sapi: Api, job_name: str) -> None:
    """The scheduler skips a fire while any execution of the job is not finished.

    Source: Hopsworks' schedule runner (``executeWithCron``).
    """
    sapi.python_job(job_name, "import time\ntime.sleep(30)\n")
    sapi.post(
        f"jobs/{job_name}/schedule/v2",
        json={"cronExpression": EVERY_MINUTE, "startDateTime": sapi.emulator.now_ms()},
    )
    sapi.emulator.advance_clock(61)
    assert [r["skipped"] for r in _tick(sapi, job_name)] == [False]
    sapi.emulator.advance_clock(60)
    assert [r["skipped"] for r in _tick(sapi, job_name)] == [True]
    (execution,) = _executions(sapi, job_name)
    sapi.put(f"jobs/{job_name}/executions/{execution['id']}/status")
    sapi.wait(job_name, int(execution["id"]))
    sapi.delete(f"jobs/{job_name}/schedule/v2")


def test_a_create_without_start_date_time_is_refused(sapi: Api, job_name: str) -> None:
    """Hopsworks' schedule table has a NOT NULL start column: the insert fails (500/120005).

    Source: Hopsworks' ``JobScheduleV2`` entity; the official SDK's ``JobSchedule`` reads it unconditionally.
    """
    sapi.python_job(job_name, "print(1)\n")
    response = sapi.post(f"jobs/{job_name}/schedule/v2", json={"cronExpression": EVERY_MINUTE})
    assert (response.status_code, response.json()["errorCode"]) == (500, 120005)
    assert sapi.get(f"jobs/{job_name}/schedule/v2").status_code == 404


def test_disabled_and_deleted_schedules_never_fire(sapi: Api, job_name: str) -> None:
    """Issue 3: disabled or deleted schedules never fire."""
    sapi.python_job(job_name, "print(1)\n")
    schedule = sapi.post(
        f"jobs/{job_name}/schedule/v2",
        json={"cronExpression": EVERY_MINUTE, "startDateTime": sapi.emulator.now_ms()},
    ).json()
    assert schedule["enabled"] is True
    sapi.put(f"jobs/{job_name}/schedule/v2", json={**schedule, "enabled": False})
    sapi.emulator.advance_clock(120)
    assert _tick(sapi, job_name) == []
    sapi.delete(f"jobs/{job_name}/schedule/v2")
    sapi.emulator.advance_clock(120)
    assert _tick(sapi, job_name) == []
    assert _executions(sapi, job_name) == []


def test_a_start_in_the_past_catches_up_one_fire_per_tick(sapi: Api, job_name: str) -> None:
    """startDateTime may be in the past; the scheduler backfills one execution at a time.

    Source: Hopsworks' ``JobScheduleV2Controller``.
    """
    sapi.python_job(job_name, "print(1)\n")
    now = sapi.emulator.now_ms()
    start = now - 3 * 60_000 - 30_000
    created = sapi.post(
        f"jobs/{job_name}/schedule/v2", json={"cronExpression": EVERY_MINUTE, "startDateTime": start}
    ).json()
    assert created["nextExecutionDateTime"] < now
    fired = []
    for _ in range(3):
        (entry,) = _tick(sapi, job_name)
        fired.append(entry["fireTime"])
        sapi.wait(job_name, entry["executionId"], logs=False)
    assert [b - a for a, b in itertools.pairwise(fired)] == [60_000, 60_000]
    assert len(_executions(sapi, job_name)) == 3
    sapi.delete(f"jobs/{job_name}/schedule/v2")


def test_catchup_false_fires_only_the_latest_missed_time(sapi: Api, job_name: str) -> None:
    """``"catchup": false`` (the SDK's default): a past start fires once, not once per missed minute."""
    sapi.python_job(job_name, "print(1)\n")
    now = sapi.emulator.now_ms()
    start = now - 30 * 60_000 - 30_000
    created = sapi.post(
        f"jobs/{job_name}/schedule/v2",
        json={"cronExpression": EVERY_MINUTE, "startDateTime": start, "catchup": False},
    ).json()
    assert created["catchup"] is False
    (entry,) = _tick(sapi, job_name)
    assert now - 60_000 < entry["fireTime"] <= now
    sapi.wait(job_name, entry["executionId"], logs=False)
    schedule = sapi.get(f"jobs/{job_name}/schedule/v2").json()
    assert now < schedule["nextExecutionDateTime"] <= now + 120_000  # the clock runs on meanwhile
    assert len(_executions(sapi, job_name)) == 1
    sapi.delete(f"jobs/{job_name}/schedule/v2")
