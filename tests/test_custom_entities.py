"""Custom entities end to end: the client against a real sandbox over HTTP.

Demo data (``bt_explore/sandbox/data/custom_entities.json``): the demo practice has courses and
equipment linked to templates, resources, seed appointments and each other; the other
organization has one piece of equipment.
"""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
import requests

from bt_explore import NotFound, PermissionDenied, Sandbox, ValidationError
from bt_explore.frames import CUSTOM_ENTITY_COLUMNS, custom_entities_frame
from bt_explore.sandbox.state import SandboxState

NOW = "2026-12-01T09:00:00+01:00"
MASSAGE = "fcyqesBhPT0MPaIrlh9dZMl65o6mSmCg"
SEMINAR_ROOM = "brGFjtkXMX40tDA64ydwg8XmU4Ufnias"
MASSAGE_APPOINTMENT = "edJrz074YUIV9y2RnBz9r82jnVXOT2Vm"
TABLE = "6TB73cojFZS1COqkUAV3q4WZwmT2OxHT"  # equipment "massage-table/2"
BACK_FIT = "6TMar1jf3YZ4Zq0CVB8iY4qw2oF5WJKB"  # course "back-fit"
UNKNOWN = "6T" + "0" * 30


@pytest.fixture(scope="module")
def sb():
    with Sandbox(now=NOW) as sandbox:
        yield sandbox


def custom_ids(records):
    return [r["customId"] for r in records]


def test_lists_by_type_show_and_identify(client):
    courses = client.custom_entities("course")
    assert custom_ids(courses) == ["nutrition-basics", "back-fit", "online-coaching"]
    assert {r["class"] for r in courses} == {"CUSTOM_ENTITY_SHORT"}
    assert set(courses[0]) == {
        "class",
        "id",
        "customId",
        "name",
        "image",
        "appointment",
        "bookingResource",
        "bookingTemplate",
        "customEntity",
        "additionalData",
    }
    full = client.custom_entity("equipment", TABLE)
    assert full["class"] == "CUSTOM_ENTITY"
    assert full["type"] == "equipment" and full["organizationId"] == client.organization_id
    assert {"timestampAdd", "timestampEdit", "notes"} <= set(full)
    assert client.custom_entity_by_custom_id("equipment", "massage-table/2")["id"] == TABLE
    assert client.custom_entities("rentalCar") == []  # a type without entities: an empty LIST


def test_relations_in_both_directions(client):
    assert [t["id"] for t in client.custom_entity_templates("equipment", TABLE)] == [MASSAGE]
    assert custom_ids(client.template_custom_entities(MASSAGE, "equipment")) == ["massage-table/2"]
    assert custom_ids(client.template_custom_entities(MASSAGE, "course")) == ["back-fit"]
    resources = client.custom_entity_resources("course", "6TqsR6RZ24lPoQj3oPUlieI2nVsbBi1R")
    assert SEMINAR_ROOM in [r["id"] for r in resources]
    assert custom_ids(client.resource_custom_entities(SEMINAR_ROOM, "equipment")) == ["projector"]
    assert custom_ids(client.appointment_custom_entities(MASSAGE_APPOINTMENT, "equipment")) == [
        "massage-table/2"
    ]
    # links between custom entities go both ways
    assert custom_ids(client.linked_custom_entities(TABLE, "course")) == ["back-fit"]
    assert custom_ids(client.linked_custom_entities(BACK_FIT, "equipment")) == ["massage-table/2"]
    assert client.linked_custom_entities(TABLE, "equipment") == []


def test_add_answers_201_and_is_served_again(client, sb):
    url = client.url("custom_entity_add", custom_entity_type="rentalCar")
    result = client.call(
        "custom_entity_add",
        json={"customId": "667", "name": "CB Testentity"},  # the SDK test's body
        custom_entity_type="rentalCar",
    )
    assert result.status_code == 201 and result.url == url
    car = result.content
    assert car["class"] == "CUSTOM_ENTITY" and car["id"].startswith("6T")
    assert (car["type"], car["customId"], car["name"]) == ("rentalCar", "667", "CB Testentity")
    assert client.custom_entity("rentalCar", car["id"]) == car
    assert client.custom_entity_by_custom_id("rentalCar", "667") == car
    assert car["id"] in [r["id"] for r in client.custom_entities("rentalCar")]
    # the same customId in another type is fine
    other = client.add_custom_entity("course", "Yoga", custom_id="667", notes="Tuesdays")
    assert other["notes"] == "Tuesdays" and other["type"] == "course"


def test_custom_id_is_unique_per_type(client):
    client.add_custom_entity("vehicle", "Polo", custom_id="car-1")
    with pytest.raises(ValidationError) as info:
        client.add_custom_entity("vehicle", "Golf", custom_id="car-1")
    assert info.value.status_code == 400 and info.value.fields == ("customId",)
    assert custom_ids(client.custom_entities("vehicle")) == ["car-1"]  # nothing stored


@pytest.mark.parametrize(
    "body,fields",
    [
        ({}, ("name",)),
        ({"name": "  "}, ("name",)),
        ({"name": 5, "customId": 7}, ("name", "customId")),
        ({"name": "x" * 256}, ("name",)),
        ({"name": "x", "customId": "c" * 129}, ("customId",)),
        ({"name": "x", "notes": ["n"]}, ("notes",)),
        ({"name": "x", "additionalData": {"k": "v"}}, ("additionalData",)),
        ({"name": "x", "customId": "/lead"}, ("customId",)),
        ({"name": "x", "customId": "a/../b"}, ("customId",)),
        ({"name": "x", "customId": "   "}, ("customId",)),
    ],
)
def test_bad_bodies_are_400_naming_the_field(client, body, fields):
    with pytest.raises(ValidationError) as info:
        client.call("custom_entity_add", json=body, custom_entity_type="gadget")
    assert info.value.status_code == 400 and info.value.fields == fields
    assert client.custom_entities("gadget") == []


def test_non_json_body_is_400(sb, client):
    token = client.auth.for_organization(sb.organization_id)
    url = client.url("custom_entity_add", custom_entity_type="gadget")
    answer = requests.post(url, data="name=x", auth=token, timeout=5)
    assert answer.status_code == 400
    assert answer.json()["content"] is None


@pytest.mark.parametrize(
    "call,parameter",
    [
        (lambda c: c.custom_entity("equipment", UNKNOWN), "customEntityId"),
        (lambda c: c.custom_entity("equipment", "6Tshort"), "customEntityId"),
        (lambda c: c.custom_entity("course", TABLE), "customEntityId"),  # another type's entity
        (lambda c: c.custom_entity_by_custom_id("equipment", "no-such"), "customId"),
        (lambda c: c.custom_entities("bad type!"), "customEntityType"),
        (lambda c: c.custom_entity_templates("equipment", UNKNOWN), "customEntityId"),
        (lambda c: c.custom_entity_resources("equipment", UNKNOWN), "customEntityId"),
        (lambda c: c.linked_custom_entities(UNKNOWN, "course"), "customEntityId"),
        (lambda c: c.template_custom_entities("fc" + "0" * 30, "course"), "templateId"),
        (lambda c: c.resource_custom_entities("br" + "0" * 30, "course"), "resourceId"),
        (lambda c: c.appointment_custom_entities("ed" + "0" * 30, "course"), "appointmentId"),
        (lambda c: c.add_custom_entity("9bad", "x"), "customEntityType"),
    ],
)
def test_unknown_ids_and_types_are_404_naming_the_parameter(client, call, parameter):
    with pytest.raises(NotFound) as info:
        call(client)
    assert info.value.status_code == 404
    assert parameter in [m.parameter for m in info.value.failures]


def test_the_other_organization_is_403(client, sb):
    other = sb.other_organization_id
    with pytest.raises(PermissionDenied):
        client.custom_entities("equipment", organization_id=other)
    with pytest.raises(PermissionDenied):
        client.add_custom_entity("equipment", "x", organization_id=other)


def test_the_other_organizations_entities_stay_its_own(client, sb):
    store = sb.state.custom_entities
    (theirs,) = store.of_type(sb.other_organization_id, "equipment")
    with pytest.raises(NotFound):
        client.custom_entity("equipment", theirs["id"])
    assert theirs["customId"] not in custom_ids(client.custom_entities("equipment"))


def test_custom_entities_frame_has_the_fixed_schema(client):
    df = client.custom_entities_frame("equipment")
    assert list(df.columns) == list(CUSTOM_ENTITY_COLUMNS)
    assert df["type"].eq("equipment").all()
    assert df["custom_id"].tolist() == ["projector", "massage-table/2", "ecg"]
    empty = custom_entities_frame([])
    assert list(empty.columns) == list(CUSTOM_ENTITY_COLUMNS) and len(empty) == 0
    assert dict(empty.dtypes.astype(str)) == dict(df.dtypes.astype(str))
    full = custom_entities_frame(client.custom_entity("equipment", TABLE))
    assert full.loc[0, "organization_id"] == client.organization_id
    assert isinstance(full.loc[0, "additional_data_keys"], tuple)
    assert isinstance(df, pd.DataFrame)


def test_a_data_dir_without_the_file_keeps_working(tmp_path: Path):
    (tmp_path / "appointments.json").write_text("[]")
    state = SandboxState(now=NOW, data_dir=tmp_path)
    table = state.custom_entities.records[TABLE]
    assert table["_appointmentIds"] == []  # the demo appointments are gone: links dropped
    assert table["_bookingTemplateIds"] == [MASSAGE]


def test_a_data_dirs_own_file_is_checked(tmp_path: Path):
    org = SandboxState(now=NOW).data.demo_organization_id
    record = {"id": UNKNOWN, "_organizationId": org, "type": "course", "name": "x"}
    (tmp_path / "custom_entities.json").write_text(json.dumps([record]))
    state = SandboxState(now=NOW, data_dir=tmp_path)
    assert [r["id"] for r in state.custom_entities.of_type(org, "course")] == [UNKNOWN]
    bad = {**record, "_bookingTemplateIds": ["fc" + "1" * 30]}
    (tmp_path / "custom_entities.json").write_text(json.dumps([bad]))
    with pytest.raises(ValueError, match="_bookingTemplateIds"):
        SandboxState(now=NOW, data_dir=tmp_path)
    (tmp_path / "custom_entities.json").write_text(json.dumps([{**record, "type": "no way"}]))
    with pytest.raises(ValueError, match="type"):
        SandboxState(now=NOW, data_dir=tmp_path)
