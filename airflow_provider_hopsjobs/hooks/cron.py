"""The checks Hopsworks applies to a v2 schedule's cron expression, made before sending it.

Hopsworks parses schedules as Quartz cron (``sec min hour day-of-month month day-of-week
[year]``) and insists that the seconds field is exactly ``0``; anything else is a 422 after
the fact. The shorthands are the ones the Hopsworks SDK's CLI translates.
"""

from __future__ import annotations

from airflow_provider_hopsjobs.status import HopsworksConfigError

ALIASES: dict[str, str] = {
    "@hourly": "0 0 * * * ?",
    "@daily": "0 0 0 * * ?",
    "@weekly": "0 0 0 ? * SUN",
    "@monthly": "0 0 0 1 * ?",
    "@yearly": "0 0 0 1 1 ?",
    "@annually": "0 0 0 1 1 ?",
}


def normalise_quartz_cron(expression: str) -> str:
    """Return the expression with single spaces, or raise a clear error."""
    if not isinstance(expression, str) or not expression.strip():
        raise HopsworksConfigError("A cron expression is required")
    text = expression.strip()
    if text.lower() in ALIASES:
        return ALIASES[text.lower()]
    fields = text.split()
    if len(fields) not in (6, 7):
        hint = " (a 5-field Unix cron? prefix it with the seconds field '0')" if len(fields) == 5 else ""
        raise HopsworksConfigError(
            f"Invalid Quartz cron {expression!r}: expected 6 or 7 fields "
            f"(sec min hour day-of-month month day-of-week [year]), got {len(fields)}{hint}"
        )
    if fields[0] != "0":
        raise HopsworksConfigError(
            f"Invalid Quartz cron {expression!r}: Hopsworks requires the seconds field to be 0"
        )
    if "?" not in (fields[3], fields[5]):
        raise HopsworksConfigError(
            f"Invalid Quartz cron {expression!r}: put '?' in day-of-month or day-of-week "
            "(Quartz does not allow both to be set)"
        )
    return " ".join(fields)
