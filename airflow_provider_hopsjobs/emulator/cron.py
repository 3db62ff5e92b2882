"""Quartz cron as v2 schedules read it: validation with Hopsworks' answers, and fire times.

Validation follows ``JobScheduleV2InputValidation``: ``cronExpression`` is a Quartz
expression (6 or 7 fields, exactly one ``?`` day field, no ``@`` shorthands) whose seconds
field is exactly ``0``, else 422/120001. Fire times are computed in UTC.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from airflow_provider_hopsjobs.emulator import errors
from airflow_provider_hopsjobs.emulator.clock import from_ms, to_ms

if TYPE_CHECKING:
    from airflow_provider_hopsjobs.timetables.quartz_cron import QuartzCron


def invalid(message: str) -> errors.ApiError:
    return errors.ApiError(422, errors.ILLEGAL_ARGUMENT, message)


def parse_cron(expression: Any) -> QuartzCron:
    from airflow_provider_hopsjobs.timetables.quartz_cron import QuartzCron, QuartzCronError

    if not isinstance(expression, str) or not expression.strip():
        raise invalid("Cron expression is required.")
    if expression.strip().startswith("@"):
        raise invalid(f"Invalid cron expression provided '{expression}'.")
    try:
        cron = QuartzCron.parse(expression)
    except (QuartzCronError, ValueError) as exc:
        raise invalid(f"Invalid cron expression provided '{expression}'. {exc}") from None
    if cron.seconds_field != "0":
        raise invalid("Seconds should be 0.")
    return cron


def first_fire(cron: QuartzCron, base_ms: int, *, inclusive: bool) -> int | None:
    """The first fire time after ``base_ms`` (or at it, when ``inclusive``); None if there is none."""
    after = from_ms(base_ms) - (timedelta(milliseconds=1) if inclusive else timedelta(0))
    fire = cron.next_fire(after)
    return None if fire is None else to_ms(fire)


def latest_fire(cron: QuartzCron, due_ms: int, now_ms: int) -> int:
    """The last fire time at or before ``now_ms``, not earlier than the due one (catch-up off)."""
    latest = cron.prev_fire(from_ms(now_ms + 1))
    return due_ms if latest is None else max(due_ms, to_ms(latest))


def interval_env(cron: QuartzCron, fire_ms: int, start_ms: int | None) -> dict[str, str]:
    """The data interval Hopsworks 5.x hands a scheduled run, in its environment."""
    fire = from_ms(fire_ms)
    previous: datetime | None = cron.prev_fire(fire)
    logical = previous if previous is not None else fire
    if start_ms is not None and to_ms(logical) < start_ms:
        logical = from_ms(start_ms)
    return {
        "HOPS_LOGICAL_DATE": logical.isoformat(),
        "HOPS_START_TIME": logical.isoformat(),
        "HOPS_END_TIME": fire.isoformat(),
    }
