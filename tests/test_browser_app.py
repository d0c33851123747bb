"""``bt-explore app`` in a real browser: the page is the booking app and nothing else, and a
person can book on it (Chromium via tests/_browser.py, loopback only)."""

from __future__ import annotations

import pytest
from _browser import book_flow, horizontal_overflow, record_timings

from bt_explore.app import TITLE
from bt_explore.sandbox import Sandbox

pytestmark = pytest.mark.browser

#: What the notebook behind the page says or does: none of it may reach the page.
NOTEBOOK_TEXT = ("cassette=", ".env", "import bt_explore", "booking_page(", "In [", "0 rows")


def _open(booking_app, browser, screenshots):
    page = browser.page
    page.goto(booking_app.url)
    app = page.locator(".bt-explorer").first
    app.wait_for(timeout=60_000)
    page.locator(".bt-organization").wait_for(timeout=30_000)
    screenshots(page, "rendered")
    return page, app


def test_the_page_shows_only_the_booking_app(booking_app, browser, screenshots):
    page, app = _open(booking_app, browser, screenshots)
    assert page.title() == TITLE
    assert page.locator("h1").first.inner_text() == TITLE
    assert page.locator(".bt-organization").inner_text() == "Praxis am Park (bt_explore demo)"
    assert "nothing real is booked" in page.locator(".bt-sandbox-note").inner_text()
    body = page.locator("body").inner_text()
    for text in NOTEBOOK_TEXT:
        assert text not in body, f"the page shows notebook text {text!r}"
    assert page.locator(".jp-InputArea, .jp-InputPrompt, .CodeMirror, .cm-editor").count() == 0
    assert page.locator(".jp-OutputArea-output table").count() == 0, "a table of its own"
    assert app.is_visible()
    assert horizontal_overflow(page) <= 0
    # nothing secret: the sandbox's demo credentials stay in the kernel's environment
    html = page.content()
    assert Sandbox().client_id not in html and Sandbox().client_id not in "".join(
        booking_app.output
    )
    assert all("127.0.0.1" not in url for url in browser.guard.aborted)


def test_a_person_books_and_cancels_on_the_page(booking_app, browser, screenshots, artifacts):
    page, app = _open(booking_app, browser, screenshots)
    timings = book_flow(page, screenshots)
    record_timings(artifacts, "voila", timings)
    assert timings["book"] < 5 and timings["cancel"] < 5


def test_the_week_view_is_a_row_of_days_and_the_chosen_days_times(
    booking_app, browser, screenshots
):
    """A week of a few hundred slots reads as seven day buttons with their counts and the
    times of one day, not one long list; the page stays within the window."""
    page, app = _open(booking_app, browser, screenshots)
    app.locator(".bt-slots button").first.wait_for(timeout=30_000)
    app.locator(".bt-mode button", has_text="Week").click()
    days = app.locator(".bt-days button")
    page.wait_for_function(
        "() => document.querySelectorAll('.bt-days button').length === 7", timeout=30_000
    )
    counts = [int(label.rsplit("·", 1)[1]) for label in days.all_inner_texts()]
    assert sum(counts) > 150, counts  # the week holds a few hundred slots
    busiest = max(range(7), key=counts.__getitem__)
    days.nth(busiest).click()
    page.wait_for_function(
        "(n) => document.querySelectorAll('.bt-slots button').length === n",
        arg=counts[busiest],
        timeout=30_000,
    )
    box = app.locator(".bt-slots").first.bounding_box()
    assert box is not None and box["height"] < 900, box  # one day's times, in a grid
    assert horizontal_overflow(page) <= 0
    screenshots(page, "week-view")
