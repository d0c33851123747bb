"""Sign in as a person: bookingtime's Authorization Code Flow with PKCE, as native apps do it.

bookingtime names two ways to authenticate. The Client Credentials Flow (the application alone)
is for test applications; on a person's own machine — a terminal, a notebook — bookingtime
wants the Authorization Code Flow: the person signs in in their browser and grants the
application access. :func:`sign_in` runs it the way RFC 8252 describes for native apps:

1. a :class:`LoopbackListener` on ``127.0.0.1`` and a free port waits for the browser;
2. the system browser opens the authorization URL (``response_type=code``, a random ``state``,
   a PKCE S256 ``code_challenge``); when no browser opens, the URL is shown and the address the
   browser ends up on can be pasted back instead; in a notebook a link is shown and the cell
   completes when the sign-in does;
3. the redirect's ``state`` is checked, the ``code`` and the ``code_verifier`` go to the token
   endpoint, which answers with a refresh token;
4. the client's :class:`~bt_explore.auth.TokenAuth` then renews per-organization access tokens
   from that refresh token exactly as it does with client credentials
   (:class:`~bt_explore.auth.PersonGrant`).

A timeout, Ctrl-C or any error closes the listener and ends its thread. Tokens are never shown;
``remember=True`` keeps the refresh token in a file only its owner can read
(:class:`TokenStore`), for the next run and for ``bt-explore login`` / ``whoami`` / ``logout``.

Example:
    >>> verifier, challenge = pkce_pair()
    >>> len(verifier) >= 43 and challenge != verifier
    True
    >>> authorize_url_for("https://auth.bookingtime.com/oauth/token")
    'https://auth.bookingtime.com/oauth/authorize'
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import html
import http.server
import logging
import os
import queue
import re
import secrets
import stat
import sys
import tempfile
import threading
import time
import unicodedata
import webbrowser
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs, urlencode, urlsplit

import jwt
import msgspec

from bt_explore.auth import PersonGrant, now_seconds
from bt_explore.errors import SignInError, redact
from bt_explore.settings import env

if TYPE_CHECKING:  # pragma: no cover
    import requests

    from bt_explore.client import Client
    from bt_explore.settings import Settings

__all__ = [
    "CONFIG_DIR_ENV",
    "LoopbackListener",
    "TokenStore",
    "UnreadableStore",
    "authorize_url_for",
    "config_dir",
    "pkce_pair",
    "printable",
    "revocation_url",
    "revoke_sign_in",
    "sign_in",
]

log = logging.getLogger("bt_explore.signin")

#: Environment variable naming the folder of ``signin.json`` (default: the user's config dir).
CONFIG_DIR_ENV = "BT_EXPLORE_CONFIG_DIR"
#: The path the loopback listener waits on (registered as ``http://127.0.0.1/callback``).
CALLBACK_PATH = "/callback"
#: How long :func:`sign_in` waits for the browser by default, in seconds.
DEFAULT_TIMEOUT = 300.0


def pkce_pair() -> tuple[str, str]:
    """A fresh PKCE ``(code_verifier, code_challenge)`` pair, method S256 (RFC 7636).

    Example:
        >>> verifier, challenge = pkce_pair()
        >>> len(challenge)
        43
    """
    verifier = secrets.token_urlsafe(64)  # 86 characters of [A-Za-z0-9_-]
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    return verifier, base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


def authorize_url_for(auth_url: str) -> str:
    """The authorization endpoint next to a token endpoint (``…/oauth/token`` → ``…/authorize``).

    Example:
        >>> authorize_url_for("http://127.0.0.1:8765/oauth/token")
        'http://127.0.0.1:8765/oauth/authorize'
    """
    base = auth_url.rstrip("/")
    if base.endswith("/token"):
        base = base[: -len("/token")]
    return base + "/authorize"


# --- the loopback listener ---------------------------------------------------------------------
_DONE_PAGE = (
    '<!doctype html><html lang="en"><meta charset="utf-8"><title>{title}</title>'
    '<body style="font-family:system-ui,sans-serif;max-width:34rem;margin:3rem auto">'
    "<h1>{title}</h1><p>{text}</p></body></html>"
)


class _Handler(http.server.BaseHTTPRequestHandler):
    server: _Server
    # a browser's idle speculative connection must not hold up the one-at-a-time server
    timeout = 2

    def do_GET(self) -> None:  # noqa: N802 - http.server's name
        parts = urlsplit(self.path)
        if parts.path != CALLBACK_PATH:
            self.send_error(404)
            return
        ok, text = self.server.deliver(parts.query)
        title = "Signed in" if ok else "Sign-in failed"
        body = _DONE_PAGE.format(title=title, text=html.escape(text)).encode()
        self.send_response(200 if ok else 400)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "no-store")
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - http.server's name
        # the request line holds the one-time code: never log it
        pass


class _Server(http.server.HTTPServer):
    deliver: Callable[[str], tuple[bool, str]]


class LoopbackListener:
    """A one-shot HTTP listener on ``127.0.0.1`` and a free port for the browser's redirect.

    :attr:`redirect_uri` is the address to register in the authorization request; :meth:`wait`
    returns the redirect's query string. :meth:`close` (also on ``with`` exit) stops the server
    and ends its thread; it is idempotent.

    Example:
        >>> import requests
        >>> with LoopbackListener(expected_state="s1") as listener:
        ...     _ = requests.get(listener.redirect_uri + "?code=c&state=s1", timeout=5)
        ...     listener.wait(5)
        'code=c&state=s1'
        >>> listener.running
        False
    """

    def __init__(self, *, expected_state: str | None = None) -> None:
        self.expected_state = expected_state
        self._answers: queue.Queue[str] = queue.Queue()
        self._ignored: list[SignInError] = []
        self._server = _Server(("127.0.0.1", 0), _Handler)
        self._server.deliver = self._deliver
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": 0.05},
            name=f"bt-explore-signin-{self.port}",
            daemon=True,
        )
        self._thread.start()
        self._closed = False

    def __repr__(self) -> str:
        return f"LoopbackListener(redirect_uri={self.redirect_uri!r}, running={self.running})"

    @property
    def port(self) -> int:
        """The TCP port listened on."""
        return int(self._server.server_address[1])

    @property
    def redirect_uri(self) -> str:
        """``http://127.0.0.1:PORT/callback``."""
        return f"http://127.0.0.1:{self.port}{CALLBACK_PATH}"

    @property
    def running(self) -> bool:
        """Whether the listener still accepts connections."""
        return not self._closed and self._thread.is_alive()

    def _stray(self, query: str) -> SignInError | None:
        """Why a redirect is not ours (no or another ``state``), else ``None``."""
        try:
            _check_state(query, self.expected_state)
        except SignInError as exc:
            return exc
        return None

    def _deliver(self, query: str) -> tuple[bool, str]:
        stray = self._stray(query)
        if stray is not None:
            # any local program can reach this port: a hit without our state is not the
            # browser coming back, so it is answered and ignored, and the wait goes on
            self._ignored.append(stray)
            log.warning("ignored a request to the sign-in callback: %s", stray.detail)
            return False, f"{stray.detail}; it was ignored."
        try:
            _code_from(query, self.expected_state)
        except SignInError as exc:
            ok, text = False, f"{exc}. Return to bt_explore and try again."
        else:
            ok, text = True, "You can close this tab and return to bt_explore."
        self._answers.put(query)
        return ok, text

    def put(self, query: str) -> None:
        """Hand over a redirect's query obtained another way (a pasted address)."""
        self._answers.put(query)

    def wait(self, timeout: float) -> str:
        """The first redirect's query string that carries the expected ``state``; redirects
        without it are ignored. Raises :class:`SignInError` when none arrives within
        ``timeout`` seconds: ``timeout``, or ``state_mismatch``/``state_missing`` when only
        redirects that were not ours came. Ctrl-C interrupts it."""
        deadline = time.monotonic() + timeout
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                why = "no token was requested and nothing is listening any more"
                if self._ignored:
                    last = self._ignored[-1]
                    raise SignInError(
                        last.reason,
                        f"{last.detail}: {len(self._ignored)} redirect(s) not ours were "
                        f"ignored and ours did not come within {timeout:g} s; {why}",
                    )
                raise SignInError(
                    "timeout", f"the browser did not come back within {timeout:g} s; {why}"
                )
            try:
                query = self._answers.get(timeout=min(remaining, 0.2))
            except queue.Empty:
                continue
            stray = self._stray(query)
            if stray is None:
                return query
            self._ignored.append(stray)
            log.warning("ignored a pasted redirect: %s", stray.detail)

    def close(self) -> None:
        """Stop listening and end the server thread (idempotent)."""
        if self._closed:
            return
        self._closed = True
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)

    def __enter__(self) -> LoopbackListener:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


def _params_of(query_or_url: str) -> dict[str, str]:
    text = query_or_url.strip()
    query = urlsplit(text).query if "://" in text else text.lstrip("?")
    return {k: v[0] for k, v in parse_qs(query, keep_blank_values=True).items()}


def _check_state(query_or_url: str, expected_state: str | None) -> dict[str, str]:
    """The parameters of a redirect, after checking that it carries ``expected_state``."""
    params = _params_of(query_or_url)
    state = params.get("state")
    if expected_state is not None:
        if state is None:
            raise SignInError("state_missing", "the redirect carried no state; it was not ours")
        if not secrets.compare_digest(state, expected_state):
            raise SignInError(
                "state_mismatch", "the redirect's state is not the one sent (a stale or forged one)"
            )
    return params


def _code_from(query_or_url: str, expected_state: str | None) -> str:
    """The ``code`` of a redirect (its URL or query), after checking ``state`` and errors."""
    params = _check_state(query_or_url, expected_state)
    if "error" in params:
        error = params["error"] or "error"
        described = params.get("error_description") or ""
        if error == "access_denied" and not described:
            described = "the person declined"
        raise SignInError(error, described)
    code = params.get("code")
    if not code:
        raise SignInError("invalid_request", "the redirect carried neither a code nor an error")
    return code


# --- showing the URL ---------------------------------------------------------------------------
def _in_notebook() -> bool:
    shell = sys.modules.get("IPython")
    if shell is None:
        return False
    try:
        ip = shell.get_ipython()
    except Exception:
        return False
    return ip is not None and getattr(ip, "kernel", None) is not None


def _show_in_notebook(url: str) -> Any:
    """Show the sign-in link as the cell's output; returns its display handle."""
    from IPython.display import HTML, display

    return display(
        HTML(
            f'<a href="{html.escape(url)}" target="_blank" rel="noopener">'
            "Sign in to bookingtime</a> (this cell finishes when you have signed in)"
        ),
        display_id=True,
    )


def _clear_notebook_link(handle: Any) -> None:
    """Replace the sign-in link once the sign-in is over: a used link must not stay in the
    notebook (its output is saved with it)."""
    update = getattr(handle, "update", None)
    if callable(update):
        from IPython.display import HTML

        update(HTML(""))


def _show_in_terminal(url: str, *, opened: bool) -> None:
    if opened:
        print("Your browser was opened to sign in. If not, open this address:", file=sys.stderr)
    else:
        print("Open this address in a browser to sign in:", file=sys.stderr)
    print(f"  {url}", file=sys.stderr)
    if sys.stdin is not None and sys.stdin.isatty():
        print(
            "If the browser cannot reach this computer, paste the address it ends up on here:",
            file=sys.stderr,
        )
    sys.stderr.flush()


class _PasteReader:
    """Reads a pasted redirect address from a terminal without blocking its own ending."""

    def __init__(self, listener: LoopbackListener) -> None:
        self._stop = threading.Event()
        self._listener = listener
        self._thread = threading.Thread(target=self._run, name="bt-explore-signin-paste")
        self._thread.daemon = True

    def start(self) -> _PasteReader:
        self._thread.start()
        return self

    def _run(self) -> None:
        import select

        stream = sys.stdin
        while not self._stop.is_set():
            try:
                ready, _, _ = select.select([stream], [], [], 0.1)
            except (OSError, ValueError):
                return
            if ready:
                line = stream.readline()
                if not line:
                    return
                if "code=" in line or "error=" in line:
                    self._listener.put(line)
                    return

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=1)


# --- the flow ----------------------------------------------------------------------------------
def _claims(token: str) -> dict[str, Any]:
    try:  # only to name the person and read the server's clock; the server checks the signature
        claims = jwt.decode(token, options={"verify_signature": False})
    except jwt.PyJWTError:
        return {}
    return claims if isinstance(claims, dict) else {}


def _seconds(value: Any) -> float | None:
    number = isinstance(value, (int, float)) and not isinstance(value, bool)
    return float(value) if number and 0 <= value <= _LATEST else None


def sign_in(
    client: Client,
    *,
    open_browser: bool = True,
    timeout: float = DEFAULT_TIMEOUT,
    organization_id: str | None = None,
    show_url: Callable[[str], object] | None = None,
    remember: bool = False,
    store: TokenStore | None = None,
) -> Client:
    """Let a person sign in and make ``client`` act for them (Authorization Code Flow + PKCE).

    ``open_browser`` opens the system browser on the sign-in page; ``show_url(url)`` replaces
    the default display of the address (a link in a notebook, stderr in a terminal).
    ``organization_id`` asks for access to that one organization only (default: every
    organization of the person). ``timeout`` bounds the wait for the browser. With
    ``remember=True`` a still valid stored sign-in is used without a browser, and a new one is
    stored (``store``: default :class:`TokenStore()`). Returns ``client``.

    Raises :class:`~bt_explore.SignInError` (declined, timeout, state mismatch…) or the token
    endpoint's :class:`~bt_explore.AuthenticationError` (``invalid_grant``…).

    Example:
        >>> import bt_explore
        >>> from bt_explore.sandbox.authorize import headless_browser
        >>> with bt_explore.Sandbox() as sb, bt_explore.connect(sandbox=sb) as client:
        ...     person = headless_browser("ada@example.com", "ada-demo")  # plays the browser
        ...     _ = sign_in(client, open_browser=False, show_url=person)
        ...     client.organization(organization_id=sb.other_organization_id)["name"]
        'Studio Wien'
    """
    settings = client.settings
    store = store if store is not None else (TokenStore() if remember else None)
    if remember and store is not None:
        saved = _still_valid(store, client)
        if saved is not None:
            log.info("using the stored sign-in of %s", saved.user or "a person")
            client.auth.use(saved)
            return client
    verifier, challenge = pkce_pair()
    state = secrets.token_urlsafe(24)
    with LoopbackListener(expected_state=state) as listener:
        url = _authorize_url(settings, listener.redirect_uri, state, challenge, organization_id)
        query = _show_and_wait(listener, url, open_browser, show_url, timeout)
    code = _code_from(query, state)
    token, lifetime = _redeem(client, code, listener.redirect_uri, verifier)
    claims = _claims(token)
    client_now = now_seconds(client.clock)
    user = str(claims.get("usr") or claims.get("sub") or "")
    grant = PersonGrant(token, expires_at=client_now + lifetime, user=user)
    client.auth.use(grant)
    log.info("signed in as %s", grant.user or "a person")
    if store is not None:
        _remember(store, settings, grant, claims, client_now, lifetime)
    return client


def _authorize_url(
    settings: Settings,
    redirect_uri: str,
    state: str,
    challenge: str,
    organization_id: str | None,
) -> str:
    """The sign-in page's address: an authorization request with a PKCE ``challenge`` whose
    answer goes to ``redirect_uri``, for ``organization_id`` only when given."""
    params = {
        "response_type": "code",
        "client_id": settings.client_id or "",
        "redirect_uri": redirect_uri,
        "state": state,
        "code_challenge": challenge,
        "code_challenge_method": "S256",
    }
    if organization_id:
        params["organization_id"] = organization_id
    return authorize_url_for(settings.auth_url) + "?" + urlencode(params)


def _redeem(client: Client, code: str, redirect_uri: str, verifier: str) -> tuple[str, float]:
    """Exchange the authorization ``code`` at the token endpoint: the refresh token and its
    lifetime in seconds (1800 when the answer gives none that reads as a number)."""
    settings = client.settings
    exchange = {
        "grant_type": "authorization_code",
        "client_id": settings.client_id or "",
        "code": code,
        "redirect_uri": redirect_uri,
        "code_verifier": verifier,
    }
    if settings.client_secret:  # a confidential client authenticates the exchange (§4.1.3)
        exchange["client_secret"] = settings.client_secret
    answer = client.auth._post(exchange, organization_id=None)
    token = answer.get("refresh_token")
    if not isinstance(token, str) or not token:
        raise SignInError("invalid_response", "the token endpoint's answer has no refresh_token")
    try:
        lifetime = float(answer.get("expires_in", 1800))
    except (TypeError, ValueError):
        lifetime = 1800.0
    return token, lifetime


def _still_valid(store: TokenStore, client: Client) -> PersonGrant | None:
    """The sign-in ``store`` holds for ``client``'s settings when it is valid for another minute
    or more by ``client``'s clock (or of unknown expiry), else ``None``; an unreadable store is
    logged and counts as empty."""
    settings = client.settings
    try:
        saved = store.load(settings.client_id or "", settings.auth_url)
    except UnreadableStore as exc:
        log.warning("%s", exc)
        return None
    now = now_seconds(client.clock)
    if saved is not None and (saved.expires_at is None or saved.expires_at > now + 60):
        return saved
    return None


def _show_and_wait(
    listener: LoopbackListener,
    url: str,
    open_browser: bool,
    show_url: Callable[[str], object] | None,
    timeout: float,
) -> str:
    """Show the sign-in address ``url`` (to ``show_url``, as a notebook link or on the terminal,
    which also reads a pasted redirect), open it in the browser when asked, and wait up to
    ``timeout`` seconds for the redirect's query; the link and the paste reader end with it."""
    reader: _PasteReader | None = None
    link: Any = None
    try:
        if show_url is not None:
            if open_browser:
                _open(url)
            show_url(url)
        elif _in_notebook():
            if open_browser:
                _open(url)
            link = _show_in_notebook(url)
        else:
            opened = open_browser and _open(url)
            _show_in_terminal(url, opened=opened)
            if sys.stdin is not None and sys.stdin.isatty():
                reader = _PasteReader(listener).start()
        return listener.wait(timeout)
    finally:
        if reader is not None:
            reader.stop()
        _clear_notebook_link(link)


def _remember(
    store: TokenStore,
    settings: Settings,
    grant: PersonGrant,
    claims: dict[str, Any],
    client_now: float,
    lifetime: float,
) -> None:
    """Save ``grant`` (issued at ``client_now`` by the client's clock, valid ``lifetime``
    seconds) in ``store``. whoami judges validity on the server's clock (a pinned sandbox's may
    be days off): the token's own iat/exp when it has them, else the client's clock."""
    issued = _seconds(claims.get("iat"))
    if issued is None:
        issued = client_now
    expires = _seconds(claims.get("exp"))
    store.save(
        settings.client_id or "",
        settings.auth_url,
        grant,
        server_expires_at=issued + lifetime if expires is None else expires,
        clock_offset=issued - time.time(),
    )


def _open(url: str) -> bool:
    try:
        return bool(webbrowser.open(url))
    except webbrowser.Error:
        return False


# --- ending a sign-in ---------------------------------------------------------------------------
#: Where :func:`revocation_url` looks for a token revocation endpoint on the auth server:
#: RFC 8414 metadata (``revocation_endpoint``), then the sandbox's root document
#: (``revocation_url``).
_DISCOVERY = (
    ("/.well-known/oauth-authorization-server", "revocation_endpoint"),
    ("/", "revocation_url"),
)


def _auth_session(url: str) -> requests.Session:
    import requests

    session = requests.Session()
    host = urlsplit(url).hostname or ""
    if host in ("127.0.0.1", "localhost", "::1"):
        session.trust_env = False  # a local server: no proxies from the environment
    return session


def revocation_url(auth_url: str, *, timeout: float = 10.0) -> str | None:
    """The token revocation endpoint (RFC 7009) the auth server of ``auth_url`` advertises, or
    ``None`` when it advertises none (or cannot be reached).

    It reads the server's RFC 8414 metadata (``revocation_endpoint``), then its root document
    (``revocation_url``, as the sandbox's ``GET /`` lists it).

    Example:
        >>> from bt_explore import Sandbox
        >>> with Sandbox() as sb:
        ...     revocation_url(sb.auth_url) == sb.base_url + "/oauth/revoke"
        True
    """
    import requests

    parts = urlsplit(auth_url)
    origin = f"{parts.scheme}://{parts.netloc}"
    with _auth_session(auth_url) as session:
        for path, key in _DISCOVERY:
            try:
                answer = session.get(origin + path, timeout=timeout)
                document = answer.json() if answer.ok else None
            except (requests.RequestException, ValueError):
                continue
            found = document.get(key) if isinstance(document, dict) else None
            if isinstance(found, str) and urlsplit(found).scheme in ("http", "https"):
                return found
    return None


def revoke_sign_in(
    client_id: str,
    auth_url: str,
    refresh_token: str,
    *,
    client_secret: str = "",
    timeout: float = 10.0,
) -> tuple[str, str]:
    """Ask the auth server to revoke a person's refresh token (RFC 7009), which also ends the
    access tokens issued from it. Returns ``(outcome, what happened)``: ``"revoked"``,
    ``"not_offered"`` (the server advertises no revocation endpoint) or ``"failed"``; the text
    never holds the token and, when the token was not revoked, says what to do instead.

    Example:
        >>> from bt_explore import Sandbox
        >>> with Sandbox() as sb:
        ...     revoke_sign_in(sb.client_id, sb.auth_url, "not-a-token")[0]
        'revoked'
    """
    import requests

    advice = (
        "it stays valid until it expires; to end access now, withdraw the application's access "
        "in your bookingtime account (or ask bookingtime's support)"
    )
    url = revocation_url(auth_url, timeout=timeout)
    if url is None:
        return "not_offered", (
            f"the auth server at {auth_url} advertises no token revocation endpoint "
            f"(RFC 7009), so the refresh token was not revoked: {advice}"
        )
    form = {"token": refresh_token, "token_type_hint": "refresh_token", "client_id": client_id}
    if client_secret:
        form["client_secret"] = client_secret
    try:
        with _auth_session(url) as session:
            answer = session.post(url, data=form, timeout=timeout)
    except requests.RequestException as exc:
        return "failed", f"revoking at {url} failed ({type(exc).__name__}): {advice}"
    if answer.status_code == 200:
        return "revoked", f"the refresh token was revoked at {url}"
    try:
        body = answer.json()
    except ValueError:
        body = None
    error = body.get("error") if isinstance(body, dict) else None
    why = f"{error}: {body.get('error_description')}" if error else "no error description"
    why = redact(printable(why), [refresh_token, client_secret])
    return "failed", f"revoking at {url} failed ({answer.status_code} {why}): {advice}"


# --- remembering a sign-in ---------------------------------------------------------------------
def config_dir() -> Path:
    """Where bt_explore keeps ``signin.json``: ``$BT_EXPLORE_CONFIG_DIR``, else
    ``$XDG_CONFIG_HOME/bt_explore`` (``~/.config/bt_explore``; ``%APPDATA%`` on Windows).

    Example:
        >>> isinstance(config_dir(), Path)
        True
    """
    explicit = env(CONFIG_DIR_ENV)
    if explicit:
        return Path(explicit)
    if sys.platform == "win32" and os.environ.get("APPDATA"):
        return Path(os.environ["APPDATA"]) / "bt_explore"
    base = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(base) / "bt_explore"


#: The largest ``expires_at`` (epoch seconds) a stored sign-in may carry: the end of year 9999.
_LATEST = 253402300799.0
#: Terminal control sequences (CSI/OSC escapes) and single control or format characters
#: (C0, C1, bidi overrides, zero-width ones): what a stored text may not send to a terminal.
_CONTROL = re.compile(
    r"(?:\x1b\[|\x9b)[0-?]*[ -/]*[@-~]|(?:\x1b\]|\x9d)[^\x07\x1b\x9c]*(?:\x07|\x1b\\|\x9c)?|\x1b.?"
)


def printable(text: object) -> str:
    """``text`` without terminal control sequences or control/format characters (for printing
    what a file or a server said, e.g. a person's name in ``bt-explore whoami``).

    Example:
        >>> printable("ada\x1b[31m red\x1b[0m\u202egnp.exe\x07")
        'ada redgnp.exe'
    """
    text = _CONTROL.sub("", str(text))
    return "".join(c for c in text if unicodedata.category(c) not in ("Cc", "Cf"))


class UnreadableStore(SignInError):
    """The sign-in file exists but cannot be used (not JSON, not an object, a folder…).

    ``path`` is the file; ``problem`` says what is wrong with it. ``bt-explore logout``
    removes it.

    Example:
        >>> print(UnreadableStore(Path("signin.json"), "it is empty"))
        sign-in failed (unreadable_store): signin.json cannot be read: it is empty; \
`bt-explore logout` removes it
    """

    def __init__(self, path: Path, problem: str) -> None:
        self.path = path
        self.problem = problem
        super().__init__(
            "unreadable_store", f"{path} cannot be read: {problem}; `bt-explore logout` removes it"
        )


def _entry_problem(entry: Any) -> str:
    """What makes a stored entry unusable ("" when nothing does)."""
    if not isinstance(entry, dict):
        return f"an entry is a JSON {type(entry).__name__}, not an object"
    for key in ("client_id", "auth_url", "refresh_token"):
        if not isinstance(entry.get(key), str):
            return f"{key} of an entry is not a string"
    if not isinstance(entry.get("user", ""), str):
        return "user of an entry is not a string"
    for key in ("expires_at", "server_expires_at"):
        expires = entry.get(key)
        if expires is None:
            continue
        if isinstance(expires, bool) or not isinstance(expires, (int, float)):
            return f"{key} of an entry is not a number"
        if not 0 <= expires <= _LATEST:  # also NaN
            return f"{key} of an entry is out of range ({expires:g})"
    offset = entry.get("clock_offset", 0)
    if isinstance(offset, bool) or not isinstance(offset, (int, float)) or abs(offset) > _LATEST:
        return "clock_offset of an entry is not a number of seconds"
    return ""


class TokenStore:
    """Stored sign-ins, one per (client id, token URL), in a JSON file only its owner may read.

    The file is written atomically (a temporary file renamed over it) under a file lock, so
    concurrent saves from threads and processes lose nothing; it has permissions 0600 and its
    folder 0700, tightened with a warning when found wider. A file that cannot be used (not
    JSON, not an object, entries of the wrong types, a folder…) raises
    :class:`UnreadableStore` from :meth:`load`, :meth:`entries` and :meth:`save` and is removed
    by :meth:`remove_file`. Reprs and :meth:`entries` never show a token.

    Example:
        >>> import tempfile
        >>> store = TokenStore(Path(tempfile.mkdtemp()) / "signin.json")
        >>> store.save("23demo", "http://127.0.0.1:1/oauth/token", PersonGrant("t", user="ada"))
        >>> store.entries()[0]["user"], oct(store.path.stat().st_mode & 0o777)
        ('ada', '0o600')
        >>> store.remove("23demo", "http://127.0.0.1:1/oauth/token")
        True
    """

    def __init__(self, path: str | os.PathLike[str] | None = None) -> None:
        self.path = Path(path) if path is not None else config_dir() / "signin.json"

    def __repr__(self) -> str:
        return f"TokenStore(path={str(self.path)!r})"

    @staticmethod
    def _key(client_id: str, auth_url: str) -> str:
        return f"{client_id} {auth_url}"

    # -- the file --------------------------------------------------------------------------
    def _tighten(self, path: Path, mode: int, what: str) -> None:
        try:
            info = path.stat()
        except OSError:
            return
        found = stat.S_IMODE(info.st_mode)
        if sys.platform == "win32" or not found & ~mode & 0o777:
            return
        # bt_explore's own folder (the config folder) and the file are tightened; a folder
        # the caller chose (TokenStore(path)) may be shared, e.g. /tmp: only warned about
        ours = path == self.path or path == config_dir()
        if not ours or info.st_uid != os.getuid() or found & stat.S_ISVTX:
            log.warning(
                "%s %s is open to others (mode %s); keep sign-ins in a folder only you can "
                "read (mode %s)",
                what,
                path,
                oct(found),
                oct(mode),
            )
            return
        log.warning(
            "%s %s was open to others (mode %s); tightened to %s", what, path, oct(found), oct(mode)
        )
        try:
            path.chmod(mode)
        except OSError as exc:
            log.warning("could not tighten %s: %s", path, exc.strerror)

    @contextlib.contextmanager
    def _locked(self) -> Iterator[None]:
        """Hold the store's lock (a lock file beside it) for a read-modify-write."""
        folder = self.path.parent
        folder.mkdir(parents=True, exist_ok=True, mode=0o700)
        self._tighten(folder, 0o700, "the sign-in folder")
        lock_path = folder / f".{self.path.name}.lock"
        fd = os.open(lock_path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            _lock_file(fd)
            yield
        finally:
            os.close(fd)  # closing releases the lock

    def _read(self) -> dict[str, dict[str, Any]]:
        """The stored entries; raises :class:`UnreadableStore` naming what is wrong."""
        if not self.path.exists() and not self.path.is_symlink():
            return {}
        self._tighten(self.path.parent, 0o700, "the sign-in folder")
        if self.path.is_file():
            self._tighten(self.path, 0o600, "the sign-in file")
        try:
            raw = self.path.read_bytes()
        except FileNotFoundError:
            return {}
        except IsADirectoryError:
            raise UnreadableStore(self.path, "it is a folder, not a file") from None
        except OSError as exc:
            raise UnreadableStore(self.path, exc.strerror or type(exc).__name__) from None
        if not raw.strip():
            raise UnreadableStore(self.path, "it is empty")
        try:
            # utf-8-sig: an editor may have added a byte order mark; the content still counts
            data = msgspec.json.decode(raw.decode("utf-8-sig"))
        except UnicodeDecodeError:
            raise UnreadableStore(self.path, "it is not UTF-8 text") from None
        except msgspec.DecodeError:
            raise UnreadableStore(self.path, "it is not valid JSON (truncated?)") from None
        except RecursionError:
            raise UnreadableStore(self.path, "its JSON is nested too deeply") from None
        if not isinstance(data, dict):
            raise UnreadableStore(
                self.path, f"it holds a JSON {type(data).__name__}, not an object"
            )
        for entry in data.values():
            problem = _entry_problem(entry)
            if problem:
                raise UnreadableStore(self.path, problem)
        return data

    def _write(self, data: dict[str, dict[str, Any]]) -> None:
        folder = self.path.parent
        fd, tmp = tempfile.mkstemp(dir=folder, prefix=".signin-", suffix=".json")
        try:
            os.chmod(tmp, 0o600)
            with os.fdopen(fd, "wb") as f:
                f.write(msgspec.json.encode(data))
                f.flush()
                os.fsync(f.fileno())
            os.replace(tmp, self.path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise

    # -- the sign-ins ----------------------------------------------------------------------
    def load(self, client_id: str, auth_url: str) -> PersonGrant | None:
        """The stored sign-in for this client and token URL, if any."""
        entry = self._read().get(self._key(client_id, auth_url))
        if not entry:
            return None
        expires = entry.get("expires_at")
        return PersonGrant(
            entry["refresh_token"],
            expires_at=None if expires is None else float(expires),
            user=str(entry.get("user") or ""),
        )

    def save(
        self,
        client_id: str,
        auth_url: str,
        grant: PersonGrant,
        *,
        server_expires_at: float | None = None,
        clock_offset: float = 0.0,
    ) -> None:
        """Store ``grant`` for this client and token URL (replacing an older one).

        ``grant.expires_at`` is on the client's clock (what :meth:`load` gives back);
        ``server_expires_at`` is the same moment on the auth server's clock and
        ``clock_offset`` how far that clock is ahead of this computer's (a pinned sandbox's
        may be days off), so that :meth:`entries` can say whether the sign-in is still valid
        on the server.
        """
        with self._locked():
            try:
                data = self._read()
            except UnreadableStore as exc:
                log.warning("%s; replacing it", exc)
                data = {}
            data[self._key(client_id, auth_url)] = {
                "client_id": client_id,
                "auth_url": auth_url,
                "user": grant.user,
                "expires_at": grant.expires_at,
                "server_expires_at": server_expires_at,
                "clock_offset": clock_offset,
                "refresh_token": grant.refresh_token,
            }
            self._write(data)

    def take(
        self, client_id: str | None = None, auth_url: str | None = None
    ) -> list[dict[str, Any]]:
        """Forget the sign-in of this client and token URL (both ``None``: every sign-in) and
        return the forgotten entries, tokens included (to revoke them)."""
        with self._locked():
            data = self._read()
            if client_id is None and auth_url is None:
                keys = list(data)
            else:
                keys = [self._key(client_id or "", auth_url or "")]
            taken = [entry for k in keys if (entry := data.pop(k, None)) is not None]
            if taken:
                if data:
                    self._write(data)
                else:
                    self.path.unlink(missing_ok=True)
            return taken

    def remove(self, client_id: str | None = None, auth_url: str | None = None) -> bool:
        """Forget the sign-in of this client and token URL (both ``None``: every sign-in);
        returns whether anything was forgotten."""
        return bool(self.take(client_id, auth_url))

    def remove_file(self) -> bool:
        """Delete the sign-in file whatever it holds (an unreadable one too, or an empty folder
        in its place); returns whether there was one. Tokens in it are not revoked."""
        with self._locked():
            if self.path.is_dir() and not self.path.is_symlink():
                self.path.rmdir()  # OSError when the folder holds files: not ours to delete
                return True
            try:
                self.path.unlink()
            except FileNotFoundError:
                return False
            return True

    def entries(self) -> list[dict[str, Any]]:
        """The stored sign-ins without their tokens: ``client_id``, ``auth_url``, ``user``,
        ``expires_at`` and ``server_now`` (the auth server's clock now, estimated), both in
        epoch seconds of the server's clock."""
        now = time.time()
        shown = ("client_id", "auth_url", "user")
        return [
            {
                **{k: entry.get(k) for k in shown},
                "expires_at": entry.get("server_expires_at", entry.get("expires_at")),
                "server_now": now + float(entry.get("clock_offset", 0)),
            }
            for entry in self._read().values()
        ]


def _lock_file(fd: int) -> None:
    """Block until this process holds an exclusive lock on the open file ``fd``."""
    if sys.platform == "win32":  # pragma: no cover - not tested here
        import msvcrt

        msvcrt.locking(fd, msvcrt.LK_LOCK, 1)
    else:
        import fcntl

        fcntl.flock(fd, fcntl.LOCK_EX)
