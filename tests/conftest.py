"""Test session set-up shared by every test module.

Airflow reads its configuration at import time, so the throw-away ``AIRFLOW_HOME`` and
the settings below are put in place before anything imports Airflow.
"""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent

_airflow_home = Path(tempfile.mkdtemp(prefix="hopsjobs-test-airflow-"))
os.environ["AIRFLOW_HOME"] = str(_airflow_home)
os.environ["AIRFLOW__CORE__LOAD_EXAMPLES"] = "False"
os.environ["AIRFLOW__CORE__DAGS_FOLDER"] = str(REPO_ROOT / "example_dags")
os.environ["AIRFLOW__CORE__UNIT_TEST_MODE"] = "True"
os.environ.setdefault("AIRFLOW__DATABASE__SQL_ALCHEMY_CONN", f"sqlite:///{_airflow_home / 'airflow.db'}")

#: A second DAG bundle for DAG files that tests generate (the schedule migration), so that
#: ``dag.test()``, which re-parses its bundle, can find them beside the example DAGs.
GENERATED_DAGS = _airflow_home / "generated_dags"
GENERATED_DAGS.mkdir()
_LOCAL_BUNDLE = "airflow.dag_processing.bundles.local.LocalDagBundle"
os.environ["AIRFLOW__DAG_PROCESSOR__DAG_BUNDLE_CONFIG_LIST"] = json.dumps(
    [
        {"name": "dags-folder", "classpath": _LOCAL_BUNDLE, "kwargs": {}},
        {"name": "generated", "classpath": _LOCAL_BUNDLE, "kwargs": {"path": str(GENERATED_DAGS)}},
    ]
)
