"""What the sandbox refuses to keep or serve: unstorable or oversized bodies, foreign Hosts,
and how much of its request log it keeps (issue 11)."""

from __future__ import annotations

import pytest
import requests

from bt_explore.sandbox import Sandbox
from bt_explore.sandbox.state import DEFAULT_REQUEST_LOG_SIZE, RequestLog


# --- request log -------------------------------------------------------------------------------
def test_the_request_log_keeps_only_the_newest_records() -> None:
    with Sandbox(now="2026-12-01T09:00:00+01:00", request_log_size=3) as sb:
        for n in range(5):
            requests.get(f"{sb.base_url}/nothing/{n}", timeout=5)
        assert [r.path for r in sb.requests] == [f"/nothing/{n}" for n in (2, 3, 4)]
        assert all(r.status == 404 for r in sb.requests)


def test_the_request_log_has_a_default_bound_and_can_be_unbounded() -> None:
    assert Sandbox().state.log.maxlen == DEFAULT_REQUEST_LOG_SIZE == 10_000
    assert Sandbox(request_log_size=None).state.log.maxlen is None
    with pytest.raises(ValueError, match="request_log_size"):
        RequestLog(-1)
