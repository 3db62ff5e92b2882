"""Apache Airflow provider for Hopsworks jobs.

Nothing heavy is imported here: Airflow calls :func:`get_provider_info` while it
discovers providers, and the API server renders the connection form from it without
importing the hook.
"""

from __future__ import annotations

from typing import Any

__version__ = "0.1.0"

HOOK_CLASS = "airflow_provider_hopsjobs.hooks.hopsworks.HopsworksHook"


def get_provider_info() -> dict[str, Any]:  # long: one data literal, the metadata Airflow reads
    """Describe the provider to Airflow's ProvidersManager."""
    return {
        "package-name": "airflow-provider-hopsjobs",
        "name": "Hopsworks Jobs",
        "description": "Create, run and watch Hopsworks jobs; replace Hopsworks v2 cron schedules.",
        "versions": [__version__],
        "integrations": [
            {
                "integration-name": "Hopsworks",
                "external-doc-url": "https://docs.hopsworks.ai/",
                "tags": ["service"],
            }
        ],
        "hooks": [
            {"integration-name": "Hopsworks", "python-modules": ["airflow_provider_hopsjobs.hooks.hopsworks"]}
        ],
        "operators": [
            {
                "integration-name": "Hopsworks",
                "python-modules": [
                    "airflow_provider_hopsjobs.operators.admin",
                    "airflow_provider_hopsjobs.operators.create",
                    "airflow_provider_hopsjobs.operators.jobs",
                    "airflow_provider_hopsjobs.operators.schedules",
                ],
            }
        ],
        "sensors": [
            {
                "integration-name": "Hopsworks",
                "python-modules": ["airflow_provider_hopsjobs.sensors.execution"],
            }
        ],
        "triggers": [
            {
                "integration-name": "Hopsworks",
                "python-modules": ["airflow_provider_hopsjobs.triggers.execution"],
            }
        ],
        "task-decorators": [
            {
                "name": "hopsworks",
                "class-name": "airflow_provider_hopsjobs.decorators.hopsworks.hopsworks_task",
            }
        ],
        "extra-links": ["airflow_provider_hopsjobs.operators.links.HopsworksExecutionLink"],
        "connection-types": [
            {
                "connection-type": "hopsworks",
                "hook-class-name": HOOK_CLASS,
                "hook-name": "Hopsworks",
                "ui-field-behaviour": {
                    "hidden-fields": ["login"],
                    "relabeling": {"password": "API key", "schema": "Scheme (https or http)"},
                    "placeholders": {
                        "host": "my-cluster.cloud.hopsworks.ai",
                        "port": "443",
                        "schema": "https",
                        "password": "<prefix>.<secret>",
                    },
                },
                "conn-fields": {
                    "project": {
                        "label": "Project",
                        "description": "Hopsworks project name (or give project_id).",
                        "schema": {"type": ["string", "null"]},
                    },
                    "project_id": {
                        "label": "Project id",
                        "description": "Numeric project id; skips the name lookup.",
                        "schema": {"type": ["integer", "null"]},
                    },
                    "verify": {
                        "label": "Verify TLS",
                        "description": "true, false, or the path of a CA bundle.",
                        "schema": {"type": ["string", "null"], "default": "true"},
                    },
                    "connect_timeout": {
                        "label": "Connect timeout (s)",
                        "schema": {"type": ["number", "null"], "default": 10},
                    },
                    "read_timeout": {
                        "label": "Read timeout (s)",
                        "schema": {"type": ["number", "null"], "default": 60},
                    },
                    "retry_attempts": {
                        "label": "Retry attempts",
                        "description": "Attempts per API call on connection errors, 5xx and 429.",
                        "schema": {"type": ["integer", "null"], "default": 6, "minimum": 1},
                    },
                    "retry_max_seconds": {
                        "label": "Retry budget (s)",
                        "description": "Total time one API call may spend retrying.",
                        "schema": {"type": ["number", "null"], "default": 120},
                    },
                },
            }
        ],
    }
