"""Safe booking against a real in-process Sandbox: customIds, checks before sending, lost answers
settled by identify, never a second add."""

from __future__ import annotations

import logging

import pytest

from bt_explore import (
    BookingOutcomeUnknown,
    Client,
    ServerError,
    Settings,
    TransportError,
    ValidationError,
)
from bt_explore.client import default_retry

NOW = "2026-12-01T09:00:00+01:00"
ADA = {"firstName": "Ada", "lastName": "Lovelace", "email": "ada@example.com"}
ADD = r"/appointment/add$"
ADD_OR_IDENTIFY = r"/appointment/(add|[^/]+/identify)$"


@pytest.fixture
def slot(client):
    template = client.templates()[0]
    return client.earliest_slot(template["id"])["bookingSlotList"][0]


def adds(sb):
    return [r for r in sb.api_requests if r.path.endswith("/appointment/add")]


def booked(sb, custom_id):
    return [a for a in sb.appointments() if a["customId"] == custom_id]


def test_every_booking_gets_a_custom_id(client, slot, sb):
    appointment = client.book(slot["id"], ADA)
    assert len(appointment["customId"]) == 30
    assert client.appointment_by_custom_id(appointment["customId"])["id"] == appointment["id"]


def test_a_given_custom_id_is_used(client, slot):
    appointment = client.book(slot["id"], ADA, custom_id="order-4711", notes="window seat")
    assert appointment["customId"] == "order-4711"
    assert client.appointment(appointment["id"])["customId"] == "order-4711"


def test_client_custom_id_factory_is_replaceable(client, slot):
    client.custom_ids = lambda: "fixed-id-1"
    assert client.book(slot["id"], ADA)["customId"] == "fixed-id-1"


def test_dropped_answer_ends_in_exactly_one_appointment(client, slot, sb, caplog):
    before = len(sb.appointments())
    sb.set_faults(script=["drop_after"], paths=ADD)  # booked, then the connection is cut
    with caplog.at_level(logging.INFO, logger="bt_explore.client"):
        appointment = client.book(slot["id"], ADA)
    assert appointment["class"] == "APPOINTMENT"
    assert len(sb.appointments()) == before + 1
    assert len(booked(sb, appointment["customId"])) == 1
    assert len(adds(sb)) == 1  # never re-sent
    assert sb.api_requests[-1].path.endswith(f"/appointment/{appointment['customId']}/identify")
    assert any("exists despite the lost answer" in r.getMessage() for r in caplog.records)


def test_dropped_request_raises_saying_no_booking_was_made(client, slot, sb):
    before = len(sb.appointments())
    sb.set_faults(script=["drop"], paths=ADD)  # closed before the booking is processed
    with pytest.raises(TransportError) as info:
        client.book(slot["id"], ADA, custom_id="lost-1")
    assert "no booking was made" in str(info.value)
    assert "safe to book again" in str(info.value)
    assert info.value.sent is False
    assert len(sb.appointments()) == before
    assert len(adds(sb)) == 1
    # and booking again really is safe
    assert client.book(slot["id"], ADA, custom_id="lost-1")["customId"] == "lost-1"
    assert len(booked(sb, "lost-1")) == 1


def test_503_on_add_is_not_retried_and_is_settled_by_identify(client, slot, sb):
    sb.set_faults(script=[503], paths=ADD)
    with pytest.raises(ServerError) as info:
        client.book(slot["id"], ADA)
    assert info.value.status_code == 503
    assert "no booking was made" in str(info.value)
    assert len(adds(sb)) == 1


def test_outcome_unknown_when_identify_fails_too(client, slot, sb):
    # booked but the answer is lost, then identify is dropped on every (re)try
    sb.set_faults(script=["drop_after"] + ["drop"] * 4, paths=ADD_OR_IDENTIFY)
    with pytest.raises(BookingOutcomeUnknown) as info:
        client.book(slot["id"], ADA, custom_id="unknown-1")
    assert info.value.custom_id == "unknown-1"
    assert "appointment_by_custom_id('unknown-1')" in str(info.value)
    assert len(adds(sb)) == 1
    sb.clear_faults()
    # the advice in the message works: the booking exists, exactly once
    assert client.appointment_by_custom_id("unknown-1")["customId"] == "unknown-1"
    assert len(booked(sb, "unknown-1")) == 1


def test_a_401_on_add_is_resent_once_and_books_once(client, slot, sb):
    sb.expire_tokens()
    appointment = client.book(slot["id"], ADA)
    assert [r.status for r in adds(sb)] == [401, 201]
    assert len(booked(sb, appointment["customId"])) == 1


@pytest.mark.parametrize(
    "customer,field",
    [
        ({"lastName": "Lovelace", "email": "a@b.de"}, "customer.firstName"),
        ({"firstName": "Ada", "email": "a@b.de"}, "customer.lastName"),
        ({"firstName": "Ada", "lastName": "Lovelace", "email": "not-an-email"}, "customer.email"),
        ({"firstName": "Ada", "lastName": "Lovelace"}, "customer.email"),  # template requires it
    ],
)
def test_customer_is_checked_before_sending(client, slot, sb, customer, field):
    sb.clear_requests()
    with pytest.raises(ValidationError) as info:
        client.book(slot["id"], customer)
    assert field in info.value.fields
    assert info.value.status_code is None
    assert str(info.value).startswith("not sent: POST …/organization/")
    assert sb.requests == []


def test_the_template_of_a_listed_slot_is_remembered(client, sb):
    massage = client.template_by_custom_id("massage")  # mobile required, email not
    slot = client.earliest_slot(massage["id"])["bookingSlotList"][0]
    sb.clear_requests()
    with pytest.raises(ValidationError) as info:
        client.book(slot["id"], {"firstName": "Ada", "lastName": "Lovelace"})
    assert info.value.fields == ("customer.mobile",)
    assert sb.requests == []
    appointment = client.book(
        slot["id"], {"firstName": "Ada", "lastName": "Lovelace", "mobile": "+49 151 23456789"}
    )
    assert appointment["customer"]["mobile"] == "+49 151 23456789"


def test_template_can_be_given_as_dict_or_id(client, sb):
    home = client.template_by_custom_id("home-visit")  # appointment address + mobile required
    customer = {"firstName": "Ada", "lastName": "Lovelace", "mobile": "+49 151 23456789"}
    fresh = Client(client.settings, clock=sb.now)  # knows no templates or slots yet
    for template in (home, home["id"]):
        with pytest.raises(ValidationError) as info:
            fresh.book("4f" + "a" * 30, customer, template=template)
        assert info.value.fields == ("address",)
    fresh.close()


def test_unknown_template_still_checks_names(client, sb):
    sb.clear_requests()
    with pytest.raises(ValidationError) as info:
        client.book("4f" + "a" * 30, {"firstName": "", "lastName": "X"})
    assert info.value.fields == ("customer.firstName",)
    assert sb.requests == []


def test_move_and_cancel(client, sb):
    template = client.templates()[0]
    first, second = client.earliest_slot(template["id"])["bookingSlotList"][:2]
    appointment = client.book(first["id"], ADA)
    moved = client.move(appointment["id"], second["id"])
    assert moved["moved"] is True and moved["start"] == second["timestamp"]
    canceled = client.cancel(appointment["id"])
    assert canceled["canceled"] is True


def test_booking_when_the_server_is_down_is_not_sent(sb, client, slot):
    sb.stop()
    with pytest.raises(TransportError) as info:
        client.book(slot["id"], ADA)
    assert info.value.sent is False
    assert "safe to book again" in str(info.value)


def test_booking_when_the_auth_server_is_unreachable_is_not_sent(sb):
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    settings = Settings(
        client_id=sb.client_id,
        organization_id=sb.organization_id,
        auth_url=f"http://127.0.0.1:{port}/oauth/token",
        api_url=sb.api_url,
        env_file=None,
    )
    with Client(settings, retry=default_retry(backoff_factor=0)) as client:
        with pytest.raises(TransportError) as info:
            client.book("4f" + "a" * 30, ADA, template={})
    assert info.value.sent is False
    assert "was not sent" in str(info.value)
    assert sb.api_requests == []
