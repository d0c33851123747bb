"""Take docs/images/booking_explorer.png from a real browser render of the explorer notebook.

Starts JupyterLab on 127.0.0.1 with throw-away config/data/runtime dirs, opens a copy of
``notebooks/02_booking_explorer.ipynb`` in Debian's chromium (driven by playwright), runs all
cells, uses the app like a person would (pick a template, *Earliest slot*, fill in the customer,
*Book*, then *Earliest slot* again) and screenshots the widget. Every browser request that is not
to 127.0.0.1 is aborted. A tool, not a test: CI does not install chromium.

Usage::

    apt-get install -y chromium          # once
    python tools/screenshot_explorer.py [--out docs/images/booking_explorer.png]
"""

from __future__ import annotations

import argparse
import os
import secrets
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOK = ROOT / "notebooks" / "02_booking_explorer.ipynb"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
TEMPLATE = "Consultation with treatment room"  # needs an address: shows every form field


def step(text: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {text}", file=sys.stderr, flush=True)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for_lab(url: str, token: str, proc: subprocess.Popen, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"jupyter lab exited with {proc.returncode}")
        try:
            request = urllib.request.Request(
                f"{url}/api/status", headers={"Authorization": f"token {token}"}
            )
            with urllib.request.urlopen(request, timeout=2) as answer:
                if answer.status == 200:
                    return
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            pass
        time.sleep(0.3)
    raise TimeoutError("jupyter lab did not come up")


def only_loopback(route) -> None:
    host = urlsplit(route.request.url).hostname or ""
    if host == "127.0.0.1" or route.request.url.startswith(("data:", "blob:")):
        route.continue_()
    else:
        route.abort()


KERNEL_IDLE = """() => {
    const w = window.jupyterapp.shell.currentWidget;
    const k = w && w.sessionContext && w.sessionContext.session && w.sessionContext.session.kernel;
    return k && k.status === 'idle';
}"""


def drive(page, out: Path) -> None:
    page.wait_for_selector(".jp-Notebook .jp-Cell", timeout=60_000)
    page.wait_for_function(KERNEL_IDLE, timeout=60_000)
    step("notebook open, kernel idle")
    # the file browser only takes width from the app
    page.evaluate("() => window.jupyterapp.commands.execute('application:toggle-left-area')")
    page.evaluate("() => window.jupyterapp.commands.execute('notebook:run-all-cells')")
    app = page.locator(".bt-explorer").first
    app.wait_for(timeout=60_000)
    template_select = app.locator(".widget-dropdown select").first
    page.wait_for_function(
        "(el) => el.options.length > 1", arg=template_select.element_handle(), timeout=60_000
    )
    step("explorer rendered with its templates")
    no_news = page.get_by_role("button", name="No", exact=True)
    if no_news.count():
        no_news.first.click()  # JupyterLab's 'notify about news?' toast would cover the app
    labels = template_select.evaluate("(el) => Array.from(el.options, (o) => o.text)")
    # the widget renders spaces as no-break spaces
    index = next(
        i for i, text in enumerate(labels) if text.replace("\xa0", " ").startswith(TEMPLATE)
    )
    template_select.select_option(index=index)

    def click(name: str) -> None:
        app.locator("button.jupyter-button").filter(has_text=name).first.click()

    def wait_status(*words: str) -> None:
        page.wait_for_function(
            """(words) => { const s = document.querySelector('.bt-status');
                return s && words.some(w => s.textContent.includes(w)); }""",
            arg=list(words),
            timeout=60_000,
        )

    def field(label: str):
        return app.locator(".widget-text").filter(has=page.locator(f"label:text-is('{label}')"))

    click("Earliest slot")
    wait_status("Earliest free slot", "No free slots")
    step("earliest slot found")
    customer = {
        "First name *": "Jane",
        "Last name *": "Doe",
        "Email *": "jane.doe@example.com",
        "Street *": "Hauptstraße 1",
        "ZIP *": "10115",
        "City *": "Berlin",
    }
    for label, value in customer.items():
        field(label).locator("input").fill(value)
    click("Book")
    wait_status("Booked")
    step("booked")
    click("Earliest slot")
    wait_status("Earliest free slot", "No free slots")
    # one field marked invalid, as a user mid-typing would see it
    field("Mobile").locator("input").fill("0170 12ab")
    app.get_by_text("Mobile: not a valid phone number").wait_for(timeout=60_000)
    app.scroll_into_view_if_needed()
    out.parent.mkdir(parents=True, exist_ok=True)
    app.screenshot(path=str(out))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=ROOT / "docs/images/booking_explorer.png")
    parser.add_argument("--chromium", default=CHROMIUM)
    args = parser.parse_args(argv)
    if not Path(args.chromium).exists():
        print(f"{args.chromium} not found: apt-get install -y chromium", file=sys.stderr)
        return 2
    from playwright.sync_api import sync_playwright

    with tempfile.TemporaryDirectory(prefix="bt-shot-") as tmp:
        tmp_path = Path(tmp)
        work = tmp_path / "work"
        work.mkdir()
        shutil.copy(NOTEBOOK, work / NOTEBOOK.name)
        env = dict(os.environ)
        for var, sub in {
            "JUPYTER_CONFIG_DIR": "config",
            "JUPYTER_DATA_DIR": "data",
            "JUPYTER_RUNTIME_DIR": "runtime",
            "IPYTHONDIR": "ipython",
            "HOME": "home",
        }.items():
            (tmp_path / sub).mkdir()
            env[var] = str(tmp_path / sub)
        # the sandbox, not live credentials, whatever the caller's environment says
        env["BT_EXPLORE_MODE"] = "sandbox"
        env.pop("BOOKINGTIME_CLIENT_ID", None)
        port, token = free_port(), secrets.token_hex(16)
        url = f"http://127.0.0.1:{port}"
        lab = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "jupyter",
                "lab",
                "--allow-root",
                "--no-browser",
                "--ip=127.0.0.1",
                f"--port={port}",
                f"--ServerApp.token={token}",
                f"--ServerApp.root_dir={work}",
                "--LabApp.extension_manager=readonly",
                "--LabApp.news_url=None",
                "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate",
                "--LabApp.expose_app_in_browser=True",
            ],
            cwd=work,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=open(tmp_path / "lab.log", "w"),
        )
        try:
            wait_for_lab(url, token, lab)
            step(f"jupyter lab up on {url}")
            with sync_playwright() as p:
                context = p.chromium.launch_persistent_context(
                    str(tmp_path / "chromium"),
                    executable_path=args.chromium,
                    headless=True,
                    args=[*CHROMIUM_ARGS, "--lang=en-GB"],
                    viewport={"width": 1500, "height": 2000},
                    locale="en-GB",
                    device_scale_factor=1,
                )
                context.route("**/*", only_loopback)
                page = context.pages[0] if context.pages else context.new_page()
                started = time.monotonic()
                page.goto(f"{url}/lab/tree/{NOTEBOOK.name}?token={token}")
                drive(page, args.out)
                step(f"wrote {args.out} ({time.monotonic() - started:.1f} s in the browser)")
                context.close()
        finally:
            lab.terminate()
            try:
                lab.wait(timeout=15)
            except subprocess.TimeoutExpired:
                lab.kill()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
