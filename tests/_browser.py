"""The real-browser test harness: Debian's Chromium driven by Playwright, loopback only.

One place for what every browser test needs (tests/conftest.py turns it into fixtures):

- :func:`chromium` launches ``/usr/bin/chromium`` headless with the flags of
  docs/development.md (never ``playwright install``), in a throw-away profile
  (``launch_persistent_context``), and aborts every request that is not to 127.0.0.1 — Voilà's
  template links a CDN stylesheet, JupyterLab may look for news — counting what it aborted
  (:class:`LoopbackGuard`).
- :class:`Screenshots` saves numbered step screenshots into the artefact folder
  (``test-artifacts/browser/`` at the checkout's root, or ``pytest --artifacts DIR``).
- :func:`app_server` runs ``bt-explore app --no-browser --port 0`` and :func:`jupyter_lab` a
  JupyterLab with its own config, data, runtime, IPython and home folders and the offline
  settings; both on a free loopback port, both stopped on leaving the block, and both die with
  the test process even when it is killed (a parent-death signal). Their kernels import this
  checkout (``PYTHONPATH``), whatever is installed.
- :func:`book_flow` is a person's whole booking, step by step, with the click-to-result times.

Example (a test)::

    def test_page(booking_app_url, browser_page, screenshots):
        browser_page.goto(booking_app_url)
        browser_page.locator(".bt-explorer").wait_for()
        screenshots(browser_page, "rendered")
"""

from __future__ import annotations

import json
import os
import queue
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

from bt_explore._subprocess import parent_death_signal, stop_process

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = "/usr/bin/chromium"
#: Measured on this project's machines: quiet, offline, no first-run dialogs; no GPU in CI.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--lang=en-GB",
]
#: Where step screenshots and timings go unless ``pytest --artifacts DIR`` (gitignored).
ARTIFACTS = ROOT / "test-artifacts"
#: The docs' screenshot, retaken by ``pytest -m browser --readme-screenshot``.
README_SCREENSHOT = ROOT / "docs" / "images" / "booking_explorer.png"
#: Generous: the first start on a cold machine imports all of JupyterLab's server.
SERVER_TIMEOUT = 90.0


def sync_api() -> Any:
    """Playwright's sync API, or a skip when Playwright or Chromium is missing."""
    api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed")
    if not Path(CHROMIUM).exists():
        pytest.skip(f"chromium is not installed ({CHROMIUM}): apt-get install -y chromium")
    return api


def free_port() -> int:
    """A free TCP port on 127.0.0.1."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _loopback_url(url: str) -> bool:
    if url.startswith(("data:", "blob:", "about:")):
        return True
    return (urlsplit(url).hostname or "") in ("127.0.0.1", "::1", "localhost")


@dataclass
class LoopbackGuard:
    """A route handler that lets only 127.0.0.1 through and keeps the URLs it aborted."""

    aborted: list[str] = field(default_factory=list)

    def __call__(self, route: Any) -> None:
        url = route.request.url
        if _loopback_url(url):
            route.continue_()
        else:
            self.aborted.append(url)
            route.abort()

    def report(self) -> str:
        """The aborted requests, one line each (for the test's log)."""
        return "\n".join(f"aborted (not loopback): {url}" for url in self.aborted)


@dataclass
class Browser:
    """A Chromium context, its first page and the guard that kept it on loopback."""

    context: Any
    page: Any
    guard: LoopbackGuard


@contextmanager
def chromium(profile: Path, **options: Any) -> Iterator[Browser]:
    """A headless Chromium in the throw-away ``profile`` whose every non-loopback request is
    aborted (and logged on leaving the block). ``options`` go to
    ``launch_persistent_context`` (``viewport=``, ``device_scale_factor=``…)."""
    api = sync_api()
    guard = LoopbackGuard()
    options = {"locale": "en-GB", "viewport": {"width": 1280, "height": 1000}, **options}
    with api.sync_playwright() as p:
        context = p.chromium.launch_persistent_context(
            str(profile), executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS, **options
        )
        try:
            context.route("**/*", guard)
            page = context.pages[0] if context.pages else context.new_page()
            yield Browser(context, page, guard)
        finally:
            context.close()
            if guard.aborted:
                print(guard.report(), file=sys.stderr)


class Screenshots:
    """Numbered step screenshots of one test: ``shots(page, "booked")`` writes
    ``<artefacts>/<test>/02-booked.png`` (of ``locator`` when given, else the page)."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.taken: list[Path] = []
        shutil.rmtree(folder, ignore_errors=True)

    def __call__(self, page: Any, name: str, locator: Any = None) -> Path:
        self.folder.mkdir(parents=True, exist_ok=True)
        slug = re.sub(r"[^\w-]+", "-", name)
        path = self.folder / f"{len(self.taken) + 1:02d}-{slug}.png"
        if locator is None:
            page.screenshot(path=str(path), full_page=True)
        else:
            locator.screenshot(path=str(path))
        self.taken.append(path)
        return path


def record_timings(folder: Path, name: str, timings: Mapping[str, float]) -> Path:
    """Merge ``timings`` (seconds) under ``name`` into ``folder/timings.json``; print them."""
    path = folder / "timings.json"
    folder.mkdir(parents=True, exist_ok=True)
    known = json.loads(path.read_text()) if path.exists() else {}
    known[name] = {k: round(v, 3) for k, v in timings.items()}
    path.write_text(json.dumps(known, indent=2, sort_keys=True) + "\n")
    print(f"{name}: " + ", ".join(f"{k} {v:.2f} s" for k, v in timings.items()))
    return path


# --- servers ----------------------------------------------------------------------------------


def server_environment(home: Path | None = None, **extra: str) -> dict[str, str]:
    """This process's environment for a server under test: this checkout first on
    ``PYTHONPATH`` (its kernels import it), and with ``home`` its own Jupyter, IPython and
    home folders inside ``home``."""
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(ROOT), env.get("PYTHONPATH")) if p)
    if home is not None:
        for variable, name in {
            "JUPYTER_CONFIG_DIR": "config",
            "JUPYTER_DATA_DIR": "data",
            "JUPYTER_RUNTIME_DIR": "runtime",
            "IPYTHONDIR": "ipython",
            "HOME": "home",
        }.items():
            (home / name).mkdir(parents=True, exist_ok=True)
            env[variable] = str(home / name)
    env.update(extra)
    return env


def _lines(stream: Any, into: queue.Queue[str], keep: list[str]) -> None:
    for line in iter(stream.readline, ""):
        keep.append(line)
        into.put(line)


# --- processes ------------------------------------------------------------------------------


def descendants(pid: int) -> set[int]:
    """The processes under ``pid`` (children, their children…), from /proc."""
    children: dict[int, list[int]] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        children.setdefault(int(fields[1]), []).append(int(stat.parent.name))
    found, todo = set(), [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            found.add(child)
            todo.append(child)
    return found


def children(pid: int) -> set[int]:
    """The live processes whose parent is ``pid``."""
    return {child for child in descendants(pid) if alive(child) and _parent(child) == pid}


def _parent(pid: int) -> int:
    try:
        return int(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[1])
    except OSError:  # it has ended meanwhile
        return -1


def alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"  # a zombie is dead, waiting for init to reap it


def left_behind(pids: set[int], timeout: float = 5) -> set[int]:
    """Those of ``pids`` still alive after ``timeout`` seconds (none, quickly, when all end)."""
    deadline = time.monotonic() + timeout
    while {pid for pid in pids if alive(pid)} and time.monotonic() < deadline:
        time.sleep(0.1)
    return {pid for pid in pids if alive(pid)}


@dataclass
class AppServer:
    """A running ``bt-explore app``: its page's address (with the run's token), its process."""

    url: str
    process: subprocess.Popen[str]
    output: list[str]

    @property
    def port(self) -> int:
        """The page's port."""
        return int(urlsplit(self.url).port or 0)

    @property
    def token(self) -> str:
        """The run's token (from the printed address)."""
        return urlsplit(self.url).query.removeprefix("token=")


#: The line ``bt-explore app`` prints: the page's address with the run's token.
APP_URL = re.compile(r"^The booking page.*: (http://127\.0\.0\.1:\d+/\?token=[\w-]+)$", re.M)


def start_app(*args: str, env: Mapping[str, str] | None = None) -> AppServer:
    """Start ``bt-explore app --no-browser --port 0 *args`` and wait for the address it
    prints. It dies with this process (a parent-death signal), whatever the test does."""
    process = subprocess.Popen(
        [sys.executable, "-m", "bt_explore", "app", "--no-browser", "--port", "0", *args],
        cwd=ROOT,
        env=dict(env) if env is not None else server_environment(),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        preexec_fn=parent_death_signal(),
    )
    lines: queue.Queue[str] = queue.Queue()
    output: list[str] = []
    threading.Thread(target=_lines, args=(process.stdout, lines, output), daemon=True).start()
    deadline = time.monotonic() + SERVER_TIMEOUT
    while True:
        if time.monotonic() > deadline or (process.poll() is not None and lines.empty()):
            stop_process(process, timeout=20)
            raise RuntimeError("bt-explore app printed no address:\n" + "".join(output))
        try:
            line = lines.get(timeout=0.2)
        except queue.Empty:
            continue
        if line.startswith("Press Ctrl-C"):  # printed (and flushed) after the address
            found = APP_URL.search("".join(output))
            if found is None:
                stop_process(process, timeout=20)
                raise AssertionError("bt-explore app printed no address:\n" + "".join(output))
            return AppServer(found.group(1), process, output)


@contextmanager
def app_server(*args: str, env: Mapping[str, str] | None = None) -> Iterator[AppServer]:
    """``bt-explore app --no-browser --port 0 *args`` until the block ends, then Ctrl-C
    (SIGINT): it must stop cleanly (exit status 0). ``output`` collects its stdout and stderr."""
    server = start_app(*args, env=env)
    under: set[int] = set()
    try:
        yield server
    finally:
        under = descendants(server.process.pid) if Path("/proc").is_dir() else set()
        status = stop_process(server.process, timeout=20, sig=signal.SIGINT)
    assert status == 0, f"bt-explore app ended with {status}:\n{''.join(server.output)}"
    assert not left_behind(under), "bt-explore app left processes running (Voilà, kernels)"


@dataclass
class Lab:
    """A running JupyterLab: its address, token and the folder it serves."""

    url: str
    token: str
    root: Path
    process: subprocess.Popen[bytes]
    log: Path

    def open(self, path: str) -> str:
        """The address that opens ``path`` (relative to :attr:`root`) in the Lab."""
        return f"{self.url}/lab/tree/{path}?token={self.token}"


def _wait_for_status(url: str, process: subprocess.Popen[Any], headers: Mapping[str, str]) -> None:
    deadline = time.monotonic() + SERVER_TIMEOUT
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the server exited with {process.returncode}")
        try:
            request = urllib.request.Request(url, headers=dict(headers))
            with urllib.request.urlopen(request, timeout=2) as answer:
                if answer.status == 200:
                    return
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            pass
        time.sleep(0.2)
    raise TimeoutError(f"{url} did not answer within {SERVER_TIMEOUT:g} s")


@contextmanager
def jupyter_lab(home: Path, root: Path, **env: str) -> Iterator[Lab]:
    """JupyterLab serving ``root`` on a free loopback port, offline and isolated in ``home``
    (config, data, runtime, IPython, home), with a random token and the application exposed
    (``window.jupyterapp``); stopped on leaving the block. ``env`` adds variables (its kernels
    inherit them)."""
    port, token = free_port(), secrets.token_hex(16)
    log = home / "lab.log"
    home.mkdir(parents=True, exist_ok=True)
    with open(log, "wb") as log_file:
        process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "jupyter",
                "lab",
                "--allow-root",
                "--no-browser",
                "--ServerApp.ip=127.0.0.1",
                f"--ServerApp.port={port}",
                "--ServerApp.port_retries=0",
                f"--IdentityProvider.token={token}",
                f"--ServerApp.root_dir={root}",
                "--LabApp.extension_manager=readonly",
                "--LabApp.news_url=None",
                "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate",
                "--LabApp.expose_app_in_browser=True",
            ],
            cwd=root,
            env=server_environment(home, **env),
            stdin=subprocess.DEVNULL,
            stdout=log_file,
            stderr=subprocess.STDOUT,
            preexec_fn=parent_death_signal(),  # no Lab outlives the tests
        )
    url = f"http://127.0.0.1:{port}"
    try:
        _wait_for_status(f"{url}/api/status", process, {"Authorization": f"token {token}"})
        yield Lab(url, token, root, process, log)
    finally:
        stop_process(process, timeout=20)


# --- in the page ------------------------------------------------------------------------------

#: True when the notebook in JupyterLab's main area has an idle kernel.
KERNEL_IDLE = """() => {
    const w = window.jupyterapp.shell.currentWidget;
    const k = w && w.sessionContext && w.sessionContext.session && w.sessionContext.session.kernel;
    return !!k && k.status === 'idle';
}"""


def lab_command(page: Any, command: str) -> None:
    """Run a JupyterLab command (e.g. ``notebook:run-all-cells``) in ``page``."""
    page.evaluate("(c) => window.jupyterapp.commands.execute(c)", command)


def horizontal_overflow(page: Any) -> int:
    """How many CSS pixels the page is wider than its viewport (0: no horizontal scrolling)."""
    return int(
        page.evaluate(
            "() => Math.max(document.documentElement.scrollWidth, document.body.scrollWidth)"
            " - window.innerWidth"
        )
    )


def wait_for_templates(
    app: Any, select: str = ".widget-dropdown select", timeout: float = 60
) -> Any:
    """The explorer's template ``<select>`` once its templates are loaded."""
    element = app.locator(select).first
    element.wait_for(timeout=timeout * 1000)
    app.page.wait_for_function(
        "(el) => el.options.length > 0 && el.options[0].text.trim() !== ''",
        arg=element.element_handle(),
        timeout=timeout * 1000,
    )
    return element


# --- a person's booking -----------------------------------------------------------------------

#: The template the flow books: it asks for an address, so every form field shows.
FLOW_TEMPLATE = "Consultation with treatment room"
#: What the person types, by the explorer's field names (bt_explore.widgets.FORM_FIELDS).
FLOW_CUSTOMER = {
    "first_name": "Jane",
    "last_name": "Doe",
    "email": "jane.doe@example.com",
    "street": "Hauptstraße 1",
    "zip": "10115",
    "city": "Berlin",
}
#: The field the flow first leaves empty, and how the form names it.
FLOW_MISSING = ("last_name", "Last name")


def _text(locator: Any) -> str:
    return " ".join((locator.inner_text() if locator.count() else "").replace("\xa0", " ").split())


def book_flow(
    page: Any,
    screenshots: Callable[..., Path],
    *,
    template: str = FLOW_TEMPLATE,
    readme_screenshot: Path | None = None,
    timeout: float = 30,
) -> dict[str, float]:
    """A person's booking in the rendered explorer of ``page``: pick ``template``, see its
    slots, click Book with a required field empty and see which, fill it in, book, see the
    confirmation and the booking in the table, cancel it. A screenshot at every step; returns
    the click-to-result times in seconds (``book``: Book click → confirmation visible,
    ``cancel``: Cancel click → the booking shown as canceled).

    Drives the explorer's CSS classes (``bt_explore.widgets.SELECTORS``: ``bt-field-<name>`` and
    ``bt-field-error-<name>`` with the names of ``bt_explore.widgets.FORM_FIELDS``).
    ``readme_screenshot``: also save the explorer, booked, there (the docs' image).
    """
    ms = timeout * 1000
    app = page.locator(".bt-explorer").first
    app.wait_for(timeout=ms)

    # 1. pick the template: the earliest bookable day's times show at once
    select = wait_for_templates(app, ".bt-template select", timeout)
    labels = select.evaluate("(el) => Array.from(el.options, (o) => o.text)")
    index = next(
        (i for i, t in enumerate(labels) if t.replace("\xa0", " ").startswith(template)), None
    )
    assert index is not None, f"no template {template!r} among {labels}"
    select.select_option(index=index)
    screenshots(page, "template-picked")

    # 2. see the slots and take the first (times as buttons, or a list)
    slots = app.locator(".bt-slots button, .bt-slots select option")
    slots.first.wait_for(state="attached", timeout=ms)
    buttons = app.locator(".bt-slots button")
    if buttons.count():
        buttons.first.click()
    else:
        first = app.locator(".bt-slots select option").first.get_attribute("value")
        app.locator(".bt-slots select").select_option(value=first)
    screenshots(page, "slot-picked")

    # 3. Book with a required field empty: the form says which
    missing, label = FLOW_MISSING

    def field(name: str) -> Any:
        return app.locator(f".bt-field-{name} input").first

    for name, value in FLOW_CUSTOMER.items():
        if name != missing:
            field(name).fill(value)
    book = app.locator(".bt-book").first
    if book.is_enabled():
        book.click()
    feedback = app.locator(".bt-book-feedback").first
    error = app.locator(f".bt-field-error-{missing}").first
    page.wait_for_function(
        "([f, e, label]) => f && e && f.textContent.includes(label) && e.textContent.trim()",
        arg=[feedback.element_handle(), error.element_handle(), label],
        timeout=ms,
    )
    screenshots(page, "missing-field-named")

    # 4. fill it in and book
    field(missing).fill(FLOW_CUSTOMER[missing])
    page.wait_for_function("(b) => !b.disabled", arg=book.element_handle(), timeout=ms)
    confirmation = app.locator(".bt-confirmation").first
    started = time.monotonic()
    book.click()
    page.wait_for_function(
        "(c) => c.offsetParent !== null && c.textContent.trim() !== ''",
        arg=confirmation.element_handle(),
        timeout=ms,
    )
    timings = {"book": time.monotonic() - started}
    bookings = app.locator(".bt-bookings").first
    page.wait_for_function(
        "([t, who]) => t.textContent.includes(who)",
        arg=[
            bookings.element_handle(),
            f"{FLOW_CUSTOMER['first_name']} {FLOW_CUSTOMER['last_name']}",
        ],
        timeout=ms,
    )
    assert "booked" in _text(bookings)
    screenshots(page, "booked")
    if readme_screenshot is not None:
        app.scroll_into_view_if_needed()
        readme_screenshot.parent.mkdir(parents=True, exist_ok=True)
        app.screenshot(path=str(readme_screenshot))

    # 5. cancel it: the table says canceled, the confirmation of the booking goes
    choose = app.locator(".bt-booking-select select")
    if choose.count() and choose.first.evaluate("(el) => el.options.length > 1"):
        choose.first.select_option(index=choose.first.evaluate("(el) => el.options.length - 1"))
    cancel = app.locator(".bt-cancel").first
    page.wait_for_function("(b) => !b.disabled", arg=cancel.element_handle(), timeout=ms)
    started = time.monotonic()
    cancel.click()
    page.wait_for_function(
        "(t) => t.textContent.includes('canceled')", arg=bookings.element_handle(), timeout=ms
    )
    timings["cancel"] = time.monotonic() - started
    page.wait_for_function(
        "(c) => c.offsetParent === null || c.textContent.trim() === ''",
        arg=confirmation.element_handle(),
        timeout=ms,
    )
    assert "Canceled" in _text(app.locator(".bt-cancel-feedback").first)
    screenshots(page, "canceled")
    return timings
