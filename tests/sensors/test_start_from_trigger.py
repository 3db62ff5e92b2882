"""The sensor starts in the triggerer on Airflow 3.3+ when its arguments allow it, and only then.

What Airflow does with ``start_from_trigger``/``start_trigger_args`` is proven under a real
scheduler and triggerer in tests/real_airflow/test_worker_free_sensor.py; here: the decision,
the trigger Airflow will build, the DAG serialisation that carries it, and the completion on
the worker.
"""

from __future__ import annotations

import importlib
from datetime import timedelta
from typing import Any
from unittest import mock

import pytest

from airflow_provider_hopsjobs.errors import HopsworksJobFailedError
from airflow_provider_hopsjobs.hooks.hopsworks import HopsworksHook
from airflow_provider_hopsjobs.sensors import execution as sensor_module
from airflow_provider_hopsjobs.sensors.execution import HopsworksExecutionSensor
from airflow_provider_hopsjobs.triggers.execution import HopsworksExecutionTrigger
from tests.airflow_support import FakeTI, execution, make_context

URL = "https://hopsworks.example.com/p/119/jobs/named/train/executions"


@pytest.fixture(autouse=True)
def airflow_3_3(monkeypatch: pytest.MonkeyPatch) -> None:
    """The decision is the same code on every version; the gate is the version flag."""
    monkeypatch.setattr(sensor_module, "AIRFLOW_V_3_3_PLUS", True)


def make_sensor(**overrides: Any) -> HopsworksExecutionSensor:
    kwargs: dict[str, Any] = {
        "task_id": "wait",
        "job_name": "train",
        "execution_id": 7,
        "deferrable": True,
        "poke_interval": 5,
        "timeout": 600,
    }
    kwargs.update(overrides)
    return HopsworksExecutionSensor(**kwargs)


def test_literal_arguments_start_in_the_triggerer_with_the_sensors_trigger() -> None:
    sensor = make_sensor(execution_id="42", project="fraud")
    assert sensor.start_from_trigger is True
    args = sensor.start_trigger_args
    assert args is not None and args.next_method == "execute_complete"
    assert args.timeout == timedelta(seconds=600)
    module, _, name = args.trigger_cls.rpartition(".")
    trigger = getattr(importlib.import_module(module), name)(**args.trigger_kwargs)
    assert isinstance(trigger, HopsworksExecutionTrigger)
    assert (trigger.job_name, trigger.execution_id, trigger.project) == ("train", 42, "fraud")
    assert trigger.cancel_on_kill is False  # the sensor does not own the execution
    assert trigger.deadline is None and trigger.policy.poll_interval == 5


@pytest.mark.parametrize(
    "overrides",
    [
        {"execution_id": "{{ ti.xcom_pull(task_ids='run', key='execution_id') }}"},
        {"execution_id": None},
        {"job_name": "{{ params.job }}"},
        {"project": "{{ params.project }}"},
        {"deferrable": False},
        {"start_from_trigger": False},
    ],
)
def test_anything_only_a_worker_can_know_falls_back(overrides: dict[str, Any]) -> None:
    sensor = make_sensor(**overrides)
    assert sensor.start_from_trigger is False
    assert sensor.start_trigger_args is None


def test_before_airflow_3_3_it_falls_back(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sensor_module, "AIRFLOW_V_3_3_PLUS", False)
    sensor = make_sensor(start_from_trigger=True)
    assert sensor.start_from_trigger is False and sensor.start_trigger_args is None


def test_the_serialised_dag_carries_it_and_a_mapped_sensor_does_not() -> None:
    from airflow.sdk import DAG

    try:
        from airflow.serialization.serialized_objects import DagSerialization as serializer
    except ImportError:  # Airflow 3.0-3.2
        from airflow.serialization.serialized_objects import SerializedDAG as serializer  # type: ignore

    with DAG("sft", schedule=None) as dag:
        make_sensor()
        HopsworksExecutionSensor.partial(task_id="mapped", job_name="train", deferrable=True).expand(
            execution_id=[1, 2]
        )
    data = serializer.to_dict(dag)
    tasks = {t["__var"]["task_id"]: t["__var"] for t in data["dag"]["tasks"]}
    assert tasks["wait"]["start_from_trigger"] is True
    assert tasks["wait"]["start_trigger_args"]["trigger_cls"] == HopsworksExecutionSensor.TRIGGER_CLASS
    assert not tasks["mapped"].get("start_from_trigger", False)


def test_completion_on_the_worker_publishes_the_execution_and_judges_with_the_job_type() -> None:
    sensor = make_sensor()
    ti = FakeTI()
    event = {
        "status": "success",
        "job_name": "train",
        "execution_id": 7,
        "state": "FINISHED",
        "final_status": "UNDEFINED",
        "message": "Hopsworks job 'train' execution 7 succeeded.",
        "transient": False,
    }
    final = execution(7, "FINISHED", "UNDEFINED", job_name="train")
    with (
        mock.patch.object(HopsworksHook, "execution_url", return_value=URL),
        mock.patch.object(HopsworksHook, "get_execution", return_value=final),
        mock.patch.object(HopsworksHook, "get_job", return_value={"jobType": "PYSPARK"}),
        pytest.raises(HopsworksJobFailedError),
    ):
        # The triggerer did not know the type; for a Spark job FINISHED/UNDEFINED is a failure.
        sensor.execute_complete(make_context(ti), event)
    assert ti.xcoms == {"execution_id": 7, "execution_url": URL}
