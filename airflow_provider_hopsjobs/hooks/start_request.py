"""What one execution start sends: the text/plain body of every release, or 5.x's JSON body.

Hopsworks 5.0 added a JSON start body, ``{"args", "envVars", "logicalDate",
"dataIntervalEnd"}`` (the official SDK module ``core/execution_api``, ``_start``), through
which a run's dates reach the job the way Hopsworks' own scheduler hands them to scheduled
runs: ``HOPS_START_TIME`` / ``HOPS_END_TIME`` in the environment, ISO-8601 in UTC. Earlier
releases answer that body with 415 (nothing started); the hook then falls back to text and
remembers, for the connection id within this process, that the server takes text only.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

from airflow_provider_hopsjobs.errors import HopsworksConfigError

#: Environment variables a 5.x run gets for its data interval (as its scheduler sets them).
START_TIME_ENV = "HOPS_START_TIME"
END_TIME_ENV = "HOPS_END_TIME"


def utc_iso(value: datetime) -> str:
    """``2026-01-01T00:00:00+00:00``: UTC, ISO-8601, as the 5.x scheduler formats its dates.

    A naive datetime is taken as UTC (never shifted by the local offset).
    """
    if value.tzinfo is None:
        value = value.replace(tzinfo=timezone.utc)
    m = value.astimezone(timezone.utc)
    # A plain datetime, so pendulum's own formatting never leaks in.
    plain = datetime(m.year, m.month, m.day, m.hour, m.minute, m.second, m.microsecond, tzinfo=timezone.utc)
    return plain.isoformat()


def env_vars_checked(env_vars: Any) -> dict[str, str]:
    """A mapping of names to strings; anything else is a configuration error."""
    if env_vars is None:
        return {}
    if not isinstance(env_vars, Mapping):
        raise HopsworksConfigError(
            f"env_vars must be a mapping of names to strings, got {type(env_vars).__name__}"
        )
    checked: dict[str, str] = {}
    for key, value in env_vars.items():
        if not isinstance(key, str) or not key.strip() or "=" in key:
            raise HopsworksConfigError(f"env_vars names must be non-empty strings without '=', got {key!r}")
        if not isinstance(value, (str, int, float)) or isinstance(value, bool):
            raise HopsworksConfigError(f"env_vars[{key!r}] must be a string or a number, got {value!r}")
        checked[key] = str(value)
    return checked


@dataclass(frozen=True)
class StartRequest:
    """One start: the argument string, and what only the 5.x JSON body can carry.

    Only what is known is sent: a run without a data interval sends no interval, one
    without a logical date (Airflow 3 allows ``logical_date=None``) sends none.
    """

    args: str = ""
    env_vars: Mapping[str, str] = field(default_factory=dict)
    logical_date: datetime | None = None
    data_interval_start: datetime | None = None
    data_interval_end: datetime | None = None
    #: Variables worth sending but not worth failing for (the OpenLineage parent run): dropped,
    #: like the dates, on a server that takes no JSON start; any of ``env_vars`` wins over them.
    optional_env_vars: Mapping[str, str] = field(default_factory=dict)

    @property
    def needs_json(self) -> bool:
        return bool(self.env_vars or self.optional_env_vars) or any(
            d is not None for d in (self.logical_date, self.data_interval_start, self.data_interval_end)
        )

    def json_body(self) -> dict[str, Any]:
        env: dict[str, str] = dict(self.optional_env_vars)
        if self.data_interval_start is not None:
            env[START_TIME_ENV] = utc_iso(self.data_interval_start)
        if self.data_interval_end is not None:
            env[END_TIME_ENV] = utc_iso(self.data_interval_end)
        env.update(self.env_vars)  # the user's own values win, as in the SDK
        body: dict[str, Any] = {}
        if self.args:
            body["args"] = self.args
        if env:
            body["envVars"] = env
        if self.logical_date is not None:
            body["logicalDate"] = utc_iso(self.logical_date)
        if self.data_interval_end is not None:
            body["dataIntervalEnd"] = utc_iso(self.data_interval_end)
        return body


class TextOnlyServers:
    """Connection ids whose server refused the JSON start (415), for this process."""

    def __init__(self) -> None:
        self._ids: set[str] = set()
        self._lock = threading.Lock()

    def __contains__(self, conn_id: object) -> bool:
        with self._lock:
            return conn_id in self._ids

    def add(self, conn_id: str) -> None:
        with self._lock:
            self._ids.add(conn_id)

    def discard(self, conn_id: str) -> None:
        with self._lock:
            self._ids.discard(conn_id)


TEXT_ONLY_SERVERS = TextOnlyServers()


def env_vars_refused(conn_id: str, env_vars: Mapping[str, str]) -> HopsworksConfigError:
    names = ", ".join(sorted(env_vars))
    return HopsworksConfigError(
        f"The Hopsworks server of connection {conn_id!r} takes no JSON execution start (it is older "
        f"than 5.0 and answered 415), so env_vars ({names}) cannot reach the job. Nothing was started. "
        "Remove env_vars, pass the values as args, or upgrade Hopsworks to 5.0 or later."
    )
