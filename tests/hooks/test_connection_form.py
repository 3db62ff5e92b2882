"""The connection form as the api-server describes it to the UI, on the Airflow under test.

Airflow 3.2+ builds it from the provider info; 3.0/3.1 from methods of the registered hook class
itself. Both are asked here through the api-server's own service, so a form that only one Airflow
line can see fails on the other's run.
"""

from __future__ import annotations

from typing import Any

import pytest

from airflow_provider_hopsjobs import get_provider_info
from airflow_provider_hopsjobs.hooks.connection_form import connection_form_widgets, ui_field_behaviour


@pytest.fixture(scope="module")
def form() -> dict[str, Any]:
    from airflow.api_fastapi.core_api.services.ui.connections import HookMetaService

    (meta,) = [m for m in HookMetaService.hook_meta_data() if m.connection_type == "hopsworks"]
    return dict(meta.model_dump())


def test_the_standard_fields_are_relabelled_hidden_and_have_placeholders(form):
    fields = form["standard_fields"]
    assert fields is not None, "the api-server found no field behaviour for the hopsworks type"
    assert fields["login"]["hidden"] is True
    assert fields["password"] == {"hidden": False, "title": "API key", "placeholder": "<prefix>.<secret>"}
    assert fields["url_schema"]["title"] == "Scheme (https or http)"
    assert fields["host"]["placeholder"] == "my-cluster.cloud.hopsworks.ai"
    assert fields["port"]["placeholder"] == "443"


def test_the_extra_fields_carry_the_provider_infos_labels_and_descriptions(form):
    declared = get_provider_info()["connection-types"][0]["conn-fields"]
    extra = form["extra_fields"]
    assert extra is not None, "the api-server found no extra fields for the hopsworks type"
    assert set(extra) == set(declared)
    for name, spec in declared.items():
        assert extra[name]["schema"]["title"] == spec["label"], name
        assert extra[name]["description"] == spec.get("description"), name
    assert extra["retry_attempts"]["value"] == 6
    assert "integer" in extra["project_id"]["schema"]["type"]


def test_the_hook_methods_follow_the_provider_info():
    info = get_provider_info()["connection-types"][0]
    assert ui_field_behaviour()["placeholders"] == info["ui-field-behaviour"]["placeholders"]
    widgets = connection_form_widgets()
    assert set(widgets) == set(info["conn-fields"])
    assert type(widgets["retry_attempts"]).__name__ == "UnboundField"
    assert widgets["retry_attempts"].field_class.__name__ == "IntegerField"
    assert widgets["read_timeout"].field_class.__name__ == "StringField"
    assert widgets["read_timeout"].kwargs["default"] == "60"
