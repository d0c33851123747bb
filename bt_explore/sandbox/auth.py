"""Token issuing, checking and revocation for the sandbox's ``/oauth/token`` and
``/oauth/revoke`` endpoints and API calls.

Tokens are HS256 JWTs signed with a random per-sandbox key, so a token from another sandbox (or
a forged one) fails the signature check. Their ``iat``/``exp`` follow the *sandbox* clock, and
expiry is checked against that clock, not the wall clock: a pinned clock plus
:meth:`~bt_explore.sandbox.Sandbox.advance` makes expiry testable without waiting.

Revocation follows RFC 7009: revoking a token (:meth:`TokenService.revoke`) refuses it from then
on, and revoking a refresh token also refuses every access token issued from it (an access
token names its refresh token's id in its ``rft`` claim).

Example:
    >>> from datetime import datetime, timezone
    >>> now = datetime(2026, 12, 1, 8, tzinfo=timezone.utc)
    >>> tokens = TokenService(lambda: now, key=b"k" * 32)
    >>> refresh = tokens.issue_refresh("23" + "a" * 30)
    >>> tokens.check(refresh.token, "refresh").client_id == "23" + "a" * 30
    True
"""

from __future__ import annotations

import secrets
import threading
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import jwt

__all__ = ["IssuedToken", "TokenClaims", "TokenError", "TokenService", "revoke_answer"]

_ALGORITHM = "HS256"
_ISSUER = "bt_explore.sandbox"


class TokenError(Exception):
    """A token was rejected; ``reason`` is a message key (``token_expired``, ``token_invalid``…)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class IssuedToken:
    """A freshly issued token and its lifetime in seconds (repr hides the token)."""

    token: str
    expires_in: int
    #: the token's id (``jti``), to revoke it by (a replayed authorization code)
    token_id: str = ""

    def __repr__(self) -> str:
        return f"IssuedToken(token=<hidden>, expires_in={self.expires_in})"


@dataclass(frozen=True)
class TokenClaims:
    """The checked claims of a token: its type, client and organization (``None``: no scope)."""

    kind: str
    client_id: str
    organization_id: str | None
    expires_at: int
    #: a person's grant (authorization code flow): who signed in, and the organizations the
    #: refresh step may allow (``None``: the client's own organizations)
    user_id: str | None = None
    organization_ids: tuple[str, ...] | None = None
    #: the token's own id (``jti``): what :meth:`TokenService.revoke_id` takes
    token_id: str = ""


class TokenService:
    """Issues and checks the sandbox's refresh and access tokens against an injectable clock.

    Example:
        >>> from datetime import datetime, timezone
        >>> t = TokenService(lambda: datetime(2026, 1, 1, tzinfo=timezone.utc))
        >>> access = t.issue_access("23" + "b" * 30, "f6" + "c" * 30)
        >>> t.check(access.token, "access").organization_id == "f6" + "c" * 30
        True
    """

    def __init__(
        self,
        clock: Callable[[], datetime],
        *,
        access_lifetime: int = 300,
        refresh_lifetime: int = 1800,
        key: bytes | None = None,
    ) -> None:
        self._clock = clock
        self.access_lifetime = int(access_lifetime)
        self.refresh_lifetime = int(refresh_lifetime)
        self._key = key if key is not None else secrets.token_bytes(32)
        # expire_tokens() bumps the generation; tokens of older generations are refused.
        self._generation = 0
        # ids (jti) of revoked tokens; an access token whose refresh token's id is here too
        self._revoked: set[str] = set()
        self._lock = threading.Lock()

    def __repr__(self) -> str:
        return (
            f"TokenService(access_lifetime={self.access_lifetime}, "
            f"refresh_lifetime={self.refresh_lifetime})"
        )

    def _issue(
        self, kind: str, client_id: str, organization_id: str | None, life: int, **extra: Any
    ) -> IssuedToken:
        now = int(self._clock().timestamp())
        token_id = uuid.uuid4().hex
        claims = {
            "iss": _ISSUER,
            "sub": client_id,
            "typ": kind,
            "org": organization_id,
            "iat": now,
            "exp": now + life,
            "jti": token_id,
            "gen": self._generation,
            **extra,
        }
        return IssuedToken(jwt.encode(claims, self._key, algorithm=_ALGORITHM), life, token_id)

    def issue_refresh(
        self,
        client_id: str,
        *,
        user_id: str | None = None,
        organization_ids: tuple[str, ...] | None = None,
    ) -> IssuedToken:
        """A refresh token for ``client_id`` (client-credentials step), or for a person's grant
        to it (authorization code step: ``user_id`` and the granted ``organization_ids``)."""
        extra = {} if user_id is None else {"usr": user_id, "orgs": list(organization_ids or ())}
        return self._issue("refresh", client_id, None, self.refresh_lifetime, **extra)

    def issue_access(
        self, client_id: str, organization_id: str | None, *, refresh_id: str | None = None
    ) -> IssuedToken:
        """An access token for ``client_id`` scoped to ``organization_id`` (or to none);
        ``refresh_id``: the id of the refresh token it comes from (revoking that revokes it)."""
        extra = {} if refresh_id is None else {"rft": refresh_id}
        return self._issue("access", client_id, organization_id, self.access_lifetime, **extra)

    def revoke_id(self, token_id: str) -> None:
        """Refuse the token with this id from now on (and, for a refresh token, the access
        tokens issued from it: RFC 7009 §2.1)."""
        with self._lock:
            self._revoked.add(token_id)

    def expire_all(self) -> None:
        """Refuse every token issued so far (forced expiry)."""
        with self._lock:
            self._generation += 1

    def claims_of(self, token: str) -> TokenClaims | None:
        """The claims of ``token`` if it is a valid token of either kind, else ``None``.

        Example:
            >>> from datetime import datetime, timezone
            >>> t = TokenService(lambda: datetime(2026, 1, 1, tzinfo=timezone.utc))
            >>> refresh = t.issue_refresh("23" + "b" * 30)
            >>> access = t.issue_access("23" + "b" * 30, None, refresh_id=refresh.token_id)
            >>> t.revoke_id(t.claims_of(refresh.token).token_id)
            >>> t.claims_of(access.token) is None   # revoked with its refresh token
            True
        """
        for kind in ("refresh", "access"):
            try:
                return self.check(token, kind)
            except TokenError:
                continue
        return None

    def check(self, token: str, kind: str) -> TokenClaims:
        """The claims of ``token`` if it is a valid, unexpired token of ``kind``.

        Raises :class:`TokenError` with reason ``token_invalid`` (bad signature, garbage,
        another sandbox's token), ``token_expired`` (sandbox clock past ``exp``),
        ``token_revoked`` (issued before :meth:`expire_all`) or ``token_is_refresh`` (a refresh
        token presented where an access token is needed).
        """
        try:
            # Expiry is checked below against the sandbox clock, not PyJWT's wall clock.
            claims = jwt.decode(
                token,
                self._key,
                algorithms=[_ALGORITHM],
                issuer=_ISSUER,
                options={"verify_exp": False, "verify_iat": False, "verify_nbf": False},
            )
        except jwt.PyJWTError as exc:
            raise TokenError("token_invalid") from exc
        typ = claims.get("typ")
        if typ != kind:
            raise TokenError("token_is_refresh" if typ == "refresh" else "token_invalid")
        exp = claims.get("exp")
        if not isinstance(exp, int) or not isinstance(claims.get("sub"), str):
            raise TokenError("token_invalid")
        if claims.get("gen") != self._generation:
            raise TokenError("token_revoked")
        with self._lock:
            if claims.get("jti") in self._revoked or claims.get("rft") in self._revoked:
                raise TokenError("token_revoked")
        if self._clock().timestamp() >= exp:
            raise TokenError("token_expired")
        orgs = claims.get("orgs")
        return TokenClaims(
            kind,
            claims["sub"],
            claims.get("org"),
            exp,
            claims.get("usr"),
            tuple(orgs) if isinstance(orgs, list) else None,
            str(claims.get("jti") or ""),
        )


def revoke_answer(
    tokens: TokenService, clients: Any, params: dict[str, str]
) -> tuple[int, dict[str, Any] | None]:
    """The revocation endpoint's answer (status, JSON or ``None`` for an empty 200) to an
    RFC 7009 request: ``token``, optional ``token_type_hint``, and the client's ``client_id``
    (and ``client_secret`` for a confidential client).

    An unknown or already invalid token is answered 200 (RFC 7009 §2.2); a token of another
    client is refused. ``clients`` maps client ids to client records (``secret``).

    Example:
        >>> from datetime import datetime, timezone
        >>> t = TokenService(lambda: datetime(2026, 1, 1, tzinfo=timezone.utc))
        >>> clients = {"23" + "b" * 30: {"secret": ""}}
        >>> refresh = t.issue_refresh("23" + "b" * 30)
        >>> revoke_answer(t, clients, {"token": refresh.token, "client_id": "23" + "b" * 30})
        (200, None)
        >>> revoke_answer(t, clients, {"client_id": "23" + "b" * 30})[1]["error_description"]
        'token is required'
    """
    client_id = params.get("client_id", "")
    if not client_id:
        return 400, _error("invalid_request", "client_id is required")
    client = clients.get(client_id)
    if client is None:
        return 401, _error("invalid_client", "client_id is unknown")
    secret = client.get("secret", "")
    given = params.get("client_secret", "")
    if (secret or given) and not secrets.compare_digest(secret, given):
        return 401, _error("invalid_client", "client_secret is wrong")
    token = params.get("token", "")
    if not token:
        return 400, _error("invalid_request", "token is required")
    hint = params.get("token_type_hint", "")
    if hint and hint not in ("refresh_token", "access_token"):
        return 400, _error(
            "unsupported_token_type", "token_type_hint must be refresh_token or access_token"
        )
    claims = tokens.claims_of(token)
    if claims is not None:
        if claims.client_id != client_id:
            return 400, _error("invalid_request", "the token was issued to another client")
        tokens.revoke_id(claims.token_id)
    return 200, None


def _error(error: str, description: str) -> dict[str, Any]:
    return {"error": error, "error_description": description}
