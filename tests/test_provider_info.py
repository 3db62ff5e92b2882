"""Airflow finds the provider and its ``hopsworks`` connection type.

The ``airflow providers list`` / ``airflow providers hooks`` commands read exactly what
ProvidersManager reads here; asking it in-process keeps this test to about a second.
"""

from __future__ import annotations

import importlib
import json
from importlib.metadata import distribution, entry_points
from pathlib import Path

import airflow
import jsonschema

from airflow_provider_hopsjobs import get_provider_info
from airflow_provider_hopsjobs.hooks.connection import settings_from_connection

DIST = "airflow-provider-hopsjobs"


def test_package_name_equals_the_distribution():
    info = get_provider_info()
    assert info["package-name"] == distribution(DIST).metadata["Name"] == DIST
    assert info["versions"][0] == distribution(DIST).version


def test_entry_point_is_registered():
    (ep,) = [e for e in entry_points(group="apache_airflow_provider") if e.dist and e.dist.name == DIST]
    assert ep.load()() == get_provider_info()


def test_provider_info_matches_airflows_schema():
    schema_path = Path(airflow.__file__).parent / "provider_info.schema.json"
    jsonschema.validate(get_provider_info(), json.loads(schema_path.read_text()))


def test_connection_type_points_at_the_hook():
    (conn_type,) = get_provider_info()["connection-types"]
    module, _, name = conn_type["hook-class-name"].rpartition(".")
    hook = getattr(importlib.import_module(module), name)
    assert conn_type["connection-type"] == hook.conn_type == "hopsworks"
    assert hook.default_conn_name == "hopsworks_default"
    assert hook.conn_name_attr == "hopsworks_conn_id"
    assert conn_type["hook-name"] == hook.hook_name


def test_declared_conn_fields_are_the_ones_the_hook_reads():
    (conn_type,) = get_provider_info()["connection-types"]
    declared = set(conn_type["conn-fields"])
    assert declared == {
        "project",
        "project_id",
        "verify",
        "connect_timeout",
        "read_timeout",
        "retry_attempts",
        "retry_max_seconds",
    }

    class Conn:
        conn_id = "c"
        host = "h"
        port = None
        schema = None
        password = "prefix.secret-value"
        extra = json.dumps(
            {
                "project": "p",
                "project_id": 3,
                "verify": "false",
                "connect_timeout": 1,
                "read_timeout": 2,
                "retry_attempts": 4,
                "retry_max_seconds": 5,
            }
        )

    s = settings_from_connection(Conn())
    assert (s.project_name, s.project_id, s.verify, s.connect_timeout, s.read_timeout) == (
        "p",
        3,
        False,
        1,
        2,
    )
    assert (s.retry_policy.max_attempts, s.retry_policy.max_total_seconds) == (4, 5)


def test_providers_manager_lists_the_provider_and_its_hook():
    try:
        from airflow.sdk.providers_manager_runtime import ProvidersManagerTaskRuntime as Manager
    except ImportError:  # Airflow 3.0
        from airflow.providers_manager import ProvidersManager as Manager

    from airflow.providers_manager import ProvidersManager

    assert DIST in ProvidersManager().providers
    hook_info = Manager().hooks.get("hopsworks")
    assert hook_info is not None
    assert hook_info.hook_class_name == "airflow_provider_hopsjobs.hooks.hopsworks.HopsworksHook"
    assert hook_info.package_name == DIST
    assert hook_info.connection_testable
