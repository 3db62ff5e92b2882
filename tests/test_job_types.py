"""The one job-type vocabulary."""

from __future__ import annotations

from typing import Any

import pytest

from airflow_provider_hopsjobs.job_types import (
    CONFIG_TYPES,
    CREATABLE_JOB_TYPES,
    KNOWN_JOB_TYPES,
    SPARK_CONFIG_JOB_TYPES,
    YARN_JOB_TYPES,
    has_yarn_final_status,
    job_type_of,
)


def test_the_sets_nest() -> None:
    assert {"SPARK", "PYSPARK"} == SPARK_CONFIG_JOB_TYPES
    assert SPARK_CONFIG_JOB_TYPES < YARN_JOB_TYPES
    assert CREATABLE_JOB_TYPES < KNOWN_JOB_TYPES
    assert set(CONFIG_TYPES) >= CREATABLE_JOB_TYPES
    assert not has_yarn_final_status("PYTHON")
    assert has_yarn_final_status("pyspark")
    assert not has_yarn_final_status(None)


@pytest.mark.parametrize(
    ("job", "expected"),
    [
        ({"jobType": "PYSPARK", "config": {"type": "sparkJobConfiguration"}}, "PYSPARK"),
        ({"config": {"type": "sparkJobConfiguration"}}, "SPARK"),  # a Spark job without main class
        ({"config": {"type": "rayJobConfiguration"}}, "RAY"),
        ({"config": {"type": "somethingNew"}}, None),
        ({}, None),
    ],
)
def test_job_type_of_a_job_dto(job: dict[str, Any], expected: str | None) -> None:
    assert job_type_of(job) == expected
