"""connect(): mode selection, the sandbox it owns, the log line, and the extension point."""

from __future__ import annotations

import importlib
import logging
import subprocess
import sys

import pytest

import bt_explore
from bt_explore import Client, ConfigurationError, Sandbox
from bt_explore.connection import connect, modes
from bt_explore.settings import ENV_VARS

NOW = "2026-12-01T09:00:00+01:00"
connect_module = importlib.import_module("bt_explore.connection")


@pytest.fixture(autouse=True)
def no_configuration(monkeypatch, tmp_path):
    for var in [*ENV_VARS.values(), "BT_EXPLORE_MODE"]:
        monkeypatch.delenv(var, raising=False)
    monkeypatch.chdir(tmp_path)  # no .env from the checkout


def on_sandbox(client):
    """Whether a client talks to a sandbox on this machine."""
    return client.settings.api_url.startswith("http://127.0.0.1:")


def serving(url):
    import requests

    try:
        requests.get(url, timeout=2)
    except requests.ConnectionError:
        return False
    return True


def test_sandbox_mode_starts_a_sandbox_that_stops_with_the_client(caplog):
    with caplog.at_level(logging.INFO, logger="bt_explore.connection"):
        client = connect(mode="sandbox", now=NOW)
    try:
        assert isinstance(client, Client) and on_sandbox(client)
        organization = client.organization()
        assert organization["id"] == client.organization_id
        assert client.now().isoformat().startswith("2026-12-01T08:00")
        lines = [r.getMessage() for r in caplog.records if r.name == "bt_explore.connection"]
        assert len(lines) == 1
        assert "sandbox mode" in lines[0] and client.organization_id in lines[0]
        assert serving(client.settings.api_url)
    finally:
        client.close()
    assert not serving(client.settings.api_url)


def test_a_sandbox_of_yours_is_left_running():
    with Sandbox(now=NOW) as sb:
        with connect(sandbox=sb) as client:
            assert client.settings.api_url == sb.api_url
            assert client.organization()["id"] == sb.organization_id
        assert sb.running
    with pytest.raises(ValueError, match="start it first"):
        connect(sandbox=Sandbox())
    with pytest.raises(ValueError, match="only goes with mode='sandbox'"):
        connect(mode="live", sandbox=sb)
    with pytest.raises(TypeError, match="sandbox must be a bt_explore.Sandbox"):
        connect(sandbox="http://127.0.0.1:1")


def test_sandbox_clock_drives_the_tokens():
    with Sandbox(now=NOW) as sb, connect(sandbox=sb) as client:
        client.organization()
        sb.advance(3600)  # far past every token's expiry
        client.organization()
        grants = [r.grant_type for r in sb.token_requests]
        # renewed ahead of time, never a 401 round trip
        assert grants == ["client_credentials", "refresh_token"] * 2
        assert all(r.status == 200 for r in sb.requests)


def test_default_is_sandbox_without_a_client_id():
    with connect() as client:
        assert on_sandbox(client)


def test_default_is_live_with_a_client_id(monkeypatch):
    monkeypatch.setenv("BOOKINGTIME_CLIENT_ID", "23" + "a" * 30)
    client = connect()
    assert not on_sandbox(client)
    assert client.settings.api_url == "https://api.bookingtime.com/module/v3/"
    client.close()  # nothing was ever sent


def test_default_is_live_with_a_client_id_in_dotenv(tmp_path):
    (tmp_path / ".env").write_text("BOOKINGTIME_CLIENT_ID=23abc\n")
    client = connect()
    assert not on_sandbox(client) and client.settings.client_id == "23abc"


def test_environment_mode_wins(monkeypatch):
    monkeypatch.setenv("BOOKINGTIME_CLIENT_ID", "23abc")
    monkeypatch.setenv("BT_EXPLORE_MODE", "sandbox")
    with connect() as client:
        assert on_sandbox(client)


def test_live_arguments_pass_to_settings():
    client = connect(mode="live", client_id="23abc", organization_id="f6x", locale="de")
    assert (client.settings.client_id, client.organization_id, client.settings.locale) == (
        "23abc",
        "f6x",
        "de",
    )


def test_live_without_client_id_names_argument_and_variable():
    with pytest.raises(ConfigurationError, match="client_id.*BOOKINGTIME_CLIENT_ID"):
        connect(mode="live")


def test_unknown_mode_lists_the_valid_ones(monkeypatch):
    with pytest.raises(ValueError, match="'tape'.*live.*sandbox"):
        connect(mode="tape")
    monkeypatch.setenv("BT_EXPLORE_MODE", "tape")
    with pytest.raises(ValueError, match="BT_EXPLORE_MODE"):
        connect()


def test_unknown_arguments_are_refused():
    with pytest.raises(TypeError, match="colour"):
        connect(mode="live", client_id="23abc", colour="red")
    with pytest.raises(TypeError, match="client_id"):
        connect(mode="sandbox", client_id="23abc")  # the sandbox brings its own credentials


def test_live_and_sandbox_ignore_a_cassette_name():
    # one notebook line, connect(cassette="walkthrough"), serves every mode
    client = connect(mode="live", client_id="23abc", cassette="walkthrough")
    assert not on_sandbox(client)


def test_modes_are_the_four():
    assert modes() == ["live", "record", "replay", "sandbox"]


def test_bt_explore_connect_is_the_function_however_it_was_imported(tmp_path):
    code = (
        "import bt_explore.connection, bt_explore; "  # the submodule has its own name
        "c = bt_explore.connect(mode='live', client_id='23x', env_file=None); "
        "print(type(c).__name__)"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=tmp_path, capture_output=True, text=True, timeout=60
    )
    assert done.stdout.strip() == "Client", done.stderr
    assert callable(bt_explore.connect)


def test_readme_client_snippets_run(capsys):
    from _docs import read, snippets

    blocks = [
        b
        for b in snippets(read("client"))
        if 'now="2026-12-01T09:00:00+01:00"' in b
        and "connect(" in b
        and b.lstrip().startswith(("import", "from"))
        and "with " in b
    ]
    assert len(blocks) >= 3
    for block in blocks:
        exec(compile(block, "docs/client.md", "exec"), {})
    out = capsys.readouterr().out
    assert "Test AppointmentTemplate 2026-12-01T11:00:00+01:00" in out
    assert "bookingSlotId: The booking slot is no longer available." in out
    assert "order-4711 2026-12-01T11:00:00+01:00" in out


def test_live_mode_on_a_local_server_is_logged_as_that_not_as_bookingtime(sb, caplog):
    # `bt-explore demo --user --sandbox URL` connects in live mode to a sandbox of this machine
    caplog.set_level("INFO", logger="bt_explore.connection")
    with bt_explore.connect(
        mode="live",
        client_id=sb.client_id,
        organization_id=sb.organization_id,
        auth_url=sb.auth_url,
        api_url=sb.api_url,
    ):
        pass
    lines = [r.getMessage() for r in caplog.records if r.name == "bt_explore.connection"]
    assert lines == [
        f"connected to the server at {sb.api_url} on this machine, "
        f"organization {sb.organization_id}"
    ]
