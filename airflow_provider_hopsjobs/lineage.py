"""OpenLineage for Hopsworks runs: facets on completion, and the parent run handed to the job.

Optional: everything here works only when ``apache-airflow-providers-openlineage`` is
installed (the ``openlineage`` extra) and configured; without it the provider imports and
runs exactly as before (the OpenLineage listener is what calls the operator's
``get_openlineage_facets_on_*`` methods, so without it nothing here is called).

**Facets.** On completion (or failure) the run operator, and therefore ``@task.hopsworks``,
reports the execution (id, state, final status, duration, URL) as the run facet
``hopsworks_execution``, the job (name, type, project) as the job facet ``hopsworks_job``
and, on failure, an ``errorMessage`` facet with what Hopsworks reported. (The standard
``jobType`` facet stays Airflow's own: the OpenLineage job is the Airflow task.)

**Parent run.** So that lineage a Spark job emits itself links back to the Airflow task:

- PYSPARK/SPARK jobs, when ``[openlineage] spark_inject_parent_job_info`` (and/or
  ``spark_inject_transport_info``) is on: the OpenLineage provider's own helpers
  (``inject_parent_job_information_into_spark_properties`` / ``..._transport_...``, through
  ``airflow.providers.common.compat``) compute the ``spark.openlineage.*`` properties, which
  are written into the job's ``properties`` (its extra Spark properties) before the
  execution starts. Hopsworks' start call takes no per-run Spark properties (before 5.x it
  takes only arguments), so the job's own configuration is the one place Spark reads them.
  Limitation: two runs of the same Spark job starting at the same moment share that
  configuration, and the later start's parent wins for both.
- Every job type on Hopsworks 5.x: :func:`parent_env_vars` gives the same parent as the
  ``OPENLINEAGE_PARENT_ID``/``OPENLINEAGE_ROOT_PARENT_ID`` environment variables that the
  OpenLineage clients read, per execution, through the 5.x JSON start body's ``envVars``
  (the run operator sends them as the hook's ``optional_env_vars``: dropped, never failed
  for, by a server before 5.0).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from airflow_provider_hopsjobs.errors import HopsworksError

if TYPE_CHECKING:
    from airflow_provider_hopsjobs.execution import Execution
    from airflow_provider_hopsjobs.hooks.hopsworks import HopsworksHook

log = logging.getLogger(__name__)

#: Spark properties this provider writes and may overwrite on the next run.
OWNED_PREFIXES = ("spark.openlineage.parent", "spark.openlineage.rootParent")
_TRANSPORT_PREFIX = "spark.openlineage.transport"
SPARK_TYPES = frozenset({"PYSPARK", "SPARK"})


def openlineage_available() -> bool:
    """Whether the OpenLineage provider (and its client) can be imported."""
    try:
        import airflow.providers.openlineage  # noqa: F401
        import openlineage.client  # noqa: F401
    except ImportError:
        return False
    return True


def _conf_flag(key: str) -> bool:
    try:
        from airflow.sdk.configuration import conf
    except ImportError:  # pragma: no cover - older Task SDK
        from airflow.configuration import conf  # type: ignore[no-redef]
    return bool(conf.getboolean("openlineage", key, fallback=False))


# -- facets -------------------------------------------------------------------------------------


def operator_lineage(
    *,
    job_name: str,
    job_type: str | None,
    project: str | None,
    execution: Execution | None,
    url: str | None,
    failed: bool,
) -> Any:
    """The ``OperatorLineage`` for one finished (or failed) Hopsworks run."""
    from airflow.providers.common.compat.openlineage.facet import ErrorMessageRunFacet
    from airflow.providers.openlineage.extractors import OperatorLineage

    from airflow_provider_hopsjobs.lineage_facets import HopsworksExecutionRunFacet, HopsworksJobFacet

    run_facets: dict[str, Any] = {}
    if execution is not None:
        run_facets["hopsworks_execution"] = HopsworksExecutionRunFacet(
            executionId=execution.id,
            state=execution.state,
            finalStatus=execution.final_status,
            durationMs=execution.duration_ms,
            url=url,
        )
        if failed:
            run_facets["errorMessage"] = ErrorMessageRunFacet(
                message=(
                    f"Hopsworks job {job_name!r} execution {execution.id} ended "
                    f"{execution.state}/{execution.final_status}."
                ),
                programmingLanguage="python",
            )
    job_facets: dict[str, Any] = {
        "hopsworks_job": HopsworksJobFacet(jobName=job_name, jobType=job_type, project=project)
    }
    return OperatorLineage(run_facets=run_facets, job_facets=job_facets)


def lineage_for_operator(operator: Any, *, failed: bool) -> Any:
    """Facets for the execution a run operator (or ``@task.hopsworks``) started or reattached to."""
    execution_id = operator.published_execution_id
    job_name = str(operator.job_name)
    execution: Execution | None = None
    url: str | None = None
    if execution_id is not None:
        try:
            execution = operator.hook.get_execution(job_name, execution_id)
            url = operator.hook.execution_url(job_name, execution_id)
        except HopsworksError as err:
            log.warning("OpenLineage: could not read execution %s: %s", execution_id, err)
    job_type = (
        getattr(operator, "resolved_job_type", None)
        or getattr(operator, "job_type", None)
        or (execution.job_type if execution else None)
    )
    return operator_lineage(
        job_name=job_name,
        job_type=job_type,
        project=operator.project,
        execution=execution,
        url=url,
        failed=failed,
    )


# -- the parent run, handed to the job ---------------------------------------------------------------


def parse_properties(text: str | None) -> dict[str, str]:
    """Hopsworks' extra Spark properties: one ``key=value`` per line."""
    result: dict[str, str] = {}
    for line in (text or "").splitlines():
        key, sep, value = line.partition("=")
        if sep and key.strip():
            result[key.strip()] = value.strip()
    return result


def format_properties(properties: Mapping[str, str]) -> str:
    return "\n".join(f"{key}={value}" for key, value in properties.items())


def spark_properties_with_parent(current: Mapping[str, str], context: Mapping[str, Any]) -> dict[str, str]:
    """``current`` with this task's OpenLineage parent (and transport, when configured) injected.

    What this provider wrote for an earlier run is dropped first: the OpenLineage helpers
    leave properties alone when parent keys are already there, which would keep the first
    run's parent forever.
    """
    from airflow.providers.common.compat.openlineage.utils.spark import (
        inject_parent_job_information_into_spark_properties,
        inject_transport_information_into_spark_properties,
    )

    properties = {k: v for k, v in current.items() if not k.startswith(OWNED_PREFIXES)}
    if _conf_flag("spark_inject_parent_job_info"):
        properties = inject_parent_job_information_into_spark_properties(properties, context)  # type: ignore[arg-type]
    if _conf_flag("spark_inject_transport_info"):
        properties = {k: v for k, v in properties.items() if not k.startswith(_TRANSPORT_PREFIX)}
        properties = inject_transport_information_into_spark_properties(properties, context)  # type: ignore[arg-type]
    return {str(k): str(v) for k, v in properties.items()}


def inject_parent_into_spark_job(
    hook: HopsworksHook, job_name: str, job_type: str | None, context: Mapping[str, Any], logger: Any = log
) -> bool:
    """Write the parent run into a Spark job's properties before it starts; True when it changed."""
    if (job_type or "").upper() not in SPARK_TYPES or not openlineage_available():
        return False
    if not (_conf_flag("spark_inject_parent_job_info") or _conf_flag("spark_inject_transport_info")):
        return False
    job = hook.get_job(job_name)
    config = dict(job.get("config") or {})
    current = parse_properties(config.get("properties"))
    wanted = spark_properties_with_parent(current, context)
    if wanted == current:
        return False
    result = hook.create_or_update_job(
        job_name,
        str(job_type).upper(),
        app_path=config.get("appPath"),
        main_class=config.get("mainClass"),
        config={"properties": format_properties(wanted)},
    )
    logger.info(
        "OpenLineage: parent run written into the Spark properties of job %r (%s).", job_name, result.action
    )
    return True


def parent_env_vars(context: Mapping[str, Any]) -> dict[str, str]:
    """The task's OpenLineage parent as the environment variables OpenLineage clients read.

    ``OPENLINEAGE_PARENT_ID`` and ``OPENLINEAGE_ROOT_PARENT_ID`` are ``namespace/job/run id``.
    Empty when OpenLineage is not installed or not configured (no transport: the provider's
    listener emits nothing then, so there is no parent to link to). A plain ``dict[str, str]``
    for the 5.x JSON start body's ``envVars``.
    """
    if not openlineage_available():
        return {}
    from airflow.providers.openlineage.conf import is_disabled

    if is_disabled():
        return {}
    from airflow.providers.openlineage.plugins.macros import (
        lineage_job_name,
        lineage_job_namespace,
        lineage_root_job_name,
        lineage_root_job_namespace,
        lineage_root_run_id,
        lineage_run_id,
    )

    ti = context["ti"]
    namespace = lineage_job_namespace()  # type: ignore[no-untyped-call]
    return {
        "OPENLINEAGE_PARENT_ID": f"{namespace}/{lineage_job_name(ti)}/{lineage_run_id(ti)}",
        "OPENLINEAGE_ROOT_PARENT_ID": (
            f"{lineage_root_job_namespace(ti)}/{lineage_root_job_name(ti)}/{lineage_root_run_id(ti)}"
        ),
    }
