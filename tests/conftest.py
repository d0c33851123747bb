"""Shared pytest fixtures."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from bt_explore.sandbox import Sandbox

#: The pinned sandbox clock of the ``sandbox`` fixture: a Tuesday morning in Berlin.
SANDBOX_NOW = "2026-12-01T09:00:00+01:00"


@pytest.fixture
def sandbox() -> Iterator[Sandbox]:
    """A started :class:`~bt_explore.sandbox.Sandbox` with its clock pinned to ``SANDBOX_NOW``."""
    with Sandbox(now=SANDBOX_NOW) as sb:
        yield sb


def pytest_addoption(parser: pytest.Parser) -> None:
    """``--soak-seconds`` / ``--soak-seed``: the budget and seed of tests/test_soak.py's soak;
    ``--fuzz-examples``: the examples per operation of tests/test_sandbox_schemathesis.py."""
    parser.addoption(
        "--fuzz-examples",
        type=int,
        default=6,
        help="generated examples per API operation in the schemathesis contract test "
        "(default 6, on top of its boundary cases)",
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
