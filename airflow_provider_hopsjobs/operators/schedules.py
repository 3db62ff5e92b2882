"""Manage a job's Hopsworks v2 cron schedule from a DAG.

For teams that keep Hopsworks scheduling for some jobs while Airflow runs the rest. Every
action is idempotent: the operator reads the current schedule first and sends a write only
when something would change, so a re-run of the same task leaves Hopsworks untouched.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta, timezone
from typing import TYPE_CHECKING, Any, Literal

from airflow_provider_hopsjobs import validation
from airflow_provider_hopsjobs.errors import HopsworksConfigError
from airflow_provider_hopsjobs.hooks.cron import normalise_quartz_cron
from airflow_provider_hopsjobs.operators.base import HopsworksBaseOperator
from airflow_provider_hopsjobs.timetables.quartz_cron import QuartzCron

if TYPE_CHECKING:
    from airflow.sdk import Context

    from airflow_provider_hopsjobs.hooks.hopsworks import HopsworksHook

ScheduleAction = Literal["upsert", "enable", "disable", "delete"]
_ACTIONS: tuple[str, ...] = ("upsert", "enable", "disable", "delete")
_ONE_SECOND = timedelta(seconds=1)
#: Counting missed fire times stops here; the warning then says "at least".
_MISSED_COUNT_LIMIT = 1000


def _epoch_seconds(value: datetime | None) -> int | None:
    """Hopsworks stores schedule instants truncated to whole seconds (epoch milliseconds)."""
    return None if value is None else int(value.timestamp())


def _stored_seconds(schedule: dict[str, Any], key: str) -> int | None:
    raw = schedule.get(key)
    return None if raw is None else int(raw) // 1000


def missed_fire_times(expression: str, start: datetime, now: datetime) -> int:
    """How many fire times of ``expression`` fall in ``[start, now]`` (at most ``_MISSED_COUNT_LIMIT``)."""
    cron = QuartzCron.parse(expression)
    utc_start = start if start.tzinfo is not None else start.replace(tzinfo=timezone.utc)
    fire = cron.next_fire(utc_start.astimezone(timezone.utc).replace(microsecond=0) - _ONE_SECOND)
    count = 0
    while fire is not None and fire <= now and count < _MISSED_COUNT_LIMIT:
        count += 1
        fire = cron.next_fire(fire)
    return count


class HopsworksScheduleJobOperator(HopsworksBaseOperator):
    """Create, update, enable, disable or delete a job's Hopsworks v2 schedule.

    :param job_name: the Hopsworks job whose schedule is managed.
    :param action: ``upsert`` (create or update; the default), ``enable``, ``disable`` or ``delete``.
    :param cron_expression: Quartz expression with seconds ``0``; required for ``upsert``.
    :param schedule_start: first instant the schedule may fire (named so as not to clash with
        the task's own ``start_date``).
    :param schedule_end: last instant the schedule may fire.
    :param enabled: whether an upserted schedule is active.
    :param catchup: the schedule's ``catchup`` setting. False (the default, as for an Airflow
        DAG and in the official SDK): fire times missed before now, e.g. with a
        ``schedule_start`` in the past, are skipped. True: Hopsworks starts an execution for
        each of them, one after the other; the task logs a warning with how many.
    :param max_active_runs: the schedule's ``maxActiveRuns``; left to Hopsworks when None.
    :param hopsworks_conn_id: the Airflow connection to Hopsworks (default ``hopsworks_default``).
    :param project: the project, overriding the connection's.
    :returns: the schedule as Hopsworks reports it after the action (``None`` after delete),
        plus ``changed`` telling whether anything was written.
    """

    template_fields: Sequence[str] = ("job_name", "cron_expression", "action")
    ui_color = "#d6ecf2"

    def __init__(
        self,
        *,
        job_name: str,
        action: ScheduleAction = "upsert",
        cron_expression: str | None = None,
        schedule_start: datetime | None = None,
        schedule_end: datetime | None = None,
        enabled: bool = True,
        catchup: bool = False,
        max_active_runs: int | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        validation.job_name(job_name)
        if action not in _ACTIONS:
            raise HopsworksConfigError(f"Unknown schedule action {action!r}; expected one of {_ACTIONS}.")
        if action == "upsert":
            if not cron_expression:
                raise HopsworksConfigError("action='upsert' needs a cron_expression.")
            if not validation.is_templated(cron_expression):
                normalise_quartz_cron(cron_expression)
        self.job_name = job_name
        self.action = action
        self.cron_expression = cron_expression
        self.schedule_start = schedule_start
        self.schedule_end = schedule_end
        self.enabled = enabled
        self.catchup = bool(catchup)
        self.max_active_runs = max_active_runs

    def execute(self, context: Context) -> dict[str, Any]:
        validation.job_name(self.job_name)
        hook = self.hook
        existing = hook.get_schedule(self.job_name)
        if self.action == "delete":
            return self._delete(hook, existing)
        if self.action in ("enable", "disable"):
            return self._toggle(hook, existing, enabled=self.action == "enable")
        return self._upsert(hook, existing)

    def _delete(self, hook: HopsworksHook, existing: dict[str, Any] | None) -> dict[str, Any]:
        if existing is None:
            self.log.info("Job %s has no Hopsworks schedule; nothing to delete.", self.job_name)
            return {"job_name": self.job_name, "schedule": None, "changed": False}
        hook.delete_schedule(self.job_name)
        self.log.info("Deleted the Hopsworks schedule of job %s.", self.job_name)
        return {"job_name": self.job_name, "schedule": None, "changed": True}

    def _toggle(
        self, hook: HopsworksHook, existing: dict[str, Any] | None, *, enabled: bool
    ) -> dict[str, Any]:
        if existing is None:
            raise HopsworksConfigError(
                f"Job {self.job_name!r} has no Hopsworks schedule to {'enable' if enabled else 'disable'}."
            )
        if bool(existing.get("enabled")) == enabled:
            self.log.info("Schedule of job %s is already %s.", self.job_name, self._word(enabled))
            return {"job_name": self.job_name, "schedule": existing, "changed": False}
        schedule = hook.set_schedule_enabled(self.job_name, enabled)
        self.log.info("Schedule of job %s is now %s.", self.job_name, self._word(enabled))
        return {"job_name": self.job_name, "schedule": schedule, "changed": True}

    def _upsert(self, hook: HopsworksHook, existing: dict[str, Any] | None) -> dict[str, Any]:
        expression = normalise_quartz_cron(str(self.cron_expression))
        if existing is not None and self._matches(existing, expression):
            self.log.info("Schedule of job %s already matches; nothing sent.", self.job_name)
            return {"job_name": self.job_name, "schedule": existing, "changed": False}
        self._tell_about_missed_fires(expression)
        schedule = hook.create_or_update_schedule(
            self.job_name,
            expression,
            start=self.schedule_start,
            end=self.schedule_end,
            enabled=self.enabled,
            catchup=self.catchup,
            max_active_runs=self.max_active_runs,
        )
        verb = "Created" if existing is None else "Updated"
        self.log.info(
            "%s the schedule of job %s: %s (%s).", verb, self.job_name, expression, self._word(self.enabled)
        )
        return {"job_name": self.job_name, "schedule": schedule, "changed": True}

    def _tell_about_missed_fires(self, expression: str) -> None:
        """A start in the past: a warning when Hopsworks will backfill, a note when it will not."""
        if self.schedule_start is None or not self.enabled:
            return
        now = datetime.now(timezone.utc)
        missed = missed_fire_times(expression, self.schedule_start, now)
        if not missed:
            return
        count = f"at least {missed}" if missed >= _MISSED_COUNT_LIMIT else str(missed)
        if self.catchup:
            self.log.warning(
                "schedule_start %s is in the past and catchup=True: Hopsworks will start an execution "
                "for each of the %s fire times of %r missed since then, one after the other. "
                "Pass catchup=False (the default) to skip them, or a schedule_start in the future.",
                self.schedule_start.isoformat(),
                count,
                expression,
            )
        else:
            self.log.info(
                "schedule_start %s is in the past: the %s fire times missed since then are skipped "
                "(catchup=False).",
                self.schedule_start.isoformat(),
                count,
            )

    def _matches(self, existing: dict[str, Any], expression: str) -> bool:
        if str(existing.get("cronExpression", "")).strip() != expression:
            return False
        if bool(existing.get("enabled")) != self.enabled:
            return False
        if "catchup" in existing and bool(existing["catchup"]) != self.catchup:
            return False
        if self.max_active_runs is not None and existing.get("maxActiveRuns") != self.max_active_runs:
            return False
        if self.schedule_start is not None and _stored_seconds(existing, "startDateTime") != _epoch_seconds(
            self.schedule_start
        ):
            return False
        return _stored_seconds(existing, "endDateTime") == _epoch_seconds(self.schedule_end)

    @staticmethod
    def _word(enabled: bool) -> str:
        return "enabled" if enabled else "disabled"
