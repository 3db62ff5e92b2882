"""Datasets: chunked flow upload (also only when the file changed), mkdir, stat, delete, streamed download."""

from __future__ import annotations

import contextlib
import hashlib
import math
import os
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path
from typing import Any

import requests

from airflow_provider_hopsjobs.errors import (
    HopsworksApiError,
    HopsworksApiUnavailableError,
    HopsworksConfigError,
    HopsworksNotFoundError,
)
from airflow_provider_hopsjobs.hooks.base import HopsworksBaseHook
from airflow_provider_hopsjobs.hooks.connection import API_PREFIX
from airflow_provider_hopsjobs.hooks.retry_policy import call_not_idempotent
from airflow_provider_hopsjobs.hooks.wire import call_name, segment


class DatasetsMixin(HopsworksBaseHook):
    """The datasets part of :class:`~.hopsworks.HopsworksHook`."""

    #: Flow upload chunk size; Hopsworks' SDK uses 10 MiB and the server caps a file at 10,000 chunks.
    upload_chunk_size: int = 10 * 1024 * 1024

    def _dataset_relative(self, path: str) -> str:
        """``/Projects/<p>/Resources/x`` or ``hdfs:///Projects/<p>/...`` -> ``Resources/x``."""
        value = str(path).strip()
        if value.startswith("hdfs://"):
            value = value[len("hdfs://") :]
            value = value[value.index("/") :] if "/" in value else ""
        prefix = f"/Projects/{self.project_name}/"
        if value.startswith(prefix):
            value = value[len(prefix) :]
        elif value.rstrip("/") == prefix.rstrip("/"):
            value = ""
        return value.strip("/") if not value.startswith("/Projects/") else value.rstrip("/")

    def _dataset_path(self, *segments: str) -> str:
        return self._project_path("dataset", *segments)

    def stat(self, path: str) -> dict[str, Any] | None:
        """The file's or directory's inode DTO (``attributes.size`` …), or None when it does not exist."""
        relative = self._dataset_relative(path)
        try:
            return dict(
                self._request_json("GET", self._dataset_path(segment(relative)), params=[("action", "stat")])
            )
        except HopsworksNotFoundError:
            return None
        except HopsworksApiError as err:
            text = f"{err.error_msg or ''} {err.usr_msg or ''}".lower()
            if err.status_code == 400 and ("not found" in text or "not exist" in text):
                return None
            raise

    def mkdir(self, path: str) -> None:
        """Create a directory (and missing parents); an existing one is fine."""
        relative = self._dataset_relative(path)
        if not relative:
            raise HopsworksConfigError("mkdir needs a path inside a dataset, e.g. Resources/jobs")
        if self.stat(relative) is not None:
            return
        parent = relative.rsplit("/", 1)[0] if "/" in relative.strip("/") else ""
        if parent and parent != "/Projects" and self.stat(parent) is None:
            self.mkdir(parent)
        params = [
            ("action", "create"),
            ("searchable", "true"),
            ("generate_readme", "false"),
            ("type", "DATASET"),
        ]
        try:
            self._request("POST", self._dataset_path(segment(relative)), params=params)
        except HopsworksApiError:
            # A retry after a lost response meets the directory our first attempt made.
            if self.stat(relative) is None:
                raise

    def delete_path(self, path: str) -> None:
        """Delete a file or directory. :raises HopsworksNotFoundError: nothing there."""
        relative = self._dataset_relative(path)
        if not relative:
            raise HopsworksConfigError("Refusing to delete the project root")
        self._request("DELETE", self._dataset_path(segment(relative)))

    def download(self, path: str, chunk_size: int = 1 << 20) -> Iterator[bytes]:
        """Stream a file's bytes in chunks of at most ``chunk_size``; nothing is buffered whole."""
        if chunk_size < 1:
            raise HopsworksConfigError("chunk_size must be at least 1")
        relative = self._dataset_relative(path)
        if not relative:
            raise HopsworksConfigError("download needs a file path")
        api_path = self._dataset_path("download", "with_auth", segment(relative))
        return self._iter_download(api_path, chunk_size)

    def _iter_download(self, api_path: str, chunk_size: int) -> Iterator[bytes]:
        response = self._request("GET", api_path, params=[("type", "DATASET")], stream=True)
        try:
            yield from response.iter_content(chunk_size)
        except requests.RequestException as err:
            raise HopsworksApiUnavailableError(
                f"Download of {API_PREFIX}{api_path} was interrupted: {type(err).__name__}"
            ) from err
        finally:
            response.close()

    def upload_file(
        self, local_path: str | os.PathLike[str], remote_dir: str, *, overwrite: bool = False
    ) -> str:
        """Upload one file into ``remote_dir`` with Hopsworks' chunked flow protocol.

        Chunks go one after another, the first one first (it creates the file on the
        server); the directory is created when missing. Returns the project-relative path
        of the uploaded file, e.g. ``Resources/jobs/etl/script.py``.
        """
        local = _local_file(local_path)
        directory = self._dataset_relative(remote_dir)
        if not directory:
            raise HopsworksConfigError(
                "remote_dir must be a directory inside a dataset, e.g. Resources/jobs/etl"
            )
        target = f"{directory}/{local.name}"
        if self.stat(directory) is None:
            self.mkdir(directory)
        if overwrite and self.stat(target) is not None:
            with contextlib.suppress(HopsworksNotFoundError):  # a retried delete finds it gone
                self.delete_path(target)
        size = local.stat().st_size
        try:
            self._upload_chunks(local, directory, target, size)
        except HopsworksApiError as err:
            if _already_exists(err):
                raise err.with_message(
                    f"Cannot upload {local.name}: {target} already exists in project {self.project_name}; "
                    "pass overwrite=True to replace it"
                ) from err
            raise
        self.log.info("Uploaded %s (%d bytes) to %s", local, size, target)
        return target

    def upload_file_if_changed(self, local_path: str | os.PathLike[str], remote_dir: str) -> tuple[str, bool]:
        """Upload ``local_path`` into ``remote_dir`` unless an identical file is already there.

        Identical means the same size and the same SHA-256 of its bytes (the remote file is
        downloaded to compare, only when the sizes agree). Otherwise the file is uploaded
        over whatever is there. Returns the remote path and whether it was uploaded.
        """
        local = _local_file(local_path)
        remote_path = f"{remote_dir.rstrip('/')}/{local.name}"
        current = self.stat(remote_path)
        if current is not None:
            attributes = (
                current.get("attributes") if isinstance(current.get("attributes"), Mapping) else current
            )
            size = attributes.get("size") if isinstance(attributes, Mapping) else None
            if (
                size is not None
                and int(size) == local.stat().st_size
                and _sha256_of_chunks(self.download(remote_path)) == _sha256_of_file(local)
            ):
                self.log.info("%s already holds an identical %s; not uploading.", remote_dir, local.name)
                return remote_path, False
        return self.upload_file(local, remote_dir, overwrite=True), True

    def _upload_chunks(self, local: Path, directory: str, target: str, size: int) -> None:
        name = local.name
        chunk_size = int(self.upload_chunk_size)
        # flow.js sends an empty file as one empty chunk; so do we.
        total_chunks = max(1, math.ceil(size / chunk_size))
        fields: dict[str, Any] = {
            "templateId": -1,
            "flowChunkSize": chunk_size,
            "flowTotalSize": size,
            "flowIdentifier": f"{size}_{name}",
            "flowFilename": name,
            "flowRelativePath": name,
            "flowTotalChunks": total_chunks,
        }
        upload_path = self._dataset_path("upload", segment(directory))
        with local.open("rb") as handle:
            for number in range(1, total_chunks + 1):
                chunk = handle.read(chunk_size)
                form = {**fields, "flowChunkNumber": number, "flowCurrentChunkSize": len(chunk)}
                self._send_chunk(upload_path, form, (name, chunk), target=target, size=size)

    def _send_chunk(
        self, upload_path: str, form: dict[str, Any], part: tuple[str, bytes], *, target: str, size: int
    ) -> None:
        """POST one chunk under the retry policy, without mistaking our own lost success for a clash.

        A chunk is not idempotent: once the last one is in, the file exists and the same
        chunk sent again is refused with "already exists" (110012). So after an attempt
        that may have reached the server (a dropped connection, a timeout, a 5xx), that
        refusal means success when the file is there at its full size.
        """

        def send() -> bool:
            self._send("POST", upload_path, data=form, files={"file": (*part, "application/octet-stream")})
            return True

        def recover() -> bool | None:
            if not self._has_size(target, size):
                return None
            self.log.warning("The upload of %s completed although its answer was lost", target)
            return True

        call_not_idempotent(
            self.retry_policy,
            call_name("POST", upload_path),
            send,
            recover,
            recover_on=_already_exists,
            sleep=self.clock.sleep,
            logger=self.log,
        )

    def _has_size(self, path: str, size: int) -> bool:
        found = self.stat(path)
        attributes = (found or {}).get("attributes")
        return isinstance(attributes, dict) and attributes.get("size") == size


def _already_exists(error: BaseException) -> bool:
    """Hopsworks' "destination already exists" refusal of an upload (110012)."""
    return isinstance(error, HopsworksApiError) and error.error_code == 110012


def _local_file(local_path: str | os.PathLike[str]) -> Path:
    local = Path(local_path)
    if not local.is_file():
        raise HopsworksConfigError(f"Cannot upload {str(local)!r}: no such file")
    return local


def _sha256_of_chunks(chunks: Iterable[bytes]) -> str:
    digest = hashlib.sha256()
    for chunk in chunks:
        digest.update(chunk)
    return digest.hexdigest()


def _sha256_of_file(path: Path) -> str:
    with path.open("rb") as handle:
        return _sha256_of_chunks(iter(lambda: handle.read(1 << 20), b""))
