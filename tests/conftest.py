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
