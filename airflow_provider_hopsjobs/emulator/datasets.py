"""Dataset endpoints: flow.js chunked upload, mkdir, stat/listing, streamed download, delete.

The upload follows what the official SDK does: chunks are POSTed as multipart forms to
``/dataset/upload/<dir>`` (the directory path may arrive ``%2F``-encoded in one segment or
with plain slashes), up to three at a time and in any order; the file appears only when
its last chunk is in, so its own later chunks never see "Destination already exists."
(400/110012), which an upload onto an existing file does get. An empty file is sent
with ``flowTotalChunks=0``. Chunks wait in ``<data_dir>/uploads`` until the file is whole.
"""

from __future__ import annotations

import hashlib
import os
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from starlette.datastructures import UploadFile
from starlette.requests import Request
from starlette.responses import FileResponse, JSONResponse, Response
from starlette.routing import Route

from airflow_provider_hopsjobs.emulator import errors
from airflow_provider_hopsjobs.emulator.clock import iso_ms
from airflow_provider_hopsjobs.emulator.context import API_PREFIX, ContextResolver, RequestContext
from airflow_provider_hopsjobs.emulator.fs import ProjectFiles, ResolvedPath

MAX_CHUNKS = 10_000


@dataclass
class PendingUpload:
    identifier: str
    total_chunks: int
    directory: str
    received: set[int] = field(default_factory=set)


def inode_dto(ctx: RequestContext, resolved: ResolvedPath) -> dict[str, Any]:
    info = resolved.local.stat()
    is_dir = resolved.local.is_dir()
    attributes: dict[str, Any] = {
        "id": info.st_ino,
        "name": resolved.local.name if resolved.relative else resolved.project,
        "path": resolved.full,
        "dir": is_dir,
        "size": 0 if is_dir else info.st_size,
        "owner": ctx.user["username"],
        "group": f"{resolved.project}__{resolved.dataset}" if resolved.relative else resolved.project,
        "permission": "rwxrwx--T" if is_dir else "rw-rw----",
        "modificationTime": iso_ms(int(info.st_mtime * 1000)),
        "accessTime": iso_ms(int(info.st_atime * 1000)),
        "underConstruction": False,
    }
    body: dict[str, Any] = {
        "href": ctx.project_api("dataset", resolved.relative),
        "attributes": attributes,
        "zipState": "NONE",
    }
    if resolved.depth == 1 and is_dir:
        # A top-level dataset; files and sub-directories carry no datasetType.
        body.update(
            id=info.st_ino,
            name=resolved.relative,
            datasetType="DATASET",
            description="",
            searchable=True,
            shared=False,
            permission="EDITABLE",
            publicDataset=0,
        )
    return body


def _flow_int(values: dict[str, Any], name: str) -> int:
    try:
        return int(str(values[name]))
    except (KeyError, ValueError):
        raise errors.ApiError(400, errors.UPLOAD_INFO_INVALID, f"{name} is missing or not a number") from None


def _flow_params(values: dict[str, Any]) -> tuple[int, int, str, str]:
    """(chunk number, total chunks, identifier, file name), validated as UploadService does."""
    chunk_number = _flow_int(values, "flowChunkNumber")
    total_chunks = _flow_int(values, "flowTotalChunks")
    identifier = str(values.get("flowIdentifier") or "")
    filename = str(values.get("flowFilename") or "")
    if not identifier or not filename:
        raise errors.ApiError(400, errors.UPLOAD_INFO_INVALID, "flowIdentifier and flowFilename are required")
    if "/" in filename or filename in (".", ".."):
        raise errors.ApiError(400, errors.DATASET_NAME_INVALID, f"name: {filename}")
    if total_chunks > MAX_CHUNKS:
        raise errors.ApiError(400, errors.UPLOAD_INFO_INVALID, "File too big, more than 10000 chunks.")
    if (
        total_chunks < 0
        or chunk_number < (0 if total_chunks == 0 else 1)
        or chunk_number > max(total_chunks, 1)
    ):
        raise errors.ApiError(400, errors.UPLOAD_INFO_INVALID, "flowChunkNumber is out of range")
    return chunk_number, total_chunks, identifier, filename


class DatasetRoutes:
    def __init__(self, *, contexts: ContextResolver, files: ProjectFiles, uploads_dir: Path) -> None:
        self._contexts = contexts
        self._files = files
        #: Where chunks wait until their file is whole.
        self._uploads_dir = uploads_dir
        #: Files being uploaded, by full path.
        self._uploads: dict[str, PendingUpload] = {}

    def routes(self) -> list[Route]:
        p = f"{API_PREFIX}/project/{{id:int}}/dataset"
        return [
            Route(f"{p}/upload/{{path:path}}", self.upload, methods=["POST"]),
            Route(f"{p}/download/with_auth/{{path:path}}", self.download, methods=["GET"]),
            Route(f"{p}/{{path:path}}", self.get_path, methods=["GET"]),
            Route(f"{p}/{{path:path}}", self.post_path, methods=["POST"]),
            Route(f"{p}/{{path:path}}", self.delete_path, methods=["DELETE"]),
        ]

    def _resolve(self, ctx: RequestContext, path: str, **kwargs: Any) -> ResolvedPath:
        return self._files.resolve(ctx.project_name, path, **kwargs)

    def _existing(self, ctx: RequestContext, path: str) -> ResolvedPath:
        resolved = self._resolve(ctx, path)
        if not resolved.local.exists():
            raise errors.ApiError(404, errors.INODE_NOT_FOUND, f"path: {resolved.full}")
        return resolved

    async def get_path(self, request: Request) -> Response:
        """``GET /dataset/{path}``: ``action=stat`` (the default) or ``action=listing``."""
        ctx = self._contexts.resolve(request, "DATASET_VIEW")
        resolved = self._existing(ctx, request.path_params["path"])
        action = request.query_params.get("action", "stat").lower()
        if action == "stat":
            return JSONResponse(inode_dto(ctx, resolved))
        if action == "listing":
            if not resolved.local.is_dir():
                raise errors.ApiError(
                    400, (110019, "Requested path is not a directory"), f"path: {resolved.full}"
                )
            children = sorted(resolved.local.iterdir())
            items = [
                inode_dto(ctx, self._resolve(ctx, f"{resolved.full}/{child.name}", require_dataset=False))
                for child in children
            ]
            body: dict[str, Any] = {"href": ctx.project_api("dataset", resolved.relative)}
            if items:
                body["items"] = items
            body["count"] = len(items)
            return JSONResponse(body)
        raise errors.web_application_error(404)

    async def post_path(self, request: Request) -> Response:
        """``POST /dataset/{path}?action=create``: make a directory (parents included)."""
        ctx = self._contexts.resolve(request, "DATASET_CREATE")
        action = request.query_params.get("action", "").lower()
        if action != "create":
            raise errors.ApiError(400, errors.UNKNOWN_ACTION, f"action: {action or '<none>'}")
        raw = request.path_params["path"]
        top_level = len([p for p in raw.strip("/").split("/") if p]) == 1 and not raw.startswith(
            ("/", "hdfs:")
        )
        resolved = self._resolve(ctx, raw, require_dataset=not top_level)
        if not resolved.relative:
            raise errors.ApiError(400, errors.DATASET_NAME_INVALID, f"path: {raw}")
        if resolved.local.exists():
            code = errors.DESTINATION_EXISTS if resolved.local.is_file() else errors.SUBDIR_EXISTS
            raise errors.ApiError(400, code, f"path: {resolved.full}")
        resolved.local.mkdir(parents=True)
        body = inode_dto(ctx, resolved)
        return JSONResponse(body, status_code=201, headers={"Location": body["href"]})

    async def delete_path(self, request: Request) -> Response:
        ctx = self._contexts.resolve(request, "DATASET_DELETE")
        resolved = self._existing(ctx, request.path_params["path"])
        if not resolved.relative:
            raise errors.ApiError(
                400, errors.DATASET_OPERATION_INVALID, "The project root cannot be deleted."
            )
        self._files.delete(resolved.local)
        return Response(status_code=204)

    async def download(self, request: Request) -> Response:
        ctx = self._contexts.resolve(request, "DATASET_VIEW")
        resolved = self._existing(ctx, request.path_params["path"])
        if resolved.local.is_dir():
            raise errors.ApiError(400, errors.PATH_IS_DIRECTORY, f"path: {resolved.full}")
        return FileResponse(
            resolved.local,
            media_type="application/octet-stream",
            filename=resolved.local.name,
        )

    async def upload(self, request: Request) -> Response:
        ctx = self._contexts.resolve(request, "DATASET_CREATE")
        directory = self._resolve(ctx, request.path_params["path"])
        media = request.headers.get("content-type", "").split(";")[0].strip().lower()
        if media != "multipart/form-data":
            raise errors.web_application_error(415)
        try:
            form = await request.form(max_files=1, max_fields=64)
        except Exception:  # python-multipart's parse errors carry no common base class
            raise errors.web_application_error(400) from None
        values: dict[str, Any] = dict(request.query_params)
        values.update({k: v for k, v in form.items()})
        chunk_number, total_chunks, identifier, filename = _flow_params(values)
        file_part = form.get("file")
        data = b""
        if isinstance(file_part, UploadFile):
            data = await file_part.read()
        elif isinstance(file_part, str):
            data = file_part.encode()
        # No await from here on: the checks and the bookkeeping below are atomic on the event loop.
        destination = directory.local / filename
        full = f"{directory.full}/{filename}"
        pending = self._uploads
        current = pending.get(full)
        if current is not None and current.identifier != identifier:
            raise errors.ApiError(
                412, (110041, "A file with the same name is being uploaded"), f"path: {full}"
            )
        if current is None and destination.exists():
            raise errors.ApiError(400, errors.DESTINATION_EXISTS, f"path: {full}")
        if total_chunks == 0:
            destination.parent.mkdir(parents=True, exist_ok=True)
            destination.write_bytes(data)
            return JSONResponse({"successMessage": f"Successfuly uploaded file to {full}"})
        if current is None:
            current = pending[full] = PendingUpload(identifier, total_chunks, directory.full)
        chunk_dir = self._uploads_dir / hashlib.sha256(f"{full}\0{identifier}".encode()).hexdigest()[:32]
        chunk_dir.mkdir(parents=True, exist_ok=True)
        (chunk_dir / f"{chunk_number:05d}").write_bytes(data)
        current.received.add(chunk_number)
        if len(current.received) < current.total_chunks:
            return JSONResponse({"successMessage": "Uploading..."})
        destination.parent.mkdir(parents=True, exist_ok=True)
        partial = destination.with_name(f".{destination.name}.uploading")
        with open(partial, "wb") as out:
            for number in range(1, current.total_chunks + 1):
                with open(chunk_dir / f"{number:05d}", "rb") as chunk:
                    shutil.copyfileobj(chunk, out)
        os.replace(partial, destination)
        shutil.rmtree(chunk_dir, ignore_errors=True)
        del pending[full]
        return JSONResponse({"successMessage": f"Successfuly uploaded file to {full}"})  # sic
