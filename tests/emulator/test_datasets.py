"""Datasets: flow upload, mkdir, stat, download, delete.

Sources: the Hopsworks REST resource ``DatasetResource`` and its ``UploadService``, and the official
SDK module ``core/dataset_api`` (how hopsworks 5.2.1 uploads, stats and downloads).
"""

from __future__ import annotations

import threading
import uuid
from typing import Any

import requests

from tests.emulator.conftest import Api


def _chunk(
    api: Api, target: str, filename: str, *, number: int, total: int, data: bytes, size: int, ident: str
) -> requests.Response:
    return api.post(
        f"dataset/upload/{target}",
        files={"file": (filename, data)},
        data={
            "flowChunkNumber": str(number),
            "flowTotalChunks": str(total),
            "flowChunkSize": "4",
            "flowCurrentChunkSize": str(len(data)),
            "flowTotalSize": str(size),
            "flowIdentifier": ident,
            "flowFilename": filename,
            "flowRelativePath": filename,
            "templateId": "-1",
        },
    )


def _folder() -> str:
    return f"Resources/up_{uuid.uuid4().hex[:8]}"


def test_upload_accepts_encoded_and_plain_slashes_and_absolute_paths(api: Api) -> None:
    """The directory may come %2F-encoded in one segment, with plain slashes, or absolute.

    Source: the official SDK module ``core/dataset_api``.
    """
    folder = _folder()
    first = api.upload(folder, "a.txt", b"encoded", encoded=True)
    assert first.status_code == 200
    assert first.json() == {"successMessage": f"Successfuly uploaded file to /Projects/demo/{folder}/a.txt"}
    assert api.upload(folder, "b.txt", b"plain", encoded=False).status_code == 200
    assert api.upload(f"/Projects/demo/{folder}", "c.txt", b"absolute", encoded=True).status_code == 200
    for name, content in (("a.txt", b"encoded"), ("b.txt", b"plain"), ("c.txt", b"absolute")):
        stat = api.get(f"dataset/%2FProjects%2Fdemo%2F{folder.replace('/', '%2F')}%2F{name}").json()
        assert stat["attributes"]["size"] == len(content)
        downloaded = api.get(f"dataset/download/with_auth/{folder}/{name}", params={"type": "DATASET"})
        assert downloaded.content == content


def test_existing_destination_is_400_110012_and_keeps_the_file(api: Api) -> None:
    """Uploading onto an existing file -> 400/110012 "Destination already exists."; content unchanged.

    Source: Hopsworks' ``UploadService``.
    """
    folder = _folder()
    api.upload(folder, "x.py", b"original")
    again = api.upload(folder, "x.py", b"replacement")
    assert again.status_code == 400
    assert again.json()["errorCode"] == 110012
    assert again.json()["errorMsg"] == "Destination already exists."
    assert api.get(f"dataset/download/with_auth/{folder}/x.py").content == b"original"


def test_chunks_out_of_order_and_in_parallel(api: Api) -> None:
    """Chunks may arrive concurrently and out of order; the file exists only once all are in.

    Source: the official SDK module ``core/dataset_api``.
    """
    folder = _folder()
    target = folder.replace("/", "%2F")
    data = b"0123456789abcdefghij"  # five 4-byte chunks
    chunks = [data[i : i + 4] for i in range(0, len(data), 4)]
    ident = f"{len(data)}_big.bin"
    last = _chunk(api, target, "big.bin", number=5, total=5, data=chunks[4], size=len(data), ident=ident)
    assert last.json() == {"successMessage": "Uploading..."}
    assert api.get(f"dataset/{folder}/big.bin").status_code == 404
    answers: list[Any] = []

    def send(number: int) -> None:
        answers.append(
            _chunk(
                api,
                target,
                "big.bin",
                number=number,
                total=5,
                data=chunks[number - 1],
                size=len(data),
                ident=ident,
            ).status_code
        )

    threads = [threading.Thread(target=send, args=(n,)) for n in (3, 1, 4, 2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert answers == [200, 200, 200, 200]
    assert api.get(f"dataset/download/with_auth/{folder}/big.bin").content == data


def test_empty_file_has_zero_chunks(api: Api) -> None:
    """An empty file is sent with flowTotalChunks=0 and becomes an empty file.

    Source: the official SDK module ``core/dataset_api``.
    """
    folder = _folder()
    response = _chunk(
        api, folder.replace("/", "%2F"), "empty.txt", number=1, total=0, data=b"", size=0, ident="0_empty.txt"
    )
    assert response.status_code == 200
    assert api.get(f"dataset/{folder}/empty.txt").json()["attributes"]["size"] == 0


def test_missing_flow_parameters_and_unknown_dataset(api: Api) -> None:
    """Missing flow params -> 400/110042; a destination outside any dataset -> 400/110011.

    Source: Hopsworks' ``UploadService``.
    """
    missing = api.post(
        "dataset/upload/Resources", files={"file": ("f.txt", b"x")}, data={"flowFilename": "f.txt"}
    )
    assert (missing.status_code, missing.json()["errorCode"]) == (400, 110042)
    nowhere = api.upload("NoSuchDataset/sub", "f.txt", b"x")
    assert (nowhere.status_code, nowhere.json()["errorCode"]) == (400, 110011)


def test_mkdir_stat_and_delete(api: Api) -> None:
    """mkdir -> 201; a file's stat has attributes.size/path and no datasetType; delete -> 204.

    Source: the Hopsworks REST resource ``DatasetResource``.
    """
    folder = _folder()
    made = api.post(
        f"dataset/{folder}/deeper",
        params={"action": "create", "searchable": "true", "generate_readme": "false", "type": "DATASET"},
    )
    assert made.status_code == 201
    assert made.json()["attributes"]["path"] == f"/Projects/demo/{folder}/deeper"
    again = api.post(f"dataset/{folder}/deeper", params={"action": "create"})
    assert again.status_code == 400
    api.upload(f"{folder}/deeper", "f.txt", b"12345")
    stat = api.get(f"dataset/{folder}/deeper/f.txt", params={"action": "stat"}).json()
    assert stat["attributes"]["size"] == 5
    assert stat["attributes"]["path"] == f"/Projects/demo/{folder}/deeper/f.txt"
    assert "datasetType" not in stat
    assert api.get("dataset/Resources").json()["datasetType"] == "DATASET"
    listing = api.get(f"dataset/{folder}/deeper", params={"action": "listing"}).json()
    assert [i["attributes"]["name"] for i in listing["items"]] == ["f.txt"]
    assert api.delete(f"dataset/{folder}/deeper/f.txt").status_code == 204
    gone = api.get(f"dataset/{folder}/deeper/f.txt")
    assert (gone.status_code, gone.json()["errorCode"]) == (404, 110008)
    assert api.delete(f"dataset/{folder}").status_code == 204
    assert api.get(f"dataset/{folder}").status_code == 404


def test_paths_cannot_escape_the_project(api: Api) -> None:
    """Bad input: ``..`` never reaches outside the project tree."""
    response = api.get("dataset/Resources/..%2F..%2F..%2Femulator.sqlite3")
    assert response.status_code in (400, 404)
    assert "errorCode" in response.json()
