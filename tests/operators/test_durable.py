"""Airflow 3.3's durable-job convention: ``durable`` accepted, the ``resumable_job.*`` metrics counted.

The decisions themselves (reconnect, reuse a success, resubmit after a failure) are tested
in test_reattach.py and end to end in test_jobs_e2e.py; here, that each is counted under the
name Airflow's ``ResumableJobMixin`` uses, through Airflow's own stats API on each version.
"""

from __future__ import annotations

from typing import Any
from unittest import mock

import pytest

from airflow_provider_hopsjobs.errors import HopsworksConfigError
from airflow_provider_hopsjobs.operators import reattach
from airflow_provider_hopsjobs.operators.jobs import HopsworksRunJobOperator
from airflow_provider_hopsjobs.operators.reattach import (
    SafeMemory,
    TaskStateStoreMemory,
    new_record,
    reattach_or_start,
)
from tests.airflow_support import FakeTaskStateStore, execution


@pytest.fixture
def metrics(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, dict[str, Any]]]:
    """What reaches Airflow's stats API (the Task SDK's on 3.3, ``airflow.stats`` before)."""
    seen: list[tuple[str, dict[str, Any]]] = []

    def incr(stat: str, *args: Any, tags: dict[str, Any] | None = None, **kwargs: Any) -> None:
        seen.append((stat, dict(tags or {})))

    try:
        from airflow.sdk.observability import stats

        monkeypatch.setattr(stats, "incr", incr)
    except ImportError:  # Airflow 3.0-3.2
        from airflow.stats import Stats

        monkeypatch.setattr(Stats, "incr", incr)
    return seen


def _start(store: FakeTaskStateStore, hook: Any) -> tuple[Any, bool]:
    operator = HopsworksRunJobOperator(task_id="run", job_name="train")
    context = {"task": operator, "ti": None}
    return reattach_or_start(
        hook, SafeMemory(TaskStateStoreMemory(store)), "train", None, job_type="PYTHON", context=context
    )


@pytest.mark.parametrize(
    ("previous", "decisions", "reused"),
    [
        (None, ["fresh_submit"], False),
        (("RUNNING", "UNDEFINED"), ["reconnect_attempt", "reconnect_success"], True),
        (("FINISHED", "SUCCEEDED"), ["reconnect_attempt", "already_succeeded"], True),
        (("FAILED", "FAILED"), ["reconnect_attempt", "terminal_resubmit"], False),
    ],
)
def test_each_decision_is_counted_as_airflows_durable_jobs_count_it(
    metrics: list[tuple[str, dict[str, Any]]],
    previous: tuple[str, str] | None,
    decisions: list[str],
    reused: bool,
) -> None:
    store = FakeTaskStateStore()
    hook = mock.Mock()
    hook.start_execution.return_value = execution(8)
    if previous is not None:
        store.set(reattach.STATE_STORE_KEY, dict(new_record("train", 7, 1)))
        hook.get_execution.return_value = execution(7, *previous)
    _, was_reused = _start(store, hook)
    assert was_reused is reused
    assert metrics == [(f"resumable_job.{d}", {"operator": "HopsworksRunJobOperator"}) for d in decisions]


def test_nothing_is_counted_when_reattaching_is_off(metrics: list[tuple[str, dict[str, Any]]]) -> None:
    hook = mock.Mock()
    hook.start_execution.return_value = execution(8)
    reattach_or_start(hook, reattach.NoMemory(), "train", None, job_type="PYTHON", context={})
    assert metrics == []


def test_durable_is_airflows_name_for_reattach_on_retry() -> None:
    assert HopsworksRunJobOperator(task_id="a", job_name="train", durable=False).reattach_on_retry is False
    assert HopsworksRunJobOperator(task_id="b", job_name="train", durable=True).reattach_on_retry is True
    assert HopsworksRunJobOperator(task_id="c", job_name="train").reattach_on_retry is True
    with pytest.raises(HopsworksConfigError, match="durable must be True or False"):
        HopsworksRunJobOperator(task_id="d", job_name="train", durable="no")
