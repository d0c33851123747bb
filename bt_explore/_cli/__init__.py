"""The subcommands of ``bt-explore`` (one module each) and what long-running ones share."""

from __future__ import annotations

import signal
import sys
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


#: Where a person learns how to get bookingtime credentials.
CREDENTIALS_HELP = "docs/client.md#getting-credentials"


def missing_live_settings(command: str) -> int | None:
    """For ``--live``: ``None`` when a client id and an organization are configured, else print
    what to set (or to drop ``--live``) as one line on stderr and return exit status 2.

    Example:
        >>> import contextlib, io
        >>> with contextlib.redirect_stderr(io.StringIO()) as err:
        ...     status = missing_live_settings("demo")  # nothing configured in the doctests
        >>> status, err.getvalue().split(":")[0]
        (2, 'bt-explore demo --live')
    """
    from bt_explore.settings import Settings

    settings = Settings()
    missing = [
        name
        for name, value in (
            ("BOOKINGTIME_CLIENT_ID", settings.client_id),
            ("BOOKINGTIME_ORGANIZATION_ID", settings.organization_id),
        )
        if not value
    ]
    if not missing:
        return None
    print(
        f"bt-explore {command} --live: no bookingtime credentials: set {' and '.join(missing)} "
        "(in the environment or a .env file), or drop --live to use the built-in sandbox; "
        f"how to get them: {CREDENTIALS_HELP}",
        file=sys.stderr,
    )
    return 2
