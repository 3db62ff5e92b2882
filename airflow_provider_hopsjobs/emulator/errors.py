"""Hopsworks' error body, and the errors the emulator raises to produce it.

Every failure the emulator answers with (unknown route, wrong method, bad input, a job
that does not exist) is an :class:`ApiError`, rendered as Hopsworks renders its
``RESTException``: ``{"errorCode": int, "errorMsg": str, "usrMsg": str}`` with null fields
left out. Codes and fixed messages are the ones in Hopsworks' ``RESTCodes``.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from http import HTTPStatus

from starlette.responses import Response

#: ``WWW-Authenticate`` value Hopsworks sends with every authentication failure.
AUTH_CHALLENGE = 'Bearer realm="Cauth Realm"'

# Fixed messages, as in RESTCodes.
GENERIC_UNKNOWN = (120000, "A generic error occurred.")
ILLEGAL_ARGUMENT = (120001, "An argument was not provided or it was malformed.")
WEBAPPLICATION = (120004, "Web application exception occurred")
PERSISTENCE = (120005, "Persistence error occurred")
UNKNOWN_ACTION = (120006, "This action can not be applied on this resource.")
INVALID_QUERY = (310000, "Invalid query.")

PROJECT_NOT_FOUND = (150004, "Project wasn't found.")
DEFAULT_JOB_CONFIG_NOT_FOUND = (150077, "Default job config not found")

INODE_NOT_FOUND = (110008, "File not found.")
DATASET_NOT_FOUND = (110011, "DataSet not found.")
DESTINATION_EXISTS = (110012, "Destination already exists.")
PATH_NOT_FOUND = (110018, "Path not found")
PATH_IS_DIRECTORY = (110020, "Requested path is a directory")
DOWNLOAD_ERROR = (110021, "Failed to download.")
DATASET_OPERATION_INVALID = (110001, "Operation cannot be performed.")
DATASET_NAME_INVALID = (110028, "Name of dir is invalid")
SUBDIR_EXISTS = (110047, "A sub-directory with the same name already exists.")
UPLOAD_INFO_INVALID = (110042, "ResumableInfo is invalid")

JOB_STOP_FAILED = (130001, "An error occurred while trying to stop this job.")
JOB_NAME_INVALID = (130006, "Job name is invalid. Invalid charater(s) in job name")
EXECUTION_NOT_FOUND = (130007, "Execution not found.")
JOB_NOT_FOUND = (130009, "Job not found.")
EXECUTION_INVALID_STATE = (130010, "Execution state is invalid.")
JOB_LOG = (130011, "Job log error.")
EXECUTION_FORBIDDEN = (130026, "This execution does not belong to a job of this project. ")
JOB_SCHEDULE_NOT_FOUND = (130042, "Cannot find the job schedule.")

AUTH_HEADER_NOT_SET = (200003, "Authorization header not set.")
AUTH_INVALIDATED = (200003, "Invalidated Api key.")
API_KEY_INVALID = (320012, "Invalid or incorrect API key.")
API_KEY_NOT_FOUND = (320013, "API key not found in the database")
NO_VALID_ROLE = (320003, "No valid role found for this invocation")
NO_VALID_SCOPE = (320004, "No valid scope found for this invocation")


class ApiError(Exception):
    """An error answer: HTTP status plus Hopsworks' errorCode/errorMsg/usrMsg."""

    def __init__(
        self,
        status: int,
        code: tuple[int, str],
        usr_msg: str | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(f"{status} {code[0]} {code[1]}")
        self.status = status
        self.error_code, self.error_msg = code
        self.usr_msg = usr_msg
        self.headers = dict(headers or {})

    def body(self) -> dict[str, object]:
        out: dict[str, object] = {"errorCode": self.error_code, "errorMsg": self.error_msg}
        if self.usr_msg is not None:
            out["usrMsg"] = self.usr_msg
        return out

    def to_response(self) -> Response:
        return Response(
            json.dumps(self.body()),
            status_code=self.status,
            media_type="application/json",
            headers=self.headers,
        )


def web_application_error(status: int, headers: Mapping[str, str] | None = None) -> ApiError:
    """What JAX-RS answers for routing and content problems (no route, 405, 415, bad param)."""
    try:
        phrase = HTTPStatus(status).phrase
    except ValueError:
        phrase = "Error"
    return ApiError(status, WEBAPPLICATION, f"HTTP {status} {phrase}", headers)


def auth_error(status: int, code: tuple[int, str]) -> ApiError:
    """Authentication and authorisation failures always carry the Cauth realm challenge."""
    return ApiError(status, code, headers={"WWW-Authenticate": AUTH_CHALLENGE})
