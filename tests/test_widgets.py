"""The booking explorer, driven headlessly (``.value =``, ``.click()``) against a real Sandbox."""

from __future__ import annotations

import logging
import threading
from datetime import date, timedelta

import pytest

import bt_explore
from bt_explore import errors
from bt_explore.client import Client
from bt_explore.sandbox import Sandbox
from bt_explore.widgets import BookingExplorer

NOW = "2026-12-01T09:00:00+01:00"  # a Tuesday, in the demo organization's Europe/Berlin
WALKTHROUGH = "fc12345678910AbcDefGh1112131415a"  # email required, 60 min, 99.99 EUR
MASSAGE = "fcyqesBhPT0MPaIrlh9dZMl65o6mSmCg"  # mobile required, email not
CONSULTATION = "fcP2Kty7Xo5ziREDUTnAcJ42GeNi5SeT"  # email and customer address required


@pytest.fixture(scope="module")
def sb():
    with Sandbox(now=NOW) as sandbox:
        yield sandbox


@pytest.fixture
def client(sb):
    sb.clear_faults()
    c = bt_explore.connect(sandbox=sb)
    yield c
    c.close()


@pytest.fixture
def app(client, sb):
    explorer = BookingExplorer(client, background=False, clock=sb.now)
    yield explorer
    explorer.close()


def add_requests(sb: Sandbox) -> list:
    return [r for r in sb.requests if r.method == "POST" and r.path.endswith("/appointment/add")]


def api_count(sb: Sandbox) -> int:
    return len(sb.api_requests)


def fill(app: BookingExplorer, **values: str) -> None:
    defaults = {"first_name": "Jane", "last_name": "Doe", "email": "jane.doe@example.com"}
    for name, value in {**defaults, **values}.items():
        app.fields[name].value = value


def slot_ids(app: BookingExplorer) -> list[str]:
    return [value for _label, value in app.slot_buttons.options]


# -- loading, labels, description ---------------------------------------------------------------


def test_templates_load_with_readable_labels_and_description(app):
    labels = [label for label, _ in app.template_dropdown.options]
    assert "Test AppointmentTemplate · 60 min · 99.99 EUR" in labels
    assert app.template_dropdown.value == WALKTHROUGH
    text = app.description.value
    for part in ("60 min", "99.99 EUR", "up to 14 days ahead", "120 min in advance", "email"):
        assert part in text
    assert app.fields["email"].description == "Email *"
    assert app.fields["first_name"].description == "First name *"
    assert app.fields["mobile"].description == "Mobile"
    assert app.book_button.disabled  # no time chosen yet
    assert "Choose a free time" in app.book_feedback.value


def test_required_marks_follow_the_template(app):
    app.template_dropdown.value = MASSAGE
    assert app.fields["mobile"].description == "Mobile *"
    assert app.fields["email"].description == "Email"
    app.template_dropdown.value = CONSULTATION
    assert [app.fields[n].description for n in ("street", "zip", "city")] == [
        "Street *",
        "ZIP *",
        "City *",
    ]
    assert "street" in app.description.value


# -- the booking flow ------------------------------------------------------------------------------


def test_pick_earliest_fill_book_shows_booking_and_removes_slot(app, sb):
    app.template_dropdown.value = WALKTHROUGH
    app.earliest_button.click()
    assert app.controller.status.level == "success", app.controller.status
    slot = app.slot_buttons.value
    assert slot is not None and slot in slot_ids(app)
    assert slot == slot_ids(app)[0]  # the earliest of its day's times
    label = dict((v, k) for k, v in app.slot_buttons.options)[slot]
    assert label in ("11:00 · Dr. Anna Schmidt", "11:00 · Ben Müller")
    # the earliest slot honours the 120 min lead time of the pinned clock (09:00 → ≥ 11:00)
    assert app.controller.slot.start.isoformat() >= "2026-12-01T11:00:00+01:00"
    assert app.controller.slot.start.utcoffset() == timedelta(hours=1)
    assert not app.book_button.disabled  # the form is still empty: a click says what is missing

    fill(app)
    assert not app.book_button.disabled
    before = len(add_requests(sb))
    app.book_button.click()

    assert len(add_requests(sb)) == before + 1
    status = app.controller.status
    assert status.level == "success", status
    booking = app.controller.bookings[-1]
    assert booking["id"].startswith("ed")
    assert booking["id"] in app.bookings_html.value
    assert booking["id"] in status.text and "Europe/Berlin" in status.text
    assert booking["id"] in app.confirmation.value
    assert slot not in slot_ids(app)  # the list was refreshed from the server
    assert [value for _, value in app.booking_dropdown.options] == [booking["id"]]
    assert app.book_button.disabled  # no slot chosen any more
    assert f"Booked {booking['id']}" in app.book_feedback.value
    frame = app.controller.bookings_frame()
    assert len(frame) == 1


def test_slot_taken_by_someone_else_gives_message_and_fresh_list(app, sb):
    app.template_dropdown.value = WALKTHROUGH
    app.earliest_button.click()
    slot = app.slot_buttons.value
    fill(app)
    with bt_explore.connect(sandbox=sb) as other:
        other.book(slot, {"firstName": "Max", "lastName": "Other", "email": "max@example.com"})

    app.book_button.click()

    status = app.controller.status
    assert status.level == "warning"
    assert "taken" in status.text and "refreshed" in status.text
    assert "taken" in app.book_feedback.value  # beside the button that was clicked
    assert slot not in slot_ids(app)
    assert app.controller.bookings == []
    # still usable: the next slot books fine
    app.earliest_button.click()
    assert app.slot_buttons.value not in (None, slot)
    app.book_button.click()
    assert app.controller.status.level == "success"
    assert len(app.controller.bookings) == 1


def test_invalid_email_sends_nothing_and_marks_the_field(app, sb):
    app.earliest_button.click()
    fill(app, email="jane.doe@example")
    assert not app.book_button.disabled  # enabled: clicking it says what is wrong
    assert app.fields["email"].style.background  # marked while typing
    before = len(sb.requests)

    app.book_button.click()

    assert len(sb.requests) == before
    assert app.controller.status.level == "error"
    assert "Email" in app.controller.status.text
    assert "not a valid email" in app.field_errors["email"].value
    assert "Email (not a valid email address" in app.book_feedback.value
    assert app.fields["email"].style.background


def test_missing_required_field_sends_nothing_and_marks_it(app, sb):
    app.earliest_button.click()
    app.fields["first_name"].value = "Jane"
    app.fields["email"].value = "jane@example.com"
    assert app.field_errors["last_name"].value == ""  # untouched fields are not nagged
    before = len(sb.requests)

    app.book_button.click()

    assert len(sb.requests) == before
    assert "required" in app.field_errors["last_name"].value
    assert app.fields["last_name"].style.background
    assert "Last name" in app.controller.status.text
    app.fields["last_name"].value = "Doe"
    assert app.field_errors["last_name"].value == ""
    assert not app.book_button.disabled


def test_partial_address_needs_the_rest(app, sb):
    app.earliest_button.click()
    fill(app, street="Hauptstraße 1")
    assert set(app.controller.form_errors) == {"zip", "city"}
    before = len(sb.requests)
    app.book_button.click()
    assert len(sb.requests) == before
    for name in ("zip", "city"):
        assert "an address has street, ZIP and city" in app.field_errors[name].value
    assert "Address: also ZIP and City, or leave it empty" in app.book_feedback.value
    app.fields["street"].value = ""  # or leave the address out altogether
    assert app.controller.form_errors == {}
    assert "Fill in" not in app.book_feedback.value


def test_server_fault_shows_message_and_app_stays_usable(app, sb):
    sb.set_faults(script=[500], paths=r"earliest")
    app.earliest_button.click()
    status = app.controller.status
    assert status.level == "error"
    assert "500" in status.text and "again" in status.text
    assert not app.earliest_button.disabled

    app.earliest_button.click()
    assert app.controller.status.level == "success"
    fill(app)
    sb.set_faults(script=[500], paths=r"appointment/add")
    app.book_button.click()
    assert app.controller.status.level == "error"
    assert app.controller.bookings == []
    sb.clear_faults()
    app.book_button.click()
    assert app.controller.status.level == "success"
    assert len(app.controller.bookings) == 1


def test_double_click_on_book_makes_one_appointment(app, sb):
    app.earliest_button.click()
    fill(app)
    before = len(add_requests(sb))
    app.book_button.click()
    app.book_button.click()
    assert len(add_requests(sb)) == before + 1
    assert len(app.controller.bookings) == 1


class _GatedClient:
    """Delegates to a real client but holds one method until the test opens the gate."""

    def __init__(self, client: Client, method: str = "book", *, armed: bool = True) -> None:
        self._client = client
        self._method = method
        self.armed = armed  # only an armed gate holds calls
        self.entered = threading.Event()
        self.gate = threading.Event()

    def __getattr__(self, name):
        real = getattr(self._client, name)
        if name != self._method or not self.armed:
            return real

        def gated(*args, **kwargs):
            self.entered.set()
            assert self.gate.wait(10), "test never opened the gate"
            return real(*args, **kwargs)

        return gated


def test_double_click_while_booking_runs_in_background_makes_one_appointment(client, sb):
    gated = _GatedClient(client)
    app = BookingExplorer(gated, background=True, clock=sb.now)
    try:
        assert app.wait(10)
        app.earliest_button.click()
        assert app.wait(10)
        fill(app)
        before = len(add_requests(sb))

        app.book_button.click()
        assert gated.entered.wait(10)
        assert app.book_button.disabled  # disabled while the request runs
        app.book_button.click()  # impatient second click while the first is in flight
        assert "already being sent" in app.controller.status.text
        gated.gate.set()
        assert app.wait(10)

        assert len(add_requests(sb)) == before + 1
        assert len(app.controller.bookings) == 1
        assert app.controller.status.level == "success"
    finally:
        gated.gate.set()
        app.close()


def test_background_fetch_keeps_the_caller_free_and_updates_widgets(client, sb):
    gated = _GatedClient(client, "templates")
    app = BookingExplorer(gated, background=True, clock=sb.now)
    try:
        # the constructor returned while the worker still waits for the templates
        assert gated.entered.wait(10)
        assert app.template_dropdown.options == ()
        assert app.controller.status.level == "busy"
        assert "Loading templates" in app.status.value
        gated.gate.set()
        assert app.wait(10)
        assert app.template_dropdown.options
        assert "earliest bookable day" in app.controller.status.text
        app.earliest_button.click()
        assert app.wait(10)
        assert app.slot_buttons.value is not None
    finally:
        gated.gate.set()
        app.close()


def test_switching_template_during_a_fetch_drops_the_stale_answer(client, sb):
    gated = _GatedClient(client, "earliest_slot", armed=False)
    app = BookingExplorer(gated, background=True, clock=sb.now)
    try:
        assert app.wait(10)
        gated.armed = True
        app.earliest_button.click()
        assert gated.entered.wait(10)
        assert app.earliest_button.disabled  # busy
        app.template_dropdown.value = MASSAGE  # the user moves on while the request runs
        gated.gate.set()
        assert app.wait(10)
        assert app.controller.template_id == MASSAGE
        # the walkthrough template's answer was dropped: the times are the massage's own
        day = app.controller.day
        massage = {s["id"] for s in client.slots_day(MASSAGE, day)["list"]}
        assert slot_ids(app) and set(slot_ids(app)) == massage
        assert app.slot_buttons.value is None  # picking a template chooses no time
        assert "Massage" in app.controller.status.text
        assert not app.earliest_button.disabled
    finally:
        gated.gate.set()
        app.close()


def test_a_lost_answer_to_book_still_books_exactly_once(app, sb):
    app.earliest_button.click()
    fill(app)
    before = len(add_requests(sb))
    sb.set_faults(script=["drop_after"], paths=r"appointment/add")

    app.book_button.click()

    assert len(add_requests(sb)) == before + 1
    assert app.controller.status.level == "success"
    assert len(app.controller.bookings) == 1
    booking = app.controller.bookings[0]
    assert app.controller.client.appointment(booking["id"])["canceled"] is False


def test_cancel_frees_the_slot(app, sb):
    app.earliest_button.click()
    slot = app.slot_buttons.value
    fill(app)
    app.book_button.click()
    booking_id = app.controller.bookings[-1]["id"]
    assert slot not in slot_ids(app)

    app.booking_dropdown.value = booking_id
    app.cancel_button.click()

    status = app.controller.status
    assert status.level == "success" and booking_id in status.text
    assert slot in slot_ids(app)  # the earliest slot is free again
    assert app.booking_dropdown.options == ()
    assert app.cancel_button.disabled
    assert app.controller.bookings[-1]["canceled"] is True
    assert f"Canceled {booking_id}" in app.cancel_feedback.value  # beside Cancel
    frame = app.controller.bookings_frame()
    assert len(frame) == 1


# -- browsing ----------------------------------------------------------------------------------


def test_day_and_week_browsing(app):
    app.template_dropdown.value = MASSAGE
    app.date_picker.value = date(2026, 12, 2)
    assert app.controller.showing == "day"
    day_slots = slot_ids(app)
    assert day_slots
    assert all(s.start.date() == date(2026, 12, 2) for s in app.controller.slots)

    app.mode_toggle.value = "week"
    week = app.controller.slots
    assert len(week) > len(day_slots)
    assert {s.start.isocalendar()[1] for s in week} == {49}

    app.next_button.click()
    assert app.date_picker.value == date(2026, 12, 9)
    assert {s.start.isocalendar()[1] for s in app.controller.slots} == {50}

    app.mode_toggle.value = "day"
    app.prev_button.click()
    assert app.date_picker.value == date(2026, 12, 8)


def test_a_closed_day_says_no_free_slots(app):
    app.date_picker.value = date(2026, 12, 6)  # a Sunday: closed
    status = app.controller.status
    assert status.level == "warning"
    assert "No free slots on Sun 06 Dec 2026" in status.text
    assert app.slot_buttons.options == ()


def test_browsing_before_today_is_refused(app, sb):
    app.date_picker.value = date(2026, 12, 2)
    app.date_picker.value = date(2026, 12, 1)
    before = len(sb.requests)
    app.prev_button.click()
    assert len(sb.requests) == before
    assert "Tue 01 Dec 2026 is the first bookable day" in app.date_note.value
    assert app.date_picker.value == date(2026, 12, 1)
    app.next_button.click()  # the note spoke of that edge: it goes when the date moves on
    assert app.date_note.value == ""


class _EmptyEarliest:
    def __init__(self, client: Client) -> None:
        self._client = client

    def __getattr__(self, name):
        return getattr(self._client, name)

    def earliest_slot(self, template_id):
        answer = self._client.earliest_slot(template_id)
        return {**answer, "bookingSlotList": []}


def test_no_free_slots_says_so(client, sb):
    app = BookingExplorer(_EmptyEarliest(client), background=False, clock=sb.now)
    try:
        app.earliest_button.click()
        assert app.controller.status.level == "warning"
        assert "No free slots in the next 14 days" in app.controller.status.text
        assert app.slot_buttons.options == ()
    finally:
        app.close()


# -- errors are never silent -------------------------------------------------------------------


class _Broken:
    def __init__(self, client: Client, **failures: BaseException) -> None:
        self._client = client
        self._failures = failures

    def __getattr__(self, name):
        if name in self._failures:

            def fail(*args, **kwargs):
                raise self._failures[name]

            return fail
        return getattr(self._client, name)


def test_unexpected_exception_becomes_a_message_and_a_log_record(client, sb, caplog):
    caplog.set_level(logging.INFO, logger="bt_explore.widgets")
    app = BookingExplorer(
        _Broken(client, earliest_slot=RuntimeError("kaboom")), background=False, clock=sb.now
    )
    try:
        app.earliest_button.click()
        assert app.controller.status.level == "error"
        assert "RuntimeError: kaboom" in app.controller.status.text
        assert "kaboom" in app.status.value
        records = [r for r in caplog.records if r.name == "bt_explore.widgets"]
        assert any(r.levelno >= logging.ERROR and r.exc_info for r in records)
        assert not app.earliest_button.disabled
    finally:
        app.close()


def test_transport_error_gives_a_retry_hint(client, sb):
    failing = _Broken(client, earliest_slot=errors.TransportError("connection refused"))
    app = BookingExplorer(failing, background=False, clock=sb.now)
    try:
        app.earliest_button.click()
        assert app.controller.status.level == "error"
        assert "Could not reach bookingtime" in app.controller.status.text
        assert "retry" in app.controller.status.text
    finally:
        app.close()


def test_server_validation_error_marks_the_named_field(client, sb):
    rejection = errors.ValidationError(
        400,
        "POST",
        sb.api_url + "en/organization/x/appointment/add",
        [errors.Message("failure", "customer.email", "This parameter is invalid.")],
    )
    app = BookingExplorer(_Broken(client, book=rejection), background=False, clock=sb.now)
    try:
        app.earliest_button.click()
        fill(app)
        app.book_button.click()
        assert app.controller.status.level == "error"
        assert "customer.email" in app.controller.status.text
        assert "This parameter is invalid." in app.field_errors["email"].value
        assert "customer.email" in app.book_feedback.value
        app.book_button.click()  # the same email again: refused here, nothing sent
        assert "Email (This parameter is invalid.)" in app.book_feedback.value
        app.fields["email"].value = "jane.d@example.com"
        assert app.field_errors["email"].value == ""
        assert "Fill in" not in app.book_feedback.value
    finally:
        app.close()


def test_load_failure_is_shown_and_reload_recovers(client, sb):
    flaky = _Broken(client, templates=errors.TransportError("connection reset"))
    app = BookingExplorer(flaky, background=False, clock=sb.now)
    try:
        assert app.controller.status.level == "error"
        assert app.template_dropdown.options == ()
        flaky._failures.clear()
        app.reload_button.click()
        assert app.template_dropdown.options
        assert app.controller.status.level == "success"
        assert slot_ids(app)  # and the first template's earliest day is on show
    finally:
        app.close()


def test_a_client_owning_a_pinned_sandbox_sets_today():
    from bt_explore.connection import connect

    with connect(mode="sandbox", now="2027-03-01T10:00:00+01:00") as owned:
        app = BookingExplorer(owned, background=False)
        try:
            assert app.controller.today() == date(2027, 3, 1)
            assert app.date_picker.value == date(2027, 3, 1)
            app.next_button.click()
            assert app.controller.status.level == "success"
        finally:
            app.close()


def test_displayable_as_a_widget(app):
    import ipywidgets

    assert isinstance(app, ipywidgets.VBox)
    bundle = app._repr_mimebundle_()
    assert "application/vnd.jupyter.widget-view+json" in bundle
