"""The ``hopsjobs`` console command.

Each subcommand lives in its own module and is imported only when chosen, so
``hopsjobs emulator`` starts without paying for an Airflow import.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence

#: subcommand -> (module with ``configure_parser(parser)`` and ``run(args) -> int``, help)
SUBCOMMANDS: dict[str, tuple[str, str]] = {
    "emulator": ("airflow_provider_hopsjobs.emulator.cli", "serve a local Hopsworks emulator"),
    "migrate-schedules": (
        "airflow_provider_hopsjobs.cli.migrate",
        "turn Hopsworks v2 cron schedules into Airflow DAGs",
    ),
}


def main(argv: Sequence[str] | None = None) -> int:
    """Parse the command line and run the chosen subcommand; returns the exit code."""
    args_list = list(sys.argv[1:] if argv is None else argv)
    parser = argparse.ArgumentParser(prog="hopsjobs", description="Hopsworks jobs for Apache Airflow.")
    subparsers = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    chosen = args_list[0] if args_list else None
    for name, (module_name, help_text) in SUBCOMMANDS.items():
        sub = subparsers.add_parser(name, help=help_text)
        if name == chosen:
            importlib.import_module(module_name).configure_parser(sub)
    args = parser.parse_args(args_list)
    module = importlib.import_module(SUBCOMMANDS[args.command][0])
    return int(module.run(args))


if __name__ == "__main__":
    raise SystemExit(main())
