"""What the sandbox refuses to keep or serve: unstorable or oversized bodies, foreign Hosts,
and how much of its request log it keeps (issue 11)."""

from __future__ import annotations

import pytest
import requests
from _sandbox_http import bearer

from bt_explore.sandbox import Sandbox
from bt_explore.sandbox.messages import text
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


# --- bodies the sandbox could not answer again ------------------------------------------------
TEMPLATE = "fc12345678910AbcDefGh1112131415a"  # the walkthrough's first template, email required
DEEP = "[" * 300 + "]" * 300


def _post_raw(sb: Sandbox, headers: dict, path: str, raw: str, method: str = "POST"):
    return requests.request(
        method,
        f"{sb.api_url}en/organization/{sb.organization_id}/{path}",
        data=raw.encode("utf-8"),
        headers={**headers, "Content-Type": "application/json"},
        timeout=10,
    )


def _first_slot(sb: Sandbox, headers: dict) -> str:
    answer = requests.get(
        f"{sb.api_url}en/organization/{sb.organization_id}/bookingTemplate/{TEMPLATE}"
        "/bookingSlot/earliest",
        headers=headers,
        timeout=5,
    )
    return answer.json()["content"]["bookingSlotList"][0]["id"]


NAMES = '"firstName": "A", "lastName": "B", "email": "a@b.de"'
UNANSWERABLE = {
    # id: (JSON members of the body besides bookingSlotId, failure parameter, words of the text)
    "lone-surrogate": (f'"customer": {{{NAMES}}}, "notes": "\\ud800"', "notes", "Unicode"),
    "surrogate-in-customer": (
        '"customer": {"firstName": "A\\udc00", "lastName": "B", "email": "a@b.de"}',
        "customer.firstName",
        "Unicode",
    ),
    "surrogate-key": (f'"customer": {{{NAMES}, "\\ud800": 1}}', "customer.\\ud800", "Unicode"),
    "beyond-u64": (f'"customer": {{{NAMES}, "x": {2**64}}}', "customer.x", "64 bits"),
    "beyond-i64": (
        f'"customer": {{{NAMES}}}, "additionalData": {{"k": [{-(2**63) - 1}]}}',
        "additionalData.k[0]",
        "64 bits",
    ),
    "1e400": (
        f'"customer": {{{NAMES}, "address": {{"geo": 1e400}}}}',
        "customer.address.geo",
        "finite",
    ),
    "too-deep": (
        f'"customer": {{{NAMES}, "x": {DEEP}}}',
        "customer.x" + "[0]" * 62,  # body 1, customer 2, x 3, x[0] 4, ... : level 65 is refused
        "nested too deeply",
    ),
}


@pytest.mark.parametrize(("members", "parameter", "words"), UNANSWERABLE.values(), ids=UNANSWERABLE)
def test_a_body_that_could_not_be_answered_is_400_and_not_stored(
    sandbox: Sandbox, members: str, parameter: str, words: str
) -> None:
    headers = bearer(sandbox)
    slot = _first_slot(sandbox, headers)
    stored = len(sandbox.appointments())
    body = f'{{"bookingSlotId": "{slot}", {members}}}'
    answer = _post_raw(sandbox, headers, "appointment/add", body)
    assert answer.status_code == 400, answer.text
    assert answer.json()["content"] is None
    (message,) = answer.json()["messageList"]
    assert message["type"] == "failure" and message["parameter"] == parameter
    assert words in message["text"]
    assert len(sandbox.appointments()) == stored
    # the slot is still free, and every answer after it still works
    fine = f'{{"bookingSlotId": "{slot}", "customer": {{{NAMES}}}}}'
    booked = _post_raw(sandbox, headers, "appointment/add", fine)
    assert booked.status_code == 201, booked.text
    assert len(sandbox.appointments()) == stored + 1


def test_the_failure_is_localized_and_nesting_up_to_the_limit_is_fine(sandbox: Sandbox) -> None:
    headers = bearer(sandbox)
    slot = _first_slot(sandbox, headers)
    # the body is level 1, customer 2, x 3..64: exactly the limit
    nested = "[" * 62 + "]" * 62
    customer = f'{{"firstName": "A", "lastName": "B", "email": "a@b.de", "x": {nested}}}'
    answer = requests.post(
        f"{sandbox.api_url}de/organization/{sandbox.organization_id}/appointment/add",
        data=f'{{"bookingSlotId": "{slot}", "customer": {customer}, "notes": "\\udfff"}}',
        headers={**headers, "Content-Type": "application/json"},
        timeout=10,
    )
    assert answer.status_code == 400
    assert answer.json()["messageList"][0]["text"].startswith("Dieser Parameter ist kein gültiger")
    ok = _post_raw(
        sandbox,
        headers,
        "appointment/add",
        f'{{"bookingSlotId": "{slot}", "customer": {customer}}}',
    )
    assert ok.status_code == 201, ok.text
    appointment = ok.json()["content"]
    shown = requests.get(
        f"{sandbox.api_url}en/organization/{sandbox.organization_id}/appointment/"
        f"{appointment['id']}/show",
        headers=headers,
        timeout=5,
    )
    assert shown.status_code == 200 and shown.json()["content"] == appointment


def test_move_and_the_token_endpoint_check_their_json_bodies_too(sandbox: Sandbox) -> None:
    headers = bearer(sandbox)
    appointment = sandbox.appointments()[0]["id"]
    moved = _post_raw(
        sandbox, headers, f"appointment/{appointment}/move", '{"bookingSlotId": "\\ud800"}', "PUT"
    )
    assert moved.status_code == 400
    assert [m["parameter"] for m in moved.json()["messageList"]] == ["bookingSlotId"]
    token = requests.post(
        sandbox.auth_url,
        data=b'{"grant_type": "client_credentials", "\\ud800": 1}',
        headers={"Content-Type": "application/json"},
        timeout=5,
    )
    assert token.status_code == 400 and token.json()["error"] == "invalid_request"
    assert "Unicode" in token.json()["error_description"]


# --- body size ---------------------------------------------------------------------------------
def test_a_body_beyond_the_limit_is_413_in_the_envelope_and_not_stored() -> None:
    with Sandbox(now="2026-12-01T09:00:00+01:00", max_body_size=4096) as sb:
        headers = bearer(sb)
        slot = _first_slot(sb, headers)
        stored = len(sb.appointments())
        body = f'{{"bookingSlotId": "{slot}", "customer": {{{NAMES}}}, "notes": "'
        big = body + "x" * 5000 + '"}'
        answer = _post_raw(sb, headers, "appointment/add", big)
        assert answer.status_code == 413
        assert answer.headers["Content-Type"] == "application/json"
        (message,) = answer.json()["messageList"]
        assert message["type"] == "failure" and "4096 bytes" in message["text"]
        assert answer.json()["content"] is None
        # a chunked body (no Content-Length) is cut off at the limit by werkzeug: 413 as well
        chunked = requests.post(
            f"{sb.api_url}de/organization/{sb.organization_id}/appointment/add",
            data=iter([big[:3000].encode(), big[3000:].encode()]),
            headers={**headers, "Content-Type": "application/json"},
            timeout=10,
        )
        assert chunked.status_code == 413
        assert "höchstens 4096 Bytes" in chunked.json()["messageList"][0]["text"]
        assert len(sb.appointments()) == stored
        assert _post_raw(sb, headers, "appointment/add", body + 'ok"}').status_code == 201


def test_the_token_endpoint_answers_413_as_rfc6749_json() -> None:
    with Sandbox(max_body_size=1024) as sb:
        form = {"grant_type": "client_credentials", "client_id": sb.client_id, "pad": "x" * 2000}
        answer = requests.post(sb.auth_url, data=form, timeout=5)
        assert answer.status_code == 413
        assert answer.json()["error"] == "invalid_request"
        assert "1024 bytes" in answer.json()["error_description"]
        del form["pad"]
        assert requests.post(sb.auth_url, data=form, timeout=5).status_code == 200


def test_the_default_body_limit_is_one_mebibyte_and_can_be_lifted(sandbox: Sandbox) -> None:
    headers = bearer(sandbox)
    huge = '{"notes": "' + "x" * (1024 * 1024) + '"}'
    answer = _post_raw(sandbox, headers, "appointment/add", huge)
    assert answer.status_code == 413
    # one limit for everything: werkzeug's own 500 kB cap on a form field does not apply
    form = {
        "grant_type": "client_credentials",
        "client_id": sandbox.client_id,
        "pad": "x" * 600_000,
    }
    assert requests.post(sandbox.auth_url, data=form, timeout=5).status_code == 200
    assert Sandbox(max_body_size=None).app.config["MAX_CONTENT_LENGTH"] is None
    with pytest.raises(ValueError, match="max_body_size"):
        Sandbox(max_body_size=-1)


# --- Host header -------------------------------------------------------------------------------
FOREIGN_HOSTS = ["evil.example", "evil.example:8765", "10.0.0.1", "[::2]", "127.0.0.1.evil.example",
                 "localhost.evil.example", "127.0.0.1:80x", "::1", "[::1"]  # fmt: skip


@pytest.mark.parametrize("host", FOREIGN_HOSTS)
def test_a_foreign_host_is_answered_421_and_never_reflected(sandbox: Sandbox, host: str) -> None:
    headers = {**bearer(sandbox), "Host": host}
    api = requests.get(
        f"{sandbox.api_url}de/organization/{sandbox.organization_id}/show",
        headers=headers,
        timeout=5,
    )
    assert api.status_code == 421 and api.json()["content"] is None
    (message,) = api.json()["messageList"]
    assert message["type"] == "failure" and "Loopback" in message["text"]
    token = requests.post(
        sandbox.auth_url,
        data={"grant_type": "client_credentials", "client_id": sandbox.client_id},
        headers={"Host": host},
        timeout=5,
    )
    assert token.status_code == 421 and token.json()["error"] == "invalid_request"
    for path in ("/", "/openapi.json"):
        page = requests.get(sandbox.base_url + path, headers={"Host": host}, timeout=5)
        assert page.status_code == 421 and page.headers["Content-Type"].startswith("text/plain")
        assert page.text == text("host_not_loopback")  # the same for every Host
    assert [r.status for r in sandbox.requests[-4:]] == [421] * 4
    assert all(r.grant_type is None for r in sandbox.token_requests[-1:])  # never processed


@pytest.mark.parametrize(
    "host", ["localhost", "LOCALHOST:8765", "127.0.0.1", "127.3.2.1:1", "[::1]", "[::1]:8765"]
)
def test_loopback_hosts_are_served_and_reflected(sandbox: Sandbox, host: str) -> None:
    doc = requests.get(sandbox.openapi_url, headers={"Host": host}, timeout=5)
    assert doc.status_code == 200
    assert doc.json()["servers"] == [{"url": f"http://{host.lower()}"}]
    index = requests.get(sandbox.base_url + "/", headers={"Host": host}, timeout=5).json()
    assert index["auth_url"] == f"http://{host.lower()}/oauth/token"
