"""A gateway and a client's threads simulated on one fake clock (nothing sleeps): eight senders
share one :class:`~bt_explore.pacing.RateController`, every request takes ``latency`` seconds,
and a token bucket (the sandbox's own :class:`~bt_explore.sandbox.ratelimit.TokenBuckets`)
refuses with 429 + ``Retry-After`` as a gateway does.

Each sender does what a scan thread does through the client's transport: takes a turn
(``acquire``; a turn that a pause voided is taken again), sends, reports the answer
(``on_answer``), and after a 429 waits the ``Retry-After`` before trying the same call again.
The gateway decides when a request arrives: it refuses at once, and answers what it lets
through after ``latency`` (the API's work), as a proxy in front of an API does.

Example:
    >>> run = simulate(rate=5, calls=152)   # + 2 setup calls
    >>> run.answered, run.refused <= 0.05 * run.answered
    (154, True)
"""

from __future__ import annotations

import heapq
import itertools
import random
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from bt_explore.pacing import FakeClock, RateController, retry_after
from bt_explore.sandbox.ratelimit import RateLimit, TokenBuckets

Headers = Mapping[str, str]

#: the time a refusal takes: the gateway's own, on loopback
REFUSAL = 0.001


@dataclass
class Run:
    """What one simulation saw: answers, refusals, the wall time and the controller."""

    answered: int = 0
    refused: int = 0
    wall: float = 0.0
    pace: RateController | None = None
    sends: list[float] = field(default_factory=list)

    def ideal(self, rate: float) -> float:
        """The answered calls at the gateway's rate."""
        return self.answered / rate


def gateway(rate: float, burst: int | None = None, *, headers: bool = False,
            clock: FakeClock) -> Callable[[], tuple[int, Headers]]:  # fmt: skip
    """A token-bucket gateway: ``(status, headers)`` per request; with ``headers`` it states
    its policy as the sandbox does, else it says only 429 + ``Retry-After``."""
    limit = RateLimit(rate, burst=burst)
    buckets = TokenBuckets(limit, clock=clock)

    def answer() -> tuple[int, Headers]:
        verdict = buckets.take("client")
        sent = dict(verdict.headers(limit))
        if not headers:
            sent = {k: v for k, v in sent.items() if k == "Retry-After"}
        return (200 if verdict.allowed else 429), sent

    return answer


def random_refusals(share: float, seed: int = 7) -> Callable[[FakeClock], Callable[[], tuple[int, Headers]]]:  # fmt: skip
    """A server with no limit that answers ``share`` of requests 429 + ``Retry-After: 1`` at
    random (the sandbox's ``--fault-rate``)."""
    rng = random.Random(seed)

    def make(clock: FakeClock) -> Callable[[], tuple[int, Headers]]:
        return lambda: (429, {"Retry-After": "1"}) if rng.random() < share else (200, {})

    return make


def simulate(rate: float = 5, *, calls: int = 154, burst: int | None = None,
             headers: bool = False, server: Callable[[FakeClock], Callable[[], tuple[int, Headers]]] | None = None,
             senders: int = 8, latency: float = 0.05, jitter: float = 0.0, setup: int = 2,
             seed: int = 7) -> Run:  # fmt: skip
    """``calls`` calls (after ``setup`` calls sent together, as a scan's organization and
    template list) by ``senders`` threads of one cold client; each answer takes ``latency``
    plus up to ``jitter`` seconds (seeded)."""
    rng = random.Random(seed)
    clock = FakeClock(1000.0)
    pace = RateController(clock=clock, sleep=lambda seconds: None)
    answer = server(clock) if server else gateway(rate, burst, headers=headers, clock=clock)
    run, began = Run(pace=pace), clock()
    order = itertools.count()
    events: list[tuple[float, int, int, str, int]] = []  # time, order, sender, what, pauses
    answers: dict[int, tuple[int, Headers]] = {}  # the answer on its way to each sender
    sent_at: dict[int, float] = {}  # when each sender's request left
    todo = iter(range(calls))
    setup_left = setup

    def schedule(at: float, sender: int, what: str, pauses: int = 0) -> None:
        heapq.heappush(events, (at, next(order), sender, what, pauses))

    def next_call(sender: int) -> None:
        if next(todo, None) is not None:
            schedule(clock(), sender, "turn")

    for sender in range(setup) if setup else ():
        schedule(clock(), sender, "turn")
    for sender in () if setup else range(senders):
        next_call(sender)
    while events:
        at, _, sender, what, pauses = heapq.heappop(events)
        clock.now = max(clock.now, at)
        if what == "turn":
            seen = pace.pauses
            schedule(clock() + pace.acquire(), sender, "send", seen)
        elif what == "send":
            if pace.pauses != pauses:  # a pause began while it waited: take a turn again
                schedule(clock(), sender, "turn")
                continue
            clock.now += 1e-6  # one send after another, as threads do
            run.sends.append(clock())
            sent_at[sender] = clock()
            answers[sender] = answer()
            took = latency + jitter * rng.random() if answers[sender][0] != 429 else REFUSAL
            schedule(clock() + took, sender, "answer")
        else:
            status, sent = answers.pop(sender)
            pace.on_answer(status, sent, sent=sent_at.pop(sender))
            if status == 429:
                run.refused += 1
                schedule(clock() + (retry_after(sent) or 0), sender, "turn")
            elif setup_left:
                run.answered += 1
                setup_left -= 1
                for other in range(senders) if setup_left == 0 else ():
                    next_call(other)
            else:
                run.answered += 1
                next_call(sender)
    run.wall = clock() - began
    return run
