"""Datasets: flow-protocol upload, mkdir, stat, delete, download."""

from __future__ import annotations

import re

import pytest
import requests

from airflow_provider_hopsjobs.errors import HopsworksApiError, HopsworksConfigError, HopsworksNotFoundError
from tests.hooks.conftest import P

DS = f"{P}/dataset"
UPLOAD = f"{DS}/upload/Resources%2Fjobs%2Fetl"
MISSING = {"status_code": 404, "json": {"errorCode": 110018, "errorMsg": "Inode not found."}}
DIR_STAT = {"type": "inodeDTO", "attributes": {"path": "/Projects/demo/Resources/jobs/etl", "dir": True}}


def multipart_fields(request) -> dict[str, str]:
    """The text fields of a multipart body (the file part excluded)."""
    body = request.body if isinstance(request.body, bytes) else request.body.encode()
    fields = {}
    for name, value in re.findall(rb'name="([^"]+)"\r\n\r\n(.*?)\r\n--', body, flags=re.S):
        fields[name.decode()] = value.decode(errors="replace")
    return fields


def file_part(request) -> bytes:
    body = request.body
    match = re.search(
        rb'name="file"; filename="[^"]+"\r\nContent-Type: [^\r]+\r\n\r\n(.*?)\r\n--', body, flags=re.S
    )
    assert match, body[:300]
    return match.group(1)


def test_upload_small_file_in_one_chunk(hook, project, requests_mock, tmp_path):
    script = tmp_path / "etl.py"
    script.write_text("print('hi')\n")
    requests_mock.get(f"{DS}/Resources%2Fjobs%2Fetl", json=DIR_STAT)
    upload = requests_mock.post(UPLOAD, json={"successMessage": "Successfuly uploaded file to ..."})
    assert hook.upload_file(script, "Resources/jobs/etl") == "Resources/jobs/etl/etl.py"
    assert upload.call_count == 1
    fields = multipart_fields(upload.last_request)
    assert fields == {
        "templateId": "-1",
        "flowChunkSize": str(10 * 1024 * 1024),
        "flowTotalSize": "12",
        "flowIdentifier": "12_etl.py",
        "flowFilename": "etl.py",
        "flowRelativePath": "etl.py",
        "flowTotalChunks": "1",
        "flowChunkNumber": "1",
        "flowCurrentChunkSize": "12",
    }
    assert file_part(upload.last_request) == b"print('hi')\n"
    assert upload.last_request.headers["Content-Type"].startswith("multipart/form-data")


def test_upload_in_sequential_chunks(hook, project, requests_mock, tmp_path):
    data = bytes(range(256)) * 40  # 10,240 bytes
    (tmp_path / "big.bin").write_bytes(data)
    hook.upload_chunk_size = 4096
    requests_mock.get(f"{DS}/Resources%2Fjobs%2Fetl", json=DIR_STAT)
    upload = requests_mock.post(UPLOAD, json={"successMessage": "Uploading..."})
    hook.upload_file(tmp_path / "big.bin", "/Projects/demo/Resources/jobs/etl/")
    requests = upload.request_history
    assert [multipart_fields(r)["flowChunkNumber"] for r in requests] == ["1", "2", "3"]
    assert [multipart_fields(r)["flowCurrentChunkSize"] for r in requests] == ["4096", "4096", "2048"]
    assert {multipart_fields(r)["flowTotalChunks"] for r in requests} == {"3"}
    assert b"".join(file_part(r) for r in requests) == data


def test_upload_empty_file_sends_one_empty_chunk(hook, project, requests_mock, tmp_path):
    (tmp_path / "empty.py").write_bytes(b"")
    requests_mock.get(f"{DS}/Resources%2Fjobs%2Fetl", json=DIR_STAT)
    upload = requests_mock.post(UPLOAD, json={"successMessage": "ok"})
    hook.upload_file(tmp_path / "empty.py", "Resources/jobs/etl")
    fields = multipart_fields(upload.last_request)
    assert (fields["flowTotalChunks"], fields["flowTotalSize"], fields["flowCurrentChunkSize"]) == (
        "1",
        "0",
        "0",
    )


def test_upload_creates_missing_directories(hook, project, requests_mock, tmp_path):
    (tmp_path / "a.py").write_text("x")
    requests_mock.get(f"{DS}/Resources%2Fjobs%2Fetl", **MISSING)
    requests_mock.get(f"{DS}/Resources%2Fjobs", **MISSING)
    requests_mock.get(f"{DS}/Resources", json={"attributes": {"path": "/Projects/demo/Resources"}})
    mkdir_jobs = requests_mock.post(f"{DS}/Resources%2Fjobs", json={"attributes": {"path": "x"}})
    mkdir_etl = requests_mock.post(f"{DS}/Resources%2Fjobs%2Fetl", json={"attributes": {"path": "x"}})
    requests_mock.post(UPLOAD, json={"successMessage": "ok"})
    hook.upload_file(tmp_path / "a.py", "Resources/jobs/etl")
    assert mkdir_jobs.call_count == 1
    assert mkdir_etl.call_count == 1
    assert mkdir_etl.last_request.qs == {
        "action": ["create"],
        "searchable": ["true"],
        "generate_readme": ["false"],
        "type": ["dataset"],
    }


def test_existing_file_without_overwrite_is_a_clear_error(hook, project, requests_mock, tmp_path):
    (tmp_path / "a.py").write_text("x")
    requests_mock.get(f"{DS}/Resources%2Fjobs%2Fetl", json=DIR_STAT)
    requests_mock.post(
        UPLOAD, status_code=400, json={"errorCode": 110012, "errorMsg": "Destination already exists."}
    )
    with pytest.raises(HopsworksApiError, match="already exists in project demo; pass overwrite=True") as err:
        hook.upload_file(tmp_path / "a.py", "Resources/jobs/etl")
    assert err.value.error_code == 110012


def test_overwrite_deletes_the_existing_file_first(hook, project, requests_mock, tmp_path):
    (tmp_path / "a.py").write_text("x")
    requests_mock.get(f"{DS}/Resources%2Fjobs%2Fetl", json=DIR_STAT)
    requests_mock.get(f"{DS}/Resources%2Fjobs%2Fetl%2Fa.py", json={"attributes": {"size": 1}})
    delete = requests_mock.delete(f"{DS}/Resources%2Fjobs%2Fetl%2Fa.py", status_code=204)
    upload = requests_mock.post(UPLOAD, json={"successMessage": "ok"})
    hook.upload_file(tmp_path / "a.py", "Resources/jobs/etl", overwrite=True)
    history = [(r.method, r.path) for r in requests_mock.request_history]
    assert history.index(("DELETE", delete.last_request.path)) < history.index(
        ("POST", upload.last_request.path)
    )


def test_upload_bad_input_fails_before_any_request(hook, requests_mock, tmp_path):
    with pytest.raises(HopsworksConfigError, match="no such file"):
        hook.upload_file(tmp_path / "nope.py", "Resources")
    assert requests_mock.call_count == 0


def test_upload_chunk_is_retried_on_503(hook, project, requests_mock, tmp_path, sleeps):
    (tmp_path / "a.py").write_text("x")
    requests_mock.get(f"{DS}/Resources%2Fjobs%2Fetl", json=DIR_STAT)
    upload = requests_mock.post(
        UPLOAD, [{"status_code": 503, "text": "busy"}, {"json": {"successMessage": "ok"}}]
    )
    hook.upload_file(tmp_path / "a.py", "Resources/jobs/etl")
    assert upload.call_count == 2


EXISTS = {"status_code": 400, "json": {"errorCode": 110012, "errorMsg": "Destination already exists."}}


def test_a_chunk_whose_answer_was_lost_is_not_mistaken_for_a_clash(
    hook, project, requests_mock, tmp_path, sleeps
):
    """The server stored the file, the answer got lost; the retry is told "already exists"."""
    (tmp_path / "a.py").write_text("xyz")
    requests_mock.get(f"{DS}/Resources%2Fjobs%2Fetl", json=DIR_STAT)
    requests_mock.get(f"{DS}/Resources%2Fjobs%2Fetl%2Fa.py", json={"attributes": {"size": 3}})
    upload = requests_mock.post(UPLOAD, [{"exc": requests.ConnectionError("dropped")}, EXISTS])
    assert hook.upload_file(tmp_path / "a.py", "Resources/jobs/etl") == "Resources/jobs/etl/a.py"
    assert upload.call_count == 2


def test_a_clash_after_a_lost_answer_is_still_a_clash_when_the_file_differs(
    hook, project, requests_mock, tmp_path, sleeps
):
    (tmp_path / "a.py").write_text("xyz")
    requests_mock.get(f"{DS}/Resources%2Fjobs%2Fetl", json=DIR_STAT)
    requests_mock.get(f"{DS}/Resources%2Fjobs%2Fetl%2Fa.py", json={"attributes": {"size": 999}})
    requests_mock.post(UPLOAD, [{"exc": requests.ConnectionError("dropped")}, EXISTS])
    with pytest.raises(HopsworksApiError, match="already exists"):
        hook.upload_file(tmp_path / "a.py", "Resources/jobs/etl")


def test_mkdir_whose_answer_was_lost_finds_its_directory(hook, project, requests_mock, sleeps):
    requests_mock.get(f"{DS}/Resources", json={"attributes": {"dir": True}})
    requests_mock.get(f"{DS}/Resources%2Fjobs", [MISSING, {"json": {"attributes": {"dir": True}}}])
    exists = {
        "status_code": 400,
        "json": {"errorCode": 110047, "errorMsg": "A sub-directory already exists."},
    }
    create = requests_mock.post(
        f"{DS}/Resources%2Fjobs", [{"exc": requests.ConnectionError("dropped")}, exists]
    )
    hook.mkdir("Resources/jobs")
    assert create.call_count == 2


def test_stat_and_missing_paths(hook, project, requests_mock):
    requests_mock.get(
        f"{DS}/Resources%2Fa.py", json={"attributes": {"size": 5, "path": "/Projects/demo/Resources/a.py"}}
    )
    requests_mock.get(f"{DS}/Resources%2Fnone.py", **MISSING)
    requests_mock.get(
        f"{DS}/Resources%2Fold.py", status_code=400, json={"errorCode": 110011, "errorMsg": "Path not found."}
    )
    assert hook.stat("Resources/a.py")["attributes"]["size"] == 5
    assert requests_mock.request_history[-1].qs["action"] == ["stat"]
    assert hook.stat("/Projects/demo/Resources/none.py") is None
    assert hook.stat("Resources/old.py") is None


def test_mkdir_of_existing_directory_is_a_no_op(hook, project, requests_mock):
    requests_mock.get(f"{DS}/Resources%2Fjobs", json={"attributes": {"dir": True}})
    create = requests_mock.post(f"{DS}/Resources%2Fjobs", json={})
    hook.mkdir("Resources/jobs")
    assert create.call_count == 0


def test_delete_path(hook, project, requests_mock):
    delete = requests_mock.delete(f"{DS}/Resources%2Fa.py", status_code=204)
    hook.delete_path("hdfs:///Projects/demo/Resources/a.py")
    assert delete.call_count == 1
    requests_mock.delete(f"{DS}/Resources%2Fb.py", **MISSING)
    with pytest.raises(HopsworksNotFoundError):
        hook.delete_path("Resources/b.py")
    with pytest.raises(HopsworksConfigError):
        hook.delete_path("/Projects/demo/")


def test_download_streams_chunks(hook, project, requests_mock):
    requests_mock.get(f"{DS}/download/with_auth/Resources%2Fdata.csv", content=b"a" * 10)
    chunks = list(hook.download("Resources/data.csv", chunk_size=4))
    assert chunks == [b"aaaa", b"aaaa", b"aa"]
    assert requests_mock.last_request.qs["type"] == ["dataset"]


def test_download_of_other_project_path_keeps_it_absolute(hook, project, requests_mock):
    requests_mock.get(f"{DS}/download/with_auth/%2FProjects%2Fother%2Fx", content=b"z")
    assert b"".join(hook.download("/Projects/other/x")) == b"z"


FILE_STAT = f"{DS}/Resources%2Fjobs%2Fetl%2Fa.py"
FILE_DOWNLOAD = f"{DS}/download/with_auth/Resources%2Fjobs%2Fetl%2Fa.py"


@pytest.fixture
def remote_dir(project, requests_mock):
    """The project resolves and Resources/jobs/etl exists; uploads and deletes of its a.py are recorded."""
    requests_mock.get(f"{DS}/Resources%2Fjobs%2Fetl", json=DIR_STAT)
    return {
        "upload": requests_mock.post(UPLOAD, json={"successMessage": "ok"}),
        "delete": requests_mock.delete(FILE_STAT, status_code=204),
    }


def test_an_identical_remote_file_is_not_uploaded_again(hook, requests_mock, remote_dir, tmp_path, logged):
    (tmp_path / "a.py").write_bytes(b"print(1)\n")
    requests_mock.get(FILE_STAT, json={"attributes": {"size": 9}})
    download = requests_mock.get(FILE_DOWNLOAD, content=b"print(1)\n")
    assert hook.upload_file_if_changed(tmp_path / "a.py", "Resources/jobs/etl/") == (
        "Resources/jobs/etl/a.py",
        False,
    )
    assert download.call_count == 1
    assert (remote_dir["upload"].call_count, remote_dir["delete"].call_count) == (0, 0)
    text = logged()
    assert "Resources/jobs/etl/ already holds an identical a.py; not uploading." in text
    assert "Uploaded" not in text


def test_same_size_other_bytes_is_uploaded_over_it(hook, requests_mock, remote_dir, tmp_path, logged):
    (tmp_path / "a.py").write_bytes(b"print(2)\n")
    requests_mock.get(FILE_STAT, json={"attributes": {"size": 9}})
    download = requests_mock.get(FILE_DOWNLOAD, content=b"print(1)\n")
    assert hook.upload_file_if_changed(tmp_path / "a.py", "Resources/jobs/etl") == (
        "Resources/jobs/etl/a.py",
        True,
    )
    assert download.call_count == 1
    assert (remote_dir["delete"].call_count, remote_dir["upload"].call_count) == (1, 1)
    assert file_part(remote_dir["upload"].last_request) == b"print(2)\n"
    text = logged()
    # The hook's one line, with the size (Airflow 3.0 echoes a record to both caplog and stdout).
    uploads = {line[line.index("Uploaded ") :] for line in text.splitlines() if "Uploaded " in line}
    assert len(uploads) == 1, uploads
    assert "(9 bytes) to Resources/jobs/etl/a.py" in text
    assert "not uploading" not in text


def test_another_size_is_uploaded_without_downloading(hook, requests_mock, remote_dir, tmp_path):
    (tmp_path / "a.py").write_bytes(b"print(1)\n")
    requests_mock.get(FILE_STAT, json={"attributes": {"size": 4}})
    download = requests_mock.get(FILE_DOWNLOAD, content=b"abcd")
    assert hook.upload_file_if_changed(tmp_path / "a.py", "Resources/jobs/etl")[1] is True
    assert download.call_count == 0
    assert remote_dir["upload"].call_count == 1


def test_a_missing_remote_file_is_uploaded(hook, requests_mock, remote_dir, tmp_path):
    (tmp_path / "a.py").write_bytes(b"x")
    requests_mock.get(FILE_STAT, **MISSING)
    download = requests_mock.get(FILE_DOWNLOAD, content=b"x")
    assert hook.upload_file_if_changed(tmp_path / "a.py", "Resources/jobs/etl") == (
        "Resources/jobs/etl/a.py",
        True,
    )
    assert (download.call_count, remote_dir["delete"].call_count, remote_dir["upload"].call_count) == (
        0,
        0,
        1,
    )


def test_a_stat_without_attributes_is_read_as_the_attributes(hook, requests_mock, remote_dir, tmp_path):
    (tmp_path / "a.py").write_bytes(b"x")
    requests_mock.get(FILE_STAT, json={"size": 1, "path": "/Projects/demo/Resources/jobs/etl/a.py"})
    requests_mock.get(FILE_DOWNLOAD, content=b"x")
    assert hook.upload_file_if_changed(tmp_path / "a.py", "Resources/jobs/etl")[1] is False
    assert remote_dir["upload"].call_count == 0


def test_a_remote_file_without_a_size_is_uploaded(hook, requests_mock, remote_dir, tmp_path):
    (tmp_path / "a.py").write_bytes(b"x")
    requests_mock.get(FILE_STAT, json={"attributes": {"path": "/Projects/demo/Resources/jobs/etl/a.py"}})
    download = requests_mock.get(FILE_DOWNLOAD, content=b"x")
    assert hook.upload_file_if_changed(tmp_path / "a.py", "Resources/jobs/etl")[1] is True
    assert (download.call_count, remote_dir["upload"].call_count) == (0, 1)


def test_upload_if_changed_of_a_missing_local_file_sends_nothing(hook, requests_mock, tmp_path):
    with pytest.raises(HopsworksConfigError, match="no such file"):
        hook.upload_file_if_changed(tmp_path / "nope.py", "Resources/jobs/etl")
    assert requests_mock.call_count == 0


def test_a_big_file_is_compared_chunk_by_chunk(hook, requests_mock, remote_dir, tmp_path):
    content = bytes(range(256)) * 9000  # 2.3 MB: several 1 MiB reads on both sides
    (tmp_path / "a.py").write_bytes(content)
    requests_mock.get(FILE_STAT, json={"attributes": {"size": len(content)}})
    requests_mock.get(FILE_DOWNLOAD, content=content[:-1] + b"!")
    assert hook.upload_file_if_changed(tmp_path / "a.py", "Resources/jobs/etl")[1] is True
    requests_mock.get(FILE_DOWNLOAD, content=content)
    assert hook.upload_file_if_changed(tmp_path / "a.py", "Resources/jobs/etl")[1] is False
