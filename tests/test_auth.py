"""TokenAuth against a real in-process Sandbox over HTTP: counts of token requests, expiry with a
pinned clock, 401 recovery, threads, and tokens kept out of reprs and logs."""

from __future__ import annotations

import logging
import threading

import pytest
import requests

import bt_explore
from bt_explore import AuthenticationError, Client, PermissionDenied, Settings, TokenAuth
from bt_explore.auth import now_seconds

NOW = "2026-12-01T09:00:00+01:00"


def settings_for(sb, **overrides):
    values = dict(
        client_id=sb.client_id,
        client_secret=sb.client_secret,
        organization_id=sb.organization_id,
        auth_url=sb.auth_url,
        api_url=sb.api_url,
        env_file=None,
    )
    values.update(overrides)
    return Settings(**values)


def grants(sb):
    return [r.grant_type for r in sb.token_requests]


def test_no_io_until_the_first_request(sb):
    client = bt_explore.connect(sandbox=sb)
    assert sb.requests == []
    client.organization()
    assert grants(sb) == ["client_credentials", "refresh_token"]


def test_the_refresh_step_names_the_organization_of_the_url(sb):
    client = bt_explore.connect(sandbox=sb)
    client.organization()
    client.countries()  # static/*: a token without organization
    refreshes = [r for r in sb.token_requests if r.grant_type == "refresh_token"]
    assert [r.organization_id for r in refreshes] == [sb.organization_id, None]


def test_token_requests_are_form_urlencoded(sb):
    seen = []
    session = requests.Session()
    session.hooks["response"].append(
        lambda r, **kw: seen.append(r.request) if "oauth" in r.url else None
    )
    bt_explore.connect(sandbox=sb, session=session).organization()
    assert {r.headers["Content-Type"] for r in seen} == {"application/x-www-form-urlencoded"}


def test_two_organizations_alternating_cost_one_refresh_each(sb):
    # The demo client may access one organization; grant it the second one too, so that the
    # test shows per-organization caching with two real organizations.
    sb.state.data.clients[sb.client_id]["organizationIds"].append(sb.other_organization_id)
    client = bt_explore.connect(sandbox=sb)
    for _ in range(5):
        assert client.organization()["id"] == sb.organization_id
        other = client.organization(organization_id=sb.other_organization_id)
        assert other["id"] == sb.other_organization_id
        client.countries()
    assert grants(sb) == ["client_credentials", "refresh_token", "refresh_token", "refresh_token"]
    assert len(sb.api_requests) == 15
    assert all(r.status == 200 for r in sb.requests)


def test_one_hour_of_steady_use_with_a_pinned_clock(sb):
    """A call every 30 s for an hour: tokens are requested exactly when expiry demands.

    Access tokens live 300 s and are renewed 60 s early, so every 240 s: at 0, 240, …, 3360
    (15 refreshes). The refresh token lives 1800 s, renewed 60 s early: it is stale from
    1740 s, so the first access renewal after that (1920 s) starts with client credentials
    again (2 in all). No call ever meets an expired token.
    """
    client = bt_explore.connect(sandbox=sb)
    for _ in range(120):
        client.organization()
        sb.advance(30)
    assert grants(sb).count("client_credentials") == 2
    assert grants(sb).count("refresh_token") == 15
    assert len(grants(sb)) == 17
    assert all(r.status == 200 for r in sb.requests)
    times = [r.time for r in sb.token_requests if r.grant_type == "refresh_token"]
    start = times[0]
    assert [round((t - start).total_seconds()) for t in times] == list(range(0, 3361, 240))


def test_renew_before_is_configurable(sb):
    auth = TokenAuth(settings_for(sb), clock=sb.now, renew_before=10)
    url = f"{sb.api_url}en/organization/{sb.organization_id}/show"
    for _ in range(30):  # 290 s: one access token lasts (renewed only from 290 s on)
        assert requests.get(url, auth=auth).status_code == 200
        sb.advance(10)
    assert grants(sb) == ["client_credentials", "refresh_token", "refresh_token"]


def test_a_401_mid_session_recovers_transparently(sb):
    client = bt_explore.connect(sandbox=sb)
    first = client.templates()
    sb.expire_tokens()  # every token so far is revoked: access and refresh
    sb.clear_requests()
    assert client.templates() == first
    assert [(r.grant_type, r.status) for r in sb.requests] == [
        (None, 401),
        ("refresh_token", 400),  # the revoked refresh token is refused (invalid_grant) …
        ("client_credentials", 200),  # … so the client starts over
        ("refresh_token", 200),
        (None, 200),
    ]


def test_a_second_401_is_not_retried_again(sb):
    client = bt_explore.connect(sandbox=sb)
    client.organization()
    sb.set_faults(script=[401, 401])
    with pytest.raises(AuthenticationError) as info:
        client.organization()
    assert info.value.status_code == 401
    assert [r.status for r in sb.api_requests] == [200, 401, 401]


def test_bad_credentials_raise_authentication_error(sb):
    client = Client(settings_for(sb, client_id="23" + "x" * 30), clock=sb.now)
    with pytest.raises(AuthenticationError) as info:
        client.templates()
    assert info.value.status_code == 401
    assert "invalid_client" in str(info.value)
    assert sb.api_requests == []


def test_organization_not_granted_raises_permission_denied(sb):
    client = bt_explore.connect(sandbox=sb)
    with pytest.raises(PermissionDenied) as info:
        client.organization(organization_id=sb.other_organization_id)
    assert info.value.status_code == 403
    assert sb.other_organization_id in str(info.value)


def test_eight_threads_starting_cold_share_one_token(sb):
    client = bt_explore.connect(sandbox=sb)
    barrier = threading.Barrier(8)
    results, errors = [], []

    def work():
        try:
            barrier.wait()
            results.append(len(client.templates()))
        except Exception as exc:  # surfaced below; a thread must not swallow it
            errors.append(exc)

    threads = [threading.Thread(target=work) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert len(results) == 8 and len(set(results)) == 1
    assert grants(sb) == ["client_credentials", "refresh_token"]


def test_tokens_never_appear_in_reprs_or_logs(sb, caplog):
    tokens: list[str] = []

    def grab(response, **kwargs):
        if response.url.endswith("/oauth/token") and response.ok:
            body = response.json()
            tokens.extend(v for k, v in body.items() if k.endswith("_token"))

    session = requests.Session()
    session.hooks["response"].append(grab)
    caplog.set_level(logging.DEBUG)  # every logger, urllib3 and werkzeug included
    client = bt_explore.connect(sandbox=sb, session=session)
    templates = client.templates()
    slot = client.earliest_slot(templates[0]["id"])["bookingSlotList"][0]
    client.book(slot["id"], {"firstName": "Ada", "lastName": "Lovelace", "email": "a@b.de"})
    sb.expire_tokens()  # force the 401 path and its log lines too
    client.organization()
    errors = []
    for call in (
        lambda: client.organization(organization_id=sb.other_organization_id),
        lambda: Client(settings_for(sb, client_id="23" + "y" * 30), session=session).templates(),
    ):
        try:
            call()
        except Exception as exc:
            errors.append(exc)
    assert len(tokens) >= 4 and len(errors) == 2
    texts = [record.getMessage() for record in caplog.records]
    texts += [repr(client), str(client), repr(client.auth), str(client.auth), repr(client.settings)]
    texts += [repr(t) for t in client.auth._access.values()]
    texts += [str(e) for e in errors] + [repr(e) for e in errors]
    for text in texts:
        for token in tokens:
            assert token not in text
        assert "Bearer ey" not in text


def test_the_organization_is_said_explicitly_not_read_from_the_url(sb):
    auth = TokenAuth(settings_for(sb), clock=sb.now)
    org_url = f"{sb.api_url}en/organization/{sb.organization_id}/show"
    static_url = f"{sb.api_url}en/static/country/list"
    assert requests.get(org_url, auth=auth, timeout=5).status_code == 200  # the settings' org
    assert requests.get(static_url, auth=auth.for_organization(None), timeout=5).status_code == 200
    refreshes = [r.organization_id for r in sb.token_requests if r.grant_type == "refresh_token"]
    assert refreshes == [sb.organization_id, None]
    # a token of one organization is refused for another: the URL does not choose the token
    other = f"{sb.api_url}en/organization/{sb.other_organization_id}/show"
    assert requests.get(other, auth=auth, timeout=5).status_code == 403


def test_clock_may_return_seconds_or_aware_datetimes(sb):
    assert now_seconds(lambda: 12.5) == 12.5
    assert now_seconds(sb.now) == sb.now().timestamp()
    with pytest.raises(TypeError, match="naive"):
        from datetime import datetime

        now_seconds(datetime.now)
