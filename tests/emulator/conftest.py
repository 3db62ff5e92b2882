"""Plain-``requests`` access to the session emulator, so conformance tests cannot agree with our hook."""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
import requests

from airflow_provider_hopsjobs.emulator.handle import EmulatorHandle

TERMINAL = {
    "FINISHED",
    "FAILED",
    "KILLED",
    "FRAMEWORK_FAILURE",
    "APP_MASTER_START_FAILED",
    "INITIALIZATION_FAILED",
}


class Api:
    """A thin client: absolute URLs under the project, the API key, nothing clever."""

    def __init__(self, emulator: EmulatorHandle) -> None:
        self.emulator = emulator
        self.session = requests.Session()
        self.session.headers["Authorization"] = f"ApiKey {emulator.api_key}"

    @property
    def base(self) -> str:
        return self.emulator.api_url

    @property
    def project(self) -> str:
        return f"{self.base}/project/{self.emulator.project_id}"

    def url(self, path: str) -> str:
        return path if path.startswith("http") else f"{self.project}/{path.lstrip('/')}"

    def request(self, method: str, path: str, **kwargs: Any) -> requests.Response:
        kwargs.setdefault("timeout", 30)
        return self.session.request(method, self.url(path), **kwargs)

    def get(self, path: str, **kwargs: Any) -> requests.Response:
        return self.request("GET", path, **kwargs)

    def put(self, path: str, **kwargs: Any) -> requests.Response:
        return self.request("PUT", path, **kwargs)

    def post(self, path: str, **kwargs: Any) -> requests.Response:
        return self.request("POST", path, **kwargs)

    def delete(self, path: str, **kwargs: Any) -> requests.Response:
        return self.request("DELETE", path, **kwargs)

    # -- helpers ------------------------------------------------------------------------------
    def upload(
        self, directory: str, filename: str, content: bytes, *, encoded: bool = True
    ) -> requests.Response:
        target = directory.replace("/", "%2F") if encoded else directory
        return self.post(
            f"dataset/upload/{target}",
            files={"file": (filename, content)},
            data={
                "flowChunkNumber": "1",
                "flowTotalChunks": "1",
                "flowChunkSize": str(len(content)),
                "flowCurrentChunkSize": str(len(content)),
                "flowTotalSize": str(len(content)),
                "flowIdentifier": f"{len(content)}_{filename}",
                "flowFilename": filename,
                "flowRelativePath": filename,
            },
        )

    def python_job(self, name: str, script: str, default_args: str | None = None) -> dict[str, Any]:
        """Upload ``script`` as Resources/jobs/<name>/<name>.py and create a PYTHON job running it."""
        folder = f"Resources/jobs/{name}"
        stat = self.get(f"dataset/{folder}/{name}.py")
        if stat.status_code == 200:
            assert self.delete(f"dataset/{folder}/{name}.py").status_code == 204
        assert self.upload(folder, f"{name}.py", script.encode()).status_code == 200
        config: dict[str, Any] = {"type": "pythonJobConfiguration", "appPath": f"{folder}/{name}.py"}
        if default_args is not None:
            config["defaultArgs"] = default_args
        response = self.put(f"jobs/{name}", json=config)
        assert response.status_code in (200, 201), response.text
        return dict(response.json())

    def start(self, name: str, args: str = "") -> dict[str, Any]:
        response = self.post(f"jobs/{name}/executions", data=args, headers={"Content-Type": "text/plain"})
        assert response.status_code == 201, response.text
        return dict(response.json())

    def execution(self, name: str, execution_id: int) -> dict[str, Any]:
        response = self.get(f"jobs/{name}/executions/{execution_id}")
        assert response.status_code == 200, response.text
        return dict(response.json())

    def wait(self, name: str, execution_id: int, *, logs: bool = True, timeout: float = 20) -> dict[str, Any]:
        """Poll until the state is terminal (and, with ``logs``, until the log paths appear)."""
        deadline = time.monotonic() + timeout
        seen: dict[str, Any] = {}
        while time.monotonic() < deadline:
            seen = self.execution(name, execution_id)
            done = seen["state"] in TERMINAL
            # Executions that never got an application (failed to start) never get logs either.
            if done and (not logs or "stdoutPath" in seen or "appId" not in seen):
                return seen
            time.sleep(0.05)
        raise AssertionError(f"execution {execution_id} of {name} did not finish: {seen}")

    def wait_state(
        self, name: str, execution_id: int, states: set[str], timeout: float = 20
    ) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        seen: dict[str, Any] = {}
        while time.monotonic() < deadline:
            seen = self.execution(name, execution_id)
            if seen["state"] in states:
                return seen
            time.sleep(0.02)
        raise AssertionError(f"execution {execution_id} never reached {states}: {seen}")


@pytest.fixture
def api(hopsworks_conn: EmulatorHandle) -> Iterator[Api]:
    client = Api(hopsworks_conn)
    yield client
    client.session.close()


@pytest.fixture
def job_name() -> str:
    """A job name no other test uses (the emulator is shared by the session)."""
    return f"job_{uuid.uuid4().hex[:10]}"
