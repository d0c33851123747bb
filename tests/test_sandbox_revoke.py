"""The sandbox's token revocation (RFC 7009, ``POST /oauth/revoke``), a replayed authorization
code revoking what it gave (RFC 6749 §4.1.2), and confidential clients' code exchanges."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import pytest
import requests

import bt_explore
from bt_explore import Settings
from bt_explore.client import Client
from bt_explore.sandbox.authorize import headless_browser, s256
from bt_explore.signin import sign_in

VERIFIER = "v" * 43


def _refresh(sb, **extra):
    form = {"grant_type": "client_credentials", "client_id": sb.client_id, **extra}
    return requests.post(sb.auth_url, data=form, timeout=5).json()["refresh_token"]


def _access(sb, refresh):
    form = {
        "grant_type": "refresh_token",
        "client_id": sb.client_id,
        "refresh_token": refresh,
        "organization_id": sb.organization_id,
    }
    return requests.post(sb.auth_url, data=form, timeout=5)


def _api(sb, access):
    url = f"{sb.api_url}en/organization/{sb.organization_id}/show"
    return requests.get(url, headers={"Authorization": f"Bearer {access}"}, timeout=5)


def _revoke(sb, **form):
    return requests.post(sb.base_url + "/oauth/revoke", data=form, timeout=5)


def test_revoking_a_refresh_token_ends_it_and_the_access_tokens_it_issued(sandbox):
    refresh = _refresh(sandbox)
    access = _access(sandbox, refresh).json()["access_token"]
    other = _access(sandbox, _refresh(sandbox)).json()["access_token"]
    assert _api(sandbox, access).status_code == 200

    answer = _revoke(sandbox, token=refresh, client_id=sandbox.client_id)
    assert (answer.status_code, answer.content) == (200, b"")
    assert answer.headers["Cache-Control"] == "no-store"

    again = _access(sandbox, refresh)
    assert again.status_code == 400 and again.json()["error"] == "invalid_grant"
    assert "revoked" in again.json()["error_description"]
    assert _api(sandbox, access).status_code == 401
    assert _api(sandbox, other).status_code == 200  # another refresh token's: untouched


def test_revoking_an_access_token_leaves_its_refresh_token(sandbox):
    refresh = _refresh(sandbox)
    access = _access(sandbox, refresh).json()["access_token"]
    hint = "access_token"
    assert _revoke(sandbox, token=access, token_type_hint=hint, client_id=sandbox.client_id).ok
    assert _api(sandbox, access).status_code == 401
    assert _access(sandbox, refresh).status_code == 200


@pytest.mark.parametrize(
    "form, status, error, says",
    [
        ({"token": "not-a-token"}, 200, None, None),  # RFC 7009 §2.2: not an error
        ({}, 400, "invalid_request", "token is required"),
        ({"token": "x", "token_type_hint": "id_token"}, 400, "unsupported_token_type", "hint"),
        ({"token": "x", "client_id": None}, 400, "invalid_request", "client_id is required"),
        ({"token": "x", "client_id": "23" + "9" * 30}, 401, "invalid_client", "unknown"),
        ({"token": "x", "client_secret": "guess"}, 401, "invalid_client", "client_secret"),
    ],
)
def test_bad_revocation_requests_are_refused_naming_the_parameter(
    sandbox, form, status, error, says
):
    form = {"client_id": sandbox.client_id, **form}
    answer = _revoke(sandbox, **{k: v for k, v in form.items() if v is not None})
    assert answer.status_code == status
    if error:
        assert answer.json()["error"] == error and says in answer.json()["error_description"]


def test_a_token_of_another_client_is_not_revoked(tmp_path):
    (tmp_path / "clients.json").write_text(
        '[{"id": "23123456788998745612312345678912", "secret": "", "name": "demo",'
        ' "organizationIds": ["f6123456789101112131415aBCdeFgHi"], "redirectUris": []},'
        ' {"id": "23999999999999999999999999999999", "secret": "", "name": "other",'
        ' "organizationIds": [], "redirectUris": []}]'
    )
    with bt_explore.Sandbox(data_dir=tmp_path) as sb:
        refresh = _refresh(sb)
        answer = _revoke(sb, token=refresh, client_id="23" + "9" * 30)
        assert answer.status_code == 400 and "another client" in answer.json()["error_description"]
        assert _access(sb, refresh).status_code == 200


def test_revocation_is_advertised_and_only_takes_post(sandbox):
    root = requests.get(sandbox.base_url + "/", timeout=5).json()
    assert root["revocation_url"] == sandbox.base_url + "/oauth/revoke"
    doc = requests.get(sandbox.openapi_url, timeout=5).json()
    assert doc["paths"]["/oauth/revoke"]["post"]["operationId"] == "revoke"
    answer = requests.get(sandbox.base_url + "/oauth/revoke", timeout=5)
    assert answer.status_code == 405 and answer.json()["error"] == "invalid_request"


def _code(sb, client_id, challenge=None):
    params = {
        "response_type": "code",
        "client_id": client_id,
        "redirect_uri": "http://127.0.0.1:9/callback",
        "state": "s",
        "username": "ada@example.com",
        "password": "ada-demo",
        "decision": "allow",
    }
    if challenge:
        params.update(code_challenge=challenge, code_challenge_method="S256")
    back = requests.post(sb.authorize_url, data=params, allow_redirects=False, timeout=5)
    return parse_qs(urlsplit(back.headers["Location"]).query)["code"][0]


def _exchange(sb, code, client_id, **extra):
    form = {
        "grant_type": "authorization_code",
        "client_id": client_id,
        "code": code,
        "redirect_uri": "http://127.0.0.1:9/callback",
        "code_verifier": VERIFIER,
        **extra,
    }
    return requests.post(sb.auth_url, data=form, timeout=5)


def test_a_replayed_code_revokes_what_it_issued(sandbox):
    code = _code(sandbox, sandbox.client_id, s256(VERIFIER))
    first = _exchange(sandbox, code, sandbox.client_id)
    refresh = first.json()["refresh_token"]
    access = _access(sandbox, refresh).json()["access_token"]
    assert _api(sandbox, access).status_code == 200

    replay = _exchange(sandbox, code, sandbox.client_id)
    assert replay.status_code == 400 and replay.json()["error"] == "invalid_grant"
    assert "already used" in replay.json()["error_description"]
    assert "revoked" in replay.json()["error_description"]
    assert _access(sandbox, refresh).json()["error"] == "invalid_grant"
    assert _api(sandbox, access).status_code == 401


CONFIDENTIAL = "23777777777777777777777777777777"


@pytest.fixture
def confidential(tmp_path):
    """A sandbox whose data has a confidential client (secret ``s3cr3t-value``)."""
    (tmp_path / "clients.json").write_text(
        '[{"id": "23123456788998745612312345678912", "secret": "", "name": "demo",'
        ' "organizationIds": ["f6123456789101112131415aBCdeFgHi"],'
        ' "redirectUris": ["http://127.0.0.1/callback"]},'
        f' {{"id": "{CONFIDENTIAL}", "secret": "s3cr3t-value", "name": "confidential",'
        ' "organizationIds": ["f6123456789101112131415aBCdeFgHi"],'
        ' "redirectUris": ["http://127.0.0.1/callback"]}]'
    )
    with bt_explore.Sandbox(now="2026-12-01T09:00:00+01:00", data_dir=tmp_path) as sb:
        yield sb


@pytest.mark.parametrize(
    "client_id, secret, status",
    [
        (CONFIDENTIAL, None, 401),
        (CONFIDENTIAL, "wrong", 401),
        (CONFIDENTIAL, "s3cr3t-value", 200),
        ("23123456788998745612312345678912", "wrong", 401),  # a public client has none
        ("23123456788998745612312345678912", None, 200),
    ],
)
def test_the_code_exchange_checks_the_client_secret(confidential, client_id, secret, status):
    code = _code(confidential, client_id, s256(VERIFIER))
    extra = {} if secret is None else {"client_secret": secret}
    answer = _exchange(confidential, code, client_id, **extra)
    assert answer.status_code == status, answer.text
    if status == 401:
        assert answer.json()["error"] == "invalid_client"
        assert "client_secret" in answer.json()["error_description"]


def test_a_confidential_client_signs_in_with_its_secret(confidential):
    settings = Settings(
        client_id=CONFIDENTIAL,
        client_secret="s3cr3t-value",
        auth_url=confidential.auth_url,
        api_url=confidential.api_url,
        organization_id=confidential.organization_id,
        env_file=None,
    )
    with Client(settings, clock=confidential.now) as client:
        person = headless_browser("ada@example.com", "ada-demo")
        sign_in(client, open_browser=False, show_url=person, timeout=5)
        assert client.organization()["id"] == confidential.organization_id
        assert "s3cr3t-value" not in repr(client) + repr(client.auth)


@pytest.mark.parametrize(
    "secret, status", [(None, 401), ("", 401), ("wrong", 401), ("s3cr3t-value", 200)]
)
def test_client_credentials_of_a_confidential_client_need_its_secret(confidential, secret, status):
    form = {"grant_type": "client_credentials", "client_id": CONFIDENTIAL}
    if secret is not None:
        form["client_secret"] = secret
    answer = requests.post(confidential.auth_url, data=form, timeout=5)
    assert answer.status_code == status, answer.text
    if status == 401:
        assert answer.json()["error"] == "invalid_client"
        assert "client_secret" in answer.json()["error_description"]
