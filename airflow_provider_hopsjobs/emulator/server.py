"""Serve the emulator with uvicorn on a socket bound up front, then announce readiness.

The socket is bound before uvicorn starts so that ``--port 0`` yields a known port, which
goes into the ready file (JSON, mode 0600 since it holds the API key) once uvicorn accepts
connections. uvicorn's own signal handling gives a graceful stop on SIGINT/SIGTERM, during
which every job process is killed.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import socket
from collections.abc import Callable
from pathlib import Path
from typing import Any

import uvicorn

from airflow_provider_hopsjobs.emulator.app import build_app
from airflow_provider_hopsjobs.emulator.settings import Settings
from airflow_provider_hopsjobs.emulator.wiring import Emulator, assemble

Announce = Callable[[dict[str, Any]], None]


def bind_socket(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    sock.listen(512)
    sock.set_inheritable(True)
    return sock


def connection_info(emu: Emulator, host: str, port: int) -> dict[str, Any]:
    scheme = "https" if emu.settings.ssl_certfile else "http"
    url_host = f"[{host}]" if ":" in host else host
    return {
        "base_url": f"{scheme}://{url_host}:{port}",
        "scheme": scheme,
        "host": host,
        "port": port,
        "api_key": emu.accounts.api_key,
        "project": emu.accounts.project["name"],
        "project_id": emu.accounts.project["id"],
        "data_dir": str(emu.settings.data_dir),
        "pid": os.getpid(),
    }


def write_ready_file(path: Path, info: dict[str, Any]) -> None:
    partial = path.with_name(f".{path.name}.partial")
    fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as out:
        json.dump(info, out)
    os.replace(partial, path)


async def serve(settings: Settings, ready_file: Path | None = None, announce: Announce | None = None) -> int:
    emu = assemble(settings)
    server: uvicorn.Server | None = None  # built below: it needs the app, the app needs this lookup

    def lookup(client: Any) -> Any:
        """uvicorn's protocol object (it has the transport) for a client address, for ``drop`` faults."""
        if server is None:
            return None
        wanted = tuple(client) if client else None
        for connection in list(server.server_state.connections):
            if getattr(connection, "client", None) == wanted:
                return connection
        return None

    app = build_app(emu, connection_lookup=lookup)
    sock = bind_socket(settings.host, settings.port)
    port = int(sock.getsockname()[1])
    config = uvicorn.Config(
        app,
        log_level="warning",
        access_log=settings.access_log,
        lifespan="on",
        ssl_certfile=settings.ssl_certfile,
        ssl_keyfile=settings.ssl_keyfile,
        timeout_keep_alive=30,
        timeout_graceful_shutdown=3,
        proxy_headers=False,
        server_header=False,
    )
    if settings.access_log:
        # uvicorn sets its access logger to ``log_level``, which would hide every access line.
        logging.getLogger("uvicorn.access").setLevel(logging.INFO)
    server = uvicorn.Server(config)
    task = asyncio.get_running_loop().create_task(server.serve(sockets=[sock]))
    while not server.started:
        if task.done():
            await task
            return 1
        await asyncio.sleep(0.01)
    info = connection_info(emu, settings.host, port)
    if ready_file is not None:
        write_ready_file(ready_file, info)
    if announce is not None:
        announce(info)
    try:
        await task
    finally:
        if ready_file is not None:
            ready_file.unlink(missing_ok=True)
        emu.store.close()
    return 0


def run(settings: Settings, ready_file: Path | None = None, announce: Announce | None = None) -> int:
    """Run the server until stopped; uses uvloop when it is installed."""
    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    try:
        import uvloop
    except ImportError:
        return asyncio.run(serve(settings, ready_file, announce))
    return int(uvloop.run(serve(settings, ready_file, announce)))
