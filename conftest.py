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
