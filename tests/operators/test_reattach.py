"""Where a try remembers its execution: task state store on 3.3+, an Airflow Variable before."""

from __future__ import annotations

import json
from typing import Any
from unittest import mock

import pytest

from airflow_provider_hopsjobs.operators import reattach
from airflow_provider_hopsjobs.operators.reattach import (
    STATE_STORE_KEY,
    NoMemory,
    TaskStateStoreMemory,
    VariableMemory,
    memory_for,
    new_record,
    variable_key,
)
from tests.airflow_support import FakeTaskStateStore, FakeTI


class FakeVariable:
    """The Task SDK's Variable API, backed by a dict."""

    values: dict[str, Any] = {}

    @classmethod
    def get(cls, key: str, default: Any = None, deserialize_json: bool = False) -> Any:
        return cls.values.get(key, default)

    @classmethod
    def set(cls, key: str, value: Any, description: str | None = None, serialize_json: bool = False) -> None:
        cls.values[key] = value

    @classmethod
    def delete(cls, key: str) -> None:
        cls.values.pop(key, None)


class FakeVariableWithoutDelete(FakeVariable):
    """Airflow 3.0's Task SDK Variable: get and set only."""

    delete = None  # type: ignore[assignment]


@pytest.fixture
def variables(monkeypatch: pytest.MonkeyPatch) -> type[FakeVariable]:
    FakeVariable.values = {}
    monkeypatch.setattr(VariableMemory, "_variable", staticmethod(lambda: FakeVariable))
    return FakeVariable


def test_state_store_round_trip() -> None:
    store = FakeTaskStateStore()
    memory = TaskStateStoreMemory(store)
    assert memory.recall() is None
    memory.remember(new_record("train", 12, 1))
    assert store.values[STATE_STORE_KEY]["execution_id"] == 12
    assert memory.recall() == store.values[STATE_STORE_KEY]
    memory.forget()
    assert memory.recall() is None


def test_variable_key_is_stable_short_and_per_task_instance() -> None:
    key = variable_key("dag", "manual__2026-01-01T00:00:00+00:00", "task", -1)
    assert key == variable_key("dag", "manual__2026-01-01T00:00:00+00:00", "task", -1)
    assert key.startswith("hopsjobs_execution_")
    assert len(key) < 64 and ":" not in key and "+" not in key
    assert key != variable_key("dag", "manual__2026-01-01T00:00:00+00:00", "task", 0)
    assert key != variable_key("dag", "manual__2026-01-02T00:00:00+00:00", "task", -1)


def test_variable_round_trip(variables: type[FakeVariable]) -> None:
    memory = VariableMemory("dag", "run", "task", -1)
    memory.remember(new_record("train", 12, 2))
    assert json.loads(variables.values[memory.key])["execution_id"] == 12
    record = memory.recall()
    assert record is not None and record["execution_id"] == 12 and record["try_number"] == 2
    memory.forget()
    assert memory.key not in variables.values


def test_variable_forget_without_delete_leaves_an_ignored_tombstone(monkeypatch: pytest.MonkeyPatch) -> None:
    FakeVariable.values = {}
    monkeypatch.setattr(VariableMemory, "_variable", staticmethod(lambda: FakeVariableWithoutDelete))
    memory = VariableMemory("dag", "run", "task", -1)
    memory.remember(new_record("train", 12, 1))
    memory.forget()
    assert FakeVariable.values[memory.key] == "{}"
    assert memory.recall() is None


@pytest.mark.parametrize(
    "junk", ["not json", "[]", json.dumps({"job_name": "x"}), json.dumps({"job_name": 1, "execution_id": 2})]
)
def test_malformed_records_are_ignored(variables: type[FakeVariable], junk: str) -> None:
    memory = VariableMemory("dag", "run", "task", -1)
    variables.values[memory.key] = junk
    assert memory.recall() is None


def test_memory_for_uses_the_state_store_on_3_3(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(reattach, "AIRFLOW_V_3_3_PLUS", True)
    memory = memory_for({"task_state_store": FakeTaskStateStore(), "ti": FakeTI()}, enabled=True)
    assert isinstance(memory.inner, TaskStateStoreMemory)


def test_memory_for_uses_a_variable_before_3_3(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(reattach, "AIRFLOW_V_3_3_PLUS", False)
    ti = FakeTI(dag_id="d", run_id="r", task_id="t", map_index=3)
    memory = memory_for({"task_state_store": FakeTaskStateStore(), "ti": ti}, enabled=True)
    assert isinstance(memory.inner, VariableMemory)
    assert memory.inner.key == variable_key("d", "r", "t", 3)


def test_memory_for_disabled() -> None:
    assert isinstance(memory_for({"task_state_store": FakeTaskStateStore()}, enabled=False).inner, NoMemory)


def test_bookkeeping_failures_are_warnings(capsys: pytest.CaptureFixture[str]) -> None:
    broken = mock.Mock(kind="task state store")
    broken.recall.side_effect = RuntimeError("API server gone")
    broken.remember.side_effect = RuntimeError("API server gone")
    broken.forget.side_effect = RuntimeError("API server gone")
    memory = reattach.SafeMemory(broken)
    assert memory.recall() is None
    memory.remember(new_record("train", 1, 1))
    memory.forget()
    assert broken.forget.called
