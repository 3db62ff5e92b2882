"""The provider where users run it: PostgreSQL, the CeleryExecutor with two workers, two triggerers.

The same components as the SQLite profile plus Celery workers and a second triggerer, each in its
own process group; the failures here are the ones a deployment meets: a triggerer host dies, a
worker dies while a task waits synchronously, the scheduler and api-server restart. Figures (hand-over
and completion times) are printed; nothing asserts on time.
"""

from __future__ import annotations

import time
from collections import Counter

import pytest

from airflow_provider_hopsjobs.emulator.handle import EmulatorHandle
from airflow_provider_hopsjobs.hooks.hopsworks import HopsworksHook

from ..airflow_processes import AirflowProcesses, poll
from ..profiles import TASK_HEARTBEAT_TIMEOUT, TRIGGERER_HEALTH_CHECK_THRESHOLD
from ..scenarios import (
    execution_id,
    mapped_kill_kills_exactly_its_execution,
    mapped_sensor_kill_ends_exactly_its_wait,
    mapped_states,
    reattach_record,
)

pytestmark = pytest.mark.real_airflow

JOB_DAG = "real_airflow_hopsworks_job"
FAILOVER_DAG = "real_airflow_hopsworks_failover"
FAILOVER_RUNS = 20
SYNC_DAG = "real_airflow_hopsworks_sync"
SYNC_MAPPED_DAG = "real_airflow_hopsworks_sync_mapped"
DONE_LINE = "sleeper: done"


def _figure(name: str, seconds: float) -> None:
    print(f"\n[production profile] {name}: {seconds:.1f} s")


def test_profile_runs_postgres_celery_and_two_triggerers(production_airflow: AirflowProcesses) -> None:
    airflow = production_airflow
    assert int(airflow.sql("SELECT current_setting('server_version_num')")[0][0]) >= 150000
    assert set(airflow.triggerer_jobs) == {"triggerer", "triggerer-2"}
    assert len(set(airflow.triggerer_jobs.values())) == 2
    assert all(airflow.worker_ready(name) for name in ("celery-worker-1", "celery-worker-2"))


def test_marking_one_mapped_deferred_run_failed_kills_exactly_its_execution(
    production_airflow: AirflowProcesses, hopsworks_conn: EmulatorHandle
) -> None:
    mapped_kill_kills_exactly_its_execution(production_airflow, hopsworks_conn, "prod_mapped_kill")


def test_marking_one_mapped_deferred_sensor_failed_ends_exactly_its_wait(
    production_airflow: AirflowProcesses, hopsworks_conn: EmulatorHandle
) -> None:
    mapped_sensor_kill_ends_exactly_its_wait(production_airflow, hopsworks_conn, "prod_mapped_sensor")


def _trigger_owners(airflow: AirflowProcesses, dag_id: str, run_id: str) -> dict[int, int | None]:
    """map index -> triggerer job id holding its trigger (None: not assigned yet), deferred tasks only."""
    rows = airflow.sql(
        "SELECT ti.map_index, t.triggerer_id FROM task_instance ti JOIN trigger t ON ti.trigger_id = t.id"
        " WHERE ti.dag_id = :dag_id AND ti.run_id = :run_id AND ti.state = 'deferred'",
        dag_id=dag_id,
        run_id=run_id,
    )
    return {int(map_index): owner for map_index, owner in rows}


def test_a_second_triggerer_takes_over_the_triggers_of_a_killed_one(
    production_airflow: AirflowProcesses, hopsworks_conn: EmulatorHandle
) -> None:
    airflow, job_name = production_airflow, "prod_failover"
    airflow.wait_for_dag(FAILOVER_DAG)
    started = time.monotonic()
    run_id = airflow.trigger_dag(FAILOVER_DAG, {"job_name": job_name, "seconds": 60})
    indexes = range(FAILOVER_RUNS)

    def all_running() -> dict[int, int | None] | None:
        owners = _trigger_owners(airflow, FAILOVER_DAG, run_id)
        if len(owners) < FAILOVER_RUNS or None in owners.values():
            return None
        running = all(airflow.trigger_logs(FAILOVER_DAG, run_id, "run_job", i) for i in indexes)
        return owners if running else None

    owners = poll(
        f"{FAILOVER_RUNS} deferred tasks with running triggers",
        all_running,
        timeout=420,
        interval=2,
        on_timeout=lambda: str(mapped_states(airflow, FAILOVER_DAG, run_id)),
    )
    _figure(f"{FAILOVER_RUNS} tasks deferred with running triggers", time.monotonic() - started)
    names = {job: name for name, job in airflow.triggerer_jobs.items()}
    victim_job = int(Counter(owners.values()).most_common(1)[0][0] or 0)
    victim = names[victim_job]
    survivor_job = next(job for job in names if job != victim_job)
    moved = sorted(i for i, owner in owners.items() if owner == victim_job)
    spread = dict(Counter(owners.values()))
    print(f"\n[production profile] triggers per triggerer job: {spread}; killing {victim}")

    killed_at = time.monotonic()
    airflow.kill_component(victim)

    def taken_over() -> bool | None:
        now = _trigger_owners(airflow, FAILOVER_DAG, run_id)
        # A trigger that already fired on the survivor has left the deferred set: it counts as moved.
        return True if all(now.get(i, survivor_job) == survivor_job for i in moved) else None

    poll("the surviving triggerer to own every trigger", taken_over, timeout=300, interval=0.5)
    _figure(
        f"hand-over of {len(moved)} triggers after SIGKILL (threshold {TRIGGERER_HEALTH_CHECK_THRESHOLD} s)",
        time.monotonic() - killed_at,
    )

    assert airflow.wait_for_dag_run(FAILOVER_DAG, run_id, timeout=600) == "success"
    _figure(f"{FAILOVER_RUNS} deferred runs complete after the trigger", time.monotonic() - started)
    tis = [ti for ti in airflow.task_instances(FAILOVER_DAG, run_id) if ti["task_id"] == "run_job"]
    assert {(ti["state"], ti["try_number"]) for ti in tis} == {("success", 1)}
    assert len(tis) == FAILOVER_RUNS
    assert hopsworks_conn.executions_started(job_name) == FAILOVER_RUNS
    for map_index in indexes:
        task_log = airflow.task_logs(FAILOVER_DAG, run_id, "run_job", map_index)["attempt=1.log"]
        assert task_log.count(DONE_LINE) == 1, map_index
    for map_index in moved:
        # Ran first on the killed triggerer, then on the survivor: one trigger log per triggerer.
        trigger_logs = airflow.trigger_logs(FAILOVER_DAG, run_id, "run_job", map_index)
        assert sorted(trigger_logs) == sorted(
            f"attempt=1.log.trigger.{job}.log" for job in (victim_job, survivor_job)
        ), map_index
    airflow.start_component(victim)  # back to two triggerers for the next tests


def test_a_sync_run_whose_worker_is_killed_reattaches_on_the_next_try(
    production_airflow: AirflowProcesses, hopsworks_conn: EmulatorHandle
) -> None:
    airflow, job_name = production_airflow, "prod_worker_loss"
    airflow.wait_for_dag(SYNC_DAG)
    run_id = airflow.trigger_dag(SYNC_DAG, {"job_name": job_name, "seconds": 90})
    airflow.wait_for_task_state(SYNC_DAG, run_id, "run_job", {"running"}, timeout=240)
    record = poll(
        "the reattach record of the first try",
        lambda: reattach_record(airflow, SYNC_DAG, run_id, "run_job"),
        timeout=120,
    )
    assert hopsworks_conn.executions_started(job_name) == 1
    ti = airflow.task_instance(SYNC_DAG, run_id, "run_job")
    worker = airflow.component_of(int(ti["pid"]))
    assert worker is not None and worker.startswith("celery-worker"), (ti["pid"], ti["hostname"])

    killed_at = time.monotonic()
    airflow.kill_component(worker)

    def second_try_running() -> bool | None:
        current = airflow.task_instance(SYNC_DAG, run_id, "run_job")
        return True if current["try_number"] == 2 and current["state"] == "running" else None

    poll("the second try to run", second_try_running, timeout=400, interval=1)
    _figure(
        f"worker SIGKILL to second try running (heartbeat timeout {TASK_HEARTBEAT_TIMEOUT} s)",
        time.monotonic() - killed_at,
    )
    assert airflow.wait_for_dag_run(SYNC_DAG, run_id, timeout=400) == "success"
    _figure("worker SIGKILL to run success", time.monotonic() - killed_at)

    assert hopsworks_conn.executions_started(job_name) == 1
    execution = HopsworksHook().get_execution(job_name, record["execution_id"])
    assert execution.final_status == "SUCCEEDED"
    second = airflow.task_logs(SYNC_DAG, run_id, "run_job")["attempt=2.log"]
    assert f"Reattaching to execution {record['execution_id']} of an earlier try" in second
    assert second.count(DONE_LINE) == 1
    assert reattach_record(airflow, SYNC_DAG, run_id, "run_job") is None
    airflow.start_component(worker)
    airflow.wait_healthy(timeout=240)


def test_scheduler_and_api_server_restarts_during_a_deferred_wait_change_nothing(
    production_airflow: AirflowProcesses, hopsworks_conn: EmulatorHandle
) -> None:
    airflow, job_name = production_airflow, "prod_restarts"
    airflow.wait_for_dag(JOB_DAG)
    run_id = airflow.trigger_dag(JOB_DAG, {"job_name": job_name, "seconds": 45})
    airflow.wait_for_task_state(JOB_DAG, run_id, "run_job", {"deferred"}, timeout=240)
    airflow.wait_for_trigger_log(JOB_DAG, run_id, "run_job", timeout=90)
    execution = execution_id(airflow, JOB_DAG, run_id, "run_job")

    airflow.restart_component("scheduler")
    airflow.restart_component("api-server")
    airflow.wait_healthy(timeout=240)

    assert airflow.wait_for_dag_run(JOB_DAG, run_id, timeout=400) == "success"
    ti = airflow.task_instance(JOB_DAG, run_id, "run_job")
    assert (ti["state"], ti["try_number"]) == ("success", 1)
    assert hopsworks_conn.executions_started(job_name) == 1
    assert HopsworksHook().get_execution(job_name, execution).final_status == "SUCCEEDED"
    assert airflow.task_logs(JOB_DAG, run_id, "run_job")["attempt=1.log"].count(DONE_LINE) == 1


def test_concurrent_mapped_sync_runs_keep_their_own_records_on_postgres(
    production_airflow: AirflowProcesses, hopsworks_conn: EmulatorHandle
) -> None:
    airflow, job_name = production_airflow, "prod_records"
    airflow.wait_for_dag(SYNC_MAPPED_DAG)
    run_id = airflow.trigger_dag(SYNC_MAPPED_DAG, {"job_name": job_name, "seconds": 40})

    def all_recorded() -> dict[int, dict[str, object]] | None:
        records = {i: reattach_record(airflow, SYNC_MAPPED_DAG, run_id, "run_job", i) for i in range(3)}
        return {i: r for i, r in records.items() if r} if all(records.values()) else None

    records = poll("three reattach records", all_recorded, timeout=300, interval=1)
    assert {r["job_name"] for r in records.values()} == {job_name}
    assert len({r["execution_id"] for r in records.values()}) == 3

    assert airflow.wait_for_dag_run(SYNC_MAPPED_DAG, run_id, timeout=400) == "success"
    assert mapped_states(airflow, SYNC_MAPPED_DAG, run_id) == {0: "success", 1: "success", 2: "success"}
    assert hopsworks_conn.executions_started(job_name) == 3
    assert [reattach_record(airflow, SYNC_MAPPED_DAG, run_id, "run_job", i) for i in range(3)] == [None] * 3
