#!/usr/bin/env bash
# The README's first command: run the chained example pipeline through Airflow against a local
# Hopsworks emulator, show each job's stdout from the task logs, then a summary table.
# Needs only python3 (and bash). Usage: scripts/demo.sh [--dag-id ID] [--keep] [--workdir DIR]
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/_env.sh
echo "==> installing: the local environment $VENV (reused when it is up to date)"
# The same environment as scripts/test.sh (extras "dev"), so neither reinstalls the other's.
ensure_env dev
exec "$PY" scripts/demo.py "$@"
