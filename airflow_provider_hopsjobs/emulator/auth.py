"""API-key authentication with Hopsworks' exact failure answers.

Header ``Authorization: ApiKey <prefix>.<secret>``; ``Bearer <key>`` is accepted too, with
the same key, standing in for a JWT. Failures follow ``ApiKeyFilter``: 401/200003 without a
header or with an unknown scheme, 401/320012 for a malformed key or wrong secret,
401/320013 for an unknown prefix, 403/320004 when the key lacks the endpoint's scope; all
with ``WWW-Authenticate: Bearer realm="Cauth Realm"``. Only a hash of each secret is stored.
"""

from __future__ import annotations

import hmac
from typing import TYPE_CHECKING, Any

from airflow_provider_hopsjobs.emulator import errors
from airflow_provider_hopsjobs.emulator.store import sha256

if TYPE_CHECKING:
    from airflow_provider_hopsjobs.emulator.store import Store

ALL_SCOPES = frozenset(
    {
        "JOB",
        "DATASET_VIEW",
        "DATASET_CREATE",
        "DATASET_DELETE",
        "SERVING",
        "FEATURESTORE",
        "PROJECT",
        "ADMIN",
        "KAFKA",
        "ADMINISTER_USERS",
        "ADMINISTER_USERS_REGISTER",
        "MODELREGISTRY",
        "USER",
        "GIT",
        "PYTHON_LIBRARIES",
        "AUTH",
    }
)


def split_key(key: str) -> tuple[str, str]:
    """``<prefix>.<secret>`` split on the first dot; ValueError without one."""
    prefix, dot, secret = key.partition(".")
    if not dot or not prefix or not secret:
        raise ValueError("an API key has the form <prefix>.<secret>")
    return prefix, secret


class Authenticator:
    """Checks the Authorization header against the stored keys (cached in memory)."""

    def __init__(self, store: Store) -> None:
        self._store = store
        self._cache: dict[str, dict[str, Any] | None] = {}

    def forget(self) -> None:
        self._cache.clear()

    def _lookup(self, prefix: str) -> dict[str, Any] | None:
        if prefix not in self._cache:
            self._cache[prefix] = self._store.get_api_key(prefix)
        return self._cache[prefix]

    def authenticate(self, header: str | None, scope: str | None) -> dict[str, Any]:
        """Return the key's user row, or raise the matching :class:`errors.ApiError`."""
        if header is None or not header.strip():
            raise errors.auth_error(401, errors.AUTH_HEADER_NOT_SET)
        if header.startswith("ApiKey "):
            key = header[len("ApiKey ") :].strip()
        elif header.startswith("Bearer "):
            key = header[len("Bearer ") :].strip()
        else:
            raise errors.auth_error(401, errors.AUTH_INVALIDATED)
        try:
            prefix, secret = split_key(key)
        except ValueError:
            raise errors.auth_error(401, errors.API_KEY_INVALID) from None
        record = self._lookup(prefix)
        if record is None:
            raise errors.auth_error(401, errors.API_KEY_NOT_FOUND)
        if not hmac.compare_digest(record["secret_sha256"], sha256(secret)):
            raise errors.auth_error(401, errors.API_KEY_INVALID)
        if scope is not None and scope not in record["scopes"]:
            raise errors.auth_error(403, errors.NO_VALID_SCOPE)
        user = self._store.get_user(int(record["user_id"]))
        if user is None:
            raise errors.auth_error(403, errors.NO_VALID_ROLE)
        return user
