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
if [ "$AIRFLOW_VERSION" = "3.3.2" ]; then
  mypy airflow_provider_hopsjobs
else
  # Types are checked against the newest Airflow; older ones lack stubs for names that
  # the code imports only behind version checks.
  echo "    (types are checked on the Airflow 3.3.2 run)"
fi
echo "==> pytest (Airflow $AIRFLOW_VERSION)"
# pytest exits 5 when it collected nothing; set -e turns that into a failure too.
pytest -q "$@"
