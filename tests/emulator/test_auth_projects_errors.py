"""Authentication, project lookup, the SDK's login calls and error bodies.

Sources: Hopsworks' ``ApiKeyFilter``, ``ProjectService`` and ``RESTCodes``, and what the official SDK
(hopsworks 5.2.1) asks of a server when it logs in.
"""

from __future__ import annotations

import requests

from airflow_provider_hopsjobs.emulator.handle import EmulatorHandle
from tests.emulator.conftest import Api

CHALLENGE = 'Bearer realm="Cauth Realm"'


def _raw(emulator: EmulatorHandle, path: str, headers: dict[str, str] | None = None) -> requests.Response:
    return requests.get(f"{emulator.api_url}/{path}", headers=headers or {}, timeout=10)


def test_missing_authorization_is_401_200003_with_challenge(api: Api) -> None:
    """No header -> 401 {"errorCode":200003,"errorMsg":"Authorization header not set."}.

    Source: Hopsworks' ``ApiKeyFilter``.
    """
    response = _raw(api.emulator, f"project/{api.emulator.project_id}/jobs")
    assert response.status_code == 401
    assert response.json() == {"errorCode": 200003, "errorMsg": "Authorization header not set."}
    assert response.headers["WWW-Authenticate"] == CHALLENGE


def test_each_bad_key_gets_its_own_code(api: Api) -> None:
    """Unknown scheme 200003, no dot / wrong secret 320012, unknown prefix 320013.

    Source: Hopsworks' ``ApiKeyFilter``.
    """
    emulator = api.emulator
    path = f"project/{emulator.project_id}/jobs"
    prefix = emulator.api_key.split(".", 1)[0]
    cases = {
        "Basic dXNlcjpwYXNz": (200003, "Invalidated Api key."),
        "ApiKey nodothere": (320012, "Invalid or incorrect API key."),
        f"ApiKey {prefix}.wrongsecret": (320012, "Invalid or incorrect API key."),
        "ApiKey unknownprefix.secret": (320013, "API key not found in the database"),
    }
    for header, (code, message) in cases.items():
        response = _raw(emulator, path, {"Authorization": header})
        assert response.status_code == 401, header
        assert response.json()["errorCode"] == code, header
        assert response.json()["errorMsg"] == message, header
        assert response.headers["WWW-Authenticate"] == CHALLENGE


def test_bearer_with_a_valid_key_is_accepted(api: Api) -> None:
    """``Bearer`` is accepted as well as ``ApiKey``.

    Source: Hopsworks' JWT filter (the ``Bearer`` header).
    """
    response = _raw(
        api.emulator, "project/getProjectInfo/demo", {"Authorization": f"Bearer {api.emulator.api_key}"}
    )
    assert response.status_code == 200


def test_key_without_the_scope_is_403_320004(api: Api) -> None:
    """A key lacking scope JOB gets 403/320004 on job endpoints, but may read its project.

    Source: the ``@ApiKeyRequired`` scopes of Hopsworks' REST resources.
    """
    key = api.emulator.create_api_key(["PROJECT"])
    headers = {"Authorization": f"ApiKey {key}"}
    denied = _raw(api.emulator, f"project/{api.emulator.project_id}/jobs", headers)
    assert denied.status_code == 403
    assert denied.json() == {"errorCode": 320004, "errorMsg": "No valid scope found for this invocation"}
    assert denied.headers["WWW-Authenticate"] == CHALLENGE
    assert _raw(api.emulator, "project/getProjectInfo/demo", headers).status_code == 200


def test_project_info_by_name_and_unknown_project(api: Api) -> None:
    """getProjectInfo returns projectId/projectName; unknown names and ids are 404/150004.

    Source: the Hopsworks REST resource ``ProjectService`` (``getProjectByName``).
    """
    info = api.get(f"{api.base}/project/getProjectInfo/demo")
    assert info.status_code == 200
    body = info.json()
    assert body["projectId"] == api.emulator.project_id
    assert body["projectName"] == "demo"
    missing = api.get(f"{api.base}/project/getProjectInfo/nosuchproject")
    assert missing.status_code == 404
    assert missing.json()["errorCode"] == 150004
    assert missing.json()["errorMsg"] == "Project wasn't found."
    assert api.get(f"{api.base}/project/999999/jobs").json()["errorCode"] == 150004
    by_id = api.get(f"{api.base}/project/{api.emulator.project_id}")
    assert by_id.json()["projectName"] == "demo"


def test_what_the_official_sdk_needs_to_log_in(api: Api) -> None:
    """Versions list with hopsworks 5.2.x, memberships, credentials, unknown variable 404 JSON.

    Source: what the official SDK's ``hopsworks.login`` asks of a server.
    """
    versions = api.get(f"{api.base}/variables/versions").json()
    assert any(v["software"] == "hopsworks" and v["version"].startswith("5.2.") for v in versions)
    unknown = api.get(f"{api.base}/variables/upload_policy")
    assert unknown.status_code == 404
    assert "errorCode" in unknown.json()
    memberships = api.get(f"{api.base}/project").json()
    assert memberships[0]["user"]["username"]
    assert any(m["project"]["name"] == "demo" for m in memberships)
    credentials = api.get("credentials").json()
    assert set(credentials) >= {"kStore", "tStore", "password", "caChain", "clientCert", "clientKey"}
    import base64

    base64.b64decode(credentials["kStore"], validate=True)
    base64.b64decode(credentials["tStore"], validate=True)


def test_unknown_route_wrong_method_and_bad_id_are_json_120004(api: Api) -> None:
    """JAX-RS errors are 120004 with "HTTP <code> <reason>" and always JSON, never HTML.

    Source: Hopsworks' ``RESTCodes`` (WEBAPPLICATION) and ``ThrowableMapper``.
    """
    unknown = api.get("no/such/route")
    assert unknown.status_code == 404
    assert unknown.json() == {
        "errorCode": 120004,
        "errorMsg": "Web application exception occurred",
        "usrMsg": "HTTP 404 Not Found",
    }
    wrong_method = api.request("PATCH", "jobs/anything")
    assert wrong_method.status_code == 405
    assert wrong_method.json()["errorCode"] == 120004
    assert wrong_method.json()["usrMsg"] == "HTTP 405 Method Not Allowed"
    not_an_id = api.get("jobs/anything/executions/notanumber")
    assert not_an_id.status_code == 404
    assert not_an_id.json()["errorCode"] == 120004
    outside_api = requests.get(f"{api.emulator.base_url}/index.html", timeout=10)
    assert outside_api.status_code == 404
    assert outside_api.headers["content-type"] == "application/json"


def test_malformed_json_is_400_120004_and_loses_nothing(api: Api, job_name: str) -> None:
    """Bad JSON gets Hopsworks' error body, and the stored job is untouched.

    Source: Hopsworks' ``RESTCodes``, and an issue of this project.
    """
    created = api.python_job(job_name, "print(1)\n", default_args="keep me")
    response = api.put(
        f"jobs/{job_name}",
        data=b'{"type": "pythonJobConfiguration",',
        headers={"Content-Type": "application/json"},
    )
    assert response.status_code == 400
    assert response.json()["errorCode"] == 120004
    wrong_type = api.put(
        f"jobs/{job_name}", data=b"type=python", headers={"Content-Type": "application/x-www-form-urlencoded"}
    )
    assert wrong_type.status_code == 415
    assert wrong_type.json()["errorCode"] == 120004
    assert api.get(f"jobs/{job_name}").json()["config"] == created["config"]
