"""``bt-explore app``: its arguments, its errors, and a real start that serves the page and stops
on Ctrl-C (the page in a browser: tests/test_browser_app.py)."""

from __future__ import annotations

import importlib.util
import socket
import time
import urllib.request

import pytest
from _browser import app_server, server_environment

from bt_explore.app import PageServer, kernel_environment
from bt_explore.cli import main
from bt_explore.sandbox import Sandbox
from bt_explore.settings import Settings

needs_voila = pytest.mark.skipif(
    importlib.util.find_spec("voila") is None, reason="voila is not installed"
)


def test_help_names_the_options(capsys):
    with pytest.raises(SystemExit) as exit_:
        main(["app", "--help"])
    assert exit_.value.code == 0
    out = capsys.readouterr().out
    for option in ("--live", "--port", "--no-browser", "8866", "0 = any free one"):
        assert option in out


@pytest.mark.parametrize(
    "value,message",
    [("-1", "-1 is not a port"), ("70000", "70000 is not a port"), ("web", "not a port number")],
)
def test_a_bad_port_is_an_argument_error(value, message, capsys):
    with pytest.raises(SystemExit) as exit_:
        main(["app", "--port", value])
    assert exit_.value.code == 2
    assert message in capsys.readouterr().err


def test_live_without_credentials_says_what_is_missing_and_starts_nothing(capsys, monkeypatch):
    started = []
    monkeypatch.setattr("subprocess.Popen", lambda *a, **k: started.append(a))
    assert main(["app", "--live", "--no-browser"]) == 1
    err = capsys.readouterr().err
    assert err.startswith("bt-explore app: no client id") and "BOOKINGTIME_CLIENT_ID" in err
    assert started == []


def test_without_voila_it_names_the_extra(capsys, monkeypatch):
    real = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util, "find_spec", lambda name, *a: None if name == "voila" else real(name, *a)
    )
    assert main(["app", "--no-browser"]) == 1
    err = capsys.readouterr().err
    assert "bt-explore app needs voila" in err and "pip install 'bt_explore[app]'" in err


@needs_voila
def test_a_taken_port_is_an_error_not_a_silent_switch(capsys):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        assert main(["app", "--no-browser", "--port", str(port)]) == 1
    err = capsys.readouterr().err
    assert f"cannot serve the page on 127.0.0.1:{port}" in err and "--port 0" in err


def test_the_kernel_gets_the_settings_and_live_mode_only():
    settings = Settings(client_id="23x", client_secret="s3cret", env_file=None)
    base = {"BOOKINGTIME_ORGANIZATION_ID": "f6old", "BT_EXPLORE_MODE": "replay", "PATH": "/bin"}
    env = kernel_environment(settings, sandbox=True, base=base)
    assert env["BT_EXPLORE_MODE"] == "live" and env["BT_EXPLORE_APP_SANDBOX"] == "1"
    assert env["BOOKINGTIME_CLIENT_SECRET"] == "s3cret" and env["PATH"] == "/bin"
    assert "BOOKINGTIME_ORGANIZATION_ID" not in env, "not the caller's: the settings' (none)"
    assert env["BOOKINGTIME_TIMEOUT"] == "5.0,30.0"
    assert "BT_EXPLORE_APP_SANDBOX" not in kernel_environment(settings, base=base)


def test_page_server_checks_its_port():
    with pytest.raises(ValueError, match="port must be 0"):
        PageServer(port=99999)


def _get(url: str) -> str:
    with urllib.request.urlopen(url, timeout=60) as answer:
        assert answer.status == 200
        return answer.read().decode()


@needs_voila
def test_serves_the_page_on_port_0_and_stops_on_ctrl_c():
    with app_server() as server:
        assert "on the built-in sandbox (offline)" in "".join(server.output)
        page = _get(server.url)  # Voilà runs the page's notebook for this visit
        assert "<title>Book an appointment</title>" in page
        for text in ("import bt_explore", "booking_page(", "cassette="):
            assert text not in page, f"the page's HTML carries notebook source {text!r}"
        assert Sandbox().client_id not in page
        port = int(server.url.rsplit(":", 1)[1].strip("/"))
    # app_server sent SIGINT and checked exit status 0; nothing listens any more
    assert "booking page stopped" in "".join(server.output)
    assert "sandbox stopped" in "".join(server.output)
    with socket.socket() as s:
        assert s.connect_ex(("127.0.0.1", port)) != 0
    assert Sandbox().client_id not in "".join(server.output)


@needs_voila
def test_live_gives_the_kernel_the_settings_and_shows_no_secret(sandbox):
    secret = "s3cret-never-shown"
    env = server_environment(
        BOOKINGTIME_CLIENT_ID=sandbox.client_id,
        BOOKINGTIME_CLIENT_SECRET=secret,
        BOOKINGTIME_ORGANIZATION_ID=sandbox.organization_id,
        BOOKINGTIME_AUTH_URL=sandbox.auth_url,
        BOOKINGTIME_API_URL=sandbox.api_url,
    )
    with app_server("--live", env=env) as server:
        assert "on bookingtime (live)" in "".join(server.output)
        page = _get(server.url)
        # the page's kernel authenticates with the settings given to `bt-explore app`
        deadline = time.monotonic() + 30
        while not sandbox.token_requests and time.monotonic() < deadline:
            time.sleep(0.1)
        assert sandbox.token_requests, "the page's kernel never asked the sandbox for a token"
    assert secret not in page and secret not in "".join(server.output)
