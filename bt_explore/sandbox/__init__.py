"""A local, stateful emulator of bookingtime's auth server and Module API v3.

``Sandbox`` serves it over real HTTP on 127.0.0.1; ``create_app`` builds the bare Flask app over
a ``SandboxState`` (for Flask's test client); ``RequestRecord`` is one entry of the request log.

Example:
    >>> from bt_explore.sandbox import Sandbox
    >>> with Sandbox(now="2026-12-01T09:00:00+01:00") as sb:   # doctest: +SKIP
    ...     print(sb.auth_url, sb.api_url, sb.client_id, sb.organization_id)
"""

from __future__ import annotations

from bt_explore.sandbox.app import create_app
from bt_explore.sandbox.server import Sandbox
from bt_explore.sandbox.state import RequestRecord, SandboxState

__all__ = ["RequestRecord", "Sandbox", "SandboxState", "create_app"]
