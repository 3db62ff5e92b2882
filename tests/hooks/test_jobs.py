"""Jobs, project resolution, URLs and the connection test, against recorded Hopsworks answers."""

from __future__ import annotations

import pytest

from airflow_provider_hopsjobs.errors import (
    HopsworksApiError,
    HopsworksApiUnavailableError,
    HopsworksConfigError,
    HopsworksNotFoundError,
)
from airflow_provider_hopsjobs.hooks.base import KEY_REFUSED_HINT
from airflow_provider_hopsjobs.hooks.hopsworks import HopsworksHook
from tests.hooks.conftest import API_KEY, BASE, PROJECT_ID, P, connection_json

JOB_NOT_FOUND = {"errorCode": 130009, "errorMsg": "Job not found.", "usrMsg": "jobId:etl"}
PY_DEFAULT = {
    "type": "pythonJobConfiguration",
    "environmentName": "pandas-training-pipeline",
    "resourceConfig": {"cores": 1.0, "memory": 2048, "gpus": 0},
    "logRedirection": True,
}


def job_dto(config: dict, name: str = "etl", job_type: str = "PYTHON") -> dict:
    return {
        "href": f"{P}/jobs/{name}",
        "id": 5,
        "name": name,
        "creationTime": "2024-05-01T10:00:00.123Z",
        "config": config,
        "jobType": job_type,
        "creator": {"href": f"{BASE}/users/1"},
    }


def test_project_is_resolved_once_per_hook(hook, project, requests_mock):
    requests_mock.get(f"{P}/jobs/etl", json=job_dto(PY_DEFAULT))
    hook.get_job("etl")
    hook.get_job("etl")
    assert hook.project_id == PROJECT_ID
    assert hook.project_name == "demo"
    assert project.call_count == 1


def test_project_id_extra_skips_the_lookup(monkeypatch, requests_mock, sleeps):
    monkeypatch.setenv("AIRFLOW_CONN_HOPSWORKS_DEFAULT", connection_json(extra={"project_id": 77}))
    requests_mock.get(f"{BASE}/project/77/jobs/etl", json=job_dto(PY_DEFAULT))
    hook = HopsworksHook()
    assert hook.get_job("etl")["name"] == "etl"
    assert requests_mock.call_count == 1
    # The name is only looked up when needed (app paths), by id.
    requests_mock.get(f"{BASE}/project/77", json={"projectId": 77, "projectName": "seventy"})
    assert hook.project_name == "seventy"


def test_every_request_carries_the_api_key_header(hook, project, requests_mock):
    requests_mock.get(f"{P}/jobs/etl", json=job_dto(PY_DEFAULT))
    hook.get_job("etl")
    assert all(r.headers["Authorization"] == f"ApiKey {API_KEY}" for r in requests_mock.request_history)


def test_unknown_project_is_a_clear_not_found(hook, requests_mock):
    requests_mock.get(
        f"{BASE}/project/getProjectInfo/demo",
        status_code=404,
        json={"errorCode": 150004, "errorMsg": "Project wasn't found."},
    )
    with pytest.raises(HopsworksNotFoundError, match="no project 'demo'") as err:
        hook.get_job("etl")
    assert err.value.error_code == 150004


def test_test_connection_reports_the_project(hook, project):
    assert hook.test_connection() == (True, "Connected to project demo (id 119)")


def test_test_connection_failure_never_shows_the_key(hook, requests_mock):
    requests_mock.get(
        f"{BASE}/project/getProjectInfo/demo",
        status_code=401,
        json={"errorCode": 320012, "errorMsg": "Invalid or incorrect API key."},
    )
    ok, message = hook.test_connection()
    assert not ok
    assert "320012" in message
    assert message.endswith(KEY_REFUSED_HINT)
    assert "API key (password) field" in KEY_REFUSED_HINT
    assert API_KEY not in message
    assert API_KEY.split(".")[1] not in message


def test_test_connection_with_bad_config(monkeypatch):
    monkeypatch.setenv("AIRFLOW_CONN_HOPSWORKS_DEFAULT", connection_json(host=""))
    ok, message = HopsworksHook().test_connection()
    assert not ok
    assert "no host" in message


def test_ui_urls(hook, project):
    assert hook.job_url("etl") == "https://hopsworks.example.com/p/119/jobs/named/etl"
    assert hook.execution_url("etl", 3) == "https://hopsworks.example.com/p/119/jobs/named/etl/executions"


def test_ui_urls_keep_a_non_default_port(monkeypatch, requests_mock):
    monkeypatch.setenv(
        "AIRFLOW_CONN_HOPSWORKS_DEFAULT", connection_json(host="127.0.0.1", port=8181, schema="http")
    )
    requests_mock.get(
        "http://127.0.0.1:8181/hopsworks-api/api/project/getProjectInfo/demo", json={"projectId": 1}
    )
    assert HopsworksHook().job_url("a") == "http://127.0.0.1:8181/p/1/jobs/named/a"


def test_get_job_and_not_found(hook, project, requests_mock):
    requests_mock.get(f"{P}/jobs/etl", json=job_dto(PY_DEFAULT))
    requests_mock.get(f"{P}/jobs/nope", status_code=404, json=JOB_NOT_FOUND)
    assert hook.get_job("etl")["jobType"] == "PYTHON"
    with pytest.raises(HopsworksNotFoundError) as err:
        hook.get_job("nope")
    assert (err.value.status_code, err.value.error_code, err.value.usr_msg) == (404, 130009, "jobId:etl")
    assert hook.job_exists("etl") is True
    assert hook.job_exists("nope") is False


def test_job_exists_does_not_hide_other_errors(hook, project, requests_mock):
    requests_mock.get(
        f"{P}/jobs/etl", status_code=403, json={"errorCode": 320004, "errorMsg": "No valid scope"}
    )
    with pytest.raises(HopsworksApiError, match="320004"):
        hook.job_exists("etl")


def test_invalid_job_name_is_rejected_before_any_request(hook, requests_mock):
    with pytest.raises(HopsworksConfigError, match="Invalid job name"):
        hook.get_job("my job")
    with pytest.raises(HopsworksConfigError):
        hook.create_or_update_job("bad/name", "PYTHON", app_path="a.py")
    assert requests_mock.call_count == 0


def test_unknown_job_type_is_rejected_before_any_request(hook, requests_mock):
    with pytest.raises(HopsworksConfigError, match="Unknown job_type"):
        hook.create_or_update_job("etl", "FORTRAN", app_path="a.py")
    with pytest.raises(HopsworksConfigError, match="needs main_class"):
        hook.build_job_config("etl", "SPARK", app_path="a.jar")
    assert requests_mock.call_count == 0


def test_list_jobs_pages_through_everything(hook, project, requests_mock):
    jobs = [job_dto(PY_DEFAULT, name=f"j{i}") for i in range(5)]
    requests_mock.get(
        f"{P}/jobs",
        [
            {"json": {"href": "x", "items": jobs[:2], "count": 5}},
            {"json": {"href": "x", "items": jobs[2:4], "count": 5}},
            {"json": {"href": "x", "items": jobs[4:], "count": 5}},
        ],
    )
    result = hook.list_jobs(sort_by="name:asc", filter_by=["jobtype:PYTHON"], expand=["creator"], page_size=2)
    assert [j["name"] for j in result] == ["j0", "j1", "j2", "j3", "j4"]
    queries = [r.qs for r in requests_mock.request_history if r.path.endswith("/jobs")]
    assert [q["offset"] for q in queries] == [["0"], ["2"], ["4"]]
    assert queries[0]["limit"] == ["2"]
    assert queries[0]["sort_by"] == ["name:asc"]
    assert queries[0]["filter_by"] == ["jobtype:python"]  # requests-mock lower-cases query values
    assert queries[0]["expand"] == ["creator"]


def test_list_jobs_repeats_filter_by(hook, project, requests_mock):
    requests_mock.get(f"{P}/jobs", json={"href": "x", "count": 0})
    assert hook.list_jobs(filter_by=["jobtype:PYTHON", "name:etl"]) == []
    assert requests_mock.last_request.qs["filter_by"] == ["jobtype:python", "name:etl"]


def test_empty_collection_without_items_is_an_empty_list(hook, project, requests_mock):
    requests_mock.get(f"{P}/jobs", json={"href": f"{P}/jobs", "count": 0})
    assert hook.list_jobs() == []


def test_bad_sort_is_an_api_error_not_a_missing_job(hook, project, requests_mock):
    requests_mock.get(
        f"{P}/jobs",
        status_code=404,
        json={"errorCode": 120004, "errorMsg": "Web application exception", "usrMsg": "HTTP 404 Not Found"},
    )
    with pytest.raises(HopsworksApiError) as err:
        hook.list_jobs(sort_by="unsupported:desc")
    assert not isinstance(err.value, HopsworksNotFoundError)


def test_default_config_from_system_endpoint(hook, project, requests_mock):
    requests_mock.get(f"{P}/jobs/python/configuration", json=PY_DEFAULT)
    assert hook.get_default_job_config("python") == PY_DEFAULT


def test_default_config_falls_back_to_project_saved(hook, project, requests_mock):
    requests_mock.get(
        f"{P}/jobs/ray/configuration",
        status_code=404,
        json={"errorCode": 120004, "errorMsg": "x", "usrMsg": "Could not find the environment"},
    )
    requests_mock.get(
        f"{P}/jobconfig/RAY", json={"jobType": "RAY", "config": {"type": "rayJobConfiguration", "w": 1}}
    )
    assert hook.get_default_job_config("RAY") == {"type": "rayJobConfiguration", "w": 1}


def test_default_config_falls_back_to_bare_type(hook, project, requests_mock):
    requests_mock.get(
        f"{P}/jobs/python/configuration", status_code=422, json={"errorCode": 120001, "errorMsg": "x"}
    )
    requests_mock.get(f"{P}/jobconfig/PYTHON", status_code=404, json={"errorCode": 130009, "errorMsg": "x"})
    assert hook.get_default_job_config("PYTHON") == {"type": "pythonJobConfiguration"}


def test_create_new_job_puts_the_bare_normalised_config(hook, project, requests_mock):
    requests_mock.get(f"{P}/jobs/etl", status_code=404, json=JOB_NOT_FOUND)
    requests_mock.get(f"{P}/jobs/python/configuration", json=PY_DEFAULT)
    put = requests_mock.put(f"{P}/jobs/etl", status_code=201, json=job_dto(PY_DEFAULT))
    result = hook.create_or_update_job(
        "etl", "PYTHON", app_path="Resources/jobs/etl/etl.py", default_args="-x 1"
    )
    assert result.action == "created"
    assert result.job["name"] == "etl"
    body = put.last_request.json()
    assert body["type"] == "pythonJobConfiguration"  # the bare config, no {name, config} wrapper
    assert body["appName"] == "etl"
    assert body["appPath"] == "hdfs:///Projects/demo/Resources/jobs/etl/etl.py"
    assert body["defaultArgs"] == "-x 1"
    assert body["resourceConfig"] == PY_DEFAULT["resourceConfig"]
    assert put.last_request.headers["Content-Type"] == "application/json"
    assert result.changes["appPath"] == (None, body["appPath"])


def test_pyspark_job_gets_python_runner(hook, project, requests_mock):
    requests_mock.get(f"{P}/jobs/sp", status_code=404, json=JOB_NOT_FOUND)
    requests_mock.get(
        f"{P}/jobs/pyspark/configuration",
        json={"type": "sparkJobConfiguration", "spark.executor.memory": 4096},
    )
    put = requests_mock.put(f"{P}/jobs/sp", status_code=201, json=job_dto({}, name="sp", job_type="PYSPARK"))
    hook.create_or_update_job("sp", "PYSPARK", app_path="Resources/sp.py")
    body = put.last_request.json()
    assert body["mainClass"] == "org.apache.spark.deploy.PythonRunner"
    assert body["appPath"] == "hdfs:///Projects/demo/Resources/sp.py"
    assert body["spark.executor.memory"] == 4096


def test_unchanged_job_sends_no_put(hook, project, requests_mock):
    server_config = {
        **PY_DEFAULT,
        "appName": "etl",
        "appPath": "hdfs:///Projects/demo/Resources/etl.py",
        "defaultArgs": "-x 1",
        "jobType": "PYTHON",
        "someServerDefault": 42,
    }
    requests_mock.get(f"{P}/jobs/etl", json=job_dto(server_config))
    put = requests_mock.put(f"{P}/jobs/etl", json={})
    result = hook.create_or_update_job("etl", "PYTHON", app_path="Resources/etl.py", default_args="-x 1")
    assert result.action == "unchanged"
    assert result.changes == {}
    assert put.call_count == 0


def test_changed_job_is_updated_over_its_current_config(hook, project, requests_mock):
    server_config = {
        **PY_DEFAULT,
        "appName": "etl",
        "appPath": "hdfs:///Projects/demo/Resources/etl.py",
        "logRedirection": False,  # changed by someone in the UI; the DAG does not mention it
        "jobType": "PYTHON",
    }
    requests_mock.get(f"{P}/jobs/etl", json=job_dto(server_config))
    put = requests_mock.put(f"{P}/jobs/etl", status_code=200, json=job_dto(server_config))
    result = hook.create_or_update_job(
        "etl", "PYTHON", app_path="Resources/etl.py", config={"resourceConfig": {"memory": 4096}}
    )
    assert result.action == "updated"
    assert result.changes == {"resourceConfig.memory": (2048, 4096)}
    body = put.last_request.json()
    assert body["logRedirection"] is False
    assert body["resourceConfig"] == {"cores": 1.0, "memory": 4096, "gpus": 0}


def test_job_type_change_rebuilds_from_the_new_default(hook, project, requests_mock):
    requests_mock.get(f"{P}/jobs/etl", json=job_dto({**PY_DEFAULT, "appName": "etl"}))
    requests_mock.get(f"{P}/jobs/pyspark/configuration", json={"type": "sparkJobConfiguration"})
    put = requests_mock.put(f"{P}/jobs/etl", status_code=200, json=job_dto({}, job_type="PYSPARK"))
    result = hook.create_or_update_job("etl", "PYSPARK", app_path="Resources/etl.py")
    assert result.action == "updated"
    assert result.changes["type"] == ("pythonJobConfiguration", "sparkJobConfiguration")
    assert "resourceConfig" not in put.last_request.json()


def test_build_job_config_reads_only(hook, project, requests_mock):
    requests_mock.get(f"{P}/jobs/python/configuration", json=PY_DEFAULT)
    config = hook.build_job_config("etl", "PYTHON", app_path="Resources/etl.py")
    assert config["appPath"] == "hdfs:///Projects/demo/Resources/etl.py"
    assert {r.method for r in requests_mock.request_history} == {"GET"}


def test_server_side_name_rejection_is_reported(hook, project, requests_mock):
    requests_mock.get(f"{P}/jobs/etl", status_code=404, json=JOB_NOT_FOUND)
    requests_mock.get(f"{P}/jobs/python/configuration", json=PY_DEFAULT)
    requests_mock.put(
        f"{P}/jobs/etl",
        status_code=422,
        json={
            "errorCode": 120001,
            "errorMsg": "Illegal argument.",
            "usrMsg": "Job configuration was not provided.",
        },
    )
    with pytest.raises(HopsworksApiError, match="Job configuration was not provided"):
        hook.create_or_update_job("etl", "PYTHON", app_path="a.py")


def test_delete_job(hook, project, requests_mock):
    delete = requests_mock.delete(f"{P}/jobs/etl", status_code=204)
    hook.delete_job("etl")
    assert delete.call_count == 1
    requests_mock.delete(f"{P}/jobs/gone", status_code=404, json=JOB_NOT_FOUND)
    with pytest.raises(HopsworksNotFoundError):
        hook.delete_job("gone")


def test_server_errors_are_retried_then_reported_unavailable(hook, project, requests_mock, sleeps):
    get = requests_mock.get(
        f"{P}/jobs/etl", status_code=503, text="<html><body><h1>503 Service Unavailable</h1></body></html>"
    )
    with pytest.raises(HopsworksApiUnavailableError, match="503 Service Unavailable") as err:
        hook.get_job("etl")
    assert get.call_count == 6
    assert len(sleeps) == 5
    assert API_KEY not in str(err.value)


def test_429_retry_after_is_honoured_by_the_hook(hook, project, requests_mock, sleeps):
    requests_mock.get(
        f"{P}/jobs/etl",
        [
            {"status_code": 429, "headers": {"Retry-After": "4"}, "json": {}},
            {"status_code": 200, "json": job_dto(PY_DEFAULT)},
        ],
    )
    assert hook.get_job("etl")["id"] == 5
    assert sleeps == [4.0]


def test_redirects_are_not_followed(hook, project, requests_mock):
    requests_mock.get(
        f"{P}/jobs/etl", status_code=302, headers={"Location": "https://elsewhere.example.com/"}
    )
    with pytest.raises(HopsworksApiError, match="redirect"):
        hook.get_job("etl")
