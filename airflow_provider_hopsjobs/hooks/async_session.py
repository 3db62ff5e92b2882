"""One aiohttp ``ClientSession`` per event loop and connection, shared by every caller.

A triggerer may run a thousand deferred tasks against the same Hopsworks; one session per
trigger would mean a thousand connection pools (and TLS handshakes). Sessions are kept in
a module-level registry keyed by ``(id(loop), conn_id)``; each is bound to its loop for
its whole life and closed when that loop shuts down: a small parked async generator is
registered with the loop, and ``loop.shutdown_asyncgens()`` (which ``asyncio.run`` and
the triggerer call on the way out) runs its ``finally`` block.
"""

from __future__ import annotations

import asyncio
import ssl
import weakref
from collections.abc import AsyncGenerator
from dataclasses import dataclass

import aiohttp

from airflow_provider_hopsjobs.hooks.connection import HopsworksConnectionSettings

#: Simultaneous connections per session; a poll is short, so a few keep a thousand triggers moving.
POOL_LIMIT = 32
KEEPALIVE_SECONDS = 30.0


@dataclass
class _Entry:
    loop: weakref.ReferenceType[asyncio.AbstractEventLoop]
    session: aiohttp.ClientSession
    closer: AsyncGenerator[None, None]


_SESSIONS: dict[tuple[int, str], _Entry] = {}


def _ssl_setting(verify: bool | str) -> ssl.SSLContext | bool:
    if verify is False:
        return False
    if verify is True:
        return True
    return ssl.create_default_context(cafile=verify)


async def _close_on_loop_shutdown(
    key: tuple[int, str], session: aiohttp.ClientSession
) -> AsyncGenerator[None, None]:
    try:
        yield
    finally:
        entry = _SESSIONS.get(key)
        if entry is not None and entry.session is session:
            del _SESSIONS[key]
        await session.close()


def _prune() -> None:
    """Forget sessions whose loop is gone (their sockets went with it)."""
    for key, entry in list(_SESSIONS.items()):
        loop = entry.loop()
        if loop is None or loop.is_closed() or entry.session.closed:
            del _SESSIONS[key]


async def get_session(settings: HopsworksConnectionSettings) -> aiohttp.ClientSession:
    """The shared session for the running loop and ``settings.conn_id``, created on first use."""
    loop = asyncio.get_running_loop()
    key = (id(loop), settings.conn_id)
    entry = _SESSIONS.get(key)
    if entry is not None and entry.loop() is loop and not entry.session.closed:
        return entry.session
    _prune()
    connector = aiohttp.TCPConnector(
        limit=POOL_LIMIT,
        limit_per_host=POOL_LIMIT,
        keepalive_timeout=KEEPALIVE_SECONDS,
        ssl=_ssl_setting(settings.verify),
    )
    session = aiohttp.ClientSession(
        connector=connector,
        timeout=aiohttp.ClientTimeout(
            total=None, sock_connect=settings.connect_timeout, sock_read=settings.read_timeout
        ),
    )
    closer = _close_on_loop_shutdown(key, session)
    await closer.__anext__()
    _SESSIONS[key] = _Entry(loop=weakref.ref(loop), session=session, closer=closer)
    return session


async def close_sessions() -> None:
    """Close every session of the running loop (tests, or a process that wants to tidy up early)."""
    loop = asyncio.get_running_loop()
    for entry in list(_SESSIONS.values()):
        if entry.loop() is loop:
            await entry.closer.aclose()


def session_count() -> int:
    """How many shared sessions are open; lets tests check that triggers share one."""
    _prune()
    return len(_SESSIONS)
