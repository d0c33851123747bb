"""The models of bt_explore.models describe what the sandbox really answers.

A normal walkthrough over real HTTP — token answers, organization, templates, resources, slots
(day, week, month, earliest), book, show, identify, move, cancel, static lists, errors — and every
answer decodes with ``msgspec.json.decode(body, type=<the endpoint row's response model>)``, and
every key it carries is a field of that model (the models forget nothing the sandbox sends).
"""

from __future__ import annotations

from typing import Any, get_args, get_origin

import msgspec
import pytest
import requests

from bt_explore import models
from bt_explore.endpoints import ENDPOINTS, STATIC_LISTS
from bt_explore.models import AccessToken, RefreshToken, TokenError
from bt_explore.sandbox import Sandbox

TEMPLATE = "fc12345678910AbcDefGh1112131415a"  # "Test AppointmentTemplate": e-mail required
#: The answers the sandbox builds as model instances (the others carry data-file records).
BUILT = {
    name
    for name in ENDPOINTS
    if name.startswith(("slot_", "appointment_", "file_add", "custom_entity_"))
    and name != "appointment_custom_entity_list"
}


def _is_the_model(raw: bytes, decoded: Any) -> bool:
    """Whether ``raw`` holds exactly what the decoded model encodes: every field, none else."""
    return msgspec.json.decode(msgspec.json.encode(decoded)) == msgspec.json.decode(raw)


def _struct_types(tp: Any) -> list[type[msgspec.Struct]]:
    """The Struct types a (possibly generic, annotated or union) type can hold at the top."""
    origin = get_origin(tp)
    if isinstance(tp, type) and issubclass(tp, msgspec.Struct):
        return [tp]
    if origin is not None and isinstance(origin, type) and issubclass(origin, msgspec.Struct):
        return [origin]
    return [s for arg in get_args(tp) for s in _struct_types(arg)]


def _unknown_keys(raw: Any, value: Any, where: str = "$") -> list[str]:
    """The keys of ``raw`` (JSON) that the decoded ``value`` has no field for, recursively."""
    found: list[str] = []
    if isinstance(value, msgspec.Struct):
        info = msgspec.structs.fields(value)
        config = value.__struct_config__
        by_wire = {f.encode_name: f.name for f in info}
        for key, item in raw.items():
            if key == config.tag_field:
                continue
            if key not in by_wire:
                found.append(f"{where}.{key}")
            else:
                found += _unknown_keys(item, getattr(value, by_wire[key]), f"{where}.{key}")
    elif isinstance(value, list) and isinstance(raw, list):
        for i, (r, v) in enumerate(zip(raw, value, strict=True)):
            found += _unknown_keys(r, v, f"{where}[{i}]")
    return found


class Walk:
    """Calls one sandbox over HTTP and checks each answer against its endpoint's model."""

    def __init__(self, sb: Sandbox) -> None:
        self.sb = sb
        self.checked: list[str] = []
        self.headers: dict[str, str] = {}

    def token(self, form: dict[str, str], model: type) -> Any:
        answer = requests.post(self.sb.auth_url, data=form, timeout=5)
        decoded = msgspec.json.decode(answer.content, type=model)
        assert _unknown_keys(answer.json(), decoded) == []
        assert _is_the_model(answer.content, decoded), answer.text
        self.checked.append(f"token:{model.__name__}")
        return decoded

    def call(self, name: str, status: int | None = None, json: Any = None, **path: Any) -> Any:
        ep = ENDPOINTS[name]
        url = f"{self.sb.api_url}en/{ep.format(org=self.sb.organization_id, **path)}"
        body = None if json is None else msgspec.json.encode(json)
        headers = {**self.headers, "Content-Type": "application/json"}
        answer = requests.request(ep.method, url, data=body, headers=headers, timeout=5)
        assert answer.status_code == (status or ep.success_status), answer.text
        if ep.response is models.RawBytes and answer.status_code < 400:
            assert not answer.headers["Content-Type"].startswith("application/json"), name
            self.checked.append(name)
            return answer.content
        model = ep.response if answer.status_code < 400 else models.ErrorEnvelope
        decoded = msgspec.json.decode(answer.content, type=model)
        assert _unknown_keys(answer.json(), decoded) == [], name
        if name in BUILT or answer.status_code >= 400:
            assert _is_the_model(answer.content, decoded), (name, answer.text)
        self.checked.append(name)
        return decoded.content


@pytest.fixture
def walk(sandbox: Sandbox) -> Walk:
    return Walk(sandbox)


def test_every_sandbox_answer_of_a_walkthrough_decodes_with_its_response_model(
    walk: Walk, sandbox: Sandbox
) -> None:
    refresh = walk.token(
        {"grant_type": "client_credentials", "client_id": sandbox.client_id}, RefreshToken
    )
    access = walk.token(
        {
            "grant_type": "refresh_token",
            "refresh_token": refresh.refresh_token,
            "organization_id": sandbox.organization_id,
        },
        AccessToken,
    )
    walk.token({"grant_type": "password"}, TokenError)
    walk.token({"grant_type": "client_credentials", "client_id": "23" + "x" * 30}, TokenError)
    walk.headers = {"Authorization": f"Bearer {access.access_token}"}

    organization = walk.call("organization_show")
    assert organization.id == sandbox.organization_id
    templates = walk.call("template_list").record_list
    assert templates and all(isinstance(t, models.BookingTemplate) for t in templates)
    for template in templates:
        walk.call("template_show", template_id=template.id)
    custom = next(t for t in templates if t.custom_id)
    assert walk.call("template_identify", custom_id=custom.custom_id).id == custom.id
    resources = walk.call("resource_list").record_list
    for resource in resources:
        walk.call("resource_show", resource_id=resource.id)
        walk.call("resource_template_list", resource_id=resource.id)
    custom_r = next(r for r in resources if r.custom_id)
    walk.call("resource_identify", custom_id=custom_r.custom_id)

    for template in templates:
        earliest = walk.call("slot_earliest", template_id=template.id)
        assert isinstance(earliest, models.Earliest)
    day = walk.call("slot_list_day", template_id=TEMPLATE, year=2026, month=12, day=2)
    week = walk.call("slot_list_week", template_id=TEMPLATE, year=2026, week=50)
    walk.call("slot_list_month", template_id=TEMPLATE, year=2026, month=12)
    assert day.list and week.list

    booking = models.AppointmentAdd(
        booking_slot_id=day.list[0].id,
        customer=models.Customer(first_name="Ada", last_name="Lovelace", email="ada@example.org"),
        custom_id="walk-1",
        additional_data={"source": ["test"]},
    )
    booked = walk.call("appointment_add", json=booking)
    assert booked.customer.email == "ada@example.org"
    assert walk.call("appointment_show", appointment_id=booked.id).id == booked.id
    assert walk.call("appointment_identify", custom_id="walk-1").id == booked.id
    move = models.AppointmentMove(booking_slot_id=week.list[-1].id)
    assert walk.call("appointment_move", json=move, appointment_id=booked.id).moved
    assert walk.call("appointment_cancel", appointment_id=booked.id).canceled
    upload = models.FileAdd(
        name="Note", file_name="note.txt", file_content="aGk=", appointment_id=booked.id
    )
    added = walk.call("file_add", json=upload)
    assert isinstance(added, models.File) and added.size == 2
    assert walk.call("appointment_show", appointment_id=booked.id).file_list == [added]
    assert walk.call("file_download", file_id=added.id) == b"hi"
    walk.call("file_download", 404, file_id="w1" + "0" * 30)
    assert walk.call("appointment_showProtected", appointment_id=booked.id).id == booked.id
    # module configs, the organization's branches, the unscoped filter
    config = walk.call("moduleConfig_module_show", module_id=sandbox.client_id)
    assert isinstance(config, models.ModuleConfig) and config.setting_list
    assert walk.call("moduleConfig_show", module_config_id=config.id).id == config.id
    assert walk.call("moduleConfig_identify", custom_id=config.custom_id).id == config.id
    branches = walk.call("organization_list", module_id=sandbox.client_id).record_list
    assert len(branches) >= 2 and all(isinstance(b, models.Organization) for b in branches)
    walk.call("organization_identify", custom_id=branches[0].custom_id)
    found = walk.call("organization_filter", module_id=sandbox.client_id).record_list
    assert {b.id for b in branches} < {o.id for o in found}
    for kind in STATIC_LISTS:
        records = walk.call("static_list", kind=kind).record_list
        assert records and all(r.code and r.name for r in records)
    tree = walk.call("booking_category_tree").record_list
    assert tree and all(isinstance(c, models.BookingCategory) for c in tree)
    assert any(c.booking_category_list for c in tree)

    # custom entities: both types, every relation in both directions, an add
    appointment_id = "edJrz074YUIV9y2RnBz9r82jnVXOT2Vm"  # a demo massage, linked to equipment
    for kind in ("course", "equipment"):
        entities = walk.call("custom_entity_list", custom_entity_type=kind).record_list
        assert entities and all(isinstance(e, models.CustomEntityShort) for e in entities)
        for entity in entities:
            full = walk.call(
                "custom_entity_show", custom_entity_type=kind, custom_entity_id=entity.id
            )
            assert isinstance(full, models.CustomEntity) and full.type == kind
            ident = walk.call(
                "custom_entity_identify", custom_entity_type=kind, custom_id=entity.custom_id
            )
            assert ident.id == entity.id
            walk.call(
                "custom_entity_template_list", custom_entity_type=kind, custom_entity_id=entity.id
            )
            walk.call(
                "custom_entity_resource_list", custom_entity_type=kind, custom_entity_id=entity.id
            )
            walk.call(
                "custom_entity_custom_entity_list",
                custom_entity_id=entity.id,
                custom_entity_type=kind,
            )
        walk.call("template_custom_entity_list", template_id=TEMPLATE, custom_entity_type=kind)
        walk.call(
            "resource_custom_entity_list", resource_id=resources[0].id, custom_entity_type=kind
        )
        walk.call(
            "appointment_custom_entity_list", appointment_id=appointment_id, custom_entity_type=kind
        )
    added = walk.call(
        "custom_entity_add",
        json=models.CustomEntityAdd(name="CB Testentity", custom_id="667"),
        custom_entity_type="rentalCar",
    )
    assert isinstance(added, models.CustomEntity) and added.type == "rentalCar"
    walk.call(
        "custom_entity_add",
        400,
        json={"customId": "667", "name": "again"},
        custom_entity_type="rentalCar",
    )

    # failures: the error envelope
    walk.call("static_error", 404, code=404)
    walk.call("appointment_add", 400, json={"customer": {}})
    walk.call("template_show", 404, template_id="fc" + "0" * 30)

    answered = {name for name in walk.checked if ":" not in name}
    assert answered == set(ENDPOINTS)


def test_the_models_decode_the_loose_shapes_the_api_sends() -> None:
    template = msgspec.json.decode(
        b'{"class": "BOOKING_TEMPLATE", "id": "fc' + b"a" * 30 + b'", "name": "x",'
        b' "duration": 30, "address": [], "nameI18nList": [{"key": "en", "value": "x"}],'
        b' "descriptionI18nList": ""}',
        type=models.BookingTemplate,
    )
    assert template.address == [] and template.price is None
    assert template.name_i18n_list == [models.I18nEntry("en", "x")]
    with pytest.raises(msgspec.ValidationError, match="bookingSlotId"):
        msgspec.json.decode(b'{"bookingSlotId": "fc1", "customer": {}}', type=models.AppointmentAdd)


def test_every_endpoint_names_its_response_model() -> None:
    for ep in ENDPOINTS.values():
        assert _struct_types(ep.response) or ep.response is models.RawBytes, ep.name
        assert ep.request is None or ep.method in ("POST", "PUT"), ep.name


def test_the_published_customer_and_address_say_what_the_sandbox_enforces() -> None:
    from bt_explore.rules import ADDRESS_PARTS, GENDERS, required_parameters
    from bt_explore.sandbox.openapi import build_openapi

    schemas = build_openapi()["components"]["schemas"]
    add = schemas["AppointmentAdd"]["properties"]
    assert add["customer"] == {"$ref": "#/components/schemas/Customer"}
    customer = schemas["Customer"]
    assert customer["required"] == ["firstName", "lastName"]
    assert [f"customer.{name}" for name in customer["required"]] == list(required_parameters(None))
    first = customer["properties"]["firstName"]
    assert (first["minLength"], first["maxLength"], first["pattern"]) == (1, 255, r"\S")
    for name in ("email", "mobile"):
        assert customer["properties"][name]["pattern"].startswith("^"), name
    assert customer["properties"]["gender"]["enum"] == sorted(GENDERS)
    address = schemas["Address"]
    assert address["required"] == list(ADDRESS_PARTS) == ["street", "zip", "city"]
    assert "pattern" in address["properties"]["zip"]
    assert address["properties"]["country"]["pattern"] == "^(?:[A-Z]{2})?$"


@pytest.mark.parametrize(
    ("field", "value", "key"),
    [
        ("email", "ada@example.c", "email_invalid"),
        ("email", "ada\u200b@example.org", "email_invalid"),  # no pattern can say "printable"
        ("mobile", "12-34", "mobile_invalid"),
        ("firstName", " " + "x" * 255 + " ", None),  # surrounding spaces are not counted
        ("firstName", "x" * 256, "too_long"),
        ("gender", "OTHER", "choice_invalid"),
        ("birthday", "2026-02-30", "date_invalid"),
        ("title", 5, "not_a_string"),
    ],
)
def test_the_rules_judge_a_customer_by_the_models_constraints(field, value, key) -> None:
    from bt_explore.rules import booking_problems

    customer = {"firstName": "Ada", "lastName": "Lovelace", field: value}
    found = [(p.parameter, p.key) for p in booking_problems(customer)]
    assert found == ([] if key is None else [(f"customer.{field}", key)])
