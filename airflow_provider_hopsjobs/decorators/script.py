"""The job script ``@task.hopsworks`` uploads, and the two ways data crosses to and from it.

The script is the standard provider's virtualenv script (``write_python_script``: the
function's source, then a call of it with arguments read from a file, the result written to
a file), wrapped by a few lines that adapt it to a Hopsworks PYTHON job:

- **Arguments travel as the execution's argument**, one base64 token of JSON, not inside the
  script. So the script depends only on the function's source: every run, retry and mapped
  instance of the task shares one uploaded file (uploaded only when the source changes) and
  mapped instances cannot overwrite each other's arguments in the shared job.
- **The return value travels back as one framed line on stdout** (:data:`RETURN_MARKER` then
  JSON), read from the execution's archived stdout. Hopsworks archives stdout for every
  PYTHON execution, the operator reads it anyway to copy it into the task log, and nothing is
  left behind in the project to clean up (a result file in a dataset would need a path per
  execution, a write permission from the job, and deleting afterwards).

JSON, not pickle, on both crossings: the job's Python and libraries are not the worker's, a
value that is not JSON is refused before anything is sent, and nothing the job prints can
make the worker unpickle code.
"""

from __future__ import annotations

import base64
import json
import tempfile
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any, Final

from airflow_provider_hopsjobs.errors import HopsworksConfigError, HopsworksError

#: The prefix of the stdout line that carries the function's return value.
RETURN_MARKER: Final[str] = "@@hopsjobs-return-value@@ "

_FUTURE = "from __future__ import annotations\n"

# Runs before the standard script: turn the execution's one argument into the four file
# arguments the standard script reads, and keep the Task SDK's supervisor wiring out (a
# Hopsworks job is not an Airflow task process, even where Airflow happens to be installed).
_PREAMBLE = """
import base64 as _hj_base64
import json as _hj_json
import os as _hj_os
import pickle as _hj_pickle
import sys as _hj_sys
import tempfile as _hj_tempfile

_hj_sys.modules["airflow.sdk.execution_time"] = None
_hj_dir = _hj_tempfile.mkdtemp(prefix="hopsjobs-task-")
_hj_payload = _hj_json.loads(_hj_base64.b64decode(_hj_sys.argv[1]) if len(_hj_sys.argv) > 1 else b"{}")
_hj_files = [_hj_os.path.join(_hj_dir, name) for name in ("input", "output", "string_args", "error")]
with open(_hj_files[0], "wb") as _hj_file:
    _hj_pickle.dump({"args": _hj_payload.get("args", []), "kwargs": _hj_payload.get("kwargs", {})}, _hj_file)
_hj_sys.argv = [_hj_sys.argv[0], *_hj_files]
"""

# Runs after it: hand the return value back as one framed JSON line.
_EPILOGUE = """
with open(_hj_sys.argv[2], "rb") as _hj_file:
    _hj_raw = _hj_file.read()
_hj_result = _hj_pickle.loads(_hj_raw) if _hj_raw else None
try:
    _hj_text = _hj_json.dumps(_hj_result)
except (TypeError, ValueError) as _hj_err:
    raise TypeError(
        "@task.hopsworks: the return value of {name}() is not JSON-serialisable "
        f"({{type(_hj_result).__name__}}): {{_hj_err}}. Return dicts, lists, strings, numbers, "
        "booleans or None."
    ) from _hj_err
print({marker!r} + _hj_text, flush=True)
"""


def render_script(*, function_name: str, function_source: str, directory: Path) -> Path:
    """Write the job script for this function into ``directory``; its bytes depend only on the source."""
    from airflow.providers.common.compat.standard.utils import write_python_script

    directory.mkdir(parents=True, exist_ok=True)
    target = directory / f"{function_name}.py"
    with tempfile.TemporaryDirectory(prefix="hopsjobs-render-") as tmp:
        rendered_path = Path(tmp) / "standard.py"
        write_python_script(
            jinja_context={
                # Truthy constants, not the arguments: the script must not depend on them.
                "op_args": True,
                "op_kwargs": True,
                "pickling_library": "pickle",
                "python_callable": function_name,
                "python_callable_source": function_source,
                "expect_airflow": False,
                "string_args_global": False,
            },
            filename=str(rendered_path),
        )
        standard = rendered_path.read_text()
    if _FUTURE not in standard:  # pragma: no cover - a future standard provider changed its template
        raise HopsworksError(
            "The standard provider's script template changed; @task.hopsworks needs an update."
        )
    body = standard.replace(_FUTURE, "", 1)
    target.write_text(_FUTURE + _PREAMBLE + body + _EPILOGUE.format(name=function_name, marker=RETURN_MARKER))
    return target


def _json_or_error(value: Any, what: str) -> str:
    try:
        return json.dumps(value, allow_nan=False, sort_keys=True)
    except (TypeError, ValueError) as err:
        raise HopsworksConfigError(
            f"@task.hopsworks: {what} is not JSON-serialisable ({err}). Arguments cross to the "
            "Hopsworks job as JSON: pass strings, numbers, booleans, None, lists and dicts of them "
            "(for a date, its ISO string; for a DataFrame, where it is stored)."
        ) from err


def encode_arguments(args: Sequence[Any], kwargs: Mapping[str, Any]) -> str:
    """The execution argument for these function arguments: base64 of their JSON (no spaces, no quoting)."""
    for index, value in enumerate(args):
        _json_or_error(value, f"positional argument {index} ({type(value).__name__})")
    for key, value in kwargs.items():
        _json_or_error(value, f"argument {key!r} ({type(value).__name__})")
    text = _json_or_error({"args": list(args), "kwargs": dict(kwargs)}, "the arguments")
    return base64.b64encode(text.encode()).decode("ascii")


def decode_arguments(token: str) -> dict[str, Any]:
    """The inverse of :func:`encode_arguments` (for tests and for reading an execution's args)."""
    return dict(json.loads(base64.b64decode(token)))


def return_value_from(lines: Iterable[str]) -> tuple[bool, Any]:
    """The last framed return value in stdout: ``(found, value)``."""
    found, value = False, None
    for line in lines:
        if line.startswith(RETURN_MARKER):
            found, value = True, json.loads(line[len(RETURN_MARKER) :])
    return found, value
