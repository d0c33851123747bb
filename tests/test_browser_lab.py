"""notebooks/02_booking_explorer.ipynb in a real JupyterLab and browser: it runs, the explorer
renders, and a person can book in it (Chromium via tests/_browser.py, loopback only).

``pytest -m browser tests/test_browser_lab.py --readme-screenshot`` also retakes
docs/images/booking_explorer.png from the booking step (``python tools/screenshot_explorer.py``
runs just that).
"""

from __future__ import annotations

from pathlib import Path

import pytest
from _browser import (
    KERNEL_IDLE,
    Screenshots,
    book_flow,
    chromium,
    lab_command,
    record_timings,
    wait_for_templates,
)

pytestmark = pytest.mark.browser

NOTEBOOK = "02_booking_explorer.ipynb"


def _run_notebook(jupyter, browser, screenshots):
    page = browser.page
    page.goto(jupyter.open(NOTEBOOK))
    page.wait_for_selector(".jp-Notebook .jp-Cell", timeout=60_000)
    page.wait_for_function(KERNEL_IDLE, timeout=60_000)
    screenshots(page, "notebook-open")
    lab_command(page, "application:toggle-left-area")  # the file browser only takes width
    lab_command(page, "notebook:run-all-cells")
    app = page.locator(".bt-explorer").first
    app.wait_for(timeout=60_000)
    wait_for_templates(app)
    no_news = page.get_by_role("button", name="No", exact=True)
    if no_news.count():
        no_news.first.click()  # JupyterLab's 'notify about news?' toast would cover the app
    screenshots(page, "explorer-rendered")
    return page, app


def test_the_notebook_runs_and_the_explorer_renders(jupyter, browser, screenshots):
    page, app = _run_notebook(jupyter, browser, screenshots)
    assert "Booking explorer" in app.inner_text()
    assert "the earliest bookable day is" in app.locator(".bt-status").inner_text()
    assert app.locator(".bt-slots button").count() > 0  # the day's times, at once
    assert all("127.0.0.1" not in url for url in browser.guard.aborted)


def test_a_person_books_and_cancels_in_jupyterlab(jupyter, tmp_path, request, artifacts):
    readme = request.config.getoption("readme_screenshot")
    # the docs' image: a wide window at scale 1, as a reader's screen shows it
    with chromium(
        tmp_path / "chromium", viewport={"width": 1500, "height": 2000}, device_scale_factor=1
    ) as browser:
        screenshots = Screenshots(artifacts / request.node.name)
        page, app = _run_notebook(jupyter, browser, screenshots)
        timings = book_flow(page, screenshots, readme_screenshot=readme and Path(readme))
    record_timings(artifacts, "jupyterlab", timings)
    assert timings["book"] < 5 and timings["cancel"] < 5
