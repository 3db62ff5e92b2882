# Shared by scripts/test.sh, scripts/demo.sh and the check scripts: make (or reuse) the local
# environment. Sourced, not run. Needs only python3 on the machine.
#
# The installer is uv (from PyPI, the installer Airflow's own dev tooling uses): it makes a new
# environment with Airflow in seconds where pip takes a minute and a half. It is not a runtime
# dependency of the provider. On first use it is installed into .tools/uv-<version>/ with the
# machine's pip; where that fails the scripts fall back to pip and say so.
#   HOPSJOBS_INSTALLER=auto (default: uv, else pip) | uv (uv or fail) | pip (pip only)
#   HOPSJOBS_UV=/path/to/uv   use that uv instead of installing one

AIRFLOW_VERSION="${AIRFLOW_VERSION:-3.3.2}"
if [ "$AIRFLOW_VERSION" = "3.3.2" ]; then
  VENV="${HOPSJOBS_VENV:-.venv}"
else
  VENV="${HOPSJOBS_VENV:-.venv-airflow-$AIRFLOW_VERSION}"
fi
PY="$VENV/bin/python"

# The uv release the scripts install: pinned, so every machine resolves with the same rules.
HOPSJOBS_UV_VERSION="${HOPSJOBS_UV_VERSION:-0.13.9}"
# Set by find_installer: "uv" with UV the path of its binary, or "pip".
INSTALLER=""
UV=""
# uv reads SSL_CERT_FILE when it is set; otherwise let it trust the machine's certificate store
# (as pip, curl and git do here) rather than only its built-in roots.
if [ -z "${SSL_CERT_FILE:-}" ] && [ -z "${UV_SYSTEM_CERTS:-}" ] && [ -z "${UV_NATIVE_TLS:-}" ]; then
  export UV_SYSTEM_CERTS=true
fi
# Never download a Python: the environments use the machine's python3.
export UV_PYTHON_DOWNLOADS=never

_pip_noise() {
  # pip warns about find-links folders this machine's config names but does not have.
  grep -v -E "is ignored: it is neither a file nor a directory" >&2 || true
}

_python3_path() {
  python3 -c 'import sys; print(sys.executable)'
}

_settle() {
  # Moves a finished install into place, unless another run got there first.
  if [ -e "$2" ]; then rm -rf "$1"; else mv "$1" "$2"; fi
}

_install_uv() {
  # Puts uv into $1 (a folder with bin/uv), from the package index with the machine's pip.
  local target="$1" tmp="$1.partial.$$"
  local log="$tmp.log"
  rm -rf "$tmp"
  if python3 -m pip --version > /dev/null 2>&1; then
    if PIP_ROOT_USER_ACTION=ignore python3 -m pip install -q --disable-pip-version-check --no-warn-script-location \
      --target "$tmp" "uv==$HOPSJOBS_UV_VERSION" 2> "$log" && [ -x "$tmp/bin/uv" ]; then
      _settle "$tmp" "$target"
      rm -f "$log"
      return 0
    fi
  elif python3 -m venv "$tmp/venv" > "$log" 2>&1; then
    # No pip for python3 itself, but venv brings one.
    if "$tmp/venv/bin/python" -m pip install -q --disable-pip-version-check "uv==$HOPSJOBS_UV_VERSION" \
      2> "$log" && [ -x "$tmp/venv/bin/uv" ]; then
      # A relative link, so that the move below keeps it working.
      mkdir -p "$tmp/bin" && ln -s ../venv/bin/uv "$tmp/bin/uv"
      _settle "$tmp" "$target"
      rm -f "$log"
      return 0
    fi
  else
    echo "python3 has neither pip (python3 -m pip) nor venv with pip (python3 -m venv)" > "$log"
  fi
  # What went wrong, in short (pip's "from versions: ..." line lists every release).
  _pip_noise < "$log" 2>&1 | tail -n 3 | cut -c 1-200 | sed 's/^/    /' >&2
  rm -rf "$tmp" "$log"
  return 1
}

find_installer() {
  # Chooses the installer once per script run: sets INSTALLER and UV.
  [ -n "$INSTALLER" ] && return 0
  local wanted="${HOPSJOBS_INSTALLER:-auto}"
  case "$wanted" in
    auto | uv | pip) ;;
    *)
      echo "HOPSJOBS_INSTALLER must be auto, uv or pip (not '$wanted')" >&2
      return 2
      ;;
  esac
  if [ "$wanted" = "pip" ]; then
    INSTALLER=pip
    return 0
  fi
  if [ -n "${HOPSJOBS_UV:-}" ]; then
    if [ ! -x "$HOPSJOBS_UV" ]; then
      echo "HOPSJOBS_UV=$HOPSJOBS_UV is not an executable file" >&2
      return 2
    fi
    INSTALLER=uv UV="$HOPSJOBS_UV"
    return 0
  fi
  local home=".tools/uv-$HOPSJOBS_UV_VERSION"
  if [ ! -x "$home/bin/uv" ]; then
    echo "==> installing uv $HOPSJOBS_UV_VERSION (the installer) into $home"
    mkdir -p .tools
    if ! _install_uv "$home"; then
      if [ "$wanted" = "uv" ]; then
        echo "uv $HOPSJOBS_UV_VERSION could not be installed: 'python3 -m pip install uv==$HOPSJOBS_UV_VERSION'" \
          "failed (no pip for python3, no python3 -m venv, no uv wheel for this platform, or no package index)" >&2
        return 1
      fi
      echo "    uv could not be installed ('python3 -m pip install uv==$HOPSJOBS_UV_VERSION' failed, see above);" \
        "falling back to pip, which takes a minute or two" >&2
      INSTALLER=pip
      return 0
    fi
  fi
  INSTALLER=uv UV="$PWD/$home/bin/uv"
}

new_venv() {
  # new_venv DIR: an empty virtual environment for the machine's python3 (no pip in it with uv).
  local dir="$1"
  find_installer || return
  if [ "$INSTALLER" = uv ]; then
    # --clear: a folder without a working python is a broken environment; start it afresh.
    "$UV" venv -q --clear --python "$(_python3_path)" "$dir"
  else
    python3 -m venv "$dir"
  fi
}

install_into() {
  # install_into PYTHON ARGS...: pip-style install arguments into the environment of PYTHON.
  local python="$1"
  shift
  find_installer || return
  if [ "$INSTALLER" = uv ]; then
    "$UV" pip install -q --python "$python" "$@"
  else
    # An environment made by uv has no pip: give it one first.
    "$python" -m pip --version > /dev/null 2>&1 || "$python" -m ensurepip -q > /dev/null
    "$python" -m pip install -q --disable-pip-version-check "$@" 2> >(_pip_noise)
  fi
}

_constraints_file() {
  # Pins for one Airflow minor (ci/constraints-airflow-3.0.txt for 3.0.x): only what that release
  # needs against today's PyPI, so the newest Airflow keeps resolving unconstrained.
  local minor="${AIRFLOW_VERSION%.*}"
  local file="ci/constraints-airflow-$minor.txt"
  if [ -f "$file" ]; then echo "$file"; fi
}

airflow_requirements() {
  # Prints, one per line, the install arguments that pin Airflow $AIRFLOW_VERSION (with its
  # constraints file, if any): for ensure_env and for the installed-wheel check alike.
  local constraints_file
  constraints_file="$(_constraints_file)"
  [ -n "$constraints_file" ] && printf '%s\n' -c "$constraints_file"
  printf '%s\n' "apache-airflow==$AIRFLOW_VERSION"
}

ensure_env() {
  local extras="$1"
  local stamp_file="$VENV/.hopsjobs-stamp"
  local stamp
  local constraints_file
  local airflow=()
  constraints_file="$(_constraints_file)"
  mapfile -t airflow < <(airflow_requirements)
  # The installer is not part of the stamp: an environment made by pip is as good as one made by uv.
  stamp="$AIRFLOW_VERSION $extras $(cat pyproject.toml $constraints_file | python3 -c 'import hashlib,sys; print(hashlib.sha256(sys.stdin.buffer.read()).hexdigest())')"
  if [ -x "$PY" ] && [ -f "$stamp_file" ] && [ "$(cat "$stamp_file")" = "$stamp" ]; then
    return 0
  fi
  find_installer
  local started=$SECONDS
  if [ "$INSTALLER" = uv ]; then
    echo "==> preparing $VENV with uv (apache-airflow==$AIRFLOW_VERSION, extras: $extras); a few seconds"
  else
    echo "==> preparing $VENV with pip (apache-airflow==$AIRFLOW_VERSION, extras: $extras); the first time takes about 90 s"
  fi
  [ -x "$PY" ] || new_venv "$VENV"
  if ! install_into "$PY" "${airflow[@]}" -e ".[$extras]"; then
    echo "installing apache-airflow==$AIRFLOW_VERSION and .[$extras] into $VENV with $INSTALLER failed (see above)." >&2
    [ "$INSTALLER" = uv ] && echo "    HOPSJOBS_INSTALLER=pip $0 tries pip instead." >&2
    return 1
  fi
  echo "$stamp" > "$stamp_file"
  echo "    ready after $((SECONDS - started)) s"
}
