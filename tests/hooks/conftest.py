"""Fixtures for the hook's unit tests: an env-var connection and a hook that never really sleeps."""

from __future__ import annotations

import json

import pytest

from airflow_provider_hopsjobs.clock import Clock
from airflow_provider_hopsjobs.hooks.hopsworks import HopsworksHook

API_KEY = "kPrefix42.s3cr3tValueThatMustNeverLeak"
HOST = "hopsworks.example.com"
BASE = f"https://{HOST}/hopsworks-api/api"
PROJECT = "demo"
PROJECT_ID = 119
P = f"{BASE}/project/{PROJECT_ID}"


def connection_json(**overrides: object) -> str:
    conn: dict[str, object] = {
        "conn_type": "hopsworks",
        "host": HOST,
        "password": API_KEY,
        "extra": {"project": PROJECT},
    }
    conn.update(overrides)
    return json.dumps(conn)


@pytest.fixture
def hopsworks_env(monkeypatch):
    monkeypatch.setenv("AIRFLOW_CONN_HOPSWORKS_DEFAULT", connection_json())


class FakeClock(Clock):
    """A clock that only moves when something sleeps on it, sync or async; every sleep is recorded."""

    def __init__(self) -> None:
        self.now = 1000.0
        self.sleeps: list[float] = []

    def time(self) -> float:
        return 1_700_000_000.0 + self.now

    def monotonic(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds

    async def async_sleep(self, seconds: float) -> None:
        self.sleep(seconds)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def sleeps(clock) -> list[float]:
    return clock.sleeps


@pytest.fixture
def hook(hopsworks_env, clock) -> HopsworksHook:
    """A hook on the env connection whose waits are recorded (and time advanced) instead of slept."""
    h = HopsworksHook()
    h.clock = clock
    return h


@pytest.fixture
def project(requests_mock):
    """Hopsworks resolves the project name to id 119."""
    return requests_mock.get(
        f"{BASE}/project/getProjectInfo/{PROJECT}",
        json={"projectId": PROJECT_ID, "projectName": PROJECT, "owner": "alice@example.com"},
    )


@pytest.fixture
def logged(caplog, capsys):
    """Everything logged so far: stdlib records (caplog) and Airflow's structlog console output."""
    caplog.set_level("DEBUG")

    def read() -> str:
        return caplog.text + capsys.readouterr().out

    return read
