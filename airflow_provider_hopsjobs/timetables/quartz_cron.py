"""Quartz cron expressions: parse them the way Quartz does and compute their fire times.

Hopsworks v2 job schedules are Quartz cron expressions (``sec min hour day-of-month month
day-of-week [year]``). Airflow's own cron support is five-field Unix cron, whose day-of-week
numbering (0-6 from Sunday) and day rules (day-of-month OR day-of-week) differ from Quartz
(1-7 from Sunday, exactly one of the two day fields is ``?``). Feeding a Quartz expression to
Unix cron silently shifts weekdays, so this module reads Quartz on its own terms.

What comes from where:

* croniter (shipped with Airflow) expands the tokens whose meaning is the same in both
  dialects: single values, ``*``, ``a-b`` with ``a < b``, ``a/s``, ``*/s`` and ``a-b/s``.
  Day-of-week values are renumbered explicitly (Quartz 1-7 to croniter 0-6) before it sees them.
* This module implements what croniter lacks or reads differently: field-and-token error
  messages, the ``?`` rule, wrap-around ranges (``22-2``, ``NOV-FEB``, ``FRI-MON``, stepped as
  Quartz does), ``a-a`` (one value in Quartz, the whole cycle in croniter), ``L``, ``L-n``,
  ``nW``, ``LW``, ``L-nW``, ``nL``, ``n#k``, and the search itself, which steps month by month
  and day by day and then picks hour, minute and second from their value sets.

It is pure Python (no Airflow import) so the emulator can use it and start fast.

Quartz rules followed, and the few places where this reading is deliberate:

* Exactly one of day-of-month and day-of-week must be ``?`` (Quartz's and cron-utils' rule;
  both ``?`` or neither is an error).
* ``L`` alone in day-of-week means 7 (SAT). ``L``/``nL`` and ``n#k`` must stand alone in the
  day-of-week field, as Quartz requires.
* Day-of-month lists may mix plain days with ``L``, ``L-n``, ``nW`` and ``LW``; the field
  matches the union (what current Quartz computes). A ``nW`` whose day does not exist in a
  month (``31W`` in April) does not fire that month; ``L-n`` before the 1st does not fire.
* ``nW`` never leaves the month: 1st on a Saturday gives Monday the 3rd, a last day on a Sunday
  gives the Friday before.
* A step must be at least 1 and at most the field's span (Quartz: 59, 23, 31, 12, 7).
* Years run from 1970 to 2099 (cron-utils' Quartz bound); after that there is no fire time.

Time zones: an expression is evaluated on the wall clock of the datetime you pass in, the way
Airflow's cron timetables do. A wall time that a DST change skips fires shifted forward by the
gap (02:30 becomes 03:30); a wall time that a DST change repeats fires once, at its second
occurrence (Airflow's choice); expressions that fire in every hour fire in both copies of the
repeated hour, so an hourly schedule keeps firing hourly through the change.
"""

from __future__ import annotations

import calendar
import re
from bisect import bisect_left, bisect_right
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, replace
from datetime import datetime, timedelta, timezone, tzinfo
from functools import lru_cache
from typing import Final

from airflow_provider_hopsjobs.timetables.unix_cron import UntranslatableUnixCron, quartz_equivalent

__all__ = ["QUARTZ_ALIASES", "QuartzCron", "QuartzCronError"]

#: Shorthands the Hopsworks CLI accepts, translated to Quartz as it does.
QUARTZ_ALIASES: Final[Mapping[str, str]] = {
    "@hourly": "0 0 * * * ?",
    "@daily": "0 0 0 * * ?",
    "@weekly": "0 0 0 ? * SUN",
    "@monthly": "0 0 0 1 * ?",
    "@yearly": "0 0 0 1 1 ?",
    "@annually": "0 0 0 1 1 ?",
}

MIN_YEAR: Final = 1970
MAX_YEAR: Final = 2099

_MONTH_NAMES: Final = {
    name: number
    for number, name in enumerate(
        ("JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"), start=1
    )
}
_DAY_NAMES: Final = {
    name: number for number, name in enumerate(("SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"), start=1)
}

SECONDS, MINUTES, HOURS, DAY_OF_MONTH, MONTH, DAY_OF_WEEK, YEAR = range(7)


@dataclass(frozen=True)
class _FieldSpec:
    name: str
    low: int
    high: int
    names: Mapping[str, int]
    #: position of this field in croniter's ``expanded`` list (second_at_beginning layout)
    croniter_index: int

    @property
    def span(self) -> int:
        return self.high - self.low + 1


_FIELDS: Final = (
    _FieldSpec("seconds", 0, 59, {}, 5),
    _FieldSpec("minutes", 0, 59, {}, 0),
    _FieldSpec("hours", 0, 23, {}, 1),
    _FieldSpec("day-of-month", 1, 31, {}, 2),
    _FieldSpec("month", 1, 12, _MONTH_NAMES, 3),
    _FieldSpec("day-of-week", 1, 7, _DAY_NAMES, 4),
    _FieldSpec("year", MIN_YEAR, MAX_YEAR, {}, 6),
)

_VALUE = r"[0-9]+|[A-Z]+"
_PLAIN_RE: Final = re.compile(
    rf"^(?:(?P<all>\*)|(?P<lo>{_VALUE})(?:-(?P<hi>{_VALUE}))?)?(?:/(?P<step>[0-9]*))?$"
)
_DOM_LAST_RE: Final = re.compile(r"^L(?:-(?P<offset>[0-9]*))?(?P<weekday>W)?$")
_DOM_WEEKDAY_RE: Final = re.compile(r"^(?P<day>[0-9]+)W$")
_DOW_LAST_RE: Final = re.compile(rf"^(?P<day>{_VALUE})L$")
_SPECIAL_DAY_RE: Final = re.compile(r"^(?:[0-9]*L(?:-[0-9]*)?W?|[0-9]+W)$")
_DOW_NTH_RE: Final = re.compile(rf"^(?P<day>{_VALUE})#(?P<nth>[0-9]*)$")

#: DST changes move wall clocks by at most two hours; three is a safe window to look for one.
_DST_WINDOW: Final = timedelta(hours=3)
_ONE_SECOND: Final = timedelta(seconds=1)
_UTC: Final = timezone.utc


def _unix_hint(fields: tuple[str, ...]) -> str:
    """What a 5-field Unix cron means in Quartz, or why it has no one Quartz equivalent."""
    try:
        quartz = quartz_equivalent(fields)
        QuartzCron.parse(quartz)
    except UntranslatableUnixCron as err:
        return f". Read as a 5-field Unix cron, {err}"
    except ValueError:
        return (
            ". A 5-field Unix cron? Quartz puts a seconds field first, needs '?' in one of the day "
            "fields and numbers weekdays 1-7 from SUN"
        )
    return (
        f". Read as a 5-field Unix cron it is {quartz!r} in Quartz (seconds first, '?' in the unused "
        "day field, weekdays 1-7 = SUN-SAT)"
    )


class QuartzCronError(ValueError):
    """A Quartz cron expression that cannot be parsed; the message names the field and the token."""

    def __init__(self, expression: str, reason: str, *, field: str | None = None, token: str | None = None):
        self.expression = expression
        self.reason = reason
        self.field = field
        self.token = token
        if field is not None and token is not None:
            where = f"{field} field, token {token!r}: "
        elif field is not None:
            where = f"{field} fields: " if " and " in field else f"{field} field: "
        else:
            where = ""
        super().__init__(f"Invalid Quartz cron expression {expression!r}: {where}{reason}")


@dataclass(frozen=True)
class _DayRules:
    """The parsed day fields; exactly one of the two is in use (the other was ``?``)."""

    by_day_of_month: bool
    # day-of-month mode
    days: frozenset[int] = frozenset()
    last_offsets: tuple[int, ...] = ()  # L (0), L-n (n)
    nearest_weekdays: tuple[int, ...] = ()  # nW
    last_nearest_weekdays: tuple[int, ...] = ()  # LW (0), L-nW (n)
    # day-of-week mode (Quartz numbering, 1 = SUN)
    weekdays: frozenset[int] = frozenset()
    last_weekday: int | None = None  # nL
    nth_weekday: tuple[int, int] | None = None  # n#k -> (n, k)


class _Parser:
    """Turns the seven field strings into value sets, raising QuartzCronError on the first bad token."""

    def __init__(self, expression: str) -> None:
        self.expression = expression
        #: tokens are matched upper-cased (Quartz is case-insensitive); errors quote them as written
        self.as_written: dict[str, str] = {}

    def error(self, reason: str, field: int | None = None, token: str | None = None) -> QuartzCronError:
        return QuartzCronError(
            self.expression,
            reason,
            field=None if field is None else _FIELDS[field].name,
            token=None if token is None else self.as_written.get(token, token),
        )

    def value(self, field: int, text: str, token: str) -> int:
        spec = _FIELDS[field]
        if text.isdigit():
            number = int(text)
            if not spec.low <= number <= spec.high:
                reason = f"value {number} is outside {spec.low}-{spec.high}"
                if field == DAY_OF_WEEK:
                    reason += " (Quartz numbers days 1-7 from SUN to SAT, not Unix 0-6)"
                raise self.error(reason, field, token)
            return number
        if not spec.names:
            raise self.error("names are allowed only in the month and day-of-week fields", field, token)
        if text not in spec.names:
            kind = "month" if field == MONTH else "day"
            raise self.error(f"unknown {kind} name {text!r} (use {', '.join(spec.names)})", field, token)
        return spec.names[text]

    def step(self, field: int, text: str, token: str) -> int:
        spec = _FIELDS[field]
        if not text:
            raise self.error("'/' must be followed by a step", field, token)
        step = int(text)
        largest = spec.span if field == YEAR else spec.high  # Quartz: 59, 59, 23, 31, 12, 7
        if not 1 <= step <= largest:
            raise self.error(f"step {step} must be between 1 and {largest}", field, token)
        return step

    def plain(self, field: int, token: str) -> tuple[str | None, frozenset[int]]:
        """Parse a plain token; return (croniter spec, values computed here) -- exactly one is used."""
        if "#" in token:
            raise self.error("'#' is allowed only in day-of-week (6#3)", field, token)
        if _SPECIAL_DAY_RE.match(token):
            raise self.error(
                "'L' and 'W' are allowed only in day-of-month, and 'L' in day-of-week", field, token
            )
        match = _PLAIN_RE.match(token)
        if match is None or not (match["all"] or match["lo"] or match["step"] is not None):
            raise self.error(self._expected(field), field, token)
        spec = _FIELDS[field]
        step = 1 if match["step"] is None else self.step(field, match["step"], token)
        if match["lo"] is None:  # "*", "*/s" or Quartz's "/s"
            return self._croniter_spec(field, spec.low, spec.high, step), frozenset()
        low = self.value(field, match["lo"], token)
        if match["hi"] is None:
            if match["step"] is None:
                return self._croniter_spec(field, low, low, 1), frozenset()
            return self._croniter_spec(field, low, spec.high, step), frozenset()
        high = self.value(field, match["hi"], token)
        if low < high:
            return self._croniter_spec(field, low, high, step), frozenset()
        if low == high:  # croniter reads "a-a" as the whole cycle; Quartz as the single value
            return None, frozenset({low})
        if field == YEAR:
            raise self.error("a year range cannot wrap around (start must not be after end)", field, token)
        # Quartz "overflowing" range: count on past the field's end and wrap, keeping the step.
        wrapped = range(low, high + spec.span + 1, step)
        return None, frozenset(spec.low + (value - spec.low) % spec.span for value in wrapped)

    @staticmethod
    def _croniter_spec(field: int, low: int, high: int, step: int) -> str:
        if field == DAY_OF_WEEK:  # croniter counts 0-6 from Sunday, Quartz 1-7
            low, high = low - 1, high - 1
        if low == high:
            return str(low)
        return f"{low}-{high}" if step == 1 else f"{low}-{high}/{step}"

    @staticmethod
    def _expected(field: int) -> str:
        forms = "a number, a range a-b, a list a,b, a step a/s or */s, or '*'"
        if field == DAY_OF_MONTH:
            forms += ", '?', 'L', 'L-n', 'nW' or 'LW'"
        elif field == DAY_OF_WEEK:
            forms += ", '?', 'L', 'nL' or 'n#k'"
        elif field == MONTH:
            forms += " (names JAN-DEC allowed)"
        return f"not a valid token; expected {forms}"


def _expand_with_croniter(specs: list[list[str]]) -> list[frozenset[int]]:
    """Expand one plain list per field with croniter; an empty list stands for 'no plain tokens'."""
    from croniter import croniter  # deferred: only parsing needs it, and it costs ~50 ms to import

    expression = " ".join(",".join(parts) if parts else "*" for parts in specs)
    expanded, _ = croniter.expand(expression, second_at_beginning=True)
    result: list[frozenset[int]] = []
    for field, parts in enumerate(specs):
        spec = _FIELDS[field]
        if not parts:
            result.append(frozenset())
            continue
        values = expanded[spec.croniter_index]
        if values == ["*"]:
            result.append(frozenset(range(spec.low, spec.high + 1)))
            continue
        numbers = frozenset(int(v) for v in values)
        result.append(frozenset(v + 1 for v in numbers) if field == DAY_OF_WEEK else numbers)
    return result


def _nearest_weekday(year: int, month: int, day: int, last_day: int) -> int:
    """Quartz's ``W``: the weekday nearest ``day`` without leaving the month."""
    weekday = calendar.weekday(year, month, day)  # Monday = 0
    if weekday == calendar.SATURDAY:
        return day + 2 if day == 1 else day - 1
    if weekday == calendar.SUNDAY:
        return day - 2 if day == last_day else day + 1
    return day


def _quartz_weekday(python_weekday: int) -> int:
    """Python's Monday=0 numbering to Quartz's SUN=1 .. SAT=7."""
    return (python_weekday + 1) % 7 + 1


class QuartzCron:
    """A parsed Quartz cron expression. Build it with :meth:`parse`; instances are immutable."""

    __slots__ = (
        "_day_cache",
        "_days",
        "_every_hour",
        "_expression",
        "_fields",
        "_hours",
        "_minutes",
        "_months",
        "_quartz_expression",
        "_seconds",
        "_years",
    )

    def __init__(
        self,
        expression: str,
        quartz_expression: str,
        fields: tuple[str, ...],
        sets: list[frozenset[int]],
        days: _DayRules,
    ) -> None:
        self._expression = expression
        self._quartz_expression = quartz_expression
        self._fields = fields
        self._seconds = tuple(sorted(sets[SECONDS]))
        self._minutes = tuple(sorted(sets[MINUTES]))
        self._hours = tuple(sorted(sets[HOURS]))
        self._months = tuple(sorted(sets[MONTH]))
        self._years = tuple(sorted(sets[YEAR]))
        self._days = days
        self._every_hour = len(self._hours) == 24
        self._day_cache: dict[tuple[int, int], tuple[int, ...]] = {}

    # ------------------------------------------------------------------ parsing

    @classmethod
    def parse(cls, expression: str) -> QuartzCron:
        """Parse a 6- or 7-field Quartz expression (or an ``@daily``-style shorthand).

        :raises QuartzCronError: naming the field and the token that are wrong.
        """
        if not isinstance(expression, str):
            raise TypeError(f"a Quartz cron expression must be a string, not {type(expression).__name__}")
        return _parse_cached(" ".join(expression.split()))

    @classmethod
    def _build(cls, expression: str) -> QuartzCron:
        parser = _Parser(expression)
        quartz, fields = cls._split(parser)
        upper = [field.upper() for field in fields]
        for text in fields:
            parser.as_written[text.upper()] = text
            parser.as_written.update((token.upper(), token) for token in text.split(","))
        if len(upper) == 6:
            upper.append("*")

        croniter_specs: list[list[str]] = [[] for _ in range(7)]
        own_sets: list[set[int]] = [set() for _ in range(7)]
        for field in (SECONDS, MINUTES, HOURS, MONTH, YEAR):
            for part in cls._tokens(parser, field, upper[field]):
                if part == "?":
                    raise parser.error("'?' is allowed only in day-of-month and day-of-week", field, part)
                cls._plain_into(parser, field, part, croniter_specs, own_sets)

        dom, dow = upper[DAY_OF_MONTH], upper[DAY_OF_WEEK]
        cls._tokens(parser, DAY_OF_MONTH, dom)
        cls._tokens(parser, DAY_OF_WEEK, dow)
        if (dom == "?") == (dow == "?"):
            raise QuartzCronError(
                expression,
                "exactly one of the two must be '?' "
                f"(got day-of-month {fields[DAY_OF_MONTH]!r} and day-of-week {fields[DAY_OF_WEEK]!r})",
                field="day-of-month and day-of-week",
            )
        if dow == "?":
            day_rules = cls._day_of_month(parser, dom, croniter_specs, own_sets)
        else:
            day_rules = cls._day_of_week(parser, dow, croniter_specs, own_sets)

        try:
            expanded = _expand_with_croniter(croniter_specs)
        except ValueError as exc:  # pragma: no cover - tokens are validated before croniter sees them
            raise parser.error(f"croniter rejected the expression: {exc}") from exc
        sets = [expanded[i] | own_sets[i] for i in range(7)]
        if day_rules.by_day_of_month:
            day_rules = replace(day_rules, days=sets[DAY_OF_MONTH])
        elif day_rules.last_weekday is None and day_rules.nth_weekday is None:
            day_rules = replace(day_rules, weekdays=sets[DAY_OF_WEEK])
        return cls(expression, quartz, fields, sets, day_rules)

    @staticmethod
    def _split(parser: _Parser) -> tuple[str, tuple[str, ...]]:
        """Resolve a shorthand and split into fields, checking there are 6 or 7 of them."""
        expression = parser.expression
        if not expression:
            raise parser.error("the expression is empty")
        quartz = QUARTZ_ALIASES.get(expression.lower(), expression)
        if quartz.startswith("@"):
            raise parser.error(f"unknown shorthand {expression!r} (use {', '.join(QUARTZ_ALIASES)})")
        fields = tuple(quartz.split())
        if len(fields) not in (6, 7):
            raise parser.error(
                "expected 6 or 7 fields (seconds minutes hours day-of-month month day-of-week [year]), "
                f"got {len(fields)}{_unix_hint(fields) if len(fields) == 5 else ''}"
            )
        return quartz, fields

    @staticmethod
    def _tokens(parser: _Parser, field: int, text: str) -> list[str]:
        tokens = text.split(",")
        for token in tokens:
            if not token:
                raise parser.error("empty list element (stray ',')", field, text)
        if len(tokens) > 1 and "?" in tokens:
            raise parser.error("'?' must be the whole field", field, "?")
        return tokens

    @staticmethod
    def _plain_into(
        parser: _Parser, field: int, token: str, croniter_specs: list[list[str]], own_sets: list[set[int]]
    ) -> None:
        spec, values = parser.plain(field, token)
        if spec is not None:
            croniter_specs[field].append(spec)
        own_sets[field].update(values)

    @classmethod
    def _day_of_month(
        cls, parser: _Parser, text: str, croniter_specs: list[list[str]], own_sets: list[set[int]]
    ) -> _DayRules:
        last_offsets: list[int] = []
        nearest: list[int] = []
        last_nearest: list[int] = []
        for token in cls._tokens(parser, DAY_OF_MONTH, text):
            if (match := _DOM_LAST_RE.match(token)) is not None:
                offset = 0
                if match["offset"] is not None:
                    if not match["offset"]:
                        raise parser.error("'L-' must be followed by an offset (L-3)", DAY_OF_MONTH, token)
                    offset = int(match["offset"])
                    if offset > 30:
                        raise parser.error(
                            f"offset {offset} from the last day must be <= 30", DAY_OF_MONTH, token
                        )
                (last_nearest if match["weekday"] else last_offsets).append(offset)
            elif (match := _DOM_WEEKDAY_RE.match(token)) is not None:
                nearest.append(parser.value(DAY_OF_MONTH, match["day"], token))
            elif "#" in token:
                raise parser.error("'#' is allowed only in day-of-week", DAY_OF_MONTH, token)
            elif "W" in token:
                raise parser.error("'W' must follow a single day (15W) or 'L' (LW)", DAY_OF_MONTH, token)
            elif "L" in token:
                raise parser.error("'L' must stand alone or as 'L-n' / 'LW'", DAY_OF_MONTH, token)
            else:
                cls._plain_into(parser, DAY_OF_MONTH, token, croniter_specs, own_sets)
        return _DayRules(
            by_day_of_month=True,
            last_offsets=tuple(sorted(set(last_offsets))),
            nearest_weekdays=tuple(sorted(set(nearest))),
            last_nearest_weekdays=tuple(sorted(set(last_nearest))),
        )

    @classmethod
    def _day_of_week(
        cls, parser: _Parser, text: str, croniter_specs: list[list[str]], own_sets: list[set[int]]
    ) -> _DayRules:
        tokens = cls._tokens(parser, DAY_OF_WEEK, text)
        special = [t for t in tokens if t == "L" or _DOW_LAST_RE.match(t) or "#" in t]
        if special and len(tokens) > 1:
            raise parser.error(
                "'L', 'nL' and 'n#k' must be the only value in day-of-week", DAY_OF_WEEK, special[0]
            )
        first = tokens[0]
        if first == "L":  # Quartz: "L" alone in day-of-week simply means 7 (SAT)
            own_sets[DAY_OF_WEEK].add(7)
            return _DayRules(by_day_of_month=False)
        if (match := _DOW_LAST_RE.match(first)) is not None:
            return _DayRules(
                by_day_of_month=False, last_weekday=parser.value(DAY_OF_WEEK, match["day"], first)
            )
        if (match := _DOW_NTH_RE.match(first)) is not None:
            day = parser.value(DAY_OF_WEEK, match["day"], first)
            if not match["nth"] or not 1 <= int(match["nth"]) <= 5:
                raise parser.error("'#' must be followed by a number from 1 to 5", DAY_OF_WEEK, first)
            return _DayRules(by_day_of_month=False, nth_weekday=(day, int(match["nth"])))
        for token in tokens:
            if "#" in token:
                raise parser.error("'#' must join one day and a number from 1 to 5 (6#3)", DAY_OF_WEEK, token)
            if _SPECIAL_DAY_RE.match(token):
                raise parser.error("'L-n' and 'W' are allowed only in day-of-month", DAY_OF_WEEK, token)
            cls._plain_into(parser, DAY_OF_WEEK, token, croniter_specs, own_sets)
        return _DayRules(by_day_of_month=False)

    # --------------------------------------------------------------- properties

    @property
    def expression(self) -> str:
        """The expression as given (whitespace normalised), shorthand included."""
        return self._expression

    @property
    def quartz_expression(self) -> str:
        """The 6- or 7-field Quartz form (a shorthand such as ``@daily`` expanded)."""
        return self._quartz_expression

    @property
    def fields(self) -> tuple[str, ...]:
        """The raw field texts of :attr:`quartz_expression` (6 or 7 of them)."""
        return self._fields

    @property
    def seconds_field(self) -> str:
        """The raw seconds field; Hopsworks accepts a schedule only when it is exactly ``"0"``."""
        return self._fields[SECONDS]

    @property
    def fires_every_hour(self) -> bool:
        """True when the hours field covers all 24 hours (such schedules also fire in a DST-repeated hour)."""
        return self._every_hour

    def __repr__(self) -> str:
        return f"QuartzCron({self._expression!r})"

    def __str__(self) -> str:
        return self._expression

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, QuartzCron):
            return NotImplemented
        return self._expression == other._expression

    def __hash__(self) -> int:
        return hash(self._expression)

    # ---------------------------------------------------------- calendar search

    def matching_days(self, year: int, month: int) -> tuple[int, ...]:
        """Days of ``month`` on which the expression fires (ignores the month and year fields)."""
        key = (year, month)
        cached = self._day_cache.get(key)
        if cached is not None:
            return cached
        rules = self._days
        last_day = calendar.monthrange(year, month)[1]
        days: set[int]
        if rules.by_day_of_month:
            days = {day for day in rules.days if day <= last_day}
            days.update(last_day - offset for offset in rules.last_offsets if last_day - offset >= 1)
            days.update(
                _nearest_weekday(year, month, day, last_day)
                for day in rules.nearest_weekdays
                if day <= last_day
            )
            days.update(
                _nearest_weekday(year, month, last_day - offset, last_day)
                for offset in rules.last_nearest_weekdays
                if last_day - offset >= 1
            )
        else:
            first = _quartz_weekday(calendar.weekday(year, month, 1))

            def first_day_of(weekday: int) -> int:
                return 1 + (weekday - first) % 7

            if rules.last_weekday is not None:
                day = first_day_of(rules.last_weekday)
                days = {day + 7 * ((last_day - day) // 7)}
            elif rules.nth_weekday is not None:
                weekday, nth = rules.nth_weekday
                day = first_day_of(weekday) + 7 * (nth - 1)
                days = {day} if day <= last_day else set()
            else:
                days = {
                    day for weekday in rules.weekdays for day in range(first_day_of(weekday), last_day + 1, 7)
                }
        result = tuple(sorted(days))
        self._day_cache[key] = result
        return result

    def _time_at_or_after(self, hour: int, minute: int, second: int) -> tuple[int, int, int] | None:
        hours, minutes, seconds = self._hours, self._minutes, self._seconds
        i = bisect_left(hours, hour)
        if i < len(hours) and hours[i] == hour:
            j = bisect_left(minutes, minute)
            if j < len(minutes) and minutes[j] == minute:
                k = bisect_left(seconds, second)
                if k < len(seconds):
                    return hour, minute, seconds[k]
                j += 1
            if j < len(minutes):
                return hour, minutes[j], seconds[0]
            i += 1
        if i < len(hours):
            return hours[i], minutes[0], seconds[0]
        return None

    def _time_at_or_before(self, hour: int, minute: int, second: int) -> tuple[int, int, int] | None:
        hours, minutes, seconds = self._hours, self._minutes, self._seconds
        i = bisect_right(hours, hour) - 1
        if i >= 0 and hours[i] == hour:
            j = bisect_right(minutes, minute) - 1
            if j >= 0 and minutes[j] == minute:
                k = bisect_right(seconds, second) - 1
                if k >= 0:
                    return hour, minute, seconds[k]
                j -= 1
            if j >= 0:
                return hour, minutes[j], seconds[-1]
            i -= 1
        if i >= 0:
            return hours[i], minutes[-1], seconds[-1]
        return None

    def next_naive(self, start: datetime) -> datetime | None:
        """The first wall-clock time at or after naive ``start`` (whole seconds) that matches."""
        months = self._months
        for year in self._years[bisect_left(self._years, start.year) :]:
            same_year = year == start.year
            for month in months[bisect_left(months, start.month) if same_year else 0 :]:
                same_month = same_year and month == start.month
                days = self.matching_days(year, month)
                for day in days[bisect_left(days, start.day) if same_month else 0 :]:
                    if same_month and day == start.day:
                        time = self._time_at_or_after(start.hour, start.minute, start.second)
                        if time is None:
                            continue
                        return datetime(year, month, day, *time)
                    return datetime(year, month, day, self._hours[0], self._minutes[0], self._seconds[0])
        return None

    def prev_naive(self, end: datetime) -> datetime | None:
        """The last wall-clock time at or before naive ``end`` (whole seconds) that matches."""
        months = self._months
        for year in reversed(self._years[: bisect_right(self._years, end.year)]):
            same_year = year == end.year
            for month in reversed(months[: bisect_right(months, end.month) if same_year else len(months)]):
                same_month = same_year and month == end.month
                days = self.matching_days(year, month)
                for day in reversed(days[: bisect_right(days, end.day) if same_month else len(days)]):
                    if same_month and day == end.day:
                        time = self._time_at_or_before(end.hour, end.minute, end.second)
                        if time is None:
                            continue
                        return datetime(year, month, day, *time)
                    return datetime(year, month, day, self._hours[-1], self._minutes[-1], self._seconds[-1])
        return None

    # ------------------------------------------------------------- time zones

    def _instants(self, wall: datetime, tz: tzinfo) -> tuple[datetime, ...]:
        """UTC instants at which wall-clock time ``wall`` fires in ``tz``."""
        first = wall.replace(tzinfo=tz).utcoffset()
        second = wall.replace(tzinfo=tz, fold=1).utcoffset()
        assert first is not None and second is not None  # tz is a real zone: checked by the callers
        earliest = (wall - first).replace(tzinfo=_UTC)
        if first <= second:
            # Unambiguous, or skipped by a DST gap: fold=0 reads it with the offset from before the
            # change, which is the wall time shifted forward by the gap.
            return (earliest,)
        # Repeated by a DST change: the second occurrence, as Airflow's make_aware picks (fold=1),
        # and both when the schedule fires every hour.
        latest = (wall - second).replace(tzinfo=_UTC)
        return (earliest, latest) if self._every_hour else (latest,)

    @staticmethod
    def _offsets_near(instants: tuple[datetime, ...], tz: tzinfo) -> set[timedelta]:
        """UTC offsets in force within a DST change's reach of ``instants``."""
        offsets = set()
        for instant in instants:
            for shift in (-_DST_WINDOW, timedelta(0), _DST_WINDOW):
                offset = (instant + shift).astimezone(tz).utcoffset()
                assert offset is not None
                offsets.add(offset)
        return offsets

    def _walls_between(self, low: datetime, high: datetime) -> Iterator[datetime]:
        """Matching wall times strictly after naive ``low`` and strictly before naive ``high``."""
        candidate = self.next_naive(low.replace(microsecond=0) + _ONE_SECOND)
        while candidate is not None and candidate < high:
            yield candidate
            candidate = self.next_naive(candidate + _ONE_SECOND)

    def next_fire(self, after: datetime) -> datetime | None:
        """The first fire time strictly after ``after``, in the time zone of ``after``.

        ``after`` must be timezone-aware; the expression is evaluated on its zone's wall clock.
        Returns None when the expression never fires again (year field exhausted, or past 2099).
        """
        tz, after_utc = _aware(after, "after")
        wall = after_utc.astimezone(tz).replace(tzinfo=None, fold=0)
        # The first matching wall time after ``after``'s own gives a fire time ...
        best: datetime | None = None
        candidate = self.next_naive(wall.replace(microsecond=0) + _ONE_SECOND)
        while best is None and candidate is not None:
            best = min((i for i in self._instants(candidate, tz) if i > after_utc), default=None)
            candidate = self.next_naive(candidate + _ONE_SECOND)
        if best is None:
            return None
        # ... but across a DST change an earlier one can come from another wall time. Any instant in
        # (after, best) read with offset o has its wall time in (after + o, best + o): search those.
        offsets = self._offsets_near((after_utc, best), tz)
        for offset in offsets if len(offsets) > 1 else ():  # one offset: wall order is time order
            low = (after_utc + offset).replace(tzinfo=None)
            for candidate in self._walls_between(low, (best + offset).replace(tzinfo=None)):
                for instant in self._instants(candidate, tz):
                    if after_utc < instant < best:
                        best = instant
        return best.astimezone(tz)

    def prev_fire(self, before: datetime) -> datetime | None:
        """The last fire time strictly before ``before``, in the time zone of ``before`` (None if none)."""
        tz, before_utc = _aware(before, "before")
        wall = before_utc.astimezone(tz).replace(tzinfo=None, fold=0)
        best: datetime | None = None
        candidate = self.prev_naive(wall.replace(microsecond=0) if wall.microsecond else wall - _ONE_SECOND)
        while best is None and candidate is not None:
            best = max((i for i in self._instants(candidate, tz) if i < before_utc), default=None)
            candidate = self.prev_naive(candidate - _ONE_SECOND)
        if best is None:
            return None
        offsets = self._offsets_near((best, before_utc), tz)
        for offset in offsets if len(offsets) > 1 else ():
            low = (best + offset).replace(tzinfo=None)
            for candidate in self._walls_between(low, (before_utc + offset).replace(tzinfo=None)):
                for instant in self._instants(candidate, tz):
                    if best < instant < before_utc:
                        best = instant
        return best.astimezone(tz)

    def iter_fires(self, after: datetime, until: datetime | None = None) -> Iterator[datetime]:
        """Fire times strictly after ``after`` and, when ``until`` is given, not later than it."""
        current = self.next_fire(after)
        while current is not None and (until is None or current <= until):
            yield current
            current = self.next_fire(current)


def _aware(value: datetime, name: str) -> tuple[tzinfo, datetime]:
    """Return the zone of ``value`` and ``value`` as a plain stdlib UTC datetime."""
    tz = value.tzinfo
    if tz is None or value.utcoffset() is None:
        raise ValueError(f"{name} must be timezone-aware, got {value!r}")
    utc = value.astimezone(_UTC)
    return tz, datetime(
        utc.year, utc.month, utc.day, utc.hour, utc.minute, utc.second, utc.microsecond, tzinfo=_UTC
    )


@lru_cache(maxsize=256)
def _parse_cached(expression: str) -> QuartzCron:
    return QuartzCron._build(expression)
