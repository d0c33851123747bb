"""A hypothesis state machine drives the sandbox over real HTTP — booking, cancelling, moving,
moving the clock, expiring tokens, scripting faults — and checks after every step that the store
stays sound: no resource double-booked, no customId on two appointments, every 201 visible
through show and identify, no 5xx but the injected ones, and faults that mean what they say
("drop" and injected statuses leave the store alone, "drop_after" changes it).

Faults are scripted only (no random rates), so the machine knows which request meets which
fault: it pops its own copy of the script for each API request whose path the regex matches.
Each example gets its own sandbox on a pinned clock (~70 ms to start
and stop): hypothesis replays examples to shrink them, which needs the same store every time.
"""

from __future__ import annotations

import re
from contextlib import contextmanager
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import requests
from _booking_checks import ADDRESS, CUSTOMER, double_bookings, repeated_custom_ids
from hypothesis import HealthCheck, Phase, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)

from bt_explore.sandbox import Sandbox

NOW = "2026-12-01T09:00:00+01:00"  # a Tuesday morning, as conftest.SANDBOX_NOW
BERLIN = ZoneInfo("Europe/Berlin")  # the demo organization's time zone: its "today"

# "drop_after" twice: it is the fault that changes the store without an answer
FAULT_ENTRIES = st.sampled_from(["drop_after", None, 429, 500, 503, "drop", "drop_after"])
#: Regexes over API paths only (the token endpoint stays healthy: the machine faults the API).
FAULT_PATHS = st.sampled_from(
    [r"/appointment/add$", r"/appointment/", r"/(cancel|move)$", r"^/module/"]
)
#: Characters of the customIds the machine makes up (quoted into identify's path segment).
CUSTOM_ID_TAIL = st.text(alphabet="abcXYZ019-_.~ üé+%:@", min_size=1, max_size=12)
ACCESS_LIFETIME = 300

MACHINE_SETTINGS = settings(
    max_examples=12,
    stateful_step_count=20,
    deadline=None,
    derandomize=True,
    database=None,
    # No shrinking: each replay starts a sandbox, so shrinking a failure takes minutes; a
    # failing run of at most 20 steps is reported as it happened, within seconds.
    phases=[Phase.explicit, Phase.generate],
    suppress_health_check=[HealthCheck.too_slow],
)


def at(timestamp: str) -> datetime:
    return datetime.fromisoformat(timestamp)


class Answer:
    """What one API request met: the scripted fault and the response (``None`` if dropped)."""

    def __init__(
        self,
        fault: int | str | None,
        response: requests.Response | None,
        handled: int | None = None,
    ) -> None:
        self.fault = fault
        self.response = response
        #: the status the handler chose for a "drop_after" (from the request log)
        self.handled = handled

    @property
    def clean(self) -> bool:
        """Whether the request was answered by the real handler."""
        return self.fault is None and self.response is not None

    @property
    def processed(self) -> bool:
        """Whether the handler ran past the token check (no injected status, no "drop")."""
        return self.fault is None or (self.fault == "drop_after" and self.handled != 401)

    @property
    def status(self) -> int | None:
        return None if self.response is None else self.response.status_code

    def content(self) -> Any:
        assert self.response is not None
        return self.response.json()["content"]

    def failed_parameters(self) -> set[str | None]:
        assert self.response is not None
        return {m["parameter"] for m in self.response.json()["messageList"]}


class SandboxMachine(RuleBasedStateMachine):
    """One example: a fresh sandbox and HTTP session."""

    def __init__(self) -> None:
        super().__init__()
        self.sb = sb = Sandbox(now=NOW).start()
        self.http = requests.Session()
        self.org = sb.organization_id
        self.api_base = f"{sb.api_url}en/organization/{self.org}/"
        self.script: list[int | str | None] = []
        self.suspended = False
        self.paths = re.compile(r"^/module/")
        self.access: str | None = None
        self.issued_at = sb.now()
        self.revoked = False
        #: appointment id -> slot id, for the appointments this example booked (kept on moves)
        self.slots: dict[str, str] = {}
        self.custom_ids: list[str] = []
        self.fresh = 0

    def teardown(self) -> None:
        self.http.close()
        self.sb.stop()

    # -- plumbing -----------------------------------------------------------------------------

    def token(self) -> str:
        if self.access is None:
            refresh = self.http.post(
                self.sb.auth_url,
                data={"grant_type": "client_credentials", "client_id": self.sb.client_id},
                timeout=10,
            ).json()["refresh_token"]
            answer = self.http.post(
                self.sb.auth_url,
                data={
                    "grant_type": "refresh_token",
                    "client_id": self.sb.client_id,
                    "refresh_token": refresh,
                    "organization_id": self.org,
                },
                timeout=10,
            )
            assert answer.status_code == 200, answer.text
            self.access = answer.json()["access_token"]
            self.issued_at, self.revoked = self.sb.now(), False
        return self.access

    def token_age(self) -> float:
        return (self.sb.now() - self.issued_at).total_seconds()

    def next_fault(self, path: str) -> int | str | None:
        if self.script and not self.suspended and self.paths.search(path):
            return self.script.pop(0)
        return None

    def api(self, method: str, path: str, json: Any = None) -> Answer:
        """Send one API request and check it met exactly its scripted fault."""
        token = self.token()
        url = self.api_base + path
        full_path = "/" + url.split("/", 3)[3]
        fault = self.next_fault(full_path)
        try:
            response = self.http.request(
                method, url, json=json, headers={"Authorization": f"Bearer {token}"}, timeout=10
            )
        except requests.ConnectionError:
            assert fault in ("drop", "drop_after"), (
                f"{method} {path}: connection lost, but the fault was {fault!r}"
            )
            if fault == "drop":
                return Answer(fault, None)
            handled = self.sb.requests[-1].status  # one request at a time: the last is this one
            assert handled is not None and handled < 500, (method, path, handled)
            stale = self.revoked or self.token_age() >= ACCESS_LIFETIME
            assert (handled == 401) == stale, (method, path, handled, "stale" if stale else "fresh")
            return Answer(fault, None, handled)
        assert fault not in ("drop", "drop_after"), f"{method} {path}: answered despite {fault}"
        if isinstance(fault, int):
            assert response.status_code == fault, (method, path, fault, response.text[:300])
            body = response.json()
            assert body["content"] is None and body["messageList"][0]["type"] == "failure"
            if fault == 429:
                assert response.headers["Retry-After"] == "0"
            return Answer(fault, response)
        assert response.status_code < 500, (
            f"{method} {path} -> {response.status_code} without an injected fault: "
            f"{response.text[:300]}"
        )
        if response.status_code == 401:
            assert self.revoked or self.token_age() >= ACCESS_LIFETIME, (
                f"{method} {path}: 401 for a token {self.token_age():.0f} s old, not revoked"
            )
            self.access = None
            return self.api(method, path, json)
        assert not self.revoked and self.token_age() < ACCESS_LIFETIME, (
            f"{method} {path}: an expired or revoked token was accepted"
        )
        return Answer(fault, response)

    @contextmanager
    def faults_suspended(self):
        """No faults inside; afterwards the rest of the script, exactly as it was."""
        self.sb.clear_faults()
        self.suspended = True
        try:
            yield
        finally:
            self.suspended = False
            self.sb.set_faults(script=list(self.script), paths=self.paths.pattern, retry_after=0)

    def store(self) -> list[dict[str, Any]]:
        return self.sb.appointments(self.org)

    def stored(self, appointment_id: str) -> dict[str, Any]:
        return next(a for a in self.store() if a["id"] == appointment_id)

    def by_custom_id(self, custom_id: str) -> list[dict[str, Any]]:
        return [a for a in self.store() if a["customId"] == custom_id]

    def free_slot(self, data: st.DataObject, template_id: str) -> dict[str, Any] | None:
        """A free slot of the template, drawn from a listDay or the earliest answer."""
        if data.draw(st.booleans(), label="earliest"):
            answer = self.api("GET", f"bookingTemplate/{template_id}/bookingSlot/earliest")
            if not answer.clean:
                return None
            assert answer.status == 200, answer.response.text[:300]
            slots = answer.content()["bookingSlotList"]
        else:
            today = self.sb.now().astimezone(BERLIN).date()
            day = today + timedelta(days=data.draw(st.integers(0, 9), label="day"))
            answer = self.api(
                "GET",
                f"bookingTemplate/{template_id}/bookingSlot/year/{day.year}/month/{day.month}"
                f"/day/{day.day}/listDay",
            )
            if not answer.clean:
                return None
            assert answer.status == 200, answer.response.text[:300]
            slots = answer.content()["list"]
        if not slots:
            return None
        return slots[data.draw(st.integers(0, len(slots) - 1), label="slot")]

    def check_visible(self, appointment: dict[str, Any]) -> None:
        """A 201's appointment, as show and identify answer it (with faults suspended)."""
        with self.faults_suspended():
            shown = self.api("GET", f"appointment/{appointment['id']}/show")
            quoted = requests.utils.quote(appointment["customId"], safe="")
            found = self.api("GET", f"appointment/{quoted}/identify")
        assert shown.status == 200, shown.response.text[:300]
        assert found.status == 200, (appointment["customId"], found.response.text[:300])
        assert shown.content() == appointment
        assert found.content() == appointment

    # -- rules --------------------------------------------------------------------------------

    @initialize()
    def start(self) -> None:
        self.templates = [
            t["id"] for t in self.api("GET", "bookingTemplate/list").content()["recordList"]
        ]

    @rule(data=st.data())
    def book(self, data: st.DataObject) -> None:
        template_id = data.draw(st.sampled_from(self.templates), label="template")
        slot = self.free_slot(data, template_id)
        if slot is None:
            return
        if self.custom_ids and data.draw(st.integers(0, 3), label="reuse") == 0:
            custom_id = data.draw(st.sampled_from(self.custom_ids), label="used customId")
        else:
            self.fresh += 1
            custom_id = f"st{self.fresh}-" + data.draw(CUSTOM_ID_TAIL, label="customId")
        taken = bool(self.by_custom_id(custom_id))
        count = len(self.store())
        answer = self.api(
            "POST",
            "appointment/add",
            {
                "bookingSlotId": slot["id"],
                "customId": custom_id,
                "customer": CUSTOMER,
                "address": ADDRESS,
            },
        )
        if custom_id not in self.custom_ids:
            self.custom_ids.append(custom_id)
        mine = self.by_custom_id(custom_id)
        if taken:
            assert len(mine) == 1 and len(self.store()) == count, "a used customId was booked"
            if answer.clean:
                assert answer.status == 400 and "customId" in answer.failed_parameters(), (
                    answer.status,
                    answer.response.text[:300],
                )
            return
        if not answer.processed:
            assert mine == [] and len(self.store()) == count, f"{answer.fault} booked anyway"
            return
        # the slot was listed free a moment ago, on the same clock: it must be bookable
        assert len(mine) == 1, (
            answer.fault,
            answer.status,
            answer.response and answer.response.text,
        )
        appointment = mine[0]
        assert at(appointment["start"]) == at(slot["timestamp"])
        self.slots[appointment["id"]] = slot["id"]
        if answer.clean:
            assert answer.status == 201
            assert answer.content() == appointment
            self.check_visible(appointment)

    @precondition(lambda self: self.slots)
    @rule(data=st.data())
    def book_a_taken_slot(self, data: st.DataObject) -> None:
        appointment_id = data.draw(st.sampled_from(sorted(self.slots)), label="appointment")
        if self.stored(appointment_id)["canceled"]:
            return
        self.fresh += 1
        custom_id = f"st{self.fresh}-taken"
        answer = self.api(
            "POST",
            "appointment/add",
            {
                "bookingSlotId": self.slots[appointment_id],
                "customId": custom_id,
                "customer": CUSTOMER,
                "address": ADDRESS,
            },
        )
        assert self.by_custom_id(custom_id) == [], "a taken slot was booked again"
        if answer.clean:
            assert answer.status == 400 and "bookingSlotId" in answer.failed_parameters()

    @rule(data=st.data())
    def cancel(self, data: st.DataObject) -> None:
        before = data.draw(st.sampled_from(self.store()), label="appointment")
        answer = self.api("PUT", f"appointment/{before['id']}/cancel")
        after = self.stored(before["id"])
        if answer.processed:
            assert after["canceled"], f"cancel ({answer.fault}) left it active"
        else:
            assert after == before, f"cancel ({answer.fault}) changed the store"
        if answer.clean:
            assert answer.status == 200 and answer.content() == after

    @rule(data=st.data())
    def move(self, data: st.DataObject) -> None:
        before = data.draw(st.sampled_from(self.store()), label="appointment")
        slot = self.free_slot(data, before["bookingTemplateId"])
        if slot is None:
            return
        answer = self.api("PUT", f"appointment/{before['id']}/move", {"bookingSlotId": slot["id"]})
        after = self.stored(before["id"])
        if not answer.processed:
            assert after == before, f"move ({answer.fault}) changed the store"
        elif before["canceled"]:
            assert after == before, "a canceled appointment was moved"
            if answer.clean:
                assert answer.status == 400 and "appointmentId" in answer.failed_parameters()
        else:
            assert at(after["start"]) == at(slot["timestamp"]), (answer.fault, answer.status)
            assert after["moved"]
            if before["id"] in self.slots:
                self.slots[before["id"]] = slot["id"]
            if answer.clean:
                assert answer.status == 200 and answer.content() == after

    @rule(seconds=st.sampled_from([60, 299, 301, 1800, 3 * 3600, 26 * 3600]))
    def advance_the_clock(self, seconds: int) -> None:
        self.sb.advance(seconds)

    @rule()
    def expire_tokens(self) -> None:
        self.sb.expire_tokens()
        self.revoked = True

    @rule(script=st.lists(FAULT_ENTRIES, min_size=1, max_size=6), paths=FAULT_PATHS)
    def set_faults(self, script: list[int | str | None], paths: str) -> None:
        self.sb.set_faults(script=script, paths=paths, retry_after=0)
        self.script, self.paths = list(script), re.compile(paths)

    @rule()
    def clear_faults(self) -> None:
        self.sb.clear_faults()
        self.script, self.paths = [], re.compile(r"^/module/")

    # -- invariants, on the sandbox's own store -----------------------------------------------

    @invariant()
    def no_resource_is_double_booked(self) -> None:
        assert double_bookings(self.store()) == []

    @invariant()
    def no_custom_id_is_on_two_appointments(self) -> None:
        assert repeated_custom_ids(self.store()) == {}


def test_the_sandbox_store_stays_sound_under_any_sequence() -> None:
    run_state_machine_as_test(SandboxMachine, settings=MACHINE_SETTINGS)
