#!/usr/bin/env bash
# The package as users meet it: build the sdist and the wheel with the standard front end
# (python -m build: the sdist first, then the wheel from the sdist), check their metadata
# (twine check --strict) and contents (check-wheel-contents, then scripts/package_check.py dist),
# then install the wheel into clean environments, one per Airflow version, holding only the wheel
# and Airflow, and check it there (scripts/package_check.py installed): `airflow providers list`,
# the hopsworks connection type, the timetable plugin, `hopsjobs emulator` with and without the
# [emulator] extra, and the example pipeline end to end against it with dag.test().
# Exit status non-zero if any check failed.
#
# Usage: scripts/check_package.sh [AIRFLOW_VERSION...]      (default: 3.3.2 3.0.6)
# The build tools live in .venv-tools (made on first use, reused after); the clean environments
# and the built files in a temporary folder, removed on success and kept (path printed) on failure.
set -euo pipefail
cd "$(dirname "$0")/.."
REPO="$PWD"
started=$SECONDS

versions=("$@")
[ ${#versions[@]} -gt 0 ] || versions=(3.3.2 3.0.6)

source scripts/_env.sh
find_installer

# Pinned, so that a new release of a tool cannot turn the check red overnight.
TOOLS=(build==1.6.1 twine==7.0.0 check-wheel-contents==0.6.3)
TOOLS_VENV="${HOPSJOBS_TOOLS_VENV:-.venv-tools}"
TOOLS_PY="$TOOLS_VENV/bin/python"
if [ -x "$TOOLS_PY" ] && [ "$(cat "$TOOLS_VENV/.hopsjobs-stamp" 2>/dev/null)" = "${TOOLS[*]}" ]; then
  echo "==> reusing $TOOLS_VENV (${TOOLS[*]})"
else
  echo "==> preparing $TOOLS_VENV (${TOOLS[*]}) with $INSTALLER"
  [ -x "$TOOLS_PY" ] || new_venv "$TOOLS_VENV"
  install_into "$TOOLS_PY" "${TOOLS[@]}"
  echo "${TOOLS[*]}" > "$TOOLS_VENV/.hopsjobs-stamp"
fi

work="$(mktemp -d "${TMPDIR:-/tmp}/hopsjobs-package-check.XXXXXX")"
status=1
cleanup() {
  if [ "$status" -eq 0 ]; then
    rm -rf "$work"
  else
    echo "==> kept for a look: $work (the built files, the clean environments, dag.test() output)"
  fi
}
trap cleanup EXIT

failed=()
in_dir() {
  local dir="$1"
  shift
  (cd "$dir" && "$@")
}
step() {
  # step NAME COMMAND...: runs one check, records a failure and carries on.
  local name="$1" step_started=$SECONDS
  shift
  if "$@"; then
    echo "    ($name: $((SECONDS - step_started)) s)"
  else
    echo "==> FAILED: $name"
    failed+=("$name")
  fi
}

dist="$work/dist"
echo "==> build: sdist and wheel (python -m build, $INSTALLER for the build environment)"
# `build --installer uv` looks for uv on PATH; with pip it makes its build environment with venv + pip.
build_with=()
[ "$INSTALLER" = uv ] && build_with=(--installer uv)
if ! PATH="$(dirname "${UV:-$TOOLS_PY}"):$PATH" "$TOOLS_PY" -m build -q ${build_with[@]+"${build_with[@]}"} --outdir "$dist" .; then
  echo "==> package check FAILED: python -m build could not build the sdist and the wheel (see above)"
  exit 1
fi
ls -l "$dist"
wheels=("$dist"/*.whl)
wheel="${wheels[0]}"
version="$(python3 -c 'import re,sys; print(re.search(r"^__version__ = \"([^\"]+)\"", open(sys.argv[1]).read(), re.M)[1])' \
  airflow_provider_hopsjobs/__init__.py)"

echo "==> metadata: twine check --strict"
step "twine check" "$TOOLS_VENV/bin/twine" --no-color check --strict "$dist"/*
echo "==> wheel layout: check-wheel-contents (one top-level package, no .pyc, no duplicates, every module of the source package)"
# W102 (files not in the source package) is the example DAGs, which the wheel carries on purpose.
step "check-wheel-contents" "$TOOLS_VENV/bin/check-wheel-contents" --toplevel airflow_provider_hopsjobs \
  --package airflow_provider_hopsjobs --ignore W102 "$dist"/*.whl
echo "==> contents and metadata of the sdist and the wheel"
step "contents" python3 scripts/package_check.py dist "$dist" --source .

for AIRFLOW_VERSION in "${versions[@]}"; do
  mapfile -t airflow < <(airflow_requirements)
  venv="$work/venv-airflow-$AIRFLOW_VERSION"
  no_extra="$work/venv-airflow-$AIRFLOW_VERSION-no-extra"
  echo "==> clean environments with $INSTALLER: the wheel and apache-airflow==$AIRFLOW_VERSION, with and without [emulator]"
  install_started=$SECONDS
  if new_venv "$venv" && install_into "$venv/bin/python" "${airflow[@]}" \
    "airflow-provider-hopsjobs[emulator] @ file://$wheel" &&
    new_venv "$no_extra" && install_into "$no_extra/bin/python" "${airflow[@]}" \
    "airflow-provider-hopsjobs @ file://$wheel"; then
    echo "    (installed in $((SECONDS - install_started)) s)"
    # Run from the scratch folder with the environment's own Python: nothing of this checkout
    # is importable there (the script's own folder, scripts/, holds no package).
    step "installed wheel, Airflow $AIRFLOW_VERSION" \
      in_dir "$work" "$venv/bin/python" "$REPO/scripts/package_check.py" installed \
      --version "$version" --work "$work/check-airflow-$AIRFLOW_VERSION" --no-extra-python "$no_extra/bin/python"
  else
    echo "==> FAILED: could not install the wheel with apache-airflow==$AIRFLOW_VERSION (see above)"
    failed+=("install, Airflow $AIRFLOW_VERSION")
  fi
done

# The wheel alone (no Airflow, no Starlette, no uvicorn): `hopsjobs emulator` must name the
# [emulator] extra in one line, not end in a ModuleNotFoundError traceback.
echo "==> the wheel alone, without its dependencies: what does \`hopsjobs emulator\` say?"
bare="$work/venv-bare"
new_venv "$bare" && install_into "$bare/bin/python" --no-deps "$wheel"
if in_dir "$work" "$bare/bin/python" "$REPO/scripts/package_check.py" bare --work "$work/check-bare"; then
  echo "    the message names the extra"
else
  failed+=("message without [emulator]")
fi

if [ ${#failed[@]} -gt 0 ]; then
  echo "==> package check FAILED after $((SECONDS - started)) s: ${failed[*]}"
  exit 1
fi
status=0
echo "==> package check passed in $((SECONDS - started)) s (Airflow ${versions[*]})"
