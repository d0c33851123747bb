"""The user-level flows against both answer dialects of the sandbox: the walkthrough as printed
(``tests/test_walkthrough_verbatim.py``), every client method, every frame, a scan, the
explorer's booking flow and record/replay. In the ``php`` dialect the sandbox answers in the
shapes of bookingtime's PHP backend (``"recordTotal": "1"``, ``[]`` for empty objects, a
success message on reads, ``\\/``); what a user gets must not change.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from typing import Any

import msgspec
import pandas as pd
import pytest
import requests
from _sandbox_http import bearer

import bt_explore
from bt_explore import recording
from bt_explore.client import Client
from bt_explore.endpoints import ENDPOINTS
from bt_explore.sandbox import Sandbox
from bt_explore.sandbox.dialect import DIALECTS, php_body
from bt_explore.scan import scan_slots
from bt_explore.widgets import BookingExplorer
from conftest import SANDBOX_NOW
from tools.endpoint_table import client_methods

WALKTHROUGH = "fc12345678910AbcDefGh1112131415a"  # e-mail required
RESOURCE = "brGFjtkXMX40tDA64ydwg8XmU4Ufnias"
COURSE = "6TqsR6RZ24lPoQj3oPUlieI2nVsbBi1R"  # "nutrition-basics", linked to a template
CUSTOMER = {"firstName": "Ada", "lastName": "Lovelace", "email": "ada@example.org"}


@pytest.fixture(params=DIALECTS)
def dialect(request) -> str:
    return str(request.param)


@pytest.fixture
def sb(dialect) -> Iterator[Sandbox]:
    with Sandbox(now=SANDBOX_NOW, dialect=dialect) as sandbox:
        yield sandbox


@pytest.fixture
def client(sb) -> Iterator[Client]:
    with bt_explore.connect(sandbox=sb) as c:
        yield c


def test_the_php_dialect_sends_the_sdks_shapes(sb, client, dialect):
    """What the dialect changes on the wire (and that ``clean`` changes nothing)."""
    raw = requests.get(client.url("template_list"), headers=bearer(sb), timeout=5)
    body = raw.json()
    total = body["content"]["recordTotal"]
    raw = requests.get(client.url("organization_show"), headers=bearer(sb), timeout=5)
    if dialect == "php":
        assert total == str(len(body["content"]["recordList"]))
        assert body["messageList"] == [
            {"class": "MESSAGE", "type": "success", "parameter": None, "text": ""}
        ]
        assert b"\\/" in raw.content and b"/" not in raw.content.replace(b"\\/", b"")
        assert int(raw.headers["Content-Length"]) == len(raw.content)
    else:
        assert isinstance(total, int) and body["messageList"] == []
        assert b"\\/" not in raw.content


def test_empty_objects_are_empty_lists_in_php():
    body = (
        b'{"messageList":[],"content":{"class":"APPOINTMENT","customer":null,'
        b'"additionalData":{},"nameI18nList":"","address":null,"name":"M\xc3\xbcller"}}'
    )
    answer = msgspec.json.decode(php_body(body, 200))
    assert answer["content"]["customer"] == [] and answer["content"]["additionalData"] == []
    assert answer["content"]["nameI18nList"] == [] and answer["content"]["address"] is None
    assert b"M\\u00fcller" in php_body(body, 200)
    failure = b'{"messageList":[],"content":null}'
    assert msgspec.json.decode(php_body(failure, 404))["messageList"] == []


def test_every_php_answer_decodes_with_its_declared_model():
    """The models accept the PHP shapes: every read of the SDK's method list decodes strictly."""
    from test_sdk_methods import SDK_METHODS, SdkCalls

    with Sandbox(now=SANDBOX_NOW, dialect="php") as sb:
        sdk = SdkCalls(sb)
        listed = sdk.call("bookingTemplate_list").json()["content"]["recordList"]
        sdk.values["template_custom_id"] = next(t["customId"] for t in listed if t["customId"])
        resources = sdk.call("bookingResource_list").json()["content"]["recordList"]
        sdk.values["resource_custom_id"] = next(r["customId"] for r in resources if r["customId"])
        sdk.values["config"] = sdk.call("moduleConfig_module_show").json()["content"]["id"]
        decoded = 0
        for method, (name, values) in SDK_METHODS.items():
            if ENDPOINTS[name].method != "GET" or "{booked}" in values.values():
                continue
            if name in ("file_download", "static_error", "appointment_identify"):
                continue
            answer = sdk.call(method)
            assert answer.status_code == 200, (method, answer.text[:200])
            msgspec.json.decode(answer.content, type=ENDPOINTS[name].response)
            decoded += 1
        assert decoded >= 30


class _Recorder:
    """A client whose public method calls are counted by name."""

    def __init__(self, client: Client) -> None:
        self.client = client
        self.called: set[str] = set()

    def __getattr__(self, name: str) -> Any:
        self.called.add(name)
        return getattr(self.client, name)


def test_every_client_method(client, sb):
    c = _Recorder(client)
    org = c.organization()
    assert org["id"] == sb.organization_id
    templates = c.templates()
    assert c.template(WALKTHROUGH)["id"] == WALKTHROUGH
    custom = next(t for t in templates if t["customId"])
    assert c.template_by_custom_id(custom["customId"])["id"] == custom["id"]
    assert c.resource_templates(RESOURCE)
    resources = c.resources()
    assert c.resource(RESOURCE)["id"] == RESOURCE
    named = next(r for r in resources if r["customId"])
    assert c.resource_by_custom_id(named["customId"])["id"] == named["id"]
    earliest = c.earliest_slot(WALKTHROUGH)["bookingSlotList"]
    assert c.slots_day(WALKTHROUGH, date(2026, 12, 2))["list"]
    assert c.slots_week(WALKTHROUGH, 2026, 50)["list"]
    assert c.slots_month(WALKTHROUGH, 2026, 12)["list"]
    assert c.slot_period_answer  # the scan's half (used below by scan_slots)
    booked = c.book(earliest[0]["id"], CUSTOMER, template=WALKTHROUGH, custom_id="dialect-1")
    assert c.appointment(booked["id"])["customer"]["lastName"] == "Lovelace"
    assert c.appointment_by_custom_id("dialect-1")["id"] == booked["id"]
    assert c.appointment_protected(booked["id"])["id"] == booked["id"]
    week = c.slots_week(WALKTHROUGH, 2026, 50)["list"]
    assert c.move(booked["id"], week[-1]["id"])["moved"] is True
    stored = c.add_file(booked["id"], "note.txt", b"hi/there")
    assert c.download_file(stored["id"]) == b"hi/there"
    assert c.cancel(booked["id"])["canceled"] is True
    assert len(c.static_list("country")) == len(c.countries()) > 0
    assert c.time_zones() and c.currencies() and c.languages()
    config = c.module_config_for()
    assert c.module_config(config["id"])["id"] == config["id"]
    if config.get("customId"):
        assert c.module_config_by_custom_id(config["customId"])["id"] == config["id"]
    else:  # pragma: no cover - the demo config has one
        pytest.fail("the demo module config has no customId")
    branches = c.branches()
    assert c.organization_by_custom_id(branches[0]["customId"])["id"] == branches[0]["id"]
    assert c.find_organizations("")
    assert c.custom_entity("course", COURSE)["id"] == COURSE
    assert c.custom_entity_by_custom_id("course", "nutrition-basics")["id"] == COURSE
    assert c.custom_entities("course")
    added = c.add_custom_entity("rentalCar", "Audi S5", custom_id="dialect-car")
    assert added["name"] == "Audi S5"
    assert isinstance(c.appointment_custom_entities(booked["id"], "equipment"), list)
    assert c.resource_custom_entities(RESOURCE, "course")
    assert isinstance(c.template_custom_entities(WALKTHROUGH, "course"), list)
    assert isinstance(c.linked_custom_entities(COURSE, "course"), list)
    assert c.custom_entity_templates("course", COURSE)
    assert c.custom_entity_resources("course", COURSE)
    assert c.booking_categories()[0]["bookingCategoryList"]
    every = {m for methods in client_methods().values() for m in methods}
    assert every - c.called == set(), "client methods this test does not call"


def _frames(client: Client, booked: str) -> dict[str, pd.DataFrame]:
    return {
        "templates_df": client.templates_frame(),
        "resources_df": client.resources_frame(),
        "organizations_df": client.branches_frame(),
        "slots_df": client.slots_frame(WALKTHROUGH, date(2026, 12, 1), date(2026, 12, 15)),
        "earliest_slot_df": client.earliest_slot_frame(WALKTHROUGH),
        "appointment_df": client.appointment_frame(booked),
        "custom_entities_df": client.custom_entities_frame("course"),
        "scan": scan_slots(client, None, date(2026, 12, 1), date(2026, 12, 15), progress=False),
    }


def test_every_frame_and_a_scan_are_the_same_in_both_dialects():
    """Same columns, same dtypes, same values: the PHP shapes lose no type in the frames."""
    frames: dict[str, dict[str, pd.DataFrame]] = {}
    for dialect in DIALECTS:
        with Sandbox(now=SANDBOX_NOW, dialect=dialect, seed=3) as sb:
            with bt_explore.connect(sandbox=sb) as client:
                slot = client.earliest_slot(WALKTHROUGH)["bookingSlotList"][0]["id"]
                booked = client.book(slot, CUSTOMER, template=WALKTHROUGH, custom_id="f-1")
                frames[dialect] = _frames(client, booked["id"])
    for name, clean in frames["clean"].items():
        assert len(clean) > 0, name
        pd.testing.assert_frame_equal(frames["php"][name], clean, obj=name)


def test_the_explorers_booking_flow(client, sb):
    explorer = BookingExplorer(client, background=False, clock=sb.now)
    try:
        explorer.template_dropdown.value = WALKTHROUGH
        explorer.earliest_button.click()
        assert explorer.controller.status.level == "success", explorer.controller.status
        for name, value in {
            "first_name": "Jane",
            "last_name": "Doe",
            "email": "j@example.com",
        }.items():
            explorer.fields[name].value = value
        explorer.book_button.click()
        assert explorer.controller.status.level == "success", explorer.controller.status
        booking = explorer.controller.bookings[-1]
        assert booking["id"] in explorer.bookings_html.value
        explorer.cancel_button.click()
        assert sb.appointments()[-1]["canceled"] is True or any(
            a["id"] == booking["id"] and a["canceled"] for a in sb.appointments()
        )
    finally:
        explorer.close()


def test_record_then_replay(dialect, tmp_path, monkeypatch):
    monkeypatch.setenv(recording.CASSETTE_DIR_ENV, str(tmp_path))
    name = f"dialect_{dialect}"

    def flow(client: Client) -> list[Any]:
        slot = client.earliest_slot(WALKTHROUGH)["bookingSlotList"][0]
        booked = client.book(slot["id"], CUSTOMER, template=WALKTHROUGH)
        return [
            client.templates(),
            slot,
            booked["id"],
            client.appointment(booked["id"])["customer"],
        ]

    with bt_explore.connect(mode="record", cassette=name, dialect=dialect) as recorder:
        recorded = flow(recorder)
    cassette = tmp_path / f"{name}.yaml"
    assert recording.find_secrets([cassette]) == []
    if dialect == "php":  # the recording keeps the shapes (its scrub re-encodes the JSON)
        assert '"recordTotal":"' in cassette.read_text()
    with bt_explore.connect(mode="replay", cassette=name) as replayer:
        assert flow(replayer) == recorded


def test_the_openapi_document_declares_both_shapes(sb):
    """``/openapi.json`` (generated from the models) says what the PHP dialect sends."""
    schemas = requests.get(sb.openapi_url, timeout=5).json()["components"]["schemas"]
    total = schemas["List_BookingTemplate_"]["properties"]["recordTotal"]["anyOf"]
    assert {"type": "integer"} in total
    assert {"type": "string", "pattern": "^[0-9]+$"} in total
    for field in ("customer", "additionalData"):
        shapes = schemas["Appointment"]["properties"][field]["anyOf"]
        assert {"type": "array", "maxItems": 0} in shapes, field


def test_an_unknown_dialect_is_named(capsys):
    from bt_explore.cli import main

    assert main(["sandbox", "--port", "0", "--dialect", "perl"]) == 2
    err = capsys.readouterr().err
    assert "--dialect" in err and "'perl' is not one of clean, php" in err
    with pytest.raises(ValueError, match="dialect: 'perl' is not one of clean, php"):
        Sandbox(dialect="perl")
