"""The project file system (HopsFS stand-in) on local disk.

``<data_dir>/fs/Projects/<project>/<Dataset>/...`` mirrors ``/Projects/<project>/...``.
Paths arrive in every form Hopsworks accepts: project-relative (``Resources/x.py``),
absolute (``/Projects/demo/Resources/x.py``) or as an HDFS URI
(``hdfs:///Projects/demo//Resources/x.py``, double slashes included). Anything that
would leave the project tree is refused.
"""

from __future__ import annotations

import posixpath
import re
import shutil
from dataclasses import dataclass
from pathlib import Path

from airflow_provider_hopsjobs.emulator import errors

#: The datasets every new project starts with.
DEFAULT_DATASETS = ("Resources", "Logs", "Jupyter", "Experiments", "Models", "Airflow", "DataValidation")

_HDFS_URI = re.compile(r"^hdfs://[^/]*")


@dataclass(frozen=True)
class ResolvedPath:
    project: str
    relative: str  # "Resources/jobs/x.py" ("" for the project root)
    local: Path

    @property
    def full(self) -> str:
        """The HopsFS path, ``/Projects/<project>/<relative>``."""
        return f"/Projects/{self.project}/{self.relative}".rstrip("/")

    @property
    def dataset(self) -> str:
        return self.relative.split("/", 1)[0]

    @property
    def depth(self) -> int:
        return 0 if not self.relative else self.relative.count("/") + 1


class ProjectFiles:
    def __init__(self, root: Path) -> None:
        self.root = root
        root.mkdir(parents=True, exist_ok=True)

    def project_dir(self, project: str) -> Path:
        return self.root / "Projects" / project

    def ensure_project(self, project: str) -> None:
        for dataset in DEFAULT_DATASETS:
            (self.project_dir(project) / dataset).mkdir(parents=True, exist_ok=True)

    def resolve(self, project: str, path: str, *, require_dataset: bool = True) -> ResolvedPath:
        """Map any accepted path form to the project's local tree.

        Raises 400/110011 when the top-level dataset does not exist (unless
        ``require_dataset`` is False) and 400/110001 for paths outside the project.
        """
        text = _HDFS_URI.sub("", path.strip())
        text = re.sub(r"/{2,}", "/", text)
        owner = project
        if text.startswith("/"):
            parts = text.strip("/").split("/", 2)
            if len(parts) < 2 or parts[0] != "Projects":
                raise errors.ApiError(400, errors.DATASET_OPERATION_INVALID, f"Invalid path: {path}")
            owner = parts[1]
            text = parts[2] if len(parts) > 2 else ""
        normalised = posixpath.normpath(text) if text else ""
        if normalised in (".", ""):
            normalised = ""
        if normalised.startswith("..") or "/../" in f"/{normalised}/":
            raise errors.ApiError(400, errors.DATASET_OPERATION_INVALID, f"Invalid path: {path}")
        if owner != project and not self.project_dir(owner).is_dir():
            raise errors.ApiError(400, errors.DATASET_NOT_FOUND, f"path: {path}")
        local = self.project_dir(owner) / normalised if normalised else self.project_dir(owner)
        resolved = ResolvedPath(project=owner, relative=normalised, local=local)
        if require_dataset and normalised and not (self.project_dir(owner) / resolved.dataset).is_dir():
            raise errors.ApiError(400, errors.DATASET_NOT_FOUND, f"path: {resolved.full}")
        return resolved

    def local_of(self, full_path: str) -> Path:
        """Local file of a ``/Projects/<p>/...`` path the emulator wrote itself."""
        return self.root / full_path.lstrip("/")

    @staticmethod
    def delete(local: Path) -> None:
        if local.is_dir():
            shutil.rmtree(local)
        else:
            local.unlink()
