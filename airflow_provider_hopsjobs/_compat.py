"""The few Airflow names whose import path moved between 3.0 and 3.3.

Airflow 3.3 serves them from the Task SDK (``airflow.sdk``); 3.0 still keeps some in
``airflow.exceptions`` / ``airflow.hooks.base``, and importing them from there on 3.3
warns. Trying the Task SDK first gives a warning-free import on every supported version.
"""

from __future__ import annotations

try:
    from airflow.sdk import BaseHook
except ImportError:  # Airflow 3.0
    from airflow.hooks.base import BaseHook  # type: ignore[no-redef, attr-defined]

try:
    from airflow.sdk.exceptions import (
        AirflowException,
        AirflowFailException,
        AirflowSkipException,
        TaskDeferred,
    )
except ImportError:  # Airflow 3.0
    from airflow.exceptions import (  # type: ignore[no-redef, attr-defined]
        AirflowException,
        AirflowFailException,
        AirflowSkipException,
        TaskDeferred,
    )

__all__ = ["AirflowException", "AirflowFailException", "AirflowSkipException", "BaseHook", "TaskDeferred"]
