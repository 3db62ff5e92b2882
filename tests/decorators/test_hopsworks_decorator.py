"""``@task.hopsworks`` against the emulator: real job processes, real HTTP, no Airflow scheduler.

The operator is built directly (as the decorator builds it in a DAG) and run through
``run_operator``, which replays a deferral the way the triggerer and a worker would. The
example DAG test (tests/example_dags/test_taskflow_dag.py) runs the same code through
``dag.test()``.
"""

from __future__ import annotations

from typing import Any

import pytest

from airflow_provider_hopsjobs.decorators.hopsworks import _HopsworksDecoratedOperator, hopsworks_task
from airflow_provider_hopsjobs.decorators.script import (
    RETURN_MARKER,
    decode_arguments,
    encode_arguments,
    render_script,
    return_value_from,
)
from airflow_provider_hopsjobs.emulator.handle import EmulatorHandle
from airflow_provider_hopsjobs.errors import HopsworksConfigError, HopsworksJobFailedError
from airflow_provider_hopsjobs.hooks.hopsworks import HopsworksHook
from airflow_provider_hopsjobs.operators import reattach
from airflow_provider_hopsjobs.operators.reattach import STATE_STORE_KEY
from tests.airflow_support import FakeTaskStateStore, FakeTI, make_context, run_operator

# -- functions run on the emulator (module level: their source is what is sent) --------------------


def add(a: int, b: int = 10, *, label: str = "sum") -> dict[str, Any]:
    print(f"adding {a} and {b}")
    return {label: a + b}


def explode(reason: str) -> None:
    def inner() -> None:
        raise ValueError(f"boom: {reason}")

    inner()


def returns_a_set() -> Any:
    return {1, 2}


def operator(fn: Any, task_id: str, **kwargs: Any) -> _HopsworksDecoratedOperator:
    return _HopsworksDecoratedOperator(task_id=task_id, python_callable=fn, **kwargs)


def test_a_function_runs_as_a_job_and_its_return_value_is_the_result(
    hopsworks_conn: EmulatorHandle, fake_clock: Any, capfd: pytest.CaptureFixture[str]
) -> None:
    op = operator(add, "add", job_name="deco_add", op_args=[2], op_kwargs={"label": "total"})
    ti = FakeTI(task_id="add")
    assert run_operator(op, make_context(ti)) == {"total": 12}
    assert "adding 2 and 10" in capfd.readouterr().out  # the job's stdout reached the task log
    execution = HopsworksHook().get_latest_execution("deco_add")
    assert execution is not None and ti.xcoms["execution_id"] == execution.id
    assert decode_arguments(str(execution.args)) == {"args": [2], "kwargs": {"label": "total"}}


def test_deferrable_and_again_with_other_arguments_without_uploading_twice(
    hopsworks_conn: EmulatorHandle, fake_clock: Any
) -> None:
    first = operator(add, "add", job_name="deco_add_deferred", op_args=[1], deferrable=True)
    assert run_operator(first, make_context()) == {"sum": 11}
    hopsworks_conn.reset_counters()
    second = operator(
        add, "add", job_name="deco_add_deferred", op_args=[5], op_kwargs={"b": 5}, deferrable=True
    )
    assert run_operator(second, make_context()) == {"sum": 10}
    writes = [
        r for r in hopsworks_conn.request_counts() if r.startswith(("PUT ", "DELETE ")) or "upload" in r
    ]
    assert writes == []


def test_an_exception_fails_the_task_with_the_functions_traceback(
    hopsworks_conn: EmulatorHandle, fake_clock: Any, capfd: pytest.CaptureFixture[str]
) -> None:
    op = operator(explode, "explode", job_name="deco_explode", op_kwargs={"reason": "bad data"})
    with pytest.raises(HopsworksJobFailedError) as raised:
        run_operator(op, make_context())
    assert "ValueError: boom: bad data" in str(raised.value)
    out = capfd.readouterr().out
    assert "in inner" in out and "in explode" in out  # the traceback, in the task log


def test_a_return_value_that_is_not_json_fails_with_a_clear_message(
    hopsworks_conn: EmulatorHandle, fake_clock: Any
) -> None:
    op = operator(returns_a_set, "returns_a_set", job_name="deco_set")
    with pytest.raises(HopsworksJobFailedError, match=r"return value of returns_a_set\(\) is not JSON"):
        run_operator(op, make_context())


def test_a_retry_reattaches_to_the_execution_an_earlier_try_started(
    hopsworks_conn: EmulatorHandle, fake_clock: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The record's home (task state store or, before 3.3, a Variable) is the run operator's
    # business, proven in tests/operators; here the decorator must simply use it.
    monkeypatch.setattr(reattach, "AIRFLOW_V_3_3_PLUS", True)
    store = FakeTaskStateStore()
    op = operator(add, "add", job_name="deco_retry", op_args=[3])
    assert run_operator(op, make_context(store=store)) == {"sum": 13}
    execution = HopsworksHook().get_latest_execution("deco_retry")
    assert execution is not None
    # A try that died after starting left its record: the next try must not run the job again.
    store.set(STATE_STORE_KEY, {"job_name": "deco_retry", "execution_id": execution.id, "started_at": ""})
    hopsworks_conn.reset_counters()
    again = operator(add, "add", job_name="deco_retry", op_args=[3])
    assert run_operator(again, make_context(FakeTI(try_number=2), store=store)) == {"sum": 13}
    assert hopsworks_conn.executions_started("deco_retry") == 0


# -- bad input: refused before anything is sent ----------------------------------------------------


def test_bad_functions_are_refused() -> None:
    with pytest.raises(HopsworksConfigError, match="lambda"):
        operator(lambda: 1, "lam")

    factor = 3

    def scaled(x: int) -> int:
        return x * factor

    with pytest.raises(HopsworksConfigError, match=r"enclosing function \(factor\)"):
        operator(scaled, "scaled")

    async def coro() -> None:
        return None

    with pytest.raises(HopsworksConfigError, match="async"):
        operator(coro, "coro")

    with pytest.raises(HopsworksConfigError, match="does not take 'args'"):
        operator(add, "add", op_args=[1], args=["--x"])


def test_arguments_that_are_not_json_are_refused_at_parse_time_and_at_run_time(
    hopsworks_conn: EmulatorHandle,
) -> None:
    import datetime

    with pytest.raises(HopsworksConfigError, match=r"argument 'b' \(datetime\) is not JSON"):
        operator(add, "add", op_args=[1], op_kwargs={"b": datetime.datetime(2026, 1, 1)})

    # A value known only at run time (an XCom, a rendered template) is checked before any request.
    op = operator(add, "add", job_name="deco_late", op_args=[1])
    op.op_kwargs = {"b": {1, 2}}
    hopsworks_conn.reset_counters()
    with pytest.raises(HopsworksConfigError, match=r"argument 'b' \(set\) is not JSON"):
        op.execute(make_context())
    assert hopsworks_conn.request_counts() == {}


def test_the_decorator_is_airflows_task_decorator(hopsworks_conn: EmulatorHandle) -> None:
    from airflow.sdk import DAG, task

    assert task.hopsworks is hopsworks_task or task.hopsworks.__name__ == "hopsworks_task"
    with DAG("deco_dag", schedule=None):

        @task.hopsworks(job_name="deco_in_dag")
        def double(x: int) -> int:
            return 2 * x

        mapped = double.expand(x=[1, 2])
    assert mapped.operator.partial_kwargs["job_name"] == "deco_in_dag"
    assert mapped.operator.operator_class is _HopsworksDecoratedOperator


# -- the script ------------------------------------------------------------------------------------


def test_the_script_depends_on_the_source_only(tmp_path: Any) -> None:
    source = "def f(x):\n    return x\n"
    one = render_script(function_name="f", function_source=source, directory=tmp_path / "1")
    two = render_script(function_name="f", function_source=source, directory=tmp_path / "2")
    assert one.read_bytes() == two.read_bytes()
    assert one.read_text().startswith("from __future__ import annotations\n")
    other = render_script(function_name="f", function_source=source + "# v2\n", directory=tmp_path / "3")
    assert other.read_bytes() != one.read_bytes()


def test_arguments_round_trip_and_the_last_marker_wins() -> None:
    token = encode_arguments([1, "a b"], {"k": {"nested": [None, True]}})
    assert " " not in token
    assert decode_arguments(token) == {"args": [1, "a b"], "kwargs": {"k": {"nested": [None, True]}}}
    lines = ["noise", f"{RETURN_MARKER}1", "more", f'{RETURN_MARKER}{{"a": 2}}']
    assert return_value_from(lines) == (True, {"a": 2})
    assert return_value_from(["no marker"]) == (False, None)
