"""The sandbox's slot listings answer byte for byte what a brute-force reading of the rules gives.

The reference here is a naive reading of the engine's rules (module docstring of
``bt_explore.sandbox.engine``) over the appointment book: every grid start of every opening
interval checked against every busy block, a datetime per timestamp, ``SlotCodec.encode`` per
slot, one ``msgspec.json.encode`` of the whole envelope.
"""

from __future__ import annotations

import random
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import msgspec

from bt_explore.endpoints import ENDPOINTS
from bt_explore.sandbox import SandboxState, create_app
from bt_explore.sandbox.engine import GRID_MINUTES, local_midnight
from bt_explore.sandbox.messages import envelope

TEST_TEMPLATE = "fc12345678910AbcDefGh1112131415a"  # 60 min, bookingLeadTime 120
MASSAGE = "fcyqesBhPT0MPaIrlh9dZMl65o6mSmCg"  # staff incl. one who works on Sundays
TWO_RESOURCE_TEMPLATE = "fcP2Kty7Xo5ziREDUTnAcJ42GeNi5SeT"  # staff + room, lead/followup time
CUSTOMER = {
    "firstName": "John",
    "lastName": "Doe",
    "email": "jd@scrubs.doc",
    "mobile": "+49 170 1234567",
    "address": {"street": "Main St 1", "zip": "12345", "city": "Berlin", "country": "DE"},
}


# --- the brute-force reference -----------------------------------------------------------------
def _local_epoch(day: date, minute: int, tz: ZoneInfo) -> int:
    if minute >= 24 * 60:
        return local_midnight(day + timedelta(days=1), tz)
    return int(datetime.combine(day, time(minute // 60, minute % 60), tzinfo=tz).timestamp())


def brute_force_slots(
    state: SandboxState, template_id: str, start: int, end: int, *, first_only: bool = False
) -> list[tuple[int, tuple[str, ...]]]:
    """Free (start, combination) pairs by the engine's rules, checked naively."""
    rules = state.data.template_rules[template_id]
    org = state.data.org_rules[rules.organization_id]
    tz = org.tz
    if not rules.combinations or end <= start:
        return []
    blocks: dict[str, list[tuple[int, int]]] = {}
    for appt in state.book.all():
        if not appt.canceled:
            block = state.data.template_rules[appt.template_id].block(appt.start)
            for rid in appt.resource_ids:
                blocks.setdefault(rid, []).append(block)
    now = int(state.now().timestamp())
    today = datetime.fromtimestamp(now, tz).date()
    first_day = today + timedelta(days=rules.day_earliest)
    last_day = today + timedelta(days=rules.day_latest)
    lead, tail = rules.lead * 60, (rules.duration + rules.followup) * 60
    out: list[tuple[int, tuple[str, ...]]] = []
    day = max(datetime.fromtimestamp(start, tz).date(), first_day)
    while day <= min(datetime.fromtimestamp(end - 1, tz).date(), last_day):
        weekday = day.weekday()
        for open_min, close_min in org.opening[weekday]:
            open_at, close_at = _local_epoch(day, open_min, tz), _local_epoch(day, close_min, tz)
            for k in range(24 * 60 // GRID_MINUTES + 1):
                s = open_at + k * GRID_MINUTES * 60
                if s - lead < open_at or s + tail > close_at:
                    continue
                if not (start <= s < end and s >= now + rules.booking_lead_minutes * 60):
                    continue
                for combo in rules.combinations:
                    works = all(weekday in state.data.working_days.get(r, range(7)) for r in combo)
                    clash = any(
                        b_start < s + tail and s - lead < b_end
                        for r in combo
                        for b_start, b_end in blocks.get(r, [])
                    )
                    if works and not clash:
                        out.append((s, combo))
                if first_only and out:
                    return out
        day += timedelta(days=1)
    return out


def reference_records(state: SandboxState, template_id: str, pairs: list) -> list[dict]:
    tz = state.data.org_rules[state.data.template_rules[template_id].organization_id].tz
    codec = state.data.slot_codec
    return [
        {
            "class": "BOOKING_SLOT",
            "id": codec.encode(template_id, s, combo),
            "timestamp": datetime.fromtimestamp(s, tz).isoformat(),
            "bookingResourceCombination": list(combo),
        }
        for s, combo in pairs
    ]


def reference_range(state: SandboxState, template_id: str, first: date, stop: date) -> bytes:
    """The RANGE_LIST answer of local days [first, stop), computed by brute force."""
    tz = state.data.org_rules[state.data.template_rules[template_id].organization_id].tz
    start, end = local_midnight(first, tz), local_midnight(stop, tz)
    pairs = brute_force_slots(state, template_id, start, end)
    content = {
        "class": "RANGE_LIST",
        "rangeStart": datetime.fromtimestamp(start, tz).isoformat(),
        "rangeEnd": datetime.fromtimestamp(end, tz).isoformat(),
        "timeZone": tz.key,
        "list": reference_records(state, template_id, pairs),
    }
    return msgspec.json.encode(envelope(content))


def reference_earliest(state: SandboxState, template_id: str) -> bytes:
    rules = state.data.template_rules[template_id]
    tz = state.data.org_rules[rules.organization_id].tz
    min_start, first_day, last_day = rules.window(int(state.now().timestamp()), tz)
    start = max(min_start, local_midnight(first_day, tz))
    end = max(start, local_midnight(last_day + timedelta(days=1), tz))
    slots = reference_records(
        state, template_id, brute_force_slots(state, template_id, start, end, first_only=True)
    )
    content = {
        "rangeStart": datetime.fromtimestamp(start, tz).isoformat(),
        "rangeEnd": datetime.fromtimestamp(end, tz).isoformat(),
        "timeZone": tz.key,
        "bookingSlotList": slots,
    }
    return msgspec.json.encode(envelope(content))


# --- a test client over one state --------------------------------------------------------------
class Api:
    """Authenticated test-client calls of one state's app."""

    def __init__(self, state: SandboxState) -> None:
        self.state = state
        self.org = state.data.demo_organization_id
        self.client = create_app(state).test_client()
        cid = state.data.demo_client_id
        refresh = self.client.post(
            "/oauth/token", data={"grant_type": "client_credentials", "client_id": cid}
        ).json["refresh_token"]
        access = self.client.post(
            "/oauth/token",
            data={"grant_type": "refresh_token", "client_id": cid, "refresh_token": refresh,
                  "organization_id": self.org},
        ).json["access_token"]  # fmt: skip
        self.headers = {"Authorization": f"Bearer {access}"}

    def path(self, name: str, **params: object) -> str:
        return "/module/v3/en/" + ENDPOINTS[name].format(org=self.org, **params)

    def get(self, name: str, **params: object) -> bytes:
        answer = self.client.get(self.path(name, **params), headers=self.headers)
        assert answer.status_code == 200, answer.data
        return answer.data

    def send(self, name: str, body: dict | None = None, **params: object):
        method = ENDPOINTS[name].method.lower()
        return getattr(self.client, method)(
            self.path(name, **params), headers=self.headers, json=body
        )

    def month(self, template: str, y: int, m: int) -> bytes:
        return self.get("slot_list_month", template_id=template, year=y, month=m)

    def week(self, template: str, y: int, w: int) -> bytes:
        return self.get("slot_list_week", template_id=template, year=y, week=w)

    def day(self, template: str, d: date) -> bytes:
        return self.get(
            "slot_list_day", template_id=template, year=d.year, month=d.month, day=d.day
        )

    def earliest(self, template: str) -> bytes:
        return self.get("slot_earliest", template_id=template)

    def slot_ids(self, template: str, d: date) -> list[str]:
        return [s["id"] for s in msgspec.json.decode(self.day(template, d))["content"]["list"]]


def new_state(now: str | None) -> SandboxState:
    # Long-lived tokens: the tests move the clock by days.
    return SandboxState(now=now, access_token_lifetime=10**8, refresh_token_lifetime=10**8)


def templates(state: SandboxState) -> list[str]:
    return [t["id"] for t in state.data.templates_of(state.data.demo_organization_id)]


def assert_matches_reference(api: Api, tpls: list[str], days: int = 3) -> None:
    state = api.state
    today = state.today(api.org)
    next_month = today.replace(day=28) + timedelta(days=4)
    for tpl in tpls:
        assert api.earliest(tpl) == reference_earliest(state, tpl), tpl
        for month_start in (today.replace(day=1), next_month.replace(day=1)):
            stop = (month_start + timedelta(days=32)).replace(day=1)
            got = api.month(tpl, month_start.year, month_start.month)
            assert got == reference_range(state, tpl, month_start, stop), (tpl, month_start)
        monday = today - timedelta(days=today.weekday())
        year, week, _ = monday.isocalendar()
        got = api.week(tpl, year, week)
        assert got == reference_range(state, tpl, monday, monday + timedelta(days=7)), tpl
        for k in range(days):
            d = today + timedelta(days=k)
            assert api.day(tpl, d) == reference_range(state, tpl, d, d + timedelta(days=1))


def book_earliest(api: Api, template: str) -> tuple[str, str]:
    slot = msgspec.json.decode(api.earliest(template))["content"]["bookingSlotList"][0]["id"]
    answer = api.send("appointment_add", {"bookingSlotId": slot, "customer": CUSTOMER})
    assert answer.status_code == 201, answer.data
    return slot, answer.json["content"]["id"]


# --- the tests ---------------------------------------------------------------------------------
def test_listings_match_the_reference_through_bookings_moves_cancels_and_clock() -> None:
    api = Api(new_state("2026-12-07T08:00:00+01:00"))
    tpls = templates(api.state)
    assert_matches_reference(api, tpls)

    booked = [book_earliest(api, t) for t in (TEST_TEMPLATE, MASSAGE, TWO_RESOURCE_TEMPLATE)]
    assert_matches_reference(api, tpls)

    _, moving = booked[0]
    today = api.state.today(api.org)
    target = api.slot_ids(TEST_TEMPLATE, today + timedelta(days=2))[-1]
    moved = api.send("appointment_move", {"bookingSlotId": target}, appointment_id=moving)
    assert moved.status_code == 200, moved.data
    assert_matches_reference(api, tpls)

    canceled = api.send("appointment_cancel", appointment_id=booked[1][1])
    assert canceled.status_code == 200, canceled.data
    assert_matches_reference(api, tpls)

    # 7 minutes: the lead-time cut-off moves inside today; then an hour; then into tomorrow.
    for seconds in (7 * 60, 3600, 86400 + 17 * 60):
        api.state.clock.advance(seconds)
        assert_matches_reference(api, tpls)


def test_dst_switch_days_match_the_reference() -> None:
    for now, months in (
        ("2027-03-24T10:07:00+01:00", [(2027, 3), (2027, 4)]),
        ("2027-10-27T16:53:00+02:00", [(2027, 10), (2027, 11)]),
    ):
        api = Api(new_state(now))
        for tpl in (MASSAGE, TWO_RESOURCE_TEMPLATE, TEST_TEMPLATE):
            for y, m in months:
                first = date(y, m, 1)
                stop = (first + timedelta(days=32)).replace(day=1)
                assert api.month(tpl, y, m) == reference_range(api.state, tpl, first, stop)
            today = api.state.today(api.org)
            for k in range(7):
                d = today + timedelta(days=k)
                assert api.day(tpl, d) == reference_range(api.state, tpl, d, d + timedelta(days=1))


def test_wall_clock_listings_match_the_reference() -> None:
    api = Api(new_state(None))
    for tpl in (TEST_TEMPLATE, MASSAGE, TWO_RESOURCE_TEMPLATE):
        for _ in range(2):
            today = api.state.today(api.org)
            for d in (today, today + timedelta(days=1)):
                before = reference_range(api.state, tpl, d, d + timedelta(days=1))
                got = api.day(tpl, d)
                after = reference_range(api.state, tpl, d, d + timedelta(days=1))
                # The wall clock may cross a grid step between the calls: either side is right.
                assert got in (before, after), (tpl, d)
            before = reference_earliest(api.state, tpl)
            got = api.earliest(tpl)
            after = reference_earliest(api.state, tpl)
            assert got in (before, after), tpl


def test_a_booking_move_and_cancel_change_the_listing_at_once() -> None:
    api = Api(new_state("2026-12-07T08:00:00+01:00"))
    today = api.state.today(api.org)
    day = today + timedelta(days=2)
    ids = api.slot_ids(TEST_TEMPLATE, day)
    slot = ids[0]
    answer = api.send("appointment_add", {"bookingSlotId": slot, "customer": CUSTOMER})
    assert answer.status_code == 201
    appt = answer.json["content"]["id"]
    assert slot not in api.slot_ids(TEST_TEMPLATE, day)
    target = ids[-1]
    moved = api.send("appointment_move", {"bookingSlotId": target}, appointment_id=appt)
    assert moved.status_code == 200
    after_move = api.slot_ids(TEST_TEMPLATE, day)
    assert slot in after_move and target not in after_move
    assert api.send("appointment_cancel", appointment_id=appt).status_code == 200
    assert api.slot_ids(TEST_TEMPLATE, day) == ids


def test_slot_ids_are_deterministic_and_decode_to_their_slot() -> None:
    """Same data and clock, same ids (the cassettes depend on it); every id names its slot."""
    first, second = (Api(new_state("2026-12-07T08:00:00+01:00")) for _ in range(2))
    today = first.state.today(first.org)
    codec = first.state.data.slot_codec
    for tpl in templates(first.state):
        for d in (today, today + timedelta(days=1), today + timedelta(days=9)):
            body = first.day(tpl, d)
            assert body == second.day(tpl, d), (tpl, d)
            for slot in msgspec.json.decode(body)["content"]["list"]:
                assert len(slot["id"]) == 32 and slot["id"].startswith("4f")
                assert slot["id"].isalnum() and slot["id"].isascii()
                template, start, combo = codec.decode(slot["id"])
                assert template == tpl
                assert datetime.fromisoformat(slot["timestamp"]).timestamp() == start
                assert list(combo) == slot["bookingResourceCombination"]


def test_slot_ids_round_trip_for_any_slot() -> None:
    data = new_state("2026-12-07T08:00:00+01:00").data
    codec = data.slot_codec
    rng = random.Random(5)
    ids = list(data.template_rules)
    seen = set()
    for _ in range(2000):
        tpl = rng.choice(ids)
        combo = rng.choice(data.template_rules[tpl].combinations)
        start = rng.randrange(0, 2**32) * 60
        slot_id = codec.encode(tpl, start, combo)
        assert codec.decode(slot_id) == (tpl, start, combo)
        seen.add(slot_id)
    assert len(seen) == 2000
