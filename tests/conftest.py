"""Shared pytest fixtures."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import _browser
import pytest

import bt_explore
from bt_explore.client import Client, default_retry
from bt_explore.sandbox import Sandbox

#: The pinned sandbox clock of the ``sandbox`` fixture: a Tuesday morning in Berlin.
SANDBOX_NOW = "2026-12-01T09:00:00+01:00"


@pytest.fixture
def sandbox() -> Iterator[Sandbox]:
    """A started :class:`~bt_explore.sandbox.Sandbox` with its clock pinned to ``SANDBOX_NOW``."""
    with Sandbox(now=SANDBOX_NOW) as sb:
        yield sb


@pytest.fixture
def sb(sandbox: Sandbox) -> Sandbox:
    """The ``sandbox`` fixture under the short name most tests use."""
    return sandbox


@pytest.fixture
def client(sb: Sandbox) -> Iterator[Client]:
    """A client of ``sb`` (``connect(sandbox=sb)``) whose retries do not back off, so a test
    of failures waits for nothing; closed after the test."""
    with bt_explore.connect(sandbox=sb, retry=default_retry(backoff_factor=0)) as c:
        yield c


@pytest.fixture
def browser(tmp_path) -> Iterator[_browser.Browser]:
    """Headless Debian Chromium (Playwright) in a throw-away profile; every request that is
    not to 127.0.0.1 is aborted and listed in ``browser.guard.aborted``."""
    with _browser.chromium(tmp_path / "chromium") as session:
        yield session


@pytest.fixture(scope="session")
def artifacts(pytestconfig) -> Path:
    """The browser tests' artefact folder: ``test-artifacts/browser/`` or ``--artifacts DIR``."""
    return Path(pytestconfig.getoption("artifacts") or _browser.ARTIFACTS) / "browser"


@pytest.fixture
def screenshots(request, artifacts) -> _browser.Screenshots:
    """Numbered step screenshots in ``<artifacts>/<test name>/``."""
    return _browser.Screenshots(artifacts / request.node.name)


@pytest.fixture(scope="module")
def booking_app() -> Iterator[_browser.AppServer]:
    """``bt-explore app --no-browser --port 0`` (on its own sandbox) for a module's tests;
    stopped with Ctrl-C (SIGINT) afterwards, which must end it cleanly."""
    _browser.sync_api()  # skip before starting a server no browser can visit
    with _browser.app_server() as server:
        yield server


@pytest.fixture(scope="module")
def jupyter(tmp_path_factory) -> Iterator[_browser.Lab]:
    """JupyterLab (isolated, offline) serving a copy of notebooks/02_booking_explorer.ipynb,
    whose kernel books on a sandbox of its own."""
    _browser.sync_api()
    home = tmp_path_factory.mktemp("lab")
    root = home / "work"
    root.mkdir()
    shutil.copy(_browser.ROOT / "notebooks" / "02_booking_explorer.ipynb", root)
    with _browser.jupyter_lab(home, root, BT_EXPLORE_MODE="sandbox") as lab:
        yield lab


def pytest_addoption(parser: pytest.Parser) -> None:
    """``--soak-seconds`` / ``--soak-seed``: the budget and seed of tests/test_soak.py's soak;
    ``--artifacts`` / ``--readme-screenshot``: the browser tests' outputs; ``--fuzz-examples``: the examples per operation of tests/test_sandbox_schemathesis.py."""
    parser.addoption(
        "--fuzz-examples",
        type=int,
        default=6,
        help="generated examples per API operation in the schemathesis contract test "
        "(default 6, on top of its boundary cases)",
    )
    browser = parser.getgroup("bt_explore browser tests (pytest -m browser)")
    browser.addoption(
        "--artifacts",
        metavar="DIR",
        default=None,
        help="where the browser tests save step screenshots and timings.json, under browser/ "
        "(default: test-artifacts/ in the checkout)",
    )
    browser.addoption(
        "--readme-screenshot",
        metavar="PATH",
        nargs="?",
        const=str(_browser.README_SCREENSHOT),
        default=None,
        help="the JupyterLab booking test also saves the booked explorer there "
        "(default: docs/images/booking_explorer.png)",
    )
    parser.addoption(
        "--sandbox-dialect",
        choices=("clean", "php"),
        default=None,
        help="the answer dialect of every in-process Sandbox whose test names none (default "
        "clean): run the user-level tests against the PHP shapes with --sandbox-dialect php",
    )
    group = parser.getgroup("bt_explore soak")
    group.addoption(
        "--soak-seconds",
        type=float,
        default=2.0,
        help="wall-clock budget of the random soak in tests/test_soak.py (default 2; "
        "its operations are capped at 40 per second as well)",
    )
    group.addoption(
        "--soak-seed",
        type=int,
        default=11,
        help="seed of the random soak's choices and faults (default 11)",
    )


def pytest_configure(config: pytest.Config) -> None:
    """``--sandbox-dialect``: the default dialect of this run's in-process sandboxes."""
    chosen = config.getoption("sandbox_dialect", default=None)
    if chosen:
        import bt_explore.sandbox.dialect as dialects

        dialects.DEFAULT_DIALECT = chosen
