"""``hopsjobs migrate-schedules``: move Hopsworks v2 cron schedules into Airflow DAGs.

The order of the steps is the safety property. For each job the DAG file is written
first, then imported the way Airflow will import it, and only when that succeeded is the
Hopsworks schedule switched off. A job therefore never ends up with both schedules on
(it would run twice) or with neither (it would not run at all). Without ``--out`` the
command only prints the plan.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

from airflow_provider_hopsjobs.cli.dag_render import (
    MigratedSchedule,
    dag_id_for,
    epoch_ms_to_datetime,
    render_dag,
)
from airflow_provider_hopsjobs.errors import HopsworksError

if TYPE_CHECKING:
    from airflow_provider_hopsjobs.hooks.hopsworks import HopsworksHook

#: Appended to the job's arguments with ``--append-start-time``: Hopsworks 3.x passed each
#: scheduled run its fire time as ``-start_time <ISO instant>``.
START_TIME_ARG = "-start_time {{ logical_date.strftime('%Y-%m-%dT%H:%M:%SZ') }}"


@dataclass
class PlanEntry:
    """One job's fate in the migration, reported in the summary table."""

    job_name: str
    status: str
    detail: str = ""
    cron_expression: str = ""
    dag_file: Path | None = None
    schedule: MigratedSchedule | None = None
    schedule_enabled: bool = False


def configure_parser(parser: argparse.ArgumentParser) -> None:
    """Declare the subcommand's options."""
    parser.add_argument("--conn-id", default="hopsworks_default", help="Airflow connection to Hopsworks")
    parser.add_argument("--project", default=None, help="project name (overrides the connection's)")
    parser.add_argument("--out", type=Path, default=None, help="write one DAG file per scheduled job here")
    parser.add_argument(
        "--disable",
        action="store_true",
        help="switch each Hopsworks schedule off once its DAG file is written and imports cleanly",
    )
    parser.add_argument("--dag-id-prefix", default="hopsworks_", help="prefix of generated DAG ids")
    parser.add_argument(
        "--append-start-time",
        action="store_true",
        help="pass '-start_time <fire time>' to the job, as Hopsworks 3.x scheduled runs did",
    )


def run(args: argparse.Namespace) -> int:
    """Entry point of ``hopsjobs migrate-schedules``; returns the exit code."""
    if args.disable and args.out is None:
        print("--disable needs --out: a schedule is only switched off once its DAG exists.", file=sys.stderr)
        return 2
    from airflow_provider_hopsjobs.hooks.hopsworks import HopsworksHook

    hook = HopsworksHook(hopsworks_conn_id=args.conn_id, project=args.project)
    try:
        jobs = hook.list_jobs()
    except Exception as err:
        # A missing connection, a wrong key, an unreachable host: one line that says which,
        # not a traceback. Nothing has been written or changed at this point.
        print(
            f"hopsjobs migrate-schedules: cannot list the jobs through connection {args.conn_id!r}: "
            f"{_one_line(err)}",
            file=sys.stderr,
        )
        return 1
    entries = build_plan(
        jobs,
        conn_id=args.conn_id,
        project=args.project,
        dag_id_prefix=args.dag_id_prefix,
        append_start_time=args.append_start_time,
    )
    if args.out is not None:
        apply_plan(entries, hook, out_dir=args.out, disable=args.disable)
    print_summary(entries, dry_run=args.out is None)
    return 1 if any(entry.status == "failed" for entry in entries) else 0


def build_plan(
    jobs: Iterable[dict[str, Any]],
    *,
    conn_id: str,
    project: str | None,
    dag_id_prefix: str = "hopsworks_",
    append_start_time: bool = False,
) -> list[PlanEntry]:
    """Decide, without side effects, what happens to every job."""
    from airflow_provider_hopsjobs.errors import HopsworksConfigError
    from airflow_provider_hopsjobs.hooks.cron import normalise_quartz_cron

    entries: list[PlanEntry] = []
    for job in sorted(jobs, key=lambda j: str(j.get("name", ""))):
        name = str(job.get("name", ""))
        schedule = job.get("jobSchedule")
        if not schedule:
            entries.append(PlanEntry(name, "no schedule", "job has no v2 schedule; nothing to migrate"))
            continue
        expression = str(schedule.get("cronExpression", ""))
        try:
            normalise_quartz_cron(expression)
        except HopsworksConfigError as err:
            entries.append(PlanEntry(name, "unsupported", str(err), cron_expression=expression))
            continue
        default_args = (job.get("config") or {}).get("defaultArgs") or ""
        if append_start_time:
            default_args = f"{default_args} {START_TIME_ARG}".strip()
        migrated = MigratedSchedule(
            job_name=name,
            cron_expression=expression,
            start=epoch_ms_to_datetime(schedule.get("startDateTime")),
            end=epoch_ms_to_datetime(schedule.get("endDateTime")),
            default_args=default_args,
            conn_id=conn_id,
            project=project,
            dag_id=dag_id_for(name, dag_id_prefix),
            paused=not schedule.get("enabled"),
        )
        enabled = bool(schedule.get("enabled"))
        if enabled:
            entry = PlanEntry(name, "to migrate", "", expression, schedule=migrated, schedule_enabled=True)
        else:
            entry = PlanEntry(
                name,
                "disabled",
                "Hopsworks schedule is off; its DAG would start paused",
                expression,
                schedule=migrated,
            )
        entries.append(entry)
    return entries


def apply_plan(entries: list[PlanEntry], hook: HopsworksHook, *, out_dir: Path, disable: bool) -> None:
    """Write DAG files, check they import, and (if asked) switch Hopsworks schedules off."""
    out_dir.mkdir(parents=True, exist_ok=True)
    for entry in entries:
        if entry.schedule is None:
            continue
        path = out_dir / f"{entry.schedule.dag_id}.py"
        entry.dag_file = path
        if not entry.schedule_enabled and path.exists():
            # Switched off by an earlier run of this command (or already off then): the DAG
            # that file holds is the one in charge, and rewriting it paused would stop it.
            entry.status, entry.detail = "migrated", "DAG exists; Hopsworks schedule is off"
            continue
        source = render_dag(entry.schedule)
        written = _write_if_changed(path, source)
        problem = check_dag_file(path, entry.schedule.dag_id)
        if problem:
            entry.status, entry.detail = "failed", f"DAG file does not import cleanly: {problem}"
            continue
        note = "DAG written" if written else "DAG unchanged"
        if not entry.schedule_enabled:
            entry.status, entry.detail = "disabled", f"{note} (paused); Hopsworks schedule was already off"
            continue
        if not disable:
            entry.status, entry.detail = "written", f"{note}; Hopsworks schedule still ON (use --disable)"
            continue
        try:
            hook.set_schedule_enabled(entry.job_name, False)
        except HopsworksError as err:
            entry.status = "failed"
            entry.detail = f"{note}; could not switch the Hopsworks schedule off: {_one_line(err)}"
            continue
        entry.status, entry.detail = "migrated", f"{note}; Hopsworks schedule switched off"


def _one_line(error: BaseException) -> str:
    """An error as one line: its type when the text does not say what kind of problem it is."""
    text = " ".join(str(error).split()) or type(error).__name__
    if isinstance(error, HopsworksError):
        return text
    return f"{type(error).__name__}: {text}"


def _write_if_changed(path: Path, source: str) -> bool:
    # A re-run must not rewrite (or duplicate) a file whose schedule did not change, even
    # though a schedule without a start date renders "today" as its start date.
    if path.exists() and _without_start(path.read_text()) == _without_start(source):
        return False
    path.write_text(source)
    return True


def _without_start(source: str) -> str:
    return "\n".join(line for line in source.splitlines() if not line.lstrip().startswith("start_date="))


def check_dag_file(path: Path, dag_id: str) -> str | None:
    """Import the file the way the DAG processor would; return a problem, or None if clean."""
    try:
        from airflow.dag_processing.dagbag import DagBag

        bag = DagBag(dag_folder=str(path))  # 3.3 no longer loads example DAGs here
    except ImportError:  # Airflow 3.0-3.2
        from airflow.models.dagbag import DagBag  # type: ignore[no-redef]

        bag = DagBag(dag_folder=str(path), include_examples=False)  # type: ignore[call-arg]
    if bag.import_errors:
        return "; ".join(str(err).strip().splitlines()[-1] for err in bag.import_errors.values())
    if dag_id not in bag.dags:
        return f"no DAG with id {dag_id!r} in {path.name}"
    return None


def print_summary(entries: list[PlanEntry], *, dry_run: bool, stream: TextIO | None = None) -> None:
    """Print one row per job, so nothing is ever skipped silently."""
    out = stream or sys.stdout
    if dry_run:
        print("Dry run: nothing written, no schedule changed. Use --out DIR [--disable] to apply.", file=out)
    rows = [("job", "cron", "status", "detail")] + [
        (entry.job_name, entry.cron_expression or "-", entry.status, entry.detail) for entry in entries
    ]
    widths = [max(len(row[i]) for row in rows) for i in range(3)]
    for index, row in enumerate(rows):
        print(
            "  ".join(cell.ljust(width) for cell, width in zip(row[:3], widths, strict=True)),
            row[3],
            file=out,
        )
        if index == 0:
            print("  ".join("-" * width for width in widths), "-" * 6, file=out)
    counts: dict[str, int] = {}
    for entry in entries:
        counts[entry.status] = counts.get(entry.status, 0) + 1
    print("Total: " + ", ".join(f"{n} {status}" for status, n in sorted(counts.items())), file=out)
