"""Example job that fails on its first attempts, to show Airflow retries.

The DAG passes the task's try number (``{{ ti.try_number }}``), so the behaviour depends
only on the arguments: it works the same on a Hopsworks cluster and on the emulator.
"""

from __future__ import annotations

import argparse
import sys


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--attempt", type=int, required=True, help="the Airflow try number")
    parser.add_argument("--succeed-from", type=int, default=2, help="first attempt that succeeds")
    args = parser.parse_args(argv)

    print(f"Attempt {args.attempt}: loading the upstream snapshot", flush=True)
    if args.attempt < args.succeed_from:
        print(f"SIMULATED_FAILURE on attempt {args.attempt}: upstream snapshot not ready", file=sys.stderr)
        return 3
    print(f"SUCCEEDED on attempt {args.attempt}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
