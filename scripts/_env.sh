# Shared by scripts/test.sh and scripts/demo.sh: make (or reuse) the local environment.
# Sourced, not run. Needs only python3 on the machine.

AIRFLOW_VERSION="${AIRFLOW_VERSION:-3.3.2}"
if [ "$AIRFLOW_VERSION" = "3.3.2" ]; then
  VENV="${HOPSJOBS_VENV:-.venv}"
else
  VENV="${HOPSJOBS_VENV:-.venv-airflow-$AIRFLOW_VERSION}"
fi
PY="$VENV/bin/python"

_quiet_pip() {
  # pip warns about find-links folders this machine's config names but does not have.
  "$PY" -m pip "$@" 2> >(grep -v -E "is ignored: it is neither a file nor a directory" >&2)
}

_constraints_file() {
  # Pins for one Airflow minor (ci/constraints-airflow-3.0.txt for 3.0.x): only what that release
  # needs against today's PyPI, so the newest Airflow keeps resolving unconstrained.
  local minor="${AIRFLOW_VERSION%.*}"
  local file="ci/constraints-airflow-$minor.txt"
  if [ -f "$file" ]; then echo "$file"; fi
}

ensure_env() {
  local extras="$1"
  local stamp_file="$VENV/.hopsjobs-stamp"
  local stamp
  local constraints=()
  local constraints_file
  constraints_file="$(_constraints_file)"
  [ -n "$constraints_file" ] && constraints=(-c "$constraints_file")
  stamp="$AIRFLOW_VERSION $extras $(cat pyproject.toml $constraints_file | python3 -c 'import hashlib,sys; print(hashlib.sha256(sys.stdin.buffer.read()).hexdigest())')"
  if [ -x "$PY" ] && [ -f "$stamp_file" ] && [ "$(cat "$stamp_file")" = "$stamp" ]; then
    return 0
  fi
  echo "==> preparing $VENV (apache-airflow==$AIRFLOW_VERSION, extras: $extras); the first time takes about 80 s"
  [ -x "$PY" ] || python3 -m venv "$VENV"
  _quiet_pip install -q --disable-pip-version-check ${constraints[@]+"${constraints[@]}"} "apache-airflow==$AIRFLOW_VERSION" -e ".[$extras]"
  echo "$stamp" > "$stamp_file"
}
