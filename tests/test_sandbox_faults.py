"""Injected faults: scripted and random error answers, dropped connections, latency."""

from __future__ import annotations

import pytest
import requests
from _sandbox_http import bearer

from bt_explore.sandbox import Sandbox


def templates_url(sb: Sandbox) -> str:
    return f"{sb.api_url}en/organization/{sb.organization_id}/bookingTemplate/list"


def get(sb: Sandbox, headers: dict) -> requests.Response:
    return requests.get(templates_url(sb), headers=headers, timeout=5)


def test_scripted_statuses_then_normal(sandbox: Sandbox) -> None:
    headers = bearer(sandbox)
    sandbox.set_faults(script=[503, None, 429, 500], retry_after=2)
    first = get(sandbox, headers)
    assert first.status_code == 503
    assert first.json()["content"] is None
    assert first.json()["messageList"][0]["type"] == "failure"
    assert get(sandbox, headers).status_code == 200
    limited = get(sandbox, headers)
    assert limited.status_code == 429 and limited.headers["Retry-After"] == "2"
    assert "2 second" in limited.json()["messageList"][0]["text"]
    assert get(sandbox, headers).status_code == 500
    assert get(sandbox, headers).status_code == 200  # script used up
    assert [r.status for r in sandbox.api_requests] == [503, 200, 429, 500, 200]


def test_faults_skip_the_token_endpoint_by_default(sandbox: Sandbox) -> None:
    sandbox.set_faults(rate=1.0, statuses=(500,))
    headers = bearer(sandbox)  # token calls unaffected
    assert all(get(sandbox, headers).status_code == 500 for _ in range(3))
    sandbox.clear_faults()
    assert get(sandbox, headers).status_code == 200


def test_faults_on_the_token_endpoint_answer_rfc6749_errors(sandbox: Sandbox) -> None:
    sandbox.set_faults(script=[503, 429], paths=r"^/oauth/token$")
    fields = {"grant_type": "client_credentials", "client_id": sandbox.client_id}
    first = requests.post(sandbox.auth_url, data=fields, timeout=5)
    assert first.status_code == 503 and first.json()["error"] == "temporarily_unavailable"
    second = requests.post(sandbox.auth_url, data=fields, timeout=5)
    assert second.status_code == 429 and second.headers["Retry-After"] == "1"
    assert requests.post(sandbox.auth_url, data=fields, timeout=5).status_code == 200


def test_faults_given_at_start() -> None:
    with Sandbox(now="2026-12-01T09:00:00+01:00", faults={"script": [502]}) as sb:
        headers = bearer(sb)
        assert get(sb, headers).status_code == 502
        assert get(sb, headers).status_code == 200


def test_random_faults_follow_the_seed() -> None:
    def run() -> list[int]:
        with Sandbox(now="2026-12-01T09:00:00+01:00") as sb:
            headers = bearer(sb)
            sb.set_faults(rate=0.5, statuses=(500, 503, 429), seed=7)
            return [get(sb, headers).status_code for _ in range(16)]

    first = run()
    assert first == run()
    assert 200 in first and set(first) - {200} <= {500, 503, 429} and set(first) != {200}


def test_drop_closes_the_connection_without_processing(sandbox: Sandbox) -> None:
    headers = bearer(sandbox)
    session = requests.Session()
    assert session.get(templates_url(sandbox), headers=headers, timeout=5).status_code == 200
    sandbox.set_faults(script=["drop"])
    with pytest.raises(requests.ConnectionError):
        session.get(templates_url(sandbox), headers=headers, timeout=5)
    record = sandbox.api_requests[-1]
    assert (record.status, record.dropped) == (None, True)
    # the server keeps serving, also on a fresh connection of the same session
    assert session.get(templates_url(sandbox), headers=headers, timeout=5).status_code == 200


def test_drop_before_processing_books_nothing(sandbox: Sandbox) -> None:
    headers = bearer(sandbox)
    base = f"{sandbox.api_url}en/organization/{sandbox.organization_id}"
    template = "fc12345678910AbcDefGh1112131415a"
    slot = requests.get(
        f"{base}/bookingTemplate/{template}/bookingSlot/earliest", headers=headers, timeout=5
    ).json()["content"]["bookingSlotList"][0]["id"]
    before = len(sandbox.appointments())
    sandbox.set_faults(script=["drop"])
    body = {"bookingSlotId": slot, "customId": "lost-1",
            "customer": {"firstName": "A", "lastName": "B", "email": "a@b.example"}}  # fmt: skip
    with pytest.raises(requests.ConnectionError):
        requests.post(f"{base}/appointment/add", json=body, headers=headers, timeout=5)
    assert len(sandbox.appointments()) == before
    found = requests.get(f"{base}/appointment/lost-1/identify", headers=headers, timeout=5)
    assert found.status_code == 404


def test_drop_after_processes_the_booking_then_drops_the_answer(sandbox: Sandbox) -> None:
    headers = bearer(sandbox)
    base = f"{sandbox.api_url}en/organization/{sandbox.organization_id}"
    template = "fc12345678910AbcDefGh1112131415a"
    slot = requests.get(
        f"{base}/bookingTemplate/{template}/bookingSlot/earliest", headers=headers, timeout=5
    ).json()["content"]["bookingSlotList"][0]["id"]
    sandbox.set_faults(script=["drop_after"])
    body = {"bookingSlotId": slot, "customId": "safe-1",
            "customer": {"firstName": "A", "lastName": "B", "email": "a@b.example"}}  # fmt: skip
    with pytest.raises(requests.ConnectionError):
        requests.post(f"{base}/appointment/add", json=body, headers=headers, timeout=5)
    record = sandbox.api_requests[-1]
    assert (record.method, record.status, record.dropped) == ("POST", 201, True)
    found = requests.get(f"{base}/appointment/safe-1/identify", headers=headers, timeout=5)
    assert found.status_code == 200 and found.json()["content"]["customId"] == "safe-1"
    again = requests.post(f"{base}/appointment/add", json=body, headers=headers, timeout=5)
    assert again.status_code == 400  # retrying blindly would not book twice either


def test_drop_rate_drops_every_matching_request(sandbox: Sandbox) -> None:
    headers = bearer(sandbox)
    sandbox.set_faults(drop_rate=1.0)
    for _ in range(2):
        with pytest.raises(requests.ConnectionError):
            get(sandbox, headers)
    sandbox.clear_faults()
    assert get(sandbox, headers).status_code == 200


def test_latency_setting(sandbox: Sandbox) -> None:
    headers = bearer(sandbox)
    sandbox.set_faults(latency_ms=20)
    assert sandbox.state.faults.latency_ms == 20
    assert get(sandbox, headers).status_code == 200
    sandbox.set_faults(rate=0.0)  # latency_ms=None keeps the latency
    assert sandbox.state.faults.latency_ms == 20
    sandbox.clear_faults()
    assert sandbox.state.faults.latency_ms == 0
    with Sandbox(latency_ms=5) as sb:
        assert sb.state.faults.latency_ms == 5


@pytest.mark.parametrize(
    "kwargs",
    [
        {"rate": 1.5},
        {"rate": 0.8, "drop_rate": 0.5},
        {"statuses": (200,), "rate": 0.1},
        {"script": ["explode"]},
        {"script": [302]},
        {"script": [True]},
        {"latency_ms": -1},
    ],
)
def test_bad_fault_settings_are_refused(sandbox: Sandbox, kwargs: dict) -> None:
    with pytest.raises(ValueError):
        sandbox.set_faults(**kwargs)


def test_only_loopback_hosts() -> None:
    with pytest.raises(ValueError, match="loopback"):
        Sandbox(host="0.0.0.0")
    with pytest.raises(RuntimeError, match="not started"):
        Sandbox().base_url  # noqa: B018


def test_unknown_fault_settings_are_named() -> None:
    with pytest.raises(ValueError, match="ratio"):
        Sandbox(faults={"ratio": 0.5})
