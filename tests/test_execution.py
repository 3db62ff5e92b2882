"""The Execution value: the success rule, terminal states, the summary and the events."""

from __future__ import annotations

import json

import pytest

from airflow_provider_hopsjobs.execution import (
    RUNNING_STATES,
    TERMINAL_STATES,
    WAIT_OUTCOMES,
    Execution,
    Outcome,
)

#: Hopsworks' ``JobState`` enum: every state is either terminal or running, never both.
ALL_STATES = {
    "INITIALIZING",
    "INITIALIZATION_FAILED",
    "FINISHED",
    "RUNNING",
    "ACCEPTED",
    "FAILED",
    "KILLED",
    "NEW",
    "NEW_SAVING",
    "SUBMITTED",
    "AGGREGATING_LOGS",
    "FRAMEWORK_FAILURE",
    "STARTING_APP_MASTER",
    "APP_MASTER_START_FAILED",
    "GENERATING_SECURITY_MATERIAL",
    "CONVERTING_NOTEBOOK",
}


def test_every_state_is_terminal_or_running_never_both() -> None:
    assert TERMINAL_STATES | set(RUNNING_STATES) == ALL_STATES
    assert not TERMINAL_STATES & set(RUNNING_STATES)
    assert len(TERMINAL_STATES) == 6


@pytest.mark.parametrize(
    ("state", "final_status", "job_type", "outcome"),
    [
        # Still going, whatever the final status says.
        ("RUNNING", "UNDEFINED", "PYTHON", Outcome.RUNNING),
        ("AGGREGATING_LOGS", "SUCCEEDED", "SPARK", Outcome.RUNNING),
        ("INITIALIZING", None, None, Outcome.RUNNING),
        (None, None, None, Outcome.RUNNING),
        # Success: FINISHED + SUCCEEDED, or FINISHED + UNDEFINED without a YARN final status.
        ("FINISHED", "SUCCEEDED", "SPARK", Outcome.SUCCESS),
        ("FINISHED", "SUCCEEDED", "PYTHON", Outcome.SUCCESS),
        ("FINISHED", "UNDEFINED", "PYTHON", Outcome.SUCCESS),
        ("FINISHED", "UNDEFINED", "DOCKER", Outcome.SUCCESS),
        ("FINISHED", "UNDEFINED", "RAY", Outcome.SUCCESS),
        ("FINISHED", None, None, Outcome.SUCCESS),
        ("finished", "succeeded", "pyspark", Outcome.SUCCESS),
        # FINISHED is not success on its own.
        ("FINISHED", "UNDEFINED", "SPARK", Outcome.FAILED),
        ("FINISHED", "UNDEFINED", "PYSPARK", Outcome.FAILED),
        ("FINISHED", "UNDEFINED", "FLINK", Outcome.FAILED),
        ("FINISHED", "FAILED", "PYTHON", Outcome.FAILED),
        # Failures that keep finalStatus UNDEFINED (the reason never to wait on finalStatus).
        ("INITIALIZATION_FAILED", "UNDEFINED", "SPARK", Outcome.FAILED),
        ("APP_MASTER_START_FAILED", "UNDEFINED", "SPARK", Outcome.FAILED),
        ("FRAMEWORK_FAILURE", "UNDEFINED", "PYSPARK", Outcome.FAILED),
        ("FAILED", "FAILED", "PYTHON", Outcome.FAILED),
        # Killed, by state or by YARN final status.
        ("KILLED", "KILLED", "PYTHON", Outcome.KILLED),
        ("KILLED", "UNDEFINED", "SPARK", Outcome.KILLED),
        ("FINISHED", "KILLED", "SPARK", Outcome.KILLED),
    ],
)
def test_success_rule(
    state: str | None, final_status: str | None, job_type: str | None, outcome: Outcome
) -> None:
    execution = Execution(id=1, job_name="j", state=state, final_status=final_status, job_type=job_type)
    assert execution.outcome is outcome
    assert execution.is_terminal is (outcome is not Outcome.RUNNING)


def test_from_dto_reads_the_fields_it_needs_and_tolerates_omitted_ones() -> None:
    dto = {
        "href": "https://h/hopsworks-api/api/project/119/jobs/etl/executions/7",
        "id": 7,
        "submissionTime": "2026-01-01T10:00:00.000Z",
        "state": "FINISHED",
        "finalStatus": "SUCCEEDED",
        "progress": 1.0,
        "duration": 5230,
        "args": "--day 1",
        "stdoutPath": "/Projects/demo/Logs/Python/x/stdout.log",
        "stderrPath": "/Projects/demo/Logs/Python/x/stderr.log",
    }
    execution = Execution.from_dto(dto, job_name="etl", job_type="python")
    assert execution == Execution(
        id=7,
        job_name="etl",
        state="FINISHED",
        final_status="SUCCEEDED",
        job_type="PYTHON",
        duration_ms=5230,
        submission_time="2026-01-01T10:00:00.000Z",
        args="--day 1",
        stdout_path="/Projects/demo/Logs/Python/x/stdout.log",
        stderr_path="/Projects/demo/Logs/Python/x/stderr.log",
    )
    fresh = Execution.from_dto({"id": 8, "state": "INITIALIZING"}, job_name="etl")
    assert (fresh.final_status, fresh.duration_ms, fresh.stdout_path, fresh.job_type) == (
        None,
        None,
        None,
        None,
    )


def test_the_value_is_immutable_and_learns_its_job_type_by_copy() -> None:
    execution = Execution(id=1, job_name="j", state="FINISHED", final_status="UNDEFINED")
    spark = execution.with_job_type("spark")
    assert (execution.outcome, spark.outcome) == (Outcome.SUCCESS, Outcome.FAILED)
    assert execution.with_job_type(None) is execution
    with pytest.raises(AttributeError):
        execution.state = "RUNNING"  # type: ignore[misc]


def test_summary_is_small_json() -> None:
    execution = Execution(id=3, job_name="train", state="FINISHED", final_status="SUCCEEDED", duration_ms=12)
    summary = execution.summary("https://h/p/1/jobs/named/train/executions")
    assert summary == {
        "execution_id": 3,
        "job_name": "train",
        "state": "FINISHED",
        "final_status": "SUCCEEDED",
        "duration_ms": 12,
        "url": "https://h/p/1/jobs/named/train/executions",
    }
    assert json.loads(json.dumps(summary)) == summary


@pytest.mark.parametrize(
    ("state", "final_status", "status", "message"),
    [
        ("FINISHED", "SUCCEEDED", "success", "succeeded (state FINISHED, final status SUCCEEDED)."),
        ("FAILED", None, "failed", "failed (state FAILED, final status UNDEFINED)."),
        ("KILLED", "KILLED", "killed", "was killed (state KILLED, final status KILLED)."),
    ],
)
def test_terminal_event(state: str, final_status: str | None, status: str, message: str) -> None:
    execution = Execution(id=4, job_name="train", state=state, final_status=final_status)
    assert execution.terminal_event() == {
        "status": status,
        "execution_id": 4,
        "job_name": "train",
        "state": state,
        "final_status": final_status,
        "message": f"Hopsworks job 'train' execution 4 {message}",
        "transient": False,
    }


def test_no_terminal_event_while_running_and_events_round_trip() -> None:
    running = Execution(id=4, job_name="train", state="RUNNING", final_status="UNDEFINED")
    assert running.terminal_event() is None
    event = running.event(Outcome.ERROR, "gone", transient=True)
    assert event["status"] in WAIT_OUTCOMES
    back = Execution.from_event(event, job_type="PYTHON")
    assert (back.id, back.job_name, back.state, back.final_status, back.job_type) == (
        4,
        "train",
        "RUNNING",
        "UNDEFINED",
        "PYTHON",
    )


def test_wait_outcomes_are_the_event_statuses() -> None:
    assert {"success", "failed", "killed", "timeout", "error"} == WAIT_OUTCOMES
