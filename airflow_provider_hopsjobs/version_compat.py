"""Airflow version gates: behaviour that differs between 3.0 and 3.3 is switched here."""

from __future__ import annotations

from importlib.metadata import version

from packaging.version import Version

AIRFLOW_VERSION = Version(Version(version("apache-airflow-core")).base_version)
_RELEASE = AIRFLOW_VERSION.release[:2]
AIRFLOW_V_3_1_PLUS = _RELEASE >= (3, 1)
AIRFLOW_V_3_2_PLUS = _RELEASE >= (3, 2)
#: Trigger ``on_kill`` and the task state store arrived in 3.3.
AIRFLOW_V_3_3_PLUS = _RELEASE >= (3, 3)
