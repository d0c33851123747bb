"""A bounded soak of ``Client.book()``, ``cancel()`` and ``move()`` against the sandbox with
faults, reconciling every outcome with the sandbox's own store (``sb.appointments()``), never
through the faulty API:

- ``book()`` returned: the appointment exists, exactly once, with the returned id;
- it raised saying the booking was not made (``TransportError(sent=False)``, an ``ApiError``
  whose note says "safe to book again" or that was raised before sending, a 4xx, a
  token-endpoint error before any add got through): no appointment carries the customId;
- it raised ``BookingOutcomeUnknown``: counted, and looked up afterwards (faults cleared) with
  ``appointment_by_custom_id``, which must then agree with the store (or fail otherwise than
  ``NotFound``) — and only legitimate if an ``appointment/add`` reached the server and was not
  refused with 401;
- anything else from ``book()`` leaves the caller without an answer: a violation;
- at the end no customId is on two appointments, no resource is double-booked, and every
  appointment in the store was made by some call the soak knows to have succeeded.

Violations are collected and reported together, each with the scenario that produced it and the
defect of issue 11 it points back to. The fixed scenarios run one per test (on a fresh sandbox); the random
soak mixes them, seeded, for ``--soak-seconds`` (default 2 s, operations capped too):
``pytest tests/test_soak.py --soak-seconds 60 --soak-seed 7 -s`` prints the outcome counts.
"""

from __future__ import annotations

import random
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from _booking_checks import (
    ADDRESS,
    CUSTOMER,
    SEED_CUSTOM_IDS,
    double_bookings,
    repeated_custom_ids,
)

import bt_explore
from bt_explore import (
    ApiError,
    BookingOutcomeUnknown,
    BookingtimeError,
    NotFound,
    Sandbox,
    TransportError,
)
from bt_explore.client import default_retry
from bt_explore.sandbox import RequestRecord

BERLIN = ZoneInfo("Europe/Berlin")
ADD = r"/appointment/add$"
PATHS = {"book": ADD, "cancel": r"/appointment/[^/]+/cancel$", "move": r"/appointment/[^/]+/move$"}
TOKEN = r"^/oauth/token$"
STATUSES = (429, 500, 503)
#: The read-timeout scenario: the server holds appointment/add this long, the client waits less.
SLOW_ADD_MS = 500
READ_TIMEOUT_S = 0.2

DEFECT_A = (
    "regression of issue 11 defect (a): a customId with '/' (or '.'/'..') sends identify to a missing route "
    "whose 404 is read as 'no such appointment'"
)
DEFECT_B = (
    "regression of issue 11 defect (b): after a read timeout the client asks identify at once, while the "
    "server is still booking, and reads the 404 as 'not made'"
)
DEFECT_C = (
    "regression of issue 11 defect (c): token-endpoint trouble during book() ends in BookingOutcomeUnknown "
    "although no appointment/add got through (token requests are not retried either)"
)


def at(timestamp: str) -> datetime:
    return datetime.fromisoformat(timestamp)


@dataclass
class Booking:
    """One ``book()`` call and what the store says about it afterwards."""

    custom_id: str
    scenario: str
    outcome: str
    exists: bool


class Soak:
    """Runs operations under fault scenarios on one sandbox and reconciles each outcome."""

    def __init__(self, sb: Sandbox, rng: random.Random) -> None:
        self.sb = sb
        self.rng = rng
        self.client = bt_explore.connect(sandbox=sb, retry=default_retry(backoff_factor=0))
        self.slow_client = bt_explore.connect(
            sandbox=sb, timeout=(5, READ_TIMEOUT_S), retry=default_retry(backoff_factor=0)
        )
        self.templates = self.client.templates()
        self.bookings: list[Booking] = []
        self.outcomes: Counter[tuple[str, str, str]] = Counter()
        self.violations: list[str] = []
        self.serial = 0
        #: the path regex of the operation under way: the scenarios fault it
        self.path = ADD
        self.scenarios: dict[str, Callable[[], None]] = {
            "clean": lambda: None,
            "status": lambda: sb.set_faults(
                script=[rng.choice(STATUSES)], paths=self.path, retry_after=0
            ),
            "statuses, identify too": lambda: sb.set_faults(
                script=rng.choices(STATUSES, k=rng.randint(2, 5)),
                paths=f"{self.path}|/identify$",
                retry_after=0,
            ),
            "random API faults": lambda: sb.set_faults(
                rate=0.3, drop_rate=0.1, retry_after=0, seed=rng.randrange(1 << 30)
            ),
            "drop": lambda: sb.set_faults(script=["drop"], paths=self.path),
            "drop_after": lambda: sb.set_faults(script=["drop_after"], paths=self.path),
            "drop_after, identify lost": lambda: sb.set_faults(
                script=["drop_after", "drop", "drop", "drop", "drop"],
                paths=f"{self.path}|/identify$",
            ),
            "latency": lambda: sb.set_faults(latency_ms=rng.choice([5, 20])),
            "expired tokens": sb.expire_tokens,
            "clock +301 s": lambda: sb.advance(301),
            "token endpoint down, after a 401": self._token_endpoint_down_after_401,
            "token endpoint down, cold": self._token_endpoint_down_cold,
            "token endpoint flaky": self._token_endpoint_flaky,
            "read timeout": self._slow_add,
        }

    def close(self) -> None:
        self.sb.clear_faults()
        self.client.close()
        self.slow_client.close()

    # -- scenarios that need more than one line ------------------------------------------------

    def _token_endpoint_down_after_401(self) -> None:
        # the cached token is refused (401), and no new one can be had
        self.sb.expire_tokens()
        self.sb.set_faults(rate=1.0, statuses=(503,), paths=TOKEN)

    def _token_endpoint_down_cold(self) -> None:
        # no token yet: nothing can be sent
        self.client.auth.clear()
        self.sb.set_faults(rate=1.0, statuses=(503,), paths=TOKEN)

    def _token_endpoint_flaky(self) -> None:
        self.sb.expire_tokens()
        script = self.rng.choices([503, 429, 500, "drop", None], k=self.rng.randint(1, 4))
        self.sb.set_faults(script=script, paths=TOKEN, retry_after=0)

    def _slow_add(self) -> None:
        # only appointment/add is held: identify is answered at once, while the add is still
        # being held — a server that is still booking when the client gives up
        self.sb.set_faults(slow_ms=SLOW_ADD_MS, paths=ADD)

    # -- helpers ------------------------------------------------------------------------------

    def store(self) -> list[dict[str, Any]]:
        return self.sb.appointments(self.sb.organization_id)

    def stored(self, appointment_id: str) -> dict[str, Any]:
        return next(a for a in self.store() if a["id"] == appointment_id)

    def custom_id(self, style: str) -> str:
        self.serial += 1
        if style == "slash":
            return f"soak/{self.serial}"
        if style in (".", ".."):
            return style
        return f"soak-{self.serial}"

    def free_slot(self, template: dict[str, Any]) -> dict[str, Any] | None:
        """A free slot of ``template``, asked with no faults."""
        today = self.sb.now().astimezone(BERLIN).date()
        first = today + timedelta(days=int(template.get("bookingDayEarliest") or 0))
        day = first + timedelta(days=self.rng.randint(0, 6))
        slots = self.client.slots_day(template["id"], day)["list"]
        if not slots:
            slots = self.client.earliest_slot(template["id"])["bookingSlotList"]
        return self.rng.choice(slots) if slots else None

    def violation(self, scenario: str, text: str, defect: str = "NOT a known defect") -> None:
        self.violations.append(f"[{scenario}] {text} -> {defect}")

    def run(self, op: str, scenario: str, style: str = "plain") -> None:
        """One operation (``book``, ``cancel`` or ``move``) under one scenario."""
        self.sb.clear_faults()
        self.path = PATHS[op]
        if op == "book":
            self.book(scenario, style)
            return
        live = [b for b in self.bookings if b.exists]
        if not live:
            self.path = ADD
            self.book("clean", "plain")
            self.path = PATHS[op]
            live = [b for b in self.bookings if b.exists]
        custom_id = self.rng.choice(live).custom_id
        target = next(a for a in self.store() if a["customId"] == custom_id)
        if scenario == "read timeout":
            scenario = "latency"  # the read-timeout scenario only holds adds
        if op == "cancel":
            self.cancel(scenario, target)
        else:
            self.move(scenario, target)

    def _call(self, scenario: str, call: Callable[[], Any]) -> tuple[Any, int, float]:
        """``call()`` under ``scenario``; (its result or exception, log mark, start time)."""
        mark = len(self.sb.requests)
        self.scenarios[scenario]()
        started = time.monotonic()
        try:
            result = call()
        except Exception as exc:  # reconciled by the caller, crashes included
            result = exc
        finally:
            self.sb.clear_faults()
        return result, mark, started

    # -- book -----------------------------------------------------------------------------------

    def book(self, scenario: str, style: str) -> None:
        template = self.rng.choice(self.templates)
        slot = self.free_slot(template)
        if slot is None:
            return
        custom_id = self.custom_id(style)
        client = self.slow_client if scenario == "read timeout" else self.client
        result, mark, started = self._call(
            scenario,
            lambda: client.book(
                slot["id"], CUSTOMER, custom_id=custom_id, address=ADDRESS, template=template
            ),
        )
        if scenario == "read timeout":
            self._wait_for_held_add(mark, started)
        adds = [r for r in self.sb.requests[mark:] if r.path.endswith("/appointment/add")]
        mine = [a for a in self.store() if a["customId"] == custom_id]
        outcome = self._reconcile_booking(scenario, custom_id, result, mine, adds)
        self.bookings.append(Booking(custom_id, scenario, outcome, bool(mine)))
        self.outcomes[("book", scenario, outcome)] += 1

    def _wait_for_held_add(self, mark: int, started: float) -> None:
        """Until the held add has been handled (its log record is written before its answer)."""
        deadline = started + SLOW_ADD_MS / 1000 + 5
        while time.monotonic() < deadline:
            if any(r.path.endswith("/appointment/add") for r in self.sb.requests[mark:]):
                return
            time.sleep(0.02)
        raise AssertionError("the held appointment/add never finished")

    def _reconcile_booking(
        self,
        scenario: str,
        custom_id: str,
        result: Any,
        mine: list[dict[str, Any]],
        adds: list[RequestRecord],
    ) -> str:
        # a dropped add (status None) may have been processed as far as the client can tell;
        # a 401 was refused before anything happened
        add_got_through = any(r.status != 401 for r in adds)
        what = f"book(customId={custom_id!r})"
        if len(mine) > 1:
            self.violation(scenario, f"{what}: {len(mine)} appointments carry the customId")
        if isinstance(result, dict):
            if len(mine) != 1 or mine[0]["id"] != result.get("id"):
                self.violation(scenario, f"{what} returned {result.get('id')}, store has {mine}")
            if result.get("customId") != custom_id:
                self.violation(scenario, f"{what} returned customId {result.get('customId')!r}")
            return "booked"
        said = f"{type(result).__name__}: {result}"
        if isinstance(result, BookingOutcomeUnknown):
            if result.custom_id != custom_id:
                self.violation(scenario, f"{what}: BookingOutcomeUnknown for {result.custom_id!r}")
            # after a read timeout the client cannot know that the add it gave up on was
            # refused (401): "unknown" is all it can honestly say
            if not add_got_through and scenario != "read timeout":
                self.violation(
                    scenario,
                    f"{what} raised {said} although no appointment/add got through "
                    "(none sent, or refused with 401)",
                    DEFECT_C,
                )
            self._look_up_later(scenario, custom_id, bool(mine))
            return "unknown, then found" if mine else "unknown, then absent"
        not_made = (
            (isinstance(result, TransportError) and result.sent is False)
            or (isinstance(result, ApiError) and "safe to book again" in (result.note or ""))
            # refused before sending (say, a customId the client will not put in a URL)
            or (isinstance(result, ApiError) and result.status_code is None and not adds)
            or (isinstance(result, (TypeError, ValueError)) and not adds)
        )
        refused = isinstance(result, ApiError) and 400 <= (result.status_code or 0) < 500
        token_trouble = (
            isinstance(result, ApiError) and result.url == self.sb.auth_url and not add_got_through
        )
        if not_made or refused or token_trouble:
            if mine:
                defect = "NOT a known defect"
                if "/" in custom_id or custom_id in (".", ".."):
                    defect = DEFECT_A
                elif scenario == "read timeout":
                    defect = DEFECT_B
                self.violation(
                    scenario, f"{what} raised {said} — but the appointment exists", defect
                )
            return "not made" if not_made else "refused" if refused else "token endpoint"
        self.violation(
            scenario, f"{what} raised {said} without saying whether the booking was made"
        )
        return f"unsettled {type(result).__name__}"

    def _look_up_later(self, scenario: str, custom_id: str, exists: bool) -> None:
        """What the caller of an unknown outcome does next: identify, with no faults."""
        try:
            found = self.client.appointment_by_custom_id(custom_id)["customId"] == custom_id
        except NotFound:
            found = False
        except BookingtimeError:
            return  # still unknown, and saying so: honest
        if found != exists:
            defect = DEFECT_A if "/" in custom_id or custom_id in (".", "..") else "NOT known"
            self.violation(
                scenario,
                f"identify({custom_id!r}) after BookingOutcomeUnknown says "
                f"{'found' if found else 'absent'}, the store says "
                f"{'exists' if exists else 'absent'}",
                defect,
            )

    # -- cancel, move ---------------------------------------------------------------------------

    def cancel(self, scenario: str, before: dict[str, Any]) -> None:
        result, _, _ = self._call(scenario, lambda: self.client.cancel(before["id"]))
        after = self.stored(before["id"])
        what = f"cancel({before['id']})"
        if isinstance(result, dict):
            outcome = "canceled"
            if not (after["canceled"] and result.get("canceled")):
                self.violation(scenario, f"{what} returned, store canceled={after['canceled']}")
        else:
            outcome = self._failed(scenario, what, result, before, after)
            # cancel is idempotent: the caller simply asks again
            if not self.client.cancel(before["id"])["canceled"]:
                self.violation(scenario, f"{what} again, without faults: not canceled")
        if after["start"] != before["start"]:
            self.violation(scenario, f"{what} moved it: {before['start']} -> {after['start']}")
        self.outcomes[("cancel", scenario, outcome)] += 1

    def move(self, scenario: str, before: dict[str, Any]) -> None:
        template = next(t for t in self.templates if t["id"] == before["bookingTemplateId"])
        slot = self.free_slot(template)
        if slot is None:
            return
        result, _, _ = self._call(scenario, lambda: self.client.move(before["id"], slot["id"]))
        after = self.stored(before["id"])
        what = f"move({before['id']}, {slot['timestamp']})"
        target, start = at(slot["timestamp"]), at(after["start"])
        if before["canceled"] and after != before:
            self.violation(scenario, f"{what}: a canceled appointment changed: {after}")
        if start not in (at(before["start"]), target):
            self.violation(scenario, f"{what}: the store has it at {after['start']}")
        if isinstance(result, dict):
            outcome = "moved"
            if before["canceled"] or start != target or not after["moved"]:
                self.violation(scenario, f"{what} returned, the store has {after}")
            if result.get("start") != after["start"]:
                self.violation(scenario, f"{what} returned start {result.get('start')}")
        else:
            outcome = self._failed(scenario, what, result, before, after)
        self.outcomes[("move", scenario, outcome)] += 1

    def _failed(
        self, scenario: str, what: str, result: Any, before: dict[str, Any], after: dict[str, Any]
    ) -> str:
        if not isinstance(result, BookingtimeError):
            self.violation(scenario, f"{what} crashed: {type(result).__name__}: {result}")
            return f"crash {type(result).__name__}"
        if isinstance(result, TransportError) and result.sent is False and after != before:
            self.violation(scenario, f"{what} said not sent ({result}), the store changed")
        return type(result).__name__

    # -- the end ------------------------------------------------------------------------------

    def finish(self) -> None:
        """The store-wide checks; raises with every violation found."""
        store = self.store()
        for line in double_bookings(store):
            self.violation("end", f"double-booked: {line}")
        for custom_id, n in repeated_custom_ids(store).items():
            self.violation("end", f"customId {custom_id!r} is on {n} appointments")
        made = {b.custom_id for b in self.bookings if b.exists}
        stored = {a["customId"] for a in store} - SEED_CUSTOM_IDS
        for custom_id in sorted(stored - made):
            self.violation("end", f"appointment {custom_id!r} is in the store, made by no call")
        for custom_id in sorted(made - stored):
            self.violation("end", f"appointment {custom_id!r} vanished from the store")
        for booking in self.bookings:
            if booking.outcome == "booked" and not booking.exists:
                self.violation(booking.scenario, f"{booking.custom_id!r} returned but not stored")
        assert not self.violations, self.report()

    def report(self) -> str:
        lines = [f"{len(self.violations)} violation(s):", *self.violations, "outcomes:"]
        lines += [f"  {n:4d}  {op:6s} {sc:34s} {out}" for (op, sc, out), n in self.outcomes.items()]
        return "\n".join(lines)


#: (operation, scenario, customId style) of the fixed cases; the id names the defect each
#: one is there to catch, where it is one of the known ones.
FIXED = {
    "a-slash-customId-drop_after": ("book", "drop_after", "slash"),
    "a-dot-customId-drop_after": ("book", "drop_after", "."),
    "a-dotdot-customId-drop_after": ("book", "drop_after", ".."),
    "a-slash-customId-identify-lost": ("book", "drop_after, identify lost", "slash"),
    "b-read-timeout-while-booking": ("book", "read timeout", "plain"),
    "c-token-endpoint-down-after-401": ("book", "token endpoint down, after a 401", "plain"),
    "c-token-endpoint-down-cold": ("book", "token endpoint down, cold", "plain"),
    "drop": ("book", "drop", "plain"),
    "drop_after": ("book", "drop_after", "plain"),
    "drop_after-identify-lost": ("book", "drop_after, identify lost", "plain"),
    "status": ("book", "status", "plain"),
    "statuses-identify-too": ("book", "statuses, identify too", "plain"),
    "expired-tokens": ("book", "expired tokens", "plain"),
    "token-endpoint-flaky": ("book", "token endpoint flaky", "plain"),
    "cancel-drop_after": ("cancel", "drop_after", "plain"),
    "cancel-random": ("cancel", "random API faults", "plain"),
    "move-drop_after": ("move", "drop_after", "plain"),
    "move-status": ("move", "status", "plain"),
}


@pytest.fixture
def soak(sandbox: Sandbox):
    run = Soak(sandbox, random.Random(0))
    try:
        yield run
    finally:
        run.close()


@pytest.mark.parametrize("case", FIXED.values(), ids=FIXED.keys())
def test_a_fault_scenario_is_reconciled(soak: Soak, case: tuple[str, str, str]) -> None:
    op, scenario, style = case
    soak.run(op, scenario, style)
    soak.finish()


@pytest.mark.parametrize("fault", [503, 429, "drop"])
def test_one_token_endpoint_hiccup_does_not_fail_a_booking(
    sandbox: Sandbox, fault: int | str
) -> None:
    """Issue 11 defect (c): a token request is safe to repeat, so one failed one is retried."""
    with bt_explore.connect(sandbox=sandbox, retry=default_retry(backoff_factor=0)) as client:
        template = client.templates()[1]
        slot = client.earliest_slot(template["id"])["bookingSlotList"][0]
        client.auth.clear()
        sandbox.set_faults(script=[fault], paths=TOKEN, retry_after=0)
        appointment = client.book(slot["id"], CUSTOMER, custom_id="hiccup", template=template)
    assert [a["id"] for a in sandbox.appointments() if a["customId"] == "hiccup"] == [
        appointment["id"]
    ]


#: How often each scenario is drawn by the random soak.
WEIGHTS = {
    "clean": 3,
    "status": 2,
    "statuses, identify too": 2,
    "random API faults": 4,
    "drop": 2,
    "drop_after": 3,
    "drop_after, identify lost": 1,
    "latency": 1,
    "expired tokens": 2,
    "clock +301 s": 1,
    "token endpoint down, after a 401": 1,
    "token endpoint down, cold": 1,
    "token endpoint flaky": 2,
    "read timeout": 1,
}


def test_random_soak_reconciles_every_outcome(
    sandbox: Sandbox, request: pytest.FixtureRequest
) -> None:
    seconds = float(request.config.getoption("--soak-seconds"))
    seed = int(request.config.getoption("--soak-seed"))
    rng = random.Random(seed)
    soak = Soak(sandbox, rng)
    cap = max(40, int(seconds * 40))
    names, weights = list(WEIGHTS), list(WEIGHTS.values())
    deadline = time.monotonic() + seconds
    ops = 0
    try:
        while ops < cap and time.monotonic() < deadline:
            op = rng.choices(["book", "cancel", "move"], [7, 1, 2])[0]
            style = "slash" if rng.random() < 0.1 else "plain"
            soak.run(op, rng.choices(names, weights)[0], style)
            ops += 1
    finally:
        soak.close()
    print(f"\nsoak: seed {seed}, {ops} operations in {seconds:g} s")
    soak.finish()
    print(soak.report())
