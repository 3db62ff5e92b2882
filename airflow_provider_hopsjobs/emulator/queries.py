"""``offset``/``limit``/``sort_by``/``filter_by``/``expand`` parsing with Hopsworks' answers.

Sort fields are matched case-insensitively against the *constant names* of the facade
enums (so ``creator_first_name`` works and the swagger's ``creator_firstname`` does not);
an unknown field, order or filter key is a parameter-conversion failure, which Jersey
answers 404/120004. A filter value that cannot be read (a bad date, an unknown state) is
the facade's ``InvalidQueryException``: 404/310000.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from starlette.datastructures import QueryParams

from airflow_provider_hopsjobs.emulator import errors
from airflow_provider_hopsjobs.emulator.clock import parse_filter_date
from airflow_provider_hopsjobs.emulator.states import ALL_STATES, FINAL_STATUSES, JOB_TYPES

JOB_SORTS = (
    "ID",
    "NAME",
    "DATE_CREATED",
    "JOBTYPE",
    "CREATOR",
    "CREATOR_FIRST_NAME",
    "CREATOR_LAST_NAME",
    "STATE",
    "FINALSTATUS",
    "PROGRESS",
    "SUBMISSIONTIME",
    "DURATION",
)
#: Job sorts that join the latest execution (jobs without executions drop out, as in SQL).
JOB_SORTS_ON_LATEST = frozenset({"STATE", "FINALSTATUS", "PROGRESS", "SUBMISSIONTIME", "DURATION"})
JOB_FILTERS = frozenset(
    {
        "JOBTYPE",
        "JOBTYPE_NEQ",
        "DATE_CREATED",
        "DATE_CREATED_GT",
        "DATE_CREATED_LT",
        "NAME",
        "CREATOR",
        "LATEST_EXECUTION",
        "LATEST_EXECUTION_STATE",
    }
)
EXECUTION_SORTS = (
    "ID",
    "SUBMISSIONTIME",
    "USER",
    "USER_FIRST_NAME",
    "USER_LAST_NAME",
    "STATE",
    "FINALSTATUS",
    "APPID",
    "PROGRESS",
    "DURATION",
)
EXECUTION_DEFAULT_DESC = frozenset({"SUBMISSIONTIME"})
EXECUTION_FILTERS = frozenset(
    {
        "STATE",
        "STATE_NEQ",
        "FINALSTATUS",
        "FINALSTATUS_NEQ",
        "SUBMISSIONTIME",
        "SUBMISSIONTIME_GT",
        "SUBMISSIONTIME_LT",
    }
)


def not_found() -> errors.ApiError:
    return errors.web_application_error(404)


def invalid_query(detail: str) -> errors.ApiError:
    return errors.ApiError(404, errors.INVALID_QUERY, detail)


@dataclass(frozen=True)
class Sort:
    field: str
    descending: bool


@dataclass(frozen=True)
class Filter:
    key: str
    value: str


@dataclass
class ListQuery:
    offset: int | None = None
    limit: int | None = None
    sorts: list[Sort] = field(default_factory=list)
    filters: list[Filter] = field(default_factory=list)


def _int_param(value: str | None) -> int | None:
    if value is None or value == "":
        return None
    try:
        number = int(value)
    except ValueError:
        raise not_found() from None
    return number if number > 0 else None


def parse_sorts(
    values: Iterable[str], allowed: Sequence[str], default_desc: frozenset[str] = frozenset()
) -> list[Sort]:
    sorts: list[Sort] = []
    for value in values:
        for item in value.split(","):
            if not item.strip():
                continue
            name, _, order = item.strip().partition(":")
            key = name.strip().upper()
            if key not in allowed:
                raise not_found()
            order_key = order.strip().upper()
            if order_key not in ("", "ASC", "DESC"):
                raise not_found()
            descending = order_key == "DESC" or (order_key == "" and key in default_desc)
            sorts.append(Sort(key, descending))
    return sorts


def parse_filters(values: Iterable[str], allowed: frozenset[str]) -> list[Filter]:
    filters: list[Filter] = []
    for value in values:
        key, sep, rest = value.partition(":")
        if not sep or key.strip().upper() not in allowed:
            raise not_found()
        filters.append(Filter(key.strip().upper(), rest))
    return filters


def parse_list_query(
    params: QueryParams | dict[str, list[str]],
    sorts: Sequence[str],
    filters: frozenset[str],
    default_desc: frozenset[str] = frozenset(),
) -> ListQuery:
    def get_all(name: str) -> list[str]:
        if isinstance(params, QueryParams):
            return params.getlist(name)
        return params.get(name, [])

    def get_one(name: str) -> str | None:
        found = get_all(name)
        return found[-1] if found else None

    return ListQuery(
        offset=_int_param(get_one("offset")),
        limit=_int_param(get_one("limit")),
        sorts=parse_sorts(get_all("sort_by"), sorts, default_desc),
        filters=parse_filters(get_all("filter_by"), filters),
    )


def paginate(items: list[Any], query: ListQuery) -> list[Any]:
    start = query.offset or 0
    end = start + query.limit if query.limit else None
    return items[start:end]


def apply_sorts(items: list[Any], sorts: Sequence[Sort], key_of: Callable[[Any, str], Any]) -> list[Any]:
    """Stable multi-key sort: last key first. ``None`` sorts before any value, as NULLs do."""
    result = list(items)
    for sort in reversed(sorts):

        def sort_key(item: Any, name: str = sort.field) -> tuple[int, Any]:
            return _null_first(key_of(item, name))

        result.sort(key=sort_key, reverse=sort.descending)
    return result


def _null_first(value: Any) -> tuple[int, Any]:
    return (0, "") if value is None else (1, value)


def list_values(value: str) -> list[str]:
    return [v.strip() for v in value.split(",") if v.strip()]


def state_values(value: str, known: frozenset[str]) -> set[str]:
    found = {v.upper() for v in list_values(value)}
    unknown = found - known
    if unknown:
        raise invalid_query(f"Unknown value(s): {', '.join(sorted(unknown))}")
    return found


def date_value(value: str) -> int:
    try:
        return parse_filter_date(value)
    except ValueError:
        raise invalid_query(f"Invalid date: {value}") from None


def job_type_values(value: str) -> set[str]:
    return state_values(value, JOB_TYPES)


def execution_state_values(value: str) -> set[str]:
    return state_values(value, ALL_STATES)


def final_status_values(value: str) -> set[str]:
    return state_values(value, FINAL_STATUSES)


# -- expand ------------------------------------------------------------------------------
_EXPAND_ITEM = re.compile(r"^\s*(\w+)\s*(?:\((.*)\))?\s*$")


@dataclass
class Expansion:
    name: str
    params: dict[str, list[str]] = field(default_factory=dict)


def parse_expand(values: Iterable[str], allowed: frozenset[str]) -> dict[str, Expansion]:
    """``expand=creator&expand=executions(offset=0;limit=1;sort_by=submissiontime:desc)``."""
    found: dict[str, Expansion] = {}
    for value in values:
        for item in _split_top_level(value):
            match = _EXPAND_ITEM.match(item)
            if match is None or match.group(1).lower() not in allowed:
                raise not_found()
            expansion = Expansion(match.group(1).lower())
            for part in (match.group(2) or "").split(";"):
                if not part.strip():
                    continue
                key, sep, val = part.partition("=")
                if not sep:
                    raise not_found()
                expansion.params.setdefault(key.strip(), []).append(val.strip())
            found[expansion.name] = expansion
    return found


def _split_top_level(value: str) -> list[str]:
    items, depth, current = [], 0, ""
    for char in value:
        if char == "(":
            depth += 1
        elif char == ")":
            depth -= 1
        if char == "," and depth == 0:
            items.append(current)
            current = ""
        else:
            current += char
    if current.strip():
        items.append(current)
    return items
