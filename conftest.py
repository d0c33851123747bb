"""Root pytest configuration: applies to tests/ and to the notebooks nbval runs."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent


def pytest_configure(config: pytest.Config) -> None:
    """Notebooks replay their cassettes: nbval's kernels inherit these variables.

    The kernel is a separate process that no pytest fixture reaches, so the notebooks select
    replay mode from the environment (``bt_explore.connect()`` reads ``BT_EXPLORE_MODE``).
    ``bt-explore record`` sets ``BT_EXPLORE_MODE=record`` itself, which is kept.
    """
    os.environ.setdefault("BT_EXPLORE_MODE", "replay")
    os.environ.setdefault("BT_EXPLORE_CASSETTE_DIR", str(ROOT / "cassettes"))


_LOOPBACK_NAMES = {"localhost", "127.0.0.1", "::1", "ip6-localhost"}


def _is_loopback(host: object) -> bool:
    if isinstance(host, bytes):
        host = host.decode()
    if not isinstance(host, str):
        return True  # AF_UNIX paths and the like: not a network address
    return host in _LOOPBACK_NAMES or host.startswith("127.")


@pytest.fixture(autouse=True, scope="session")
def _loopback_only():
    """Every test talks only to 127.0.0.1: resolving or connecting elsewhere fails at once.

    CI also runs the tests in a network namespace with only loopback; this guard makes the
    same promise on a developer's machine (and names the culprit instead of timing out).
    """
    import socket

    real_getaddrinfo, real_connect = socket.getaddrinfo, socket.socket.connect

    def getaddrinfo(host, *args, **kwargs):
        if host is not None and not _is_loopback(host):
            raise OSError(f"tests may only reach 127.0.0.1, not {host!r}")
        return real_getaddrinfo(host, *args, **kwargs)

    def connect(self, address):
        if isinstance(address, tuple) and not _is_loopback(address[0]):
            raise OSError(f"tests may only reach 127.0.0.1, not {address[0]!r}")
        return real_connect(self, address)

    socket.getaddrinfo, socket.socket.connect = getaddrinfo, connect
    try:
        yield
    finally:
        socket.getaddrinfo, socket.socket.connect = real_getaddrinfo, real_connect
