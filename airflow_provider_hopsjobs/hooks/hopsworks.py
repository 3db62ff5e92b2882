"""The Hopsworks hook: the only code in the provider that speaks HTTP to Hopsworks.

Sync calls go through one pooled ``requests.Session`` per hook, async calls (for triggers)
through one aiohttp session per event loop and connection. Both use the same retry policy
and the same error mapping, so a sync operator and a deferred trigger see the same errors.
Paths, status codes and quirks follow Hopsworks itself: its REST resources (``ProjectService``,
``JobsResource``, ``ExecutionsResource``, ``DatasetResource``, ``JobScheduleV2Resource``) and the
official SDK modules that call them (``core/job_api``, ``core/execution_api``, ``core/dataset_api``).

The hook is assembled from one module per part of the API (``jobs``, ``executions``,
``logs``, ``datasets``, ``schedules``) over a shared transport (``base``); this module is
the public import path.
"""

from __future__ import annotations

from typing import Any

from airflow_provider_hopsjobs.errors import HopsworksLogUnavailableError
from airflow_provider_hopsjobs.hooks.base import HopsworksBaseHook
from airflow_provider_hopsjobs.hooks.connection_form import connection_form_widgets, ui_field_behaviour
from airflow_provider_hopsjobs.hooks.datasets import DatasetsMixin
from airflow_provider_hopsjobs.hooks.executions import ExecutionsMixin
from airflow_provider_hopsjobs.hooks.jobs import JobsMixin, JobUpsertResult
from airflow_provider_hopsjobs.hooks.logs import LogsMixin
from airflow_provider_hopsjobs.hooks.pod_logs import PodLogsMixin
from airflow_provider_hopsjobs.hooks.retry_policy import RetryPolicy
from airflow_provider_hopsjobs.hooks.schedules import SchedulesMixin
from airflow_provider_hopsjobs.hooks.timestamps import parse_timestamp

__all__ = [
    "HopsworksHook",
    "HopsworksLogUnavailableError",
    "JobUpsertResult",
    "RetryPolicy",
    "parse_timestamp",
]


class HopsworksHook(
    JobsMixin, LogsMixin, ExecutionsMixin, PodLogsMixin, DatasetsMixin, SchedulesMixin, HopsworksBaseHook
):
    """Talk to one Hopsworks project through an Airflow connection of type ``hopsworks``.

    :param hopsworks_conn_id: the Airflow connection (host, API key in the password field,
        extra ``project`` or ``project_id``, ``verify``, timeouts, retry settings).
    :param project: project name; overrides the connection's extra.
    :param retry_policy: overrides the connection's retry settings (a
        :class:`~airflow_provider_hopsjobs.hooks.retry_policy.RetryPolicy` or its dict form).

    Nothing is looked up or sent in ``__init__``; the connection is read on first use and
    the project id resolved once per hook.
    """

    conn_name_attr = "hopsworks_conn_id"
    default_conn_name = "hopsworks_default"
    conn_type = "hopsworks"
    hook_name = "Hopsworks"

    # Airflow 3.0/3.1 read the connection form from these two methods, and only from the class it
    # registers (this one), never from a base class; 3.2+ read the provider info they derive from.
    @classmethod
    def get_ui_field_behaviour(cls) -> dict[str, Any]:
        """Hidden, relabelled and placeholder standard fields of the connection form."""
        return ui_field_behaviour()

    @classmethod
    def get_connection_form_widgets(cls) -> dict[str, Any]:
        """The form's extra fields (project, TLS, timeouts, retry budget) as wtforms fields."""
        return connection_form_widgets()
