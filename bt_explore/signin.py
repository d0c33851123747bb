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
import hashlib
import html
import http.server
import logging
import os
import queue
import secrets
import sys
import tempfile
import threading
import time
import webbrowser
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs, urlencode, urlsplit

import jwt
import msgspec

from bt_explore.auth import PersonGrant, now_seconds
from bt_explore.errors import SignInError
from bt_explore.settings import env

if TYPE_CHECKING:  # pragma: no cover
    from bt_explore.client import Client

__all__ = [
    "CONFIG_DIR_ENV",
    "LoopbackListener",
    "TokenStore",
    "authorize_url_for",
    "config_dir",
    "pkce_pair",
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

    def _deliver(self, query: str) -> tuple[bool, str]:
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
        """The first redirect's query string; raises :class:`SignInError` (``timeout``) when
        none arrives within ``timeout`` seconds. Ctrl-C interrupts it."""
        deadline = time.monotonic() + timeout
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise SignInError(
                    "timeout",
                    f"the browser did not come back within {timeout:g} s; "
                    "no token was requested and nothing is listening any more",
                )
            try:
                return self._answers.get(timeout=min(remaining, 0.2))
            except queue.Empty:
                continue

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


def _code_from(query_or_url: str, expected_state: str | None) -> str:
    """The ``code`` of a redirect (its URL or query), after checking ``state`` and errors."""
    text = query_or_url.strip()
    query = urlsplit(text).query if "://" in text else text.lstrip("?")
    params = {k: v[0] for k, v in parse_qs(query, keep_blank_values=True).items()}
    state = params.get("state")
    if expected_state is not None:
        if state is None:
            raise SignInError("state_missing", "the redirect carried no state; it was not ours")
        if not secrets.compare_digest(state, expected_state):
            raise SignInError(
                "state_mismatch", "the redirect's state is not the one sent (a stale or forged one)"
            )
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


def _show_in_notebook(url: str) -> None:
    from IPython.display import HTML, display

    display(
        HTML(
            f'<a href="{html.escape(url)}" target="_blank" rel="noopener">'
            "Sign in to bookingtime</a> (this cell finishes when you have signed in)"
        )
    )


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
def _user_of(token: str) -> str:
    try:  # only to name the person in whoami; the server checks the signature
        claims = jwt.decode(token, options={"verify_signature": False})
    except jwt.PyJWTError:
        return ""
    return str(claims.get("usr") or claims.get("sub") or "")


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
        'Studio Wien (not accessible)'
    """
    settings = client.settings
    store = store if store is not None else (TokenStore() if remember else None)
    if remember and store is not None:
        saved = store.load(settings.client_id or "", settings.auth_url)
        now = now_seconds(client.clock)
        if saved is not None and (saved.expires_at is None or saved.expires_at > now + 60):
            log.info("using the stored sign-in of %s", saved.user or "a person")
            client.auth.use(saved)
            return client
    verifier, challenge = pkce_pair()
    state = secrets.token_urlsafe(24)
    with LoopbackListener(expected_state=state) as listener:
        params = {
            "response_type": "code",
            "client_id": settings.client_id or "",
            "redirect_uri": listener.redirect_uri,
            "state": state,
            "code_challenge": challenge,
            "code_challenge_method": "S256",
        }
        if organization_id:
            params["organization_id"] = organization_id
        url = authorize_url_for(settings.auth_url) + "?" + urlencode(params)
        reader: _PasteReader | None = None
        try:
            if show_url is not None:
                if open_browser:
                    _open(url)
                show_url(url)
            elif _in_notebook():
                if open_browser:
                    _open(url)
                _show_in_notebook(url)
            else:
                opened = open_browser and _open(url)
                _show_in_terminal(url, opened=opened)
                if sys.stdin is not None and sys.stdin.isatty():
                    reader = _PasteReader(listener).start()
            query = listener.wait(timeout)
        finally:
            if reader is not None:
                reader.stop()
    code = _code_from(query, state)
    answer = client.auth._post(
        {
            "grant_type": "authorization_code",
            "client_id": settings.client_id or "",
            "code": code,
            "redirect_uri": listener.redirect_uri,
            "code_verifier": verifier,
        },
        organization_id=None,
    )
    token = answer.get("refresh_token")
    if not isinstance(token, str) or not token:
        raise SignInError("invalid_response", "the token endpoint's answer has no refresh_token")
    try:
        lifetime = float(answer.get("expires_in", 1800))
    except (TypeError, ValueError):
        lifetime = 1800.0
    grant = PersonGrant(
        token, expires_at=now_seconds(client.clock) + lifetime, user=_user_of(token)
    )
    client.auth.use(grant)
    log.info("signed in as %s", grant.user or "a person")
    if store is not None:
        store.save(settings.client_id or "", settings.auth_url, grant)
    return client


def _open(url: str) -> bool:
    try:
        return bool(webbrowser.open(url))
    except webbrowser.Error:
        return False


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


class TokenStore:
    """Stored sign-ins, one per (client id, token URL), in a JSON file only its owner may read.

    The file is written atomically with permissions 0600 (its folder 0700). Reprs and
    :meth:`entries` never show a token.

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

    def _read(self) -> dict[str, dict[str, Any]]:
        try:
            raw = self.path.read_bytes()
        except FileNotFoundError:
            return {}
        try:
            data = msgspec.json.decode(raw)
        except msgspec.DecodeError:
            log.warning("%s is not valid JSON; ignoring the stored sign-ins", self.path)
            return {}
        return data if isinstance(data, dict) else {}

    def _write(self, data: dict[str, dict[str, Any]]) -> None:
        folder = self.path.parent
        folder.mkdir(parents=True, exist_ok=True, mode=0o700)
        fd, tmp = tempfile.mkstemp(dir=folder, prefix=".signin-", suffix=".json")
        try:
            os.chmod(tmp, 0o600)
            with os.fdopen(fd, "wb") as f:
                f.write(msgspec.json.encode(data))
            os.replace(tmp, self.path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise

    def load(self, client_id: str, auth_url: str) -> PersonGrant | None:
        """The stored sign-in for this client and token URL, if any."""
        entry = self._read().get(self._key(client_id, auth_url))
        if not entry or not isinstance(entry.get("refresh_token"), str):
            return None
        expires = entry.get("expires_at")
        return PersonGrant(
            entry["refresh_token"],
            expires_at=float(expires) if isinstance(expires, (int, float)) else None,
            user=str(entry.get("user") or ""),
        )

    def save(self, client_id: str, auth_url: str, grant: PersonGrant) -> None:
        """Store ``grant`` for this client and token URL (replacing an older one)."""
        data = self._read()
        data[self._key(client_id, auth_url)] = {
            "client_id": client_id,
            "auth_url": auth_url,
            "user": grant.user,
            "expires_at": grant.expires_at,
            "refresh_token": grant.refresh_token,
        }
        self._write(data)

    def remove(self, client_id: str | None = None, auth_url: str | None = None) -> bool:
        """Forget the sign-in of this client and token URL (both ``None``: every sign-in);
        returns whether anything was forgotten."""
        data = self._read()
        if client_id is None and auth_url is None:
            keys = list(data)
        else:
            keys = [self._key(client_id or "", auth_url or "")]
        removed = [k for k in keys if data.pop(k, None) is not None]
        if removed:
            if data:
                self._write(data)
            else:
                self.path.unlink(missing_ok=True)
        return bool(removed)

    def entries(self) -> list[dict[str, Any]]:
        """The stored sign-ins without their tokens: ``client_id``, ``auth_url``, ``user``,
        ``expires_at``."""
        return [
            {k: v for k, v in entry.items() if k != "refresh_token"}
            for entry in self._read().values()
            if isinstance(entry, dict)
        ]
