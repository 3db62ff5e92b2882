#!/usr/bin/env bash
# The project's test command: lint, format check, type check, then the whole test suite.
# Usage: scripts/test.sh [extra pytest args]     (AIRFLOW_VERSION=3.0.6 scripts/test.sh for the oldest)
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/_env.sh
ensure_env dev
export PATH="$PWD/$VENV/bin:$PATH"

echo "==> ruff check"
ruff check .
echo "==> ruff format --check"
ruff format --check .
echo "==> mypy"
mypy airflow_provider_hopsjobs
echo "==> pytest (Airflow $AIRFLOW_VERSION)"
# pytest exits 5 when it collected nothing; set -e turns that into a failure too.
pytest -q "$@"
