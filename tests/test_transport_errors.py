"""A request that gets no answer says what happened and where: the host that could not be
resolved or reached (never a token), whether the request surely was not sent; the command line
shows that one line, without urllib3's retry warnings."""

from __future__ import annotations

import socket

import pytest

import bt_explore
from bt_explore import Settings, TransportError
from bt_explore.cli import main


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def no_dns(monkeypatch):
    """Name resolution fails as it does without a network (nothing is sent anywhere)."""
    real = socket.getaddrinfo

    def getaddrinfo(host, *args, **kwargs):
        if host == "auth.bookingtime.invalid" or host == "api.bookingtime.invalid":
            raise socket.gaierror(socket.EAI_AGAIN, "Temporary failure in name resolution")
        return real(host, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)


def _client(
    auth_url: str,
    api_url: str,
    client_id: str = "23" + "a" * 30,
    organization_id: str = "f6" + "a" * 30,
) -> bt_explore.Client:
    settings = Settings(
        client_id=client_id,
        organization_id=organization_id,
        auth_url=auth_url,
        api_url=api_url,
        timeout="1",
        env_file=None,
    )
    return bt_explore.Client(settings)


def test_an_unresolvable_token_host_is_named(no_dns):
    with _client(
        "https://auth.bookingtime.invalid/oauth/token", "http://127.0.0.1:9/module/v3/"
    ) as client:
        with pytest.raises(TransportError) as caught:
            client.organization()
    message = str(caught.value)
    assert "cannot resolve the host auth.bookingtime.invalid" in message
    assert "token request" in message and caught.value.sent is False


def test_a_refused_api_connection_names_host_and_port():
    with bt_explore.Sandbox() as sb:
        port = _closed_port()
        api = f"http://127.0.0.1:{port}/module/v3/"
        with _client(sb.auth_url, api, sb.client_id, sb.organization_id) as client:
            with pytest.raises(TransportError) as caught:
                client.organization()
    assert f"connection refused by 127.0.0.1:{port}" in str(caught.value)
    assert caught.value.sent is False


def test_live_demo_without_network_ends_on_one_line_naming_the_host(no_dns, monkeypatch, capsys):
    monkeypatch.setenv("BOOKINGTIME_CLIENT_ID", "23" + "a" * 30)
    monkeypatch.setenv("BOOKINGTIME_ORGANIZATION_ID", "f6" + "a" * 30)
    monkeypatch.setenv("BOOKINGTIME_AUTH_URL", "https://auth.bookingtime.invalid/oauth/token")
    monkeypatch.setenv("BOOKINGTIME_API_URL", "https://api.bookingtime.invalid/module/v3/")
    assert main(["demo", "--live"]) == 1
    err = capsys.readouterr().err
    assert "Retrying" not in err and "urllib3" not in err, err
    last = err.strip().splitlines()[-1]
    assert "cannot resolve the host auth.bookingtime.invalid" in last, err
