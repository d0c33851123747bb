"""The sandbox's gateway rate limit: token buckets per client or organization, 429 with
Retry-After and rate headers, counted in the request log, and `bt-explore sandbox --rate-limit`."""

from __future__ import annotations

import pytest
import requests

from bt_explore.cli import main
from bt_explore.sandbox import Sandbox
from bt_explore.sandbox.ratelimit import RateLimit, TokenBuckets, rate_limit


class FakeClock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_a_bucket_allows_its_burst_then_refills_at_the_rate() -> None:
    clock = FakeClock()
    buckets = TokenBuckets(RateLimit(5, burst=3), clock=clock)
    verdicts = [buckets.take("a") for _ in range(4)]
    assert [v.allowed for v in verdicts] == [True, True, True, False]
    assert [v.remaining for v in verdicts] == [2, 1, 0, 0]
    assert verdicts[-1].retry_after == pytest.approx(0.2)
    assert buckets.take("b").allowed  # another client has its own bucket
    clock.now += 0.2
    assert buckets.take("a").allowed and not buckets.take("a").allowed
    clock.now += 60  # an idle bucket fills up to the burst, not beyond
    assert [buckets.take("a").allowed for _ in range(4)] == [True, True, True, False]


def test_limits_are_read_from_text_numbers_and_dicts_and_bad_ones_are_named() -> None:
    assert RateLimit.parse("300/min") == RateLimit(5.0)
    assert RateLimit.parse("2.5").burst == 3
    assert rate_limit(20) == RateLimit(20.0)
    assert rate_limit({"rate": "5/s", "burst": 1, "per": "organization"}).per == "organization"
    with pytest.raises(ValueError, match="rate_limit: expected N/s"):
        RateLimit.parse("5 per second")
    with pytest.raises(ValueError, match="rate_limit: burst must be a whole number >= 1"):
        RateLimit(5, burst=0)
    with pytest.raises(ValueError, match="rate_limit: per must be 'client' or 'organization'"):
        RateLimit(5, per="ip")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="rate_limit: unknown setting"):
        rate_limit({"rate": 5, "window": 2})


def _token(sb: Sandbox) -> str:
    answer = requests.post(
        sb.auth_url,
        data={"grant_type": "client_credentials", "client_id": sb.client_id},
        timeout=5,
    ).json()
    access = requests.post(
        sb.auth_url,
        data={
            "grant_type": "refresh_token",
            "client_id": sb.client_id,
            "refresh_token": answer["refresh_token"],
            "organization_id": sb.organization_id,
        },
        timeout=5,
    ).json()
    return access["access_token"]


def test_the_sandbox_answers_429_with_retry_after_past_the_burst_and_logs_it() -> None:
    with Sandbox(rate_limit={"rate": 0.5, "burst": 2}) as sb:
        headers = {"Authorization": f"Bearer {_token(sb)}"}
        url = f"{sb.api_url}en/organization/{sb.organization_id}/bookingTemplate/list"
        answers = [requests.get(url, headers=headers, timeout=5) for _ in range(3)]
        assert [a.status_code for a in answers] == [200, 200, 429]
        first, _, refused = answers
        assert first.headers["RateLimit-Limit"] == first.headers["X-RateLimit-Limit"] == "2"
        assert first.headers["RateLimit-Remaining"] == "1"
        assert first.headers["RateLimit-Policy"] == "1;w=2"  # the rate: 0.5/s
        assert refused.headers["Retry-After"] == "2"  # a token every 2 s
        assert refused.headers["RateLimit-Remaining"] == "0"
        assert refused.json()["messageList"][0]["type"] == "failure"
        log = sb.api_requests
        assert [(r.status, r.throttled) for r in log] == [(200, False), (200, False), (429, True)]
        # the token endpoint is not limited by default
        assert all(r.status == 200 for r in sb.token_requests)


def test_buckets_are_per_client_or_per_organization() -> None:
    with Sandbox(rate_limit={"rate": 0.5, "burst": 1, "per": "organization"}) as sb:
        headers = {"Authorization": f"Bearer {_token(sb)}"}
        base = f"{sb.api_url}en/organization/"
        branch = sb.state.data.branches_of(sb.organization_id)[0]["id"]
        statuses = [
            requests.get(
                f"{base}{org}/bookingTemplate/list", headers=headers, timeout=5
            ).status_code
            for org in (sb.organization_id, sb.organization_id, branch)
        ]
        # the branch is another organization: its own bucket (its answer may be 403, not 429)
        assert statuses[:2] == [200, 429] and statuses[2] != 429
    with Sandbox(rate_limit={"rate": 0.5, "burst": 1}) as sb:
        url = f"{sb.api_url}en/organization/{sb.organization_id}/bookingTemplate/list"
        headers = {"Authorization": f"Bearer {_token(sb)}"}
        statuses = [requests.get(url, headers=headers, timeout=5).status_code for _ in range(2)]
        statuses.append(requests.get(url, timeout=5).status_code)  # no token: another bucket
        assert statuses == [200, 429, 401]
        sb.set_rate_limit(None)
        assert requests.get(url, headers=headers, timeout=5).status_code == 200


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (["--rate-limit", "fast"], "--rate-limit: expected N/s or N/min (e.g. 5/s), got 'fast'"),
        (["--rate-limit", "0/s"], "--rate-limit: the rate must be a positive number"),
        (["--rate-limit", "5/s", "--rate-limit-burst", "0"], "--rate-limit-burst: burst must"),
    ],
)
def test_cli_bad_rate_limits_are_one_line_on_stderr_and_exit_2(
    arguments: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["sandbox", "--port", "0", *arguments]) == 2
    out, err = capsys.readouterr()
    assert out == ""
    assert err.count("\n") == 1 and err.startswith(f"bt-explore sandbox: {message}")
