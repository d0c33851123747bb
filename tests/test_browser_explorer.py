"""What a person sees of the booking explorer in a real browser (issue 21): no time buttons on
a day without times, one status that matches the form, one confirmation, the chosen time
clearly marked, no horizontal overflow at 420 px, and in JupyterLab day buttons that show their
counts in full. Chromium via tests/_browser.py, loopback only; the explorer's CSS classes are
``bt_explore.widgets.SELECTORS``."""

from __future__ import annotations

import re

import pytest
from _browser import (
    KERNEL_IDLE,
    horizontal_overflow,
    lab_command,
    wait_for_templates,
)

from bt_explore.widgets import FORM_FIELDS

pytestmark = pytest.mark.browser

TIMEOUT = 30_000
#: The field labels a message can name.
LABELS = [f.label for f in FORM_FIELDS]


def _text(locator) -> str:
    return " ".join(locator.inner_text().replace("\xa0", " ").split())


def _open(url, browser):
    page = browser.page
    page.goto(url)
    app = page.locator(".bt-explorer").first
    app.wait_for(timeout=60_000)
    wait_for_templates(app, ".bt-template select")
    app.locator(".bt-slots button").first.wait_for(timeout=TIMEOUT)  # the first day's times
    return page, app


def _pick_template(page, app, name: str) -> None:
    select = app.locator(".bt-template select")
    labels = select.evaluate("(el) => Array.from(el.options, (o) => o.text)")
    index = next(i for i, t in enumerate(labels) if t.replace("\xa0", " ").startswith(name))
    select.select_option(index=index)
    page.wait_for_function(
        "(n) => document.querySelector('.bt-status').innerText.includes(n)"
        " && !document.querySelector('.bt-status').innerText.includes('looking for')"
        " && !document.querySelector('.bt-status').innerText.includes('Looking for')",
        arg=name,
        timeout=TIMEOUT,
    )


def _status(app) -> str:
    return _text(app.locator(".bt-status").first)


def _wait_status(page, test: str, arg=None) -> None:
    """Wait until ``test`` (JS, given the status text and ``arg``) holds."""
    page.wait_for_function(
        f"([arg]) => {{ const s = document.querySelector('.bt-status').innerText; "
        f"return {test}; }}",
        arg=[arg],
        timeout=TIMEOUT,
    )


def _no_visible_times(page, app) -> None:
    """Wait (the view's messages follow the status line's) until no time button shows."""
    try:
        page.wait_for_function(
            "() => Array.from(document.querySelectorAll('.bt-slots button'))"
            ".every((b) => b.offsetParent === null)",
            timeout=5_000,
        )
    except Exception:  # noqa: BLE001 - fail with what is shown
        pytest.fail("time buttons show: " + _text(app.locator(".bt-slots")))


def test_a_day_without_free_times_shows_no_time_buttons(booking_app, browser, screenshots):
    page, app = _open(booking_app.url, browser)
    _pick_template(page, app, "Home visit")  # closed on some weekdays and at weekends
    for _ in range(14):
        if "No free slots on" in _status(app):
            break
        before = _status(app)
        app.locator(".bt-next").click()
        _wait_status(page, "s !== arg && !s.includes('Looking for')", before)
    else:
        pytest.fail("no day without free times within two weeks of Home visit")
    _no_visible_times(page, app)
    screenshots(page, "day-without-times")

    app.locator(".bt-mode button", has_text="Week").click()
    page.wait_for_function(
        "() => document.querySelectorAll('.bt-days button').length === 7", timeout=TIMEOUT
    )
    days = app.locator(".bt-days button")
    labels = [" ".join(t.split()) for t in days.all_inner_texts()]
    full = next(i for i, t in enumerate(labels) if not t.endswith("· 0"))
    empty = next(i for i, t in enumerate(labels) if t.endswith("· 0"))
    days.nth(full).click()
    page.wait_for_function(
        "() => document.querySelectorAll('.bt-slots button').length > 0", timeout=TIMEOUT
    )
    days.nth(empty).click()
    _wait_status(page, "s.includes('No free times on')")
    _no_visible_times(page, app)
    screenshots(page, "week-day-without-times")


def test_one_status_that_always_matches_the_form(booking_app, browser, screenshots):
    page, app = _open(booking_app.url, browser)
    _pick_template(page, app, "Massage")  # mobile required
    app.locator(".bt-slots button").first.click()

    def field(name):
        return app.locator(f".bt-field-{name} input").first

    def named(locator) -> set[str]:
        return {label for label in LABELS if label in _text(locator)}

    def settled(expected: set[str]) -> None:
        """Wait until the status line and the text beside Book name ``expected`` (the view
        sends the status line first and the text beside Book a moment later)."""
        try:
            page.wait_for_function(
                "([labels, expected]) => ['.bt-status', '.bt-book-feedback'].every((sel) => {"
                " const t = document.querySelector(sel).innerText;"
                " return labels.filter((l) => t.includes(l)).sort().join('|') === expected; })",
                arg=[LABELS, "|".join(sorted(expected))],
                timeout=5_000,
            )
        except Exception:  # noqa: BLE001 - fail with what both say
            pass
        assert named(status) == named(feedback) == expected, (_text(status), _text(feedback))

    status, feedback = app.locator(".bt-status").first, app.locator(".bt-book-feedback").first
    field("first_name").fill("Erika")
    field("mobile").fill("12")
    app.locator(".bt-book").click()
    _wait_status(page, "s.includes('fix the form')")
    settled({"Last name", "Mobile"})
    screenshots(page, "refused")

    field("last_name").fill("Mustermann")
    _wait_status(page, "!s.includes('Last name')")
    settled({"Mobile"})
    assert "fix the form" in _text(status)

    field("mobile").fill("+43 660 1234567")
    _wait_status(page, "!s.includes('fix the form')")
    settled(set())
    screenshots(page, "fixed")
    assert "✖" not in _text(status)
    assert app.locator(".bt-book").is_enabled()

    # Reload: the status says which time is chosen, not 'Pick a time.'
    app.locator(".bt-reload").click()
    _wait_status(page, "s.includes('earliest bookable day')")
    text = _status(app)
    assert "Pick a time" not in text and "chosen" in text, text


def test_one_confirmation_after_booking(booking_app, browser, screenshots):
    page, app = _open(booking_app.url, browser)
    _pick_template(page, app, "Massage")  # names and mobile
    app.locator(".bt-slots button").first.click()
    for name, value in {
        "first_name": "Jane",
        "last_name": "Doe",
        "mobile": "+49 170 1234567",
    }.items():
        app.locator(f".bt-field-{name} input").fill(value)
    confirmation = app.locator(".bt-confirmation").first
    app.locator(".bt-book").click()
    page.wait_for_function(
        "(c) => c.textContent.includes('Booked ed')",
        arg=confirmation.element_handle(),
        timeout=TIMEOUT,
    )
    screenshots(page, "booked")
    booking = re.search(r"Booked (ed\w+)", _text(confirmation)).group(1)
    page.wait_for_function(  # the table and the Cancel dropdown follow the confirmation
        "(id) => document.querySelector('.bt-bookings').innerText.includes(id)"
        " && document.querySelector('.bt-booking-select select').innerText.includes(id)",
        arg=booking,
        timeout=TIMEOUT,
    )
    body = _text(page.locator("body"))
    table = _text(app.locator(".bt-bookings"))
    dropdown = _text(app.locator(".bt-booking-select"))
    # the id stands in the confirmation, the bookings table and the Cancel dropdown: once each
    assert body.count(booking) == 1 + table.count(booking) + dropdown.count(booking), body
    assert body.count("Booked ed") == 1, body


def _luminance(css: str) -> float:
    r, g, b = (int(v) / 255 for v in re.findall(r"[\d.]+", css)[:3])
    lin = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in (r, g, b)]
    return 0.2126 * lin[0] + 0.7152 * lin[1] + 0.0722 * lin[2]


def _contrast(a: str, b: str) -> float:
    high, low = sorted((_luminance(a), _luminance(b)), reverse=True)
    return (high + 0.05) / (low + 0.05)


def test_the_chosen_time_is_clearly_marked(booking_app, browser, screenshots):
    page, app = _open(booking_app.url, browser)
    times = app.locator(".bt-slots button")
    times.nth(1).click()
    page.wait_for_function(
        "() => document.querySelectorAll('.bt-slots button.mod-active').length === 1",
        timeout=TIMEOUT,
    )
    page.mouse.move(0, 0)  # no hover colour on either button
    screenshots(page, "time-chosen", app.locator(".bt-slots").first)

    def background(i: int) -> str:
        return times.nth(i).evaluate("(b) => getComputedStyle(b).backgroundColor")

    chosen, other = background(1), background(0)
    # WCAG's 3:1, the contrast asked of a control's state against its neighbours
    assert _contrast(chosen, other) >= 3, (chosen, other)


def test_no_horizontal_overflow_at_420_px(booking_app, browser, screenshots):
    browser.page.set_viewport_size({"width": 420, "height": 900})
    page, app = _open(booking_app.url, browser)
    screenshots(page, "420px")
    assert horizontal_overflow(page) <= 0
    # the page may clip what sticks out rather than scroll: nothing may reach past the edge
    beyond = app.evaluate(
        "(app) => Array.from(app.querySelectorAll('*'))"
        ".filter((el) => el.offsetParent !== null"
        " && el.getBoundingClientRect().right > document.documentElement.clientWidth + 0.5)"
        ".map((el) => (el.className || el.tagName) + ' ' + (el.innerText || '').slice(0, 30))"
    )
    assert beyond == [], beyond


def test_in_jupyterlab_the_week_days_show_their_counts_in_full(jupyter, browser, screenshots):
    page = browser.page
    page.goto(jupyter.open("02_booking_explorer.ipynb"))
    page.wait_for_selector(".jp-Notebook .jp-Cell", timeout=60_000)
    page.wait_for_function(KERNEL_IDLE, timeout=60_000)
    lab_command(page, "notebook:run-all-cells")
    app = page.locator(".bt-explorer").first
    app.wait_for(timeout=60_000)
    wait_for_templates(app)
    app.locator(".bt-slots button").first.wait_for(timeout=TIMEOUT)
    app.locator(".bt-mode button", has_text="Week").click()
    page.wait_for_function(
        "() => document.querySelectorAll('.bt-days button').length === 7", timeout=TIMEOUT
    )
    screenshots(page, "week-in-lab", app.locator(".bt-days").first)
    cut = app.locator(".bt-days button").evaluate_all(
        "(bs) => bs.filter((b) => b.scrollWidth > b.clientWidth).map((b) => b.innerText)"
    )
    assert cut == [], cut
