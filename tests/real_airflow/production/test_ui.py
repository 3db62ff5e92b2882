"""The Airflow UI of the production profile in a real browser (Debian's Chromium, Playwright).

What a person sees: the ``hopsworks`` connection form with the provider's fields, the "Test
Connection" answer for a good and a wrong key, the "Hopsworks Execution" link of a deferred run,
and that run's log in the UI: the trigger's lines while it is deferred, the job's output after.
Assertions read text, labels and links; the screenshots are kept under ``build/ui-screenshots/``.
"""

from __future__ import annotations

import re
import time
from typing import Any

import pytest
from playwright.sync_api import TimeoutError as PlaywrightTimeoutError

from airflow_provider_hopsjobs import get_provider_info
from airflow_provider_hopsjobs.emulator.handle import EmulatorHandle
from airflow_provider_hopsjobs.hooks.hopsworks import HopsworksHook
from airflow_provider_hopsjobs.version_compat import AIRFLOW_V_3_1_PLUS

from ..airflow_processes import AirflowProcesses
from ..browser import AirflowUI
from ..scenarios import execution_id

pytestmark = pytest.mark.real_airflow

JOB_DAG = "real_airflow_hopsworks_job"
DONE_LINE = "sleeper: done"
#: The standard fields' placeholders, by input name, as the provider info sets them.
PLACEHOLDERS = {
    "host": "my-cluster.cloud.hopsworks.ai",
    "port": "443",
    "password": "<prefix>.<secret>",
    "schema": "https",
}
#: Labels the provider info gives the standard fields (Airflow's own: "Password", "Schema").
RELABELLED = {"password": "API key", "schema": "Scheme (https or http)"}


def _add_connection(ui: AirflowUI, conn_id: str, emulator: EmulatorHandle, api_key: str) -> None:
    dialog = ui.open_new_connection_form("Hopsworks")
    dialog.get_by_label("Connection ID").fill(conn_id)
    dialog.locator("[name=host]").fill(emulator.host)
    dialog.locator("[name=port]").fill(str(emulator.port))
    dialog.get_by_label(RELABELLED["schema"], exact=True).fill(emulator.scheme)
    dialog.get_by_label(RELABELLED["password"], exact=True).fill(api_key)
    dialog.get_by_text("Extra Fields", exact=True).click()
    dialog.locator("[name=element_project]").fill(emulator.project)
    dialog.get_by_role("button", name="Save").click()
    ui.page.get_by_role("row").filter(has_text=conn_id).wait_for()


def test_the_connection_form_shows_the_providers_fields_and_test_answers_for_each_key(
    production_airflow: AirflowProcesses, hopsworks_conn: EmulatorHandle, browser_ui: AirflowUI
) -> None:
    ui = browser_ui
    dialog = ui.open_new_connection_form("Hopsworks")
    for name, placeholder in PLACEHOLDERS.items():
        assert dialog.locator(f"[name={name}]").get_attribute("placeholder") == placeholder, name
    for name, label in RELABELLED.items():
        assert dialog.get_by_label(label, exact=True).get_attribute("name") == name, label
    assert dialog.locator("[name=login]").count() == 0  # hidden: a key needs no user name
    ui.screenshot("connection-form-standard-fields")
    dialog.get_by_text("Extra Fields", exact=True).click()
    dialog.get_by_text("Retry budget (s)").wait_for()
    form_text = dialog.inner_text()
    for name, spec in get_provider_info()["connection-types"][0]["conn-fields"].items():
        assert spec["label"] in form_text, name
        assert spec.get("description", "") in form_text, name
        assert dialog.locator(f"[name=element_{name}]").count() == 1, name
    assert dialog.locator("[name=element_retry_attempts]").input_value() == "6"
    assert dialog.locator("[name=element_verify]").input_value() == "true"
    ui.page.wait_for_timeout(500)  # the accordion's animation, for the picture only
    ui.screenshot("connection-form-extra-fields")
    ui.page.keyboard.press("Escape")

    good_key = hopsworks_conn.api_key
    prefix, _, good_secret = good_key.partition(".")
    wrong_key = f"{prefix}.{'w' * len(good_secret)}"
    _add_connection(ui, "hopsworks_ui_good", hopsworks_conn, good_key)
    _add_connection(ui, "hopsworks_ui_wrong", hopsworks_conn, wrong_key)

    good = _test_connection(production_airflow, ui, "hopsworks_ui_good", good_key)
    assert good["answer"]["status"] is True
    assert re.fullmatch(r"Connected to project demo \(id \d+\)", good["answer"]["message"])
    wrong = _test_connection(production_airflow, ui, "hopsworks_ui_wrong", wrong_key)
    assert wrong["answer"]["status"] is False
    assert "HTTP 401" in wrong["answer"]["message"]
    assert "Invalid or incorrect API key" in wrong["answer"]["message"]
    assert "API key (password) field" in wrong["answer"]["message"]  # says how to fix it
    if AIRFLOW_V_3_1_PLUS:
        assert "Test Connection Successful" in good["toast"]
        assert good["answer"]["message"] in good["toast"]
        assert "Test Connection Failed" in wrong["toast"]
        assert wrong["answer"]["message"] in wrong["toast"]
    page = ui.page.content()
    for secret in (good_secret, wrong_key.partition(".")[2]):
        assert secret not in page and secret not in str(good) + str(wrong)


def _test_connection(airflow: AirflowProcesses, ui: AirflowUI, conn_id: str, api_key: str) -> dict[str, Any]:
    """The connections list's "Test Connection" button (Airflow 3.1+), its answer and toast.

    Airflow 3.0's UI has no such button (its bundle carries the client call and nothing that
    uses it), so there the connection the form saved goes, with the key typed into it, to the
    route the button calls, ``POST /api/v2/connections/test``: the same api-server code runs
    the hook's test.
    """
    if AIRFLOW_V_3_1_PLUS:
        result = ui.test_connection(conn_id)
        ui.screenshot(f"connection-test-{conn_id}")
        return result
    stored = airflow.api("GET", f"connections/{conn_id}").json()
    body = {key: stored[key] for key in ("connection_id", "conn_type", "host", "port", "schema", "extra")}
    body["password"] = api_key  # the route answers with the password redacted
    return {"answer": airflow.api("POST", "connections/test", json=body).json(), "toast": ""}


def _wait_for_log_line(ui: AirflowUI, page_path: str, line: str, timeout: float = 60.0) -> str:
    """The task's log tab as text, once ``line`` shows in it (reloaded until then)."""
    deadline = time.monotonic() + timeout
    while True:
        ui.goto(page_path)
        try:
            ui.page.get_by_text(line).first.wait_for(timeout=10_000)
            return ui.text()
        except PlaywrightTimeoutError:
            if time.monotonic() > deadline:
                raise


def test_a_deferred_run_links_to_its_execution_and_shows_the_trigger_then_the_job_in_its_log(
    production_airflow: AirflowProcesses, hopsworks_conn: EmulatorHandle, browser_ui: AirflowUI
) -> None:
    airflow, ui, job_name = production_airflow, browser_ui, "prod_ui"
    airflow.wait_for_dag(JOB_DAG)
    run_id = airflow.trigger_dag(JOB_DAG, {"job_name": job_name, "seconds": 30})
    airflow.wait_for_task_state(JOB_DAG, run_id, "run_job", {"deferred"}, timeout=240)
    airflow.wait_for_trigger_log(JOB_DAG, run_id, "run_job", timeout=90)
    execution = execution_id(airflow, JOB_DAG, run_id, "run_job")
    task_page = f"dags/{JOB_DAG}/runs/{run_id}/tasks/run_job"

    ui.goto(f"{task_page}/details")
    link = ui.page.get_by_role("link", name="Hopsworks Execution")
    assert link.get_attribute("href") == HopsworksHook().execution_url(job_name, execution)
    # The state badge renders after the links: wait for it (fails after the step timeout).
    ui.page.get_by_text(re.compile(r"^deferred$", re.IGNORECASE)).first.wait_for(state="visible")
    ui.screenshot("deferred-task-details")

    trigger_line = f"Waiting on Hopsworks job '{job_name}' execution {execution}"
    deferred_log = _wait_for_log_line(ui, task_page, trigger_line)
    assert f"Hopsworks job '{job_name}' execution {execution} is RUNNING" in deferred_log
    assert DONE_LINE not in deferred_log
    assert airflow.task_instance(JOB_DAG, run_id, "run_job")["state"] == "deferred"
    ui.screenshot("deferred-task-log")

    assert airflow.wait_for_dag_run(JOB_DAG, run_id, timeout=300) == "success"
    final_log = _wait_for_log_line(ui, task_page, DONE_LINE)
    assert final_log.count(DONE_LINE) == 1
    assert "sleeper: sleeping 30.0 s" in final_log
    ui.screenshot("finished-task-log")
    assert hopsworks_conn.executions_started(job_name) == 1
