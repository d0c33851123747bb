"""The client against recorded traffic: cassettes replay with no network and no credentials.

These tests replay ``cassettes/test_*.yaml``. ``bt-explore record`` re-records them (it runs
``pytest -m cassette`` with ``BT_EXPLORE_MODE=record``: against the pinned sandbox by default,
or bookingtime itself with ``--live``), so the same assertions check the live service's answers.
"""

from __future__ import annotations

import os
from datetime import date

import pytest
import vcr.errors

import bt_explore
from bt_explore import recording

pytestmark = pytest.mark.cassette


def _mode() -> str:
    return "record" if os.environ.get("BT_EXPLORE_MODE") == "record" else "replay"


@pytest.fixture
def client(request):
    """A client replaying (or, under ``bt-explore record``, recording) this test's cassette."""
    name = request.node.name.removeprefix("test_")
    client = bt_explore.connect(mode=_mode(), cassette=f"test_{name}")
    yield client
    cassette = client.cassette
    client.close()
    if _mode() == "replay":
        # a request the code no longer sends is a change too: replay must use every answer
        assert cassette.all_played, f"cassette test_{name} holds requests this test no longer sends"


def test_walkthrough(client):
    templates = client.templates()
    walkthrough = next(t for t in templates if t["name"] == "Test AppointmentTemplate")
    earliest = client.earliest_slot(walkthrough["id"])
    assert earliest["timeZone"] == "Europe/Berlin"
    slot = earliest["bookingSlotList"][0]
    customer = {"firstName": "John", "lastName": "Doe", "email": "jd@scrubs.example"}

    appointment = client.book(slot["id"], customer, template=walkthrough)

    assert appointment["class"] == "APPOINTMENT"
    assert appointment["start"] == slot["timestamp"]
    assert appointment["customId"] == "bttestwalkthrough000001"
    assert client.appointment_by_custom_id(appointment["customId"])["id"] == appointment["id"]
    later = client.earliest_slot(walkthrough["id"])["bookingSlotList"]
    assert slot["id"] not in {s["id"] for s in later}, "a booked slot must be gone"
    assert client.cancel(appointment["id"])["canceled"] is True


def test_slots_over_a_range(client):
    template = client.template_by_custom_id("4321")
    frame = client.slots_frame(template["id"], date(2026, 12, 1), date(2026, 12, 29))
    assert len(frame) > 0
    assert frame["start"].min() >= frame["start"].min().normalize()
    assert str(frame["start"].dt.tz) == "Europe/Berlin"
    assert (frame["end"] - frame["start"]).eq(frame["end"].iloc[0] - frame["start"].iloc[0]).all()


def test_errors_replay_as_typed_exceptions(client):
    with pytest.raises(bt_explore.NotFound) as missing:
        client.appointment("ed" + "0" * 30)
    assert missing.value.status_code == 404
    with pytest.raises(bt_explore.ValidationError) as invalid:
        client.call("appointment_add", json={"customer": {"firstName": "No slot"}})
    assert "bookingSlotId" in invalid.value.fields


@pytest.mark.skipif(_mode() == "record", reason="checks replay itself")
def test_a_request_that_was_not_recorded_fails_loudly():
    client = bt_explore.connect(mode="replay", cassette="test_walkthrough")
    try:
        with pytest.raises(vcr.errors.CannotOverwriteExistingCassetteException):
            client.templates(organization_id="f6" + "x" * 30)
    finally:
        client.close()


def test_a_missing_cassette_says_how_to_record_it(tmp_path, monkeypatch):
    monkeypatch.setenv(recording.CASSETTE_DIR_ENV, str(tmp_path))
    with pytest.raises(recording.CassetteMissing, match="bt-explore record"):
        bt_explore.connect(mode="replay", cassette="test_walkthrough")
