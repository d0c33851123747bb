"""Token auth for requests: one refresh token, one cached access token per organization.

bookingtime authenticates in two steps on one endpoint: client credentials give a refresh token,
and a refresh token plus an ``organization_id`` gives an access token for that organization
(lifetimes come from the answers' ``expires_in``). :class:`TokenAuth` does both lazily, on the
first request that needs them, and then:

- keeps one access token per organization, so alternating organizations costs nothing after
  the first call to each. The organization is said explicitly: ``auth`` itself signs requests
  for the settings' organization, ``auth.for_organization(org)`` for another one, and
  ``auth.for_organization(None)`` for calls outside any organization (``static/*``);
- renews a token ``renew_before`` seconds ahead of its expiry (at most half its lifetime ahead);
- goes back to its *refresh-token source* when the refresh token has expired or is rejected:
  :class:`ClientCredentials` (the application alone, the default) asks for a new one;
  :class:`PersonGrant` (a person signed in, see :mod:`bt_explore.signin`) cannot, and raises an
  :class:`~bt_explore.AuthenticationError` that says to sign in again;
- re-sends a request once with a fresh token when the API answers 401;
- lets many threads share it: one lock per token, so N threads that start cold send one
  client-credentials and one refresh request between them.

Tokens never appear in a repr, a log record or an exception.

Example:
    >>> import requests
    >>> from bt_explore import Settings, TokenAuth
    >>> auth = TokenAuth(Settings(client_id="23demo", env_file=None))   # no I/O yet
    >>> auth
    TokenAuth(client_id='23demo', auth_url='https://auth.bookingtime.com/oauth/token', tokens=0)
    >>> # requests.get(api_url + "en/static/country/list", auth=auth.for_organization(None))
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

import requests
from requests.adapters import HTTPAdapter
from requests.auth import AuthBase
from requests.cookies import extract_cookies_to_jar

from bt_explore.errors import (
    ApiError,
    AuthenticationError,
    Message,
    TransportError,
    UnexpectedResponse,
    decode_envelope,
    error_for,
    redact,
    short_url,
    transport_failure,
)
from bt_explore.retry import default_retry, for_token_requests
from bt_explore.settings import Settings

__all__ = [
    "TokenAuth",
    "OrganizationAuth",
    "Clock",
    "now_seconds",
    "RefreshSource",
    "ClientCredentials",
    "PersonGrant",
]

log = logging.getLogger("bt_explore.auth")

#: A clock: a callable returning epoch seconds (int/float) or an aware ``datetime``.
Clock = Callable[[], float | int | datetime]


def now_seconds(clock: Clock) -> float:
    """Read ``clock`` as epoch seconds, whether it returns a number or an aware datetime.

    Example:
        >>> from datetime import timezone
        >>> now_seconds(lambda: datetime(1970, 1, 1, 0, 1, tzinfo=timezone.utc))
        60.0
    """
    value = clock()
    if isinstance(value, datetime):
        if value.tzinfo is None:
            raise TypeError("the auth clock returned a naive datetime; return an aware one")
        return value.timestamp()
    return float(value)


@dataclass
class _Token:
    value: str
    expires_at: float
    renew_at: float

    def __repr__(self) -> str:  # never show the token itself
        return f"_Token(expires_at={self.expires_at:.0f})"


def _lifetime(answer: dict[str, Any], default: float) -> float:
    try:
        return float(answer.get("expires_in", default))
    except (TypeError, ValueError):  # the walkthrough shows "<time in s>" strings; be lenient
        return default


class RefreshSource(Protocol):
    """Where a :class:`TokenAuth` gets its refresh token from (a strategy).

    ``fetch(auth)`` returns a token answer (``refresh_token``, ``expires_in``); ``rejected()``
    hears that the token endpoint refused the last one; ``secrets()`` lists what must never be
    quoted back in an error.
    """

    def fetch(self, auth: TokenAuth) -> dict[str, Any]: ...

    def rejected(self) -> None: ...

    def secrets(self) -> list[str | None]: ...


class ClientCredentials:
    """The application authenticates alone: client id and secret give a new refresh token
    whenever one is needed (bookingtime's Client Credentials Flow; for test applications).

    Example:
        >>> ClientCredentials()
        ClientCredentials()
    """

    def __repr__(self) -> str:
        return "ClientCredentials()"

    def fetch(self, auth: TokenAuth) -> dict[str, Any]:
        return auth._post(
            {
                "grant_type": "client_credentials",
                "client_id": auth.settings.client_id or "",
                "client_secret": auth.settings.client_secret,
            },
            organization_id=None,
        )

    def rejected(self) -> None:
        pass  # the next fetch simply asks again

    def secrets(self) -> list[str | None]:
        return []


class PersonGrant:
    """A person's grant: the refresh token their sign-in gave (Authorization Code Flow).

    It cannot be renewed without the person: once it has expired (by the auth's clock) or the
    token endpoint rejected it, :meth:`fetch` raises an :class:`AuthenticationError` saying to
    sign in again, never falling back to client credentials. ``expires_at`` is in the auth
    clock's epoch seconds (``None``: unknown). The repr never shows the token.

    Example:
        >>> grant = PersonGrant("eyJ...", expires_at=1800.0, user="ada")
        >>> grant
        PersonGrant(user='ada', expires_at=1800)
    """

    def __init__(
        self, refresh_token: str | None, *, expires_at: float | None = None, user: str = ""
    ) -> None:
        self._token = refresh_token
        self.expires_at = expires_at
        self.user = user
        self._lock = threading.Lock()

    def __repr__(self) -> str:
        until = "None" if self.expires_at is None else f"{self.expires_at:.0f}"
        return f"PersonGrant(user={self.user!r}, expires_at={until})"

    @property
    def refresh_token(self) -> str | None:
        """The refresh token, or ``None`` once it has been rejected (a credential: keep it)."""
        return self._token

    def fetch(self, auth: TokenAuth) -> dict[str, Any]:
        with self._lock:
            token = self._token
        now = now_seconds(auth.clock)
        why = ""
        if token is None:
            why = "there is no refresh token (it was rejected, or nobody signed in)"
        elif self.expires_at is not None and now >= self.expires_at:
            why = "the refresh token of the sign-in has expired"
        if why:
            raise AuthenticationError(
                None,
                "POST",
                auth.settings.auth_url,
                [Message("failure", "sign_in_required", f"{why}; sign in again")],
                note="run bt_explore.login() or `bt-explore login`",
            )
        life = 1800.0 if self.expires_at is None else self.expires_at - now
        return {"refresh_token": token, "expires_in": life}

    def rejected(self) -> None:
        with self._lock:
            self._token = None

    def secrets(self) -> list[str | None]:
        return [self._token]


class TokenAuth(AuthBase):
    """``requests`` auth that fetches, caches and renews bookingtime tokens per organization.

    ``settings`` gives the client id, secret, token URL and timeouts. ``session`` sends the
    token requests (default: a private ``requests.Session``). ``clock`` returns epoch seconds
    or an aware datetime (default :func:`time.time`); pin it to test expiry. ``renew_before``
    renews that many seconds ahead of expiry.

    Example:
        >>> import requests
        >>> from bt_explore import Sandbox, Settings, TokenAuth          # doctest: +SKIP
        >>> with Sandbox() as sb:                                        # doctest: +SKIP
        ...     auth = TokenAuth(Settings(client_id=sb.client_id, auth_url=sb.auth_url))
        ...     url = f"{sb.api_url}en/organization/{sb.organization_id}/show"
        ...     requests.get(url, auth=auth).json()["content"]["name"]
    """

    def __init__(
        self,
        settings: Settings,
        *,
        session: requests.Session | None = None,
        clock: Clock | None = None,
        renew_before: float = 60.0,
        refresh_source: RefreshSource | None = None,
    ) -> None:
        import time

        self.settings = settings
        if session is None:
            session = requests.Session()
            # token requests create nothing, so they are retried like GETs
            session.mount(
                settings.auth_url, HTTPAdapter(max_retries=for_token_requests(default_retry()))
            )
        self.session = session
        self.clock: Clock = clock if clock is not None else time.time
        self.renew_before = float(renew_before)
        #: where refresh tokens come from: :class:`ClientCredentials` or a :class:`PersonGrant`
        self.refresh_source: RefreshSource = (
            refresh_source if refresh_source is not None else ClientCredentials()
        )
        self._refresh: _Token | None = None
        self._access: dict[str | None, _Token] = {}
        self._refresh_lock = threading.Lock()
        self._locks: dict[str | None, threading.Lock] = {}
        self._locks_guard = threading.Lock()
        #: counts of token requests sent, by grant type (for curious users and tests)
        self.token_requests: dict[str, int] = {"client_credentials": 0, "refresh_token": 0}

    def use(self, refresh_source: RefreshSource) -> None:
        """Take refresh tokens from ``refresh_source`` from now on, forgetting every token."""
        with self._refresh_lock:
            self.refresh_source = refresh_source
            self._refresh = None
            self._access.clear()

    def __repr__(self) -> str:
        return (
            f"TokenAuth(client_id={self.settings.client_id!r}, "
            f"auth_url={self.settings.auth_url!r}, tokens={len(self._access)})"
        )

    __str__ = __repr__

    # -- requests.auth.AuthBase ------------------------------------------------------------

    def __call__(self, request: requests.PreparedRequest) -> requests.PreparedRequest:
        """Sign ``request`` for the settings' organization (see :meth:`for_organization`)."""
        return self.for_organization(self.settings.organization_id)(request)

    def for_organization(self, organization_id: str | None) -> OrganizationAuth:
        """``requests`` auth that signs with this organization's access token (``None``: a
        token without organization, for ``static/*`` calls).

        Example:
            >>> auth = TokenAuth(Settings(client_id="23demo", env_file=None))
            >>> auth.for_organization("f6abc")
            OrganizationAuth(organization_id='f6abc')
        """
        return OrganizationAuth(self, organization_id)

    def token_for(self, organization_id: str | None, request: requests.PreparedRequest) -> str:
        """The access token to send ``request`` with; errors say which call needed it."""
        try:
            return self.access_token(organization_id)
        except ApiError as exc:
            # the token endpoint alone would be a puzzling culprit: name the call too, and say
            # that it was never sent (book() relies on knowing that)
            needed = f"needed for {request.method} {short_url(request.url)}, which was not sent"
            exc.note = f"{exc.note}; {needed}" if exc.note else needed
            exc.sent = False
            raise
        except TransportError as exc:
            # the API request itself was never sent: callers (book()) rely on knowing that
            raise TransportError(
                f"{exc.detail}; so {request.method} {short_url(request.url)} was not sent",
                method=exc.method,
                url=exc.url,
                sent=False,
            ) from None

    # -- tokens ----------------------------------------------------------------------------

    def access_token(self, organization_id: str | None) -> str:
        """A valid access token for ``organization_id`` (``None``: no organization), fetching
        or renewing it when needed. Keep the value to yourself: it is a credential."""
        token = self._access.get(organization_id)
        now = now_seconds(self.clock)
        if token is not None and now < token.renew_at:
            return token.value
        with self._lock_for(organization_id):
            # another thread may have renewed it while this one waited for the lock
            token = self._access.get(organization_id)
            now = now_seconds(self.clock)
            if token is not None and now < token.renew_at:
                return token.value
            token = self._fetch_access(organization_id)
            self._access[organization_id] = token
            return token.value

    def clear(self) -> None:
        """Forget every token; the next request asks the refresh-token source again."""
        with self._refresh_lock:
            self._refresh = None
            self._access.clear()

    def _lock_for(self, key: str | None) -> threading.Lock:
        with self._locks_guard:
            lock = self._locks.get(key)
            if lock is None:
                lock = self._locks[key] = threading.Lock()
            return lock

    def forget(self, organization_id: str | None, authorization: str) -> None:
        """Drop the organization's access token if ``authorization`` still carries it."""
        # Only drop the token the failed request used: another thread may already hold a new one.
        with self._lock_for(organization_id):
            token = self._access.get(organization_id)
            if token is not None and authorization == "Bearer " + token.value:
                del self._access[organization_id]
        # A 401 may mean every token was revoked; the refresh token gets checked on use.

    def _token_from(self, answer: dict[str, Any], key: str, default_lifetime: float) -> _Token:
        now = now_seconds(self.clock)
        value = answer.get(key)
        if not isinstance(value, str) or not value:
            raise AuthenticationError(
                None,
                "POST",
                self.settings.auth_url,
                [Message("failure", key, f"the token endpoint's answer has no {key}")],
            )
        lifetime = _lifetime(answer, default_lifetime)
        margin = min(self.renew_before, lifetime / 2)
        return _Token(value, now + lifetime, now + lifetime - margin)

    def _refresh_token(self, *, force_new: bool = False) -> _Token:
        with self._refresh_lock:
            token = self._refresh
            if not force_new and token is not None and now_seconds(self.clock) < token.renew_at:
                return token
            answer = self.refresh_source.fetch(self)
            self._refresh = self._token_from(answer, "refresh_token", 1800.0)
            return self._refresh

    def _fetch_access(self, organization_id: str | None) -> _Token:
        refresh = self._refresh_token()
        try:
            return self._exchange(refresh, organization_id)
        except AuthenticationError as exc:
            # An expired, revoked or foreign refresh token: start over with client credentials.
            if exc.status_code not in (400, 401):
                raise
            log.info("refresh token rejected (%s); requesting a new one", exc.status_code)
            with self._refresh_lock:
                if self._refresh is refresh:
                    self._refresh = None
                    self.refresh_source.rejected()
            return self._exchange(self._refresh_token(), organization_id)

    def _exchange(self, refresh: _Token, organization_id: str | None) -> _Token:
        form = {
            "grant_type": "refresh_token",
            "client_id": self.settings.client_id or "",
            "refresh_token": refresh.value,
        }
        if organization_id is not None:
            form["organization_id"] = organization_id
        answer = self._post(form, organization_id=organization_id)
        return self._token_from(answer, "access_token", 300.0)

    def _post(self, form: dict[str, str], *, organization_id: str | None) -> dict[str, Any]:
        grant = form["grant_type"]
        url = self.settings.auth_url
        log.debug("token request: grant_type=%s organization=%s", grant, organization_id or "-")
        with self._locks_guard:
            self.token_requests[grant] = self.token_requests.get(grant, 0) + 1
        try:
            # form-urlencoded as bookingtime's SDKs send it; auth=None keeps session auth away
            response = self.session.post(
                url, data=form, timeout=self.settings.timeout, auth=_NoAuth()
            )
        except requests.RequestException as exc:
            raise transport_failure(exc, method="POST", url=url, what="token request") from None
        if 200 <= response.status_code < 300:
            answer, _ = decode_envelope(response)
            if not isinstance(answer, dict):
                raise UnexpectedResponse(
                    response.status_code, "POST", url, excerpt="(token answer is not an object)"
                )
            return answer
        raise self._token_error(response, grant, organization_id)

    def _secrets(self) -> list[str | None]:
        """What this auth sends that must never be quoted back: the secret and the tokens."""
        tokens = [self._refresh, *self._access.values()]
        return [
            self.settings.client_secret,
            *self.refresh_source.secrets(),
            *(t.value for t in tokens if t is not None),
        ]

    def _token_error(
        self, response: requests.Response, grant: str, organization_id: str | None
    ) -> ApiError:
        url = self.settings.auth_url
        try:
            body, messages = decode_envelope(response)
        except UnexpectedResponse as exc:
            exc.excerpt = redact(exc.excerpt, self._secrets())
            exc.args = (exc._text(),)  # the text made before the excerpt was redacted
            if response.status_code in (400, 401):
                return AuthenticationError(
                    response.status_code, "POST", url, [Message("failure", None, str(exc))]
                )
            return exc
        if not messages and isinstance(body, dict) and "error" in body:
            # RFC 6749 §5.2 error JSON
            messages = (
                Message.from_json(
                    {
                        "type": "failure",
                        "parameter": body.get("error"),
                        "text": body.get("error_description"),
                    }
                ),
            )
        # a server may echo the form it got: the secret and tokens we sent must not show
        secrets = self._secrets()
        messages = tuple(
            Message(m.type, m.parameter and redact(m.parameter, secrets), redact(m.text, secrets))
            for m in messages
        )
        context = f"grant_type={grant}" + (
            f", organization_id={organization_id}" if organization_id else ""
        )
        status = response.status_code
        if status in (400, 401):
            return AuthenticationError(status, "POST", url, messages, note=context)
        err = error_for(status, "POST", url, messages)
        err.note = context
        return err


class OrganizationAuth(AuthBase):
    """``requests`` auth with the access token of one organization of a :class:`TokenAuth`.

    After a 401 it drops the rejected token and re-sends the request once with a new one: a 401
    means the API refused the token before doing anything, so re-sending even a POST is safe
    (modelled on ``requests.auth.HTTPDigestAuth.handle_401``).
    """

    def __init__(self, tokens: TokenAuth, organization_id: str | None) -> None:
        self.tokens = tokens
        self.organization_id = organization_id

    def __repr__(self) -> str:
        return f"OrganizationAuth(organization_id={self.organization_id!r})"

    def __call__(self, request: requests.PreparedRequest) -> requests.PreparedRequest:
        request.headers["Authorization"] = "Bearer " + self.tokens.token_for(
            self.organization_id, request
        )
        request.register_hook("response", self.handle_401)
        return request

    def handle_401(self, response: requests.Response, **kwargs: Any) -> requests.Response:
        """Response hook: after a 401, drop the rejected token and re-send once with a new one."""
        if response.status_code != 401 or getattr(response.request, "_bt_resent", False):
            return response
        request = response.request
        self.tokens.forget(self.organization_id, request.headers.get("Authorization", ""))
        log.info(
            "401 for %s %s; re-sending once with a new token",
            request.method,
            short_url(request.url),
        )
        _ = response.content  # consume the body so the connection can be released
        response.close()
        retry = request.copy()
        retry._bt_resent = True  # type: ignore[attr-defined]
        extract_cookies_to_jar(retry._cookies, response.request, response.raw)  # type: ignore[attr-defined]
        retry.prepare_cookies(retry._cookies)  # type: ignore[attr-defined]
        retry.headers["Authorization"] = "Bearer " + self.tokens.token_for(
            self.organization_id, retry
        )
        second = response.connection.send(retry, **kwargs)
        second.history.append(response)
        second.request = retry
        return second


class _NoAuth(AuthBase):
    """Explicitly no auth (``auth=None`` would fall back to a session's auth)."""

    def __call__(self, request: requests.PreparedRequest) -> requests.PreparedRequest:
        return request
