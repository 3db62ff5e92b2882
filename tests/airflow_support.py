"""Test doubles for the Airflow side of operators, sensor and trigger.

Unit tests call ``execute``/``execute_complete`` directly with a small context built here;
the Hopsworks side is the real hook with single methods patched (or the emulator, in the
end-to-end tests). The fake clock takes the place of the provider's one clock (the ``clock``
attribute of the operators, the sensor and the trigger), so waits that would take minutes
run instantly and deterministically.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from airflow_provider_hopsjobs.clock import Clock
from airflow_provider_hopsjobs.emulator.handle import EmulatorHandle
from airflow_provider_hopsjobs.execution import Execution
from airflow_provider_hopsjobs.operators.base import HopsworksBaseOperator
from airflow_provider_hopsjobs.triggers.execution import HopsworksExecutionTrigger


class FakeClock(Clock):
    """Wall and monotonic time that only move when something sleeps (or a test says so)."""

    def __init__(self, start: float = 1_800_000_000.0) -> None:
        self.now = start
        self.mono = 0.0
        self.sleeps: list[float] = []

    def time(self) -> float:
        return self.now

    def monotonic(self) -> float:
        return self.mono

    def advance(self, seconds: float) -> None:
        self.now += seconds
        self.mono += seconds

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.advance(seconds)

    async def async_sleep(self, seconds: float) -> None:
        self.sleep(seconds)


@pytest.fixture
def fake_clock(monkeypatch: pytest.MonkeyPatch) -> FakeClock:
    """The operators', the sensor's and the trigger's clock, moved only by their sleeps."""
    clock = FakeClock()
    monkeypatch.setattr(HopsworksBaseOperator, "clock", clock)
    monkeypatch.setattr(HopsworksExecutionTrigger, "clock", clock)
    return clock


class FakeTaskStateStore:
    """The part of Airflow 3.3's ``TaskStateStoreAccessor`` the operator uses."""

    def __init__(self, values: dict[str, Any] | None = None) -> None:
        self.values: dict[str, Any] = dict(values or {})

    def get(self, key: str, default: Any = None) -> Any:
        return self.values.get(key, default)

    def set(self, key: str, value: Any, *, retention: Any = None) -> None:
        self.values[key] = value

    def delete(self, key: str) -> None:
        self.values.pop(key, None)


@dataclass
class FakeTI:
    """A task instance that records XCom pushes."""

    dag_id: str = "dag"
    task_id: str = "task"
    run_id: str = "manual__2026-01-01T00:00:00+00:00"
    map_index: int = -1
    try_number: int = 1
    xcoms: dict[str, Any] = field(default_factory=dict)
    push_order: list[str] = field(default_factory=list)

    def xcom_push(self, key: str, value: Any) -> None:
        self.xcoms[key] = value
        self.push_order.append(key)


def make_context(ti: FakeTI | None = None, store: FakeTaskStateStore | None = None) -> dict[str, Any]:
    ti = ti or FakeTI()
    return {
        "ti": ti,
        "task_instance": ti,
        "task_state_store": store if store is not None else FakeTaskStateStore(),
    }


def execution(
    execution_id: int = 7,
    state: str = "RUNNING",
    final_status: str = "UNDEFINED",
    *,
    job_name: str = "train",
    job_type: str | None = None,
    **extra: Any,
) -> Execution:
    """An execution as the hook returns it, read from an ExecutionDTO (``extra`` are DTO fields)."""
    dto = {"id": execution_id, "state": state, "finalStatus": final_status, **extra}
    return Execution.from_dto(dto, job_name=job_name, job_type=job_type)


# -- running an operator the way a worker and the triggerer would --------------------------------


async def first_event(trigger: Any) -> Any:
    """The first event a trigger yields (the triggerer keeps only that one for a task)."""
    agen = trigger.run()
    try:
        return await agen.__anext__()
    finally:
        await agen.aclose()


def run_operator(op: Any, context: dict[str, Any], *, max_deferrals: int = 5) -> Any:
    """Execute ``op``; when it defers, rebuild its trigger from ``serialize()``, run it to its
    event and resume the operator, as the triggerer and a worker would (no Airflow involved)."""
    import asyncio
    import importlib
    import json

    from airflow_provider_hopsjobs._compat import TaskDeferred

    resume: tuple[Any, dict[str, Any]] | None = None
    for _ in range(max_deferrals + 1):
        try:
            if resume is None:
                return op.execute(context)
            method, kwargs = resume
            return method(context, **kwargs)
        except TaskDeferred as deferred:
            classpath, trigger_kwargs = deferred.trigger.serialize()
            module, _, name = classpath.rpartition(".")
            trigger_cls = getattr(importlib.import_module(module), name)
            trigger = trigger_cls(**json.loads(json.dumps(trigger_kwargs)))
            event = asyncio.run(first_event(trigger))
            resume = (getattr(op, deferred.method_name), {**(deferred.kwargs or {}), "event": event.payload})
    raise AssertionError(f"{op.task_id} deferred more than {max_deferrals} times")


# -- an emulator of one's own ------------------------------------------------------------------


@contextmanager
def private_emulator(folder: Path) -> Iterator[EmulatorHandle]:
    """An emulator for one test module.

    The session emulator is shared with tests that move its clock days ahead (schedules);
    tests that compare submission times with real time need a clock nobody else touches.
    """
    with EmulatorHandle(folder) as handle:
        yield handle


def connect(handle: EmulatorHandle, monkeypatch: pytest.MonkeyPatch) -> EmulatorHandle:
    """What the ``hopsworks_conn`` fixture does, for a private emulator."""
    if not handle.running:
        handle.start()
    handle.clear_faults()
    handle.reset_counters()
    monkeypatch.setenv("AIRFLOW_CONN_HOPSWORKS_DEFAULT", handle.connection_json())
    return handle
