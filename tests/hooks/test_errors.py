"""Error responses become the provider's exceptions with Hopsworks' own words."""

from __future__ import annotations

import json

import pytest

from airflow_provider_hopsjobs.errors import HopsworksApiError, HopsworksNotFoundError
from airflow_provider_hopsjobs.hooks.errors import api_error_from_response, summarise_body


def body(**fields) -> bytes:
    return json.dumps(fields).encode()


def test_json_error_carries_code_message_and_user_message():
    err = api_error_from_response(
        400, body(errorCode=130006, errorMsg="Job name is invalid", usrMsg="bad name"), "PUT /x"
    )
    assert type(err) is HopsworksApiError
    assert (err.status_code, err.error_code, err.error_msg, err.usr_msg) == (
        400,
        130006,
        "Job name is invalid",
        "bad name",
    )
    assert str(err) == "Hopsworks rejected PUT /x: HTTP 400, errorCode 130006: Job name is invalid: bad name"


@pytest.mark.parametrize(
    ("status", "code", "cls"),
    [
        (404, 130009, HopsworksNotFoundError),  # job not found
        (400, 130009, HopsworksNotFoundError),  # the SDK accepts 400 with this code too
        (404, 130007, HopsworksNotFoundError),  # execution not found
        (404, 130042, HopsworksNotFoundError),  # schedule not found
        (404, 150004, HopsworksNotFoundError),  # project not found
        (404, 120004, HopsworksApiError),  # bad sort_by / no such route: rejected input
        (404, 310000, HopsworksApiError),  # bad date filter
        (404, None, HopsworksNotFoundError),
        (400, 130010, HopsworksApiError),
        (403, 320004, HopsworksApiError),
    ],
)
def test_not_found_mapping(status, code, cls):
    payload = body(errorCode=code, errorMsg="m") if code else b""
    assert type(api_error_from_response(status, payload, "GET /x")) is cls


def test_html_body_is_summarised_without_markup():
    page = (
        b"<html><head><style>p{}</style><title>502 Bad Gateway</title></head>"
        b"<body><h1>Bad Gateway</h1></body></html>"
    )
    err = api_error_from_response(502, page, "GET /x")
    assert "<" not in str(err)
    assert "502 Bad Gateway Bad Gateway" in str(err)
    assert err.error_code is None


def test_long_text_body_is_truncated_and_empty_body_named():
    assert len(summarise_body("x" * 5000)) == 300
    assert "empty body" in str(api_error_from_response(401, b"", "GET /x"))


def test_json_that_is_not_an_object_is_treated_as_text():
    err = api_error_from_response(400, b'["a"]', "GET /x")
    assert "non-JSON body" in str(err)
