"""The async client for triggers, against a small aiohttp server on loopback."""

from __future__ import annotations

import asyncio
import json
import threading
from collections.abc import Callable
from functools import partial

import pytest
import pytest_asyncio
from aiohttp import web
from aiohttp.test_utils import TestServer

from airflow_provider_hopsjobs._compat import BaseHook
from airflow_provider_hopsjobs.errors import (
    HopsworksApiError,
    HopsworksApiUnavailableError,
    HopsworksNotFoundError,
)
from airflow_provider_hopsjobs.execution import Execution, Outcome
from airflow_provider_hopsjobs.hooks import async_session
from airflow_provider_hopsjobs.hooks.hopsworks import HopsworksHook
from tests.hooks.conftest import API_KEY, FakeClock

EXEC = "/hopsworks-api/api/project/119/jobs/etl/executions"


class FakeHopsworks:
    """Scripted answers per path, and a record of what arrived (and over which connection)."""

    def __init__(self) -> None:
        self.answers: dict[tuple[str, str], list[Callable[[], web.Response]]] = {}
        self.requests: list[tuple[str, str, str, str | None, int]] = []

    def answer(self, method: str, path: str, *responses: Callable[[], web.Response]) -> None:
        """Queue response factories; the last one keeps answering."""
        self.answers[(method, path)] = list(responses)

    async def handle(self, request: web.Request) -> web.Response:
        body = await request.text()
        peer = request.transport.get_extra_info("peername") if request.transport else ("", 0)
        self.requests.append(
            (request.method, request.path_qs, body, request.headers.get("Authorization"), peer[1])
        )
        if request.path == "/hopsworks-api/api/project/getProjectInfo/demo":
            return web.json_response({"projectId": 119, "projectName": "demo"})
        queue = self.answers.get((request.method, request.path))
        if not queue:
            return web.json_response({"errorCode": 120004, "errorMsg": "no route"}, status=404)
        factory = queue.pop(0) if len(queue) > 1 else queue[0]
        return factory()


@pytest_asyncio.fixture(loop_scope="function")
async def fake(monkeypatch):
    """The server runs on the test's own loop (fixtures default to the session loop here)."""
    fake = FakeHopsworks()
    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", fake.handle)
    server = TestServer(app, host="127.0.0.1")
    await server.start_server()
    monkeypatch.setenv(
        "AIRFLOW_CONN_HOPSWORKS_DEFAULT",
        json.dumps(
            {
                "conn_type": "hopsworks",
                "host": "127.0.0.1",
                "port": server.port,
                "schema": "http",
                "password": API_KEY,
                "extra": {"project": "demo"},
            }
        ),
    )
    yield fake
    await async_session.close_sessions()
    await server.close()


def make_hook(clock: FakeClock) -> HopsworksHook:
    hook = HopsworksHook()
    hook.clock = clock
    return hook


def execution(id_: int, state: str = "RUNNING") -> dict:
    return {
        "id": id_,
        "state": state,
        "finalStatus": "UNDEFINED",
        "submissionTime": "2024-05-01T10:00:00.000Z",
    }


async def test_get_execution(fake, clock):
    fake.answer("GET", f"{EXEC}/7", partial(web.json_response, execution(7)))
    hook = make_hook(clock)
    assert await hook.async_get_execution("etl", 7) == Execution(
        id=7,
        job_name="etl",
        state="RUNNING",
        final_status="UNDEFINED",
        submission_time="2024-05-01T10:00:00.000Z",
    )
    assert (await hook.async_get_execution("etl", 7, job_type="spark")).job_type == "SPARK"
    paths = [r[1] for r in fake.requests]
    assert paths.count("/hopsworks-api/api/project/getProjectInfo/demo") == 1
    assert all(r[3] == f"ApiKey {API_KEY}" for r in fake.requests)


async def test_stop_execution(fake, clock):
    fake.answer("PUT", f"{EXEC}/7/status", partial(web.json_response, execution(7), status=202))
    result = await make_hook(clock).async_stop_execution("etl", 7, job_type="python")
    assert (result.id, result.job_name, result.state, result.job_type) == (7, "etl", "RUNNING", "PYTHON")
    assert json.loads(fake.requests[-1][2]) == {"state": "stopped"}


async def test_stop_execution_with_empty_answer_reads_the_execution(fake, clock):
    fake.answer("PUT", f"{EXEC}/7/status", partial(web.Response, status=202))
    fake.answer("GET", f"{EXEC}/7", partial(web.json_response, execution(7, "KILLED")))
    result = await make_hook(clock).async_stop_execution("etl", 7, job_type="spark")
    assert (result.id, result.state, result.job_type, result.outcome) == (
        7,
        "KILLED",
        "SPARK",
        Outcome.KILLED,
    )
    assert [r[:2] for r in fake.requests[-2:]] == [("PUT", f"{EXEC}/7/status"), ("GET", f"{EXEC}/7")]


async def test_not_found_maps_like_the_sync_path(fake, clock):
    fake.answer(
        "GET",
        f"{EXEC}/9",
        partial(web.json_response, {"errorCode": 130007, "errorMsg": "Execution not found."}, status=404),
    )
    with pytest.raises(HopsworksNotFoundError) as err:
        await make_hook(clock).async_get_execution("etl", 9)
    assert err.value.error_code == 130007


async def test_retries_5xx_and_honours_retry_after(fake, clock):
    fake.answer(
        "GET",
        f"{EXEC}/7",
        partial(web.Response, status=429, headers={"Retry-After": "3"}, text="slow down"),
        partial(
            web.Response,
            status=503,
            text="<html><body>Service Unavailable</body></html>",
            content_type="text/html",
        ),
        partial(web.json_response, execution(7, "FINISHED")),
    )
    hook = make_hook(clock)
    assert (await hook.async_get_execution("etl", 7)).state == "FINISHED"
    sleeps = clock.sleeps
    assert sleeps[0] == 3.0
    assert len(sleeps) == 2


async def test_gives_up_as_unavailable_without_the_key(fake, clock, monkeypatch):
    fake.answer("GET", f"{EXEC}/7", partial(web.Response, status=502, text="bad gateway"))
    monkeypatch.setenv(
        "AIRFLOW_CONN_HOPSWORKS_DEFAULT",
        json.dumps(
            {
                **json.loads(__import__("os").environ["AIRFLOW_CONN_HOPSWORKS_DEFAULT"]),
                "extra": {"project": "demo", "retry_attempts": 3},
            }
        ),
    )
    with pytest.raises(HopsworksApiUnavailableError, match="after 3 attempt") as err:
        await make_hook(clock).async_get_execution("etl", 7)
    assert API_KEY not in str(err.value)


async def test_one_shared_session_and_connection_per_loop_and_conn(fake, clock):
    fake.answer("GET", f"{EXEC}/7", partial(web.json_response, execution(7)))
    hooks = [make_hook(clock) for _ in range(20)]
    for hook in hooks:
        await hook.async_get_execution("etl", 7)
    assert async_session.session_count() == 1
    # Keep-alive: sequential polls from twenty hooks reuse one TCP connection.
    assert len({r[4] for r in fake.requests}) == 1


async def test_concurrent_polls_stay_within_the_pool(fake, clock):
    fake.answer("GET", f"{EXEC}/7", partial(web.json_response, execution(7)))
    hooks = [make_hook(clock) for _ in range(100)]
    await asyncio.gather(*(h.async_get_execution("etl", 7) for h in hooks))
    assert async_session.session_count() == 1
    assert len({r[4] for r in fake.requests}) <= async_session.POOL_LIMIT


async def test_session_closes_with_its_loop(fake, clock):
    fake.answer("GET", f"{EXEC}/7", partial(web.json_response, execution(7)))
    seen = {}

    def other_loop() -> None:
        async def poll() -> None:
            await make_hook(clock).async_get_execution("etl", 7)
            entry = next(
                e for e in async_session._SESSIONS.values() if e.loop() is asyncio.get_running_loop()
            )
            seen["session"] = entry.session

        asyncio.run(poll())

    thread = threading.Thread(target=other_loop)
    thread.start()
    await asyncio.get_running_loop().run_in_executor(None, thread.join)
    assert seen["session"].closed  # closed by loop shutdown, no "Unclosed client session"


async def test_connection_is_never_fetched_synchronously_on_the_loop(fake, clock, monkeypatch):
    fake.answer("GET", f"{EXEC}/7", partial(web.json_response, execution(7)))
    loop_thread = threading.get_ident()
    original = BaseHook.get_connection.__func__

    def guarded(cls, conn_id):
        assert threading.get_ident() != loop_thread, "sync connection look-up on the event loop"
        return original(cls, conn_id)

    monkeypatch.setattr(BaseHook, "get_connection", classmethod(guarded))
    assert (await make_hook(clock).async_get_execution("etl", 7)).id == 7


def use_connection_extra(monkeypatch, **extra) -> None:
    conn = json.loads(__import__("os").environ["AIRFLOW_CONN_HOPSWORKS_DEFAULT"])
    monkeypatch.setenv("AIRFLOW_CONN_HOPSWORKS_DEFAULT", json.dumps({**conn, "extra": extra}))


async def test_unknown_project_is_explained_like_the_sync_path(fake, clock, monkeypatch):
    fake.answer(
        "GET",
        "/hopsworks-api/api/project/getProjectInfo/missing",
        partial(web.json_response, {"errorCode": 150004, "errorMsg": "Project wasn't found."}, status=404),
    )
    use_connection_extra(monkeypatch, project="missing")
    with pytest.raises(HopsworksNotFoundError, match="no project 'missing', or the API key's user") as err:
        await make_hook(clock).async_get_execution("etl", 7)
    assert err.value.error_code == 150004
    assert [r[1] for r in fake.requests] == ["/hopsworks-api/api/project/getProjectInfo/missing"]


async def test_project_id_extra_needs_no_look_up(fake, clock, monkeypatch):
    fake.answer(
        "GET", "/hopsworks-api/api/project/5/jobs/etl/executions/7", partial(web.json_response, execution(7))
    )
    use_connection_extra(monkeypatch, project_id=5)
    hook = make_hook(clock)
    assert (await hook.async_get_execution("etl", 7)).id == 7
    assert [r[1] for r in fake.requests] == ["/hopsworks-api/api/project/5/jobs/etl/executions/7"]


async def test_redirects_are_not_followed_like_the_sync_path(fake, clock):
    fake.answer(
        "GET", f"{EXEC}/7", partial(web.Response, status=302, headers={"Location": "https://elsewhere/"})
    )
    with pytest.raises(HopsworksApiError, match=r"with a redirect \(HTTP 302\); check the connection's host"):
        await make_hook(clock).async_get_execution("etl", 7)
    assert clock.sleeps == []
