"""The ``hopsworks`` connection form, for the Airflow versions that build it from the hook.

The provider info (``connection-types`` in :func:`airflow_provider_hopsjobs.get_provider_info`)
is the one description of the form: labels, placeholders, hidden fields and the extra fields.
Airflow 3.2+ reads it from there. Airflow 3.0 and 3.1 ask the registered hook class instead,
and only methods defined on that class itself (``ProvidersManager`` looks in the class's
``__dict__``, never at a base class): ``get_ui_field_behaviour`` for the standard fields and
``get_connection_form_widgets`` for the extra ones, as wtforms fields. Both are derived here
from the provider info, so the two ways never disagree.

The api-server of 3.0/3.1 turns the wtforms fields into the form's JSON schema; it does so only
where ``wtforms`` imports (the FAB provider brings it; the provider depends on it for that reason).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from airflow_provider_hopsjobs import get_provider_info


def _connection_type() -> Mapping[str, Any]:
    (connection_type,) = get_provider_info()["connection-types"]
    return dict(connection_type)


def ui_field_behaviour() -> dict[str, Any]:
    """Hidden, relabelled and placeholder standard fields, in the hook method's shape."""
    info = _connection_type()["ui-field-behaviour"]
    return {
        "hidden_fields": list(info["hidden-fields"]),
        "relabeling": dict(info["relabeling"]),
        "placeholders": dict(info["placeholders"]),
    }


def _field_kind(schema: Mapping[str, Any]) -> str:
    kinds = schema.get("type", "string")
    kinds = [kinds] if isinstance(kinds, str) else list(kinds)
    return "integer" if "integer" in kinds else "string"


def connection_form_widgets() -> dict[str, Any]:
    """The extra fields as wtforms fields (integers as ``IntegerField``, the rest as text).

    Numbers that may have a fraction (timeouts, the retry budget) stay text fields: the form
    offers only the field classes Airflow accepts, and the hook parses and checks every value.
    wtforms is imported here, at call time, because the 3.0/3.1 api-server replaces its field
    classes while it builds the form.
    """
    from wtforms import IntegerField, StringField

    widgets: dict[str, Any] = {}
    for name, spec in _connection_type()["conn-fields"].items():
        schema = spec.get("schema", {})
        default = schema.get("default")
        if _field_kind(schema) == "integer":
            widgets[name] = IntegerField(
                label=spec["label"], description=spec.get("description", ""), default=default
            )
        else:
            widgets[name] = StringField(
                label=spec["label"],
                description=spec.get("description", ""),
                default=None if default is None else str(default),
            )
    return widgets
