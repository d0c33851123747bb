"""The sign-in store and the commands over it from the outside: ``bt-explore logout`` ends
access (revocation) and removes any file, ``whoami`` never crashes and prints no control
characters, concurrent saves lose nothing, permissions are enforced, expiry is judged on the
server's clock, stray callbacks are ignored."""

from __future__ import annotations

import logging
import multiprocessing
import os
import stat
import threading
import webbrowser

import msgspec
import pytest
import requests

import bt_explore
import bt_explore.signin as signin
from bt_explore.auth import PersonGrant
from bt_explore.cli import main
from bt_explore.sandbox.authorize import headless_browser

ADA = headless_browser("ada@example.com", "ada-demo")


@pytest.fixture(autouse=True)
def config(monkeypatch, tmp_path):
    """Sign-ins are stored under tmp_path; no test opens the system browser."""
    folder = tmp_path / "config"
    monkeypatch.setenv(signin.CONFIG_DIR_ENV, str(folder))
    monkeypatch.setattr(webbrowser, "open", lambda url, *a, **k: ADA(url) or True)
    return folder


def _stored_token() -> str:
    (entry,) = msgspec.json.decode(signin.TokenStore().path.read_bytes()).values()
    return entry["refresh_token"]


# --- logout ends access --------------------------------------------------------------------------


def test_after_logout_the_old_refresh_token_gets_invalid_grant(sandbox, capsys):
    assert main(["login", "--sandbox", sandbox.base_url, "--timeout", "5"]) == 0
    token = _stored_token()
    form = {"grant_type": "refresh_token", "client_id": sandbox.client_id, "refresh_token": token}
    assert requests.post(sandbox.auth_url, data=form, timeout=5).status_code == 200

    assert main(["logout"]) == 0
    out = capsys.readouterr().out
    assert "signed out ada" in out and "revoked at" in out and token not in out
    answer = requests.post(sandbox.auth_url, data=form, timeout=5)
    assert answer.status_code == 400 and answer.json()["error"] == "invalid_grant"
    assert not signin.TokenStore().path.exists()


def test_logout_says_when_the_server_offers_no_revocation(capsys):
    store = signin.TokenStore()
    # an auth server nobody answers for (as bookingtime's, whose revocation endpoint is unknown)
    with socket_free_port() as port:
        auth_url = f"http://127.0.0.1:{port}/oauth/token"
    store.save("23" + "a" * 30, auth_url, PersonGrant("opaque-token-value", user="ada"))
    assert main(["logout"]) == 0
    out = capsys.readouterr().out
    assert "advertises no token revocation endpoint" in out
    assert "withdraw the application's access in your bookingtime account" in out
    assert "opaque-token-value" not in out and not store.path.exists()


def test_logout_says_when_revocation_fails(sandbox, capsys):
    assert main(["login", "--sandbox", sandbox.base_url, "--timeout", "5"]) == 0
    sandbox.set_faults(paths="^/oauth/revoke", script=[503])
    assert main(["logout"]) == 1
    out = capsys.readouterr().out
    assert (
        "failed (503 temporarily_unavailable: 503 " in out and "stays valid until it expires" in out
    )
    assert not signin.TokenStore().path.exists()


class socket_free_port:  # noqa: N801 - used as a context manager
    def __enter__(self) -> int:
        import socket

        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        return self.sock.getsockname()[1]

    def __exit__(self, *exc: object) -> None:
        self.sock.close()


# --- odd files -----------------------------------------------------------------------------------

ENTRY = {
    "client_id": "23" + "a" * 30,
    "auth_url": "http://127.0.0.1:9/oauth/token",
    "user": "ada",
    "expires_at": 1.0e9,
    "refresh_token": "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ4In0.c2ln",
}
KEY = f"{ENTRY['client_id']} {ENTRY['auth_url']}"
GOOD = msgspec.json.encode({KEY: ENTRY})

ODD_FILES = {
    "truncated": GOOD[: len(GOOD) // 2],
    "empty": b"",
    "garbage": b"\x00\xff\xfe not json at all",
    "a JSON list": b"[1, 2, 3]",
    "a JSON string": b'"signin"',
    "int client_id": msgspec.json.encode({KEY: {**ENTRY, "client_id": 23}}),
    "expires_at 1e300": msgspec.json.encode({KEY: {**ENTRY, "expires_at": 1e300}}),
    "expires_at a string": msgspec.json.encode({KEY: {**ENTRY, "expires_at": "soon"}}),
    "user a list": msgspec.json.encode({KEY: {**ENTRY, "user": ["ada"]}}),
    "an entry that is a list": msgspec.json.encode({KEY: [1]}),
    "deeply nested": b"[" * 100_000 + b"]" * 100_000,
}


def _plant(path, content) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    if content is None:
        path.mkdir()
    else:
        path.write_bytes(content)
        path.chmod(0o600)


@pytest.mark.parametrize("kind", [*ODD_FILES, "a folder"])
def test_an_unreadable_file_is_reported_by_whoami_and_removed_by_logout(kind, capsys):
    path = signin.TokenStore().path
    _plant(path, ODD_FILES.get(kind))
    assert main(["whoami"]) == 1
    out = capsys.readouterr().out
    assert "cannot be read" in out and "bt-explore logout" in out

    assert main(["logout"]) == 0
    out = capsys.readouterr().out
    assert f"removed {path}" in out and "could not be read" in out
    assert not path.exists() and not path.is_dir()
    assert main(["whoami"]) == 1 and "nobody is signed in" in capsys.readouterr().out


def test_a_file_with_a_byte_order_mark_is_read_and_its_sign_in_revoked(sandbox, capsys):
    assert main(["login", "--sandbox", sandbox.base_url, "--timeout", "5"]) == 0
    path = signin.TokenStore().path
    token = _stored_token()
    path.write_bytes(b"\xef\xbb\xbf" + path.read_bytes())
    assert main(["whoami"]) == 0 and "ada for client" in capsys.readouterr().out
    assert main(["logout"]) == 0 and "revoked" in capsys.readouterr().out
    form = {"grant_type": "refresh_token", "client_id": sandbox.client_id, "refresh_token": token}
    assert requests.post(sandbox.auth_url, data=form, timeout=5).status_code == 400
    assert not path.exists()


def test_a_sign_in_replaces_an_unreadable_file(sandbox, capsys):
    _plant(signin.TokenStore().path, b"[garbage")
    assert main(["login", "--sandbox", sandbox.base_url, "--timeout", "5"]) == 0
    assert "signed in: ada" in capsys.readouterr().out
    assert [e["user"] for e in signin.TokenStore().entries()] == ["ada"]


# --- what whoami prints -----------------------------------------------------------------------


def test_whoami_strips_terminal_control_characters(capsys):
    evil = "ada\x1b[2J\x1b]0;owned\x07\x1b[31m red\u202e\x9b1m\r\n"
    signin.TokenStore().save(
        "23" + "a" * 30 + "\x1b[1m",
        "http://127.0.0.1:9/\x1b[5moauth/token",
        PersonGrant("t", user=evil),
    )
    assert main(["whoami"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("ada red for client 23aa…")
    for bad in ("\x1b", "\x07", "\u202e", "\x9b", "\r"):
        assert bad not in out
    assert out.count("\n") == 1


@pytest.mark.parametrize("how", ["bt-explore login", "bt_explore.login(remember=True)"])
def test_a_fresh_sign_in_to_a_pinned_sandbox_is_not_shown_expired(sandbox, capsys, how):
    """The sandbox's clock is pinned days before this computer's: validity is the server's."""
    if how == "bt-explore login":
        assert main(["login", "--sandbox", sandbox.base_url, "--timeout", "5"]) == 0
    else:
        bt_explore.login(sandbox=sandbox, open_browser=False, show_url=ADA, remember=True).close()
    capsys.readouterr()
    assert main(["whoami"]) == 0
    out = capsys.readouterr().out
    assert out.endswith("— valid until 2026-12-01T08:30:00+00:00\n"), out


# --- concurrency, permissions ---------------------------------------------------------------------


def _save_many(path: str, worker: int, count: int) -> None:
    store = signin.TokenStore(path)
    for i in range(count):
        store.save(f"23w{worker}n{i}", "http://127.0.0.1:9/oauth/token", PersonGrant(f"t{i}"))


def test_concurrent_saves_from_threads_lose_nothing(config):
    path = str(config / "signin.json")
    threads = [threading.Thread(target=_save_many, args=(path, w, 15)) for w in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(signin.TokenStore(path).entries()) == 120


def test_concurrent_saves_from_processes_lose_nothing(config):
    path = str(config / "signin.json")
    ctx = multiprocessing.get_context("spawn")
    workers = [ctx.Process(target=_save_many, args=(path, w, 30)) for w in range(4)]
    for p in workers:
        p.start()
    for p in workers:
        p.join(60)
    assert [p.exitcode for p in workers] == [0, 0, 0, 0]
    assert len(signin.TokenStore(path).entries()) == 120
    leftovers = [p.name for p in config.iterdir() if p.name.startswith(".signin-")]
    assert leftovers == []


def test_a_wider_file_or_folder_is_tightened_with_a_warning(config, caplog):
    store = signin.TokenStore()
    store.save("23" + "a" * 30, "http://127.0.0.1:9/oauth/token", PersonGrant("t", user="ada"))
    assert stat.S_IMODE(os.stat(config).st_mode) == 0o700
    store.path.chmod(0o644)
    config.chmod(0o777)
    with caplog.at_level(logging.WARNING, logger="bt_explore"):
        assert [e["user"] for e in store.entries()] == ["ada"]
    assert stat.S_IMODE(os.stat(store.path).st_mode) == 0o600
    assert stat.S_IMODE(os.stat(config).st_mode) == 0o700
    assert "open to others (mode 0o644); tightened to 0o600" in caplog.text
    assert "open to others (mode 0o777); tightened to 0o700" in caplog.text


def test_an_existing_wide_config_folder_is_tightened_on_the_first_save(config):
    config.mkdir(mode=0o777)
    config.chmod(0o777)
    signin.TokenStore().save("23x", "u", PersonGrant("t"))
    assert stat.S_IMODE(os.stat(config).st_mode) == 0o700


def test_a_folder_the_caller_chose_is_only_warned_about(tmp_path, caplog):
    shared = tmp_path / "shared"
    shared.mkdir()
    shared.chmod(0o1777)  # like /tmp: never ours to change
    with caplog.at_level(logging.WARNING, logger="bt_explore"):
        signin.TokenStore(shared / "signin.json").save("23x", "u", PersonGrant("t"))
    assert stat.S_IMODE(os.stat(shared).st_mode) == 0o1777
    assert "is open to others (mode 0o1777); keep sign-ins in a folder only you" in caplog.text
    assert stat.S_IMODE(os.stat(shared / "signin.json").st_mode) == 0o600


# --- the callback ---------------------------------------------------------------------------------


@pytest.mark.parametrize("stray", ["?code=evil&state=forged", "?code=evil", "?error=access_denied"])
def test_stray_callback_hits_are_ignored_until_the_right_one_arrives(sandbox, stray):
    def browser(url):
        redirect_uri = signin.parse_qs(signin.urlsplit(url).query)["redirect_uri"][0]
        hit = requests.get(redirect_uri + stray, timeout=5)  # another local program
        assert hit.status_code == 400 and "ignored" in hit.text
        ADA(url)

    with bt_explore.login(
        sandbox=sandbox, open_browser=False, show_url=browser, sign_in_timeout=5
    ) as client:
        assert client.organization()["id"] == sandbox.organization_id
