"""Job configuration rules, checked without a server."""

from __future__ import annotations

import pytest

from airflow_provider_hopsjobs.errors import HopsworksConfigError
from airflow_provider_hopsjobs.hooks.job_config import (
    PYTHON_RUNNER,
    JobConfigRequest,
    diff_config,
    to_hdfs_path,
    updated_config,
)


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("Resources/x.py", "hdfs:///Projects/demo/Resources/x.py"),
        ("/Resources/x.py", "hdfs:///Projects/demo/Resources/x.py"),
        ("/Projects/other/Resources/x.py", "hdfs:///Projects/other/Resources/x.py"),
        ("hdfs:///Projects/demo/Resources/x.py", "hdfs:///Projects/demo/Resources/x.py"),
    ],
)
def test_app_paths_become_absolute_hdfs(path, expected):
    assert to_hdfs_path(path, "demo") == expected


def test_foreign_url_scheme_is_rejected():
    with pytest.raises(HopsworksConfigError):
        to_hdfs_path("s3://bucket/x.py", "demo")


@pytest.mark.parametrize(
    ("job_type", "kwargs", "message"),
    [
        ("FLINK", {"app_path": "a.py"}, "Unknown job_type"),
        ("PYTHON", {}, "needs an app path"),
        ("SPARK", {"app_path": "a.jar"}, "needs main_class"),
        ("PYSPARK", {"app_path": "a.py", "main_class": "com.x.Main"}, "PythonRunner"),
        ("PYTHON", {"app_path": "a.py", "main_class": "com.x.Main"}, "only applies"),
        ("DOCKER", {}, "imagePath"),
        ("DOCKER", {"app_path": "a.py", "config": {"imagePath": "img"}}, "no app path"),
        ("PYTHON", {"app_path": "a.py", "config": {"type": "sparkJobConfiguration"}}, "needs config type"),
        ("PYTHON", {"app_path": "a.py", "config": {"appName": "other"}}, "appName"),
        ("PYSPARK", {"app_path": "s3://bucket/etl.py"}, "project path or an hdfs:// URL"),
        ("PYTHON", {"config": {"appPath": "file:///tmp/x.py"}}, "project path or an hdfs:// URL"),
    ],
)
def test_bad_requests_are_rejected(job_type, kwargs, message):
    with pytest.raises(HopsworksConfigError, match=message):
        JobConfigRequest.create("etl", job_type, **kwargs)


def test_python_job_built_from_default():
    default = {
        "type": "pythonJobConfiguration",
        "resourceConfig": {"cores": 1.0, "memory": 2048},
        "logRedirection": True,
    }
    request = JobConfigRequest.create(
        "etl",
        "python",
        app_path="Resources/etl.py",
        default_args="--day 1",
        environment_name="pandas-training-pipeline",
        config={"resourceConfig": {"memory": 4096}},
    )
    config = request.build(default, "demo")
    assert config == {
        "type": "pythonJobConfiguration",
        "appName": "etl",
        "appPath": "hdfs:///Projects/demo/Resources/etl.py",
        "defaultArgs": "--day 1",
        "environmentName": "pandas-training-pipeline",
        "resourceConfig": {"cores": 1.0, "memory": 4096},
        "logRedirection": True,
        "jobType": "PYTHON",
    }
    assert default["resourceConfig"]["memory"] == 2048  # the default is not mutated


@pytest.mark.parametrize(
    ("job_type", "kwargs", "config_type", "main"),
    [
        ("PYSPARK", {"app_path": "Resources/a.py"}, "sparkJobConfiguration", PYTHON_RUNNER),
        (
            "SPARK",
            {"app_path": "Resources/a.jar", "main_class": "com.x.Main"},
            "sparkJobConfiguration",
            "com.x.Main",
        ),
        (
            "SPARK",
            {"app_path": "Resources/a.jar", "config": {"mainClass": "com.y.Main"}},
            "sparkJobConfiguration",
            "com.y.Main",
        ),
        ("RAY", {"app_path": "Resources/r.py"}, "rayJobConfiguration", None),
    ],
)
def test_type_aware_normalisation(job_type, kwargs, config_type, main):
    config = JobConfigRequest.create("job", job_type, **kwargs).build({"type": config_type}, "demo")
    assert config["type"] == config_type
    assert config["jobType"] == job_type
    assert config.get("mainClass") == main
    assert config["appPath"].startswith("hdfs:///Projects/demo/Resources/")


def test_docker_job_keeps_image_and_has_no_app_path():
    config = JobConfigRequest.create(
        "d", "DOCKER", config={"imagePath": "busybox", "command": ["echo"]}
    ).build({"type": "dockerJobConfiguration", "resourceConfig": {"cores": 1}}, "demo")
    assert config["imagePath"] == "busybox"
    assert "appPath" not in config
    assert config["type"] == "dockerJobConfiguration"


def test_default_of_another_type_is_ignored():
    config = JobConfigRequest.create("j", "PYTHON", app_path="a.py").build(
        {"type": "sparkJobConfiguration", "x": 1}, "p"
    )
    assert "x" not in config


def test_diff_compares_only_controlled_keys():
    existing = {
        "type": "pythonJobConfiguration",
        "appName": "etl",
        "appPath": "hdfs:///Projects/demo/Resources/etl.py",
        "resourceConfig": {"cores": 1, "memory": 2048, "gpus": 0},
        "logRedirection": True,
        "jobType": "PYTHON",
        "defaultArgs": None,
    }
    wanted = {
        "type": "pythonJobConfiguration",
        "appName": "etl",
        "appPath": "hdfs:///Projects/demo/Resources/etl.py",
        "resourceConfig": {"cores": 1.0},
        "defaultArgs": "",
    }
    assert diff_config(existing, wanted) == {}
    wanted["resourceConfig"] = {"memory": 4096}
    wanted["defaultArgs"] = "--x"
    assert diff_config(existing, wanted) == {
        "resourceConfig.memory": (2048, 4096),
        "defaultArgs": (None, "--x"),
    }


def test_update_keeps_settings_the_dag_does_not_mention():
    existing = {
        "type": "pythonJobConfiguration",
        "appName": "etl",
        "logRedirection": False,
        "resourceConfig": {"cores": 2},
    }
    body = updated_config(existing, {"resourceConfig": {"memory": 1}, "appName": "etl"}, "PYTHON")
    assert body["logRedirection"] is False
    assert body["resourceConfig"] == {"cores": 2, "memory": 1}
    assert body["jobType"] == "PYTHON"
