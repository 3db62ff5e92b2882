"""Which project: what the connection says, when a look-up is needed, how its answer is read."""

from __future__ import annotations

import pytest

from airflow_provider_hopsjobs.errors import HopsworksApiError, HopsworksNotFoundError
from airflow_provider_hopsjobs.hooks.connection import settings_from_connection
from airflow_provider_hopsjobs.hooks.project import ProjectLookup, ProjectRef, project_from_info
from tests.hooks.conftest import API_KEY


class Conn:
    def __init__(self, extra: dict) -> None:
        self.conn_id = "hw"
        self.host = "h.example.com"
        self.port = None
        self.schema = None
        self.password = API_KEY
        self.extra = extra


def settings(**extra):
    return settings_from_connection(Conn(extra), mask=False)


BY_NAME = settings(project="demo")
BY_ID = settings(project_id=7)
BOTH = settings(project="demo", project_id=7)


@pytest.mark.parametrize(
    ("known", "conn", "expected"),
    [
        (ProjectRef(), BY_NAME, ProjectRef()),  # a name alone needs the look-up for the id
        (ProjectRef(), BY_ID, ProjectRef(7, None)),
        (ProjectRef(), BOTH, ProjectRef(7, "demo")),
        (ProjectRef(5, "looked-up"), BOTH, ProjectRef(5, "looked-up")),  # what is known stays
    ],
)
def test_the_connections_id_needs_no_look_up(known, conn, expected):
    assert known.with_connection_id(conn) == expected


@pytest.mark.parametrize(
    ("known", "conn", "expected"),
    [
        (ProjectRef(), BY_NAME, ProjectRef()),  # no id yet: the look-up gives both
        (ProjectRef(7, None), BY_ID, ProjectRef(7, None)),  # no name in the connection
        (ProjectRef(7, None), BOTH, ProjectRef(7, "demo")),
        (ProjectRef(7, "other"), BOTH, ProjectRef(7, "other")),
    ],
)
def test_the_connections_name_counts_once_an_id_is_known(known, conn, expected):
    assert known.with_connection_name(conn) == expected


def test_complete_means_both_known():
    assert ProjectRef(1, "a").complete
    assert not ProjectRef(1, None).complete
    assert not ProjectRef(None, "a").complete


def test_look_up_by_name_first_else_by_id():
    assert ProjectLookup.of(BOTH) == ProjectLookup("/project/getProjectInfo/demo", "project 'demo'")
    assert ProjectLookup.of(settings(project="a/b")).path == "/project/getProjectInfo/a%2Fb"
    assert ProjectLookup.of(BY_ID) == ProjectLookup("/project/7", "project id 7")


def test_a_missing_project_is_explained_with_hopsworks_fields_kept():
    original = HopsworksNotFoundError(
        "HTTP 404", status_code=404, error_code=150004, error_msg="Project wasn't found.", usr_msg="u"
    )
    with pytest.raises(HopsworksNotFoundError) as err:
        with ProjectLookup.of(BY_NAME).explaining_not_found():
            raise original
    assert str(err.value) == (
        "Hopsworks has no project 'demo', or the API key's user is not a member of it (HTTP 404)"
    )
    assert (err.value.status_code, err.value.error_code, err.value.error_msg, err.value.usr_msg) == (
        404,
        150004,
        "Project wasn't found.",
        "u",
    )
    assert err.value.__cause__ is original


def test_other_errors_pass_the_look_up_unchanged():
    refused = HopsworksApiError("HTTP 401", status_code=401)
    with pytest.raises(HopsworksApiError) as err:
        with ProjectLookup.of(BY_NAME).explaining_not_found():
            raise refused
    assert err.value is refused


@pytest.mark.parametrize(
    ("info", "conn", "expected"),
    [
        ({"projectId": 119, "projectName": "demo"}, BY_NAME, ProjectRef(119, "demo")),
        ({"id": 3, "name": "old-server"}, BY_NAME, ProjectRef(3, "old-server")),
        ({"projectId": "42"}, BY_NAME, ProjectRef(42, "demo")),  # the connection's name fills in
        ({"projectId": 42}, BY_ID, ProjectRef(42, "42")),
    ],
)
def test_project_from_info(info, conn, expected):
    assert project_from_info(info, conn) == expected


@pytest.mark.parametrize("info", [None, [], {"projectName": "demo"}])
def test_project_info_without_an_id_is_an_api_error(info):
    with pytest.raises(HopsworksApiError, match="has no projectId"):
        project_from_info(info, BY_NAME)
