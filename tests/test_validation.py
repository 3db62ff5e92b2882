"""Argument checks shared by the operators, the sensor and the trigger."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from airflow_provider_hopsjobs import validation
from airflow_provider_hopsjobs.errors import HopsworksConfigError


@pytest.mark.parametrize("value", ["{{ params.job }} x", "{% if x %}a b{% endif %}"])
def test_templates_are_checked_only_once_rendered(value: str) -> None:
    assert validation.is_templated(value)
    validation.job_name(value)  # no error before rendering, although it holds a space
    with pytest.raises(HopsworksConfigError, match="Invalid job name"):
        validation.job_name("bad name")


@pytest.mark.parametrize(
    ("value", "expected"),
    [(None, None), ("", None), ("  ", None), (7, 7), ("12", 12), (" 3 ", 3), (0, 0)],
)
def test_execution_id(value: Any, expected: int | None) -> None:
    assert validation.execution_id(value) == expected


@pytest.mark.parametrize(
    ("value", "message"), [(-1, "not be negative"), ("-2", "negative"), (True, "integer"), ("x", "integer")]
)
def test_execution_id_refuses(value: Any, message: str) -> None:
    with pytest.raises(HopsworksConfigError, match=message):
        validation.execution_id(value)
    with pytest.raises(HopsworksConfigError):
        validation.check_execution_id(value)


def test_check_execution_id_leaves_templates_for_later() -> None:
    validation.check_execution_id("{{ ti.xcom_pull(task_ids='t', key='execution_id') }}")


@pytest.mark.parametrize(("value", "expected"), [(5, 5.0), (timedelta(minutes=2), 120.0), (0, 0.0)])
def test_seconds(value: Any, expected: float) -> None:
    assert validation.seconds("timeout", value) == expected


@pytest.mark.parametrize(
    ("value", "positive", "message"),
    [
        (-1, False, "timeout must not be negative"),
        ("5", False, "timeout must be a number of seconds"),
        (True, False, "timeout must be a number"),
        (float("inf"), False, "timeout must be a number"),
        (None, False, "timeout is required"),
        (0, True, "timeout must be greater than 0"),
    ],
)
def test_seconds_refuses(value: Any, positive: bool, message: str) -> None:
    with pytest.raises(HopsworksConfigError, match=message):
        validation.seconds("timeout", value, positive=positive)


def test_optional_seconds_keeps_none() -> None:
    assert validation.optional_seconds("timeout", None) is None


@pytest.mark.parametrize(
    ("value", "expected"),
    [(None, None), ("--a 1", "--a 1"), (["--a", 1], ["--a", "1"]), (("x",), ["x"]), (3, "3")],
)
def test_args(value: Any, expected: Any) -> None:
    assert validation.args(value) == expected


@pytest.mark.parametrize("value", [{"a": 1}, b"x", {"x"}, True])
def test_args_refuses(value: Any) -> None:
    with pytest.raises(HopsworksConfigError, match="args must be a string or a list of strings"):
        validation.args(value)


def test_flag() -> None:
    assert validation.flag("cancel_on_kill", False) is False
    with pytest.raises(HopsworksConfigError, match="cancel_on_kill must be True or False"):
        validation.flag("cancel_on_kill", "false")


# -- job names and job types ------------------------------------------------------------------


@pytest.mark.parametrize("name", ["etl", "feature-pipeline_v2", "job.1", "A" * 255])
def test_valid_job_names(name: str) -> None:
    assert validation.validate_job_name(name) == name


@pytest.mark.parametrize(
    "name",
    [
        "",
        " ",
        "my job",
        "a/b",
        "a:b",
        "x?",
        "ä",
        "a(b)",
        "a;b",
        "a#b",
        "a@b",
        "a$b",
        "a[b]",
        "a+b",
        "a\tb",
        "A" * 256,
    ],
)
def test_forbidden_job_names(name: str) -> None:
    with pytest.raises(HopsworksConfigError):
        validation.validate_job_name(name)


def test_forbidden_name_message_names_the_character() -> None:
    with pytest.raises(HopsworksConfigError, match=r"does not allow ' ', '/'"):
        validation.validate_job_name("my/job x")


@pytest.mark.parametrize(
    ("given", "expected"), [("python", "PYTHON"), (" Spark ", "SPARK"), ("DOCKER", "DOCKER")]
)
def test_creatable_job_type(given: str, expected: str) -> None:
    assert validation.creatable_job_type(given) == expected


@pytest.mark.parametrize("bad", ["FLINK", "COBOL", "", None, 3])
def test_creatable_job_type_refuses_naming_the_choices(bad: Any) -> None:
    with pytest.raises(HopsworksConfigError, match="DOCKER, PYSPARK, PYTHON, RAY, SPARK"):
        validation.creatable_job_type(bad)


def test_known_job_type() -> None:
    assert validation.known_job_type(None) is None
    assert validation.known_job_type("flink") == "FLINK"
    with pytest.raises(HopsworksConfigError, match="job_type must be one of"):
        validation.known_job_type("COBOL")
