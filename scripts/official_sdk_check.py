"""Drive the unmodified official Hopsworks SDK through a job's whole life against an emulator.

Run by ``scripts/check_official_sdk.sh`` with the SDK's own interpreter (``.venv-sdk``), never
with the provider's: the point is that a client we did not write accepts the emulator's
answers. Connection details come from the emulator's ready file (it holds the API key, so
the key never appears on a command line), and TLS is verified against the given CA file.

Each step prints ``PASS <step>`` or ``FAIL <step>: <why>``; a step of the job's life that
cannot run because an earlier one failed prints ``SKIP``. Exit status 0 only when every
step passed.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
import tempfile
import time
import traceback
import uuid
from collections.abc import Callable
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

JOB_SCRIPT = """\
import os
import sys
import time

print("stdout marker {marker} args=" + " ".join(sys.argv[1:]), flush=True)
print("stderr marker {marker}", file=sys.stderr, flush=True)
if "fail" in sys.argv[1:]:
    sys.exit(3)
if "dates" in sys.argv[1:]:
    names = ["HOPS_START_TIME", "HOPS_END_TIME", "HOPS_LOGICAL_DATE", "SDK_CHECK_VAR"]
    print("received " + " ".join(f"{{n}}={{os.environ.get(n)}}" for n in names), flush=True)
if "slow" in sys.argv[1:]:
    for i in range(600):
        print(f"tick {{i}}", flush=True)
        time.sleep(0.1)
"""
RUN_START = datetime(2026, 1, 1, tzinfo=timezone.utc)
RUN_END = datetime(2026, 1, 2, tzinfo=timezone.utc)
JOB_ARGS = "alpha beta"
CRON = "0 0 * ? * * *"  # hourly, Quartz syntax as Hopsworks wants it
CREDENTIALS_ROUTE = "GET /hopsworks-api/api/project/{id}/credentials"


class StepFailed(AssertionError):
    """A step ran but its outcome was not the expected one."""


def _check(condition: bool, message: str) -> None:
    if not condition:
        raise StepFailed(message)


class Checker:
    """Runs named steps in order and reports each one.

    The job's life is one chain (no job to run without a login), so a chained step after a
    failure is reported as skipped; independent steps run whatever happened before.
    """

    def __init__(self) -> None:
        self.results: list[tuple[str, str]] = []
        self.failed = False
        self.chain_broken = False

    def step(self, name: str, action: Callable[[], str], *, chained: bool = True) -> None:
        if chained and self.chain_broken:
            self._report(name, "SKIP", "an earlier step failed")
            return
        started = time.monotonic()
        try:
            detail = action()
        except Exception as exc:  # any error of the SDK is the failure being reported
            self.failed = True
            self.chain_broken = self.chain_broken or chained
            traceback.print_exc(file=sys.stderr)
            self._report(name, "FAIL", f"{type(exc).__name__}: {exc}")
            return
        self._report(name, "PASS", f"{detail} ({time.monotonic() - started:.1f} s)")

    def _report(self, name: str, verdict: str, detail: str) -> None:
        self.results.append((name, verdict))
        print(f"{verdict} {name}: {detail}", flush=True)


class SdkFlow:
    """The steps, sharing what earlier ones produced (project, job, execution)."""

    def __init__(self, hopsworks: Any, info: dict[str, Any], args: argparse.Namespace, workdir: Path) -> None:
        self.hopsworks = hopsworks
        self.info = info
        self.args = args
        self.workdir = workdir
        self.marker = uuid.uuid4().hex
        self.job_name = f"sdk_check_{self.marker[:8]}"
        self.script = workdir / "sdk_check_job.py"
        self.script.write_text(JOB_SCRIPT.format(marker=self.marker))
        self.project: Any = None
        self.job_api: Any = None
        self.job: Any = None
        self.execution: Any = None
        self.remote_path = ""

    def _login(self, engine: str, ca_file: str) -> Any:
        return self.hopsworks.login(
            host=self.info["host"],
            port=int(self.info["port"]),
            project=self.info["project"],
            api_key_value=self.info["api_key"],
            hostname_verification=True,  # really verify the certificate, against ca_file only
            trust_store_path=ca_file,
            cert_folder=str(self.workdir / "certs"),  # client credentials the python engine downloads
            engine=engine,
        )

    def _credentials_calls(self) -> int:
        """How often the emulator served the credentials endpoint (from its admin counters)."""
        import requests

        answer = requests.get(
            f"{self.info['base_url']}/_emulator/requests",
            headers={"Authorization": f"ApiKey {self.info['api_key']}"},
            verify=self.args.ca_file,
            timeout=30,
        )
        answer.raise_for_status()
        counts: dict[str, int] = answer.json()["counts"]
        return counts.get(CREDENTIALS_ROUTE, 0)

    def untrusted_refused(self) -> str:
        from hopsworks.client.exceptions import HopsworksSSLClientError

        try:
            self._login(self.args.engine, self.args.other_ca_file)
        except HopsworksSSLClientError as exc:
            return f"refused: {type(exc.__cause__).__name__}"
        raise StepFailed("the SDK logged in although it trusted another CA only")

    def login(self) -> str:
        before = self._credentials_calls()
        project = self._login(self.args.engine, self.args.ca_file)
        _check(project is not None, "login returned no project")
        _check(project.name == self.info["project"], f"logged in to {project.name!r}")
        _check(project.id == self.info["project_id"], f"project id {project.id!r}")
        if self.args.engine == "python":
            downloaded = self._credentials_calls() - before
            _check(downloaded == 1, f"the python engine fetched client credentials {downloaded} times")
        self.project = project
        return f"project {project.name} (id {project.id})"

    def upload(self) -> str:
        dataset_api = self.project.get_dataset_api()
        remote = dataset_api.upload(str(self.script), "Resources/sdk_check", overwrite=True)
        _check(dataset_api.exists(remote), f"{remote} does not exist after the upload")
        self.remote_path = remote
        return str(remote)

    def create_job(self) -> str:
        self.job_api = self.project.get_job_api()
        config = self.job_api.get_configuration("PYTHON")
        _check(config.get("type") == "pythonJobConfiguration", f"default config type {config.get('type')!r}")
        config["appPath"] = self.remote_path
        job = self.job_api.create_job(self.job_name, config)
        _check(job.name == self.job_name, f"created job is named {job.name!r}")
        _check(job.job_type == "PYTHON", f"created job has type {job.job_type!r}")
        fetched = self.job_api.get_job(self.job_name)
        _check(fetched is not None and fetched.id == job.id, "get_job does not return the created job")
        self.job = job
        return f"job {job.name} (id {job.id}), appPath {job.config['appPath']}"

    def run_job(self) -> str:
        execution = self.job.run(args=JOB_ARGS, await_termination=True)
        _check(execution.success is True, f"success={execution.success!r} state={execution.state!r}")
        _check(execution.state == "FINISHED", f"state {execution.state!r}")
        self.execution = execution
        return f"execution {execution.id} {execution.state}/{execution.final_status}"

    def download_logs(self) -> str:
        out_path, err_path = self.execution.download_logs(str(self.workdir))
        _check(out_path is not None, "no stdout log was downloaded")
        _check(err_path is not None, "no stderr log was downloaded")
        out_text = Path(out_path).read_text()
        err_text = Path(err_path).read_text()
        expected_out = f"stdout marker {self.marker} args={JOB_ARGS}"
        expected_err = f"stderr marker {self.marker}"
        _check(expected_out in out_text, f"{expected_out!r} not in the stdout log: {out_text[:500]!r}")
        _check(expected_err in err_text, f"{expected_err!r} not in the stderr log: {err_text[:500]!r}")
        return f"{out_path} ({len(out_text)} chars), {err_path} ({len(err_text)} chars)"

    def dated_run(self) -> str:
        """Hopsworks 5.x: ``job.run`` with a data interval, a logical date and env vars (JSON start)."""
        execution = self.job.run(
            args="dates",
            await_termination=True,
            start_time=RUN_START,
            end_time=RUN_END,
            logical_date=RUN_START,
            env_vars={"SDK_CHECK_VAR": self.marker},
        )
        _check(execution.success is True, f"success={execution.success!r} state={execution.state!r}")
        out_path, _ = execution.download_logs(str(self.workdir))
        out_text = Path(out_path).read_text()
        expected = (
            f"received HOPS_START_TIME={RUN_START.isoformat()} HOPS_END_TIME={RUN_END.isoformat()} "
            f"HOPS_LOGICAL_DATE={RUN_START.isoformat()} SDK_CHECK_VAR={self.marker}"
        )
        _check(expected in out_text, f"{expected!r} not in the stdout log: {out_text[:500]!r}")
        return expected

    def pod_logs(self) -> str:
        """Hopsworks 5.1: ``execution.get_pod_logs()`` tails a running execution."""
        execution = self.job.run(args="slow", await_termination=False)
        seen: Any = None
        try:
            for _ in range(150):
                seen = execution.get_pod_logs(lines=5)
                if seen.status == "AVAILABLE" and "tick" in (seen.log or ""):
                    break
                time.sleep(0.1)
            _check(seen is not None and seen.status == "AVAILABLE", f"pod log {seen!r}")
            _check(seen.available is True and seen.pod_name, f"pod log {seen!r}")
            lines = (seen.log or "").splitlines()
            _check(0 < len(lines) <= 5, f"asked for 5 lines, got {lines!r}")
        finally:
            execution.stop()
        return f"{seen.status} from pod {seen.pod_name}: {lines[-1]!r}"

    def failing_run(self) -> str:
        from hopsworks.client.exceptions import JobExecutionException

        try:
            execution = self.job.run(args="fail", await_termination=True)
        except JobExecutionException as exc:
            final = self.job.get_final_state()
            _check(final == "FAILED", f"final state of the failed run: {final!r}")
            return f"JobExecutionException: {exc}"
        raise StepFailed(
            f"a run exiting 3 ended without an error: {execution.state}/{execution.final_status}"
        )

    def schedule(self) -> str:
        created = self.job.schedule(CRON, start_time=datetime.now(timezone.utc))
        _check(created.enabled is True, f"new schedule enabled={created.enabled!r}")
        stored = self.job_api.get_job(self.job_name).job_schedule
        _check(stored is not None and stored.cron_expression == CRON, f"stored schedule {stored!r}")
        _check(self.job.pause_schedule().enabled is False, "pause_schedule left the schedule enabled")
        _check(self.job.resume_schedule().enabled is True, "resume_schedule left the schedule disabled")
        self.job.unschedule()
        remaining = self.job_api.get_job(self.job_name).job_schedule
        _check(remaining is None, f"the schedule is still there after unschedule: {remaining!r}")
        return f"created, paused, resumed, removed (next fire was {stored.next_execution_date_time})"

    def delete_job(self) -> str:
        self.job.delete()
        _check(self.job_api.get_job(self.job_name) is None, "the job is still there after delete")
        return f"job {self.job_name} is gone"

    def login_training(self) -> str:
        before = self._credentials_calls()
        project = self._login("training", self.args.ca_file)
        _check(project is not None and project.id == self.info["project_id"], f"project {project!r}")
        _check(self._credentials_calls() == before, "the training engine fetched client credentials")
        return "no client credentials fetched"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--ready-file", type=Path, required=True, help="the emulator's ready file (JSON)")
    parser.add_argument("--ca-file", required=True, help="PEM file the server certificate must chain to")
    parser.add_argument(
        "--other-ca-file", default=None, help="an unrelated CA: a login trusting only it must be refused"
    )
    parser.add_argument(
        "--engine", default="python", help="hopsworks.login engine (python fetches client credentials)"
    )
    parser.add_argument("--workdir", type=Path, default=None, help="where the script and logs go")
    args = parser.parse_args(argv)

    info: dict[str, Any] = json.loads(args.ready_file.read_text())
    workdir = args.workdir or Path(tempfile.mkdtemp(prefix="official-sdk-check-"))
    logging.basicConfig(level=logging.WARNING)

    from importlib.metadata import version

    import hopsworks  # the SDK under test; imported late so --help works without it

    print(f"official Hopsworks SDK {version('hopsworks')} against {info['base_url']}", flush=True)
    flow = SdkFlow(hopsworks, info, args, workdir)
    checker = Checker()
    if args.other_ca_file:
        checker.step(
            "TLS: a certificate the SDK does not trust is refused", flow.untrusted_refused, chained=False
        )
    checker.step(f"login (engine={args.engine})", flow.login)
    checker.step("upload script", flow.upload)
    checker.step("create job", flow.create_job)
    checker.step("run job and await termination", flow.run_job)
    checker.step("download logs", flow.download_logs)
    checker.step("run with logical_date, start/end time and env_vars (5.x JSON start)", flow.dated_run)
    checker.step("get_pod_logs of a running execution (5.1)", flow.pod_logs)
    checker.step("a failing run raises JobExecutionException", flow.failing_run)
    checker.step("v2 cron schedule", flow.schedule)
    checker.step("delete job", flow.delete_job)
    if args.engine != "training":
        checker.step("login (engine=training)", flow.login_training, chained=False)
    hopsworks.logout()

    passed = sum(verdict == "PASS" for _, verdict in checker.results)
    print(f"{passed} of {len(checker.results)} steps passed", flush=True)
    return 1 if checker.failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
