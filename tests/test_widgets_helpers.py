"""The explorer's pure helpers: labels, template summaries, form validation, error messages."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from bt_explore import errors
from bt_explore.widgets import (
    ExplorerController,
    Slot,
    customer_payload,
    describe_error,
    form_summary,
    required_fields,
    template_label,
    template_summary,
    validate_customer,
)

WALKTHROUGH = {  # bookingtime's own example template, as far as the explorer reads it
    "id": "fc12345678910AbcDefGh1112",
    "name": "Test AppointmentTemplate",
    "duration": 60,
    "price": {"class": "PRICE", "priceGross": 99.99, "taxRate": 19, "currency": "EUR"},
    "showPrice": True,
    "priceGross": 99.99,
    "currency": "EUR",
    "taxRate": 19,
    "description": "Zeile1 Zeile2",
    "appointmentAddressRequired": False,
    "customerAddressRequired": False,
    "customerEmailRequired": True,
    "customerMobileRequired": False,
    "bookingDayEarliest": 0,
    "bookingDayLatest": 14,
    "bookingLeadTime": 120,
}
URL = "http://127.0.0.1:1/module/v3/en/organization/f6x/appointment/add"


def test_template_label_reads_name_duration_price():
    assert template_label(WALKTHROUGH) == "Test AppointmentTemplate · 60 min · 99.99 EUR"
    assert template_label({"name": "Free", "duration": 15, "price": None}) == "Free · 15 min"
    assert (
        template_label({**WALKTHROUGH, "showPrice": False}) == "Test AppointmentTemplate · 60 min"
    )
    assert template_label({"id": "fcx"}) == "fcx"


def test_template_summary_names_window_and_required_fields():
    summary = template_summary(WALKTHROUGH)
    assert summary["Duration"] == "60 min"
    assert summary["Price"] == "99.99 EUR incl. 19 % tax"
    assert (
        summary["Booking window"] == "from today up to 14 days ahead, at least 120 min in advance"
    )
    assert summary["Required customer fields"] == "first name, last name, email"
    assert summary["Description"] == "Zeile1 Zeile2"
    sparse = template_summary({"address": [], "price": []})
    assert sparse["Duration"] == "unknown" and sparse["Price"] == "not given"


@pytest.mark.parametrize(
    ("flags", "expected"),
    [
        ({}, ("first_name", "last_name")),
        ({"customerMobileRequired": True}, ("first_name", "last_name", "mobile")),
        ({"customerAddressRequired": True}, ("first_name", "last_name", "street", "zip", "city")),
        (
            {"appointmentAddressRequired": True},
            ("first_name", "last_name", "street", "zip", "city"),
        ),
    ],
)
def test_required_fields_follow_the_flags(flags, expected):
    assert required_fields(flags) == expected


@pytest.mark.parametrize(
    ("values", "problems"),
    [
        ({"first_name": "A", "last_name": "B", "email": "a@b.de"}, {}),
        ({"first_name": " ", "last_name": "B", "email": "a@b.de"}, {"first_name": "required"}),
        ({"first_name": "A", "last_name": "B"}, {"email": "required"}),
        ({"first_name": "A", "last_name": "B", "email": "a@b"}, {"email": "not a valid"}),
        ({"first_name": "A", "last_name": "B", "email": "a b@c.de"}, {"email": "not a valid"}),
        (
            {"first_name": "A", "last_name": "B", "email": "a@b.de", "mobile": "12"},
            {"mobile": "phone"},
        ),
        (
            {
                "first_name": "A",
                "last_name": "B",
                "email": "a@b.de",
                "mobile": "+49 (170) 123-4567",
            },
            {},
        ),
        (
            {"first_name": "A", "last_name": "B", "email": "a@b.de", "city": "Berlin"},
            {"street": "an address has street, ZIP and city", "zip": "leave all three empty"},
        ),
        (
            {
                "first_name": "A",
                "last_name": "B",
                "email": "a@b.de",
                "street": "S 1",
                "zip": "!",
                "city": "Berlin",
            },
            {"zip": "postal code"},
        ),
    ],
)
def test_validate_customer(values, problems):
    found = validate_customer(values, WALKTHROUGH)
    assert set(found) == set(problems)
    for name, part in problems.items():
        assert part in found[name]


def test_customer_payload_leaves_empty_fields_out_and_sends_whole_addresses():
    values = {"first_name": " Jane ", "last_name": "Doe", "email": "", "mobile": "+49 170 1"}
    assert customer_payload(values) == {
        "firstName": "Jane",
        "lastName": "Doe",
        "mobile": "+49 170 1",
    }
    values.update(street="Hauptstraße 1", zip="10115", city="Berlin")
    assert customer_payload(values, country="DE")["address"] == {
        "street": "Hauptstraße 1",
        "zip": "10115",
        "city": "Berlin",
        "country": "DE",
    }


def test_slot_label_shows_local_time_and_resources():
    berlin = ZoneInfo("Europe/Berlin")
    slot = Slot(
        "4fx",
        datetime(2026, 3, 29, 9, 0, tzinfo=berlin),
        datetime(2026, 3, 29, 10, 30, tzinfo=berlin),
        ("br1", "br2"),
        ("Dr. Anna Schmidt", "Room 1"),
    )
    assert slot.label == "Sun 29 Mar 2026 09:00–10:30 · Dr. Anna Schmidt, Room 1"


@pytest.mark.parametrize(
    ("exc", "words"),
    [
        (errors.TransportError("timed out", method="GET", url=URL), ["Could not reach", "retry"]),
        (errors.ServerError(500, "GET", URL), ["500", "again"]),
        (errors.RateLimited(429, "GET", URL, retry_after=3.0), ["wait 3 s"]),
        (errors.AuthenticationError(401, "POST", URL), ["Authentication failed"]),
        (errors.PermissionDenied(403, "GET", URL), ["Not allowed"]),
        (errors.BookingOutcomeUnknown("bt42", "dropped"), ["bt42", "appointment_by_custom_id"]),
        (
            errors.SlotUnavailable(
                400, "POST", URL, [errors.Message("failure", "bookingSlotId", "Taken.")]
            ),
            ["no longer available", "Taken."],
        ),
        (
            errors.ValidationError(
                400, "POST", URL, [errors.Message("failure", "customer.email", "Invalid.")]
            ),
            ["rejected", "customer.email: Invalid."],
        ),
        (KeyError("x"), ["Unexpected error: KeyError", "log"]),
    ],
)
def test_describe_error_is_clear_and_says_what_to_do(exc, words):
    text = describe_error(exc)
    for word in words:
        assert word in text


def test_controller_actions_never_raise_and_log(caplog):
    class Down:
        def organization(self):
            raise errors.TransportError("connection refused")

    ctl = ExplorerController(Down())
    seen = []
    ctl.add_listener(lambda c: seen.append(c.status.level))
    ctl.load()
    assert ctl.status.level == "error"
    assert "Could not reach bookingtime" in ctl.status.text
    assert seen[0] == "busy" and seen[-1] == "error"
    assert not ctl.busy
    assert any(r.name == "bt_explore.widgets" for r in caplog.records)
    ctl.set_field("nickname", "x")  # an unknown field is a visible error, not an exception
    assert "nickname" in ctl.status.text
    ctl.find_earliest()
    assert ctl.status.text == "Pick a template first."


def test_form_summary_names_each_field_and_why():
    problems = validate_customer(
        {"first_name": "A", "email": "a@b", "street": "Weg 1"}, WALKTHROUGH
    )
    assert form_summary(problems) == (
        "Fill in: Last name (required); "
        "Email (not a valid email address (like name@example.com)); "
        "Address: also ZIP and City, or leave it empty."
    )
    assert form_summary({}) == ""


def test_a_required_address_is_required_not_partial():
    template = {**WALKTHROUGH, "customerAddressRequired": True}
    values = {"first_name": "A", "last_name": "B", "email": "a@b.de", "street": "Weg 1"}
    assert validate_customer(values, template) == {"zip": "required", "city": "required"}
    assert form_summary(validate_customer(values, template)) == (
        "Fill in: ZIP (required); City (required)."
    )


def test_slot_time_label_is_short_for_a_button():
    berlin = ZoneInfo("Europe/Berlin")
    start = datetime(2026, 12, 7, 9, 15, tzinfo=berlin)
    assert Slot("4f", start, None, ("br1",), ("Anna",)).time_label == "09:15 · Anna"
    assert Slot("4f", start, None, (), ()).time_label == "09:15"


def test_a_fresh_controller_says_what_book_needs():
    ctl = ExplorerController(None)
    assert not ctl.can_book
    assert ctl.book_feedback is not None and ctl.book_feedback.text == "Pick a template first."
    assert ctl.date_note == "" and ctl.cancel_message is None and ctl.last_booking is None


@pytest.mark.parametrize(
    ("url", "server"),
    [
        ("https://api.bookingtime.com/module/v3/en/x", "Could not reach bookingtime:"),
        ("http://127.0.0.1:9301/module/v3/en/x", "Could not reach the sandbox at 127.0.0.1:9301:"),
        ("http://localhost:9301/module/v3/en/x", "Could not reach the sandbox at localhost:9301:"),
    ],
)
def test_an_unreachable_server_is_named_for_what_it_is(url, server):
    text = describe_error(errors.TransportError("connection refused", method="GET", url=url))
    assert text.startswith(server), text
