"""One set of booking rules: ``Client.book``'s pre-check, the explorer's form and the sandbox's
``appointment/add`` (over real HTTP) give the same verdict for every customer input."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

import pytest
import requests
from _sandbox_http import token

import bt_explore
from bt_explore import Client, Sandbox, ValidationError
from bt_explore.endpoints import ENDPOINTS
from bt_explore.rules import TEXTS, Problem, booking_problems, required_parameters
from bt_explore.sandbox import messages
from bt_explore.widgets import FORM_FIELDS, _fields_for_parameter, validate_customer

NOW = "2026-12-01T09:00:00+01:00"
#: template key -> the demo template's customId (the walkthrough's first has none: its id)
TEMPLATES = {
    "none": "quick",  # no flags
    "email": "fc12345678910AbcDefGh1112131415a",  # customerEmailRequired
    "mobile": "massage",  # customerMobileRequired
    "customer_address": "consult-room",  # customerAddressRequired (and e-mail)
    "appointment_address": "home-visit",  # appointmentAddressRequired (and mobile)
}
ADA = {"firstName": "Ada", "lastName": "Lovelace"}
HOME = {"street": "Weg 1", "zip": "10115", "city": "Berlin"}
DROP = object()


def case(
    template: str,
    expected: set[str],
    *,
    own: Any = DROP,
    address: Any = None,
    id: str,
    **fields: Any,
) -> Any:
    """Ada with ``fields`` changed (DROP removes one) and the customer address ``own``, booking
    ``template`` with the appointment ``address``; ``expected``: the parameters every checker
    must name (empty: all accept)."""
    customer = {k: v for k, v in {**ADA, **fields, "address": own}.items() if v is not DROP}
    return pytest.param(template, customer, address, expected, id=id)


CASES = [
    # e-mail shapes
    case("none", set(), email="ada@example.com", id="email-plain"),
    case("none", set(), email="o'brien+tag@mail.example.co.uk", id="email-atext-subdomains"),
    case("none", set(), email="ada@例え.jp", id="email-idn-domain"),
    case("none", set(), email="ada@example.com  ", id="email-trailing-spaces"),
    case("none", set(), email=" ada@example.com", id="email-leading-space"),
    case("none", {"customer.email"}, email="ada@example.c", id="email-one-letter-tld"),
    case("none", {"customer.email"}, email="a@b", id="email-no-dot"),
    case("none", {"customer.email"}, email="a b@c.de", id="email-inner-space"),
    case("none", {"customer.email"}, email='"x"@y.de', id="email-quoted-local"),
    case("none", {"customer.email"}, email="a..b@c.de", id="email-double-dot"),
    case("none", {"customer.email"}, email="ada@@example.com", id="email-two-ats"),
    case("none", {"customer.email"}, email="ada@example.com.", id="email-trailing-dot"),
    case("none", {"customer.email"}, email="@example.com", id="email-no-local"),
    case("none", {"customer.email"}, email="ada@-example.com", id="email-hyphen-label"),
    case("none", {"customer.email"}, email="a" * 250 + "@example.com", id="email-too-long"),
    case("none", set(), email="", id="email-empty-not-required"),
    # phones
    case("none", set(), mobile="+49 151 23456789", id="mobile-international"),
    case("none", set(), mobile="0151-2345678", id="mobile-dashes"),
    case("none", set(), mobile="+49 (0)151/234.5678", id="mobile-punctuation"),
    case("none", set(), mobile=" 0151 2345678 ", id="mobile-surrounding-spaces"),
    case("none", {"customer.mobile"}, mobile="abc", id="mobile-letters"),
    case("none", {"customer.mobile"}, mobile="+", id="mobile-plus-only"),
    case("none", {"customer.mobile"}, mobile="1", id="mobile-one-digit"),
    case("none", {"customer.mobile"}, mobile="12345", id="mobile-five-digits"),
    case("none", {"customer.mobile"}, mobile="+49 151 2345678901234", id="mobile-17-digits"),
    case("none", {"customer.mobile"}, mobile="++49 151 2345678", id="mobile-two-plus"),
    case("none", {"customer.mobile"}, mobile="١٥١٢٣٤٥٦٧٨", id="mobile-arabic-digits"),
    case("none", {"customer.mobile"}, mobile="0151 2345678 ext 5", id="mobile-extension"),
    # names
    case("none", set(), firstName=" Ada ", id="name-surrounding-spaces"),
    case("none", set(), lastName="Ä" * 255, id="name-255-characters"),
    case("none", {"customer.firstName"}, firstName="", id="name-empty"),
    case("none", {"customer.lastName"}, lastName="  \t", id="name-whitespace"),
    case("none", {"customer.firstName"}, firstName=DROP, id="name-missing"),
    case("none", {"customer.lastName"}, lastName="x" * 256, id="name-256-characters"),
    case(
        "none", {"customer.firstName", "customer.lastName"}, firstName="", lastName="", id="names"
    ),
    # values that are not strings
    case("none", {"customer.firstName"}, firstName=42, id="name-number"),
    case("none", {"customer.lastName"}, lastName=["Love", "lace"], id="name-list"),
    case("none", {"customer.email"}, email=42, id="email-number"),
    case("none", {"customer.mobile"}, mobile=4915123456789, id="mobile-number"),
    case("none", {"customer.mobile"}, mobile=True, id="mobile-boolean"),
    case("none", {"customer.title"}, title=1, id="title-number"),
    # template flags: each one demands its field; given, it passes
    case("email", {"customer.email"}, id="flag-email-missing"),
    case("email", {"customer.email"}, email="  ", id="flag-email-blank"),
    case("email", set(), email="ada@example.com", id="flag-email-given"),
    case("mobile", {"customer.mobile"}, id="flag-mobile-missing"),
    case("mobile", set(), mobile="0151 2345678", id="flag-mobile-given"),
    case("mobile", {"customer.mobile"}, mobile="call me", id="flag-mobile-invalid"),
    case(
        "customer_address",
        {"customer.address"},
        email="ada@example.com",
        id="flag-customer-address-missing",
    ),
    case(
        "customer_address",
        set(),
        email="ada@example.com",
        own=HOME,
        id="flag-customer-address-given",
    ),
    case(
        "appointment_address",
        {"address"},
        mobile="0151 2345678",
        id="flag-appointment-address-missing",
    ),
    case(
        "appointment_address",
        set(),
        mobile="0151 2345678",
        own=HOME,
        address=HOME,
        id="flag-appointment-address-given",
    ),
    # addresses: complete, partial, shapes
    case("none", set(), own=HOME, id="address-complete"),
    case(
        "none",
        {"customer.address.city"},
        own={"street": "Weg 1", "zip": "10115"},
        id="address-no-city",
    ),
    case(
        "none",
        {"customer.address.street", "customer.address.zip"},
        own={"city": "Berlin"},
        id="address-city-only",
    ),
    case("none", {"customer.address.street"}, own={**HOME, "street": "  "}, id="address-blank"),
    case("none", {"customer.address.zip"}, own={**HOME, "zip": "1"}, id="zip-one-char"),
    case("none", {"customer.address.zip"}, own={**HOME, "zip": "!"}, id="zip-punctuation"),
    case("none", set(), own={**HOME, "zip": "SW1A 1AA"}, id="zip-uk"),
    case("none", {"customer.address.zip"}, own={**HOME, "zip": 10115}, id="zip-number"),
    case(
        "appointment_address",
        {"customer.address.city", "address.city"},
        mobile="0151 2345678",
        own={**HOME, "city": ""},
        address={**HOME, "city": ""},
        id="home-visit-address-no-city",
    ),
    # the API's alone (the form cannot express these)
    case(
        "appointment_address",
        {"address.street", "address.zip", "address.city"},
        mobile="0151 2345678",
        address={"name": "home"},
        id="appointment-address-parts-missing",
    ),
    case("none", {"customer.address.country"}, own={**HOME, "country": "de"}, id="country"),
    case("none", {"customer.address"}, own="Weg 1, Berlin", id="address-text"),
    case("none", {"customer.gender"}, gender="X", id="gender"),
    case("none", {"customer.birthday"}, birthday="1.2.2000", id="birthday"),
    case("none", {"address.city"}, address={**HOME, "city": 7}, id="appointment-city-number"),
]
#: the demo templates' flags (checked against the sandbox's by a test below)
TEMPLATE_FLAGS: dict[str, dict[str, bool]] = {
    "none": {},
    "email": {"customerEmailRequired": True},
    "mobile": {"customerMobileRequired": True},
    "customer_address": {"customerEmailRequired": True, "customerAddressRequired": True},
    "appointment_address": {"customerMobileRequired": True, "appointmentAddressRequired": True},
}


class _World:
    def __init__(self, sb: Sandbox, client: Client) -> None:
        self.sb = sb
        self.client = client
        self.http = requests.Session()
        self.http.headers["Authorization"] = f"Bearer {token(sb)}"
        self.templates = {
            key: client.template(ref) if ref.startswith("fc") else client.template_by_custom_id(ref)
            for key, ref in TEMPLATES.items()
        }

    def free_slot(self, template: Mapping[str, Any]) -> str:
        return self.client.earliest_slot(template["id"])["bookingSlotList"][0]["id"]


@pytest.fixture(scope="module")
def world() -> Iterator[_World]:
    with Sandbox(now=NOW) as sb, bt_explore.connect(sandbox=sb) as client:
        world = _World(sb, client)
        yield world
        world.http.close()


def client_verdict(world: _World, template: dict, customer: dict, address: Any) -> set[str]:
    """The parameters ``Client.book`` refuses before sending; empty when it sent the booking."""
    slot_id = world.free_slot(template)
    world.sb.clear_requests()
    try:
        world.client.book(slot_id, customer, template=template, address=address)
    except ValidationError as exc:
        if exc.status_code is not None:  # sent: the pre-check let through what the API refused
            return {f"sent, then {exc.status_code} for {p}" for p in exc.fields}
        assert world.sb.api_requests == []
        return set(exc.fields)
    return set()


def sandbox_verdict(world: _World, template: dict, customer: dict, address: Any) -> set[str]:
    """The parameters the sandbox's ``appointment/add`` names in its 400; empty on 201."""
    body: dict[str, Any] = {"bookingSlotId": world.free_slot(template), "customer": customer}
    if address is not None:
        body["address"] = address
    path = ENDPOINTS["appointment_add"].format(org=world.sb.organization_id)
    answer = world.http.post(f"{world.sb.api_url}en/{path}", json=body, timeout=10)
    if answer.status_code == 201:
        return set()
    assert answer.status_code == 400, answer.text
    return {m["parameter"] for m in answer.json()["messageList"]}


_FORM_KEYS = {
    "firstName": "first_name",
    "lastName": "last_name",
    "email": "email",
    "mobile": "mobile",
}


def form_values(template: Mapping[str, Any], customer: dict, address: Any) -> dict | None:
    """The explorer's form values for this booking, or None when the form cannot express it: its
    one address is the customer's, and the appointment's too for a home visit."""
    own = customer.get("address")
    if not set(customer) <= {*_FORM_KEYS, "address"} or not (
        own is None or (isinstance(own, dict) and set(own) <= {"street", "zip", "city"})
    ):
        return None
    if address != (own if template.get("appointmentAddressRequired") else None):
        return None
    values = {_FORM_KEYS[k]: v for k, v in customer.items() if k != "address"}
    values.update(own or {})
    return values


@pytest.mark.parametrize(("template", "customer", "address", "expected"), CASES)
def test_client_explorer_and_sandbox_give_the_same_verdict(
    world: _World, template: str, customer: dict, address: Any, expected: set[str]
) -> None:
    tpl = world.templates[template]
    assert client_verdict(world, tpl, customer, address) == expected, "client"
    assert sandbox_verdict(world, tpl, customer, address) == expected, "sandbox"
    values = form_values(tpl, customer, address)
    if values is not None:
        fields = {name for parameter in expected for name in _fields_for_parameter(parameter)}
        assert set(validate_customer(values, tpl)) == fields, "explorer"


def test_the_explorer_judges_every_case_but_the_apis_own_and_every_form_field() -> None:
    judged: set[str] = set()
    api_only = set()
    for param in CASES:
        template, customer, address, expected = param.values
        if form_values(TEMPLATE_FLAGS[template], customer, address) is None:
            api_only.add(param.id)
        else:
            judged |= {n for p in expected for n in _fields_for_parameter(p)}
    assert judged == {f.name for f in FORM_FIELDS}
    assert api_only == {
        "title-number",
        "appointment-address-parts-missing",
        "country",
        "address-text",
        "gender",
        "birthday",
        "appointment-city-number",
    }


def test_the_demo_templates_have_the_flags_the_cases_assume(world: _World) -> None:
    for key, flags in TEMPLATE_FLAGS.items():
        expected = ("customer.firstName", "customer.lastName") + tuple(
            p
            for flag, p in (
                ("customerEmailRequired", "customer.email"),
                ("customerMobileRequired", "customer.mobile"),
                ("customerAddressRequired", "customer.address"),
                ("appointmentAddressRequired", "address"),
            )
            if flags.get(flag)
        )
        assert required_parameters(world.templates[key]) == expected, key


def test_the_sandbox_localizes_every_rule_text_and_says_the_same_in_english() -> None:
    for key, english in TEXTS.items():
        assert messages.TEXTS[key]["en"] == english, key
        assert messages.TEXTS[key]["de"] != english, key


def test_a_problem_names_the_parameter_and_reads_like_the_api() -> None:
    problems = booking_problems(
        {"firstName": "Ada", "lastName": "", "email": "ada@example.c"},
        template={"appointmentAddressRequired": True},
    )
    assert problems == [
        Problem("customer.lastName", "required"),
        Problem("customer.email", "email_invalid", {"value": "ada@example.c"}),
        Problem("address", "required"),
    ]
    assert [p.text for p in problems] == [
        "This parameter is required.",
        "This parameter is invalid: 'ada@example.c' is not an e-mail address.",
        "This parameter is required.",
    ]


@pytest.mark.parametrize("customer", [None, "Ada", ["Ada"]])
def test_a_customer_that_is_not_an_object(customer: Any) -> None:
    key = "required" if customer is None else "not_an_object"
    assert booking_problems(customer) == [Problem("customer", key)]


def test_an_address_the_model_cannot_hold_is_refused_naming_its_field(sandbox) -> None:
    """geoCoordinates is no rule's business, but the answer is an ADDRESS model: a value of
    another shape is refused (400 naming it), never stored to break every later answer."""
    client_side = booking_problems(
        {"firstName": "Ada", "lastName": "L", "email": "ada@example.org"},
        address={"street": "S 1", "zip": "10115", "city": "Berlin", "geoCoordinates": "x"},
    )
    assert [(p.parameter, p.key) for p in client_side] == [("address.geoCoordinates", "invalid")]
    headers = {"Authorization": f"Bearer {token(sandbox)}"}
    base = f"{sandbox.api_url}en/organization/{sandbox.organization_id}/"
    template = "fc12345678910AbcDefGh1112131415a"
    month = requests.get(
        f"{base}bookingTemplate/{template}/bookingSlot/year/2026/month/12/listMonth",
        headers=headers,
        timeout=5,
    ).json()["content"]["list"]
    body = {
        "bookingSlotId": month[0]["id"],
        "customer": {
            "firstName": "Ada",
            "lastName": "L",
            "email": "ada@example.org",
            "address": {
                "street": "S 1",
                "zip": "10115",
                "city": "Berlin",
                "geoCoordinates": {"latitude": "north", "longitude": 1},
            },
        },
    }
    answer = requests.post(f"{base}appointment/add", json=body, headers=headers, timeout=5)
    assert answer.status_code == 400, answer.text
    assert [m["parameter"] for m in answer.json()["messageList"]] == [
        "customer.address.geoCoordinates"
    ]
