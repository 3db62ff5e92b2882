"""Error responses become the provider's exceptions with Hopsworks' own words."""

from __future__ import annotations

import json

import pytest

from airflow_provider_hopsjobs.errors import HopsworksApiError, HopsworksNotFoundError
from airflow_provider_hopsjobs.hooks.errors import api_error_from_response, response_error, summarise_body
from airflow_provider_hopsjobs.hooks.retry_policy import TransientHttpError


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


@pytest.mark.parametrize("status", [200, 201, 202, 204, 299])
def test_a_success_is_no_error(status):
    assert response_error(status, b"", "GET /x", retry_after="5") is None


@pytest.mark.parametrize(
    ("status", "retry_after", "expected_wait"),
    [(429, "3", 3.0), (429, None, None), (500, None, None), (503, "1.5", 1.5), (599, "soon", None)],
)
def test_retryable_statuses_become_transient_with_the_servers_wait(status, retry_after, expected_wait):
    err = response_error(status, b"<html><body>Busy</body></html>", "GET /x", retry_after=retry_after)
    assert type(err) is TransientHttpError
    assert (err.status_code, err.retry_after) == (status, expected_wait)
    assert str(err) == f"HTTP {status}: non-JSON body: 'Busy'"


@pytest.mark.parametrize("status", [301, 302, 307, 308])
def test_a_redirect_is_a_configuration_error_not_followed(status):
    err = response_error(status, b"", "GET /hopsworks-api/api/x")
    assert type(err) is HopsworksApiError
    assert err.status_code == status
    assert str(err) == (
        f"Hopsworks answered GET /hopsworks-api/api/x with a redirect (HTTP {status}); "
        "check the connection's host and scheme"
    )


def test_other_refusals_are_mapped_like_api_error_from_response():
    payload = body(errorCode=130009, errorMsg="Job not found.")
    err = response_error(404, payload, "GET /x", retry_after="9")
    expected = api_error_from_response(404, payload, "GET /x")
    assert type(err) is HopsworksNotFoundError
    assert (str(err), err.error_code, err.status_code) == (str(expected), 130009, 404)
    assert type(response_error(400, body(errorCode=130040), "POST /x")) is HopsworksApiError
