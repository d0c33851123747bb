"""``bt-explore app`` in a real browser: the page is the booking app and nothing else, and a
person can book on it (Chromium via tests/_browser.py, loopback only)."""

from __future__ import annotations

import re
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from _browser import _loopback_url, book_flow, horizontal_overflow, record_timings

from bt_explore.app import TITLE
from bt_explore.sandbox import Sandbox

pytestmark = pytest.mark.browser

#: What the notebook behind the page says or does: none of it may reach the page.
NOTEBOOK_TEXT = ("cassette=", ".env", "import bt_explore", "booking_page(", "In [", "0 rows")


def _open(booking_app, browser, screenshots, *, listen=None):
    page = browser.page
    if listen is not None:
        page.on("console", lambda message: listen.append(message))
        page.context.on("request", lambda request: listen.append(request))
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


def test_the_page_asks_nothing_of_other_hosts_and_logs_no_error(booking_app, browser, screenshots):
    """Zero requests off loopback (no CDN), zero console errors, zero "Unsatisfied version"
    warnings (the page's extensions match its JupyterLab packages), once the page is usable."""
    events: list = []
    page, app = _open(booking_app, browser, screenshots, listen=events)
    app.locator(".bt-slots button").first.wait_for(timeout=30_000)
    page.wait_for_timeout(1000)  # late requests and messages
    requests = [e.url for e in events if hasattr(e, "resource_type")]
    messages = [
        (e.type, e.text) for e in events if hasattr(e, "text") and callable(e.type) is False
    ]
    off_loopback = [url for url in requests if not _loopback_url(url)]
    errors = [text for kind, text in messages if kind == "error"]
    unsatisfied = [text for kind, text in messages if "satisf" in text.lower()]
    print(f"{len(requests)} requests, {len(messages)} console messages")
    assert requests and not off_loopback, off_loopback
    assert not browser.guard.aborted, browser.guard.aborted
    assert not errors, errors
    assert not unsatisfied, unsatisfied


#: A stranger's page: opens the booking page's kernel websocket (it knows the kernel id, not
#: the token) and fetches the page, and reports what happened.
STRANGER_PAGE = """<!doctype html><title>stranger</title><script>
window.outcome = new Promise((resolve) => {
  const seen = [];
  const ws = new WebSocket(%(channels)s);
  ws.onopen = () => { seen.push("websocket open"); ws.close(); };
  ws.onclose = () => fetch(%(page)s, {credentials: "include"})
    .then((r) => r.text().then(() => seen.push("fetch read " + r.status)))
    .catch(() => seen.push("fetch refused"))
    .finally(() => resolve(seen));
});
</script>"""


@pytest.fixture
def stranger_site():
    """A web site of someone else's on another loopback port; ``site.html`` is its page."""

    class Site(BaseHTTPRequestHandler):
        html = ""

        def do_GET(self):  # noqa: N802 - the stdlib's name
            body = Site.html.encode()
            self.send_response(200)
            self.send_header("Content-Type", "text/html")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Site)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    Site.url = f"http://127.0.0.1:{server.server_address[1]}/"
    try:
        yield Site
    finally:
        server.shutdown()
        server.server_close()


def test_a_page_on_another_origin_cannot_talk_to_the_kernel(
    booking_app, browser, screenshots, stranger_site
):
    """In the browser that holds the page's cookie, a page of another origin cannot open the
    kernel's websocket nor read the page; the same script on the page's own origin can."""
    page, app = _open(booking_app, browser, screenshots)
    kernel = re.search(r'"kernelId":\s*"([0-9a-f-]{36})"', page.content())
    assert kernel, "the page names no kernel"
    base = booking_app.url.split("?")[0]
    channels = base.replace("http://", "ws://") + f"api/kernels/{kernel.group(1)}/channels"
    script = STRANGER_PAGE % {"channels": repr(channels), "page": repr(base)}

    # the same script on the page's own origin (with the cookie of the printed URL): it opens
    own = page.evaluate(
        "(code) => { const s = document.createElement('div'); s.innerHTML = code;"
        " eval(s.querySelector('script').textContent); return window.outcome; }",
        script,
    )
    assert own == ["websocket open", "fetch read 200"], own

    stranger_site.html = script
    other = browser.context.new_page()
    other.goto(stranger_site.url)
    seen = other.evaluate("() => window.outcome")
    screenshots(other, "stranger")
    assert seen == ["fetch refused"], seen  # no "websocket open", no "fetch read"
