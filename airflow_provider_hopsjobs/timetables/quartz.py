"""An Airflow timetable that fires at the instants a Quartz cron expression names.

Teams moving Hopsworks v2 job schedules to Airflow keep their Quartz expressions as they are:
``schedule=QuartzCronTimetable("0 15 10 ? * 6L", timezone="Europe/Amsterdam")``. Translating
them to Airflow's five-field Unix cron by hand is where weekdays get shifted by one (Quartz counts
1-7 from Sunday) and ``L``/``W``/``#`` get lost.
"""

from __future__ import annotations

import datetime
from typing import TYPE_CHECKING, Any

import pendulum
from airflow.exceptions import AirflowTimetableInvalid
from airflow.timetables.base import DagRunInfo, DataInterval, Timetable
from pendulum.tz import fixed_timezone
from pendulum.tz.exceptions import InvalidTimezone

from airflow_provider_hopsjobs.timetables.quartz_cron import QuartzCron, QuartzCronError
from airflow_provider_hopsjobs.timetables.quartz_parse import DAY_OF_WEEK

if TYPE_CHECKING:
    from airflow.timetables.base import TimeRestriction
    from pendulum import DateTime
    from pendulum.tz.timezone import FixedTimezone, Timezone

__all__ = ["QuartzCronTimetable"]

_NO_INTERVAL = datetime.timedelta()
_EPOCH = pendulum.datetime(1970, 1, 1, tz="UTC")
_TICK = datetime.timedelta(microseconds=1)


def _utcnow() -> DateTime:
    """The scheduler's "now" (a seam for tests, as Airflow's own timetables read ``utcnow``)."""
    return pendulum.now("UTC")


def _parse_timezone(value: str | datetime.tzinfo) -> Timezone | FixedTimezone:
    """Resolve a zone name or tzinfo to the pendulum zone Airflow works with."""
    if isinstance(value, pendulum.Timezone | pendulum.FixedTimezone):
        return value
    if isinstance(value, datetime.timezone):
        offset = value.utcoffset(None)
        return fixed_timezone(int(offset.total_seconds()))
    name = value if isinstance(value, str) else getattr(value, "key", None)
    if not isinstance(name, str):
        raise TypeError(f"timezone must be a zone name or a pendulum/zoneinfo zone, not {value!r}")
    try:
        return pendulum.timezone(name)
    except InvalidTimezone as exc:
        raise ValueError(f"Unknown time zone {name!r} for QuartzCronTimetable") from exc


def _encode_timezone(tz: Timezone | FixedTimezone) -> str | int:
    """As Airflow stores zones: a fixed offset as seconds, a named zone by name."""
    if isinstance(tz, pendulum.FixedTimezone):
        return tz.offset
    return tz.name


def _decode_timezone(value: str | int) -> Timezone | FixedTimezone:
    if isinstance(value, int):
        return fixed_timezone(value)
    return _parse_timezone(value)


def _describe(cron: QuartzCron) -> str:
    """A sentence for the UI, from cron-descriptor (shipped with Airflow) in its Quartz mode."""
    from cron_descriptor import CasingTypeEnum, ExpressionDescriptor

    fields = list(cron.fields)
    if fields[DAY_OF_WEEK].upper() == "L":  # Quartz: "L" alone in day-of-week is SAT
        fields[DAY_OF_WEEK] = "7"
    try:
        text = ExpressionDescriptor(
            " ".join(fields),
            casing_type=CasingTypeEnum.Sentence,
            use_24hour_time_format=True,
            day_of_week_start_index_zero=False,
        ).get_description()
    except Exception:  # cron-descriptor does not know every Quartz form; the summary still shows it
        return ""
    return str(text).replace("through 9999", "through 2099")


class QuartzCronTimetable(Timetable):
    """Trigger a DAG run at each instant a Quartz cron expression fires, like ``CronTriggerTimetable``.

    :param expression: a Quartz cron expression, ``sec min hour day-of-month month day-of-week
        [year]``, exactly as a Hopsworks v2 schedule stores it (``0 0 6 ? * MON-FRI``), or one of
        the Hopsworks CLI shorthands (``@hourly``, ``@daily``, ``@weekly``, ``@monthly``,
        ``@yearly``). Day-of-week is Quartz's 1-7 = SUN-SAT, not Unix 0-6. A malformed expression
        raises :class:`~airflow_provider_hopsjobs.timetables.quartz_cron.QuartzCronError` (a
        ``ValueError``) when the DAG file is parsed, naming the field and the token.
    :param timezone: the zone whose wall clock the expression is read on (default UTC, which is
        how Hopsworks evaluates v2 schedules). Through DST changes it behaves like Airflow's cron
        timetables: a skipped wall time fires shifted forward by the gap, a repeated one fires
        once at its second occurrence, and expressions covering every hour keep firing every hour.
    :param interval: length of each run's data interval, which ends at the fire time (default
        zero: ``data_interval_start == data_interval_end == logical_date``). As with
        ``CronTriggerTimetable``, the run is created at the fire time (``run_after``) and its
        logical date is the start of the data interval, ``fire time - interval``.
    :param run_immediately: as for ``CronTriggerTimetable``: when a DAG without ``start_date``
        is first scheduled, whether to run the most recent past fire time (True), never (False
        still allows it within 10% of the period, at least 5 minutes, exactly as Airflow's
        timetable does), or when it lies within the given ``timedelta``.

    Hopsworks accepts v2 schedules only with the seconds field exactly ``0``; this timetable
    accepts any seconds (``*/30 * * * * ?`` fires every 30 seconds), so an expression copied back
    to Hopsworks may be rejected there. ``seconds_field`` on the parsed expression tells which.

    Runs are generated trigger-style: a run for fire time ``T`` is created at ``T`` (not at the
    next fire time), with ``catchup`` behaving as for ``CronTriggerTimetable``.
    """

    def __init__(
        self,
        expression: str,
        timezone: str | Timezone | FixedTimezone | datetime.tzinfo = "UTC",
        *,
        interval: datetime.timedelta | None = None,
        run_immediately: bool | datetime.timedelta = False,
    ) -> None:
        self._cron = QuartzCron.parse(expression)
        self._expression = self._cron.expression
        self._timezone = _parse_timezone(timezone)
        if interval is None:
            interval = _NO_INTERVAL
        if not isinstance(interval, datetime.timedelta) or interval < _NO_INTERVAL:
            raise ValueError(f"interval must be a non-negative timedelta, got {interval!r}")
        self._interval = interval
        if not isinstance(run_immediately, bool | datetime.timedelta):
            raise TypeError(f"run_immediately must be a bool or a timedelta, got {run_immediately!r}")
        self._run_immediately = run_immediately
        self.description = _describe(self._cron)

    # ------------------------------------------------------------------ identity

    @property
    def expression(self) -> str:
        return self._expression

    @property
    def timezone(self) -> Timezone | FixedTimezone:
        return self._timezone

    @property
    def interval(self) -> datetime.timedelta:
        return self._interval

    @property
    def quartz_cron(self) -> QuartzCron:
        """The parsed expression (``seconds_field``, ``next_fire``, ...)."""
        return self._cron

    @property
    def summary(self) -> str:
        return self._expression

    def __repr__(self) -> str:
        return f"QuartzCronTimetable({self._expression!r}, timezone={self._timezone.name!r})"

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, QuartzCronTimetable):
            return NotImplemented
        return self._key() == other._key()

    def __hash__(self) -> int:
        return hash(self._key())

    def _key(self) -> tuple[object, ...]:
        return (self._expression, _encode_timezone(self._timezone), self._interval, self._run_immediately)

    # ------------------------------------------------------------- serialization

    def serialize(self) -> dict[str, Any]:
        run_immediately = self._run_immediately
        return {
            "expression": self._expression,
            "timezone": _encode_timezone(self._timezone),
            "interval": self._interval.total_seconds(),
            "run_immediately": (
                run_immediately if isinstance(run_immediately, bool) else run_immediately.total_seconds()
            ),
        }

    @classmethod
    def deserialize(cls, data: dict[str, Any]) -> Timetable:
        run_immediately = data.get("run_immediately", False)
        return cls(
            data["expression"],
            timezone=_decode_timezone(data.get("timezone", "UTC")),
            interval=datetime.timedelta(seconds=data.get("interval", 0.0)),
            run_immediately=(
                run_immediately
                if isinstance(run_immediately, bool)
                else datetime.timedelta(seconds=run_immediately)
            ),
        )

    def validate(self) -> None:
        """Reject an expression that cannot be parsed or can never fire (``0 0 0 30 2 ?``)."""
        try:
            cron = QuartzCron.parse(self._expression)
        except QuartzCronError as exc:
            raise AirflowTimetableInvalid(str(exc)) from exc
        if cron.next_fire(_EPOCH - _TICK) is None:
            raise AirflowTimetableInvalid(
                f"Quartz cron expression {self._expression!r} never fires between 1970 and 2099"
            )

    # ------------------------------------------------------------ fire times

    def _local(self, value: datetime.datetime) -> DateTime:
        return pendulum.instance(value).in_timezone(self._timezone)

    @staticmethod
    def _utc(value: datetime.datetime | None) -> DateTime | None:
        return None if value is None else pendulum.instance(value).in_timezone("UTC")

    def _get_next(self, current: datetime.datetime) -> DateTime | None:
        """The first fire time strictly after ``current``."""
        return self._utc(self._cron.next_fire(self._local(current)))

    def _get_prev(self, current: datetime.datetime) -> DateTime | None:
        """The last fire time strictly before ``current``."""
        return self._utc(self._cron.prev_fire(self._local(current)))

    def _align_to_next(self, current: datetime.datetime) -> DateTime | None:
        """``current`` when it is a fire time, else the next one."""
        return self._get_next(current - _TICK)

    def _align_to_prev(self, current: datetime.datetime) -> DateTime | None:
        """``current`` when it is a fire time, else the previous one."""
        return self._get_prev(current + _TICK)

    def _calc_first_run(self) -> DateTime | None:
        """First run of a DAG without ``start_date``: CronTriggerTimetable's ``run_immediately`` rule."""
        now = _utcnow()
        past_run_time = self._align_to_prev(now)
        next_run_time = self._align_to_next(now)
        if past_run_time is None:
            return next_run_time
        if self._run_immediately is True:  # exactly True: a timedelta is truthy too
            return past_run_time
        if isinstance(self._run_immediately, datetime.timedelta):
            buffer_between_runs = self._run_immediately
        elif next_run_time is None:
            return None
        else:
            buffer_between_runs = max((next_run_time - past_run_time) / 10, datetime.timedelta(minutes=5))
        if now - past_run_time <= buffer_between_runs:
            return past_run_time
        return next_run_time

    # ------------------------------------------------------------ scheduling

    def infer_manual_data_interval(self, *, run_after: DateTime) -> DataInterval:
        return DataInterval(pendulum.instance(run_after - self._interval), run_after)

    def next_dagrun_info(
        self,
        *,
        last_automated_data_interval: DataInterval | None,
        restriction: TimeRestriction,
    ) -> DagRunInfo | None:
        next_start_time: DateTime | None
        if restriction.catchup:
            if last_automated_data_interval is not None:
                next_start_time = self._get_next(last_automated_data_interval.end)
            elif restriction.earliest is None:
                next_start_time = self._calc_first_run()
            else:
                next_start_time = self._align_to_next(restriction.earliest)
        else:
            candidates = [self._align_to_prev(_utcnow())]
            if last_automated_data_interval is not None:
                following = self._get_next(last_automated_data_interval.end)
                if following is None:  # the expression has fired for the last time
                    return None
                candidates.append(following)
            elif restriction.earliest is None:
                # run_immediately has no effect when there is a start date
                candidates.append(self._calc_first_run())
            if restriction.earliest is not None:
                aligned = self._align_to_next(restriction.earliest)
                if aligned is None:
                    return None
                candidates.append(aligned)
            next_start_time = max((c for c in candidates if c is not None), default=None)
        if next_start_time is None:
            return None
        if restriction.latest is not None and restriction.latest < next_start_time:
            return None
        return DagRunInfo.interval(pendulum.instance(next_start_time - self._interval), next_start_time)
