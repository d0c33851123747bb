"""A real browser (Chromium via Playwright, loopback only) signs in on the sandbox's page for
``bt-explore login``, and the login completes (the harness: tests/_browser.py)."""

from __future__ import annotations

import queue
import threading
import webbrowser

import bt_explore.signin as signin
from bt_explore.cli import main


def test_chromium_signs_in_for_bt_explore_login(sandbox, monkeypatch, tmp_path, capsys, browser):
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
        page = browser.page
        page.goto(url)
        page.fill("input[name=username]", "ada@example.com")
        page.fill("input[name=password]", "ada-demo")
        page.click("#allow")
        page.wait_for_selector("text=You can close this tab", timeout=10_000)
        assert page.url.startswith("http://127.0.0.1:")
    finally:
        login.join(timeout=25)
    assert not login.is_alive() and result["rc"] == 0
    assert "signed in: ada" in capsys.readouterr().out
    assert [e["user"] for e in signin.TokenStore().entries()] == ["ada"]
    assert browser.guard.aborted == []
