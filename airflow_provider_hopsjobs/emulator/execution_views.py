"""Executions as the API shows them: one DTO, and the filtered, sorted, paged collection.

Shared by the execution routes and by the job routes' ``expand=executions``.
"""

from __future__ import annotations

from typing import Any

from airflow_provider_hopsjobs.emulator import queries
from airflow_provider_hopsjobs.emulator.clock import Clock
from airflow_provider_hopsjobs.emulator.context import RequestContext
from airflow_provider_hopsjobs.emulator.dto import collection, execution_dto, execution_duration
from airflow_provider_hopsjobs.emulator.store import Store

Row = dict[str, Any]


def _matches(execution: Row, flt: queries.Filter) -> bool:  # noqa: PLR0911
    key, value = flt.key, flt.value
    if key == "STATE":
        return execution["state"] in queries.execution_state_values(value)
    if key == "STATE_NEQ":
        return execution["state"] not in queries.execution_state_values(value)
    if key == "FINALSTATUS":
        return execution["final_status"] in queries.final_status_values(value)
    if key == "FINALSTATUS_NEQ":
        return execution["final_status"] not in queries.final_status_values(value)
    submitted = int(execution["submitted_ms"])
    if key == "SUBMISSIONTIME":
        return submitted == queries.date_value(value)
    if key == "SUBMISSIONTIME_GT":
        return submitted > queries.date_value(value)
    if key == "SUBMISSIONTIME_LT":
        return submitted < queries.date_value(value)
    return True


def _check_filters(filters: list[queries.Filter]) -> None:
    """Read every filter value up front, so a bad one fails even when no row is compared."""
    for flt in filters:
        if flt.key.startswith("STATE"):
            queries.execution_state_values(flt.value)
        elif flt.key.startswith("FINALSTATUS"):
            queries.final_status_values(flt.value)
        elif flt.key.startswith("SUBMISSIONTIME"):
            queries.date_value(flt.value)


class ExecutionViews:
    def __init__(self, store: Store, clock: Clock) -> None:
        self._store = store
        self._clock = clock

    def dto(self, ctx: RequestContext, job: Row, execution: Row, expand_user: bool = False) -> dict[str, Any]:
        return execution_dto(
            ctx,
            job,
            execution,
            now_ms=self._clock.now_ms(),
            user=self._store.get_user(int(execution["user_id"])),
            expand_user=expand_user,
        )

    def collection(
        self, ctx: RequestContext, job: Row, query: queries.ListQuery, expand_user: bool
    ) -> dict[str, Any]:
        _check_filters(query.filters)
        executions = [
            e
            for e in self._store.list_executions(int(job["id"]))
            if all(_matches(e, f) for f in query.filters)
        ]
        users = {int(e["user_id"]): self._store.get_user(int(e["user_id"])) or {} for e in executions}
        now = self._clock.now_ms()

        def key(execution: Row, field: str) -> Any:
            user = users.get(int(execution["user_id"])) or {}
            return {
                "ID": execution["id"],
                "SUBMISSIONTIME": (execution["submitted_ms"], execution["id"]),
                "USER": user.get("username"),
                "USER_FIRST_NAME": user.get("firstname"),
                "USER_LAST_NAME": user.get("lastname"),
                "STATE": execution["state"],
                "FINALSTATUS": execution["final_status"],
                "APPID": execution.get("app_id"),
                "PROGRESS": execution["progress"],
                "DURATION": execution_duration(execution, now),
            }[field]

        executions = queries.apply_sorts(executions, query.sorts, key)
        page = queries.paginate(executions, query)
        items = [self.dto(ctx, job, e, expand_user) for e in page]
        return collection(ctx.project_api("jobs", job["name"], "executions"), items, len(executions))
