"""A small Hopsworks job for the scheduled example: reports the data interval it was run for."""

import argparse

parser = argparse.ArgumentParser()
parser.add_argument("--interval-start", required=True)
parser.add_argument("--interval-end", required=True)
args = parser.parse_args()
print(f"NIGHTLY_REPORT from={args.interval_start} to={args.interval_end}")
