"""Signing in as a person (bt_explore.login / signin.sign_in) against the sandbox, with requests
in the browser's role; every bad input ends with a clear error, no token, nothing listening."""

from __future__ import annotations

import logging
import os
import socket
import stat
import threading
import webbrowser
from urllib.parse import parse_qs, urlencode, urlsplit, urlunsplit

import pytest
import requests

import bt_explore
import bt_explore.signin as signin
from bt_explore import AuthenticationError, PermissionDenied, SignInError
from bt_explore.cli import main
from bt_explore.sandbox.authorize import headless_browser

ADA = headless_browser("ada@example.com", "ada-demo")


@pytest.fixture(autouse=True)
def _no_real_browser(monkeypatch, tmp_path):
    """No test opens the system browser, and sign-ins are stored under tmp_path."""

    def refuse(url, *args, **kwargs):
        raise AssertionError("a test tried to open the system browser")

    monkeypatch.setattr(webbrowser, "open", refuse)
    monkeypatch.setenv(signin.CONFIG_DIR_ENV, str(tmp_path / "config"))


def _redirect_uri(url: str) -> str:
    return parse_qs(urlsplit(url).query)["redirect_uri"][0]


def _nothing_listens(redirect_uri: str) -> None:
    port = urlsplit(redirect_uri).port
    with pytest.raises(OSError), socket.create_connection(("127.0.0.1", port), timeout=1):
        pass
    assert not [t for t in threading.enumerate() if t.name.startswith("bt-explore-signin")]


def _login(sb, show_url, **kwargs):
    return bt_explore.login(sandbox=sb, open_browser=False, show_url=show_url, **kwargs)


def test_a_person_signs_in_and_books_where_the_application_alone_may_not(sandbox):
    other = sandbox.other_organization_id
    with bt_explore.connect(sandbox=sandbox) as app_alone:
        with pytest.raises(PermissionDenied):
            app_alone.templates(organization_id=other)
    seen = []

    def browser(url):
        seen.append(url)
        ADA(url)

    with _login(sandbox, browser, sign_in_timeout=5) as client:
        template = client.templates(organization_id=other)[0]
        slot = client.earliest_slot(template["id"], organization_id=other)["bookingSlotList"][0]
        customer = {"gender": "FEMALE", "firstName": "Ada", "lastName": "Demo"}
        booked = client.book(slot["id"], customer, template=template, organization_id=other)
        assert client.appointment(booked["id"], organization_id=other)["id"] == booked["id"]
        # renewed per organization exactly like today: one refresh per organization
        assert client.auth.token_requests["client_credentials"] == 0
        assert client.auth.token_requests["authorization_code"] == 1
        assert "PersonGrant(user='ada'" in repr(client.auth.refresh_source)
    _nothing_listens(_redirect_uri(seen[0]))
    (url,) = seen
    query = parse_qs(urlsplit(url).query)
    assert query["code_challenge_method"] == ["S256"] and len(query["state"][0]) >= 32


def _tampered(**changes):
    """A browser whose redirect reaches the application with ``changes`` to its query."""

    def browser(url):
        with requests.Session() as s:
            form = {k: v[0] for k, v in parse_qs(urlsplit(url).query).items()}
            form.update(username="ada@example.com", password="ada-demo", decision="allow")
            answer = s.post(url.split("?")[0], data=form, allow_redirects=False)
            parts = urlsplit(answer.headers["Location"])
            query = {k: v[0] for k, v in parse_qs(parts.query).items()}
            query.update(changes)
            query = {k: v for k, v in query.items() if v is not None}
            s.get(urlunsplit(parts._replace(query=urlencode(query))))

    return browser


@pytest.mark.parametrize(
    "browser, reason",
    [
        (_tampered(state="forged"), "state_mismatch"),
        (_tampered(state=None), "state_missing"),
        (headless_browser("ada@example.com", "", decision="deny"), "access_denied"),
    ],
)
def test_bad_redirects_end_in_a_sign_in_error(sandbox, browser, reason):
    """A redirect with another or no state is not ours: it is ignored, and the sign-in ends
    when ours does not come (here after 3 s) with the reason it was not ours."""
    seen = []
    with pytest.raises(SignInError) as caught:
        _login(sandbox, lambda url: (seen.append(url), browser(url)), sign_in_timeout=3)
    assert caught.value.reason == reason
    assert reason in str(caught.value)
    assert not [r for r in sandbox.token_requests]  # no token was requested
    _nothing_listens(_redirect_uri(seen[0]))


def test_a_wrong_code_verifier_is_refused(sandbox, monkeypatch):
    real = signin.pkce_pair
    monkeypatch.setattr(signin, "pkce_pair", lambda: (real()[0], real()[1]))
    seen = []
    with pytest.raises(AuthenticationError) as caught:
        _login(sandbox, lambda url: (seen.append(url), ADA(url)), sign_in_timeout=5)
    assert "invalid_grant" in str(caught.value) and "code_verifier" in str(caught.value)
    assert [r.status for r in sandbox.token_requests] == [400]
    _nothing_listens(_redirect_uri(seen[0]))


def _stealing(sb, *, advance: float = 0):
    """A browser that lets someone else redeem the code first (or waits ``advance`` s)."""

    def browser(url):
        with requests.Session() as s:
            form = {k: v[0] for k, v in parse_qs(urlsplit(url).query).items()}
            form.update(username="ada@example.com", password="ada-demo", decision="allow")
            location = s.post(url.split("?")[0], data=form, allow_redirects=False).headers[
                "Location"
            ]
            if advance:
                sb.advance(advance)
            else:
                code = parse_qs(urlsplit(location).query)["code"][0]
                redirect_uri = location.split("?")[0]
                thief = {"client_id": sb.client_id, "redirect_uri": redirect_uri, "code": code}
                s.post(sb.auth_url, data={"grant_type": "authorization_code", **thief})
            s.get(location)

    return browser


@pytest.mark.parametrize("advance, why", [(0, "already used"), (61, "expired")])
def test_a_reused_or_expired_code_is_refused(sandbox, advance, why):
    with pytest.raises(AuthenticationError) as caught:
        _login(sandbox, _stealing(sandbox, advance=advance), sign_in_timeout=5)
    assert "invalid_grant" in str(caught.value) and why in str(caught.value)


def test_an_unregistered_redirect_uri_stays_on_the_page_and_the_wait_times_out(sandbox, tmp_path):
    (tmp_path / "clients.json").write_text(
        '[{"id": "23123456788998745612312345678912", "secret": "", "name": "no redirect",'
        ' "organizationIds": ["f6123456789101112131415aBCdeFgHi"], "redirectUris": []}]'
    )
    pages = []

    def browser(url):
        pages.append(requests.get(url, allow_redirects=False))

    with bt_explore.Sandbox(data_dir=tmp_path) as sb, pytest.raises(SignInError) as caught:
        _login(sb, browser, sign_in_timeout=0.3)
    assert caught.value.reason == "timeout" and "did not come back" in str(caught.value)
    assert pages[0].status_code == 400 and "redirect_uri is not registered" in pages[0].text


def test_a_browser_that_never_returns_times_out_and_leaves_nothing(sandbox):
    seen = []
    with pytest.raises(SignInError, match="timeout"):
        _login(sandbox, seen.append, sign_in_timeout=0.2)
    _nothing_listens(_redirect_uri(seen[0]))


def test_ctrl_c_leaves_nothing_running(sandbox):
    seen = []

    def interrupted(url):
        seen.append(url)
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        _login(sandbox, interrupted)
    _nothing_listens(_redirect_uri(seen[0]))


def test_a_rejected_refresh_token_says_to_sign_in_again(sandbox, caplog):
    caplog.set_level(logging.DEBUG, logger="bt_explore")
    with _login(sandbox, ADA) as client:
        client.organization()
        token = client.auth.refresh_source.refresh_token
        sandbox.expire_tokens()
        with pytest.raises(AuthenticationError) as caught:
            client.organization(organization_id=sandbox.other_organization_id)
        assert "sign in again" in str(caught.value)
        assert client.auth.token_requests["client_credentials"] == 0  # no fallback
        for text in (str(caught.value), repr(client), repr(client.auth), caplog.text):
            assert token not in text


def test_an_expired_sign_in_says_to_sign_in_again(sandbox):
    with _login(sandbox, ADA) as client:
        client.organization()
        sandbox.advance(1801)
        with pytest.raises(AuthenticationError, match="has expired; sign in again"):
            client.organization()


def test_remember_keeps_the_sign_in_in_an_owner_only_file(sandbox):
    with _login(sandbox, ADA, remember=True) as client:
        client.organization()
    store = signin.TokenStore()
    assert stat.S_IMODE(os.stat(store.path).st_mode) == 0o600
    assert [e["user"] for e in store.entries()] == ["ada"]
    assert "refresh_token" not in repr(store.entries())

    def no_browser(url):
        raise AssertionError("the stored sign-in should have been used")

    with _login(sandbox, no_browser, remember=True) as client:
        assert client.organization(organization_id=sandbox.other_organization_id)["id"]


def test_cli_login_whoami_logout_and_demo_as_the_user(sandbox, monkeypatch, capsys):
    monkeypatch.setattr(webbrowser, "open", lambda url, *a, **k: ADA(url) or True)
    url = sandbox.base_url
    assert main(["login", "--sandbox", url, "--timeout", "5"]) == 0
    assert main(["whoami"]) == 0
    assert main(["demo", "--user", "--sandbox", url, "--no-book"]) == 0
    out = capsys.readouterr().out
    assert "signed in: ada for client 2312…12" in out
    assert "ada via client 2312…12 → organization Studio Wien" in out
    assert main(["logout"]) == 0 and main(["whoami"]) == 1
    assert "eyJ" not in out + capsys.readouterr().out


def test_cli_demo_user_on_its_own_sandbox(monkeypatch, capsys):
    monkeypatch.setattr(webbrowser, "open", lambda url, *a, **k: ADA(url) or True)
    assert main(["demo", "--user", "--no-book"]) == 0
    assert "ada via client" in capsys.readouterr().out


def test_cassettes_never_hold_the_code_or_the_verifier():
    from bt_explore import recording

    body = b"grant_type=authorization_code&code=abc123&code_verifier=xyz789&client_id=23x"
    scrubbed = recording._scrub_body(
        body, "application/x-www-form-urlencoded", recording.SECRET_PARAMETERS
    )
    assert b"abc123" not in scrubbed and b"xyz789" not in scrubbed
    assert b"grant_type=authorization_code" in scrubbed


def test_a_notebook_shows_a_link(monkeypatch, sandbox):
    shown = []
    monkeypatch.setattr(signin, "_in_notebook", lambda: True)
    monkeypatch.setattr(signin, "_show_in_notebook", lambda url: (shown.append(url), ADA(url)))
    with bt_explore.login(sandbox=sandbox, open_browser=False) as client:
        assert client.organization(organization_id=sandbox.other_organization_id)
    assert shown and shown[0].startswith(sandbox.authorize_url)


def test_a_pasted_redirect_address_is_checked_like_the_listeners():
    url = "http://127.0.0.1:5/callback?code=c0de&state=s1"
    assert signin._code_from(url + "\n", "s1") == "c0de"
    with pytest.raises(SignInError, match="state_mismatch"):
        signin._code_from(url, "other")


def test_connect_checks_the_auth_argument():
    with pytest.raises(ValueError, match="'app' or 'user'"):
        bt_explore.connect(mode="sandbox", auth="person")
    with pytest.raises(TypeError, match="only go with auth='user'"):
        bt_explore.connect(mode="sandbox", open_browser=False)


def test_a_notebook_s_sign_in_link_goes_away_after_sign_in(monkeypatch, sandbox):
    """The cell's output is the link while the sign-in waits, and no link once it is done."""
    import html
    import re

    display_module = pytest.importorskip("IPython.display")
    outputs: dict[int, str] = {}

    class Handle:
        def __init__(self, obj):
            self.id = len(outputs)
            outputs[self.id] = obj.data

        def update(self, obj):
            outputs[self.id] = obj.data

    def display(obj, display_id=None):
        handle = Handle(obj)
        ADA(html.unescape(re.search(r'href="([^"]+)"', obj.data).group(1)))  # the person clicks
        return handle if display_id else None

    monkeypatch.setattr(display_module, "display", display)
    monkeypatch.setattr(signin, "_in_notebook", lambda: True)
    with bt_explore.login(sandbox=sandbox, open_browser=False) as client:
        assert client.auth.refresh_source.user == "ada"
    assert outputs, "no link was shown"
    assert all("href" not in text and "Sign in to" not in text for text in outputs.values())
