"""Paths, call names and answers, as both transports build and read them."""

from __future__ import annotations

import pytest

from airflow_provider_hopsjobs.errors import HopsworksApiError, HopsworksConfigError
from airflow_provider_hopsjobs.hooks.wire import (
    Page,
    call_name,
    collection,
    job_path,
    parse_json,
    project_path,
    segment,
    string_list,
)


def test_segments_quote_slashes_and_spaces():
    assert segment("Resources/jobs/a b.py") == "Resources%2Fjobs%2Fa%20b.py"
    assert segment(7) == "7"


def test_paths_and_call_names():
    assert project_path(119, "dataset", "Resources%2Fx") == "/project/119/dataset/Resources%2Fx"
    assert job_path(119, "etl") == "/project/119/jobs/etl"
    assert job_path(119, "a.b", "executions", 7, "log", "out") == "/project/119/jobs/a.b/executions/7/log/out"
    assert call_name("GET", job_path(1, "etl")) == "GET /hopsworks-api/api/project/1/jobs/etl"


def test_collections_with_and_without_items():
    assert collection({"count": 0}) == Page([], 0)
    assert collection({"items": [{"id": 1}], "count": 5.0}) == Page([{"id": 1}], 5)
    assert collection({"items": [{"id": 1}]}) == Page([{"id": 1}], None)
    assert collection(None) == Page([], None)


def test_string_lists():
    assert string_list("state:RUNNING", "filter_by") == ["state:RUNNING"]
    assert string_list("", "filter_by") == []
    assert string_list(("a", "b"), "expand") == ["a", "b"]
    with pytest.raises(HopsworksConfigError, match="filter_by entries must be strings"):
        string_list(["a", 1], "filter_by")  # type: ignore[list-item]


def test_json_answers():
    assert parse_json(b'{"a": 1}', "GET /x") == {"a": 1}
    assert parse_json(b"", "GET /x") is None
    assert parse_json(b"  \n", "GET /x") is None
    with pytest.raises(HopsworksApiError, match="answered GET /x with a body that is not JSON"):
        parse_json(b"<html>", "GET /x")
