"""``@task.hopsworks``: a Python function that runs as a Hopsworks PYTHON job.

Built the way ``@task.docker`` and ``@task.kubernetes`` are: Airflow's ``DecoratedOperator``
(which captures the call's arguments, templates and resolves them, and binds them against
the function's signature) mixed into the operator that does the running, here
:class:`~airflow_provider_hopsjobs.operators.jobs.HopsworksRunJobOperator`. The function's
source becomes a script through the standard provider's ``write_python_script`` (see
:mod:`airflow_provider_hopsjobs.decorators.script`), uploaded only when it changed, and the
job is created or updated to run it, as ``HopsworksCreateJobOperator`` does. Starting,
reattaching on retry (never a duplicate execution), waiting in the worker or the triggerer,
logs and failures are the run operator's, unchanged. The job hands its return value back on
stdout; it becomes the task's ``return_value`` XCom.

The function runs in a Hopsworks Python environment, not on the worker: it must import what
it uses inside its body, take everything else as arguments (JSON values), and return a JSON
value. A lambda, a function that closes over variables of an enclosing function, a coroutine
or a value that is not JSON is refused before anything is sent.
"""

from __future__ import annotations

import inspect
import json
import tempfile
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from airflow.sdk.bases.decorator import DecoratedOperator, task_decorator_factory

from airflow_provider_hopsjobs import validation
from airflow_provider_hopsjobs.decorators.script import encode_arguments, render_script, return_value_from
from airflow_provider_hopsjobs.errors import HopsworksConfigError, HopsworksError
from airflow_provider_hopsjobs.execution import Execution, ExecutionEvent
from airflow_provider_hopsjobs.operators.jobs import HopsworksRunJobOperator

if TYPE_CHECKING:
    from airflow.sdk import Context
    from airflow.sdk.bases.decorator import TaskDecorator

#: Where the scripts go in the project unless ``upload_dir`` says otherwise.
DEFAULT_UPLOAD_ROOT = "Resources/airflow_tasks"


def check_callable(python_callable: Any) -> None:
    """Refuse what cannot run from its source alone in another interpreter."""
    if not callable(python_callable) or not inspect.isfunction(python_callable):
        raise HopsworksConfigError(
            f"@task.hopsworks decorates a plain function (def ...), got {type(python_callable).__name__}."
        )
    name = python_callable.__name__
    if name == "<lambda>":
        raise HopsworksConfigError(
            "@task.hopsworks cannot run a lambda: its source is not a function Hopsworks can call. "
            "Write it as a def."
        )
    if inspect.iscoroutinefunction(python_callable) or inspect.isasyncgenfunction(python_callable):
        raise HopsworksConfigError(f"@task.hopsworks: {name}() is async; write it as a plain def.")
    if python_callable.__closure__:
        free = ", ".join(python_callable.__code__.co_freevars)
        raise HopsworksConfigError(
            f"@task.hopsworks: {name}() uses variables of an enclosing function ({free}); only its "
            "source is sent to Hopsworks, so pass them as arguments instead."
        )
    try:
        inspect.getsource(python_callable)
    except (OSError, TypeError) as err:
        raise HopsworksConfigError(
            f"@task.hopsworks: the source of {name}() cannot be read ({err}); define it in a file."
        ) from err


def _check_literal_arguments(op_args: Sequence[Any], op_kwargs: Mapping[str, Any]) -> None:
    """Parse time: arguments known now must be JSON; XComArgs are checked once resolved."""

    def placeholder(value: Any) -> Any:
        if hasattr(value, "resolve") and hasattr(value, "iter_references"):
            return None  # an XComArg or another lazily resolved value
        raise TypeError(f"Object of type {type(value).__name__} is not JSON serializable")

    for index, value in enumerate(op_args):
        _dumps_or_error(value, placeholder, f"positional argument {index}")
    for key, value in op_kwargs.items():
        _dumps_or_error(value, placeholder, f"argument {key!r}")


def _dumps_or_error(value: Any, default: Callable[[Any], Any], what: str) -> None:
    try:
        json.dumps(value, default=default, allow_nan=False)
    except (TypeError, ValueError) as err:
        raise HopsworksConfigError(
            f"@task.hopsworks: {what} ({type(value).__name__}) is not JSON-serialisable ({err}). "
            "Arguments cross to the Hopsworks job as JSON: pass strings, numbers, booleans, None, "
            "lists and dicts of them."
        ) from err


class _HopsworksDecoratedOperator(DecoratedOperator, HopsworksRunJobOperator):  # type: ignore[misc]
    """Run the decorated function as a Hopsworks PYTHON job; its return value is the XCom.

    :param job_name: the Hopsworks job (templated; default: the function's name). Created on
        first use, updated when the function's source or the settings below change.
    :param environment: the Python environment the job runs in (e.g. ``pandas-training-pipeline``).
    :param upload_dir: project folder for the script (default ``Resources/airflow_tasks/<job_name>``).
    :param config: settings merged over the PYTHON job type's default configuration (memory, cores...).

    Every :class:`~airflow_provider_hopsjobs.operators.jobs.HopsworksRunJobOperator` parameter
    applies too (``deferrable``, ``timeout``, ``fetch_logs``, ``reattach_on_retry``...),
    except ``args`` (the function's arguments are the job's) and ``wait_for_completion``.
    """

    custom_operator_name = "@task.hopsworks"
    template_fields: Sequence[str] = ("job_name", "project", "op_args", "op_kwargs")
    template_fields_renderers = {"op_args": "py", "op_kwargs": "py"}

    def __init__(
        self,
        *,
        python_callable: Callable[..., Any],
        op_args: Sequence[Any] | None = None,
        op_kwargs: Mapping[str, Any] | None = None,
        job_name: str | None = None,
        environment: str | None = None,
        upload_dir: str | None = None,
        config: Mapping[str, Any] | None = None,
        **kwargs: Any,
    ) -> None:
        check_callable(python_callable)
        for reserved in ("args", "wait_for_completion", "job_type"):
            if reserved in kwargs:
                raise HopsworksConfigError(
                    f"@task.hopsworks does not take {reserved!r}: the function's arguments are the job's, "
                    "the task always waits for its return value, and the job is a PYTHON job."
                )
        if not kwargs.get("_airflow_mapped_validation_only"):
            _check_literal_arguments(op_args or (), op_kwargs or {})
        if config is not None and not isinstance(config, Mapping):
            raise HopsworksConfigError(f"config must be a mapping, got {type(config).__name__}")
        super().__init__(
            python_callable=python_callable,
            op_args=op_args,
            op_kwargs=op_kwargs,
            job_name=job_name or python_callable.__name__,
            job_type="PYTHON",
            **kwargs,
        )
        self.environment = environment
        self.upload_dir = upload_dir
        self.job_config = dict(config) if config is not None else None

    def _prepare_job(self) -> str:
        """Upload the script when it changed and make the job run it; returns its project path."""
        remote_dir = self.upload_dir or f"{DEFAULT_UPLOAD_ROOT}/{self.job_name}"
        options: dict[str, Any] = {"environment_name": self.environment, "config": self.job_config}
        with tempfile.TemporaryDirectory(prefix="hopsjobs-task-") as tmp:
            local = render_script(
                function_name=self.python_callable.__name__,
                function_source=self.get_python_source(),  # type: ignore[no-untyped-call]
                directory=Path(tmp),
            )
            app_path = f"{remote_dir.rstrip('/')}/{local.name}"
            # Validate the job settings before the first write.
            self.hook.build_job_config(self.job_name, "PYTHON", app_path=app_path, **options)
            app_path, uploaded = self.hook.upload_file_if_changed(local, remote_dir)
        result = self.hook.create_or_update_job(self.job_name, "PYTHON", app_path=app_path, **options)
        self.log.info(
            "Hopsworks job %r runs %s() from %s (script %s, job %s).",
            self.job_name,
            self.python_callable.__name__,
            app_path,
            "uploaded" if uploaded else "unchanged",
            result.action,
        )
        return app_path

    def execute(self, context: Context) -> Any:
        validation.job_name(self.job_name)
        # The arguments are rendered and resolved by now; refuse what is not JSON before any request.
        self.args = [encode_arguments(list(self.op_args), self.op_kwargs)]
        self._prepare_job()
        # The run operator's execute, not DecoratedOperator's: the latter only adds Asset
        # handling (Assets are not JSON, so never arguments here), and on Airflow 3.0 it also
        # calls an ``xcom_push`` that Task SDK operators no longer have.
        return HopsworksRunJobOperator.execute(self, context)

    def _complete(
        self, context: Context, event: ExecutionEvent, *, execution: Execution | None = None
    ) -> Any:
        """The run operator's completion (logs, failures), then the function's return value."""
        super()._complete(context, event, execution=execution)
        job_name, execution_id = event["job_name"], event["execution_id"]
        found, value = return_value_from(
            self.hook.iter_execution_log(job_name, execution_id, "out", wait_timeout=self.log_wait_timeout)
        )
        if not found:
            raise HopsworksError(
                f"Execution {execution_id} of Hopsworks job {job_name!r} succeeded but its stdout has no "
                "return value line: the job's script is not the one @task.hopsworks uploaded, or stdout "
                "was truncated. Execution page: " + self.hook.execution_url(job_name, execution_id)
            )
        return value


def hopsworks_task(
    python_callable: Callable[..., Any] | None = None,
    multiple_outputs: bool | None = None,
    **kwargs: Any,
) -> TaskDecorator:
    """Wrap a function into a task that runs it as a Hopsworks PYTHON job (``@task.hopsworks``).

    Takes every parameter of ``_HopsworksDecoratedOperator`` (``job_name``, ``environment``,
    ``deferrable``...). ``multiple_outputs=True`` unrolls a returned dict into one XCom per key.
    """
    return task_decorator_factory(
        python_callable=python_callable,
        multiple_outputs=multiple_outputs,
        decorated_operator_class=_HopsworksDecoratedOperator,
        **kwargs,
    )
