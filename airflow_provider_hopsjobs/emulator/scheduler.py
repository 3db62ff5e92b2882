"""The loop that fires v2 cron schedules.

Every ``schedule_tick`` seconds (and on ``POST /_emulator/scheduler/tick``) each enabled
schedule whose ``nextExecutionDateTime`` has passed on the emulator clock fires once: an
execution with the job's ``defaultArgs`` and, as Hopsworks 5.x does, the data interval in
the environment: ``HOPS_END_TIME`` = the fire time, ``HOPS_LOGICAL_DATE`` =
``HOPS_START_TIME`` = the previous cron fire (not before ``startDateTime``), all ISO-8601
UTC. If an execution of the job is still unfinished the fire is skipped (no parallel
scheduled runs). Either way ``nextExecutionDateTime`` moves to the following fire time, so
a schedule whose start lies in the past catches up one fire per tick, as the Hopsworks
scheduler does for a schedule without the 5.x ``catchup`` field. With ``"catchup": false``
(the official SDK's default) the missed fire times are skipped: only the latest one due is
fired, and the next fire time moves past the clock. Hopsworks' own handling of that field is
not confirmed from its source; skipping is the safe reading (a backfill of hundreds of runs
is the surprise, not the absence of one). Disabled and deleted
schedules never fire. The clock can be moved forward with ``POST /_emulator/clock`` so
tests need not wait for the wall clock.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import Any

from airflow_provider_hopsjobs.emulator.clock import Clock
from airflow_provider_hopsjobs.emulator.cron import first_fire, interval_env, latest_fire, parse_cron
from airflow_provider_hopsjobs.emulator.engine import Engine
from airflow_provider_hopsjobs.emulator.settings import Settings
from airflow_provider_hopsjobs.emulator.states import TERMINAL_STATES
from airflow_provider_hopsjobs.emulator.store import Store

log = logging.getLogger(__name__)


class Scheduler:
    """Fires due v2 schedules; see the module docstring for the rules."""

    def __init__(self, *, store: Store, clock: Clock, settings: Settings, engine: Engine) -> None:
        self._store = store
        self._clock = clock
        self._settings = settings
        self._engine = engine
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._task = asyncio.get_running_loop().create_task(self._loop(), name="schedules")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    async def _loop(self) -> None:
        while True:
            await asyncio.sleep(self._settings.schedule_tick)
            try:
                await self.tick()
            except Exception:
                log.exception("schedule pass failed")

    async def tick(self) -> list[dict[str, Any]]:
        """One pass: fire (or skip) each due schedule once. Returns what happened."""
        now = self._clock.now_ms()
        report: list[dict[str, Any]] = []
        for schedule in self._store.list_schedules():
            fire = schedule.get("next_ms")
            if not schedule["enabled"] or fire is None or fire > now:
                continue
            job = self._store.get_job_by_id(int(schedule["job_id"]))
            if job is None:
                continue
            cron = parse_cron(schedule["cron"])
            if (schedule.get("extra") or {}).get("catchup") is False:
                fire = latest_fire(cron, int(fire), now)
            following = first_fire(cron, int(fire), inclusive=False)
            end = schedule.get("end_ms")
            if following is not None and end is not None and following > end:
                following = None
            busy = any(e["state"] not in TERMINAL_STATES for e in self._store.list_executions(int(job["id"])))
            entry: dict[str, Any] = {"job": job["name"], "fireTime": fire, "skipped": busy}
            if not busy:
                execution = self._engine.start(
                    job,
                    str(job["config"].get("defaultArgs") or ""),
                    int(job["creator_id"]),
                    interval_env(cron, int(fire), schedule.get("start_ms")),
                )
                entry["executionId"] = execution["id"]
            self._store.update_schedule_next(int(schedule["id"]), following)
            report.append(entry)
        return report
