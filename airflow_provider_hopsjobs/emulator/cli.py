"""``hopsjobs emulator``: serve a local Hopsworks emulator.

Example::

    hopsjobs emulator --port 28181 --project demo
    # prints the base URL and an AIRFLOW_CONN_HOPSWORKS_DEFAULT value to paste

The API key is ``--api-key``, else ``$HOPSJOBS_EMULATOR_API_KEY``, else the key saved in
the data directory by an earlier run, else a new one. Faults can be switched on from the
start with ``--fault`` (repeatable; a JSON rule or the shorthand
``ACTION[,ACTION...][%RATE][~PATH_REGEX]``, e.g. ``503,drop%0.2~/executions``) and
``--fault-seed``; see :mod:`airflow_provider_hopsjobs.emulator.faults`.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import sys
from pathlib import Path
from typing import Any

DEFAULT_DATA_DIR = (
    Path(os.environ.get("XDG_DATA_HOME", Path.home() / ".local" / "share")) / "hopsjobs-emulator"
)
API_KEY_ENV = "HOPSJOBS_EMULATOR_API_KEY"


def configure_parser(parser: argparse.ArgumentParser) -> None:
    parser.description = "Serve a local Hopsworks-compatible API that really runs Python jobs."
    parser.add_argument("--host", default="127.0.0.1", help="address to bind (default: 127.0.0.1)")
    parser.add_argument("--port", type=int, default=0, help="port to bind; 0 picks a free one (default)")
    parser.add_argument(
        "--data-dir",
        type=Path,
        default=DEFAULT_DATA_DIR,
        help=f"where state is kept (default: {DEFAULT_DATA_DIR})",
    )
    parser.add_argument(
        "--api-key", default=None, help=f"API key <prefix>.<secret> (default: ${API_KEY_ENV} or generated)"
    )
    parser.add_argument("--project", default="demo", help="name of the project to serve (default: demo)")
    parser.add_argument(
        "--ready-file", type=Path, default=None, help="write connection details (JSON) here when ready"
    )
    parser.add_argument(
        "--fault", action="append", default=[], metavar="RULE", help="fault rule (repeatable)"
    )
    parser.add_argument("--fault-seed", type=int, default=None, help="seed for random faults")
    parser.add_argument(
        "--hopsworks-version",
        default=None,
        help="the Hopsworks release to behave as: 3.x and 4.x refuse the JSON execution start (415) and "
        "have no pod-logs; 5.0 accepts JSON; 5.1 and later serve pod-logs (default: the newest)",
    )
    timing = parser.add_argument_group("timing (seconds)")
    timing.add_argument("--init-delay", type=float, default=0.05, help="time spent INITIALIZING")
    timing.add_argument(
        "--yarn-state-delay", type=float, default=0.05, help="time in SUBMITTED and in ACCEPTED"
    )
    timing.add_argument(
        "--aggregating-delay", type=float, default=0.2, help="time in AGGREGATING_LOGS (Spark types)"
    )
    timing.add_argument("--log-delay", type=float, default=0.3, help="terminal state -> logs available")
    timing.add_argument(
        "--simulated-duration", type=float, default=0.5, help="run time of simulated job types"
    )
    timing.add_argument("--schedule-tick", type=float, default=1.0, help="interval of the v2 schedule loop")
    parser.add_argument("--ssl-certfile", default=None, help="serve https with this certificate")
    parser.add_argument("--ssl-keyfile", default=None, help="private key for --ssl-certfile")
    parser.add_argument("--access-log", action="store_true", help="log every request")
    parser.add_argument("--quiet", action="store_true", help="print nothing once started")


def _conn_value(info: dict[str, Any]) -> str:
    return json.dumps(
        {
            "conn_type": "hopsworks",
            "host": info["host"],
            "port": info["port"],
            "schema": info["scheme"],
            "password": info["api_key"],
            "extra": {"project": info["project"]},
        }
    )


def _flag_error(args: argparse.Namespace, api_key: str | None) -> str | None:
    """What is wrong with the flags, as ``--flag: reason``; None when they can be served."""
    from airflow_provider_hopsjobs.emulator.auth import split_key
    from airflow_provider_hopsjobs.emulator.settings import PROJECT_NAME

    if api_key is not None:
        try:
            split_key(api_key)
        except ValueError as exc:
            return f"--api-key: {exc}"
    if not PROJECT_NAME.match(args.project):
        return "--project: letters, digits and single underscores only"
    if not 0 <= args.port <= 65535:
        return "--port must be between 0 and 65535"
    if bool(args.ssl_certfile) != bool(args.ssl_keyfile):
        return "--ssl-certfile and --ssl-keyfile go together"
    return None


#: What the emulator serves with, and the package that brings each (the ``[emulator]`` extra).
SERVER_PACKAGES: dict[str, str] = {
    "starlette": "starlette",
    "uvicorn": "uvicorn",
    "multipart": "python-multipart",
}


def missing_server_packages() -> list[str]:
    """The distributions the emulator needs that are not installed (Airflow 3 brings them all)."""
    return [
        package for module, package in SERVER_PACKAGES.items() if importlib.util.find_spec(module) is None
    ]


def _announce(info: dict[str, Any]) -> None:
    """What a person starting the emulator needs: where it serves, and the connection to paste."""
    print(f"Hopsworks emulator serving project '{info['project']}' (id {info['project_id']})", flush=True)
    print(f"  base URL : {info['base_url']}/hopsworks-api/api", flush=True)
    print(f"  data dir : {info['data_dir']}", flush=True)
    print(f"export AIRFLOW_CONN_HOPSWORKS_DEFAULT='{_conn_value(info)}'", flush=True)


def run(args: argparse.Namespace) -> int:
    # Read once and dropped, so the key is not inherited by anything the emulator starts.
    api_key = args.api_key or os.environ.pop(API_KEY_ENV, None) or None
    missing = missing_server_packages()
    if missing:
        problem: str | None = (
            f"{', '.join(missing)} not installed; the emulator needs the [emulator] extra: "
            "pip install 'airflow-provider-hopsjobs[emulator]'"
        )
    else:
        problem = _flag_error(args, api_key)
    if problem is not None:
        print(f"hopsjobs emulator: {problem}", file=sys.stderr)
        return 2
    from airflow_provider_hopsjobs.emulator.faults import FaultRuleError, parse_rule_text
    from airflow_provider_hopsjobs.emulator.settings import ServerVersion, Settings

    try:
        faults = [parse_rule_text(text) for text in args.fault]
    except FaultRuleError as exc:
        print(f"hopsjobs emulator: --fault: {exc}", file=sys.stderr)
        return 2
    try:
        version = ServerVersion.parse(args.hopsworks_version) if args.hopsworks_version else ServerVersion()
    except ValueError as exc:
        print(f"hopsjobs emulator: --hopsworks-version: {exc}", file=sys.stderr)
        return 2
    settings = Settings(
        data_dir=args.data_dir.expanduser().resolve(),
        host=args.host,
        port=args.port,
        api_key=api_key,
        project=args.project,
        init_delay=args.init_delay,
        yarn_state_delay=args.yarn_state_delay,
        aggregating_delay=args.aggregating_delay,
        log_delay=args.log_delay,
        simulated_duration=args.simulated_duration,
        schedule_tick=args.schedule_tick,
        faults=faults,
        fault_seed=args.fault_seed,
        ssl_certfile=args.ssl_certfile,
        ssl_keyfile=args.ssl_keyfile,
        access_log=args.access_log,
        hopsworks_version=version,
    )

    from airflow_provider_hopsjobs.emulator.server import run as serve

    try:
        return serve(settings, args.ready_file, lambda info: None if args.quiet else _announce(info))
    except OSError as exc:
        print(f"hopsjobs emulator: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m airflow_provider_hopsjobs.emulator")
    configure_parser(parser)
    return run(parser.parse_args(argv))
