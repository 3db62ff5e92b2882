"""Connection parsing: every mistake is reported before a request is sent."""

from __future__ import annotations

import json

import pytest
from airflow.sdk import Connection

from airflow_provider_hopsjobs.clock import SYSTEM_CLOCK
from airflow_provider_hopsjobs.errors import HopsworksConfigError
from airflow_provider_hopsjobs.hooks.connection import settings_from_connection
from airflow_provider_hopsjobs.hooks.hopsworks import HopsworksHook
from airflow_provider_hopsjobs.hooks.retry_policy import RetryPolicy
from tests.hooks.conftest import API_KEY, connection_json


def conn(**kwargs) -> Connection:
    values = {"conn_id": "hw", "conn_type": "hopsworks", "host": "h.example.com", "password": API_KEY}
    values.update(kwargs)
    if isinstance(values.get("extra"), dict):
        values["extra"] = json.dumps(values["extra"])
    return Connection(**values)


def test_defaults_https_443_verify_on():
    s = settings_from_connection(conn(extra={"project": "demo"}))
    assert (s.scheme, s.host, s.port, s.verify) == ("https", "h.example.com", 443, True)
    assert s.api_url == "https://h.example.com/hopsworks-api/api"
    assert s.authorization == f"ApiKey {API_KEY}"
    assert (s.project_name, s.project_id) == ("demo", None)
    assert (s.connect_timeout, s.read_timeout) == (10.0, 60.0)
    assert s.retry_policy == RetryPolicy()


@pytest.mark.parametrize(
    ("host", "schema", "port", "expected"),
    [
        ("https://h.example.com", None, None, "https://h.example.com"),
        ("http://127.0.0.1", None, 8181, "http://127.0.0.1:8181"),
        ("127.0.0.1", "http", 5000, "http://127.0.0.1:5000"),
        ("h.example.com:8443", None, None, "https://h.example.com:8443"),
        ("https://h.example.com:8443/", "https", None, "https://h.example.com:8443"),
        ("h.example.com", "HTTPS", 443, "https://h.example.com"),
    ],
)
def test_host_with_or_without_scheme(host, schema, port, expected):
    s = settings_from_connection(conn(host=host, schema=schema, port=port, extra={"project": "p"}))
    assert s.base_url == expected


def test_extras_timeouts_verify_and_retry():
    s = settings_from_connection(
        conn(
            extra={
                "project_id": "7",
                "verify": "/etc/ssl/ca.pem",
                "connect_timeout": "3",
                "read_timeout": 12,
                "retry_attempts": "2",
                "retry_max_seconds": 9,
            }
        )
    )
    assert (s.project_id, s.project_name) == (7, None)
    assert s.verify == "/etc/ssl/ca.pem"
    assert (s.connect_timeout, s.read_timeout) == (3.0, 12.0)
    assert (s.retry_policy.max_attempts, s.retry_policy.max_total_seconds) == (2, 9.0)


@pytest.mark.parametrize(
    ("value", "expected"), [("false", False), (False, False), ("True", True), (None, True)]
)
def test_verify_flag(value, expected):
    assert settings_from_connection(conn(extra={"project": "p", "verify": value})).verify is expected


def test_prefixed_extra_keys_from_older_forms():
    s = settings_from_connection(conn(extra={"extra__hopsworks__project": "legacy"}))
    assert s.project_name == "legacy"


def test_project_argument_overrides_extra():
    s = settings_from_connection(conn(extra={"project": "a", "project_id": 3}), project="b")
    assert (s.project_name, s.project_id) == ("b", None)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"host": None, "extra": {"project": "p"}}, "has no host"),
        ({"host": "  ", "extra": {"project": "p"}}, "has no host"),
        ({"password": None, "extra": {"project": "p"}}, "has no API key"),
        ({"password": "", "extra": {"project": "p"}}, "has no API key"),
        ({"extra": {}}, "names no project"),
        ({"extra": {"project": "p"}, "schema": "ftp"}, "schema must be"),
        ({"host": "ftp://h", "extra": {"project": "p"}}, "host scheme"),
        ({"host": "http://h", "schema": "https", "extra": {"project": "p"}}, "host says"),
        ({"extra": {"project": "p", "read_timeout": "soon"}}, "read_timeout"),
        ({"extra": {"project": "p", "connect_timeout": 0}}, "greater than 0"),
        ({"extra": {"project_id": "seven"}}, "project_id"),
        ({"extra": {"project": "p", "retry_attempts": "many"}}, "retry_attempts"),
        ({"extra": {"project": "p", "retry_attempts": 0}}, "at least 1"),
        ({"extra": "{not json"}, "not valid JSON"),
    ],
)
def test_bad_connections_raise_clear_errors(kwargs, message):
    with pytest.raises(HopsworksConfigError, match=message) as err:
        settings_from_connection(conn(**kwargs))
    assert API_KEY not in str(err.value)


def test_settings_repr_hides_the_key():
    s = settings_from_connection(conn(extra={"project": "p"}))
    assert API_KEY not in repr(s)


def test_hook_init_sends_nothing_and_missing_key_fails_before_any_request(monkeypatch, requests_mock):
    monkeypatch.setenv("AIRFLOW_CONN_HOPSWORKS_DEFAULT", connection_json(password=""))
    hook = HopsworksHook()  # nothing is read or sent here
    assert requests_mock.call_count == 0
    assert hook.clock is SYSTEM_CLOCK  # the one time seam, real unless a test replaces it
    with pytest.raises(HopsworksConfigError, match="no API key"):
        hook.get_job("etl")
    assert requests_mock.call_count == 0


def test_missing_project_fails_before_any_request(monkeypatch, requests_mock):
    monkeypatch.setenv("AIRFLOW_CONN_HOPSWORKS_DEFAULT", connection_json(extra={}))
    with pytest.raises(HopsworksConfigError, match="names no project"):
        HopsworksHook().start_execution("etl")
    assert requests_mock.call_count == 0


def test_hook_retry_policy_argument_overrides_connection(monkeypatch):
    monkeypatch.setenv(
        "AIRFLOW_CONN_HOPSWORKS_DEFAULT",
        connection_json(extra={"project": "p", "retry_attempts": 9}),
    )
    assert HopsworksHook(retry_policy={"max_attempts": 2}).retry_policy.max_attempts == 2
    assert HopsworksHook().retry_policy.max_attempts == 9


def test_ui_field_behaviour_matches_provider_info():
    behaviour = HopsworksHook.get_ui_field_behaviour()
    assert behaviour["hidden_fields"] == ["login"]
    assert behaviour["relabeling"]["password"] == "API key"
