"""The sandbox's authorization endpoint: a person signs in and lets an application act for them.

``GET /oauth/authorize`` shows a small sign-in and consent page (plain HTML, no JavaScript);
posting it back either declines (``error=access_denied``) or signs a demo user in and redirects
to the application's ``redirect_uri`` with a one-time ``code``. The token endpoint then trades
that code, with the PKCE ``code_verifier``, for a refresh token that carries the person's grant:
the refresh step allows the organizations the person belongs to, not those of the application.

The rules, as RFC 6749 §4.1, RFC 7636 (PKCE) and RFC 8252 (native apps) set them:

- an unknown ``client_id`` or an unregistered ``redirect_uri`` is shown on the page and never
  redirected (a redirect would hand the answer to whoever named that URI); every other error
  goes back to the redirect URI with ``error``, ``error_description`` and the ``state``;
- a loopback redirect URI (``http://127.0.0.1`` or ``http://[::1]``) matches a registered one
  on any port;
- public clients (no secret) must send ``code_challenge`` with ``code_challenge_method=S256``;
- a code lives ``code_lifetime`` seconds of the *sandbox* clock, is single-use and is bound to
  the client, the redirect URI and the challenge; a code presented a second time is refused
  and revokes the refresh token it was exchanged for, with its access tokens (§4.1.2);
- a confidential client (one with a ``secret``) must send it in the code exchange; a public
  client's exchange must not send one.

Demo users come from ``users.json`` in the sandbox's data folder (else the package's).

Example:
    >>> from datetime import datetime, timezone
    >>> users = load_users()
    >>> sorted(users)[0]
    'ada@example.com'
    >>> s256("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk")
    'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM'
"""

from __future__ import annotations

import base64
import hashlib
import html
import importlib.resources as importlib_resources
import re
import secrets
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol
from urllib.parse import parse_qs, parse_qsl, urlencode, urlsplit, urlunsplit

import msgspec

from bt_explore.endpoints import AUTHORIZE_PATH

if TYPE_CHECKING:  # pragma: no cover
    from flask import Response

    from bt_explore.sandbox.auth import TokenService


class SandboxState(Protocol):
    """What this module needs of :class:`~bt_explore.sandbox.state.SandboxState` (which builds
    a :class:`SignIns`, so this module cannot import it)."""

    data: Any
    tokens: TokenService
    signins: SignIns


__all__ = [
    "AUTHORIZE_PATH",
    "DemoUser",
    "SignIns",
    "authorization_code_grant",
    "authorize_view",
    "error_page",
    "headless_browser",
    "load_users",
    "redirect_uri_allowed",
    "s256",
]

#: The authorization endpoint's path.
#: How long an authorization code is valid, in seconds of the sandbox clock (RFC 6749 §4.1.2
#: recommends at most 10 minutes; a browser that comes back at all comes back within seconds).
CODE_LIFETIME = 60

_PKCE = re.compile(r"^[A-Za-z0-9._~-]{43,128}$")
_CHALLENGE = re.compile(r"^[A-Za-z0-9_-]{43}$")
_LOOPBACK_HOSTS = ("127.0.0.1", "[::1]")
_PARAMS = (
    "response_type",
    "client_id",
    "redirect_uri",
    "state",
    "code_challenge",
    "code_challenge_method",
    "organization_id",
)
_NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}


def s256(verifier: str) -> str:
    """The PKCE S256 code challenge of ``verifier`` (RFC 7636 §4.2).

    Example:
        >>> len(s256("a" * 43))
        43
    """
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


@dataclass(frozen=True)
class DemoUser:
    """A person who can sign in to the sandbox (repr hides the password)."""

    id: str
    username: str
    password: str
    name: str
    organization_ids: tuple[str, ...]

    def __repr__(self) -> str:
        return f"DemoUser(username={self.username!r}, organizations={len(self.organization_ids)})"


def load_users(data_dir: str | Path | None = None) -> dict[str, DemoUser]:
    """The demo users of ``data_dir/users.json`` (else the package's), by username.

    Example:
        >>> load_users()["ada@example.com"].name
        'Ada Demo'
    """
    path = Path(data_dir) / "users.json" if data_dir is not None else None
    if path is not None and path.is_file():
        raw = path.read_bytes()
    else:
        resource = importlib_resources.files("bt_explore.sandbox").joinpath("data", "users.json")
        raw = resource.read_bytes()
    try:
        records = msgspec.json.decode(raw)
        users = [
            DemoUser(
                id=str(r["id"]),
                username=str(r["username"]),
                password=str(r["password"]),
                name=str(r.get("name") or r["username"]),
                organization_ids=tuple(r.get("organizationIds") or ()),
            )
            for r in records
        ]
    except (msgspec.DecodeError, KeyError, TypeError) as exc:
        raise ValueError(f"sandbox data: users.json is not a list of users ({exc})") from None
    return {u.username: u for u in users}


@dataclass(frozen=True)
class _Code:
    client_id: str
    redirect_uri: str
    challenge: str | None
    user_id: str
    organization_ids: tuple[str, ...]
    expires_at: float


class SignIns:
    """The demo users and the authorization codes handed out and not yet redeemed.

    Example:
        >>> from datetime import datetime, timezone
        >>> signins = SignIns(lambda: datetime(2026, 12, 1, tzinfo=timezone.utc))
        >>> signins.check_password("ada@example.com", "wrong") is None
        True
    """

    def __init__(
        self,
        clock: Callable[[], datetime],
        data_dir: str | Path | None = None,
        *,
        code_lifetime: int = CODE_LIFETIME,
    ) -> None:
        self._clock = clock
        self.users = load_users(data_dir)
        self.code_lifetime = int(code_lifetime)
        self._codes: dict[str, _Code] = {}
        # used code -> (when it would have expired, the id of the refresh token it gave)
        self._used: dict[str, tuple[float, str]] = {}
        self._lock = threading.Lock()

    def __repr__(self) -> str:
        return f"SignIns(users={len(self.users)}, codes={len(self._codes)})"

    def check_password(self, username: str, password: str) -> DemoUser | None:
        """The user with these credentials, else ``None``."""
        user = self.users.get(username.strip())
        if user is None or not secrets.compare_digest(user.password, password):
            return None
        return user

    def issue(
        self,
        client_id: str,
        redirect_uri: str,
        challenge: str | None,
        user: DemoUser,
        organization_ids: tuple[str, ...],
    ) -> str:
        """A new single-use code for this client, redirect URI, challenge and grant."""
        now = self._clock().timestamp()
        code = secrets.token_urlsafe(32)
        with self._lock:
            for key in [k for k, c in self._codes.items() if c.expires_at <= now]:
                del self._codes[key]
            for key in [k for k, (t, _) in self._used.items() if t <= now]:
                del self._used[key]
            self._codes[code] = _Code(
                client_id,
                redirect_uri,
                challenge,
                user.id,
                organization_ids,
                now + self.code_lifetime,
            )
        return code

    def redeem(self, code: str) -> _Code:
        """Take ``code`` out of the store (a code is used once, even when the exchange then
        fails); raises ``LookupError`` naming why it cannot be used, :class:`CodeReplayed`
        (with the id of the refresh token the code gave) for a code used before."""
        now = self._clock().timestamp()
        with self._lock:
            issued = self._codes.pop(code, None)
            if issued is None:
                if code in self._used:
                    raise CodeReplayed(self._used[code][1])
                raise LookupError("the authorization code is unknown")
            self._used[code] = (issued.expires_at, "")
        if now >= issued.expires_at:
            raise LookupError("the authorization code has expired")
        return issued

    def exchanged(self, code: str, token_id: str) -> None:
        """Note that ``code`` gave the refresh token ``token_id`` (revoked if it is replayed)."""
        with self._lock:
            if code in self._used:
                self._used[code] = (self._used[code][0], token_id)


class CodeReplayed(LookupError):
    """An authorization code was presented a second time; ``token_id`` is the refresh token
    it was exchanged for (empty when the first exchange failed)."""

    def __init__(self, token_id: str) -> None:
        super().__init__("the authorization code was already used")
        self.token_id = token_id


def redirect_uri_allowed(client: Mapping[str, Any], uri: str) -> bool:
    """Whether ``uri`` is one of the client's registered redirect URIs; loopback IP URIs match
    on any port (RFC 8252 §7.3).

    Example:
        >>> client = {"redirectUris": ["http://127.0.0.1/callback"]}
        >>> [redirect_uri_allowed(client, u) for u in (
        ...     "http://127.0.0.1:51234/callback", "http://127.0.0.1/other", "http://evil.test/callback")]
        [True, False, False]
    """
    try:
        parts = urlsplit(uri)
        port = parts.port
    except ValueError:
        return False
    if parts.fragment or not parts.scheme:
        return False
    for registered in client.get("redirectUris") or ():
        reg = urlsplit(registered)
        if (parts.scheme, parts.path, parts.query) != (reg.scheme, reg.path, reg.query):
            continue
        host = parts.netloc.rsplit(":", 1)[0] if port is not None else parts.netloc
        if reg.netloc in _LOOPBACK_HOSTS and reg.scheme == "http" and host == reg.netloc:
            return True
        if parts.netloc == reg.netloc:
            return True
    return False


def _with_query(uri: str, params: Mapping[str, str | None]) -> str:
    parts = urlsplit(uri)
    query = parse_qsl(parts.query, keep_blank_values=True)
    query += [(k, v) for k, v in params.items() if v is not None]
    return urlunsplit(parts._replace(query=urlencode(query)))


# --- the page ----------------------------------------------------------------------------------
_STYLE = (
    "body{font-family:system-ui,sans-serif;max-width:34rem;margin:3rem auto;padding:0 1rem}"
    "label{display:block;margin:.6rem 0}input[type=text],input[type=password]{width:100%}"
    ".error{color:#a00}.hint{color:#555;font-size:.9rem}button{margin:.8rem .6rem 0 0}"
)


def _page(title: str, body: str) -> str:
    return (
        '<!doctype html><html lang="en"><head><meta charset="utf-8">'
        f"<title>{html.escape(title)}</title><style>{_STYLE}</style></head>"
        f"<body><h1>{html.escape(title)}</h1>{body}</body></html>"
    )


def _html(text: str, status: int, headers: Mapping[str, str] | None = None) -> Response:
    from flask import Response

    answer = Response(text, status=status, mimetype="text/html")
    answer.headers.update(_NO_STORE)
    # the page must not be framed by another site (clickjacking the consent)
    answer.headers["X-Frame-Options"] = "DENY"
    answer.headers["Content-Security-Policy"] = "default-src 'none'; style-src 'unsafe-inline'"
    answer.headers.update(headers or {})
    return answer


def error_page(status: int, description: str) -> Response:
    """An error shown on the page itself (never redirected): unknown client, bad redirect URI.

    Example:
        >>> from flask import Flask
        >>> with Flask(__name__).app_context():
        ...     error_page(400, "client_id is unknown").status_code
        400
    """
    body = (
        f'<p class="error" id="error">{html.escape(description)}</p>'
        "<p>The application that sent you here made a mistake; go back to it and try again.</p>"
    )
    return _html(_page("Sign-in failed", body), status)


def _consent_page(
    state: SandboxState, params: Mapping[str, str], client: Mapping[str, Any], error: str = ""
) -> str:
    hidden = "".join(
        f'<input type="hidden" name="{k}" value="{html.escape(params[k])}">'
        for k in _PARAMS
        if params.get(k)
    )
    org = params.get("organization_id")
    what = (
        f"organization <code>{html.escape(org)}</code>"
        if org
        else "the organizations you belong to"
    )
    users = ", ".join(
        f"<code>{html.escape(u.username)}</code> / <code>{html.escape(u.password)}</code>"
        for u in state.signins.users.values()
    )
    problem = f'<p class="error" id="error">{html.escape(error)}</p>' if error else ""
    body = (
        f"<p><strong>{html.escape(str(client.get('name') or client['id']))}</strong> asks to "
        f"read and book appointments in {what} on your behalf.</p>{problem}"
        f'<form method="post" action="{AUTHORIZE_PATH}">{hidden}'
        '<label>E-mail <input type="text" name="username" autocomplete="username"></label>'
        '<label>Password <input type="password" name="password" '
        'autocomplete="current-password"></label>'
        '<button type="submit" name="decision" value="allow" id="allow">Sign in and allow</button>'
        '<button type="submit" name="decision" value="deny" id="deny">Decline</button></form>'
        f'<p class="hint">bt_explore sandbox demo users: {users}</p>'
    )
    return _page("Sign in to the bookingtime sandbox", body)


class _Redirect(Exception):
    def __init__(self, error: str, description: str) -> None:
        super().__init__(f"{error}: {description}")
        self.error = error
        self.description = description


def _check_request(
    state: SandboxState, args: Any
) -> tuple[dict[str, str], Mapping[str, Any] | Response]:
    """The parameters and the client, or the page that shows why there is no client."""
    params = {k: args.get(k, "") for k in _PARAMS}
    client_id = params["client_id"]
    if not client_id:
        return params, error_page(400, "client_id is missing")
    client = state.data.clients.get(client_id)
    if client is None:
        return params, error_page(400, "client_id is unknown")
    if len(args.getlist("client_id")) > 1 or len(args.getlist("redirect_uri")) > 1:
        return params, error_page(400, "client_id or redirect_uri is given more than once")
    if not params["redirect_uri"]:
        return params, error_page(400, "redirect_uri is missing")
    if not redirect_uri_allowed(client, params["redirect_uri"]):
        return params, error_page(
            400, "redirect_uri is not registered for this client (loopback URIs match any port)"
        )
    return params, client


def _check_parameters(args: Any, params: Mapping[str, str], client: Mapping[str, Any]) -> None:
    for key in _PARAMS:
        if len(args.getlist(key)) > 1:
            raise _Redirect("invalid_request", f"{key} is given more than once")
    if params["response_type"] != "code":
        if not params["response_type"]:
            raise _Redirect("invalid_request", "response_type is missing; send response_type=code")
        raise _Redirect("unsupported_response_type", "only response_type=code is supported")
    challenge, method = params["code_challenge"], params["code_challenge_method"]
    if not challenge and not client.get("secret"):
        raise _Redirect("invalid_request", "code_challenge is required for public clients (PKCE)")
    if challenge:
        if method != "S256":
            raise _Redirect("invalid_request", "code_challenge_method must be S256")
        if not _CHALLENGE.fullmatch(challenge):
            raise _Redirect("invalid_request", "code_challenge is not a base64url SHA-256 digest")


def authorize_view(state: SandboxState) -> Callable[[], Response]:
    """The Flask view of ``GET/POST /oauth/authorize`` over ``state``."""

    def authorize() -> Response:
        from flask import Response, request

        args = request.args if request.method == "GET" else request.form
        params, client = _check_request(state, args)
        if not isinstance(client, Mapping):
            return client
        redirect_uri = params["redirect_uri"]

        def back(**answer: str | None) -> Response:
            answer["state"] = params["state"] or None
            found = Response(status=302, headers={"Location": _with_query(redirect_uri, answer)})
            found.headers.update(_NO_STORE)
            return found

        try:
            _check_parameters(args, params, client)
        except _Redirect as exc:
            return back(error=exc.error, error_description=exc.description)
        if request.method == "GET":
            return _html(_consent_page(state, params, client), 200)
        if request.form.get("decision") != "allow":
            return back(error="access_denied", error_description="the person declined")
        user = state.signins.check_password(
            request.form.get("username", ""), request.form.get("password", "")
        )
        if user is None:
            page = _consent_page(state, params, client, "Wrong e-mail or password.")
            return _html(page, 400)
        granted = user.organization_ids
        if params["organization_id"]:
            if params["organization_id"] not in user.organization_ids:
                page = _consent_page(
                    state, params, client, f"{user.name} does not belong to that organization."
                )
                return _html(page, 400)
            granted = (params["organization_id"],)
        code = state.signins.issue(
            client["id"], redirect_uri, params["code_challenge"] or None, user, granted
        )
        return back(code=code)

    return authorize


def _grant_error(status: int, error: str, description: str) -> tuple[int, dict[str, Any]]:
    return status, {"error": error, "error_description": description}


def authorization_code_grant(
    state: SandboxState, params: Mapping[str, str]
) -> tuple[int, dict[str, Any]]:
    """The token endpoint's answer (status, JSON) to ``grant_type=authorization_code``: a
    refresh token carrying the person's grant, or an RFC 6749 §5.2 error."""
    problem = _client_problem(state, params)
    if problem is not None:
        return problem
    code = params.get("code", "")
    if not code:
        return _grant_error(400, "invalid_request", "code is required")
    if not params.get("redirect_uri"):
        return _grant_error(400, "invalid_request", "redirect_uri is required")
    try:
        issued = state.signins.redeem(code)
    except CodeReplayed as exc:
        if exc.token_id:  # RFC 6749 §4.1.2: revoke what the code gave
            state.tokens.revoke_id(exc.token_id)
        return _grant_error(400, "invalid_grant", f"{exc}; the tokens it gave have been revoked")
    except LookupError as exc:
        return _grant_error(400, "invalid_grant", str(exc))
    problem = _code_problem(issued, params)
    if problem is not None:
        return problem
    token = state.tokens.issue_refresh(
        params["client_id"], user_id=issued.user_id, organization_ids=issued.organization_ids
    )
    state.signins.exchanged(code, token.token_id)
    return 200, {
        "refresh_token": token.token,
        "token_type": "Bearer",
        "expires_in": token.expires_in,
    }


def _client_problem(
    state: SandboxState, params: Mapping[str, str]
) -> tuple[int, dict[str, Any]] | None:
    """The error answer when the request does not authenticate a known client (a confidential
    one with its secret, a public one with none), else ``None``."""
    client_id = params.get("client_id", "")
    if not client_id:
        return _grant_error(400, "invalid_request", "client_id is required")
    client = state.data.clients.get(client_id)
    if client is None:
        return _grant_error(401, "invalid_client", "client_id is unknown")
    secret = client.get("secret", "")
    given = params.get("client_secret", "")
    if secret and not given:
        return _grant_error(401, "invalid_client", "client_secret is required for this client")
    if (secret or given) and not secrets.compare_digest(secret, given):
        # a public client has no secret: one sent anyway is wrong, not ignored
        return _grant_error(401, "invalid_client", "client_secret is wrong")
    return None


def _code_problem(issued: _Code, params: Mapping[str, str]) -> tuple[int, dict[str, Any]] | None:
    """The ``invalid_grant`` answer when the redeemed code ``issued`` does not belong to this
    request (another client, another redirect_uri, a PKCE verifier missing or not matching its
    challenge), else ``None``."""
    if issued.client_id != params["client_id"]:
        return _grant_error(400, "invalid_grant", "the code was issued to another client")
    if issued.redirect_uri != params["redirect_uri"]:
        return _grant_error(
            400, "invalid_grant", "redirect_uri differs from the one the code was issued for"
        )
    verifier = params.get("code_verifier", "")
    if issued.challenge is None:
        return None
    if not verifier:
        return _grant_error(400, "invalid_grant", "code_verifier is missing")
    if not _PKCE.fullmatch(verifier) or not secrets.compare_digest(
        s256(verifier), issued.challenge
    ):
        return _grant_error(400, "invalid_grant", "code_verifier does not match the challenge")
    return None


def headless_browser(
    username: str, password: str, *, decision: str = "allow", timeout: float = 10.0
) -> Callable[[str], None]:
    """A stand-in for a person at a browser, for tests and examples: given the sign-in URL, it
    opens the page, submits ``username``/``password`` with ``decision`` (``"allow"`` or
    ``"deny"``) and follows the redirect to the application, all with ``requests``.

    Pass it as ``show_url=`` to :func:`bt_explore.login` / :func:`bt_explore.signin.sign_in`
    with ``open_browser=False``. It only ever talks to loopback addresses.

    Example:
        >>> person = headless_browser("ada@example.com", "ada-demo")
        >>> callable(person)
        True
    """
    import requests

    def browse(url: str) -> None:
        with requests.Session() as session:
            session.trust_env = False  # loopback only: no proxies from the environment
            page = session.get(url, timeout=timeout, allow_redirects=False)
            if page.status_code != 200:  # an error page, or already redirected back with an error
                if page.is_redirect:
                    session.get(page.headers["Location"], timeout=timeout)
                return
            form = {k: v[0] for k, v in parse_qs(urlsplit(url).query).items()}
            form.update(username=username, password=password, decision=decision)
            post_url = urlunsplit(urlsplit(url)._replace(query=""))
            answer = session.post(post_url, data=form, timeout=timeout, allow_redirects=False)
            if answer.is_redirect:
                session.get(answer.headers["Location"], timeout=timeout)

    return browse
