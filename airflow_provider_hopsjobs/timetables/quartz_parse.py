"""Quartz cron grammar: the fields, their names and tokens, and the checks Quartz makes.

:func:`parse_expression` turns an expression into value sets per field and the day rules
(``L``, ``W``, ``#``) that :class:`~airflow_provider_hopsjobs.timetables.quartz_cron.QuartzCron`
then matches against the calendar. Every error names the field and the token
(:class:`QuartzCronError`); a 5-field Unix expression gets the Quartz expression it means.
The rules this reading follows are listed in :mod:`.quartz_cron`.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Final

from airflow_provider_hopsjobs.timetables.unix_cron import UntranslatableUnixCron, quartz_equivalent

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


def _unix_hint(fields: tuple[str, ...]) -> str:
    """What a 5-field Unix cron means in Quartz, or why it has no one Quartz equivalent."""
    try:
        quartz = quartz_equivalent(fields)
        parse_expression(quartz)
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
class DayRules:
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


@dataclass(frozen=True)
class ParsedCron:
    """What parsing found: the expression, its Quartz form and fields, value sets, day rules."""

    expression: str
    quartz_expression: str
    fields: tuple[str, ...]
    sets: list[frozenset[int]]
    days: DayRules


def parse_expression(expression: str) -> ParsedCron:
    """Check every field of ``expression`` and expand it into value sets and day rules."""
    parser = _Parser(expression)
    quartz, fields = _split(parser)
    upper = [field.upper() for field in fields]
    for text in fields:
        parser.as_written[text.upper()] = text
        parser.as_written.update((token.upper(), token) for token in text.split(","))
    if len(upper) == 6:
        upper.append("*")

    croniter_specs: list[list[str]] = [[] for _ in range(7)]
    own_sets: list[set[int]] = [set() for _ in range(7)]
    for field in (SECONDS, MINUTES, HOURS, MONTH, YEAR):
        for part in _tokens(parser, field, upper[field]):
            if part == "?":
                raise parser.error("'?' is allowed only in day-of-month and day-of-week", field, part)
            _plain_into(parser, field, part, croniter_specs, own_sets)

    dom, dow = upper[DAY_OF_MONTH], upper[DAY_OF_WEEK]
    _tokens(parser, DAY_OF_MONTH, dom)
    _tokens(parser, DAY_OF_WEEK, dow)
    if (dom == "?") == (dow == "?"):
        raise QuartzCronError(
            expression,
            "exactly one of the two must be '?' "
            f"(got day-of-month {fields[DAY_OF_MONTH]!r} and day-of-week {fields[DAY_OF_WEEK]!r})",
            field="day-of-month and day-of-week",
        )
    if dow == "?":
        day_rules = _day_of_month(parser, dom, croniter_specs, own_sets)
    else:
        day_rules = _day_of_week(parser, dow, croniter_specs, own_sets)

    try:
        expanded = _expand_with_croniter(croniter_specs)
    except ValueError as exc:  # pragma: no cover - tokens are validated before croniter sees them
        raise parser.error(f"croniter rejected the expression: {exc}") from exc
    sets = [expanded[i] | own_sets[i] for i in range(7)]
    if day_rules.by_day_of_month:
        day_rules = replace(day_rules, days=sets[DAY_OF_MONTH])
    elif day_rules.last_weekday is None and day_rules.nth_weekday is None:
        day_rules = replace(day_rules, weekdays=sets[DAY_OF_WEEK])
    return ParsedCron(expression, quartz, fields, sets, day_rules)


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


def _tokens(parser: _Parser, field: int, text: str) -> list[str]:
    tokens = text.split(",")
    for token in tokens:
        if not token:
            raise parser.error("empty list element (stray ',')", field, text)
    if len(tokens) > 1 and "?" in tokens:
        raise parser.error("'?' must be the whole field", field, "?")
    return tokens


def _plain_into(
    parser: _Parser, field: int, token: str, croniter_specs: list[list[str]], own_sets: list[set[int]]
) -> None:
    spec, values = parser.plain(field, token)
    if spec is not None:
        croniter_specs[field].append(spec)
    own_sets[field].update(values)


def _day_of_month(
    parser: _Parser, text: str, croniter_specs: list[list[str]], own_sets: list[set[int]]
) -> DayRules:
    last_offsets: list[int] = []
    nearest: list[int] = []
    last_nearest: list[int] = []
    for token in _tokens(parser, DAY_OF_MONTH, text):
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
            _plain_into(parser, DAY_OF_MONTH, token, croniter_specs, own_sets)
    return DayRules(
        by_day_of_month=True,
        last_offsets=tuple(sorted(set(last_offsets))),
        nearest_weekdays=tuple(sorted(set(nearest))),
        last_nearest_weekdays=tuple(sorted(set(last_nearest))),
    )


def _day_of_week(
    parser: _Parser, text: str, croniter_specs: list[list[str]], own_sets: list[set[int]]
) -> DayRules:
    tokens = _tokens(parser, DAY_OF_WEEK, text)
    special = [t for t in tokens if t == "L" or _DOW_LAST_RE.match(t) or "#" in t]
    if special and len(tokens) > 1:
        raise parser.error(
            "'L', 'nL' and 'n#k' must be the only value in day-of-week", DAY_OF_WEEK, special[0]
        )
    first = tokens[0]
    if first == "L":  # Quartz: "L" alone in day-of-week simply means 7 (SAT)
        own_sets[DAY_OF_WEEK].add(7)
        return DayRules(by_day_of_month=False)
    if (match := _DOW_LAST_RE.match(first)) is not None:
        return DayRules(by_day_of_month=False, last_weekday=parser.value(DAY_OF_WEEK, match["day"], first))
    if (match := _DOW_NTH_RE.match(first)) is not None:
        day = parser.value(DAY_OF_WEEK, match["day"], first)
        if not match["nth"] or not 1 <= int(match["nth"]) <= 5:
            raise parser.error("'#' must be followed by a number from 1 to 5", DAY_OF_WEEK, first)
        return DayRules(by_day_of_month=False, nth_weekday=(day, int(match["nth"])))
    for token in tokens:
        if "#" in token:
            raise parser.error("'#' must join one day and a number from 1 to 5 (6#3)", DAY_OF_WEEK, token)
        if _SPECIAL_DAY_RE.match(token):
            raise parser.error("'L-n' and 'W' are allowed only in day-of-month", DAY_OF_WEEK, token)
        _plain_into(parser, DAY_OF_WEEK, token, croniter_specs, own_sets)
    return DayRules(by_day_of_month=False)
