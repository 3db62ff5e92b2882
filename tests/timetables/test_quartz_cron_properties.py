"""Property tests: QuartzCron's fire times never go backwards and never skip a fire time.

The reference model here is deliberately naive: it restates Quartz's documented rules one day
and one token at a time and enumerates every matching wall-clock second in a window, then maps
wall times to instants by the DST policy the module documents.
"""

from __future__ import annotations

import calendar
import itertools
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

from croniter import croniter
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from airflow_provider_hopsjobs.timetables.quartz_cron import QuartzCron

UTC = timezone.utc
MONTHS = ["JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"]
DAYS = ["SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"]
PROPERTY_SETTINGS = settings(
    max_examples=60,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow],
    derandomize=True,
)


# ----------------------------------------------------------------------------- reference model


def ref_values(token: str, low: int, high: int, names: list[str] | None = None) -> set[int]:
    """Quartz's addToSet, restated: ranges may overflow past the field's end and wrap."""

    def number(text: str) -> int:
        if names and text.upper() in names:
            return names.index(text.upper()) + low
        return int(text)

    span = high - low + 1
    base, _, step_text = token.partition("/")
    step = int(step_text) if step_text else 1
    if base in ("*", ""):
        start, stop = low, high
    elif "-" in base:
        first, last = base.split("-")
        start, stop = number(first), number(last)
    else:
        start = number(base)
        stop = high if step_text else start
    limit = stop + span if stop < start else stop
    return {low + (i - low) % span for i in range(start, limit + 1, step)}


def ref_field(text: str, low: int, high: int, names: list[str] | None = None) -> set[int]:
    return set().union(*(ref_values(token, low, high, names) for token in text.split(",")))


def quartz_weekday(day: date) -> int:
    return (day.weekday() + 1) % 7 + 1  # SUN=1 .. SAT=7


def nearest_weekday(year: int, month: int, day: int) -> int:
    """The Monday-Friday day of the month closest to ``day`` (never another month)."""
    last = calendar.monthrange(year, month)[1]
    weekdays = [d for d in range(1, last + 1) if date(year, month, d).weekday() < 5]
    return min(weekdays, key=lambda d: (abs(d - day), d))


def ref_day_matches(dom: str, dow: str, day: date) -> bool:  # noqa: PLR0911
    last = calendar.monthrange(day.year, day.month)[1]
    if dow == "?":
        for token in dom.upper().split(","):
            if token == "L" or token.startswith("L-"):
                weekday = token.endswith("W")
                offset = int(token[2:].rstrip("W")) if token.startswith("L-") else 0
                target = last - offset
                if target < 1:
                    continue
                if weekday and day.day == nearest_weekday(day.year, day.month, target):
                    return True
                if not weekday and day.day == target:
                    return True
            elif token == "LW":
                if day.day == nearest_weekday(day.year, day.month, last):
                    return True
            elif token.endswith("W"):
                n = int(token[:-1])
                if n <= last and day.day == nearest_weekday(day.year, day.month, n):
                    return True
            elif day.day in ref_values(token, 1, 31):
                return True
        return False
    token = dow.upper()
    if token.endswith("L") and token != "L":
        target = ref_values(token[:-1], 1, 7, DAYS).pop()
        return quartz_weekday(day) == target and day.day + 7 > last
    if "#" in token:
        which, nth = token.split("#")
        target = ref_values(which, 1, 7, DAYS).pop()
        return quartz_weekday(day) == target and (day.day - 1) // 7 + 1 == int(nth)
    if token == "L":
        return quartz_weekday(day) == 7
    return quartz_weekday(day) in ref_field(dow, 1, 7, DAYS)


@dataclass
class Reference:
    fields: list[str]

    def __post_init__(self) -> None:
        f = self.fields
        self.seconds = sorted(ref_field(f[0], 0, 59))
        self.minutes = sorted(ref_field(f[1], 0, 59))
        self.hours = sorted(ref_field(f[2], 0, 23))
        self.months = ref_field(f[4], 1, 12, MONTHS)
        self.years = ref_field(f[6], 1970, 2099) if len(f) == 7 else set(range(1970, 2100))

    def walls(self, start: date, days: int) -> Iterator[datetime]:
        """Every matching wall-clock time on ``days`` days from ``start``, in order."""
        for offset in range(days):
            day = start + timedelta(days=offset)
            if day.year not in self.years or day.month not in self.months:
                continue
            if not ref_day_matches(self.fields[3], self.fields[5], day):
                continue
            for h, m, s in itertools.product(self.hours, self.minutes, self.seconds):
                yield datetime(day.year, day.month, day.day, h, m, s)


def ref_instants(wall: datetime, tz: ZoneInfo, every_hour: bool) -> list[datetime]:
    first = wall.replace(tzinfo=tz)
    second = wall.replace(tzinfo=tz, fold=1)
    ambiguous = first.utcoffset() != second.utcoffset() and first.astimezone(UTC) < second.astimezone(UTC)
    if not ambiguous:
        return [first.astimezone(UTC)]
    if every_hour:
        return [first.astimezone(UTC), second.astimezone(UTC)]
    return [second.astimezone(UTC)]


# ----------------------------------------------------------------------------- strategies


def plain_token(
    low: int, high: int, names: list[str] | None = None, wrap: bool = True
) -> st.SearchStrategy[str]:
    def value(v: int) -> st.SearchStrategy[str]:
        if names:
            return st.sampled_from([str(v), names[v - low]])
        return st.just(str(v))

    values = st.integers(low, high)
    single = values.flatmap(value)
    pair = st.tuples(values, values).filter(lambda p: wrap or p[0] <= p[1])
    ranged = pair.flatmap(lambda p: st.tuples(value(p[0]), value(p[1]))).map("-".join)
    step = st.integers(1, high)
    stepped = st.one_of(
        st.tuples(values, step).map(lambda t: f"{t[0]}/{t[1]}"),
        step.map(lambda s: f"*/{s}"),
        st.tuples(ranged, step).map(lambda t: f"{t[0]}/{t[1]}"),
    )
    return st.one_of(single, ranged, stepped, st.just("*"))


def field(low: int, high: int, names: list[str] | None = None, wrap: bool = True) -> st.SearchStrategy[str]:
    return st.lists(plain_token(low, high, names, wrap), min_size=1, max_size=3).map(",".join)


dom_special = st.one_of(
    st.just("L"),
    st.just("LW"),
    st.integers(0, 30).map(lambda n: f"L-{n}"),
    st.integers(0, 30).map(lambda n: f"L-{n}W"),
    st.integers(1, 31).map(lambda n: f"{n}W"),
)
dom_field = st.lists(st.one_of(plain_token(1, 31), dom_special), min_size=1, max_size=3).map(",".join)
dow_field = st.one_of(
    field(1, 7, DAYS),
    st.integers(1, 7).map(lambda n: f"{n}L"),
    st.sampled_from(DAYS).map(lambda n: f"{n}L"),
    st.tuples(st.integers(1, 7), st.integers(1, 5)).map(lambda t: f"{t[0]}#{t[1]}"),
    st.just("L"),
)
seconds_field = st.sampled_from(["0", "0,30", "15/20", "59", "10-12", "58-1"])


@st.composite
def expressions(draw: st.DrawFn) -> list[str]:
    hours = draw(field(0, 23))
    minutes = draw(st.sampled_from(["0", "*/15", "5-7", "50-10/20", "0,30", "*"]))
    # "*" minutes with "*" hours is 1,440 fires a day: keep the windows small by capping that case
    if minutes == "*" and len(ref_field(hours, 0, 23)) > 4:
        minutes = "0"
    if draw(st.booleans()):
        dom, dow = draw(dom_field), "?"
    else:
        dom, dow = "?", draw(dow_field)
    fields = [draw(seconds_field), minutes, hours, dom, draw(field(1, 12, MONTHS)), dow]
    if draw(st.booleans()):
        first = draw(st.integers(2024, 2040))
        fields.append(
            draw(st.sampled_from([f"{first}-{first + 8}", f"{first}/3", "*", f"{first},{first + 5}"]))
        )
    return fields


starts = st.datetimes(min_value=datetime(2024, 1, 1), max_value=datetime(2032, 12, 31))


# ----------------------------------------------------------------------------- properties


def _take(cron: QuartzCron, after: datetime, count: int) -> list[datetime]:
    out: list[datetime] = []
    current: datetime | None = after
    while len(out) < count:
        assert current is not None
        current = cron.next_fire(current)
        if current is None:
            break
        out.append(current)
    return out


@PROPERTY_SETTINGS
@given(expressions(), starts)
def test_next_fire_matches_brute_force_in_utc(fields, start):
    cron = QuartzCron.parse(" ".join(fields))
    after = start.replace(tzinfo=UTC)
    ref = Reference(fields)
    window_days = 366 * 9
    expected = [
        w.replace(tzinfo=UTC)
        for w in itertools.islice(
            (w for w in ref.walls(after.date(), window_days) if w.replace(tzinfo=UTC) > after), 40
        )
    ]
    actual = _take(cron, after, 40)
    horizon = after + timedelta(days=window_days - 1)
    assert [a for a in actual if a < horizon] == [e for e in expected if e < horizon]


@PROPERTY_SETTINGS
@given(expressions(), starts)
def test_prev_and_next_bracket_any_instant(fields, start):
    cron = QuartzCron.parse(" ".join(fields))
    instant = start.replace(tzinfo=UTC)
    following = cron.next_fire(instant)
    preceding = cron.prev_fire(instant)
    if following is not None:
        assert following > instant
        before_following = cron.prev_fire(following)
        if before_following is not None:
            # nothing fires strictly between the fire before ``following`` and ``following``
            assert before_following <= instant
            assert cron.next_fire(before_following) == following
    if preceding is not None:
        assert preceding < instant
        # from the last fire before ``instant`` the next one is ``instant`` itself or ``following``
        assert cron.next_fire(preceding) in (instant, following)


ZONES = ["Europe/Amsterdam", "America/New_York", "Australia/Lord_Howe", "Europe/Dublin", "America/Santiago"]
around_changes = st.builds(
    datetime,
    st.integers(2024, 2027),
    st.sampled_from([3, 4, 9, 10, 11]),
    st.integers(1, 28),
    st.integers(0, 23),
)
dst_expressions = st.one_of(
    st.sampled_from(
        [
            ["0", "0", "*", "*", "*", "?"],
            ["0", "*/15", "*", "*", "*", "?"],
            ["0", "30", "*", "?", "*", "SUN"],
            ["0", "30", "2", "*", "*", "?"],
            ["0", "0,30", "1-3", "*", "*", "?"],
            ["0", "0", "0/2", "?", "*", "1-7"],
            ["30", "59", "1,2", "L", "*", "?"],
        ]
    ),
    expressions().map(lambda f: f[:6]),
)


@PROPERTY_SETTINGS
@given(dst_expressions, st.sampled_from(ZONES), around_changes)
def test_fires_across_dst_changes(fields, zone, start):
    tz = ZoneInfo(zone)
    cron = QuartzCron.parse(" ".join(fields))
    after = start.replace(tzinfo=tz)
    ref = Reference(fields)
    every_hour = len(ref.hours) == 24
    window_days = 120
    instants = sorted(
        {
            i
            for wall in ref.walls(start.date() - timedelta(days=1), window_days)
            for i in ref_instants(wall, tz, every_hour)
            if i > after
        }
    )[:30]
    actual = _take(cron, after, 30)
    horizon = (start + timedelta(days=window_days - 3)).replace(tzinfo=tz)
    # compare in UTC: PEP 495 makes a datetime inside a DST fold unequal to any other zone's
    got = [a.astimezone(UTC) for a in actual if a < horizon]
    assert got == [i for i in instants if i < horizon]
    in_utc = [a.astimezone(UTC) for a in actual]
    assert all(earlier < later for earlier, later in itertools.pairwise(in_utc))
    assert all(a.tzinfo is tz for a in actual)


# Where croniter and Quartz mean the same thing (no wrap-around, no a-a ranges, no special day
# tokens), the two must agree once day-of-week is renumbered (Quartz 1-7 -> Unix 0-6).


def _unix_dow(token: str) -> str:
    def shift(text: str) -> str:
        return text if text in ("*", "") else str(int(text) - 1)

    base, slash, step = token.partition("/")
    if "-" in base:
        first, last = base.split("-")
        base = f"{shift(first)}-{shift(last)}"
    else:
        base = shift(base)
        if slash and base != "*":
            base = f"{base}-6"  # croniter's own "a/s" shape differs for day-of-week; spell the range out
    return f"{base}{slash}{step}"


simple_field = lambda low, high: st.lists(  # noqa: E731
    plain_token(low, high, wrap=False).filter(lambda t: not _is_equal_range(t)), min_size=1, max_size=3
).map(",".join)


def _is_equal_range(token: str) -> bool:
    base = token.partition("/")[0]
    if "-" not in base:
        return False
    first, last = base.split("-")
    return first == last


@PROPERTY_SETTINGS
@given(
    st.sampled_from(["0", "0,30", "*/20", "5-7"]),
    simple_field(0, 59),
    simple_field(0, 23),
    st.booleans(),
    simple_field(1, 31),
    simple_field(1, 7),
    simple_field(1, 12),
    starts,
)
def test_agrees_with_croniter_on_shared_syntax(seconds, minutes, hours, by_dom, dom, dow, month, start):  # noqa: PLR0917
    quartz = f"{seconds} {minutes} {hours} {dom if by_dom else '?'} {month} {'?' if by_dom else dow}"
    unix_dow = "*" if by_dom else ",".join(_unix_dow(t) for t in dow.split(","))
    unix = f"{seconds} {minutes} {hours} {dom if by_dom else '*'} {month} {unix_dow}"
    after = start.replace(tzinfo=UTC)
    reference = croniter(unix, after, second_at_beginning=True, max_years_between_matches=80)
    expected = list(itertools.islice(reference.all_next(datetime), 15))
    actual = _take(QuartzCron.parse(quartz), after, 15)
    assert actual[: len(expected)] == expected


# Dense schedules right at the changes: the wall-time search must not skip or repeat a second.
TRANSITIONS = [
    ("Europe/Amsterdam", datetime(2024, 3, 31, 2)),
    ("Europe/Amsterdam", datetime(2024, 10, 27, 2)),
    ("America/New_York", datetime(2024, 3, 10, 2)),
    ("America/New_York", datetime(2024, 11, 3, 1)),
    ("Australia/Lord_Howe", datetime(2024, 4, 7, 1, 30)),
    ("Australia/Lord_Howe", datetime(2024, 10, 6, 2)),
    ("Europe/Dublin", datetime(2024, 3, 31, 1)),
    ("Europe/Dublin", datetime(2024, 10, 27, 1)),
    ("America/Santiago", datetime(2024, 4, 6, 23)),
    ("America/Santiago", datetime(2024, 9, 8, 0)),
]
dense_expressions = st.sampled_from(
    [
        ["*/20", "*", "*", "*", "*", "?"],
        ["15", "*/7", "*", "?", "*", "*"],
        ["*/10", "*", "1-3", "*", "*", "?"],
        ["0", "0/5", "0-2,23", "*", "*", "?"],
        ["0,30", "59", "*", "L,6-8,27", "*", "?"],
        ["0", "*/30", "1", "*", "*", "?"],
    ]
)


@PROPERTY_SETTINGS
@given(dense_expressions, st.sampled_from(TRANSITIONS), st.integers(-3 * 3600, 3 * 3600), st.booleans())
def test_dense_schedules_at_dst_changes(fields, transition, seconds, second_fold):
    zone, change = transition
    tz = ZoneInfo(zone)
    moment = (change + timedelta(seconds=seconds)).replace(tzinfo=tz, fold=int(second_fold))
    moment_utc = moment.astimezone(UTC)
    cron = QuartzCron.parse(" ".join(fields))
    ref = Reference(fields)
    every_hour = len(ref.hours) == 24
    first_day = change.date() - timedelta(days=1)
    window_start = datetime.combine(first_day, datetime.min.time()).replace(tzinfo=tz).astimezone(UTC)
    window_end = window_start + timedelta(days=3) - timedelta(hours=3)
    instants = sorted({i for wall in ref.walls(first_day, 3) for i in ref_instants(wall, tz, every_hour)})
    expected_next = [i for i in instants if moment_utc < i < window_end][:10]
    actual_next = [a.astimezone(UTC) for a in _take(cron, moment, 10)]
    assert [a for a in actual_next if a < window_end] == expected_next
    window_floor = window_start + timedelta(hours=3)
    expected_prev = [i for i in instants if window_floor < i < moment_utc][-1:]
    previous = cron.prev_fire(moment)
    if expected_prev:
        assert previous is not None and previous.astimezone(UTC) == expected_prev[0]
    else:
        assert previous is None or previous.astimezone(UTC) <= window_floor
