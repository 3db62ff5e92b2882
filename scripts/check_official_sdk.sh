#!/usr/bin/env bash
# Does the unmodified official Hopsworks SDK accept our emulator? Serves the emulator over https
# (a throw-away self-signed certificate) on 127.0.0.1 and drives the SDK through login, script
# upload, job creation, a run awaited to the end, log download, a 5.x run with dates and env vars,
# the 5.1 live pod log of a running execution, and job deletion
# (scripts/official_sdk_check.py prints PASS/FAIL per step). Exit status non-zero on any failure.
#
# The SDK lives in its own environment, .venv-sdk (made on first use, with the same installer as
# scripts/_env.sh: seconds with uv, about a minute with pip; reused after),
# never in the provider's .venv, which serves the emulator. Traffic: the package index for the
# install, loopback for the check (the SDK's usage reporting stays off).
#
# Usage: scripts/check_official_sdk.sh          HOPSWORKS_SDK_VERSION=5.2.0 to try another release
set -euo pipefail
cd "$(dirname "$0")/.."
started=$SECONDS

SDK_VERSION="${HOPSWORKS_SDK_VERSION:-5.2.1}"
SDK_VENV="${HOPSJOBS_SDK_VENV:-.venv-sdk}"
SDK_PY="$SDK_VENV/bin/python"

source scripts/_env.sh
ensure_env dev # the provider's environment: its python serves the emulator

stamp="hopsworks==$SDK_VERSION"
if [ -x "$SDK_PY" ] && [ "$(cat "$SDK_VENV/.hopsjobs-stamp" 2>/dev/null)" = "$stamp" ]; then
  echo "==> reusing $SDK_VENV ($stamp)"
else
  find_installer
  echo "==> preparing $SDK_VENV ($stamp) with $INSTALLER"
  [ -x "$SDK_PY" ] || new_venv "$SDK_VENV"
  install_into "$SDK_PY" "$stamp"
  echo "$stamp" > "$SDK_VENV/.hopsjobs-stamp"
fi
echo "    ready after $((SECONDS - started)) s"

work="$(mktemp -d "${TMPDIR:-/tmp}/hopsjobs-sdk-check.XXXXXX")"
emulator_pid=""
cleanup() {
  local status=$?
  if [ -n "$emulator_pid" ] && kill -0 "$emulator_pid" 2>/dev/null; then
    kill -TERM "$emulator_pid" 2>/dev/null || true
    for _ in $(seq 50); do kill -0 "$emulator_pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$emulator_pid" 2>/dev/null || true
    wait "$emulator_pid" 2>/dev/null || true
  fi
  rm -rf "$work"
  exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

echo "==> certificates"
"$PY" - "$work" <<'PYTHON'
"""A self-signed certificate for 127.0.0.1 (server.pem/server.key) and an unrelated one (other.pem)."""
import datetime
import ipaddress
import sys
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID


def self_signed(common_name: str) -> tuple[bytes, bytes]:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])
    now = datetime.datetime.now(datetime.timezone.utc)
    san = [x509.IPAddress(ipaddress.ip_address("127.0.0.1")), x509.DNSName("localhost")]
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName(san), critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .sign(key, hashes.SHA256())
    )
    key_pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    return cert.public_bytes(serialization.Encoding.PEM), key_pem


out = Path(sys.argv[1])
cert, key = self_signed("hopsjobs emulator (throw-away)")
(out / "server.pem").write_bytes(cert)
(out / "server.key").write_bytes(key)
(out / "server.key").chmod(0o600)
(out / "other.pem").write_bytes(self_signed("some other CA")[0])
PYTHON

echo "==> emulator (https, 127.0.0.1)"
"$PY" -m airflow_provider_hopsjobs.emulator --host 127.0.0.1 --port 0 --data-dir "$work/data" \
  --ready-file "$work/ready.json" --ssl-certfile "$work/server.pem" --ssl-keyfile "$work/server.key" \
  --access-log --quiet > "$work/emulator.log" 2>&1 < /dev/null &
emulator_pid=$!
for _ in $(seq 300); do
  [ -f "$work/ready.json" ] && break
  if ! kill -0 "$emulator_pid" 2>/dev/null; then
    echo "FAIL emulator start: it exited" >&2
    cat "$work/emulator.log" >&2
    exit 1
  fi
  sleep 0.1
done
if [ ! -f "$work/ready.json" ]; then
  echo "FAIL emulator start: not ready after 30 s" >&2
  cat "$work/emulator.log" >&2
  exit 1
fi

echo "==> official SDK flow"
mkdir -p "$work/sdk"
status=0
ENABLE_HOPSWORKS_USAGE=false TQDM_DISABLE=1 "$SDK_PY" scripts/official_sdk_check.py --ready-file "$work/ready.json" \
  --ca-file "$work/server.pem" --other-ca-file "$work/other.pem" --workdir "$work/sdk" || status=$?
if [ "$status" -ne 0 ]; then
  echo "==> emulator log" >&2
  tail -n 50 "$work/emulator.log" >&2
  echo "==> official SDK check FAILED after $((SECONDS - started)) s"
  exit "$status"
fi
echo "==> official SDK check passed in $((SECONDS - started)) s"
