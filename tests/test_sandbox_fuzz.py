"""Property tests: no input makes the sandbox answer 500 or leave the envelope."""

from __future__ import annotations

import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bt_explore.endpoints import ENDPOINTS
from bt_explore.sandbox import SandboxState, create_app

STATE = SandboxState(now="2026-12-01T09:00:00+01:00")
APP = create_app(STATE)
ORG = STATE.data.demo_organization_id
CLIENT = APP.test_client()
_refresh = CLIENT.post(
    "/oauth/token",
    data={"grant_type": "client_credentials", "client_id": STATE.data.demo_client_id},
).json["refresh_token"]
ACCESS = CLIENT.post(
    "/oauth/token",
    data={"grant_type": "refresh_token", "refresh_token": _refresh, "organization_id": ORG},
).json["access_token"]
HEADERS = {"Authorization": f"Bearer {ACCESS}"}

segment = st.text(
    alphabet=st.characters(blacklist_categories=("Cs",), blacklist_characters="/?#%\\"),
    min_size=1,
    max_size=40,
).filter(lambda s: s not in {".", ".."})
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner, max_size=4)
    ),
    max_leaves=12,
)
FUZZ = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def check_envelope(answer) -> None:
    assert answer.status_code != 500, answer.get_data(as_text=True)
    body = answer.get_json()
    assert set(body) == {"messageList", "content"}
    if answer.status_code >= 400:
        assert body["content"] is None and body["messageList"]
        assert all(m["type"] == "failure" for m in body["messageList"])


@pytest.mark.parametrize("name", sorted(ENDPOINTS))
def test_random_path_values_never_break_the_envelope(name: str) -> None:
    endpoint = ENDPOINTS[name]

    @FUZZ
    @given(values=st.fixed_dictionaries({f: segment for f in endpoint.fields if f != "org"}))
    def run(values: dict) -> None:
        path = (
            endpoint.format(org=ORG, **values)
            if "org" in endpoint.fields
            else endpoint.format(**values)
        )
        answer = CLIENT.open(
            f"/module/v3/en/{path}", method=endpoint.method, headers=HEADERS, json={}
        )
        check_envelope(answer)

    run()


@FUZZ
@given(body=json_values)
def test_random_booking_bodies_are_answered_400_or_201(body: object) -> None:
    answer = CLIENT.post(
        f"/module/v3/de/organization/{ORG}/appointment/add", json=body, headers=HEADERS
    )
    check_envelope(answer)
    assert answer.status_code in (201, 400)


@FUZZ
@given(raw=st.binary(max_size=200))
def test_random_bytes_as_json_are_400(raw: bytes) -> None:
    answer = CLIENT.post(
        f"/module/v3/en/organization/{ORG}/appointment/add",
        data=raw,
        headers={**HEADERS, "Content-Type": "application/json"},
    )
    check_envelope(answer)


def test_deeply_nested_json_is_400_not_500() -> None:
    raw = "[" * 100_000 + "]" * 100_000
    answer = CLIENT.post(
        f"/module/v3/en/organization/{ORG}/appointment/add",
        data=raw,
        headers={**HEADERS, "Content-Type": "application/json"},
    )
    assert answer.status_code == 400
    token = CLIENT.post("/oauth/token", data=raw, headers={"Content-Type": "application/json"})
    assert token.status_code == 400


@FUZZ
@given(form=st.dictionaries(st.sampled_from(
    ["grant_type", "client_id", "client_secret", "refresh_token", "organization_id", "x"]),
    st.text(max_size=40), max_size=5))  # fmt: skip
def test_random_token_requests_get_rfc6749_answers(form: dict) -> None:
    for answer in (CLIENT.post("/oauth/token", data=form), CLIENT.post("/oauth/token", json=form)):
        assert answer.status_code in (200, 400, 401, 403), answer.get_data(as_text=True)
        body = answer.get_json()
        assert ("error" in body) == (answer.status_code != 200)
        json.dumps(body)
