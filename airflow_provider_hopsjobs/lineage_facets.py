"""OpenLineage facets for a Hopsworks execution (imported only when OpenLineage is installed).

Custom facets, as the Databricks and dbt Cloud providers define theirs: the execution as a
run facet, the job as a job facet.
"""

from __future__ import annotations

import attrs
from openlineage.client.generated.base import JobFacet, RunFacet

_SCHEMA_BASE = "https://github.com/logicalclocks/airflow-provider-hopsjobs/blob/main/docs/facets"


@attrs.define
class HopsworksExecutionRunFacet(RunFacet):
    """The Hopsworks execution an Airflow task ran or watched (camelCase, as OpenLineage facets are)."""

    executionId: int
    state: str | None = None
    finalStatus: str | None = None
    durationMs: int | None = None
    url: str | None = None

    @staticmethod
    def _get_schema() -> str:
        return f"{_SCHEMA_BASE}/HopsworksExecutionRunFacet.json"


@attrs.define
class HopsworksJobFacet(JobFacet):
    """The Hopsworks job: its name, type and project."""

    jobName: str
    jobType: str | None = None
    project: str | None = None

    @staticmethod
    def _get_schema() -> str:
        return f"{_SCHEMA_BASE}/HopsworksJobFacet.json"
