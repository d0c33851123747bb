"""The client's pace: one rate controller per client, shared by every thread and organization,
so that a server's rate limit slows the whole client down instead of refusing its requests.

Modelled on the AWS SDKs' *adaptive* retry mode. Until a server pushes back, nothing waits.
The first throttle (a 429 answer) switches on a client-side token bucket whose rate follows
what the server allows, CUBIC-style: each throttle cuts the rate to ``beta`` (0.7) of the rate
the client was sending at; every other answer lets it grow again along a cubic curve that is
flat near the last rate that was throttled and steep away from it, never above twice the rate
actually measured. When the server states its limit in a ``RateLimit-Policy`` header (``q;w=W``:
``q`` requests per ``W`` seconds, as bookingtime's gateway and the sandbox do), the bucket
starts at that rate at once and never goes above it. ``Retry-After`` is honoured per request by
the one retry policy (:mod:`bt_explore.retry`): a refused request waits that long, then takes
its turn in the bucket again like any other.

:class:`PacedAdapter` is the hook: the ``requests`` adapter :class:`~bt_explore.Client` mounts,
which takes a turn from the controller before every attempt (retries too, through
:class:`PacedRetry`) and reports every answer to it. The concurrency of a scan and the rate are
separate knobs: threads decide how many requests may wait for answers at once, the controller
how fast requests leave. Neither needs tuning: ``RateController(max_rate=...)`` caps the rate
for a server that does not say its limit.

Example:
    >>> clock = FakeClock()
    >>> pace = RateController(clock=clock, sleep=clock.sleep)
    >>> pace.rate is None                    # nothing throttled yet: no pacing
    True
    >>> pace.on_answer(200, {"RateLimit-Policy": "5;w=1"})
    >>> pace.rate
    5.0
    >>> [round(pace.acquire(), 3) for _ in range(3)]   # a turn every 0.2 s
    [0.2, 0.2, 0.2]
"""

from __future__ import annotations

import inspect
import logging
import math
import re
import threading
import time
from collections.abc import Callable, Mapping
from typing import Any

from requests import PreparedRequest, Response
from requests.adapters import HTTPAdapter
from urllib3.util.retry import Retry

__all__ = ["FakeClock", "PacedAdapter", "PacedRetry", "RateController", "policy_rate"]

log = logging.getLogger("bt_explore.pacing")

#: Statuses that mean "slow down" (a server's or gateway's throttle).
THROTTLE_STATUSES = frozenset({429})

_POLICY_ITEM = re.compile(r"^\s*(?:\"[^\"]*\"|[0-9]+)\s*$")


#: Policies over longer windows are quotas (a day's allowance), not a pace to keep.
POLICY_WINDOW_MAX = 60.0


def policy_rate(headers: Mapping[str, str]) -> float | None:
    """The rate (requests a second) a ``RateLimit-Policy`` header states, else ``None``.

    Reads the draft's forms ``10;w=2`` and ``"default";q=10;w=2``; of several policies the
    slowest with a window of at most a minute counts (a longer one is a quota, not a pace).

    Example:
        >>> policy_rate({"RateLimit-Policy": "10;w=2"}), policy_rate({"ratelimit-policy": '"a";q=6;w=60'})
        (5.0, 0.1)
        >>> policy_rate({"RateLimit-Policy": '"s";q=20;w=1, "day";q=1000;w=86400'})
        20.0
        >>> policy_rate({}) is None
        True
    """
    value = next((v for k, v in headers.items() if k.lower() == "ratelimit-policy"), None)
    rates = [r for r in map(_one_policy, (value or "").split(",")) if r is not None]
    return min(rates, default=None)


def _one_policy(text: str) -> float | None:
    first, *params = text.split(";")
    named = dict(p.strip().partition("=")[::2] for p in params)
    quota = named.get("q") or (first.strip() if first.strip().isdigit() else None)
    try:
        q, w = float(quota or "nan"), float(named.get("w", "1"))
    except ValueError:
        return None
    if not (q > 0 and 0 < w <= POLICY_WINDOW_MAX):
        return None
    return q / w


class FakeClock:
    """A clock for tests and examples: ``clock()`` reads it, ``sleep(s)`` advances it.

    Example:
        >>> clock = FakeClock(10.0); clock.sleep(2.5); clock()
        12.5
    """

    def __init__(self, start: float = 0.0) -> None:
        self.now = start

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        """Advance the clock by ``seconds`` instead of waiting."""
        self.now += max(0.0, seconds)


class RateController:
    """How fast one client sends: a token bucket, off until the server pushes back, whose rate
    follows the throttles it sees (CUBIC) and the limit the server states.

    ``max_rate`` caps the rate (requests a second) from the start; ``clock`` (monotonic
    seconds) and ``sleep`` are injectable for tests. Thread-safe: every thread of the client
    takes its turns from the one bucket, in order.

    Example:
        >>> clock = FakeClock()
        >>> pace = RateController(clock=clock, sleep=clock.sleep)
        >>> for _ in range(16):                       # 8 answers a second, then a 429
        ...     _ = pace.acquire(); pace.on_answer(200, {}); clock.sleep(0.125)
        >>> pace.on_answer(429, {})
        >>> pace.throttles, round(pace.rate, 1)       # 0.7 of the 8/s it was sending at
        (1, 5.6)
    """

    #: the multiplicative decrease on a throttle, and CUBIC's scaling constant (AWS's values)
    BETA = 0.7
    SCALE = 0.4
    #: the rate never drops below this (requests a second)
    MIN_RATE = 0.5
    #: the measured send rate: 0.5 s buckets, exponentially smoothed
    SMOOTHING = 0.8
    BUCKET_SECONDS = 0.5

    def __init__(
        self,
        *,
        max_rate: float | None = None,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if max_rate is not None and (
            isinstance(max_rate, bool) or not isinstance(max_rate, (int, float)) or not max_rate > 0
        ):
            raise ValueError(
                f"max_rate: must be a positive number of requests a second, got {max_rate!r}"
            )
        self.max_rate = None if max_rate is None else float(max_rate)
        self._clock = clock
        self._sleep = sleep
        self._lock = threading.Lock()
        now = clock()
        self._enabled = max_rate is not None
        self._fill_rate = self.max_rate or 0.0
        self._tokens = 0.0
        self._refilled = now
        self._stated: float | None = None  # the rate the server's policy header states
        self._measured = 0.0
        self._count = 0
        self._bucket = math.floor(now / self.BUCKET_SECONDS) * self.BUCKET_SECONDS
        self._started = now
        self._last_max = 0.0
        self._last_throttle = now
        self._k = 0.0
        #: throttled answers seen so far
        self.throttles = 0

    @property
    def rate(self) -> float | None:
        """The current pace in requests a second; ``None`` while nothing limits the client."""
        with self._lock:
            return self._fill_rate if self._enabled else None

    def __repr__(self) -> str:
        rate = self.rate
        pace = "unpaced" if rate is None else f"{rate:.2f} requests/s"
        return f"RateController({pace}, throttles={self.throttles})"

    def acquire(self) -> float:
        """Wait for this request's turn; returns the seconds waited (0 while unpaced)."""
        with self._lock:
            if not self._enabled:
                return 0.0
            now = self._clock()
            self._refill(now)
            self._tokens -= 1.0  # below zero: a reservation paid back by the refill
            wait = -self._tokens / self._fill_rate if self._tokens < 0 else 0.0
        if wait > 0:
            self._sleep(wait)
        return wait

    def on_answer(self, status: int, headers: Mapping[str, str]) -> None:
        """Learn from one answer: its status (429: throttled) and rate-limit headers."""
        with self._lock:
            now = self._clock()
            self._measure(now)
            stated = policy_rate(headers)
            if stated is not None and stated != self._stated:
                self._stated = stated
                if not self._enabled or self._fill_rate > stated:
                    self._set_rate(now, stated)
                    if not self.throttles:
                        self._last_max = stated
            if status in THROTTLE_STATUSES:
                self._throttle(now)
            elif self._enabled and self.throttles:
                grown = self.SCALE * (now - self._last_throttle - self._k) ** 3 + self._last_max
                measured = self._measured_rate(now)
                self._set_rate(now, grown if measured is None else min(grown, 2 * measured))

    # -- internals (called with the lock held) ----------------------------------------------

    def _refill(self, now: float) -> None:
        self._tokens = min(1.0, self._tokens + (now - self._refilled) * self._fill_rate)
        self._refilled = now

    def _set_rate(self, now: float, rate: float) -> None:
        caps = [c for c in (self._stated, self.max_rate) if c is not None]
        rate = max(self.MIN_RATE, min([rate, *caps]))
        if not self._enabled:
            self._enabled, self._tokens, self._refilled = True, 0.0, now
        else:
            self._refill(now)  # what was earned so far at the old rate
        self._fill_rate = rate

    def _throttle(self, now: float) -> None:
        measured = self._measured_rate(now)
        if self._enabled:
            current = self._fill_rate if measured is None else min(measured, self._fill_rate)
        else:
            elapsed = now - self._started
            current = measured or (self._count / elapsed if elapsed > 0 else 0.0)
        current = max(current, self.MIN_RATE)
        self._last_max = current
        self._k = (current * (1 - self.BETA) / self.SCALE) ** (1 / 3)
        self._last_throttle = now
        self.throttles += 1
        self._set_rate(now, current * self.BETA)
        log.info("throttled: pacing at %.2f requests/s", self._fill_rate)

    def _measure(self, now: float) -> None:
        self._count += 1
        bucket = math.floor(now / self.BUCKET_SECONDS) * self.BUCKET_SECONDS
        if bucket > self._bucket:
            current = self._count / (bucket - self._bucket)
            s = self.SMOOTHING
            self._measured = current * s + self._measured * (1 - s)
            self._count, self._bucket = 0, bucket

    def _measured_rate(self, now: float) -> float | None:
        """The smoothed rate of answers; ``None`` before the first full 0.5 s bucket."""
        return self._measured or None


_RETRY_FIELDS = tuple(p for p in inspect.signature(Retry.__init__).parameters if p != "self")


class PacedRetry(Retry):
    """urllib3's ``Retry`` that reports every refused attempt to a :class:`RateController`
    and takes a turn from it before each retry (after ``Retry-After`` or the backoff).

    Example:
        >>> from bt_explore.retry import default_retry
        >>> retry = PacedRetry.of(default_retry(), RateController())
        >>> retry.total, retry.new(total=1).pace is retry.pace
        (3, True)
    """

    pace: RateController | None = None

    @classmethod
    def of(cls, retry: Retry, pace: RateController) -> PacedRetry:
        """``retry``'s policy, paced by ``pace``."""
        paced = cls(**{name: getattr(retry, name) for name in _RETRY_FIELDS})
        paced.pace = pace
        return paced

    def new(self, **kw: Any) -> PacedRetry:
        """A copy with ``kw`` changed (urllib3 makes one per attempt), keeping the pace."""
        retry = super().new(**kw)
        retry.pace = self.pace
        return retry

    def increment(self, method: Any = None, url: Any = None, response: Any = None, *args: Any, **kw: Any) -> Retry:  # type: ignore[override]  # fmt: skip
        if response is not None and self.pace is not None:
            response.bt_explore_paced = True  # counted here: the adapter must not count it again
            self.pace.on_answer(response.status, response.headers)
        return super().increment(method, url, response, *args, **kw)

    def sleep(self, response: Any = None) -> None:
        super().sleep(response)
        if self.pace is not None:
            self.pace.acquire()


class PacedAdapter(HTTPAdapter):
    """The ``requests`` adapter of a client: every request waits for its turn from ``pace``,
    every answer is reported to it, and ``max_retries`` (the one retry policy) is paced too.

    Example:
        >>> import requests
        >>> from bt_explore.retry import default_retry
        >>> session = requests.Session()
        >>> session.mount("http://127.0.0.1/", PacedAdapter(RateController(), max_retries=default_retry()))
    """

    def __init__(self, pace: RateController, *, max_retries: Retry, **kwargs: Any) -> None:
        super().__init__(max_retries=PacedRetry.of(max_retries, pace), **kwargs)
        self.pace = pace

    def send(self, request: PreparedRequest, *args: Any, **kwargs: Any) -> Response:
        self.pace.acquire()
        response = super().send(request, *args, **kwargs)
        if not getattr(response.raw, "bt_explore_paced", False):
            self.pace.on_answer(response.status_code, response.headers)
        return response
