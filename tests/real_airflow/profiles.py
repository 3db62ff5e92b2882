"""Which Airflow deployment a real-Airflow test session runs: executor, database, triggerers, workers.

``SQLITE`` is the quick one (LocalExecutor on SQLite, one triggerer). ``production`` is what users
run: PostgreSQL as the metadata database, the CeleryExecutor on a Redis broker with two workers, and
two triggerers for high availability. Its settings shorten two of Airflow's failure detections so a
failover test takes seconds rather than minutes; each is documented in the README's "Deploying".
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Profile:
    name: str
    executor: str = "LocalExecutor"
    #: SQLAlchemy URL of the metadata database; None: a SQLite file in AIRFLOW_HOME.
    database_url: str | None = None
    triggerers: int = 1
    celery_workers: int = 0
    worker_concurrency: int = 8
    #: ``AIRFLOW__...`` settings on top of the harness's own.
    settings: Mapping[str, str] = field(default_factory=dict)

    @property
    def triggerer_names(self) -> tuple[str, ...]:
        return ("triggerer", *(f"triggerer-{n}" for n in range(2, self.triggerers + 1)))

    @property
    def worker_names(self) -> tuple[str, ...]:
        return tuple(f"celery-worker-{n}" for n in range(1, self.celery_workers + 1))

    @property
    def components(self) -> tuple[str, ...]:
        return ("api-server", "scheduler", "dag-processor", *self.triggerer_names, *self.worker_names)


def local_executor_settings() -> dict[str, str]:
    """One task instance queued per scheduler pass with Airflow 3.0's LocalExecutor.

    Airflow 3.0's ``LocalExecutor.queue_workload`` hands a task to a waiting worker process at
    once, before the scheduler commits the task's ``queued`` state; a worker quicker than that
    commit is refused ("TI was not in a state where it could be marked as running",
    ``previous_state: scheduled``) and the task fails without running. Seen on 3.0.6 for the
    first of three task instances queued in one pass. One per pass leaves only the commit itself
    between hand-over and commit. Airflow 3.1+ hands tasks over after the commit.
    """
    from airflow_provider_hopsjobs.version_compat import AIRFLOW_V_3_1_PLUS

    return {} if AIRFLOW_V_3_1_PLUS else {"AIRFLOW__SCHEDULER__MAX_TIS_PER_QUERY": "1"}


SQLITE = Profile(name="sqlite-local", settings=local_executor_settings())

#: A dead triggerer's triggers go to another one once its heartbeat is this old (Airflow: 30 s).
TRIGGERER_HEALTH_CHECK_THRESHOLD = 15
#: A running task whose supervisor stopped heartbeating (its worker died) fails after this (Airflow: 300 s).
TASK_HEARTBEAT_TIMEOUT = 30


def celery_pool() -> str:
    """``prefork`` (Celery's default) where it works; ``threads`` with Airflow 3.0's Celery provider.

    On Airflow 3.0.6 with the Celery provider 3.15 (the newest that supports 3.0) every prefork
    child hangs at birth, closing a broker connection it inherited mid-``BRPOP`` (kombu's after-fork
    cleanup), so no task ever starts. The threads pool has no fork; on Airflow 3.3 it cannot be
    used (the task supervisor installs signal handlers, which only the main thread may do).
    """
    from airflow_provider_hopsjobs.version_compat import AIRFLOW_V_3_3_PLUS

    return "prefork" if AIRFLOW_V_3_3_PLUS else "threads"


def production(database_url: str, broker_url: str, result_backend: str) -> Profile:
    """PostgreSQL, CeleryExecutor on Redis with two workers, two triggerers."""
    return Profile(
        name="postgres-celery",
        # The full path: Airflow 3.3 no longer resolves the short name "CeleryExecutor".
        executor="airflow.providers.celery.executors.celery_executor.CeleryExecutor",
        database_url=database_url,
        triggerers=2,
        celery_workers=2,
        worker_concurrency=12,
        settings={
            "AIRFLOW__CELERY__BROKER_URL": broker_url,
            "AIRFLOW__CELERY__RESULT_BACKEND": result_backend,
            "AIRFLOW__CELERY__POOL": celery_pool(),
            "AIRFLOW__CORE__PARALLELISM": "32",
            "AIRFLOW__CORE__MAX_ACTIVE_TASKS_PER_DAG": "32",
            "AIRFLOW__TRIGGERER__JOB_HEARTBEAT_SEC": "5",
            "AIRFLOW__SCHEDULER__TRIGGERER_HEALTH_CHECK_THRESHOLD": str(TRIGGERER_HEALTH_CHECK_THRESHOLD),
            "AIRFLOW__SCHEDULER__TASK_INSTANCE_HEARTBEAT_TIMEOUT": str(TASK_HEARTBEAT_TIMEOUT),
            "AIRFLOW__SCHEDULER__TASK_INSTANCE_HEARTBEAT_TIMEOUT_DETECTION_INTERVAL": "5",
            # The UI's "Test Connection" button (Airflow keeps it disabled unless told otherwise).
            "AIRFLOW__CORE__TEST_CONNECTION": "Enabled",
        },
    )
