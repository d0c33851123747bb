"""Root pytest configuration: applies to tests/ and to the notebooks nbval runs."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent


#: The variables bt_explore reads; a developer's own must never change a test's result.
_OURS = ("BOOKINGTIME_", "BT_EXPLORE_")
#: Not notebooks to test: the booking page's notebook calls connect() with the settings that
#: `bt-explore app` gives its kernel (tests/test_browser_app.py serves it in a real browser).
collect_ignore = ["bt_explore/app/booking_app.ipynb"]
#: What this test session sets for itself (decided once, in pytest_configure).
_SESSION_ENV: dict[str, str] = {}


def pytest_configure(config: pytest.Config) -> None:
    """Tests run the same whatever the environment holds: every ``BOOKINGTIME_*`` and
    ``BT_EXPLORE_*`` variable is removed, and the notebooks replay their cassettes.

    nbval's kernels are separate processes that no fixture reaches: they inherit this cleaned
    environment, and select replay mode from it (``connect()`` reads ``BT_EXPLORE_MODE``).
    ``bt-explore record`` runs the tests with ``BT_EXPLORE_MODE=record`` to re-record the
    cassettes: its variables are kept, and with ``--live`` the credentials too.
    """
    recording = os.environ.get("BT_EXPLORE_MODE") == "record"
    live = recording and os.environ.get("BT_EXPLORE_RECORD_LIVE") == "1"
    kept = {
        k: v
        for k, v in os.environ.items()
        if (recording and k.startswith("BT_EXPLORE_")) or (live and k.startswith("BOOKINGTIME_"))
    }
    for name in [k for k in os.environ if k.startswith(_OURS)]:
        del os.environ[name]
    _SESSION_ENV.update(
        {"BT_EXPLORE_MODE": "replay", "BT_EXPLORE_CASSETTE_DIR": str(ROOT / "cassettes"), **kept}
    )
    os.environ.update(_SESSION_ENV)


@pytest.fixture(autouse=True)
def _clean_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Each test starts with only the session's own variables and in an empty working
    directory, so no ``.env`` is read unless the test writes one (or names one) itself."""
    for name in [k for k in os.environ if k.startswith(_OURS) and k not in _SESSION_ENV]:
        monkeypatch.delenv(name)
    for name, value in _SESSION_ENV.items():
        monkeypatch.setenv(name, value)
    monkeypatch.chdir(tmp_path)


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
