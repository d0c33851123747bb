"""The client's pace: one rate controller per client, shared by every thread and organization,
so that a server's rate limit slows the whole client down instead of refusing its requests.

Until a server pushes back, nothing waits. Then a client-side token bucket paces every request,
at a rate learnt from the server, in the way the server tells it:

- **A stated limit.** A ``RateLimit-Policy`` header (``q;w=W``: ``q`` requests per ``W``
  seconds, as the sandbox sends) sets the rate at once, and the rate never goes above it.
- **429 + ``Retry-After``** and nothing more (bookingtime's gateway documents no more): the whole
  client pauses that long — requests already on their way excepted — and goes on at the rate
  the server accepted, measured from its answers: a token bucket that is empty at two refusals
  let through, in between, exactly what it refilled (see ``_Window.rate``). That rate is kept
  for thirty pauses' time, then probed above by 10 % a second. A refusal that the measured
  rate does not explain (a server refusing at random) pauses the client without lowering it.
- **A bare 429**: the AWS SDKs' *adaptive* mode — each throttle cuts the rate to ``beta``
  (0.7) of what the client was sending at, and it grows back along a cubic curve, flat near
  the rate that was throttled, never above twice the rate measured.

The refused request itself waits its ``Retry-After`` in the one retry policy
(:mod:`bt_explore.retry`), then takes its turn again like any other.

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
from collections import deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from requests import PreparedRequest, Response
from requests.adapters import HTTPAdapter
from urllib3.exceptions import InvalidHeader
from urllib3.util.retry import Retry

__all__ = [
    "FakeClock", "PacedAdapter", "PacedRetry", "RateController", "policy_rate", "retry_after",
]  # fmt: skip

log = logging.getLogger("bt_explore.pacing")

#: Statuses that mean "slow down" (a server's or gateway's throttle).
THROTTLE_STATUSES = frozenset({429})

_POLICY_ITEM = re.compile(r"^\s*(?:\"[^\"]*\"|[0-9]+)\s*$")


#: A ``Retry-After`` longer than this (seconds) pauses the client only this long.
RETRY_AFTER_MAX = 60.0

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


def retry_after(headers: Mapping[str, str]) -> float | None:
    """The seconds a ``Retry-After`` header asks to wait (urllib3's reading: whole seconds or an
    HTTP date; a date in the past is 0); ``None`` when there is none or it is unreadable.

    Example:
        >>> retry_after({"Retry-After": "1"}), retry_after({"retry-after": "120"})
        (1.0, 120.0)
        >>> retry_after({"Retry-After": "soon"}) is None, retry_after({}) is None
        (True, True)
    """
    value = next((v for k, v in headers.items() if k.lower() == "retry-after"), None)
    if value is None:
        return None
    try:
        return float(Retry().parse_retry_after(value))
    except InvalidHeader:
        return None


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
    follows what the server allows: the limit it states, the rate it accepted between two
    ``Retry-After`` pauses, or (a bare 429) CUBIC.

    ``max_rate`` caps the rate (requests a second) from the start; ``clock`` (monotonic
    seconds) and ``sleep`` are injectable for tests. Thread-safe: every thread of the client
    takes its turns from the one bucket, in order.

    Example:
        >>> clock = FakeClock()
        >>> pace = RateController(clock=clock, sleep=clock.sleep)
        >>> for _ in range(16):                       # 8 answers a second, then a bare 429
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
    #: after a ``Retry-After`` pause the rate the server accepted is kept for this many times
    #: the pause before probing above it: a refused probe pauses the client for its
    #: ``Retry-After``, so probing costs about 1/PROBE_AFTER of the time
    PROBE_AFTER = 30.0
    #: ... and then probes above it by this share of that rate a second
    PROBE_GROWTH = 0.1
    #: a client that sent nothing for this long has left the server's bucket full again: the
    #: next ``Retry-After`` measures from there
    IDLE_SECONDS = 2.0
    #: the first pause of a busy spell measures the rate from at least this many accepted
    #: requests; with fewer, it is a bare throttle's cut
    EVIDENCE = 2
    #: a refusal at the measured rate is kept only after at least this many accepted since
    #: the pause before (refusals in a row are the rate's, not chance)
    KEEP_EVIDENCE = 4

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
        self._sent = threading.local()  # when this thread's request left (acquire)
        now = clock()
        self._enabled = max_rate is not None
        self._fill_rate = self.max_rate or 0.0
        self._tokens = 0.0
        self._refilled = now
        self._stated: float | None = None  # the rate the server's policy header states
        self._measured = 0.0
        self._count = 0
        self._bucket = math.floor(now / self.BUCKET_SECONDS) * self.BUCKET_SECONDS
        # CUBIC: the rate last throttled, when, the seconds back to it, the plateau there
        self._last_max = 0.0
        self._last_throttle = now
        self._k = 0.0
        self._plateau = 0.0
        self._probing = False  # after a Retry-After pause: grow linearly (PROBE_GROWTH)
        # Retry-After pauses: nothing leaves before _resume_at; _pauses counts them (a turn
        # given out before a pause began is void); when the requests the API accepted since
        # the last refusal (or the start of the busy spell) were sent measures the rate
        self._resume_at = now
        self._pauses = 0
        self._window = _Window(None)
        self._spell_began = now  # the client's busy spell: its first request, how many since
        self._spell_sent = 0
        self._last_sent = -math.inf
        self._episode: _Episode | None = None  # the last pause
        self._settled = False  # the rate was measured between two pauses
        #: throttled answers seen so far
        self.throttles = 0

    @property
    def rate(self) -> float | None:
        """The current pace in requests a second; ``None`` while nothing limits the client."""
        with self._lock:
            return self._fill_rate if self._enabled else None

    @property
    def pauses(self) -> int:
        """``Retry-After`` pauses so far: a turn :meth:`acquire` gave out before the count
        changed fell into a pause and is taken again."""
        with self._lock:
            return self._pauses

    def __repr__(self) -> str:
        rate = self.rate
        pace = "unpaced" if rate is None else f"{rate:.2f} requests/s"
        return f"RateController({pace}, throttles={self.throttles})"

    def acquire(self) -> float:
        """Wait for this request's turn; returns the seconds waited (0 while unpaced).

        A turn never falls into a ``Retry-After`` pause: a request whose turn came while a
        pause began (another thread's request was refused) queues again behind it.
        """
        waited = 0.0
        while True:
            with self._lock:
                now = self._clock()
                self._note_sent(now)
                if not self._enabled:
                    self._sent.at = now
                    return waited
                self._refill(now)
                self._tokens -= 1.0  # below zero: a reservation paid back by the refill
                pauses = self._pauses
                wait = max(0.0, self._resume_at - now)
                wait += -self._tokens / self._fill_rate if self._tokens < 0 else 0.0
            if wait <= 0:
                self._sent.at = now
                return waited
            self._sleep(wait)
            waited += wait
            with self._lock:
                if self._pauses == pauses:
                    self._sent.at = self._clock()
                    return waited
                # a pause began meanwhile: every turn given out is void, take one after it

    def on_answer(
        self,
        status: int,
        headers: Mapping[str, str],
        *,
        api: bool = True,
        sent: float | None = None,
    ) -> None:
        """Learn from one answer: its status (429: throttled) and rate-limit headers.

        ``api=False`` for answers of another server (the token endpoint): a 429 there slows the
        client too, but its other answers do not count as requests the API accepted. ``sent``
        is when the request left (the controller's clock); by default, when this thread's last
        :meth:`acquire` gave it its turn.
        """
        with self._lock:
            now = self._clock()
            self._measure(now)
            self._read_policy(now, headers)
            if sent is None:
                sent = getattr(self._sent, "at", now)
            episode = self._episode
            in_flight = episode is not None and sent <= episode.at  # sent before the pause
            if status in THROTTLE_STATUSES:
                self._refused(now, retry_after(headers), sent, in_flight)
            elif in_flight and episode:
                if api:  # sent before the pause: in the window it closed, even when it left
                    # just after the refused one (threads' sends reach the gateway in any order)
                    episode.window.add(sent)
                    episode.accepted_after += sent > episode.sent
                self._settle(now)
            else:
                if api:
                    self._window.add(sent)
                if self._enabled and self.throttles:
                    self._grow(now)

    # -- internals (called with the lock held) ----------------------------------------------

    def _read_policy(self, now: float, headers: Mapping[str, str]) -> None:
        """A stated limit sets the rate at once and caps it from then on."""
        stated = policy_rate(headers)
        if stated is not None and stated != self._stated:
            self._stated = stated
            if not self._enabled or self._fill_rate > stated:
                self._set_rate(now, stated)
                if not self.throttles:
                    self._last_max = stated

    def _refused(self, now: float, pause: float | None, sent: float, in_flight: bool) -> None:
        """A 429: bare (CUBIC), sent before the pause began (no second cut), or a pause."""
        if pause is None:
            self._throttle(now)
        elif in_flight and self._episode:
            self.throttles += 1
            self._episode.refused += 1
            self._settle(now)
        else:
            self._pause(now, min(pause, RETRY_AFTER_MAX), sent)

    def _note_sent(self, now: float) -> None:
        """A request leaves: after an idle spell the server's bucket is full, measure anew."""
        if now - max(self._last_sent, self._resume_at) > self.IDLE_SECONDS:
            self._window = _Window(None)
            self._spell_began, self._spell_sent = now, 0
        self._spell_sent += 1
        self._last_sent = now

    def _grow(self, now: float) -> None:
        """CUBIC: concave up to the rate last throttled, flat there for the plateau, then
        convex (probing), never above twice the measured rate."""
        t = max(0.0, now - self._last_throttle)
        x = t - self._k if t < self._k else max(0.0, t - self._k - self._plateau)
        measured = self._measured_rate(now)
        if self._probing:  # after a Retry-After pause: the measured rate, then a linear probe
            grown = self._last_max * (1 + self.PROBE_GROWTH * x)
            cap = self._last_max if measured is None else max(self._last_max, 2 * measured)
        else:
            grown = self.SCALE * x**3 + self._last_max
            cap = grown if measured is None else 2 * measured
        self._set_rate(now, min(grown, cap))

    def _refill(self, now: float) -> None:
        earned = now - max(self._refilled, self._resume_at)  # nothing during a pause
        if earned > 0:
            self._tokens = min(1.0, self._tokens + earned * self._fill_rate)
        self._refilled = max(self._refilled, now)

    def _pause(self, now: float, pause: float, sent: float) -> None:
        """A 429 with ``Retry-After``: the whole client pauses that long (requests in flight
        excepted), then sends at the rate :meth:`_settle` finds, keeps it for the plateau,
        then probes above it, ``PROBE_GROWTH`` more each second."""
        plateau = self._settled and now < self._last_throttle + self._plateau
        if plateau and self._window.count >= self.KEEP_EVIDENCE:
            kind = "keep"
        else:
            kind = "first" if self._window.start is None else "measure"
        sending = self._fill_rate if self._enabled else self._sending_rate(now)
        self._episode = _Episode(kind, now, sent, pause, self._window, sending, self._enabled)
        self._window = _Window(sent)  # the bucket was empty when the refused request came
        self.throttles += 1
        self._resume_at = now + pause
        self._pauses += 1
        if kind != "keep":
            self._last_throttle, self._k = self._resume_at, 0.0
            self._plateau, self._probing = self.PROBE_AFTER * pause, True
        self._settle(now)
        self._tokens = 1.0  # the first turn at the end of the pause
        log.info("throttled: paused %.1f s (%s)", pause, kind)

    def _settle(self, now: float) -> None:
        """The rate after a pause, from the window the pause closed; answers arriving during
        the pause were sent before it and count there, so it is settled again with each.

        "measure": the client sends at what the server accepted (:meth:`_Window.rate`), cut at
        most to ``BETA`` of the rate it was sending at, so that a server refusing at random is
        no lower limit. "keep": refused again while it sends at a rate measured so, before the
        plateau ends, the client keeps that rate — the refusal was not its pace. "first", the
        first pause of a busy spell: measured as well, from a bucket that was full when the
        spell began — when at least ``EVIDENCE`` requests were accepted, and the requests
        sent with or after the refused one were refused more often than accepted (an empty
        bucket refuses them all; chance, few). Otherwise it is taken as a bare 429: a cut to
        ``BETA`` of the sending rate.
        """
        episode = self._episode
        assert episode is not None
        if episode.kind == "keep":
            return
        accepted = episode.window.rate(episode.sent, episode.pause)
        sending = episode.sending
        emptied = episode.refused > episode.accepted_after  # the refusal was no chance
        if episode.kind == "measure" or (emptied and episode.window.count >= self.EVIDENCE):
            rate = accepted
        else:
            rate = self.BETA * sending
        if episode.paced:  # one pause cuts at most to BETA, and never speeds up
            rate = min(sending, max(rate, self.BETA * sending))
        # cut to BETA, the rate is measured again at the next pause
        measured = episode.kind == "measure"
        self._set_rate(now, rate)
        self._last_max, self._settled = self._fill_rate, measured
        log.debug("%s: %.2f requests/s", episode, self._fill_rate)

    def _set_rate(self, now: float, rate: float) -> None:
        caps = [c for c in (self._stated, self.max_rate) if c is not None]
        rate = max(self.MIN_RATE, min([rate, *caps]))
        if not self._enabled:
            self._enabled, self._tokens, self._refilled = True, 0.0, now
        else:
            self._refill(now)  # what was earned so far at the old rate
        self._fill_rate = rate

    def _throttle(self, now: float) -> None:
        """A bare 429 (no ``Retry-After``): CUBIC's cut to ``BETA`` of the sending rate."""
        measured = self._measured_rate(now)
        if self._enabled:
            current = self._fill_rate if measured is None else min(measured, self._fill_rate)
        else:
            current = self._sending_rate(now)
        current = max(current, self.MIN_RATE)
        self._last_max = current
        self._k = (current * (1 - self.BETA) / self.SCALE) ** (1 / 3)
        self._last_throttle, self._plateau, self._probing = now, 0.0, False
        self._episode, self._settled = None, False
        self.throttles += 1
        self._set_rate(now, current * self.BETA)
        log.info("throttled: pacing at %.2f requests/s", self._fill_rate)

    def _sending_rate(self, now: float) -> float:
        """Requests sent a second in this busy spell (an unpaced client's rate: the smoothed
        rate of answers lags a spell that began after an idle one)."""
        return self._spell_sent / max(now - self._spell_began, 1e-3)

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


class _Window:
    """When the API requests a server accepted were sent, since its bucket was last known
    empty (``start``: a request was refused) or full (``start`` None: a busy spell began)."""

    def __init__(self, start: float | None) -> None:
        self.start = start
        self.times: deque[float] = deque(maxlen=4096)
        self.count = 0

    def add(self, sent: float) -> None:
        self.times.append(sent)
        self.count += 1

    def rate(self, end: float, pause: float) -> float:
        """The server's rate as far as its bucket shows it: the bucket was empty when a
        request sent at ``end`` came (it was refused, asking for ``pause``).

        From an empty bucket at ``start`` the server accepted what it refilled: ``count / (end
        - start)``, exactly when the client sent at least as fast all along. From any request
        sent at ``τ`` on, it accepted at most what its bucket held then plus its refill; a
        bucket holds about one pause's worth (``Retry-After`` is about the time to refill it),
        so the rate is at least ``accepted since τ / (pause + end - τ)`` (a pause of at least
        a second: ``Retry-After`` counts whole seconds): the largest of these,
        which counts from the last moment the bucket was full (before, the client sent slower
        than the server allowed; a spell begins with a full bucket).

        Example:
            >>> w = _Window(None)
            >>> for t in (0.0, 0.0, 0.05, 0.05, 0.05):   # 5 accepted at the start, then a 429
            ...     w.add(t)
            >>> round(w.rate(0.05, 1.0), 2)               # a 5 requests/s bucket holding 5
            4.76
        """
        times = sorted(self.times)
        end = max(end, times[-1]) if times else end
        pause = max(pause, 1.0)  # Retry-After counts whole seconds: 0 is under one
        best = 0.0
        if self.start is not None and end > self.start:
            best = self.count / (end - self.start)
        for i, tau in enumerate(times):
            best = max(best, (len(times) - i) / (pause + end - tau))
        return best


@dataclass
class _Episode:
    """One ``Retry-After`` pause: how the rate after it is found, when it began, when the
    refused request was sent, how long it is, the window it closed, the rate the client sent
    at and whether it was paced; the refusals of requests sent before it, and how many
    requests sent after the refused one were accepted all the same."""

    kind: str  # "first", "measure" or "keep" (RateController._settle)
    at: float
    sent: float
    pause: float
    window: _Window
    sending: float
    paced: bool
    refused: int = 1
    accepted_after: int = 0

    def __repr__(self) -> str:
        return f"{self.kind}: {self.window.count} accepted, {self.refused} refused"


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
    api: bool = True

    @classmethod
    def of(cls, retry: Retry, pace: RateController, *, api: bool = True) -> PacedRetry:
        """``retry``'s policy, paced by ``pace`` (``api``: see :meth:`RateController.on_answer`)."""
        paced = cls(**{name: getattr(retry, name) for name in _RETRY_FIELDS})
        paced.pace, paced.api = pace, api
        return paced

    def new(self, **kw: Any) -> PacedRetry:
        """A copy with ``kw`` changed (urllib3 makes one per attempt), keeping the pace."""
        retry = super().new(**kw)
        retry.pace, retry.api = self.pace, self.api
        return retry

    def increment(self, method: Any = None, url: Any = None, response: Any = None, *args: Any, **kw: Any) -> Retry:  # type: ignore[override]  # fmt: skip
        if response is not None and self.pace is not None:
            response.bt_explore_paced = True  # counted here: the adapter must not count it again
            self.pace.on_answer(response.status, response.headers, api=self.api)
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

    def __init__(
        self, pace: RateController, *, max_retries: Retry, api: bool = True, **kwargs: Any
    ) -> None:
        super().__init__(max_retries=PacedRetry.of(max_retries, pace, api=api), **kwargs)
        self.pace, self.api = pace, api

    def send(self, request: PreparedRequest, *args: Any, **kwargs: Any) -> Response:
        self.pace.acquire()
        response = super().send(request, *args, **kwargs)
        if not getattr(response.raw, "bt_explore_paced", False):
            self.pace.on_answer(response.status_code, response.headers, api=self.api)
        return response
