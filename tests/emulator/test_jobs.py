"""Jobs: PUT with the bare config, computed jobType, names, listing, expand, default configs.

Sources: the Hopsworks REST resources ``JobsResource`` and ``DefaultJobConfigurationResource``,
the ``CustomJsonProvider`` JSON writer (nulls left out), and the ``hops job`` CLI's field notes
(hopsworks-cli ``docs/feature/jobs.md``).
"""

from __future__ import annotations

import re
import uuid
from typing import Any

import pytest

from tests.emulator.conftest import Api

ISO = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$")
PYSPARK_MAIN = "org.apache.spark.deploy.PythonRunner"


def _no_nulls(value: Any) -> bool:
    if isinstance(value, dict):
        return all(v is not None and _no_nulls(v) for v in value.values())
    if isinstance(value, list):
        return all(v is not None and _no_nulls(v) for v in value)
    return True


def _python_config(**extra: Any) -> dict[str, Any]:
    return {"type": "pythonJobConfiguration", "appPath": "Resources/jobs/x.py", **extra}


def test_put_bare_config_creates_201_with_location_then_updates_200(api: Api, job_name: str) -> None:
    """Body = config; 201 + odd Location, then 200; appName defaults to the URL name.

    Source: the Hopsworks REST resource ``JobsResource`` (``put``).
    """
    created = api.put(f"jobs/{job_name}", json=_python_config())
    assert created.status_code == 201
    body = created.json()
    assert created.headers["Location"] == f"{api.project}/jobs/{job_name}/{body['id']}"
    assert body["name"] == job_name
    assert body["config"]["appName"] == job_name
    assert body["jobType"] == "PYTHON"
    assert body["config"]["jobType"] == "PYTHON"
    assert ISO.match(body["creationTime"])
    assert set(body) >= {"id", "name", "creationTime", "config", "jobType", "creator"}
    updated = api.put(f"jobs/{job_name}", json=_python_config(defaultArgs="--x 1"))
    assert updated.status_code == 200
    assert updated.json()["id"] == body["id"]
    assert updated.json()["config"]["defaultArgs"] == "--x 1"


def test_wrapper_body_or_missing_or_unknown_type_is_422_120001(api: Api, job_name: str) -> None:
    """A {name, config} wrapper, no ``type`` or an unknown ``type`` -> 422/120001.

    Source: the Hopsworks REST resource ``JobsResource`` (``put``) and the ``hops job`` CLI's notes.
    """
    for body in (
        {"name": job_name, "config": _python_config()},
        {"appPath": "Resources/jobs/x.py"},
        {"type": "noSuchJobConfiguration", "appPath": "x"},
        ["not", "an", "object"],
    ):
        response = api.put(f"jobs/{job_name}", json=body)
        assert response.status_code == 422, body
        assert response.json() == {
            "errorCode": 120001,
            "errorMsg": "An argument was not provided or it was malformed.",
            "usrMsg": "Job configuration was not provided.",
        }
    assert api.get(f"jobs/{job_name}").status_code == 404


def test_body_app_name_wins_over_the_url(api: Api, job_name: str) -> None:
    """The job is created under the body's appName, not the URL name.

    Source: the Hopsworks REST resource ``JobsResource`` (``put``); a quirk kept on purpose.
    """
    other = f"{job_name}_body"
    response = api.put(f"jobs/{job_name}", json=_python_config(appName=other))
    assert response.status_code == 201
    assert response.json()["name"] == other
    assert api.get(f"jobs/{other}").status_code == 200
    assert api.get(f"jobs/{job_name}").status_code == 404


def test_spark_job_type_is_computed_from_main_class(api: Api, job_name: str) -> None:
    """PythonRunner -> PYSPARK, other class -> SPARK, body jobType ignored.

    Source: Hopsworks' entity ``SparkJobConfiguration`` (``getJobType``).
    """
    pyspark = api.put(
        f"jobs/{job_name}",
        json={
            "type": "sparkJobConfiguration",
            "appPath": "hdfs:///Projects/demo/Resources/a.py",
            "mainClass": PYSPARK_MAIN,
            "jobType": "SPARK",
        },
    )
    assert pyspark.status_code == 201
    assert pyspark.json()["jobType"] == "PYSPARK"
    assert pyspark.json()["config"]["jobType"] == "PYSPARK"
    spark = api.put(
        f"jobs/{job_name}",
        json={
            "type": "sparkJobConfiguration",
            "appPath": "hdfs:///Projects/demo/Resources/a.jar",
            "mainClass": "org.example.Main",
            "jobType": "PYSPARK",
        },
    )
    assert spark.status_code == 200
    assert spark.json()["jobType"] == "SPARK"


def test_spark_config_without_main_class_crashes_500_and_stores_nothing(api: Api, job_name: str) -> None:
    """PUT of a spark config lacking mainClass -> 500 'JobType.ordinal()' (and nothing is stored).

    Source: the ``hops job`` CLI's field notes, observed on a live cluster.
    """
    response = api.put(
        f"jobs/{job_name}",
        json={"type": "sparkJobConfiguration", "appPath": "hdfs:///Projects/demo/Resources/a.py"},
    )
    assert response.status_code == 500
    assert response.json()["errorCode"] == 120000
    assert 'because "jobType" is null' in response.json()["usrMsg"]
    assert api.get(f"jobs/{job_name}").status_code == 404


@pytest.mark.parametrize(
    "bad", ["with space", "a?b", "star*", "pipe|x", "é", "ümlaut", "dollar$", "semi;colon", "brack[et]"]
)
def test_forbidden_job_name_characters_are_400_130006(api: Api, bad: str) -> None:
    """Settings.FILENAME_DISALLOWED_CHARS + space -> 400/130006 (checked on the effective appName).

    Source: Hopsworks' ``HopsUtils.jobNameValidator``.
    """
    response = api.put("jobs/validname", json=_python_config(appName=bad))
    assert response.status_code == 400
    assert response.json()["errorCode"] == 130006
    assert api.get("jobs/validname").status_code == 404


def test_unknown_job_is_404_130009_and_delete_is_204(api: Api, job_name: str) -> None:
    """GET unknown -> 404/130009 usrMsg jobId:<name>; DELETE -> 204, then 404.

    Source: the Hopsworks REST resource ``JobsResource`` (get and delete).
    """
    missing = api.get(f"jobs/{job_name}")
    assert missing.status_code == 404
    assert missing.json() == {
        "errorCode": 130009,
        "errorMsg": "Job not found.",
        "usrMsg": f"jobId:{job_name}",
    }
    api.put(f"jobs/{job_name}", json=_python_config())
    deleted = api.delete(f"jobs/{job_name}")
    assert deleted.status_code == 204
    assert deleted.content == b""
    assert api.get(f"jobs/{job_name}").status_code == 404
    assert api.delete(f"jobs/{job_name}").json()["errorCode"] == 130009


def test_job_list_shape_paging_and_empty_collection_without_items(api: Api) -> None:
    """{href, items, count}; count ignores paging; no ``items`` key when empty.

    Source: the Hopsworks REST resource ``JobsResource`` (list).
    """
    tag = uuid.uuid4().hex[:8]
    names = [f"list_{tag}_{i}" for i in range(3)]
    for name in names:
        api.put(f"jobs/{name}", json=_python_config())
    page = api.get(
        "jobs", params={"filter_by": f"name:{tag}", "sort_by": "name:desc", "offset": 1, "limit": 1}
    ).json()
    assert page["href"] == f"{api.project}/jobs"
    assert page["count"] == 3
    assert [j["name"] for j in page["items"]] == [names[1]]
    everything = api.get("jobs", params={"filter_by": f"name:{tag}", "sort_by": "id"}).json()
    assert [j["name"] for j in everything["items"]] == names
    empty = api.get("jobs", params={"filter_by": "name:nothing_matches_this_name"}).json()
    assert empty == {"href": f"{api.project}/jobs", "count": 0}


def test_sort_and_filter_validation_quirks(api: Api) -> None:
    """Bad sort field/order, unknown filter key -> 404/120004; creator_firstname quirk.

    Source: Hopsworks' ``JobFacade.Sorts`` and ``JobFacade.Filters`` enums.
    """
    assert api.get("jobs", params={"sort_by": "creator_first_name:asc"}).status_code == 200
    for params in (
        {"sort_by": "unsupported:desc"},
        {"sort_by": "creator_firstname"},
        {"sort_by": "name:sideways"},
        {"filter_by": "colour:red"},
        {"offset": "abc"},
    ):
        response = api.get("jobs", params=params)
        assert response.status_code == 404, params
        assert response.json()["errorCode"] == 120004, params
    assert api.get("jobs", params={"filter_by": "jobtype:PYTHON,SPARK"}).status_code == 200


def test_filter_by_job_type_and_name_substring(api: Api) -> None:
    """jobtype (comma list) and jobtype_neq filters; ``name`` is a substring match.

    Source: Hopsworks' ``JobFacade.Filters`` enum.
    """
    tag = uuid.uuid4().hex[:8]
    api.put(f"jobs/py_{tag}", json=_python_config())
    api.put(
        f"jobs/sp_{tag}",
        json={
            "type": "sparkJobConfiguration",
            "appPath": "hdfs:///Projects/demo/Resources/a.jar",
            "mainClass": "a.B",
        },
    )
    only_spark = api.get("jobs", params=[("filter_by", f"name:{tag}"), ("filter_by", "jobtype:SPARK")]).json()
    assert [j["name"] for j in only_spark["items"]] == [f"sp_{tag}"]
    not_spark = api.get(
        "jobs", params=[("filter_by", f"name:{tag}"), ("filter_by", "jobtype_neq:SPARK")]
    ).json()
    assert [j["name"] for j in not_spark["items"]] == [f"py_{tag}"]


def test_expand_creator_and_executions(api: Api, job_name: str) -> None:
    """Without expand only hrefs; expand=creator adds names; expand=executions(...) embeds them.

    Source: Hopsworks' ``JobExpansions`` and ``JobsBuilder``.
    """
    api.python_job(job_name, "print('x')\n")
    plain = api.get(f"jobs/{job_name}").json()
    assert set(plain["creator"]) == {"href"}
    assert plain["executions"] == {"href": f"{api.project}/jobs/{job_name}/executions"}
    first = api.start(job_name)
    api.wait(job_name, first["id"])
    second = api.start(job_name)
    expanded = api.get(
        f"jobs/{job_name}",
        params=[
            ("expand", "creator"),
            ("expand", "executions(offset=0;limit=1;sort_by=submissiontime:desc)"),
        ],
    ).json()
    assert {"firstname", "lastname", "email", "username"} <= set(expanded["creator"])
    assert expanded["executions"]["count"] == 2
    assert [e["id"] for e in expanded["executions"]["items"]] == [second["id"]]
    assert api.get(f"jobs/{job_name}", params={"expand": "nonsense"}).status_code == 404
    api.wait(job_name, second["id"])


def test_null_fields_are_omitted_everywhere(api: Api, job_name: str) -> None:
    """A null in the PUT body is not echoed; no response carries a null.

    Source: Hopsworks' JSON writer ``CustomJsonProvider`` (NON_NULL).
    """
    body = api.put(f"jobs/{job_name}", json=_python_config(defaultArgs=None, files=None)).json()
    assert "defaultArgs" not in body["config"]
    assert "jobSchedule" not in body
    assert _no_nulls(body)
    assert _no_nulls(api.get("jobs", params={"expand": "creator"}).json())


def test_system_default_configurations(api: Api) -> None:
    """/jobs/{type}/configuration is lower-case; pyspark has no jobType; PYTHON is 404.

    Source: the Hopsworks REST resource ``JobsResource`` (``configuration``).
    """
    python = api.get("jobs/python/configuration").json()
    assert python["type"] == "pythonJobConfiguration"
    assert python["jobType"] == "PYTHON"
    pyspark = api.get("jobs/pyspark/configuration").json()
    assert pyspark["type"] == "sparkJobConfiguration"
    assert "jobType" not in pyspark
    assert "mainClass" not in pyspark
    ray = api.get("jobs/ray/configuration").json()
    assert ray["workerMinInstances"] == 1
    upper = api.get("jobs/PYTHON/configuration")
    assert upper.status_code == 404
    assert upper.json()["errorCode"] == 120004


def test_project_saved_default_configurations(api: Api) -> None:
    """/jobconfig/{TYPE} is 404 until saved; PUT 201 then 200; the system default uses it.

    Source: the Hopsworks REST resource ``DefaultJobConfigurationResource``.
    """
    missing = api.get("jobconfig/DOCKER")
    assert missing.status_code == 404
    assert missing.json()["errorCode"] == 150077
    config = {
        "type": "dockerJobConfiguration",
        "imagePath": "busybox:1",
        "resourceConfig": {"cores": 2.0, "memory": 1024, "gpus": 0},
    }
    assert api.put("jobconfig/DOCKER", json=config).status_code == 201
    assert api.put("jobconfig/docker", json=config).status_code == 200
    saved = api.get("jobconfig/DOCKER").json()
    assert saved["jobType"] == "DOCKER"
    assert saved["config"]["imagePath"] == "busybox:1"
    assert api.get("jobs/docker/configuration").json()["imagePath"] == "busybox:1"
    assert api.delete("jobconfig/DOCKER").status_code == 204
    assert api.get("jobconfig/DOCKER").status_code == 404
    assert "imagePath" not in api.get("jobs/docker/configuration").json()


@pytest.mark.parametrize(
    ("config", "job_type"),
    [
        ({"type": "pythonJobConfiguration", "appPath": "Resources/a.py"}, "PYTHON"),
        (
            {
                "type": "sparkJobConfiguration",
                "appPath": "hdfs:///Projects/demo/Resources/a.py",
                "mainClass": PYSPARK_MAIN,
            },
            "PYSPARK",
        ),
        (
            {
                "type": "sparkJobConfiguration",
                "appPath": "hdfs:///Projects/demo/Resources/a.jar",
                "mainClass": "a.Main",
            },
            "SPARK",
        ),
        ({"type": "rayJobConfiguration", "appPath": "Resources/a.py", "workerMinInstances": 1}, "RAY"),
        ({"type": "dockerJobConfiguration", "imagePath": "busybox", "command": ["true"]}, "DOCKER"),
    ],
)
def test_seed_9_config_type_discriminators(
    api: Api, job_name: str, config: dict[str, Any], job_type: str
) -> None:
    """``config.type`` per job type; PYSPARK and SPARK share sparkJobConfiguration.

    Source: Hopsworks' ``JobConfiguration`` subtypes (JSON property ``type``).
    """
    body = api.put(f"jobs/{job_name}", json=config).json()
    assert (body["jobType"], body["config"]["type"]) == (job_type, config["type"])


def test_seed_11_ray_default_config_field_names(api: Api) -> None:
    """The Ray default config says workerMinInstances/workerMaxInstances, not min/maxWorkers.

    Source: the ``hops job`` CLI's field notes, observed on a live cluster.
    """
    ray = api.get("jobs/ray/configuration").json()
    assert ray["type"] == "rayJobConfiguration"
    assert ray["jobType"] == "RAY"
    assert {
        "driverCores",
        "driverMemory",
        "workerMinInstances",
        "workerMaxInstances",
        "workerCores",
        "workerMemory",
    } <= set(ray)
    assert not {"minWorkers", "maxWorkers"} & set(ray)
