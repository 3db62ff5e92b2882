"""Read an Airflow connection of type ``hopsworks`` into validated, immutable settings.

Everything that can be wrong with a connection (no host, no key, no project, a bad
``verify`` value, a timeout that is not a number) is reported here, before the hook sends
a single request. The API key is registered with Airflow's secrets masker as soon as it
is read, so it is redacted from any log line that might still carry it. Async code reads
the connection and masks the key without a synchronous call on the event loop.
"""

from __future__ import annotations

import importlib
import json
import warnings
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol
from urllib.parse import urlsplit

from airflow_provider_hopsjobs._compat import BaseHook
from airflow_provider_hopsjobs.errors import HopsworksConfigError
from airflow_provider_hopsjobs.hooks.retry_policy import RetryPolicy

CONN_TYPE = "hopsworks"
DEFAULT_CONNECT_TIMEOUT = 10.0
DEFAULT_READ_TIMEOUT = 60.0
API_PREFIX = "/hopsworks-api/api"
_DEFAULT_PORTS = {"https": 443, "http": 80}


class ConnectionLike(Protocol):
    """The attributes the hook reads from an Airflow ``Connection``."""

    conn_id: str
    host: str | None
    port: int | None
    schema: str | None
    password: str | None
    extra: Any


@dataclass(frozen=True)
class HopsworksConnectionSettings:
    """Where and how to reach Hopsworks. ``api_key`` is left out of ``repr``."""

    conn_id: str
    scheme: str
    host: str
    port: int
    api_key: str = field(repr=False)
    project_name: str | None
    project_id: int | None
    verify: bool | str
    connect_timeout: float
    read_timeout: float
    retry_policy: RetryPolicy

    @property
    def base_url(self) -> str:
        """``scheme://host[:port]``, the port left out when it is the scheme's default."""
        host = f"[{self.host}]" if ":" in self.host else self.host
        if _DEFAULT_PORTS.get(self.scheme) == self.port:
            return f"{self.scheme}://{host}"
        return f"{self.scheme}://{host}:{self.port}"

    @property
    def api_url(self) -> str:
        return self.base_url + API_PREFIX

    @property
    def authorization(self) -> str:
        return f"ApiKey {self.api_key}"


def _mask(secret: str) -> None:
    """Register the key with Airflow's secrets masker (its module moved in Airflow 3.1)."""
    try:
        module = importlib.import_module("airflow.sdk.log")
        mask = module.mask_secret
    except (ImportError, AttributeError):  # Airflow 3.0
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            module = importlib.import_module("airflow.sdk.execution_time.secrets_masker")
        mask = module.mask_secret
    mask(secret)


def _extras(conn: ConnectionLike) -> dict[str, Any]:
    """The extra field as a dict, parsed here rather than through ``extra_dejson``.

    Parsing the JSON ourselves keeps the async path free of the synchronous supervisor
    round-trip that ``extra_dejson`` makes on some Airflow versions to mask values.
    """
    raw = conn.extra
    if raw is None or raw == "":
        return {}
    if isinstance(raw, Mapping):
        return dict(raw)
    try:
        data = json.loads(raw)
    except ValueError as err:
        raise HopsworksConfigError(f"Connection {conn.conn_id!r}: the extra field is not valid JSON") from err
    if not isinstance(data, dict):
        raise HopsworksConfigError(f"Connection {conn.conn_id!r}: the extra field must be a JSON object")
    return data


def _extra(extras: Mapping[str, Any], key: str) -> Any:
    """Plain key first, then the ``extra__hopsworks__<key>`` form older UIs wrote."""
    value = extras.get(key)
    if value is None or value == "":
        value = extras.get(f"extra__{CONN_TYPE}__{key}")
    return None if value == "" else value


def _number(conn_id: str, name: str, value: Any, default: float, *, positive: bool = True) -> float:
    if value is None:
        return default
    try:
        number = float(value)
    except (TypeError, ValueError) as err:
        raise HopsworksConfigError(f"Connection {conn_id!r}: extra {name!r} must be a number") from err
    if positive and not number > 0:
        raise HopsworksConfigError(f"Connection {conn_id!r}: extra {name!r} must be greater than 0")
    return number


def parse_verify(conn_id: str, value: Any) -> bool | str:
    """``verify``: true (default), false, or the path of a CA bundle."""
    if value is None:
        return True
    if isinstance(value, bool):
        return value
    text = str(value).strip()
    if text.lower() in {"true", "1", "yes", "on"}:
        return True
    if text.lower() in {"false", "0", "no", "off"}:
        return False
    if not text:
        return True
    if text.isdigit():
        raise HopsworksConfigError(f"Connection {conn_id!r}: extra 'verify' must be true, false or a CA path")
    return text


def _split_host(conn: ConnectionLike) -> tuple[str, str, int]:
    raw_host = (conn.host or "").strip()
    if not raw_host:
        raise HopsworksConfigError(
            f"Connection {conn.conn_id!r} has no host; set it to your Hopsworks address, "
            "e.g. my-cluster.cloud.hopsworks.ai"
        )
    schema = (conn.schema or "").strip().lower()
    if schema and schema not in _DEFAULT_PORTS:
        raise HopsworksConfigError(
            f"Connection {conn.conn_id!r}: schema must be 'https' or 'http', got {conn.schema!r}"
        )
    if "://" in raw_host:
        parts = urlsplit(raw_host)
        host_scheme = parts.scheme.lower()
        if host_scheme not in _DEFAULT_PORTS:
            raise HopsworksConfigError(
                f"Connection {conn.conn_id!r}: host scheme must be https or http, got {parts.scheme!r}"
            )
        if schema and schema != host_scheme:
            raise HopsworksConfigError(
                f"Connection {conn.conn_id!r}: host says {host_scheme!r} but schema says {schema!r}"
            )
        scheme = host_scheme
        try:
            host_port = parts.port
        except ValueError as err:
            raise HopsworksConfigError(f"Connection {conn.conn_id!r}: invalid port in host") from err
        host = parts.hostname or ""
    else:
        scheme = schema or "https"
        parts = urlsplit(f"//{raw_host}")
        try:
            host_port = parts.port
        except ValueError as err:
            raise HopsworksConfigError(f"Connection {conn.conn_id!r}: invalid port in host") from err
        host = parts.hostname or ""
    if not host:
        raise HopsworksConfigError(f"Connection {conn.conn_id!r}: cannot read a host name from {raw_host!r}")
    port = conn.port or host_port or _DEFAULT_PORTS[scheme]
    try:
        port = int(port)
    except (TypeError, ValueError) as err:
        raise HopsworksConfigError(f"Connection {conn.conn_id!r}: port must be an integer") from err
    if not 0 < port < 65536:
        raise HopsworksConfigError(f"Connection {conn.conn_id!r}: port {port} is out of range")
    return scheme, host, port


def _retry_policy(conn_id: str, extras: Mapping[str, Any]) -> RetryPolicy:
    defaults = RetryPolicy()
    attempts = _extra(extras, "retry_attempts")
    budget = _extra(extras, "retry_max_seconds")
    max_attempts = defaults.max_attempts
    if attempts is not None:
        try:
            max_attempts = int(attempts)
        except (TypeError, ValueError) as err:
            raise HopsworksConfigError(
                f"Connection {conn_id!r}: extra 'retry_attempts' must be an integer"
            ) from err
    max_total = _number(conn_id, "retry_max_seconds", budget, defaults.max_total_seconds)
    return RetryPolicy(
        max_attempts=max_attempts,
        initial_wait=defaults.initial_wait,
        max_wait=defaults.max_wait,
        max_total_seconds=max_total,
        jitter=defaults.jitter,
    )


def settings_from_connection(
    conn: ConnectionLike,
    *,
    project: str | None = None,
    retry_policy: RetryPolicy | None = None,
    mask: bool = True,
) -> HopsworksConnectionSettings:
    """Validate ``conn`` and return its settings; ``project`` overrides the extra's project.

    ``mask=False`` leaves masking the key to the caller (the async path masks it with the
    async masker instead of a synchronous supervisor call).

    :raises HopsworksConfigError: with a message naming the connection and the field.
    """
    conn_id = conn.conn_id
    scheme, host, port = _split_host(conn)
    api_key = (conn.password or "").strip()
    if not api_key:
        raise HopsworksConfigError(
            f"Connection {conn_id!r} has no API key; put a Hopsworks API key in the password field"
        )
    if mask:
        _mask(api_key)
    extras = _extras(conn)
    project_name = (project or "").strip() or None
    project_id: int | None = None
    if project_name is None:
        raw_name = _extra(extras, "project")
        project_name = str(raw_name).strip() if raw_name is not None else None
        raw_id = _extra(extras, "project_id")
        if raw_id is not None:
            try:
                project_id = int(raw_id)
            except (TypeError, ValueError) as err:
                raise HopsworksConfigError(
                    f"Connection {conn_id!r}: extra 'project_id' must be an integer"
                ) from err
    if not project_name and project_id is None:
        raise HopsworksConfigError(
            f"Connection {conn_id!r} names no project; set extra 'project' (or 'project_id'), "
            "or pass project= to the hook"
        )
    return HopsworksConnectionSettings(
        conn_id=conn_id,
        scheme=scheme,
        host=host,
        port=port,
        api_key=api_key,
        project_name=project_name or None,
        project_id=project_id,
        verify=parse_verify(conn_id, _extra(extras, "verify")),
        connect_timeout=_number(
            conn_id, "connect_timeout", _extra(extras, "connect_timeout"), DEFAULT_CONNECT_TIMEOUT
        ),
        read_timeout=_number(conn_id, "read_timeout", _extra(extras, "read_timeout"), DEFAULT_READ_TIMEOUT),
        retry_policy=retry_policy or _retry_policy(conn_id, extras),
    )


async def aget_connection(conn_id: str) -> Any:
    """Fetch a connection from async code without a synchronous look-up on the event loop.

    ``BaseHook.aget_connection`` exists from Airflow 3.1, but before 3.3.2 it masks secrets
    with a synchronous supervisor call that can deadlock beside another async call; there,
    and on 3.0, the sync look-up runs in a worker thread instead.
    """
    from airflow.sdk import Connection

    if hasattr(BaseHook, "aget_connection") and hasattr(Connection, "aextra_dejson"):
        return await BaseHook.aget_connection(conn_id)
    from asgiref.sync import sync_to_async

    return await sync_to_async(BaseHook.get_connection)(conn_id)


async def asettings_from_connection(
    conn: Any, *, project: str | None, retry_policy: RetryPolicy | None
) -> HopsworksConnectionSettings:
    """Parse settings in async code; the key is masked with the async masker when there is one."""
    try:
        from airflow.sdk.log import amask_secret
    except ImportError:
        from asgiref.sync import sync_to_async

        parse = sync_to_async(settings_from_connection)
        result: HopsworksConnectionSettings = await parse(conn, project=project, retry_policy=retry_policy)
        return result
    settings = settings_from_connection(conn, project=project, retry_policy=retry_policy, mask=False)
    await amask_secret(settings.api_key)
    return settings
