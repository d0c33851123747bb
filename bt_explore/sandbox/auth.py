"""Token issuing and checking for the sandbox's ``/oauth/token`` endpoint and API calls.

Tokens are HS256 JWTs signed with a random per-sandbox key, so a token from another sandbox (or
a forged one) fails the signature check. Their ``iat``/``exp`` follow the *sandbox* clock, and
expiry is checked against that clock, not the wall clock: a pinned clock plus
:meth:`~bt_explore.sandbox.Sandbox.advance` makes expiry testable without waiting.

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

__all__ = ["IssuedToken", "TokenClaims", "TokenError", "TokenService"]

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
        self._lock = threading.Lock()

    def __repr__(self) -> str:
        return (
            f"TokenService(access_lifetime={self.access_lifetime}, "
            f"refresh_lifetime={self.refresh_lifetime})"
        )

    def _issue(
        self, kind: str, client_id: str, organization_id: str | None, life: int, **extra: Any
    ) -> str:
        now = int(self._clock().timestamp())
        claims = {
            "iss": _ISSUER,
            "sub": client_id,
            "typ": kind,
            "org": organization_id,
            "iat": now,
            "exp": now + life,
            "jti": uuid.uuid4().hex,
            "gen": self._generation,
            **extra,
        }
        return jwt.encode(claims, self._key, algorithm=_ALGORITHM)

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
        return IssuedToken(
            self._issue("refresh", client_id, None, self.refresh_lifetime, **extra),
            self.refresh_lifetime,
        )

    def issue_access(self, client_id: str, organization_id: str | None) -> IssuedToken:
        """An access token for ``client_id`` scoped to ``organization_id`` (or to none)."""
        return IssuedToken(
            self._issue("access", client_id, organization_id, self.access_lifetime),
            self.access_lifetime,
        )

    def expire_all(self) -> None:
        """Refuse every token issued so far (forced expiry)."""
        with self._lock:
            self._generation += 1

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
        )
