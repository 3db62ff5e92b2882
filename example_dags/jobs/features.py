"""Example feature pipeline job: builds a day's features and reports how many rows it wrote.

A stand-in for real feature engineering (plain Python, no dependencies), so the example
DAG runs the same on a Hopsworks cluster and on the local emulator.
"""

from __future__ import annotations

import argparse
import hashlib
import sys
import time


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--date", required=True, help="the day to compute features for (YYYY-MM-DD)")
    parser.add_argument("--rows", type=int, default=10_000)
    parser.add_argument("--seconds", type=float, default=1.0, help="how long the work takes")
    args = parser.parse_args(argv)

    print(f"Computing features for {args.date}", flush=True)
    steps = 4
    for step in range(1, steps + 1):
        time.sleep(args.seconds / steps)
        print(f"  step {step}/{steps}: {args.rows * step // steps} rows", flush=True)
    checksum = hashlib.sha256(f"{args.date}:{args.rows}".encode()).hexdigest()[:12]
    print(f"FEATURES_READY date={args.date} rows={args.rows} checksum={checksum}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
