"""A real browser (Chromium via Playwright, loopback only) signs in on the sandbox's page for
``bt-explore login``, and the login completes."""

from __future__ import annotations

import queue
import shutil
import threading
import webbrowser
from pathlib import Path

import pytest

import bt_explore.signin as signin
from bt_explore.cli import main

CHROMIUM = "/usr/bin/chromium"
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def _loopback(route) -> None:
    host = route.request.url.split("/")[2].rsplit(":", 1)[0]
    if host in ("127.0.0.1", "[::1]"):
        route.continue_()
    else:
        route.abort()


def test_chromium_signs_in_for_bt_explore_login(sandbox, monkeypatch, tmp_path, capsys):
    sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed")
    if not Path(CHROMIUM).exists() and not shutil.which("chromium"):
        pytest.skip(f"chromium is not installed ({CHROMIUM})")
    monkeypatch.setenv(signin.CONFIG_DIR_ENV, str(tmp_path / "config"))
    urls: queue.Queue[str] = queue.Queue()
    monkeypatch.setattr(webbrowser, "open", lambda url, *a, **k: urls.put(url) or True)
    result: dict[str, int] = {}
    login = threading.Thread(
        target=lambda: result.update(
            rc=main(["login", "--sandbox", sandbox.base_url, "--timeout", "20"])
        )
    )
    login.start()
    try:
        url = urls.get(timeout=10)
        with sync_api.sync_playwright() as p:
            context = p.chromium.launch_persistent_context(
                str(tmp_path / "profile"),
                executable_path=CHROMIUM,
                headless=True,
                args=ARGS,
            )
            try:
                context.route("**/*", _loopback)
                page = context.new_page()
                page.goto(url)
                page.fill("input[name=username]", "ada@example.com")
                page.fill("input[name=password]", "ada-demo")
                page.click("#allow")
                page.wait_for_selector("text=You can close this tab", timeout=10_000)
                assert page.url.startswith("http://127.0.0.1:")
            finally:
                context.close()
    finally:
        login.join(timeout=25)
    assert not login.is_alive() and result["rc"] == 0
    assert "signed in: ada" in capsys.readouterr().out
    assert [e["user"] for e in signin.TokenStore().entries()] == ["ada"]
