"""The subcommands of ``bt-explore`` (one module each) and what long-running ones share."""

from __future__ import annotations

import signal
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any


def _interrupt(_signum: int, _frame: Any) -> None:
    raise KeyboardInterrupt


@contextmanager
def sigterm_as_ctrl_c() -> Iterator[None]:
    """Within the block, SIGTERM (e.g. ``kill``) raises ``KeyboardInterrupt`` like Ctrl-C, so a
    server command stops as cleanly either way (background jobs may ignore SIGINT). Outside the
    main thread it changes nothing: Ctrl-C handling is then the caller's.

    Example:
        >>> with sigterm_as_ctrl_c():
        ...     pass
    """
    try:
        previous = signal.signal(signal.SIGTERM, _interrupt)
    except ValueError:  # not the main thread
        previous = None
    try:
        yield
    finally:
        if previous is not None:
            signal.signal(signal.SIGTERM, previous)
