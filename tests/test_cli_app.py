"""``bt-explore app``: its arguments, its errors, and a real start that serves the page and stops
on Ctrl-C (the page in a browser: tests/test_browser_app.py)."""

from __future__ import annotations

import base64
import http.client
import importlib.util
import os
import re
import signal
import socket
import sys
import time
import urllib.request
from pathlib import Path

import pytest
from _browser import (
    AppServer,
    alive,
    app_server,
    children,
    descendants,
    left_behind,
    server_environment,
    start_app,
)

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
        port = server.port
    # app_server sent SIGINT and checked exit status 0; nothing listens any more
    assert "booking page stopped" in "".join(server.output)
    assert "sandbox stopped" in "".join(server.output)
    with socket.socket() as s:
        assert s.connect_ex(("127.0.0.1", port)) != 0
    assert Sandbox().client_id not in "".join(server.output)


@needs_voila
def test_live_gives_the_kernel_the_settings_and_shows_no_secret(sandbox):
    secret = "s3cret-never-shown"
    env = _live_environment(sandbox, BOOKINGTIME_CLIENT_SECRET=secret)
    with app_server("--live", env=env) as server:
        assert "on bookingtime (live)" in "".join(server.output)
        page = _get(server.url)
        # the page's kernel authenticates with the settings given to `bt-explore app`
        deadline = time.monotonic() + 30
        while not sandbox.token_requests and time.monotonic() < deadline:
            time.sleep(0.1)
        assert sandbox.token_requests, "the page's kernel never asked the sandbox for a token"
    assert secret not in page and secret not in "".join(server.output)


def _live_environment(sandbox: Sandbox, **extra: str) -> dict[str, str]:
    """``bt-explore app --live``'s environment with ``sandbox`` standing in for bookingtime."""
    return server_environment(
        **{
            "BOOKINGTIME_CLIENT_ID": sandbox.client_id,
            "BOOKINGTIME_CLIENT_SECRET": sandbox.client_secret,
            "BOOKINGTIME_ORGANIZATION_ID": sandbox.organization_id,
            "BOOKINGTIME_AUTH_URL": sandbox.auth_url,
            "BOOKINGTIME_API_URL": sandbox.api_url,
            **extra,
        }
    )


# --- only its own user: Host, Origin and the run's token, for the page and its websocket -----


def _http(port: int, target: str, **headers: str) -> tuple[int, str]:
    """A raw GET of ``target`` on 127.0.0.1:``port`` with exactly these headers (``Host``
    too, when given): the status and the body."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    try:
        connection.request("GET", target, headers=headers)
        answer = connection.getresponse()
        return answer.status, answer.read().decode("utf-8", "replace")
    finally:
        connection.close()


def _websocket(port: int, target: str, **headers: str) -> int:
    """The status of a raw websocket handshake for ``target`` (101: the socket opened)."""
    lines = [
        f"GET {target} HTTP/1.1",
        *(
            f"{k.replace('_', '-')}: {v}"
            for k, v in {"Host": f"127.0.0.1:{port}", **headers}.items()
        ),
        "Upgrade: websocket",
        "Connection: Upgrade",
        f"Sec-WebSocket-Key: {base64.b64encode(os.urandom(16)).decode()}",
        "Sec-WebSocket-Version: 13",
    ]
    with socket.create_connection(("127.0.0.1", port), timeout=30) as s:
        s.sendall(("\r\n".join(lines) + "\r\n\r\n").encode())
        status_line = s.makefile("rb").readline().decode()
    return int(status_line.split()[1])


def _kernel_id(page: str) -> str:
    found = re.search(r'"kernelId":\s*"([0-9a-f-]{36})"', page)
    assert found, "the page names no kernel"
    return found.group(1)


def _refuses_strangers(server: AppServer) -> None:
    port, token = server.port, server.token
    me, stranger = f"127.0.0.1:{port}", f"attacker.example:{port}"
    own_origin = f"http://{me}"

    # the printed address opens the page
    status, page = _http(port, f"/?token={token}", Host=me)
    assert status == 200 and "<title>Book an appointment</title>" in page
    channels = f"/api/kernels/{_kernel_id(page)}/channels"

    # the page: no token, a wrong token, a forged Host (DNS rebinding), a foreign Origin
    for target, headers in [
        ("/", {"Host": me}),
        ("/?token=not-the-token", {"Host": me}),
        (f"/?token={token}", {"Host": stranger}),
        (f"/?token={token}", {"Host": stranger, "Origin": f"http://{stranger}"}),
        (f"/?token={token}", {"Host": me, "Origin": "http://attacker.example"}),
        (f"/?token={token}", {"Host": me, "Origin": "null"}),
    ]:
        status, body = _http(port, target, **headers)
        assert status in (302, 403), (target, headers, status)
        assert "Book an appointment" not in body and "kernelId" not in body, (target, headers)

    # the kernel's websocket: the same, and the token (or its cookie) is what opens it
    assert _websocket(port, f"{channels}?token={token}", Origin=own_origin) == 101
    for target, headers in [
        (channels, {"Origin": own_origin}),
        (f"{channels}?token=not-the-token", {"Origin": own_origin}),
        (f"{channels}?token={token}", {"Host": stranger}),
        (f"{channels}?token={token}", {"Host": stranger, "Origin": f"http://{stranger}"}),
        (f"{channels}?token={token}", {"Origin": "http://attacker.example"}),
        (f"{channels}?token={token}", {"Origin": f"http://localhost:{port + 1}"}),
    ]:
        assert _websocket(port, target, **headers) == 403, (target, headers)


@needs_voila
def test_a_stranger_cannot_load_the_page_or_open_its_websocket():
    with app_server() as server:
        _refuses_strangers(server)
        output = "".join(server.output)
        assert server.token not in output.replace(server.url, "")
        assert "websocket_ping" not in output, "jupyter_server's ping warning on every visit"


@needs_voila
def test_a_stranger_cannot_reach_the_live_page_either(sandbox):
    """``--live`` (with a sandbox standing in for bookingtime): the same refusals."""
    env = _live_environment(sandbox)
    with app_server("--live", env=env) as server:
        assert "on bookingtime (live)" in "".join(server.output)
        _refuses_strangers(server)


def test_each_run_has_its_own_token_and_the_repr_shows_none():
    one, two = PageServer(port=0), PageServer(port=0)
    one.token, two.token = "a" * 43, "b" * 43  # what start() sets
    assert one.url.endswith("/?token=" + "a" * 43) and "token" not in one.address
    assert "a" * 43 not in repr(one)


# --- it ends with its parent --------------------------------------------------------------


@needs_voila
@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
def test_kill_9_leaves_nothing_answering_on_its_port_within_5_s():
    """Also: a kernel that dies is not restarted (a page whose kernel is gone is over)."""
    server = start_app()
    try:
        status, _ = _http(server.port, f"/?token={server.token}")  # a visit: a kernel runs
        assert status == 200
        (voila,) = children(server.process.pid)
        (kernel,) = children(voila)
        os.kill(kernel, signal.SIGKILL)
        time.sleep(3)  # jupyter_client's restarter polls every second
        assert children(voila) == set(), "the killed kernel was restarted"
        under = descendants(server.process.pid)
    finally:
        server.process.kill()  # kill -9: no chance to stop anything
        server.process.wait()
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        with socket.socket() as s:
            answering = s.connect_ex(("127.0.0.1", server.port)) == 0
        left = {pid for pid in under if alive(pid)}
        if not answering and not left:
            break
        time.sleep(0.1)
    assert not answering, f"something still answers on {server.port} 5 s after kill -9"
    assert not left, f"processes of bt-explore app still alive 5 s after kill -9: {left}"


@needs_voila
@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
def test_kill_9_of_a_live_page_ends_its_kernels_too(sandbox):
    """``--live`` (a sandbox standing in for bookingtime): nothing of it outlives it."""
    env = _live_environment(sandbox)
    server = start_app("--live", env=env)
    try:
        assert _http(server.port, f"/?token={server.token}")[0] == 200
        under = descendants(server.process.pid)
        assert len(under) >= 2, "Voilà and the page's kernel"
    finally:
        server.process.kill()
        server.process.wait()
    assert not left_behind(under)


@needs_voila
def test_the_browser_is_sent_a_file_not_the_token(monkeypatch, capsys):
    """The browser's command line (``ps`` shows it to every user) names a redirecting file
    that only its owner can read and that is gone once the page stops."""
    opened = []

    def browser(target):
        path = Path(urllib.request.url2pathname(target.removeprefix("file://")))
        opened.append((target, path.read_text(), path.stat().st_mode & 0o777, path))
        raise KeyboardInterrupt  # the person presses Ctrl-C at once

    monkeypatch.setattr("webbrowser.open", browser)
    assert main(["app", "--port", "0"]) == 0
    ((target, text, mode, path),) = opened
    url = re.search(r"^The booking page.*: (\S+)$", capsys.readouterr().out, re.M).group(1)
    token = url.split("token=")[1]
    assert target.startswith("file://") and token not in target
    assert url in text.replace("&amp;", "&") and mode == 0o600
    assert not path.exists() and not path.parent.exists()
