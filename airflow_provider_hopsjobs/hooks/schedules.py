"""v2 (Quartz cron) schedules: read, create or update by id, pause and resume, delete."""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

from airflow_provider_hopsjobs.errors import HopsworksConfigError, HopsworksNotFoundError
from airflow_provider_hopsjobs.hooks.base import HopsworksBaseHook
from airflow_provider_hopsjobs.hooks.cron import normalise_quartz_cron
from airflow_provider_hopsjobs.hooks.timestamps import to_epoch_ms
from airflow_provider_hopsjobs.validation import validate_job_name

#: What a pause or resume sends back unchanged: a PUT replaces the whole schedule, so leaving
#: out ``catchup`` would reset it to the server's default.
_KEPT_ON_TOGGLE = (
    "id",
    "cronExpression",
    "startDateTime",
    "endDateTime",
    "catchup",
    "maxActiveRuns",
    "startTimeOffsetSeconds",
    "endTimeOffsetSeconds",
    "maxCatchupRuns",
)


class SchedulesMixin(HopsworksBaseHook):
    """The schedules part of :class:`~.hopsworks.HopsworksHook`."""

    def get_schedule(self, job_name: str) -> dict[str, Any] | None:
        """The job's v2 (cron) schedule, or None when it has none (404/130042)."""
        try:
            return dict(self._request_json("GET", self._job_path(job_name, "schedule", "v2")))
        except HopsworksNotFoundError as err:
            if err.error_code == 130042:
                return None
            raise

    def create_or_update_schedule(
        self,
        job_name: str,
        cron_expression: str,
        *,
        start: datetime | None = None,
        end: datetime | None = None,
        enabled: bool = True,
        catchup: bool = False,
        max_active_runs: int | None = None,
    ) -> dict[str, Any]:
        """Set the job's Quartz cron schedule: POST a new one, or PUT over the existing one (by id).

        Naive datetimes are taken as UTC. Without ``start`` a new schedule starts now and an
        existing one keeps its start. ``catchup`` (the v2 schedule's field of that name,
        always sent; False by default, as in the official SDK and in Airflow) tells Hopsworks
        whether fire times missed before now (a start in the past) are run one by one;
        ``max_active_runs`` is sent only when given.
        """
        cron = normalise_quartz_cron(cron_expression)
        validate_job_name(job_name)
        if start is not None and end is not None and to_epoch_ms(end) <= to_epoch_ms(start):
            raise HopsworksConfigError("The schedule's end must be after its start")
        body: dict[str, Any] = {"cronExpression": cron, "enabled": bool(enabled), "catchup": bool(catchup)}
        if max_active_runs is not None:
            if (
                not isinstance(max_active_runs, int)
                or isinstance(max_active_runs, bool)
                or max_active_runs < 1
            ):
                raise HopsworksConfigError(
                    f"max_active_runs must be a positive integer, got {max_active_runs!r}"
                )
            body["maxActiveRuns"] = max_active_runs
        if end is not None:
            body["endDateTime"] = to_epoch_ms(end)
        existing = self.get_schedule(job_name)
        path = self._job_path(job_name, "schedule", "v2")
        if existing is None:
            body["startDateTime"] = to_epoch_ms(start or datetime.now(timezone.utc))
            return dict(self._request_json("POST", path, json=body))
        body["id"] = existing["id"]
        if start is not None:
            body["startDateTime"] = to_epoch_ms(start)
        elif existing.get("startDateTime") is not None:
            body["startDateTime"] = existing["startDateTime"]
        return dict(self._request_json("PUT", path, json=body))

    def set_schedule_enabled(self, job_name: str, enabled: bool) -> dict[str, Any]:
        """Pause or resume the job's schedule. :raises HopsworksNotFoundError: it has none."""
        existing = self.get_schedule(job_name)
        if existing is None:
            raise HopsworksNotFoundError(
                f"Hopsworks job {job_name} has no schedule to {'enable' if enabled else 'disable'}",
                status_code=404,
                error_code=130042,
            )
        body = {key: existing[key] for key in _KEPT_ON_TOGGLE if existing.get(key) is not None}
        body["enabled"] = bool(enabled)
        return dict(self._request_json("PUT", self._job_path(job_name, "schedule", "v2"), json=body))

    def delete_schedule(self, job_name: str) -> None:
        """Remove the job's v2 schedule. :raises HopsworksNotFoundError: it has none."""
        self._request("DELETE", self._job_path(job_name, "schedule", "v2"))
