"""Fixtures of the reliability tests: their own emulator, Airflow's DB and the example DAGs."""

from __future__ import annotations

import functools
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from airflow_provider_hopsjobs.emulator.handle import EmulatorHandle
from airflow_provider_hopsjobs.hooks import connection
from airflow_provider_hopsjobs.hooks.retry_policy import RetryPolicy
from tests.airflow_support import connect, private_emulator

EXAMPLE_DAGS = Path(__file__).resolve().parents[2] / "example_dags"

#: ``HOPSJOBS_RELIABILITY_REAL_TIME=1`` runs these tests with the real back-off and stall
#: lengths; by default they are scaled down so the suite stays quick (see ``quick_time``).
REAL_TIME = os.environ.get("HOPSJOBS_RELIABILITY_REAL_TIME", "") not in ("", "0")


@pytest.fixture(scope="module")
def own_emulator(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EmulatorHandle]:
    """An emulator of this module's own: these tests stop it, fault it and count its requests."""
    with private_emulator(tmp_path_factory.mktemp("reliability-emulator")) as handle:
        yield handle


@pytest.fixture
def emulator(own_emulator: EmulatorHandle, monkeypatch: pytest.MonkeyPatch) -> Iterator[EmulatorHandle]:
    yield connect(own_emulator, monkeypatch)
    if own_emulator.running:
        own_emulator.clear_faults()


@pytest.fixture
def quick_time(monkeypatch: pytest.MonkeyPatch) -> float:
    """Scale the retry back-off down tenfold (first wait 0.1 s instead of 1 s, jitter 0.1 s).

    Attempts, budgets and the classification of errors stay as they are; only the waits
    between attempts shrink, so that many faulted requests fit in a short test. Returns
    the stall length to inject (1 s instead of 5 s). Off with ``HOPSJOBS_RELIABILITY_REAL_TIME=1``.
    """
    if REAL_TIME:
        return 5.0
    quicker = functools.partial(RetryPolicy, initial_wait=0.1, jitter=0.1)
    monkeypatch.setattr(connection, "RetryPolicy", quicker)
    return 1.0


@pytest.fixture(scope="session")
def airflow_db() -> None:
    from airflow.utils.db import initdb

    initdb()


@pytest.fixture(scope="session")
def example_dag_bag(airflow_db: None) -> Any:
    try:
        from airflow.dag_processing.dagbag import DagBag
    except ImportError:  # Airflow 3.0-3.2
        from airflow.models.dagbag import DagBag  # type: ignore[no-redef]

        return DagBag(dag_folder=str(EXAMPLE_DAGS), include_examples=False)
    return DagBag(dag_folder=str(EXAMPLE_DAGS))


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Run the secrets audit last, so that it sees what every end-to-end test left behind."""
    audit = [item for item in items if item.nodeid.startswith("tests/reliability/test_secrets.py")]
    if audit:
        items[:] = [item for item in items if item not in audit] + audit
