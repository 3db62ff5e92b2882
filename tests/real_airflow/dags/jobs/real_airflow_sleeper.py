"""A Hopsworks job for the real-Airflow tests: print, sleep for argv[1] seconds, print again."""

import sys
import time

seconds = float(sys.argv[1]) if len(sys.argv) > 1 else 1.0
print(f"sleeper: sleeping {seconds} s", flush=True)
time.sleep(seconds)
print("sleeper: done", flush=True)
