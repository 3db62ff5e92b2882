"""The checks Hopsworks applies to a v2 schedule's cron expression, made before sending it.

Hopsworks parses schedules with Quartz (``sec min hour day-of-month month day-of-week
[year]``) and additionally insists that the seconds field is exactly ``0``; anything else
is a 422 after the fact. Parsing goes through the provider's one Quartz parser, so the
hook, the schedule operator, the migration and the timetable agree on what is valid. The
shorthands (``@daily`` …) are the ones the Hopsworks SDK's CLI translates.
"""

from __future__ import annotations

from airflow_provider_hopsjobs.errors import HopsworksConfigError
from airflow_provider_hopsjobs.timetables.quartz_cron import QuartzCron, QuartzCronError


def normalise_quartz_cron(expression: str) -> str:
    """Return the Quartz expression Hopsworks should receive, or raise a clear error.

    Shorthands are expanded and whitespace is folded to single spaces.
    """
    if not isinstance(expression, str) or not expression.strip():
        raise HopsworksConfigError("A cron expression is required")
    try:
        cron = QuartzCron.parse(expression.strip())
    except QuartzCronError as err:
        # The parser's message names the expression, the field and the token, and for a Unix
        # cron the Quartz expression it means: one message, not a second hint on top.
        raise HopsworksConfigError(str(err)) from err
    if cron.seconds_field != "0":
        raise HopsworksConfigError(
            f"Invalid Quartz cron {expression!r}: Hopsworks requires the seconds field to be 0, "
            f"got {cron.seconds_field!r}"
        )
    return " ".join(cron.quartz_expression.split())
