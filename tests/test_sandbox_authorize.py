"""The sandbox's authorization endpoint and authorization_code grant, with requests as browser."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import pytest
import requests

from bt_explore.sandbox import Sandbox
from bt_explore.sandbox.authorize import s256

VERIFIER = "v" * 43 + "-erifier_0123456789"
REDIRECT = "http://127.0.0.1:50123/callback"


@pytest.fixture(scope="module")
def shared():
    """One sandbox for the tests that neither move its clock nor read its log or set faults."""
    with Sandbox(now="2026-12-01T09:00:00+01:00") as sb:
        yield sb


def _params(sb, **changes):
    params = {
        "response_type": "code",
        "client_id": sb.client_id,
        "redirect_uri": REDIRECT,
        "state": "st4te",
        "code_challenge": s256(VERIFIER),
        "code_challenge_method": "S256",
    }
    params.update(changes)
    return {k: v for k, v in params.items() if v is not None}


def _post(sb, params, *, user="ada@example.com", password="ada-demo", decision="allow"):
    form = {**params, "username": user, "password": password, "decision": decision}
    return requests.post(sb.authorize_url, data=form, allow_redirects=False, timeout=5)


def _redirected(answer):
    assert answer.status_code == 302, answer.text
    location = answer.headers["Location"]
    assert location.startswith(REDIRECT.split("/callback")[0])
    return {k: v[0] for k, v in parse_qs(urlsplit(location).query).items()}


def _code(sb, **changes):
    return _redirected(_post(sb, _params(sb, **changes)))["code"]


def _exchange(sb, the_code, **changes):
    form = {
        "grant_type": "authorization_code",
        "client_id": sb.client_id,
        "code": the_code,
        "redirect_uri": REDIRECT,
        "code_verifier": VERIFIER,
        **changes,
    }
    return requests.post(sb.auth_url, data={k: v for k, v in form.items() if v is not None})


def _access(sb, refresh, org):
    form = {"grant_type": "refresh_token", "client_id": sb.client_id, "refresh_token": refresh}
    return requests.post(sb.auth_url, data={**form, "organization_id": org})


def test_the_page_is_a_plain_form_without_javascript(shared):
    page = requests.get(shared.authorize_url, params=_params(shared), timeout=5)
    assert page.status_code == 200
    assert page.headers["Content-Type"].startswith("text/html")
    assert "<form" in page.text and "<script" not in page.text
    assert page.headers["X-Frame-Options"] == "DENY"


def test_a_person_grants_more_than_the_application_has(sandbox):
    other = sandbox.other_organization_id
    app_refresh = requests.post(
        sandbox.auth_url, data={"grant_type": "client_credentials", "client_id": sandbox.client_id}
    ).json()["refresh_token"]
    assert _access(sandbox, app_refresh, other).status_code == 403

    answer = _exchange(sandbox, _code(sandbox))
    assert answer.status_code == 200 and answer.headers["Cache-Control"] == "no-store"
    assert sorted(answer.json()) == ["expires_in", "refresh_token", "token_type"]
    assert _access(sandbox, answer.json()["refresh_token"], other).status_code == 200
    grants = [r.grant_type for r in sandbox.token_requests]
    assert "authorization_code" in grants
    assert [r.status for r in sandbox.requests if r.path == "/oauth/authorize"] == [302]


def test_a_person_grants_only_their_own_organizations(shared):
    code = _code(shared)  # Ada: both organizations
    ben = _redirected(_post(shared, _params(shared), user="ben@example.com", password="ben-demo"))
    refresh = _exchange(shared, ben["code"]).json()["refresh_token"]
    assert _access(shared, refresh, shared.other_organization_id).status_code == 403
    assert _access(shared, refresh, shared.organization_id).status_code == 200
    assert _exchange(shared, code).status_code == 200


def test_organization_id_narrows_the_grant(shared):
    code = _code(shared, organization_id=shared.other_organization_id)
    refresh = _exchange(shared, code).json()["refresh_token"]
    assert _access(shared, refresh, shared.other_organization_id).status_code == 200
    assert _access(shared, refresh, shared.organization_id).status_code == 403


@pytest.mark.parametrize("port", ["", ":1", ":65000"])
def test_loopback_redirect_uris_match_on_any_port(shared, port):
    uri = f"http://127.0.0.1{port}/callback"
    page = requests.get(shared.authorize_url, params=_params(shared, redirect_uri=uri))
    assert page.status_code == 200


@pytest.mark.parametrize(
    "changes, shown",
    [
        ({"client_id": None}, "client_id is missing"),
        ({"client_id": "23" + "0" * 30}, "client_id is unknown"),
        ({"redirect_uri": None}, "redirect_uri is missing"),
        ({"redirect_uri": "http://evil.test/callback"}, "redirect_uri is not registered"),
        ({"redirect_uri": "http://127.0.0.1:5000/elsewhere"}, "redirect_uri is not registered"),
        ({"redirect_uri": "https://127.0.0.1:5000/callback"}, "redirect_uri is not registered"),
    ],
)
def test_client_and_redirect_uri_errors_are_shown_never_redirected(shared, changes, shown):
    for answer in (
        requests.get(shared.authorize_url, params=_params(shared, **changes), timeout=5),
        _post(shared, _params(shared, **changes)),
    ):
        assert answer.status_code == 400 and "Location" not in answer.headers
        assert shown in answer.text


@pytest.mark.parametrize(
    "changes, error",
    [
        ({"response_type": "token"}, "unsupported_response_type"),
        ({"response_type": None}, "invalid_request"),
        ({"code_challenge": None}, "invalid_request"),
        ({"code_challenge_method": "plain"}, "invalid_request"),
        ({"code_challenge": "short"}, "invalid_request"),
    ],
)
def test_other_errors_go_back_to_the_redirect_uri_with_state(shared, changes, error):
    answer = requests.get(
        shared.authorize_url, params=_params(shared, **changes), allow_redirects=False
    )
    back = _redirected(answer)
    assert back["error"] == error and back["state"] == "st4te" and "code" not in back


def test_declining_sends_access_denied_back(shared):
    back = _redirected(_post(shared, _params(shared), password="", decision="deny"))
    assert back == {
        "error": "access_denied",
        "error_description": "the person declined",
        "state": "st4te",
    }


def test_a_wrong_password_shows_the_page_again(shared):
    answer = _post(shared, _params(shared), password="wrong")
    assert answer.status_code == 400 and "Location" not in answer.headers
    assert "Wrong e-mail or password" in answer.text


@pytest.mark.parametrize(
    "first, second, why",
    [
        ({}, {}, "already used"),
        ({"code_verifier": "w" * 43}, {}, "already used"),
    ],
)
def test_codes_are_single_use(shared, first, second, why):
    code = _code(shared)
    _exchange(shared, code, **first)
    answer = _exchange(shared, code, **second)
    assert answer.status_code == 400
    assert answer.json()["error"] == "invalid_grant" and why in answer.json()["error_description"]


@pytest.mark.parametrize(
    "changes, status, error, why",
    [
        ({"code_verifier": "w" * 43}, 400, "invalid_grant", "code_verifier does not match"),
        ({"code_verifier": None}, 400, "invalid_grant", "code_verifier is missing"),
        ({"redirect_uri": "http://127.0.0.1:1/callback"}, 400, "invalid_grant", "redirect_uri"),
        ({"code": "nope"}, 400, "invalid_grant", "unknown"),
        ({"code": None}, 400, "invalid_request", "code is required"),
        ({"client_id": "23" + "0" * 30}, 401, "invalid_client", "unknown"),
    ],
)
def test_token_endpoint_errors(shared, changes, status, error, why):
    answer = _exchange(shared, _code(shared), **changes)
    assert answer.status_code == status
    assert answer.json()["error"] == error and why in answer.json()["error_description"]
    assert "refresh_token" not in answer.json()


def test_codes_expire_by_the_sandbox_clock(sandbox):
    code = _code(sandbox)
    sandbox.advance(61)
    answer = _exchange(sandbox, code)
    assert answer.status_code == 400 and "expired" in answer.json()["error_description"]


def test_faults_and_the_request_log_cover_the_endpoint(sandbox):
    sandbox.set_faults(paths="^/oauth/authorize", script=[503])
    answer = requests.get(sandbox.authorize_url, params=_params(sandbox))
    assert answer.status_code == 503 and answer.headers["Content-Type"].startswith("text/html")
    assert requests.get(sandbox.authorize_url, params=_params(sandbox)).status_code == 200
    log = [(r.method, r.path, r.status) for r in sandbox.requests]
    assert log == [("GET", "/oauth/authorize", 503), ("GET", "/oauth/authorize", 200)]
    put = requests.put(sandbox.authorize_url)
    assert put.status_code == 405 and put.headers["Allow"] == "GET, POST"
