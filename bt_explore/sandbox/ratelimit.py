"""The sandbox's rate limit, enforced the way an API gateway does: a token bucket per client
(or per organization), 429 with ``Retry-After`` when it is empty, rate-limit headers on every
limited answer.

A bucket holds at most ``burst`` requests and refills at ``rate`` requests a second; each
request takes one. An empty bucket answers 429 without reaching the API, with ``Retry-After``
(whole seconds until a request fits again, at least 1) and the headers every limited answer
carries, in the IETF draft's spelling and in the older ``X-`` spelling many gateways send:

- ``RateLimit-Limit`` / ``X-RateLimit-Limit``: the bucket size (``burst``);
- ``RateLimit-Remaining`` / ``X-RateLimit-Remaining``: whole requests left in the bucket;
- ``RateLimit-Reset`` / ``X-RateLimit-Reset``: seconds until the bucket is full again;
- ``RateLimit-Policy``: ``q;w=W`` — the rate as ``q`` requests per ``W`` seconds (the smallest
  whole ``W`` that makes ``q`` whole: ``5;w=1``, ``1;w=2``), from which a client reads the rate
  (``bt_explore.pacing`` does).

Example:
    >>> limit = RateLimit.parse("5/s")
    >>> limit.rate, limit.burst, limit.per
    (5.0, 5, 'client')
    >>> now = [0.0]
    >>> buckets = TokenBuckets(limit, clock=lambda: now[0])
    >>> [buckets.take("23demo").allowed for _ in range(6)]
    [True, True, True, True, True, False]
    >>> now[0] += 0.2                       # one request's worth of refill
    >>> buckets.take("23demo").allowed
    True
"""

from __future__ import annotations

import math
import re
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Literal

__all__ = ["RateLimit", "TokenBuckets", "Verdict", "rate_limit"]

_UNITS = {"s": 1.0, "sec": 1.0, "second": 1.0, "m": 60.0, "min": 60.0, "minute": 60.0}
_SPEC = re.compile(r"\s*(?P<n>[0-9]*\.?[0-9]+)\s*(?:/\s*(?P<unit>[a-z]+))?\s*")
_PER = ("client", "organization")


@dataclass(frozen=True)
class RateLimit:
    """A gateway's limit: ``rate`` requests a second, bursts of ``burst`` (default: one
    second's worth, at least 1), one bucket ``per`` ``"client"`` (the access token's client id)
    or ``"organization"`` (the organization in the path); ``paths`` is a regex searched in the
    request path (default: the Module API, not the token endpoint).

    Example:
        >>> RateLimit(20, burst=40, per="organization").burst
        40
        >>> RateLimit(0)
        Traceback (most recent call last):
        ...
        ValueError: rate_limit: the rate must be a positive number of requests a second, got 0
    """

    rate: float
    burst: int | None = None
    per: Literal["client", "organization"] = "client"
    paths: str = r"^/module/"

    def __post_init__(self) -> None:
        rate = self.rate
        if isinstance(rate, bool) or not isinstance(rate, (int, float)) or not rate > 0:
            raise ValueError(
                f"rate_limit: the rate must be a positive number of requests a second, got {rate!r}"
            )
        if not math.isfinite(rate):
            raise ValueError(f"rate_limit: the rate must be finite, got {rate!r}")
        object.__setattr__(self, "rate", float(rate))
        burst = self.burst if self.burst is not None else max(1, math.ceil(rate))
        if isinstance(burst, bool) or not isinstance(burst, int) or burst < 1:
            raise ValueError(f"rate_limit: burst must be a whole number >= 1, got {self.burst!r}")
        object.__setattr__(self, "burst", burst)
        if self.per not in _PER:
            raise ValueError(
                f"rate_limit: per must be 'client' or 'organization', got {self.per!r}"
            )
        try:
            re.compile(self.paths)
        except re.error as exc:
            raise ValueError(f"rate_limit: paths is not a regular expression: {exc}") from None

    @property
    def policy(self) -> str:
        """The ``RateLimit-Policy`` value: the rate as ``q;w=W`` (``W`` whole seconds, at most
        an hour; ``q`` whole when such a ``W`` exists).

        Example:
            >>> RateLimit(5).policy, RateLimit(0.5).policy, RateLimit(30, burst=1).policy
            ('5;w=1', '1;w=2', '30;w=1')
        """
        for window in range(1, 3601):
            quota = self.rate * window
            if abs(quota - round(quota)) < 1e-9:
                return f"{round(quota)};w={window}"
        return f"{self.rate:.9g};w=1"

    @classmethod
    def parse(cls, text: str, **options: Any) -> RateLimit:
        """A limit from ``"N/s"`` or ``"N/min"`` (a bare number is per second).

        Example:
            >>> RateLimit.parse("300/min").rate
            5.0
            >>> RateLimit.parse("fast")
            Traceback (most recent call last):
            ...
            ValueError: rate_limit: expected N/s or N/min (e.g. 5/s), got 'fast'
        """
        m = _SPEC.fullmatch(str(text).lower())
        unit = (m["unit"] or "s") if m else ""
        if m is None or unit not in _UNITS:
            raise ValueError(f"rate_limit: expected N/s or N/min (e.g. 5/s), got {text!r}")
        return cls(float(m["n"]) / _UNITS[unit], **options)


def rate_limit(value: RateLimit | str | float | Mapping[str, Any] | None) -> RateLimit | None:
    """``Sandbox(rate_limit=...)``'s argument as a :class:`RateLimit`: a limit, ``"5/s"``, a
    number (requests a second), a dict of :class:`RateLimit` fields, or ``None`` (no limit).

    Example:
        >>> rate_limit({"rate": 5, "burst": 2}).burst
        2
        >>> rate_limit(None) is None
        True
    """
    if value is None or isinstance(value, RateLimit):
        return value
    if isinstance(value, str):
        return RateLimit.parse(value)
    if isinstance(value, Mapping):
        unknown = sorted(set(value) - {"rate", "burst", "per", "paths"})
        if unknown:
            raise ValueError(
                f"rate_limit: unknown setting(s) {', '.join(unknown)}; known: burst, paths, per, rate"
            )
        if isinstance(value.get("rate"), str):
            return RateLimit.parse(value["rate"], **{k: v for k, v in value.items() if k != "rate"})
        return RateLimit(**value)
    return RateLimit(value)


@dataclass(frozen=True)
class Verdict:
    """The outcome of one request: ``allowed``, and what the headers say."""

    allowed: bool
    remaining: int
    retry_after: float
    reset: float

    def headers(self, limit: RateLimit) -> list[tuple[str, str]]:
        """The rate-limit headers of this answer (``Retry-After`` too when refused).

        Example:
            >>> Verdict(False, 0, 0.2, 1.0).headers(RateLimit(5))[0]
            ('Retry-After', '1')
        """
        reset = str(math.ceil(self.reset))
        values = [("Limit", str(limit.burst)), ("Remaining", str(self.remaining)), ("Reset", reset)]
        headers = (
            [("Retry-After", str(max(1, math.ceil(self.retry_after))))] if not self.allowed else []
        )
        headers += [(f"RateLimit-{name}", value) for name, value in values]
        headers += [(f"X-RateLimit-{name}", value) for name, value in values]
        headers.append(("RateLimit-Policy", limit.policy))
        return headers


class TokenBuckets:
    """One token bucket per key (client id or organization id), thread-safe; ``clock`` is
    monotonic seconds (injectable for tests)."""

    def __init__(self, limit: RateLimit, clock: Callable[[], float] = time.monotonic) -> None:
        self.limit = limit
        self.clock = clock
        self._paths = re.compile(limit.paths)
        self._lock = threading.Lock()
        self._buckets: dict[str, tuple[float, float]] = {}  # key -> (tokens, as of)

    def applies(self, path: str) -> bool:
        """Whether requests to ``path`` are limited."""
        return self._paths.search(path) is not None

    def take(self, key: str) -> Verdict:
        """Take one request from ``key``'s bucket (refilled up to now)."""
        rate, burst = self.limit.rate, float(self.limit.burst)  # type: ignore[arg-type]
        with self._lock:
            now = self.clock()
            tokens, then = self._buckets.get(key, (burst, now))
            tokens = min(burst, tokens + (now - then) * rate)
            allowed = tokens >= 1.0
            if allowed:
                tokens -= 1.0
            self._buckets[key] = (tokens, now)
        wait = 0.0 if allowed else (1.0 - tokens) / rate
        return Verdict(allowed, int(tokens), wait, (burst - tokens) / rate)
