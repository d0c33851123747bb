"""The sandbox over real HTTP: auth, every endpoint, errors, booking, clock."""

from __future__ import annotations

import re
import threading
from datetime import datetime

import pytest
import requests
from _sandbox_http import token

import bt_explore
from bt_explore.endpoints import ENDPOINTS, ID_PATTERN
from bt_explore.sandbox import Sandbox

TEST_TEMPLATE = "fc12345678910AbcDefGh1112131415a"  # walkthrough's first template
DEMO_TEMPLATE_2 = "fc123456789101112131415aBCdeFgHi"  # walkthrough's second (customId 4321)
TWO_RESOURCE_TEMPLATE = "fcP2Kty7Xo5ziREDUTnAcJ42GeNi5SeT"  # staff + room, address required
MASSAGE = "fcyqesBhPT0MPaIrlh9dZMl65o6mSmCg"  # mobile required
ROOM_1 = "br9cidZ3BLy3Lk33BuwWSxa3Zw5Sb4C4"
ANNA = "br4l1BzeBe04JE3e4V2Tl4wfhGvdy8KX"


class Api:
    """A tiny test helper: authenticated calls of one sandbox's Module API."""

    def __init__(self, sb: Sandbox, locale: str = "en") -> None:
        self.sb = sb
        self.locale = locale
        self.session = requests.Session()
        self.session.headers["Authorization"] = f"Bearer {token(sb)}"

    def url(self, name: str, **path: object) -> str:
        path.setdefault("org", self.sb.organization_id)
        ep = ENDPOINTS[name]
        return f"{self.sb.api_url}{self.locale}/{ep.format(**path)}"

    def call(self, name: str, *, json: object = None, **path: object) -> requests.Response:
        return self.session.request(
            ENDPOINTS[name].method, self.url(name, **path), json=json, timeout=10
        )

    def ok(self, name: str, **kw: object) -> object:
        answer = self.call(name, **kw)
        assert answer.status_code == ENDPOINTS[name].success_status, answer.text
        return answer.json()["content"]


@pytest.fixture
def api(sandbox: Sandbox) -> Api:
    return Api(sandbox)


def failures(answer: requests.Response) -> dict[str | None, str]:
    body = answer.json()
    assert body["content"] is None
    assert all(m["class"] == "MESSAGE" and m["type"] == "failure" for m in body["messageList"])
    return {m["parameter"]: m["text"] for m in body["messageList"]}


def book(api: Api, slot_id: str, **extra: object) -> requests.Response:
    customer = {
        "firstName": "John",
        "lastName": "Doe",
        "email": "jd@scrubs.doc",
        "mobile": "+49 170 1234567",
    }
    customer.update(extra.pop("customer", {}))
    return api.call(
        "appointment_add", json={"bookingSlotId": slot_id, "customer": customer, **extra}
    )


# --- walkthrough -------------------------------------------------------------------------------
def test_walkthrough_sequence(sandbox: Sandbox) -> None:
    first = requests.post(
        sandbox.auth_url,
        json={"grant_type": "client_credentials", "client_id": sandbox.client_id},
        timeout=5,
    )
    assert first.status_code == 200
    assert first.json()["token_type"] == "Bearer" and first.json()["expires_in"] == 1800
    second = requests.post(
        sandbox.auth_url,
        data={
            "grant_type": "refresh_token",
            "client_id": sandbox.client_id,
            "refresh_token": first.json()["refresh_token"],
            "organization_id": sandbox.organization_id,
        },
        timeout=5,
    )
    assert second.status_code == 200 and second.json()["expires_in"] == 300
    headers = {"Authorization": f"Bearer {second.json()['access_token']}"}
    base = f"{sandbox.api_url}de/organization/{sandbox.organization_id}"
    listing = requests.get(f"{base}/bookingTemplate/list", headers=headers, timeout=5)
    assert listing.status_code == 200
    content = listing.json()["content"]
    assert content["class"] == "LIST" and content["recordTotal"] == len(content["recordList"])
    template_id = content["recordList"][0]["id"]
    assert template_id == TEST_TEMPLATE
    earliest = requests.get(
        f"{base}/bookingTemplate/{template_id}/bookingSlot/earliest", headers=headers, timeout=5
    ).json()["content"]
    # the walkthrough's shape: bookingSlotList only (no RANGE_LIST ``list``, no ``class``)
    assert set(earliest) == {"rangeStart", "rangeEnd", "timeZone", "bookingSlotList"}
    assert earliest["bookingSlotList"]
    slot = earliest["bookingSlotList"][0]
    # bookingLeadTime 120 min from 09:00 Berlin
    assert slot["timestamp"] == "2026-12-01T11:00:00+01:00"
    body = {
        "bookingSlotId": slot["id"],
        "customer": {"firstName": "John", "lastName": "Doe", "email": "jd@scrubs.doc"},
    }
    added = requests.post(f"{base}/appointment/add", json=body, headers=headers, timeout=5)
    assert added.status_code == 201
    appointment = added.json()["content"]
    assert appointment["class"] == "APPOINTMENT"
    assert appointment["start"] == "2026-12-01T11:00:00+01:00"
    assert appointment["end"] == "2026-12-01T12:00:00+01:00"
    again = requests.post(f"{base}/appointment/add", json=body, headers=headers, timeout=5)
    assert again.status_code == 400
    assert "bookingSlotId" in failures(again)


# --- request log ----------------------------------------------------------------------------
def test_request_log_records_token_and_api_calls(sandbox: Sandbox, api: Api) -> None:
    api.ok("template_list")
    grants = [r.grant_type for r in sandbox.token_requests]
    assert grants == ["client_credentials", "refresh_token"]
    assert sandbox.token_requests[1].organization_id == sandbox.organization_id
    (call,) = sandbox.api_requests
    assert call.method == "GET" and call.status == 200
    assert call.path.endswith("/bookingTemplate/list")
    assert call.organization_id == sandbox.organization_id
    assert call.time == sandbox.now()
    sandbox.clear_requests()
    assert sandbox.requests == []


# --- concurrency -----------------------------------------------------------------------------
def test_twenty_threads_booking_one_slot_give_exactly_one_201(sandbox: Sandbox, api: Api) -> None:
    slot_id = api.ok("slot_earliest", template_id=TEST_TEMPLATE)["bookingSlotList"][0]["id"]
    statuses: list[int] = []
    barrier = threading.Barrier(20)
    auth = api.session.headers["Authorization"]

    def attempt(i: int) -> None:
        body = {
            "bookingSlotId": slot_id,
            "customer": {"firstName": f"T{i}", "lastName": "X", "email": f"t{i}@example.org"},
        }
        barrier.wait()
        answer = requests.post(
            api.url("appointment_add"), json=body, headers={"Authorization": auth}, timeout=10
        )
        statuses.append(answer.status_code)

    threads = [threading.Thread(target=attempt, args=(i,)) for i in range(20)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(statuses) == [201] + [400] * 19
    booked = [
        a
        for a in sandbox.appointments()
        if a["start"] == "2026-12-01T11:00:00+01:00" and a["bookingTemplateId"] == TEST_TEMPLATE
    ]
    assert len(booked) == 1


def test_slot_ids_are_deterministic_and_well_formed(sandbox: Sandbox, api: Api) -> None:
    first = api.ok("slot_list_day", template_id=TEST_TEMPLATE, year=2026, month=12, day=2)
    again = api.ok("slot_list_day", template_id=TEST_TEMPLATE, year=2026, month=12, day=2)
    assert first == again and first["list"]
    assert all(ID_PATTERN.match(s["id"]) and s["id"].startswith("4f") for s in first["list"])
    with Sandbox(now="2026-12-01T09:00:00+01:00") as other:
        assert (
            Api(other).ok("slot_list_day", template_id=TEST_TEMPLATE, year=2026, month=12, day=2)
            == first
        )
    assert datetime.fromisoformat(first["list"][0]["timestamp"]).utcoffset() is not None


# --- organization, templates, resources -------------------------------------------------------
WALKTHROUGH_TEMPLATE_FIELDS = {
    "class", "id", "customId", "name", "nameI18nList", "location", "image", "duration", "leadTime",
    "followupTime", "price", "showPrice", "priceGross", "currency", "taxRate", "description",
    "descriptionI18nList", "appointmentAddressRequired", "customerAddressRequired",
    "customerEmailRequired", "customerMobileRequired", "additionalCustomerCountMax",
    "bookingDayEarliest", "bookingDayLatest", "bookingLeadTime", "address", "bookingStepList",
    "emailTemplateList", "smsTemplateList", "extraFieldList", "additionalData",
}  # fmt: skip


def test_organization_show(api: Api) -> None:
    org = api.ok("organization_show")
    assert org["class"] == "ORGANIZATION" and org["id"] == api.sb.organization_id
    assert org["timeZone"] == "Europe/Berlin" and org["openingHours"]
    assert not any(key.startswith("_") for key in org)


def test_template_list_has_the_walkthrough_templates_with_every_field(api: Api) -> None:
    content = api.ok("template_list")
    assert content["class"] == "LIST" and content["recordTotal"] >= 10
    by_id = {t["id"]: t for t in content["recordList"]}
    first = by_id[TEST_TEMPLATE]
    assert WALKTHROUGH_TEMPLATE_FIELDS <= set(first)
    assert first["price"] == {
        "class": "PRICE",
        "priceGross": 99.99,
        "taxRate": 19,
        "currency": "EUR",
    }
    assert first["address"]["geoCoordinates"]["class"] == "GEO_COORDINATES"
    assert first["emailTemplateList"][0]["class"] == "EMAIL_TEMPLATE"
    assert first["smsTemplateList"][0]["class"] == "SMS_TEMPLATE"
    assert (first["duration"], first["bookingDayLatest"], first["bookingLeadTime"]) == (60, 14, 120)
    assert by_id[DEMO_TEMPLATE_2]["customId"] == "4321"
    assert all(WALKTHROUGH_TEMPLATE_FIELDS <= set(t) for t in content["recordList"])
    assert len({t["duration"] for t in content["recordList"]}) >= 4
    steps = by_id[TWO_RESOURCE_TEMPLATE]["bookingStepList"]
    assert [{r["type"] for r in s["bookingResourceList"]} for s in steps] == [
        {"EMPLOYEE"},
        {"ROOM"},
    ]
    assert not any(k.startswith("_") for s in steps for k in s)


def test_template_show_and_identify(api: Api) -> None:
    assert api.ok("template_show", template_id=DEMO_TEMPLATE_2)["name"] == "Demo Appointment 2"
    assert api.ok("template_identify", custom_id="4321")["id"] == DEMO_TEMPLATE_2
    missing = api.call("template_identify", custom_id="no-such-template")
    assert missing.status_code == 404 and "customId" in failures(missing)


def test_unknown_and_malformed_ids_are_404_naming_the_parameter(api: Api) -> None:
    other_org_template = "fcOLaG5iwGEDl5QYMfHjePc912fuDSN4"
    for name, path, parameter in [
        ("template_show", {"template_id": other_org_template}, "templateId"),
        ("template_show", {"template_id": "fc123"}, "templateId"),
        ("template_show", {"template_id": "br" + "a" * 30}, "templateId"),
        ("resource_show", {"resource_id": "br" + "a" * 30}, "resourceId"),
        ("resource_show", {"resource_id": "nope"}, "resourceId"),
        ("appointment_show", {"appointment_id": "ed" + "a" * 30}, "appointmentId"),
        ("appointment_show", {"appointment_id": "x"}, "appointmentId"),
        ("slot_earliest", {"template_id": "fc" + "0" * 30}, "templateId"),
        ("organization_show", {"org": "f6-bad"}, "organizationId"),
    ]:
        answer = api.call(name, **path)
        assert answer.status_code == 404, (name, path, answer.text)
        assert parameter in failures(answer)


def test_resources_and_templates_of_a_resource(api: Api) -> None:
    resources = api.ok("resource_list")["recordList"]
    assert len(resources) >= 4
    assert {"EMPLOYEE", "ROOM"} <= {r["type"] for r in resources}
    assert api.ok("resource_show", resource_id=ROOM_1)["name"] == "Room 1"
    assert api.ok("resource_identify", custom_id="room-1")["id"] == ROOM_1
    assert api.call("resource_identify", custom_id="room-99").status_code == 404
    ids = {t["id"] for t in api.ok("resource_template_list", resource_id=ROOM_1)["recordList"]}
    assert TWO_RESOURCE_TEMPLATE in ids and TEST_TEMPLATE not in ids
    ids = {t["id"] for t in api.ok("resource_template_list", resource_id=ANNA)["recordList"]}
    assert {TEST_TEMPLATE, TWO_RESOURCE_TEMPLATE} <= ids


# --- slots -----------------------------------------------------------------------------------
def test_range_lists_of_day_week_and_month_agree(api: Api) -> None:
    days = [
        api.ok("slot_list_day", template_id=TEST_TEMPLATE, year=2026, month=12, day=d)
        for d in range(7, 14)
    ]
    week = api.ok("slot_list_week", template_id=TEST_TEMPLATE, year=2026, week=50)
    month = api.ok("slot_list_month", template_id=TEST_TEMPLATE, year=2026, month=12)
    assert week["class"] == "RANGE_LIST" and week["timeZone"] == "Europe/Berlin"
    assert week["rangeStart"] == "2026-12-07T00:00:00+01:00"
    assert week["rangeEnd"] == "2026-12-14T00:00:00+01:00"
    assert week["list"] == [slot for d in days for slot in d["list"]]
    assert days[0]["rangeStart"] == "2026-12-07T00:00:00+01:00"
    assert days[0]["rangeEnd"] == "2026-12-08T00:00:00+01:00"
    assert (month["rangeStart"], month["rangeEnd"]) == (
        "2026-12-01T00:00:00+01:00",
        "2027-01-01T00:00:00+01:00",
    )
    assert set(map(str, week["list"])) <= set(map(str, month["list"]))
    for slot in month["list"]:
        start = datetime.fromisoformat(slot["timestamp"])
        assert start.minute % 15 == 0 and start.second == 0
        assert slot["bookingResourceCombination"][0] in {ANNA, "brUAAufOuPqc66GrmrqtTK3HFF63pKlP"}
        assert start.date().isoformat() <= "2026-12-15"  # bookingDayLatest 14
    # opening hours 08-12 and 13-18 on weekdays; 60 min: last starts 11:00 and 17:00
    times = {s["timestamp"][11:16] for s in days[0]["list"]}
    assert min(times) == "08:00" and max(times) == "17:00"
    assert "11:15" not in times and "12:00" not in times


def test_two_resource_template_slots_hold_staff_and_room(api: Api) -> None:
    slots = api.ok("slot_list_day", template_id=TWO_RESOURCE_TEMPLATE, year=2026, month=12,
                   day=3)["list"]  # fmt: skip
    assert slots
    for slot in slots:
        staff, room = slot["bookingResourceCombination"]
        assert room in {ROOM_1, "brHTfp7YUAfBC2D5qGBAxkXgdGJkfgp8"} and staff != room


def test_existing_appointments_block_their_resources(api: Api) -> None:
    # demo-0001: tomorrow 10:00-11:00 with Anna (Test AppointmentTemplate)
    slots = api.ok("slot_list_day", template_id=TEST_TEMPLATE, year=2026, month=12, day=2)["list"]
    at_ten = [s["bookingResourceCombination"] for s in slots if s["timestamp"][11:16] == "10:00"]
    assert at_ten == [["brUAAufOuPqc66GrmrqtTK3HFF63pKlP"]]
    at_nine = [s for s in slots if s["timestamp"][11:16] == "09:00"]
    assert [s["bookingResourceCombination"] for s in at_nine] == [[ANNA], ["brUAAufOuPqc66GrmrqtTK3HFF63pKlP"]]  # fmt: skip
    assert (
        api.ok("appointment_identify", custom_id="demo-0001")["start"]
        == "2026-12-02T10:00:00+01:00"
    )


def test_booking_windows(api: Api) -> None:
    def day(template: str, d: int, month: int = 12) -> list:
        return api.ok("slot_list_day", template_id=template, year=2026, month=month, day=d)["list"]

    assert day(TEST_TEMPLATE, 15) and not day(TEST_TEMPLATE, 16)  # bookingDayLatest 14
    home_visit = "fcIzeHkRNN3eQ2Pkph4dWYAUJkdFvpUW"  # bookingDayEarliest 1, David: Wed/Fri/Sat/Sun
    assert not day(home_visit, 1) and day(home_visit, 2)
    extended = "fcuYzagxTCrZdXyMKIcJjpGFnsVxs7fe"  # bookingLeadTime 1440 min
    first = api.ok("slot_earliest", template_id=extended)["bookingSlotList"][0]
    assert first["timestamp"] >= "2026-12-02T09"
    today = [s["timestamp"] for s in day(TEST_TEMPLATE, 1)]
    assert today and min(today) == "2026-12-01T11:00:00+01:00"  # bookingLeadTime 120 from 09:00


@pytest.mark.parametrize(
    ("name", "path", "parameter"),
    [
        ("slot_list_week", {"year": 2026, "week": 54}, "week"),
        ("slot_list_week", {"year": 2027, "week": 53}, "week"),  # 2027 has 52 ISO weeks
        ("slot_list_week", {"year": 2027, "week": 0}, "week"),
        ("slot_list_week", {"year": 2026, "week": 48}, "week"),  # before today
        ("slot_list_month", {"year": 2026, "month": 13}, "month"),
        ("slot_list_month", {"year": 2026, "month": 0}, "month"),
        ("slot_list_month", {"year": 2026, "month": 11}, "month"),  # before today
        ("slot_list_month", {"year": "20x6", "month": 12}, "year"),
        ("slot_list_day", {"year": 2026, "month": 12, "day": 32}, "day"),
        ("slot_list_day", {"year": 2027, "month": 2, "day": 29}, "day"),
        ("slot_list_day", {"year": 2026, "month": 11, "day": 30}, "day"),  # yesterday
        ("slot_list_day", {"year": 2026, "month": "xx", "day": 3}, "month"),
        ("slot_list_day", {"year": 1900, "month": 1, "day": 3}, "year"),
    ],
)
def test_bad_ranges_are_400_naming_the_parameter(
    api: Api, name: str, path: dict, parameter: str
) -> None:
    answer = api.call(name, template_id=TEST_TEMPLATE, **path)
    assert answer.status_code == 400, answer.text
    assert parameter in failures(answer)


def test_ranges_including_today_and_far_future_are_fine(api: Api) -> None:
    assert api.ok("slot_list_week", template_id=TEST_TEMPLATE, year=2026, week=49)["list"]
    assert api.ok("slot_list_week", template_id=TEST_TEMPLATE, year=2026, week=53)["list"] == []
    assert api.ok("slot_list_month", template_id=TEST_TEMPLATE, year=2030, month=1)["list"] == []


# --- booking ---------------------------------------------------------------------------------
APPOINTMENT_FIELDS = {
    "class", "id", "customId", "start", "end", "duration", "timeZone", "protected", "name",
    "nameI18nList", "description", "descriptionI18nList", "showPrice", "priceGross", "taxRate",
    "currency", "customer", "address", "canceled", "moved", "bookingResourceList", "fileList",
    "organizationId",
}  # fmt: skip


def first_slot(api: Api, template: str = TEST_TEMPLATE) -> dict:
    return api.ok("slot_earliest", template_id=template)["bookingSlotList"][0]


def day_slots(api: Api, template: str, d: int) -> list[str]:
    content = api.ok("slot_list_day", template_id=template, year=2026, month=12, day=d)
    return [s["id"] for s in content["list"]]


def test_add_show_identify_cancel_and_the_slot_comes_back(api: Api) -> None:
    slot = first_slot(api)
    assert slot["id"] in day_slots(api, TEST_TEMPLATE, 1)
    answer = book(api, slot["id"], customId="my-key-1", notes="first visit")
    assert answer.status_code == 201
    body = answer.json()
    assert body["messageList"][0]["type"] == "success"
    appt = body["content"]
    assert APPOINTMENT_FIELDS <= set(appt)
    assert ID_PATTERN.match(appt["id"]) and appt["id"].startswith("ed")
    assert (appt["customId"], appt["duration"], appt["priceGross"]) == ("my-key-1", 60, 99.99)
    assert (appt["canceled"], appt["moved"], appt["protected"]) == (False, False, False)
    assert appt["customer"]["email"] == "jd@scrubs.doc"
    assert [r["id"] for r in appt["bookingResourceList"]] == slot["bookingResourceCombination"]
    assert appt["organizationId"] == api.sb.organization_id
    assert slot["id"] not in day_slots(api, TEST_TEMPLATE, 1)
    assert api.ok("appointment_show", appointment_id=appt["id"]) == appt
    assert api.ok("appointment_identify", custom_id="my-key-1") == appt
    canceled = api.call("appointment_cancel", appointment_id=appt["id"])
    assert canceled.status_code == 200 and canceled.json()["content"]["canceled"] is True
    assert slot["id"] in day_slots(api, TEST_TEMPLATE, 1)
    again = api.call("appointment_cancel", appointment_id=appt["id"])
    assert again.status_code == 200 and again.json()["content"]["canceled"] is True
    assert api.ok("appointment_show", appointment_id=appt["id"])["canceled"] is True


def test_move_frees_the_old_slot_and_takes_the_new_one(api: Api) -> None:
    slots = api.ok("slot_list_day", template_id=TEST_TEMPLATE, year=2026, month=12, day=3)["list"]
    old = slots[0]["id"]
    new = next(s["id"] for s in slots if s["timestamp"][11:16] == "14:00")  # no overlap (60 min)
    appt = book(api, old).json()["content"]
    answer = api.call("appointment_move", appointment_id=appt["id"], json={"bookingSlotId": new})
    assert answer.status_code == 200, answer.text
    moved = answer.json()["content"]
    assert moved["moved"] is True and moved["id"] == appt["id"] and moved["start"] != appt["start"]
    free = day_slots(api, TEST_TEMPLATE, 3)
    assert old in free and new not in free
    taken = api.call("appointment_move", appointment_id=appt["id"], json={"bookingSlotId": new})
    assert taken.status_code == 200  # moving onto its own slot is allowed
    other = first_slot(api, DEMO_TEMPLATE_2)["id"]
    wrong = api.call("appointment_move", appointment_id=appt["id"], json={"bookingSlotId": other})
    assert wrong.status_code == 400 and "bookingSlotId" in failures(wrong)
    missing = api.call("appointment_move", appointment_id=appt["id"], json={})
    assert missing.status_code == 400 and "bookingSlotId" in failures(missing)
    api.ok("appointment_cancel", appointment_id=appt["id"])
    canceled = api.call("appointment_move", appointment_id=appt["id"], json={"bookingSlotId": old})
    assert canceled.status_code == 400


def test_same_custom_id_twice_is_400(api: Api) -> None:
    first, second = day_slots(api, TEST_TEMPLATE, 4)[:2]
    assert book(api, first, customId="dup").status_code == 201
    answer = book(api, second, customId="dup")
    assert answer.status_code == 400 and "customId" in failures(answer)
    assert second in day_slots(api, TEST_TEMPLATE, 4)


def test_validation_names_every_bad_parameter(api: Api) -> None:
    slot = first_slot(api)["id"]
    answer = api.call(
        "appointment_add", json={"bookingSlotId": slot, "customer": {"email": "not-an-email"}}
    )
    assert answer.status_code == 400
    assert set(failures(answer)) == {"customer.firstName", "customer.lastName", "customer.email"}
    answer = api.call("appointment_add", json={"bookingSlotId": slot, "customer": {
        "firstName": "A", "lastName": "B"}})  # fmt: skip
    assert failures(answer) == {"customer.email": "This parameter is required."}
    answer = api.call("appointment_add", json={"customer": "John"})
    assert set(failures(answer)) == {"bookingSlotId", "customer"}
    answer = api.call("appointment_add", json={"bookingSlotId": "4f" + "0" * 30, "customer": {
        "firstName": "A", "lastName": "B", "gender": "X", "birthday": "1.2.2000"}})  # fmt: skip
    assert set(failures(answer)) == {"bookingSlotId", "customer.gender", "customer.birthday"}
    answer = api.call("appointment_add", json={"bookingSlotId": 42, "customer": {
        "firstName": "A", "lastName": "B"}, "sendAppointmentAddEventEmail": "yes",
        "additionalData": {"k": "v"}})  # fmt: skip
    assert set(failures(answer)) == {
        "bookingSlotId",
        "sendAppointmentAddEventEmail",
        "additionalData",
    }


def test_template_flags_decide_required_customer_fields(api: Api) -> None:
    massage = first_slot(api, MASSAGE)["id"]
    answer = api.call("appointment_add", json={"bookingSlotId": massage, "customer": {
        "firstName": "A", "lastName": "B"}})  # fmt: skip
    assert set(failures(answer)) == {"customer.mobile"}
    answer = book(api, massage, customer={"mobile": "call me"})
    assert set(failures(answer)) == {"customer.mobile"}
    room = first_slot(api, TWO_RESOURCE_TEMPLATE)["id"]
    answer = book(api, room)
    assert set(failures(answer)) == {"customer.address"}
    answer = book(api, room, customer={"address": {"street": "Weg 1", "zip": "10115"}})
    assert set(failures(answer)) == {"customer.address.city"}
    answer = book(api, room, customer={"address": {"street": "Weg 1", "zip": "1", "city": "B"}})
    assert failures(answer) == {
        "customer.address.zip": "This parameter is invalid: '1' is not a postal code."
    }
    answer = book(api, room, customer={"address": {"street": "Weg 1", "zip": "10", "city": "B"}})
    assert answer.status_code == 201
    assert len(answer.json()["content"]["bookingResourceList"]) == 2
    home = first_slot(api, "fcIzeHkRNN3eQ2Pkph4dWYAUJkdFvpUW")["id"]
    answer = book(api, home)
    assert set(failures(answer)) == {"address"}
    address = {"street": "Weg 2", "zip": "10115", "city": "Berlin", "country": "DE"}
    answer = book(api, home, address=address)
    assert answer.status_code == 201 and answer.json()["content"]["address"]["street"] == "Weg 2"


def test_add_needs_a_json_body(api: Api) -> None:
    url = api.url("appointment_add")
    form = api.session.post(url, data={"bookingSlotId": "x"}, timeout=5)
    assert form.status_code == 400 and "application/json" in failures(form)[None]
    broken = api.session.post(
        url, data="{not json", headers={"Content-Type": "application/json"}, timeout=5
    )
    assert broken.status_code == 400 and "JSON" in failures(broken)[None]
    array = api.session.post(url, json=[1, 2], timeout=5)
    assert array.status_code == 400 and None in failures(array)


# --- static ----------------------------------------------------------------------------------
def test_static_lists(sandbox: Sandbox) -> None:
    for locale in ("en", "de"):
        api = Api(sandbox, locale)
        for kind in ("timeZone", "country", "currency", "language", "sector"):
            content = api.ok("static_list", kind=kind)
            assert content["class"] == "LIST" and content["recordTotal"] > 3, kind
            # bookingtime's own plugins read ``code`` and ``name``; ``key`` would pass offline only
            for record in content["recordList"]:
                assert isinstance(record["code"], str) and record["code"], (kind, record)
                assert isinstance(record["name"], str) and record["name"], (kind, record)
                assert "key" not in record, (kind, record)
    names = {c["code"]: c["name"] for c in Api(sandbox, "de").ok("static_list", kind="country")["recordList"]}  # fmt: skip
    assert names["DE"] == "Deutschland"
    zones = Api(sandbox).ok("static_list", kind="timeZone")["recordList"]
    assert "Europe/Berlin" in {z["code"] for z in zones}
    # sectors are codes like the SDK's "01ab", not words; the demo organization's is one of them
    sectors = {s["code"] for s in Api(sandbox).ok("static_list", kind="sector")["recordList"]}
    assert all(re.fullmatch(r"[0-9]{2}[a-z]{2}", code) for code in sectors), sectors
    assert Api(sandbox).ok("organization_show")["sector"] in sectors
    unknown = Api(sandbox).call("static_list", kind="planet")
    assert unknown.status_code == 404 and "kind" in failures(unknown)


def test_static_lists_work_with_a_token_without_organization(sandbox: Sandbox) -> None:
    headers = {"Authorization": f"Bearer {token(sandbox, None)}"}
    answer = requests.get(f"{sandbox.api_url}en/static/currency/list", headers=headers, timeout=5)
    assert answer.status_code == 200
    org_url = f"{sandbox.api_url}en/organization/{sandbox.organization_id}/show"
    assert requests.get(org_url, headers=headers, timeout=5).status_code == 403


@pytest.mark.parametrize("code", [400, 401, 403, 404, 409, 418, 429, 500, 502, 503])
def test_static_error_answers_with_its_code(api: Api, code: int) -> None:
    answer = api.call("static_error", code=code)
    assert answer.status_code == code
    assert list(failures(answer)) == [None]
    if code == 429:
        assert answer.headers["Retry-After"] == "1"


@pytest.mark.parametrize("code", ["200", "302", "600", "abc", "99"])
def test_static_error_with_a_bad_code_is_404(api: Api, code: str) -> None:
    answer = api.call("static_error", code=code)
    assert answer.status_code == 404 and "code" in failures(answer)


# --- routing, locale ------------------------------------------------------------------------
def test_unknown_route_and_wrong_verb(api: Api) -> None:
    base = f"{api.sb.api_url}en/organization/{api.sb.organization_id}"
    for url in (f"{base}/nothing", f"{api.sb.api_url}en/unknown", f"{api.sb.base_url}/nowhere"):
        answer = api.session.get(url, timeout=5)
        assert answer.status_code == 404 and list(failures(answer)) == [None]
    answer = api.session.delete(f"{base}/bookingTemplate/list", timeout=5)
    assert answer.status_code == 405 and answer.headers["Allow"] == "GET"
    assert "DELETE" in failures(answer)[None]
    answer = api.session.get(f"{base}/appointment/add", timeout=5)
    assert answer.status_code == 405 and answer.headers["Allow"] == "POST"
    answer = api.session.post(f"{base}/appointment/{'ed' + 'a' * 30}/cancel", timeout=5)
    assert answer.status_code == 405 and answer.headers["Allow"] == "PUT"


@pytest.mark.parametrize(
    ("locale", "text"),
    [
        ("de", "Dieser Parameter ist erforderlich."),
        ("de_DE", "Dieser Parameter ist erforderlich."),
        ("en", "This parameter is required."),
        ("en_EN", "This parameter is required."),
        ("fr", "This parameter is required."),
    ],
)
def test_messages_follow_the_locale(sandbox: Sandbox, locale: str, text: str) -> None:
    answer = Api(sandbox, locale).call("appointment_add", json={"customer": {}})
    assert failures(answer)["bookingSlotId"] == text


def test_openapi_document(sandbox: Sandbox) -> None:
    doc = requests.get(sandbox.openapi_url, timeout=5).json()
    operations = {op["operationId"] for path in doc["paths"].values() for op in path.values()}
    assert operations == set(ENDPOINTS) | {"token", "revoke", "authorize", "authorize_decision"}
    assert doc["servers"] == [{"url": sandbox.base_url}]
    validator = pytest.importorskip("openapi_spec_validator")
    validator.validate(doc)


def test_index_names_the_urls(sandbox: Sandbox) -> None:
    index = requests.get(sandbox.base_url + "/", timeout=5).json()
    assert index["auth_url"] == sandbox.auth_url and index["api_url"] == sandbox.api_url


# --- bt_explore.connect(sandbox=sb) ------------------------------------------------------------------------------
def test_client_talks_to_the_demo_organization_on_the_sandbox_clock(
    sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    # credentials in the environment must not leak into a sandbox client
    monkeypatch.setenv("BOOKINGTIME_CLIENT_ID", "23" + "e" * 30)
    monkeypatch.setenv("BOOKINGTIME_ORGANIZATION_ID", sandbox.other_organization_id)
    with bt_explore.connect(sandbox=sandbox) as client:
        settings = client.settings
        assert (settings.client_id, settings.client_secret) == (sandbox.client_id, "")
        assert (settings.auth_url, settings.api_url) == (sandbox.auth_url, sandbox.api_url)
        assert client.organization_id == sandbox.organization_id
        assert client.organization()["id"] == sandbox.organization_id
        # Past the 300 s access token on the sandbox clock: a client on that clock renews the
        # token before calling; one on the wall clock (days earlier) would be answered 401.
        sandbox.advance(301)
        client.organization()
    assert [r.status for r in sandbox.api_requests] == [200, 200]
    assert [r.grant_type for r in sandbox.token_requests] == [
        "client_credentials",
        "refresh_token",
        "refresh_token",
    ]
    assert sandbox.running


def test_client_passes_settings_and_client_arguments_on(sandbox: Sandbox) -> None:
    from bt_explore.errors import PermissionDenied

    session = requests.Session()
    readings: list[datetime] = []

    def clock() -> datetime:
        readings.append(sandbox.now())
        return readings[-1]

    with bt_explore.connect(
        sandbox=sandbox,
        organization_id=sandbox.other_organization_id,
        locale="de",
        timeout=7,
        session=session,
        clock=clock,
    ) as client:
        assert client.session is session
        assert (client.settings.locale, client.settings.timeout) == ("de", (7.0, 7.0))
        with pytest.raises(PermissionDenied):
            client.organization()
        assert readings, "the given clock is the one the token logic reads"
    assert [r.organization_id for r in sandbox.token_requests] == [
        None,
        sandbox.other_organization_id,
    ]
    with pytest.raises(TypeError):
        bt_explore.connect(sandbox=sandbox, colour="blue")
