"""The API key stays secret: masked for Airflow's logs, absent from our own messages and errors."""

from __future__ import annotations

import pytest
import requests

from airflow_provider_hopsjobs.errors import HopsworksApiError, HopsworksError
from airflow_provider_hopsjobs.hooks.hopsworks import HopsworksHook
from tests.hooks.conftest import API_KEY, BASE, P

SECRET_PART = API_KEY.split(".", 1)[1]


def test_key_is_registered_with_the_secrets_masker(hook):
    try:
        from airflow.sdk._shared.secrets_masker import redact
    except ImportError:  # Airflow 3.0
        from airflow.sdk.execution_time.secrets_masker import redact

    hook.settings  # noqa: B018 - reading the connection registers the key
    assert API_KEY not in str(redact(f"header Authorization: ApiKey {API_KEY}"))


def leaks(text: str) -> bool:
    return API_KEY in text or SECRET_PART in text


@pytest.mark.parametrize(
    "mock_kwargs",
    [
        {"status_code": 401, "json": {"errorCode": 320012, "errorMsg": "Invalid or incorrect API key."}},
        {"status_code": 403, "text": "<html>Forbidden</html>"},
        {"status_code": 500, "text": "Internal error"},
        {"exc": requests.ConnectionError("connection reset by peer")},
        {"exc": requests.ReadTimeout("read timed out")},
    ],
)
def test_errors_and_logs_never_contain_the_key(hook, project, requests_mock, logged, mock_kwargs):
    requests_mock.get(f"{P}/jobs/etl", **mock_kwargs)
    with pytest.raises(HopsworksError) as err:
        hook.get_job("etl")
    chain = [err.value]
    while chain[-1].__cause__ is not None:
        chain.append(chain[-1].__cause__)
    for exc in chain:
        assert not leaks(str(exc)), exc
        assert not leaks(repr(exc)), exc
    # The hook's own log lines go through Airflow's structlog to the console, stdlib ones to caplog.
    text = logged()
    if mock_kwargs.get("status_code", 500) >= 500:
        assert "retrying in" in text  # the retry warnings were emitted, and checked
    assert not leaks(text)


def test_failed_start_and_upload_do_not_carry_the_key(hook, project, requests_mock, logged, tmp_path):
    requests_mock.get(f"{P}/jobs/etl/executions", json={"href": "x", "count": 0})
    requests_mock.post(
        f"{P}/jobs/etl/executions", status_code=400, json={"errorCode": 130040, "errorMsg": "quota"}
    )
    with pytest.raises(HopsworksApiError) as err:
        hook.start_execution("etl", "--token not-a-secret")
    assert not leaks(str(err.value))
    (tmp_path / "a.py").write_text("x")
    requests_mock.get(f"{P}/dataset/Resources", json={"attributes": {}})
    requests_mock.post(
        f"{P}/dataset/upload/Resources", status_code=400, json={"errorCode": 110012, "errorMsg": "x"}
    )
    with pytest.raises(HopsworksApiError) as err:
        hook.upload_file(tmp_path / "a.py", "Resources")
    assert not leaks(str(err.value))
    assert not leaks(logged())


def test_connection_test_and_settings_repr_hide_the_key(hook, requests_mock):
    requests_mock.get(f"{BASE}/project/getProjectInfo/demo", exc=requests.ConnectionError("refused"))
    ok, message = hook.test_connection()
    assert not ok
    assert not leaks(message)
    assert not leaks(repr(hook.settings))


def test_hook_repr_and_session_headers(hook, project, requests_mock):
    requests_mock.get(f"{P}/jobs/etl", json={})
    hook.get_job("etl")
    # The key travels per request only; the pooled session does not keep it as a default header.
    assert "Authorization" not in hook.get_conn().headers
    assert not leaks(repr(hook))
    assert isinstance(hook, HopsworksHook)


def test_only_the_key_is_registered_for_masking_not_the_project(hook, monkeypatch):
    """The project name is not a secret: the provider registers the API key and nothing else.

    (Airflow itself registers every string of a connection's extra when it reads one, which
    is where "Skipping masking for a secret as it's too short" comes from for a short name.)
    """
    from airflow_provider_hopsjobs.hooks import connection

    registered: list[str] = []
    monkeypatch.setattr(connection, "_mask", registered.append)
    hook.settings  # noqa: B018 - reading the connection registers what is secret
    assert registered == [API_KEY]
