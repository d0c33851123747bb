"""The sandbox over real HTTP: auth, every endpoint, errors, booking, clock."""

from __future__ import annotations

import threading
from datetime import datetime

import pytest
import requests

from bt_explore.endpoints import ENDPOINTS, ID_PATTERN
from bt_explore.sandbox import Sandbox

TEST_TEMPLATE = "fc12345678910AbcDefGh1112131415a"  # walkthrough's first template
DEMO_TEMPLATE_2 = "fc123456789101112131415aBCdeFgHi"  # walkthrough's second (customId 4321)
TWO_RESOURCE_TEMPLATE = "fcP2Kty7Xo5ziREDUTnAcJ42GeNi5SeT"  # staff + room, address required
MASSAGE = "fcyqesBhPT0MPaIrlh9dZMl65o6mSmCg"  # mobile required
ROOM_1 = "br9cidZ3BLy3Lk33BuwWSxa3Zw5Sb4C4"
ANNA = "br4l1BzeBe04JE3e4V2Tl4wfhGvdy8KX"


def token(sb: Sandbox, organization_id: str | None = "demo") -> str:
    """An access token for the demo organization (or none / another organization)."""
    refresh = requests.post(
        sb.auth_url, data={"grant_type": "client_credentials", "client_id": sb.client_id}, timeout=5
    ).json()["refresh_token"]
    form = {"grant_type": "refresh_token", "client_id": sb.client_id, "refresh_token": refresh}
    if organization_id is not None:
        form["organization_id"] = (
            sb.organization_id if organization_id == "demo" else organization_id
        )
    answer = requests.post(sb.auth_url, data=form, timeout=5)
    assert answer.status_code == 200, answer.text
    return answer.json()["access_token"]


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
    assert {"rangeStart", "rangeEnd", "timeZone", "bookingSlotList", "list"} <= set(earliest)
    assert earliest["list"] == earliest["bookingSlotList"] and earliest["list"]
    slot = earliest["list"][0]
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
    slot_id = api.ok("slot_earliest", template_id=TEST_TEMPLATE)["list"][0]["id"]
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
