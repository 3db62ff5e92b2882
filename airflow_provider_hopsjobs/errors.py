"""Every exception the provider raises, in one place.

Distinct classes so that ``retries`` and ``retry_policy`` can tell the cases apart:

- :class:`HopsworksConfigError`: bad input, raised before anything is sent (also a ``ValueError``);
- :class:`HopsworksApiError` / :class:`HopsworksNotFoundError`: Hopsworks answered and refused;
  the message carries its ``errorCode``, ``errorMsg`` and ``usrMsg``;
- :class:`HopsworksApiUnavailableError`: the API stayed unreachable or kept failing after the
  retry policy gave up; transient, an Airflow retry is the right answer;
- :class:`HopsworksJobFailedError`: the remote execution failed; Airflow retries apply;
- :class:`HopsworksExecutionKilledError`: someone stopped the execution; fails without a retry;
- :class:`HopsworksWaitTimeoutError`: the wait passed its deadline; the execution was stopped;
- :class:`HopsworksLogUnavailableError`: a log was still not there when its bounded wait ran out.

No message is ever built from a request: only from what Hopsworks answered, so the API
key cannot reach an exception.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from airflow_provider_hopsjobs._compat import AirflowException, AirflowFailException

if TYPE_CHECKING:
    from airflow_provider_hopsjobs.execution import Execution


class HopsworksError(AirflowException):
    """Base of every error the provider raises."""


class HopsworksConfigError(HopsworksError, ValueError):
    """Bad input (job name, job type, path, cron, connection). Raised before any request."""


class HopsworksApiError(HopsworksError):
    """Hopsworks answered, and rejected the request.

    The message is built from Hopsworks' own ``errorCode``/``errorMsg``/``usrMsg`` so a
    DAG author sees what the server said, never a request header.
    """

    def __init__(
        self,
        message: str,
        *,
        status_code: int | None = None,
        error_code: int | None = None,
        error_msg: str | None = None,
        usr_msg: str | None = None,
    ) -> None:
        super().__init__(message)
        # The HTTP status Hopsworks answered with (AirflowException types this as HTTPStatus).
        self.status_code = status_code  # type: ignore[assignment]
        self.error_code = error_code
        self.error_msg = error_msg
        self.usr_msg = usr_msg

    def with_message(self, message: str) -> HopsworksApiError:
        """The same refusal, explained better; keeps the class and Hopsworks' fields."""
        return type(self)(
            message,
            status_code=self.status_code,
            error_code=self.error_code,
            error_msg=self.error_msg,
            usr_msg=self.usr_msg,
        )


class HopsworksNotFoundError(HopsworksApiError):
    """The project, job, execution, schedule or file does not exist."""


class HopsworksApiUnavailableError(HopsworksError):
    """The API could not be reached, or kept failing, after the retry policy gave up.

    Transient by nature: an Airflow retry is the right answer.
    """


class HopsworksLogUnavailableError(HopsworksError):
    """The execution's log was still not available when the bounded wait ran out."""


class HopsworksJobFailedError(HopsworksError):
    """The remote execution ended in failure. Airflow may retry the task."""

    def __init__(self, message: str, *, execution: Execution | None = None) -> None:
        super().__init__(message)
        self.execution = execution


class HopsworksExecutionKilledError(HopsworksJobFailedError, AirflowFailException):
    """The execution was stopped by someone else; fails the task without retrying it.

    A retry would silently relaunch what a person deliberately stopped.
    """


class HopsworksWaitTimeoutError(HopsworksError):
    """The wait exceeded its deadline; the execution was stopped if asked to."""
