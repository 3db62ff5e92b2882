"""Builds the parts of one emulator process, each handed what it needs (the composition root).

Nothing is completed after construction and no part holds a reference to this record: it
exists for the app factory (routes, lifespan) and the server (ready file, shutdown).
The order of the steps is the order state is created in on a fresh data directory (user
before project, so ids stay as they always were).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from airflow_provider_hopsjobs.emulator.accounts import Accounts
from airflow_provider_hopsjobs.emulator.auth import Authenticator
from airflow_provider_hopsjobs.emulator.clock import Clock
from airflow_provider_hopsjobs.emulator.clock_persistence import ClockPersistence
from airflow_provider_hopsjobs.emulator.counters import Counters
from airflow_provider_hopsjobs.emulator.engine import Engine
from airflow_provider_hopsjobs.emulator.faults import FaultInjector
from airflow_provider_hopsjobs.emulator.fs import ProjectFiles
from airflow_provider_hopsjobs.emulator.lifecycle import Lifecycle
from airflow_provider_hopsjobs.emulator.log_aggregation import LogAggregator
from airflow_provider_hopsjobs.emulator.processes import JobProcesses
from airflow_provider_hopsjobs.emulator.recorder import ExecutionRecorder
from airflow_provider_hopsjobs.emulator.scheduler import Scheduler
from airflow_provider_hopsjobs.emulator.settings import Settings
from airflow_provider_hopsjobs.emulator.store import Store


@dataclass(frozen=True)
class Emulator:
    """Everything one emulator process shares between requests and background tasks."""

    settings: Settings
    clock: Clock
    clock_persistence: ClockPersistence
    store: Store
    files: ProjectFiles
    auth: Authenticator
    accounts: Accounts
    counters: Counters
    faults: FaultInjector
    recorder: ExecutionRecorder
    logs: LogAggregator
    engine: Engine
    scheduler: Scheduler


def assemble(settings: Settings, clock: Clock | None = None) -> Emulator:
    """The parts, with state loaded from (or created in) ``settings.data_dir``.

    A given ``clock`` is used as it is; otherwise the clock starts where a previous run left it.
    """
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    the_clock = clock or Clock()
    store = Store(settings.data_dir / "emulator.sqlite3")
    clock_persistence = ClockPersistence(the_clock, store)
    if clock is None:
        clock_persistence.restore()  # time never goes back across a restart
    files = ProjectFiles(settings.data_dir / "fs")
    auth = Authenticator(store)
    counters = Counters()
    accounts = Accounts(
        store, the_clock, files, api_key=settings.resolved_api_key(), project=settings.project
    )
    faults = FaultInjector()
    if settings.faults:
        faults.configure(settings.faults, settings.fault_seed)
    recorder = ExecutionRecorder(store, the_clock)
    logs = LogAggregator(store, files, recorder, settings)
    processes = JobProcesses(settings)
    lifecycle = Lifecycle(
        store=store,
        clock=the_clock,
        settings=settings,
        files=files,
        recorder=recorder,
        processes=processes,
        logs=logs,
        runs_root=runs_root(settings),
    )
    engine = Engine(
        store=store,
        clock=the_clock,
        counters=counters,
        recorder=recorder,
        processes=processes,
        logs=logs,
        lifecycle=lifecycle,
    )
    scheduler = Scheduler(store=store, clock=the_clock, settings=settings, engine=engine)
    return Emulator(
        settings=settings,
        clock=the_clock,
        clock_persistence=clock_persistence,
        store=store,
        files=files,
        auth=auth,
        accounts=accounts,
        counters=counters,
        faults=faults,
        recorder=recorder,
        logs=logs,
        engine=engine,
        scheduler=scheduler,
    )


def runs_root(settings: Settings) -> Path:
    """Where each execution gets ``<id>/cwd`` and its output until the logs are aggregated."""
    return settings.data_dir / "runs"
