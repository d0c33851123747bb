"""The sandbox's token endpoint and how API calls are authenticated."""

from __future__ import annotations

import pytest
import requests

from bt_explore.sandbox import Sandbox


def refresh_token(sb: Sandbox) -> str:
    answer = requests.post(
        sb.auth_url, data={"grant_type": "client_credentials", "client_id": sb.client_id}, timeout=5
    )
    assert answer.status_code == 200
    return answer.json()["refresh_token"]


def access_token(
    sb: Sandbox, refresh: str | None = None, organization_id: str | None = None
) -> str:
    answer = requests.post(
        sb.auth_url,
        data={
            "grant_type": "refresh_token",
            "client_id": sb.client_id,
            "refresh_token": refresh or refresh_token(sb),
            "organization_id": organization_id or sb.organization_id,
        },
        timeout=5,
    )
    assert answer.status_code == 200, answer.text
    return answer.json()["access_token"]


def show(sb: Sandbox, bearer: str | None, org: str | None = None) -> requests.Response:
    headers = {"Authorization": f"Bearer {bearer}"} if bearer is not None else {}
    url = f"{sb.api_url}en/organization/{org or sb.organization_id}/show"
    return requests.get(url, headers=headers, timeout=5)


def token_error(answer: requests.Response) -> str:
    body = answer.json()
    assert set(body) == {"error", "error_description"} and body["error_description"]
    return body["error"]


@pytest.mark.parametrize("encoding", ["form", "multipart", "json"])
def test_client_credentials_in_every_encoding(sandbox: Sandbox, encoding: str) -> None:
    fields = {"grant_type": "client_credentials", "client_id": sandbox.client_id}
    if encoding == "form":
        answer = requests.post(sandbox.auth_url, data=fields, timeout=5)
    elif encoding == "multipart":
        files = {k: (None, v) for k, v in fields.items()}
        answer = requests.post(sandbox.auth_url, files=files, timeout=5)
    else:
        answer = requests.post(sandbox.auth_url, json=fields, timeout=5)
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert set(body) == {"refresh_token", "token_type", "expires_in"}
    assert (body["token_type"], body["expires_in"]) == ("Bearer", 1800)
    assert answer.headers["Cache-Control"] == "no-store"
    assert sandbox.token_requests[-1].grant_type == "client_credentials"


def test_client_secret_empty_accepted_wrong_refused(sandbox: Sandbox) -> None:
    fields = {"grant_type": "client_credentials", "client_id": sandbox.client_id}
    assert sandbox.client_secret == ""
    ok = requests.post(sandbox.auth_url, data={**fields, "client_secret": ""}, timeout=5)
    assert ok.status_code == 200
    wrong = requests.post(sandbox.auth_url, data={**fields, "client_secret": "guess"}, timeout=5)
    assert wrong.status_code == 401 and token_error(wrong) == "invalid_client"
    unknown = requests.post(
        sandbox.auth_url, data={**fields, "client_id": "23" + "x" * 30}, timeout=5
    )
    assert unknown.status_code == 401 and token_error(unknown) == "invalid_client"
    assert sandbox.client_id.startswith("23") and len(sandbox.client_id) == 32


@pytest.mark.parametrize(
    ("kwargs", "status", "error", "mentions"),
    [
        ({"data": "grant_type=client_credentials"}, 400, "invalid_request", "Content-Type"),
        ({"data": "x", "headers": {"Content-Type": "text/plain"}}, 400, "invalid_request",
         "text/plain"),
        ({"data": "{oops", "headers": {"Content-Type": "application/json"}}, 400,
         "invalid_request", "JSON"),
        # the walkthrough's curl: form fields sent with a JSON Content-Type are read as a form
        ({"data": "grant_type=client_credentials&client_id=23",
          "headers": {"Content-Type": "application/json"}}, 401, "invalid_client", "client_id"),
        ({"data": "grant_type=client_credentials&grant_type=refresh_token",
          "headers": {"Content-Type": "application/json"}}, 400, "invalid_request",
         "grant_type is sent more than once"),
        ({"json": ["grant_type"]}, 400, "invalid_request", "object"),
        ({"json": {"grant_type": 5}}, 400, "invalid_request", "grant_type"),
        ({"data": {"client_id": "23"}}, 400, "invalid_request", "grant_type"),
        ({"data": {"grant_type": "password"}}, 400, "unsupported_grant_type", "password"),
        ({"data": {"grant_type": "client_credentials"}}, 400, "invalid_request", "client_id"),
        ({"data": {"grant_type": "refresh_token"}}, 400, "invalid_request", "refresh_token"),
        ({"data": {"grant_type": "refresh_token", "refresh_token": "garbage"}}, 400,
         "invalid_grant", "invalid"),
    ],
)  # fmt: skip
def test_bad_token_requests(
    sandbox: Sandbox, kwargs: dict, status: int, error: str, mentions: str
) -> None:
    answer = requests.post(sandbox.auth_url, timeout=5, **kwargs)
    assert answer.status_code == status, answer.text
    assert token_error(answer) == error
    assert mentions in answer.json()["error_description"]


def test_token_endpoint_wrong_verb_is_405(sandbox: Sandbox) -> None:
    answer = requests.get(sandbox.auth_url, timeout=5)
    assert answer.status_code == 405 and token_error(answer) == "invalid_request"
    assert answer.headers["Allow"] == "POST"


def test_refresh_token_exchange_rules(sandbox: Sandbox) -> None:
    refresh = refresh_token(sandbox)
    base = {"grant_type": "refresh_token", "client_id": sandbox.client_id, "refresh_token": refresh}
    answer = requests.post(
        sandbox.auth_url, data={**base, "organization_id": sandbox.organization_id}, timeout=5
    )
    assert answer.status_code == 200
    assert (answer.json()["token_type"], answer.json()["expires_in"]) == ("Bearer", 300)
    assert set(answer.json()) == {"access_token", "token_type", "expires_in"}
    foreign = requests.post(
        sandbox.auth_url, data={**base, "organization_id": sandbox.other_organization_id}, timeout=5
    )
    assert foreign.status_code == 403 and token_error(foreign) == "access_denied"
    malformed = requests.post(sandbox.auth_url, data={**base, "organization_id": "f6x"}, timeout=5)
    assert (
        malformed.status_code == 400 and "organization_id" in malformed.json()["error_description"]
    )
    access = answer.json()["access_token"]
    as_refresh = requests.post(sandbox.auth_url, data={**base, "refresh_token": access}, timeout=5)
    assert as_refresh.status_code == 400 and token_error(as_refresh) == "invalid_grant"
    wrong_client = requests.post(
        sandbox.auth_url, data={**base, "client_id": "23" + "q" * 30}, timeout=5
    )
    assert wrong_client.status_code == 401


def test_api_calls_need_a_valid_access_token(sandbox: Sandbox) -> None:
    refresh = refresh_token(sandbox)
    access = access_token(sandbox, refresh)
    assert show(sandbox, access).status_code == 200
    missing = show(sandbox, None)
    assert missing.status_code == 401 and missing.headers["WWW-Authenticate"].startswith("Bearer")
    assert missing.json()["messageList"][0]["type"] == "failure"
    assert show(sandbox, refresh).status_code == 401  # refresh token is not an access token
    assert "refresh token" in show(sandbox, refresh).json()["messageList"][0]["text"]
    header, payload, signature = access.split(".")
    forged = f"{header}.{payload}.{signature[::-1]}"
    assert show(sandbox, forged).status_code == 401
    assert show(sandbox, "not-a-jwt").status_code == 401
    basic = requests.get(
        f"{sandbox.api_url}en/organization/{sandbox.organization_id}/show",
        headers={"Authorization": "Basic dXNlcjpwYXNz"},
        timeout=5,
    )
    assert basic.status_code == 401
    with Sandbox(now="2026-12-01T09:00:00+01:00") as other:
        assert show(sandbox, access_token(other)).status_code == 401  # another sandbox's key


def test_token_of_one_organization_is_403_on_another(sandbox: Sandbox) -> None:
    access = access_token(sandbox)
    answer = show(sandbox, access, sandbox.other_organization_id)
    assert answer.status_code == 403
    assert answer.json()["messageList"][0]["parameter"] == "organizationId"


def test_tokens_expire_by_the_sandbox_clock(sandbox: Sandbox) -> None:
    refresh = refresh_token(sandbox)
    access = access_token(sandbox, refresh)
    sandbox.advance(299)
    assert show(sandbox, access).status_code == 200
    sandbox.advance(1)
    expired = show(sandbox, access)
    assert expired.status_code == 401 and "expired" in expired.json()["messageList"][0]["text"]
    fresh = access_token(sandbox, refresh)  # refresh token still valid at 300 s
    assert show(sandbox, fresh).status_code == 200
    sandbox.advance(1500)
    late = requests.post(
        sandbox.auth_url,
        data={
            "grant_type": "refresh_token",
            "client_id": sandbox.client_id,
            "refresh_token": refresh,
        },
        timeout=5,
    )
    assert late.status_code == 400 and token_error(late) == "invalid_grant"
    assert "expired" in late.json()["error_description"]


def test_expire_tokens_revokes_everything_issued_so_far(sandbox: Sandbox) -> None:
    refresh = refresh_token(sandbox)
    access = access_token(sandbox, refresh)
    sandbox.expire_tokens()
    assert show(sandbox, access).status_code == 401
    again = requests.post(
        sandbox.auth_url,
        data={
            "grant_type": "refresh_token",
            "client_id": sandbox.client_id,
            "refresh_token": refresh,
        },
        timeout=5,
    )
    assert again.status_code == 400 and token_error(again) == "invalid_grant"
    assert show(sandbox, access_token(sandbox)).status_code == 200


def test_configurable_lifetimes() -> None:
    with Sandbox(now="2026-12-01T09:00:00+01:00", access_token_lifetime=60,
                 refresh_token_lifetime=120) as sb:  # fmt: skip
        first = requests.post(
            sb.auth_url, data={"grant_type": "client_credentials", "client_id": sb.client_id},
            timeout=5,
        ).json()  # fmt: skip
        assert first["expires_in"] == 120
        access = access_token(sb, first["refresh_token"])
        sb.advance(60)
        assert show(sb, access).status_code == 401


def test_no_secret_in_reprs_or_the_request_log(sandbox: Sandbox) -> None:
    access = access_token(sandbox)
    show(sandbox, access)
    text = repr(sandbox) + repr(sandbox.requests) + repr(sandbox.state.tokens)
    assert access not in text and "eyJ" not in text
    issued = sandbox.state.tokens.issue_access(sandbox.client_id, sandbox.organization_id)
    assert "eyJ" not in repr(issued)
