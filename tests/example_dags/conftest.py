"""``dag.test()`` plumbing: a migrated metadata DB and the example DAGs, once per session.

The example DAGs live in ``example_dags/``, which ``tests/conftest.py`` makes the DAGs
folder, so ``dag.test()`` (which re-parses the DAG bundle) finds them.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

EXAMPLE_DAGS = Path(__file__).resolve().parents[2] / "example_dags"


@pytest.fixture(scope="session")
def airflow_db() -> None:
    """Airflow's metadata DB (SQLite in the session's throw-away AIRFLOW_HOME), migrated once."""
    from airflow.utils.db import initdb

    initdb()


@pytest.fixture(scope="session")
def example_dag_bag(airflow_db: None) -> Any:
    try:
        from airflow.dag_processing.dagbag import DagBag
    except ImportError:  # Airflow 3.0-3.2
        from airflow.models.dagbag import DagBag  # type: ignore[no-redef]

        return DagBag(dag_folder=str(EXAMPLE_DAGS), include_examples=False)
    # 3.3's DagBag no longer takes include_examples; tests/conftest.py turns examples off.
    return DagBag(dag_folder=str(EXAMPLE_DAGS))
