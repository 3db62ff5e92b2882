"""Turn a Hopsworks error response into one of the provider's exceptions.

Hopsworks answers errors with ``{"errorCode", "errorMsg", "usrMsg"}``; proxies and load
balancers in front of it answer with HTML or plain text. Both transports (requests and
aiohttp) hand the status, the ``Retry-After`` header and up to :data:`ERROR_BODY_LIMIT` bytes
of the body to :func:`response_error`, the one place that decides what an answer means, so
a DAG author sees the same error whichever path failed. Only the response is read: request
headers (and so the API key) never reach an exception.
"""

from __future__ import annotations

import html
import json
import re
from typing import Any

from airflow_provider_hopsjobs.errors import HopsworksApiError, HopsworksNotFoundError
from airflow_provider_hopsjobs.hooks.retry_policy import (
    TransientHttpError,
    is_retryable_status,
    parse_retry_after,
)

#: How much of an error answer's body is read: enough for any JSON error or a proxy's page.
ERROR_BODY_LIMIT = 64 * 1024

#: ``errorCode`` values that mean "this thing does not exist" even when sent with 400.
NOT_FOUND_CODES: frozenset[int] = frozenset(
    {
        130007,  # execution not found
        130009,  # job not found (the SDK accepts it with 400 as well)
        130042,  # job schedule not found
        150004,  # project not found
    }
)
#: 404s that are really rejected input: no such route, bad ``sort_by``/``filter_by``, bad date.
NOT_A_MISSING_THING_CODES: frozenset[int] = frozenset({120004, 310000})

_MAX_BODY_CHARS = 300
_TAG = re.compile(r"<[^>]+>")
_SCRIPT_OR_STYLE = re.compile(r"<(script|style)\b.*?</\1>", re.IGNORECASE | re.DOTALL)
_SPACE = re.compile(r"\s+")


def parse_error_body(body: bytes | str | None) -> dict[str, Any] | None:
    """Return Hopsworks' JSON error object, or None when the body is not one."""
    if not body:
        return None
    text = body.decode("utf-8", errors="replace") if isinstance(body, bytes) else body
    try:
        data = json.loads(text)
    except ValueError:
        return None
    return data if isinstance(data, dict) else None


def summarise_body(body: bytes | str | None) -> str:
    """A short, single-line rendering of a non-JSON body (HTML pages lose their markup)."""
    if not body:
        return ""
    text = body.decode("utf-8", errors="replace") if isinstance(body, bytes) else body
    text = _SCRIPT_OR_STYLE.sub(" ", text)
    text = html.unescape(_TAG.sub(" ", text))
    text = _SPACE.sub(" ", text).strip()
    if len(text) > _MAX_BODY_CHARS:
        text = text[: _MAX_BODY_CHARS - 3] + "..."
    return text


def _as_int(value: Any) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def describe_response(status_code: int, body: bytes | str | None) -> tuple[str, dict[str, Any]]:
    """Build the human message and the structured fields for an error response."""
    data = parse_error_body(body)
    error_code = _as_int(data.get("errorCode")) if data else None
    error_msg = str(data["errorMsg"]) if data and data.get("errorMsg") is not None else None
    usr_msg = str(data["usrMsg"]) if data and data.get("usrMsg") is not None else None
    parts = [f"HTTP {status_code}"]
    if error_code is not None:
        parts.append(f"errorCode {error_code}")
    detail = ": ".join(p for p in (error_msg, usr_msg) if p)
    if not detail and data is None:
        summary = summarise_body(body)
        detail = f"non-JSON body: {summary!r}" if summary else "empty body"
    message = ", ".join(parts) + (f": {detail}" if detail else "")
    fields = {
        "status_code": status_code,
        "error_code": error_code,
        "error_msg": error_msg,
        "usr_msg": usr_msg,
    }
    return message, fields


def is_not_found(status_code: int, error_code: int | None) -> bool:
    """Whether a rejected request means "the thing does not exist"."""
    if error_code in NOT_FOUND_CODES:
        return True
    return status_code == 404 and error_code not in NOT_A_MISSING_THING_CODES


def api_error_from_response(status_code: int, body: bytes | str | None, what: str) -> HopsworksApiError:
    """Map a 4xx response to :class:`HopsworksNotFoundError` or :class:`HopsworksApiError`.

    ``what`` names the call (method and API path) so the message says which request failed.
    """
    message, fields = describe_response(status_code, body)
    cls = HopsworksNotFoundError if is_not_found(status_code, fields["error_code"]) else HopsworksApiError
    return cls(f"Hopsworks rejected {what}: {message}", **fields)


def response_error(
    status_code: int, body: bytes | str | None, what: str, *, retry_after: str | None = None
) -> Exception | None:
    """What an answer means, for both transports: None for a success, else the exception to raise.

    - 429 and 5xx: :class:`TransientHttpError`, which the retry policy retries (waiting the
      server's ``Retry-After`` when it sent one);
    - 3xx: :class:`HopsworksApiError`; the hook follows no redirect, and Hopsworks' API sends
      none, so one means the connection's host or scheme is off;
    - any other 4xx: :func:`api_error_from_response`.

    :param body: the first :data:`ERROR_BODY_LIMIT` bytes of the body (read only for an error).
    :param retry_after: the answer's ``Retry-After`` header, as sent.
    """
    if status_code < 300:
        return None
    if is_retryable_status(status_code):
        return TransientHttpError(
            describe_response(status_code, body)[0],
            status_code=status_code,
            retry_after=parse_retry_after(retry_after),
        )
    if status_code < 400:
        return HopsworksApiError(
            f"Hopsworks answered {what} with a redirect (HTTP {status_code}); check the connection's "
            "host and scheme",
            status_code=status_code,
        )
    return api_error_from_response(status_code, body, what)
