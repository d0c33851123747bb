"""Regression tests: safe booking under the faults that once broke "never twice" (issue 11).

Each test reproduces one defect as it was reported, against a real Sandbox over HTTP, and checks
the sandbox's own store (not the faulty API) for what really happened.
"""

from __future__ import annotations

import time

import pytest

import bt_explore
from bt_explore import (
    ApiError,
    BookingOutcomeUnknown,
    NotFound,
    ServerError,
    TransportError,
)

NOW = "2026-12-01T09:00:00+01:00"
ADA = {"firstName": "Ada", "lastName": "Lovelace", "email": "ada@example.com"}
ADD = r"/appointment/add$"
TOKEN = r"^/oauth/token$"


@pytest.fixture
def slots(client):
    return client.earliest_slot(client.templates()[0]["id"])["bookingSlotList"]


def booked(sb, custom_id):
    return [a for a in sb.appointments() if a["customId"] == custom_id]


def adds(sb):
    return [r for r in sb.api_requests if r.path.endswith("/appointment/add")]


def eventually(condition, *, within: float):
    """``condition()``'s first truthy value, asked every 20 ms until ``within`` seconds pass
    (then its last, falsy one): waits for an event, not for a guessed time."""
    deadline = time.monotonic() + within
    while not (value := condition()) and time.monotonic() < deadline:
        time.sleep(0.02)
    return value


# -- 2. customIds whose shape could change the identify route --------------------------------


@pytest.mark.parametrize("custom_id", ["order/4711", "a/b/c", "x?y#z", "50%", "sp ace", "ä/ö"])
def test_a_lost_answer_for_any_custom_id_finds_the_booking(client, sb, slots, custom_id):
    sb.set_faults(script=["drop_after"], paths=ADD)  # booked, then the connection is cut
    appointment = client.book(slots[0]["id"], ADA, custom_id=custom_id)
    assert appointment["customId"] == custom_id
    assert len(booked(sb, custom_id)) == 1
    assert len(adds(sb)) == 1
    assert client.appointment_by_custom_id(custom_id)["id"] == appointment["id"]


@pytest.mark.parametrize("custom_id", [".", ".."])
def test_custom_ids_that_identify_cannot_ask_for_are_refused_before_sending(
    client, sb, slots, custom_id
):
    sb.clear_requests()
    with pytest.raises(ValueError, match="custom_id cannot be"):
        client.book(slots[0]["id"], ADA, custom_id=custom_id)
    assert sb.requests == []


def test_a_404_for_an_unknown_route_is_not_taken_as_no_such_appointment(client, sb, slots):
    # identify lands on a route the server does not know: that says nothing about the booking
    sb.set_faults(script=["drop_after", 404], paths=r"/appointment/(add|.+/identify)$")
    with pytest.raises(BookingOutcomeUnknown) as info:
        client.book(slots[0]["id"], ADA, custom_id="route-1")
    assert "safe to book again" not in str(info.value)
    assert len(booked(sb, "route-1")) == 1


def test_identify_not_found_names_the_custom_id(client):
    with pytest.raises(NotFound) as info:
        client.appointment_by_custom_id("no/such/order")
    assert [m.parameter for m in info.value.failures] == ["customId"]


# -- 3. a read timeout while the server is still booking --------------------------------------


def test_a_read_timeout_waits_for_the_booking_instead_of_saying_safe(sb):
    with bt_explore.connect(sandbox=sb, timeout=(5, 0.5)) as client:
        slot = client.earliest_slot(client.templates()[0]["id"])["bookingSlotList"][0]
        sb.set_faults(slow_ms=1200, paths=ADD)  # add takes 1.2 s; the client waits 0.5 s
        started = time.monotonic()
        appointment = client.book(slot["id"], ADA, custom_id="slow-1")
        assert appointment["customId"] == "slow-1"
        assert time.monotonic() - started < 3
    assert len(booked(sb, "slow-1")) == 1
    assert len(adds(sb)) == 1


def test_a_booking_slower_than_the_settling_window_is_outcome_unknown(sb):
    with bt_explore.connect(sandbox=sb, timeout=(5, 0.3)) as client:
        slot = client.earliest_slot(client.templates()[0]["id"])["bookingSlotList"][0]
        sb.set_faults(slow_ms=1800, paths=ADD)
        started = time.monotonic()
        with pytest.raises(BookingOutcomeUnknown) as info:
            client.book(slot["id"], ADA, custom_id="slower-1")
        assert "may still be booking" in str(info.value)
        assert "safe to book again" not in str(info.value)
        # the server finishes: the advice in the message (look it up later) works
        assert eventually(lambda: booked(sb, "slower-1"), within=5)
        assert client.appointment_by_custom_id("slower-1")["customId"] == "slower-1"
        assert time.monotonic() - started >= 1.8  # it was still booking when book() gave up
    assert len(booked(sb, "slower-1")) == 1


def test_a_gateway_timeout_is_settled_like_a_read_timeout(sb):
    with bt_explore.connect(
        sandbox=sb, timeout=(5, 0.3)
    ) as client:  # settled over max(read timeout, 1 s)
        slot = client.earliest_slot(client.templates()[0]["id"])["bookingSlotList"][0]
        sb.set_faults(script=[504], paths=ADD)  # the gateway gave up; nothing was booked
        started = time.monotonic()
        with pytest.raises(BookingOutcomeUnknown):
            client.book(slot["id"], ADA, custom_id="gw-1")
        assert 1 <= time.monotonic() - started < 3
    assert booked(sb, "gw-1") == []


def test_the_api_s_own_5xx_is_settled_at_once(client, sb, slots):
    sb.set_faults(script=[503], paths=ADD)  # the API answered: it is done with the request
    started = time.monotonic()
    with pytest.raises(ServerError) as info:
        client.book(slots[0]["id"], ADA, custom_id="api-1")
    assert "safe to book again" in str(info.value)
    assert time.monotonic() - started < 1
    assert booked(sb, "api-1") == []


# -- 4. the token server hiccups during book() ------------------------------------------------


def test_token_requests_are_retried_and_the_booking_is_made_once(client, sb, slots):
    sb.expire_tokens()
    sb.set_faults(script=[503, 503], paths=TOKEN)
    appointment = client.book(slots[0]["id"], ADA, custom_id="tok-1")
    assert appointment["customId"] == "tok-1"
    assert len(booked(sb, "tok-1")) == 1
    assert [r.status for r in sb.token_requests[-2:]] == [200, 200]


@pytest.mark.parametrize("fault", [503, 429, "drop"])
def test_a_token_failure_before_add_says_not_sent(client, sb, slots, fault):
    sb.expire_tokens()
    client.auth.clear()
    sb.set_faults(script=[fault] * 8, paths=TOKEN, retry_after=0)
    with pytest.raises((ApiError, TransportError)) as info:
        client.book(slots[0]["id"], ADA, custom_id="tok-2")
    assert not isinstance(info.value, BookingOutcomeUnknown)
    assert info.value.sent is False
    assert "not sent, safe to book again" in str(info.value)
    assert adds(sb) == [] and booked(sb, "tok-2") == []
    sb.clear_faults()
    assert client.book(slots[0]["id"], ADA, custom_id="tok-2")["customId"] == "tok-2"


def test_gets_survive_token_server_hiccups(client, sb):
    sb.expire_tokens()
    client.auth.clear()
    sb.set_faults(script=["drop", 429, 503], paths=TOKEN, retry_after=0)
    assert len(client.templates()) > 0
