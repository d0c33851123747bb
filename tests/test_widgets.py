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
    assert booking["id"] in app.confirmation.value and "Europe/Berlin" in app.confirmation.value
    assert slot not in slot_ids(app)  # the list was refreshed from the server
    assert [value for _, value in app.booking_dropdown.options] == [booking["id"]]
    assert app.book_button.disabled  # no slot chosen any more
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
        assert "Email (This parameter is invalid.)" in app.book_feedback.value
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


# -- the explorer as people meet it (issue 14) ----------------------------------------------------

NUTRITION = "fcHrC4ooCtxgzTY0HK7HUyMhNFl7irat"  # bookable from 7 days ahead


def _classes(app: BookingExplorer) -> dict[str, list]:
    found: dict[str, list] = {}
    for widget in app._walk(app):
        for name in widget._dom_classes:
            found.setdefault(name, []).append(widget)
    return found


def test_every_stable_selector_is_on_exactly_one_widget(app):
    from bt_explore.widgets import FORM_FIELDS, SELECTORS

    expected = [n for n in SELECTORS if "<name>" not in n]
    for f in FORM_FIELDS:
        expected += [f"bt-field-{f.name}", f"bt-field-error-{f.name}"]
    found = _classes(app)
    for name in expected:
        assert len(found.get(name, [])) == 1, name
    assert found["bt-explorer"] == [app]
    assert found["bt-field-email"] == [app.fields["email"]]
    assert found["bt-slots"] == [app.slot_buttons] and found["bt-days"] == [app.day_buttons]
    assert found["bt-book"] == [app.book_button] and found["bt-cancel"] == [app.cancel_button]
    # the bookings table inside its HTML must not take the widget's class (one match per class)
    fill(app)
    app.earliest_button.click()
    app.book_button.click()
    assert "class='bt-bookings-table'" in app.bookings_html.value
    assert "'bt-bookings'" not in app.bookings_html.value


def test_placeholders_cannot_be_taken_for_values(app):
    for text in app.fields.values():
        assert text.placeholder.startswith("e.g. "), text.placeholder
        assert text.value == ""
    assert "::placeholder" in app.title.value and "italic" in app.title.value


def test_book_with_an_untouched_form_names_every_field_beside_the_button(app, sb):
    app.template_dropdown.value = CONSULTATION  # email and the customer's address required
    assert app.book_button.disabled  # no time chosen: and beside the button it says so
    assert "Choose a free time above" in app.book_feedback.value
    app.earliest_button.click()
    assert not app.book_button.disabled
    assert all(e.value == "" for e in app.field_errors.values())  # nobody nagged yet
    before = len(sb.requests)

    app.book_button.click()

    assert len(sb.requests) == before
    feedback = app.book_feedback.value
    for label in ("First name", "Last name", "Email", "Street", "ZIP", "City"):
        assert f"{label} (required)" in feedback, label
    assert "Mobile" not in feedback
    for name in ("first_name", "last_name", "email", "street", "zip", "city"):
        assert "required" in app.field_errors[name].value, name
        assert app.fields[name].style.background, name
    assert app.field_errors["mobile"].value == ""
    assert not app.book_button.disabled  # still clickable, and it keeps saying why

    # the list shrinks as the person fills in, and goes when nothing is left
    fill(app)
    assert "First name" not in app.book_feedback.value
    assert "Street (required)" in app.book_feedback.value
    fill(app, street="Hauptstraße 1", zip="10115", city="Berlin")
    assert "Fill in" not in app.book_feedback.value
    assert "Chosen:" in app.book_feedback.value
    app.book_button.click()
    assert app.controller.status.level == "success", app.controller.status


def test_the_confirmation_belongs_to_its_booking(app):
    def book() -> str:
        app.earliest_button.click()
        fill(app)
        app.book_button.click()
        assert "Booked" in app.confirmation.value
        return app.controller.bookings[-1]["id"]

    # cleared when that booking is canceled
    booking = book()
    app.booking_dropdown.value = booking
    app.cancel_button.click()
    assert app.confirmation.value == ""
    assert "Booked" not in app.book_feedback.value
    assert f"Canceled {booking}" in app.cancel_feedback.value
    app.slot_buttons.value = slot_ids(app)[1]
    assert app.cancel_feedback.value  # it speaks of the bookings: choosing a time keeps it
    # cleared when another slot is chosen; a new booking clears the old cancel message
    book()
    assert app.cancel_feedback.value == ""
    app.slot_buttons.value = slot_ids(app)[1]
    assert app.confirmation.value == ""
    assert "Booked" not in app.book_feedback.value
    assert app.controller.status.text.startswith("Chosen:")
    # cleared when 'Earliest slot' chooses the next free slot for the person
    book()
    app.earliest_button.click()
    assert app.controller.slot_id is not None
    assert app.confirmation.value == ""
    # cleared when the template changes
    book()
    app.template_dropdown.value = MASSAGE
    assert app.confirmation.value == ""
    assert "Booked" not in app.status.value


def test_a_stale_warning_is_replaced_when_a_time_is_chosen(app):
    app.date_picker.value = date(2026, 12, 6)  # a closed Sunday: 'No free slots …'
    assert app.controller.status.level == "warning"
    app.next_button.click()
    app.slot_buttons.value = slot_ids(app)[0]
    assert app.controller.status.level == "info"
    assert "No free slots" not in app.status.value
    assert "Chosen: Mon 07 Dec 2026" in app.status.value


def test_picking_a_template_shows_its_earliest_bookable_day(app, sb):
    assert app.controller.day == date(2026, 12, 1)
    assert app.date_picker.value == date(2026, 12, 1)
    assert slot_ids(app)  # on show at once, not an empty box
    assert app.slot_buttons.value is None  # shown, not chosen for the person

    app.template_dropdown.value = NUTRITION  # bookable from 7 days ahead only

    assert app.controller.day >= date(2026, 12, 8)
    assert app.date_picker.value == app.controller.day
    assert slot_ids(app)
    assert all(s.start.date() == app.controller.day for s in app.controller.slots)
    assert app.slot_buttons.value is None and app.book_button.disabled
    assert "earliest bookable day" in app.controller.status.text


def test_week_view_groups_the_slots_by_day(app):
    widgets_before = len(list(app._walk(app)))
    app.template_dropdown.value = MASSAGE
    app.mode_toggle.value = "week"

    week = app.controller.slots
    assert len(week) > 100
    assert app.day_buttons.layout.display is None  # shown in week view
    labels = [label for label, _ in app.day_buttons.options]
    assert len(labels) == 7
    counts = {d: sum(1 for s in week if s.start.date() == d) for _, d in app.day_buttons.options}
    assert labels[2] == f"Wed 02 Dec · {counts[date(2026, 12, 2)]}"
    assert sum(counts.values()) == len(week)
    # the chosen day's times only, as compact "HH:MM · who" buttons
    day = app.day_buttons.value
    assert len(slot_ids(app)) == counts[day]
    first_label = app.slot_buttons.options[0][0]
    assert first_label[:5].replace(":", "").isdigit() and " · " in first_label
    assert len(app.slot_buttons.tooltips) == len(slot_ids(app))  # the full label on hover

    app.day_buttons.value = date(2026, 12, 3)
    assert app.date_picker.value == date(2026, 12, 3)
    assert len(slot_ids(app)) == counts[date(2026, 12, 3)]
    assert all(s.start.date() == date(2026, 12, 3) for s in app.controller.visible_slots)
    # however many slots, the same few widgets
    assert len(list(app._walk(app))) == widgets_before

    app.mode_toggle.value = "day"
    assert app.day_buttons.layout.display == "none"


def test_a_chosen_time_survives_switching_to_week_view(app):
    app.slot_buttons.value = slot_ids(app)[-1]
    chosen = app.slot_buttons.value
    app.mode_toggle.value = "week"
    assert app.slot_buttons.value == chosen
    assert app.day_buttons.value == app.controller.slot.start.date()
    app.day_buttons.value = date(2026, 12, 4)  # a later day of that week
    assert app.slot_buttons.value is None and app.book_button.disabled


def test_a_typed_past_date_says_so_instead_of_snapping(app, sb):
    before = len(sb.requests)
    app.date_picker.value = date(2026, 11, 20)
    assert app.date_picker.value == date(2026, 12, 1)
    assert (
        "Dates before today (Tue 01 Dec 2026) cannot be booked; showing today."
        in app.date_note.value
    )
    assert all(r.status == 200 for r in sb.requests[before:])  # nothing the server refuses
    assert app.controller.status.level == "success"
    assert app.date_picker.min is None  # the front end must not snap on its own either


def test_a_date_beyond_the_booking_window_says_so(app, sb):
    before = len(sb.requests)
    app.date_picker.value = date(2027, 1, 20)
    assert app.date_picker.value == date(2026, 12, 15)
    assert "beyond the booking window" in app.date_note.value
    assert "up to 14 days ahead" in app.date_note.value
    assert all(r.status == 200 for r in sb.requests[before:])
    app.next_button.click()
    assert "Tue 15 Dec 2026 is the last bookable day" in app.date_note.value
    app.template_dropdown.value = MASSAGE  # the note spoke of the other template
    assert app.date_note.value == ""


def test_a_refused_slot_range_reads_as_a_plain_warning(client, sb):
    refusal = errors.ValidationError(
        400,
        "GET",
        sb.api_url
        + "en/organization/x/bookingTemplate/y/bookingSlot/year/2026/month/12/day/2/listDay",
        [errors.Message("failure", "day", "The requested range ends before today (2026-12-01).")],
    )
    app = BookingExplorer(_Broken(client, slot_period=refusal), background=False, clock=sb.now)
    try:
        app.date_picker.value = date(2026, 12, 2)
        status = app.controller.status
        assert status.level == "warning"
        assert "400" not in status.text and "Bad Request" not in status.text
        assert "bookingtime lists no slots on Wed 02 Dec 2026" in status.text
        assert "ends before today" in status.text
    finally:
        app.close()


def test_the_controller_alone_runs_the_whole_flow(client, sb):
    from bt_explore.widgets import ExplorerController

    ctl = ExplorerController(client, clock=sb.now)
    ctl.start()
    assert ctl.day == date(2026, 12, 1) and ctl.slots and ctl.slot_id is None
    assert ctl.book_feedback.text == "Choose a free time above, then click Book."
    ctl.select_slot(ctl.slots[0].id)
    assert ctl.can_book
    assert ctl.book() is None  # the empty form is refused, with every field named
    assert ctl.book_feedback.level == "error"
    assert ctl.book_feedback.text.startswith("Fill in: First name (required); Last name")
    for name, value in {"first_name": "Ada", "last_name": "L", "email": "ada@example.com"}.items():
        ctl.set_field(name, value)
    booking = ctl.book()
    assert booking and ctl.last_booking == booking
    assert ctl.status.level == "success" and ctl.book_feedback.level == "info"
    ctl.cancel(booking["id"])
    assert ctl.last_booking is None and ctl.cancel_message.level == "success"
    ctl.browse(date(2026, 11, 1), "week")
    assert ctl.day == date(2026, 12, 1) and "Dates before today" in ctl.date_note
    assert [d for d, _ in ctl.days][0] == date(2026, 11, 30)
    ctl.choose_day(date(2026, 12, 2))
    assert {s.start.date() for s in ctl.visible_slots} == {date(2026, 12, 2)}


def test_a_day_without_free_times_says_so(app):
    app.mode_toggle.value = "week"
    empty = next(day for label, day in app.day_buttons.options if label.endswith("· 0"))
    app.day_buttons.value = empty
    assert app.slot_buttons.options == ()
    assert f"No free times on {empty:%a %d %b}" in app.status.value


# -- issue 21: no ghost times, one status that matches the form, one confirmation -------------

HOME_VISIT = "fcIzeHkRNN3eQ2Pkph4dWYAUJkdFvpUW"  # from tomorrow; Thu 03 Dec has no free time


def test_a_day_without_free_times_shows_no_time_buttons(app):
    app.template_dropdown.value = HOME_VISIT
    assert app.controller.day == date(2026, 12, 2) and app.slot_buttons.options
    assert app.slot_buttons.layout.display != "none"
    app.next_button.click()  # Thu 03 Dec: no free slot
    assert "No free slots on Thu 03 Dec 2026" in app.status.value
    assert app.slot_buttons.options == ()
    # a browser keeps the old buttons of an emptied ToggleButtons: the row must go
    assert app.slot_buttons.layout.display == "none"
    app.next_button.click()  # Fri 04 Dec: times again, at a readable width
    assert app.slot_buttons.options and app.slot_buttons.layout.display != "none"
    assert int(app.slot_buttons.style.button_width.rstrip("px")) >= 100
    # week view: a day with '· 0' shows no times either
    app.mode_toggle.value = "week"
    empty = next(day for label, day in app.day_buttons.options if label.endswith("· 0"))
    app.day_buttons.value = empty
    assert app.slot_buttons.options == () and app.slot_buttons.layout.display == "none"


def _labels(text: str) -> set[str]:
    """The form fields a message names."""
    from bt_explore.widgets import FORM_FIELDS

    return {f.label for f in FORM_FIELDS if f.label in text}


def test_after_a_refused_book_the_status_line_follows_the_form(app):
    app.template_dropdown.value = MASSAGE  # mobile required
    app.slot_buttons.value = slot_ids(app)[0]
    app.fields["first_name"].value = "Erika"
    app.fields["mobile"].value = "12"
    app.book_button.click()
    ctl = app.controller
    assert ctl.status.level == "error"
    assert _labels(ctl.status.text) == _labels(ctl.book_feedback.text) == {"Last name", "Mobile"}

    app.fields["last_name"].value = "Mustermann"  # partly fixed: both say what is left
    assert ctl.status.level == "error"
    assert _labels(ctl.status.text) == _labels(ctl.book_feedback.text) == {"Mobile"}

    app.fields["mobile"].value = "+43 660 1234567"  # fixed: no red error stays
    assert ctl.status.level != "error" and "fix the form" not in ctl.status.text
    assert _labels(ctl.status.text) == _labels(ctl.book_feedback.text) == set()
    assert not app.book_button.disabled and "Chosen:" in app.book_feedback.value


def test_after_reload_the_status_says_what_is_chosen_and_old_messages_go(app):
    app.earliest_button.click()
    fill(app)
    app.book_button.click()
    booking = app.controller.bookings[-1]["id"]
    app.booking_dropdown.value = booking
    app.cancel_button.click()
    assert "Canceled" in app.cancel_feedback.value
    chosen = slot_ids(app)[0]
    app.slot_buttons.value = chosen

    app.reload_button.click()

    ctl = app.controller
    assert ctl.slot_id == chosen and app.slot_buttons.value == chosen  # still free, still chosen
    assert "Pick a time" not in ctl.status.text
    assert ctl.slot.label in ctl.status.text
    assert app.cancel_feedback.value == ""


def test_a_booking_is_confirmed_once(app):
    app.earliest_button.click()
    fill(app)
    app.book_button.click()
    booking = app.controller.bookings[-1]["id"]
    places = {
        "status line": app.status.value,
        "beside Book": app.book_feedback.value,
        "below Book": app.confirmation.value,
    }
    assert [name for name, text in places.items() if booking in text] == ["below Book"]
    assert app.controller.status.level == "success"


def test_the_docs_example_prints_no_log_record(tmp_path):
    """docs/widgets.md's 'Driving it from code', run as a reader would (no logging set up, so
    Python prints WARNING and above on stderr): its output is what its comments say, nothing
    else; a refused form is the app's message, not a log record."""
    import subprocess
    import sys

    from _docs import read, sections

    blocks = dict(sections(read("widgets")))["Driving it from code"]
    script = tmp_path / "example.py"
    script.write_text("\n".join(blocks), encoding="utf-8")
    done = subprocess.run(
        [sys.executable, str(script)], cwd=tmp_path, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    assert done.stderr == ""
    assert "Fill in: First name (required)" in done.stdout


def test_an_unreachable_sandbox_is_named_as_the_sandbox(app, sb):
    """A sandbox that stopped is not 'bookingtime': the message names it and what to do."""
    with Sandbox(now=NOW) as gone:
        host = gone.api_url.split("/")[2]
        with bt_explore.connect(sandbox=gone) as client:
            explorer = BookingExplorer(client, background=False, clock=sb.now)
            gone.stop()
            explorer.earliest_button.click()
            text = explorer.controller.status.text
            explorer.close()
    assert f"Could not reach the sandbox at {host}" in text, text
    assert "bookingtime" not in text.split(":")[0]
    assert "still running" in text
