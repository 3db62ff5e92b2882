"""JSON shapes of Hopsworks' DTOs, built from store rows.

Null fields are always left out (Hopsworks' NON_NULL writer), which is also why an empty
collection has no ``items`` key. Jobs and executions carry ISO dates; schedules carry
epoch milliseconds.
"""

from __future__ import annotations

from typing import Any

from airflow_provider_hopsjobs.emulator.clock import iso_ms
from airflow_provider_hopsjobs.emulator.context import RequestContext
from airflow_provider_hopsjobs.emulator.states import YARN_TYPES, job_type_of, strip_nulls

Row = dict[str, Any]


def collection(href: str, items: list[dict[str, Any]], count: int) -> dict[str, Any]:
    body: dict[str, Any] = {"href": href}
    if items:
        body["items"] = items
    body["count"] = count
    return body


def user_dto(ctx: RequestContext, user: Row | None, expand: bool) -> dict[str, Any]:
    if user is None:
        return {}
    body: dict[str, Any] = {"href": ctx.api("users", user["id"])}
    if expand:
        body.update(
            firstname=user["firstname"],
            lastname=user["lastname"],
            email=user["email"],
            username=user["username"],
        )
    return strip_nulls(body)  # type: ignore[no-any-return]


def config_dto(config: dict[str, Any]) -> dict[str, Any]:
    out = dict(config)
    out.pop("jobType", None)
    job_type = job_type_of(out)
    if job_type is not None:
        out["jobType"] = job_type
    return strip_nulls(out)  # type: ignore[no-any-return]


def execution_duration(execution: Row, now_ms: int) -> int:
    started = execution.get("started_ms")
    if started is None or execution["state"] in ("INITIALIZATION_FAILED", "APP_MASTER_START_FAILED"):
        return 0
    end = execution.get("finished_ms") or now_ms
    return max(0, int(end) - int(started))


def execution_dto(
    ctx: RequestContext,
    job: Row,
    execution: Row,
    *,
    now_ms: int,
    user: Row | None,
    expand_user: bool = False,
) -> dict[str, Any]:
    app_id = execution.get("app_id")
    body: dict[str, Any] = {
        "href": ctx.project_api("jobs", job["name"], "executions", execution["id"]),
        "id": execution["id"],
        "submissionTime": iso_ms(int(execution["submitted_ms"])),
        "state": execution["state"],
        "finalStatus": execution["final_status"],
        "progress": float(execution["progress"]),
        "duration": execution_duration(execution, now_ms),
        "appId": app_id,
        "hdfsUser": f"{ctx.project_name}__{user['username']}" if user else None,
        "args": execution.get("args") or "",
        "stdoutPath": execution.get("stdout_path"),
        "stderrPath": execution.get("stderr_path"),
        "user": user_dto(ctx, user, expand_user) if user else None,
    }
    if app_id:
        if job.get("job_type") in YARN_TYPES:
            body["monitoring"] = {
                "yarnUrl": f"{ctx.origin}/hopsworks-api/yarnui/cluster/app/{app_id}",
                "sparkUrl": f"{ctx.origin}/hopsworks-api/yarnui/proxy/{app_id}/",
            }
        else:
            body["monitoring"] = {
                "kibanaUrl": f"{ctx.origin}/hopsworks-api/kibana/app/discover#/?appId={app_id}"
            }
    return strip_nulls(body)  # type: ignore[no-any-return]


def schedule_dto(ctx: RequestContext, job: Row, schedule: Row) -> dict[str, Any]:
    body: dict[str, Any] = {
        "href": ctx.project_api("jobs", job["name"], "schedule", "v2"),
        "id": schedule["id"],
        "startDateTime": schedule.get("start_ms"),
        "endDateTime": schedule.get("end_ms"),
        "nextExecutionDateTime": schedule.get("next_ms"),
        "enabled": bool(schedule["enabled"]),
        "cronExpression": schedule["cron"],
    }
    for key, value in (schedule.get("extra") or {}).items():
        body.setdefault(key, value)
    return strip_nulls(body)  # type: ignore[no-any-return]


def project_dto(ctx: RequestContext, project: Row, owner: Row | None) -> dict[str, Any]:
    return strip_nulls(  # type: ignore[no-any-return]
        {
            "href": ctx.api("project", project["id"]),
            "projectId": project["id"],
            "projectName": project["name"],
            "owner": owner["email"] if owner else None,
            "description": project.get("description"),
            "created": iso_ms(int(project["created_ms"])),
            "retentionPeriod": "0",
            "archived": False,
            "services": ["JOBS", "JUPYTER", "HIVE", "KAFKA", "SERVING", "FEATURESTORE", "AIRFLOW"],
            "isPreinstalledDockerImage": True,
            "isOldDockerImage": False,
            "dockerImage": "python311:5.2.1",
            "quotas": {
                "hdfsQuotaInBytes": -1,
                "hdfsUsageInBytes": 0,
                "hdfsNsQuota": -1,
                "hdfsNsCount": 0,
                "kafkaMaxNumTopics": 100,
            },
        }
    )
