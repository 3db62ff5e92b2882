"""ASGI middleware in front of the emulator's app: counts API requests and applies fault rules.

See :mod:`.faults` for the rules and actions. A ``drop`` aborts the client's connection,
which needs uvicorn's protocol object for it: the server hands in a lookup for that.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import re
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from starlette.routing import BaseRoute, Match

from airflow_provider_hopsjobs.emulator.context import ADMIN_PREFIX
from airflow_provider_hopsjobs.emulator.counters import Counters
from airflow_provider_hopsjobs.emulator.faults import Action, FaultInjector

if TYPE_CHECKING:
    from starlette.types import ASGIApp, Message, Receive, Scope, Send

_CONVERTOR = re.compile(r"\{(\w+)(?::\w+)?\}")

_HTML = {
    502: "<html><head><title>502 Bad Gateway</title></head>"
    "<body><center><h1>502 Bad Gateway</h1></center></body></html>",
    503: "<html><head><title>503 Service Temporarily Unavailable</title></head>"
    "<body><center><h1>503 Service Temporarily Unavailable</h1></center></body></html>",
    504: "<html><head><title>504 Gateway Time-out</title></head><body><center><h1>504 Gateway Time-out</h1>"
    "</center></body></html>",
}


def _fault_response(action: Action) -> tuple[int, list[tuple[bytes, bytes]], bytes]:
    if action.kind == "429":
        retry_after = action.arg if action.arg is not None else 1
        body = json.dumps({"errorCode": 120000, "errorMsg": "Too many requests.", "usrMsg": "Rate limited"})
        headers = [
            (b"content-type", b"application/json"),
            (
                b"retry-after",
                str(int(retry_after) if float(retry_after).is_integer() else retry_after).encode(),
            ),
        ]
        return 429, headers, body.encode()
    status = int(action.kind)
    if status in _HTML:
        return status, [(b"content-type", b"text/html")], _HTML[status].encode()
    body = json.dumps({"errorCode": 120000, "errorMsg": "A generic error occurred."})
    return status, [(b"content-type", b"application/json")], body.encode()


#: Finds the server's connection object (which has the ``transport``) for a client address.
ConnectionLookup = Callable[[Any], Any]


class FaultMiddleware:
    """ASGI middleware: counts requests per route template and applies fault rules."""

    def __init__(
        self,
        app: ASGIApp,
        routes: Sequence[BaseRoute],
        *,
        faults: FaultInjector,
        counters: Counters,
        connection_lookup: ConnectionLookup | None = None,
    ) -> None:
        self.app = app
        self.routes = routes
        self._faults = faults
        self._counts = counters.requests
        self._connection_lookup = connection_lookup
        self._templates: dict[tuple[str, str], str] = {}

    def template_of(self, scope: Scope) -> str:
        key = (scope["method"], scope["path"])
        template = self._templates.get(key)
        if template is None:
            template = self._match_template(scope)
            if len(self._templates) >= 4096:  # pollers repeat a few paths; keep the memo bounded
                self._templates.clear()
            self._templates[key] = template
        return template

    def _match_template(self, scope: Scope) -> str:
        partial: str | None = None
        for route in self.routes:
            match, _ = route.matches(scope)
            path = getattr(route, "path", None)
            if path is None:
                continue
            if match is Match.FULL:
                return _CONVERTOR.sub(r"{\1}", path)
            if match is Match.PARTIAL and partial is None:
                partial = _CONVERTOR.sub(r"{\1}", path)
        return partial or scope["path"]

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"].startswith(ADMIN_PREFIX):
            await self.app(scope, receive, send)
            return
        method = scope["method"]
        self._counts[f"{method} {self.template_of(scope)}"] += 1
        action = self._faults.pick(method, scope["path"]) if self._faults.rules else None
        if action is None:
            await self.app(scope, receive, send)
            return
        if action.after:
            messages: list[Message] = []

            async def capture(message: Message) -> None:
                messages.append(message)

            await self.app(scope, receive, capture)
            if action.kind == "stall":
                await asyncio.sleep(action.arg or 0)
                for message in messages:
                    await send(message)
                return
        elif action.kind == "stall":
            await asyncio.sleep(action.arg or 0)
            await self.app(scope, receive, send)
            return
        if action.kind == "drop":
            await self._drop(scope, receive)
            return
        status, headers, body = _fault_response(action)
        headers.append((b"content-length", str(len(body)).encode()))
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": body})

    async def _drop(self, scope: Scope, receive: Receive) -> None:
        connection = self._connection_lookup(scope.get("client")) if self._connection_lookup else None
        transport = getattr(connection, "transport", None)
        if transport is None:
            raise ConnectionAbortedError("fault injection: connection dropped")
        transport.abort()

        async def drain() -> None:
            while (await receive())["type"] != "http.disconnect":
                pass

        with contextlib.suppress(asyncio.TimeoutError):
            await asyncio.wait_for(drain(), 1.0)
