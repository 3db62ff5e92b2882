#!/usr/bin/env bash
# What the real-Airflow production profile needs from the machine: PostgreSQL (metadata database),
# Redis (the Celery broker) and Chromium (the browser the UI tests drive with Playwright; never
# Playwright's own browser download). Makes sure their binaries are on this machine and prints
# where they are; the tests start and stop private instances themselves, in a temporary directory.
#
# Usage: scripts/services.sh     (prints KEY=VALUE lines: PG_BIN=..., REDIS_SERVER=..., CHROMIUM=...)
# On Debian/Ubuntu as root it installs what is missing with apt-get; otherwise it says exactly
# which package to install and exits 1.
set -euo pipefail

find_pg_bin() {
  local dir
  for dir in /usr/lib/postgresql/*/bin; do
    if [ -x "$dir/initdb" ] && [ -x "$dir/pg_ctl" ] && [ -x "$dir/postgres" ]; then echo "$dir"; fi
  done | sort -V | tail -n 1
}

find_redis() {
  command -v redis-server || true
}

find_chromium() {
  command -v chromium || command -v chromium-browser || true
}

missing=()
[ -n "$(find_pg_bin)" ] || missing+=(postgresql)
[ -n "$(find_redis)" ] || missing+=(redis-server)
[ -n "$(find_chromium)" ] || missing+=(chromium)

if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null; then
    echo "==> installing ${missing[*]} (apt-get)" >&2
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq >&2
    # Debian starts no service here when there is no init system; the tests run their own instances.
    apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2
  else
    echo "missing: ${missing[*]} (install the Debian/Ubuntu packages '${missing[*]}': PostgreSQL's" \
      "initdb/pg_ctl under /usr/lib/postgresql/<version>/bin, redis-server and chromium on PATH)" >&2
    exit 1
  fi
fi

pg_bin="$(find_pg_bin)"
redis="$(find_redis)"
chromium="$(find_chromium)"
still_missing=()
[ -n "$pg_bin" ] || still_missing+=(postgresql)
[ -n "$redis" ] || still_missing+=(redis-server)
[ -n "$chromium" ] || still_missing+=(chromium)
if [ ${#still_missing[@]} -gt 0 ]; then
  echo "missing after install: ${still_missing[*]}" >&2
  exit 1
fi
echo "PG_BIN=$pg_bin"
echo "REDIS_SERVER=$redis"
echo "CHROMIUM=$chromium"
