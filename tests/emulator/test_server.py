"""How the emulator is served: https for clients that speak nothing else, and the access log.

The official Hopsworks SDK only speaks https, so the emulator must serve TLS with a given
certificate, and the handle must drive such an emulator (admin calls, connection) too.
"""

from __future__ import annotations

import base64
import datetime
import ipaddress
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from airflow_provider_hopsjobs.emulator.handle import EmulatorHandle
from tests.emulator.conftest import Api


def _self_signed(directory: Path) -> tuple[Path, Path]:
    """A certificate for 127.0.0.1 that is its own CA, as a throw-away test server uses."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "emulator test")])
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), critical=False
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = directory / "cert.pem", directory / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    return cert_path, key_path


@pytest.fixture(scope="module")
def tls_emulator(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EmulatorHandle]:
    """One emulator serving https with a self-signed certificate, logging every request."""
    directory = tmp_path_factory.mktemp("tls")
    cert, key = _self_signed(directory)
    with EmulatorHandle(
        directory / "data", ssl_certfile=cert, ssl_keyfile=key, extra_args=["--access-log"]
    ) as emulator:
        yield emulator


@pytest.fixture
def tls_api(tls_emulator: EmulatorHandle) -> Iterator[Api]:
    client = Api(tls_emulator)
    client.session.verify = str(tls_emulator.ssl_cafile)
    client.session.trust_env = False  # else REQUESTS_CA_BUNDLE would override the session's verify
    yield client
    client.session.close()


def _log_line_for(emulator: EmulatorHandle, needle: str, timeout: float = 5.0) -> str | None:
    deadline = time.monotonic() + timeout
    while True:
        for line in emulator.log_path.read_text(errors="replace").splitlines():
            if needle in line:
                return line
        if time.monotonic() > deadline:
            return None
        time.sleep(0.05)


def test_https_serves_what_the_official_sdk_asks_at_login(tls_emulator: EmulatorHandle, tls_api: Api) -> None:
    """Over TLS: versions, project by name, memberships, credentials.

    Source: what the official SDK's ``hopsworks.login`` asks of a server.
    """
    assert tls_emulator.base_url.startswith("https://127.0.0.1:")
    versions = tls_api.get(f"{tls_api.base}/variables/versions")
    assert versions.status_code == 200
    assert any(v["software"] == "hopsworks" and v["version"].startswith("5.2.") for v in versions.json())
    info = tls_api.get(f"{tls_api.base}/project/getProjectInfo/{tls_emulator.project}").json()
    assert info["projectId"] == tls_emulator.project_id
    memberships = tls_api.get(f"{tls_api.base}/project").json()
    assert memberships and memberships[0]["user"]["username"]
    credentials = tls_api.get("credentials").json()
    assert {"kStore", "tStore", "password", "caChain", "clientCert", "clientKey"} <= credentials.keys()
    base64.b64decode(credentials["kStore"], validate=True)


def test_a_python_job_runs_and_serves_its_log_over_https(tls_api: Api, job_name: str) -> None:
    """The SDK's flow in plain requests: upload, create, run, await, stdout through the dataset download."""
    tls_api.python_job(job_name, "print('over tls')\n")
    done = tls_api.wait(job_name, tls_api.start(job_name)["id"])
    assert (done["state"], done["finalStatus"]) == ("FINISHED", "SUCCEEDED")
    stdout_path = done["stdoutPath"].replace("/", "%2F")
    download = tls_api.get(f"dataset/download/with_auth/{stdout_path}", params={"type": "DATASET"})
    assert download.status_code == 200
    assert download.text == "over tls\n"


def test_a_client_that_does_not_trust_the_certificate_is_refused(tls_emulator: EmulatorHandle) -> None:
    with pytest.raises(requests.exceptions.SSLError):
        requests.get(f"{tls_emulator.api_url}/variables/versions", verify=True, timeout=10)


def test_the_handle_drives_a_tls_emulator(tls_emulator: EmulatorHandle, tls_api: Api) -> None:
    """Admin calls go over https too, and the connection says https and which CA to trust."""
    tls_emulator.reset_counters()
    assert tls_api.get("jobs").status_code == 200
    assert tls_emulator.request_counts() == {"GET /hopsworks-api/api/project/{id}/jobs": 1}
    connection = tls_emulator.connection()
    assert connection["schema"] == "https"
    assert connection["extra"] == {"project": tls_emulator.project, "verify": str(tls_emulator.ssl_cafile)}


def test_tls_files_go_together(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="together"):
        EmulatorHandle(tmp_path, ssl_certfile=tmp_path / "cert.pem")


def test_access_log_lists_each_request_but_never_the_key(tls_emulator: EmulatorHandle, tls_api: Api) -> None:
    """``--access-log`` prints one line per request (it used to print none)."""
    probe = uuid.uuid4().hex
    assert tls_api.get(f"{tls_api.base}/variables/versions", params={"probe": probe}).status_code == 200
    line = _log_line_for(tls_emulator, probe)
    assert line is not None, tls_emulator.log_path.read_text()
    assert f'"GET /hopsworks-api/api/variables/versions?probe={probe} HTTP/1.1" 200' in line
    assert tls_emulator.api_key not in tls_emulator.log_path.read_text()


def test_no_access_log_without_the_flag(hopsworks_conn: EmulatorHandle) -> None:
    """The default stays quiet: the same request that the flag logs leaves no line."""
    probe = uuid.uuid4().hex
    headers = {"Authorization": f"ApiKey {hopsworks_conn.api_key}"}
    url = f"{hopsworks_conn.api_url}/variables/versions"
    assert requests.get(url, params={"probe": probe}, headers=headers, timeout=10).status_code == 200
    # With the flag the line is written before the answer is sent, so none now means none ever.
    assert _log_line_for(hopsworks_conn, probe, timeout=0) is None
