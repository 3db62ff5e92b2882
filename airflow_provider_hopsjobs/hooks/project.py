"""Which project the hook works in: what the connection already says, and the one look-up.

Pure rules shared by the sync and the async side of the hook. A connection names its
project by name, by id, or both; every API path needs the id, and the UI and dataset paths
need the name. What the connection does not say is looked up once (Hopsworks' REST
resource ``ProjectService``: ``getProjectInfo/<name>`` or ``/project/<id>``).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from airflow_provider_hopsjobs.errors import HopsworksApiError, HopsworksNotFoundError
from airflow_provider_hopsjobs.hooks.connection import HopsworksConnectionSettings
from airflow_provider_hopsjobs.hooks.wire import segment


@dataclass(frozen=True)
class ProjectRef:
    """The project as far as the hook knows it so far (``None``: not known yet)."""

    id: int | None = None
    name: str | None = None

    @property
    def complete(self) -> bool:
        return self.id is not None and self.name is not None

    def with_connection_id(self, settings: HopsworksConnectionSettings) -> ProjectRef:
        """The connection's ``project_id`` (and name, if it has one) when no id is known yet."""
        if self.id is None and settings.project_id is not None:
            return ProjectRef(settings.project_id, settings.project_name or self.name)
        return self

    def with_connection_name(self, settings: HopsworksConnectionSettings) -> ProjectRef:
        """The connection's project name, once an id is known without a look-up."""
        if self.name is None and settings.project_name and self.id is not None:
            return ProjectRef(self.id, settings.project_name)
        return self


@dataclass(frozen=True)
class ProjectLookup:
    """The request that learns what the connection does not say about its project."""

    path: str
    #: How the error names the project it could not find.
    what: str

    @classmethod
    def of(cls, settings: HopsworksConnectionSettings) -> ProjectLookup:
        """By name when the connection has one, else by id."""
        if settings.project_name:
            return cls(
                f"/project/getProjectInfo/{segment(settings.project_name)}",
                f"project {settings.project_name!r}",
            )
        return cls(f"/project/{settings.project_id}", f"project id {settings.project_id}")

    @contextmanager
    def explaining_not_found(self) -> Iterator[None]:
        """Turn the look-up's 404 into a message that names the project and the likely cause."""
        try:
            yield
        except HopsworksNotFoundError as err:
            raise err.with_message(
                f"Hopsworks has no {self.what}, or the API key's user is not a member of it ({err})"
            ) from err


def project_from_info(info: Any, settings: HopsworksConnectionSettings) -> ProjectRef:
    """Read the look-up's answer (a ``ProjectDTO``; older servers say ``id``/``name``)."""
    raw_id = info.get("projectId", info.get("id")) if isinstance(info, Mapping) else None
    if raw_id is None:
        raise HopsworksApiError("Hopsworks' project information has no projectId")
    project_id = int(raw_id)
    name = info.get("projectName") or info.get("name") or settings.project_name or str(project_id)
    return ProjectRef(project_id, str(name))
