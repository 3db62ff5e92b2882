"""The plugin makes QuartzCronTimetable usable beyond the DAG processor.

Airflow serialises a DAG's timetable by class path and re-creates a custom timetable only if a
plugin registers it, so these tests go through Airflow's own serializer rather than calling
``serialize()``/``deserialize()`` directly.
"""

from __future__ import annotations

import datetime
import json

import pendulum
import pytest
from airflow import plugins_manager
from airflow.sdk import DAG
from airflow.serialization import serialized_objects
from airflow.timetables.base import TimeRestriction

from airflow_provider_hopsjobs.plugins import HopsjobsPlugin
from airflow_provider_hopsjobs.timetables.quartz import QuartzCronTimetable

CLASS_PATH = "airflow_provider_hopsjobs.timetables.quartz.QuartzCronTimetable"


def _dag_serializer():
    # Airflow 3.3 calls it DagSerialization; 3.0-3.2 had the same to_dict/from_dict on SerializedDAG.
    serializer = getattr(serialized_objects, "DagSerialization", None)
    return serializer if serializer is not None else serialized_objects.SerializedDAG


def _quartz_dag() -> DAG:
    return DAG(
        "quartz_serialization",
        schedule=QuartzCronTimetable(
            "0 15 10 ? * 6L", "Europe/Amsterdam", interval=datetime.timedelta(days=7)
        ),
        start_date=pendulum.datetime(2024, 1, 1, tz="UTC"),
        catchup=True,
    )


def test_plugin_declares_the_timetable():
    assert HopsjobsPlugin.name == "hopsjobs"
    assert HopsjobsPlugin.timetables == [QuartzCronTimetable]
    assert f"{QuartzCronTimetable.__module__}.{QuartzCronTimetable.__qualname__}" == CLASS_PATH


def _registered_timetables() -> dict[str, type]:
    if hasattr(plugins_manager, "get_timetables_plugins"):  # Airflow 3.1+
        return plugins_manager.get_timetables_plugins()
    plugins_manager.initialize_timetables_plugins()
    return plugins_manager.timetable_classes or {}


def test_airflow_discovers_the_plugin_through_its_entry_point():
    # Nothing in the test suite registers the plugin by hand: Airflow finds it through the
    # ``airflow.plugins`` entry point declared in pyproject.toml.
    from importlib.metadata import entry_points

    (entry_point,) = [ep for ep in entry_points(group="airflow.plugins") if ep.name == "hopsjobs"]
    assert entry_point.load() is HopsjobsPlugin
    assert _registered_timetables()[CLASS_PATH] is QuartzCronTimetable


def test_dag_round_trips_through_airflows_serializer():
    dag = _quartz_dag()
    serializer = _dag_serializer()
    data = json.loads(json.dumps(serializer.to_dict(dag)))
    assert data["dag"]["timetable"]["__type"] == CLASS_PATH
    restored = serializer.from_dict(data)

    assert isinstance(restored.timetable, QuartzCronTimetable)
    assert restored.timetable == dag.timetable
    assert restored.timetable.summary == "0 15 10 ? * 6L"
    assert restored.timetable.description == "At 10:15, on the last Friday of the month"
    restriction = TimeRestriction(earliest=pendulum.datetime(2024, 1, 1, tz="UTC"), latest=None, catchup=True)
    info = restored.timetable.next_dagrun_info(last_automated_data_interval=None, restriction=restriction)
    assert info is not None
    assert info.run_after == pendulum.datetime(2024, 1, 26, 9, 15, tz="UTC")  # 10:15 CET
    assert info.data_interval.start == pendulum.datetime(2024, 1, 19, 9, 15, tz="UTC")


def test_dag_processor_form_deserialises():
    lazy_cls = serialized_objects.LazyDeserializedDAG
    if hasattr(lazy_cls, "from_dag"):  # Airflow 3.1+
        lazy = lazy_cls.from_dag(_quartz_dag())
    else:
        lazy = lazy_cls(data=_dag_serializer().to_dict(_quartz_dag()))
    assert lazy.data["dag"]["timetable"]["__type"] == CLASS_PATH
    assert lazy.timetable.summary == "0 15 10 ? * 6L"


def test_without_the_plugin_airflow_refuses_the_timetable(monkeypatch):
    """What the plugin is for: unregistered custom timetables are rejected by the serializer."""
    if hasattr(plugins_manager, "get_timetables_plugins"):  # Airflow 3.1+
        monkeypatch.setattr(plugins_manager, "get_timetables_plugins", dict)
    else:
        monkeypatch.setattr(plugins_manager, "initialize_timetables_plugins", lambda: None)
        monkeypatch.setattr(plugins_manager, "timetable_classes", {})
    serializer = _dag_serializer()
    with pytest.raises(Exception, match="QuartzCronTimetable"):
        serializer.from_dict(serializer.to_dict(_quartz_dag()))
