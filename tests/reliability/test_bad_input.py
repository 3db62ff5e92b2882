"""Bad input: one table. Each entry gets a clear error before any remote side effect.

For every entry the emulator's request counters are read before and after: an entry
that is refused on its face sends nothing at all; one that needs to look something up
(an unknown execution, a server that answers with HTML) may read, never write, and
starts no execution.
"""

from __future__ import annotations

import http.server
import json
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from airflow_provider_hopsjobs.emulator.handle import EmulatorHandle
from airflow_provider_hopsjobs.errors import (
    HopsworksApiError,
    HopsworksApiUnavailableError,
    HopsworksConfigError,
    HopsworksNotFoundError,
)
from airflow_provider_hopsjobs.hooks.hopsworks import HopsworksHook
from airflow_provider_hopsjobs.operators.jobs import (
    HopsworksCreateJobOperator,
    HopsworksRunJobOperator,
    HopsworksStopExecutionOperator,
)
from airflow_provider_hopsjobs.operators.schedules import HopsworksScheduleJobOperator
from airflow_provider_hopsjobs.sensors.execution import HopsworksExecutionSensor
from airflow_provider_hopsjobs.timetables.quartz import QuartzCronTimetable
from airflow_provider_hopsjobs.triggers.execution import HopsworksExecutionTrigger
from tests.airflow_support import make_context

JOB = "bad_input_job"  # exists (made by the fixture), with one finished execution
CONN_ENV = "AIRFLOW_CONN_HOPSWORKS_DEFAULT"


@dataclass
class World:
    """What an entry may use: the emulator, a misbehaving web server, a way to set the connection."""

    emulator: EmulatorHandle
    html_server: str
    monkeypatch: pytest.MonkeyPatch
    tmp_path: Path

    def connection(self, **changes: Any) -> None:
        conn = json.loads(self.emulator.connection_json())
        extra = {**conn.pop("extra"), **changes.pop("extra", {})}
        conn.update(changes)
        conn["extra"] = extra
        self.monkeypatch.setenv(CONN_ENV, json.dumps({k: v for k, v in conn.items() if v is not None}))


# -- a server that is not Hopsworks: a proxy's HTML pages, a body that is not JSON ---------------


class _NotHopsworks(http.server.BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        if "/jobs/" in self.path and self.path.endswith("html404"):
            status, body, kind = 404, b"<html><body><h1>404 Not Found</h1>nginx</body></html>", "text/html"
        else:
            status, body, kind = 200, b"<html><body>Please sign in</body></html>", "text/html"
        self.send_response(status)
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture(scope="module")
def html_server() -> Iterator[str]:
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _NotHopsworks)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"127.0.0.1:{server.server_address[1]}"
    server.shutdown()


@pytest.fixture(scope="module")
def existing_job(own_emulator: EmulatorHandle, tmp_path_factory: pytest.TempPathFactory) -> str:
    script = tmp_path_factory.mktemp("bad-input") / "ok.py"
    script.write_text("print('ok')\n")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv(CONN_ENV, own_emulator.connection_json())
        HopsworksCreateJobOperator(task_id="c", job_name=JOB, job_type="PYTHON", app_file=script).execute(
            make_context()
        )
    return JOB


@pytest.fixture
def world(
    emulator: EmulatorHandle, html_server: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> World:
    return World(emulator, html_server, monkeypatch, tmp_path)


# -- the table -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Bad:
    act: Callable[[World], Any]
    error: type[BaseException]
    match: str
    #: Whether looking things up is needed to tell (never writing).
    reads: bool = False


def _rendered_bad_name(world: World) -> None:
    op = HopsworksRunJobOperator(task_id="t", job_name="{{ params.job }}")
    op.job_name = "etl/daily"  # what the template rendered to
    op.execute(make_context())


def _html_404(world: World) -> None:
    host, port = world.html_server.split(":")
    world.connection(host=host, port=int(port), extra={"project_id": 119})
    HopsworksHook().get_job("html404")


def _not_json(world: World) -> None:
    host, port = world.html_server.split(":")
    world.connection(host=host, port=int(port), extra={"project_id": 119})
    HopsworksHook().get_job("etl")


def _proxy_502(world: World) -> None:
    world.connection(extra={"retry_attempts": 2})
    world.emulator.set_faults([{"path": f"/jobs/{JOB}$", "method": "GET", "fault": "502"}])
    HopsworksHook().get_job(JOB)


BAD_INPUT: dict[str, Bad] = {
    # job names
    "job name with a space": Bad(
        lambda w: HopsworksCreateJobOperator(task_id="t", job_name="daily etl", job_type="PYTHON"),
        HopsworksConfigError,
        r"Job name .*' '",
    ),
    "job name too long": Bad(
        lambda w: HopsworksRunJobOperator(task_id="t", job_name="x" * 300),
        HopsworksConfigError,
        r"longer than \d+ characters",
    ),
    "empty job name": Bad(
        lambda w: HopsworksHook().create_or_update_job("", "PYTHON", app_path="Resources/x.py"),
        HopsworksConfigError,
        "job name is required",
    ),
    "templated job name renders to a bad one": Bad(_rendered_bad_name, HopsworksConfigError, "'/'"),
    # job types and configurations
    "unknown job type": Bad(
        lambda w: HopsworksCreateJobOperator(task_id="t", job_name="j", job_type="FORTRAN"),
        HopsworksConfigError,
        "Unknown job_type 'FORTRAN'",
    ),
    "Spark job without a main class": Bad(
        lambda w: HopsworksHook().create_or_update_job("j", "SPARK", app_path="Resources/app.jar"),
        HopsworksConfigError,
        "mainClass",
    ),
    "Docker job without an image": Bad(
        lambda w: HopsworksHook().create_or_update_job("j", "DOCKER"), HopsworksConfigError, "imagePath"
    ),
    "main class for a Python job": Bad(
        lambda w: HopsworksHook().create_or_update_job(
            "j", "PYTHON", app_path="Resources/x.py", main_class="org.Main"
        ),
        HopsworksConfigError,
        "main_class only applies",
    ),
    # app paths
    "app path on another file system": Bad(
        lambda w: HopsworksHook().create_or_update_job("j", "PYSPARK", app_path="s3://bucket/etl.py"),
        HopsworksConfigError,
        "must be a project path or an hdfs:// URL",
    ),
    "both app_path and app_file": Bad(
        lambda w: HopsworksCreateJobOperator(
            task_id="t", job_name="j", job_type="PYTHON", app_path="Resources/x.py", app_file="x.py"
        ),
        HopsworksConfigError,
        "not both",
    ),
    "app_file that does not exist": Bad(
        lambda w: HopsworksCreateJobOperator(
            task_id="t", job_name="j", job_type="PYTHON", app_file=w.tmp_path / "missing.py"
        ).execute(make_context()),
        HopsworksConfigError,
        "not a readable file",
    ),
    # arguments and settings
    "args as a mapping": Bad(
        lambda w: HopsworksRunJobOperator(task_id="t", job_name=JOB, args={"date": "2024-01-01"}),
        HopsworksConfigError,
        "args must be a string or a list",
    ),
    "args as bytes": Bad(
        lambda w: HopsworksRunJobOperator(task_id="t", job_name=JOB, args=b"--date"),
        HopsworksConfigError,
        "args must be a string or a list",
    ),
    "negative timeout": Bad(
        lambda w: HopsworksRunJobOperator(task_id="t", job_name=JOB, timeout=-5),
        HopsworksConfigError,
        "timeout must not be negative",
    ),
    "unknown fetch_logs": Bad(
        lambda w: HopsworksRunJobOperator(task_id="t", job_name=JOB, fetch_logs="sometimes"),
        HopsworksConfigError,
        "fetch_logs must be",
    ),
    "deadline that is not epoch seconds": Bad(
        lambda w: HopsworksExecutionTrigger(job_name=JOB, execution_id=1, deadline=datetime(2030, 1, 1)),
        ValueError,
        "deadline must be epoch seconds",
    ),
    "execution id that is not a number": Bad(
        lambda w: HopsworksExecutionSensor(task_id="t", job_name=JOB, execution_id="latest-ish"),
        HopsworksConfigError,
        "execution_id must be an integer",
    ),
    # cron expressions
    "cron with too few fields": Bad(
        lambda w: HopsworksHook().create_or_update_schedule(JOB, "0 0 * *"),
        HopsworksConfigError,
        "field",
    ),
    "cron with a day of month out of range": Bad(
        lambda w: HopsworksScheduleJobOperator(task_id="t", job_name=JOB, cron_expression="0 0 0 32 * ?"),
        HopsworksConfigError,
        "32",
    ),
    "cron timetable with both day fields": Bad(
        lambda w: QuartzCronTimetable("0 0 12 1 * MON"), ValueError, "day-of-month|day-of-week|\\?"
    ),
    # connections
    "connection without host": Bad(
        lambda w: (w.connection(host=""), HopsworksHook().get_job(JOB)),
        HopsworksConfigError,
        "host",
    ),
    "connection without API key": Bad(
        lambda w: (w.connection(password=None), HopsworksHook().get_job(JOB)),
        HopsworksConfigError,
        "API key",
    ),
    "connection without project": Bad(
        lambda w: (w.connection(extra={"project": None}), HopsworksHook().get_job(JOB)),
        HopsworksConfigError,
        "project",
    ),
    "connection with a bad port": Bad(
        lambda w: (w.connection(port=70000), HopsworksHook().get_job(JOB)),
        HopsworksConfigError,
        "port",
    ),
    # what the server answers
    "an HTML 404 page from a proxy": Bad(
        _html_404, HopsworksApiError, r"HTTP 404: non-JSON body: .*404 Not Found"
    ),
    "a 200 answer that is not JSON": Bad(_not_json, HopsworksApiError, "not JSON"),
    "HTML 502 pages until the retries run out": Bad(
        _proxy_502, HopsworksApiUnavailableError, r"after 2 attempt.*HTTP 502: non-JSON body", reads=True
    ),
    # things that do not exist
    "unknown execution id": Bad(
        lambda w: HopsworksHook().get_execution(JOB, 999_999),
        HopsworksNotFoundError,
        "130007|not found",
        reads=True,
    ),
    "sensor on an unknown execution": Bad(
        lambda w: HopsworksExecutionSensor(task_id="t", job_name=JOB, execution_id=999_999).execute(
            make_context()
        ),
        HopsworksNotFoundError,
        "not found",
        reads=True,
    ),
    "stopping an unknown execution": Bad(
        lambda w: HopsworksStopExecutionOperator(task_id="t", job_name=JOB, execution_id=999_999).execute(
            make_context()
        ),
        HopsworksNotFoundError,
        "not found",
        reads=True,
    ),
    "running an unknown job": Bad(
        lambda w: HopsworksRunJobOperator(task_id="t", job_name="no_such_job").execute(make_context()),
        HopsworksNotFoundError,
        "no_such_job.*not found|not found.*no_such_job|130009",
        reads=True,
    ),
}


@pytest.mark.parametrize("case", list(BAD_INPUT.values()), ids=list(BAD_INPUT))
def test_bad_input_is_refused_before_any_side_effect(case: Bad, existing_job: str, world: World) -> None:
    emulator = world.emulator
    emulator.reset_counters()
    with pytest.raises(case.error, match=f"(?i){case.match}"):
        case.act(world)
    emulator.clear_faults()
    counts = emulator.request_counts()
    writes = {route: n for route, n in counts.items() if not route.startswith("GET ")}
    assert writes == {}, "a write reached Hopsworks"
    assert emulator.executions_started() == 0
    if not case.reads:
        assert counts == {}, "refused on its face, yet something was sent"
