"""The Airflow UI in a real browser: Debian's Chromium driven by Playwright for Python.

Playwright is pointed at the installed browser (``executable_path``); its own browser download is
never used. Assertions read the page's text, labels and links, not pixels; every step that a
person would look at is also saved as a screenshot under ``build/ui-screenshots/airflow-<version>/``
(an artifact of the run, not committed) so a failure can be seen as well as read.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from playwright.sync_api import Locator, Page, sync_playwright

from .services import REPO

#: Long enough for a page on a loaded two-core machine; Playwright waits up to this per step.
STEP_TIMEOUT_MS = 30_000


def screenshot_dir(airflow_version: str) -> Path:
    path = REPO / "build" / "ui-screenshots" / f"airflow-{airflow_version}"
    path.mkdir(parents=True, exist_ok=True)
    return path


@dataclass
class AirflowUI:
    """One signed-in browser page on an api-server, with the few moves the tests make."""

    page: Page
    base_url: str
    screenshots: Path
    taken: list[Path] = field(default_factory=list)

    def sign_in(self, password: str) -> None:
        self.page.goto(f"{self.base_url}/")
        self.page.get_by_label("Username").fill("admin")
        self.page.get_by_label("Password").fill(password)
        self.page.get_by_role("button", name="Sign in").click()
        # Signed in once the app's navigation shows (the form's own page has none).
        self.page.get_by_role("link", name="Dags").first.wait_for()
        self.page.wait_for_load_state("networkidle")

    def goto(self, path: str) -> None:
        self.page.goto(f"{self.base_url}/{path.lstrip('/')}")

    def screenshot(self, name: str) -> Path:
        path = self.screenshots / f"{name}.png"
        self.page.screenshot(path=str(path), full_page=True)
        self.taken.append(path)
        return path

    def text(self) -> str:
        return self.page.inner_text("body")

    # -- connections --------------------------------------------------------------------------

    def open_new_connection_form(self, connection_type: str) -> Locator:
        """The "Add Connection" dialog with ``connection_type`` chosen (by its display name)."""
        self.goto("connections")
        self.page.get_by_role("button", name=re.compile("Add Connection", re.I)).click()
        dialog = self.page.get_by_role("dialog")
        dialog.get_by_role("combobox").first.fill(connection_type)
        self.page.keyboard.press("Enter")
        dialog.get_by_text("Standard Fields").wait_for()
        return dialog

    def test_connection(self, conn_id: str) -> dict[str, Any]:
        """Press the row's "Test Connection" button; the answer the page got and the toast it shows."""
        self.goto("connections")
        row = self.page.get_by_role("row").filter(has_text=conn_id)
        with self.page.expect_response(lambda response: "/connections/test" in response.url) as answer:
            row.get_by_role("button", name="Test Connection").click()
        toast = self.page.get_by_role("status").filter(has_text="Test Connection").first
        toast.wait_for()
        return {"answer": answer.value.json(), "toast": toast.inner_text()}


@contextmanager
def airflow_ui(chromium: str, base_url: str, password: str, airflow_version: str) -> Iterator[AirflowUI]:
    """A headless Chromium page signed in to the api-server at ``base_url`` as ``admin``."""
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium, args=["--no-sandbox"])
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 1000})
            page.set_default_timeout(STEP_TIMEOUT_MS)
            ui = AirflowUI(page, base_url, screenshot_dir(airflow_version))
            ui.sign_in(password)
            yield ui
        finally:
            browser.close()
