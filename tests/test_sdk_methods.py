"""bookingtime's PHP SDK (``bookingtime/lib-phpsdk-module``, class ``Sdk``) pointed at the
sandbox: each of its 43 Module API methods reaches a route and gets the status the SDK expects
(``201`` for the adds, the asked-for code for ``static_error_show``, ``200`` otherwise).

PHP is not in our stack, so the SDK's calls are made here from Python: the method names, verbs,
paths and statuses are the SDK's (its ``Sdk::__call`` and ``Sdk/ApiRoute/*Route.php``), mapped to
the endpoint table's rows. ``bookingCategory_tree`` is the 43rd, which a newer SDK version adds
beyond ``bookingtime-api.md``'s 42 (its answer's shape is the sandbox's assumption).
"""

from __future__ import annotations

import base64

import pytest
import requests

from bt_explore import Sandbox
from bt_explore.endpoints import ENDPOINTS

TEMPLATE = "fc12345678910AbcDefGh1112131415a"  # the walkthrough's template (e-mail required)
RESOURCE = "brGFjtkXMX40tDA64ydwg8XmU4Ufnias"
COURSE = "6TqsR6RZ24lPoQj3oPUlieI2nVsbBi1R"  # "nutrition-basics", linked to a template
APPOINTMENT = "edJrz074YUIV9y2RnBz9r82jnVXOT2Vm"  # a demo appointment (custom id demo-0001)

#: SDK method -> (endpoint row, path values besides the organization). ``{slot}``, ``{booked}``,
#: ``{file}``, ``{config}``… are filled in from earlier answers.
SDK_METHODS: dict[str, tuple[str, dict[str, str]]] = {
    "organization_show": ("organization_show", {}),
    "organization_identify": ("organization_identify", {"custom_id": "mitte"}),
    "organization_filter": ("organization_filter", {"module_id": "{module}"}),
    "organization_list": ("organization_list", {"module_id": "{module}"}),
    "bookingTemplate_list": ("template_list", {}),
    "bookingTemplate_show": ("template_show", {"template_id": TEMPLATE}),
    "bookingTemplate_identify": ("template_identify", {"custom_id": "{template_custom_id}"}),
    "bookingTemplate_bookingResource_list": ("resource_template_list", {"resource_id": RESOURCE}),
    "bookingTemplate_customEntity_list": (
        "custom_entity_template_list",
        {"custom_entity_type": "course", "custom_entity_id": COURSE},
    ),
    "bookingResource_list": ("resource_list", {}),
    "bookingResource_show": ("resource_show", {"resource_id": RESOURCE}),
    "bookingResource_identify": ("resource_identify", {"custom_id": "{resource_custom_id}"}),
    "bookingResource_customEntity_list": (
        "custom_entity_resource_list",
        {"custom_entity_type": "course", "custom_entity_id": COURSE},
    ),
    "bookingSlot_earliest": ("slot_earliest", {"template_id": TEMPLATE}),
    "bookingSlot_listDay": (
        "slot_list_day",
        {"template_id": TEMPLATE, "year": "2026", "month": "12", "day": "2"},
    ),
    "bookingSlot_listWeek": (
        "slot_list_week",
        {"template_id": TEMPLATE, "year": "2026", "week": "50"},
    ),
    "bookingSlot_listMonth": (
        "slot_list_month",
        {"template_id": TEMPLATE, "year": "2026", "month": "12"},
    ),
    "appointment_add": ("appointment_add", {}),
    "appointment_show": ("appointment_show", {"appointment_id": "{booked}"}),
    "appointment_showProtected": ("appointment_showProtected", {"appointment_id": "{booked}"}),
    "appointment_identify": ("appointment_identify", {"custom_id": "sdk-1"}),
    "appointment_move": ("appointment_move", {"appointment_id": "{booked}"}),
    "appointment_cancel": ("appointment_cancel", {"appointment_id": "{booked}"}),
    "customEntity_add": ("custom_entity_add", {"custom_entity_type": "rentalCar"}),
    "customEntity_show": (
        "custom_entity_show",
        {"custom_entity_type": "course", "custom_entity_id": COURSE},
    ),
    "customEntity_identify": (
        "custom_entity_identify",
        {"custom_entity_type": "course", "custom_id": "nutrition-basics"},
    ),
    "customEntity_list": ("custom_entity_list", {"custom_entity_type": "course"}),
    "customEntity_appointment_list": (
        "appointment_custom_entity_list",
        {"appointment_id": APPOINTMENT, "custom_entity_type": "equipment"},
    ),
    "customEntity_bookingResource_list": (
        "resource_custom_entity_list",
        {"resource_id": RESOURCE, "custom_entity_type": "course"},
    ),
    "customEntity_bookingTemplate_list": (
        "template_custom_entity_list",
        {"template_id": TEMPLATE, "custom_entity_type": "course"},
    ),
    "customEntity_customEntity_list": (
        "custom_entity_custom_entity_list",
        {"custom_entity_id": COURSE, "custom_entity_type": "course"},
    ),
    "file_add": ("file_add", {}),
    "file_download": ("file_download", {"file_id": "{file}"}),
    "moduleConfig_module_show": ("moduleConfig_module_show", {"module_id": "{module}"}),
    "moduleConfig_show": ("moduleConfig_show", {"module_config_id": "{config}"}),
    "moduleConfig_identify": ("moduleConfig_identify", {"custom_id": "demo-booking"}),
    "static_country_list": ("static_list", {"kind": "country"}),
    "static_currency_list": ("static_list", {"kind": "currency"}),
    "static_language_list": ("static_list", {"kind": "language"}),
    "static_sector_list": ("static_list", {"kind": "sector"}),
    "static_timeZone_list": ("static_list", {"kind": "timeZone"}),
    "static_error_show": ("static_error", {"code": "404"}),
    "bookingCategory_tree": ("booking_category_tree", {}),
}


class SdkCalls:
    """The SDK's HTTP calls: tokens as it gets them (one per organization, an unscoped one for
    paths without an organization), bodies as JSON."""

    def __init__(self, sb: Sandbox) -> None:
        self.sb = sb
        self.values = {"module": sb.client_id}
        self.tokens: dict[str | None, str] = {}

    def token(self, organization_id: str | None) -> str:
        if organization_id not in self.tokens:
            form = {"grant_type": "client_credentials", "client_id": self.sb.client_id}
            refresh = requests.post(self.sb.auth_url, data=form, timeout=5).json()
            form = {
                "grant_type": "refresh_token",
                "client_id": self.sb.client_id,
                "refresh_token": refresh["refresh_token"],
            }
            if organization_id:
                form["organization_id"] = organization_id
            access = requests.post(self.sb.auth_url, data=form, timeout=5).json()
            self.tokens[organization_id] = access["access_token"]
        return self.tokens[organization_id]

    def call(self, method: str, body: object = None) -> requests.Response:
        name, path_values = SDK_METHODS[method]
        endpoint = ENDPOINTS[name]
        values = {k: v.format(**self.values) for k, v in path_values.items()}
        path = endpoint.format(org=self.sb.organization_id, **values)
        organization = self.sb.organization_id if "{org}" in endpoint.path else None
        answer = requests.request(
            endpoint.method,
            f"{self.sb.api_url}en_EN/{path}",
            json=body,
            headers={"Authorization": f"Bearer {self.token(organization)}"},
            timeout=5,
        )
        return answer


def test_the_sdk_lists_43_module_api_methods_and_each_has_an_endpoint():
    assert len(SDK_METHODS) == 43
    assert {name for name, _ in SDK_METHODS.values()} == set(ENDPOINTS)


def test_every_sdk_method_gets_its_expected_status_from_the_sandbox(sandbox):
    sdk = SdkCalls(sandbox)
    statuses: dict[str, int] = {}

    def call(method: str, body: object = None) -> requests.Response:
        answer = sdk.call(method, body)
        statuses[method] = answer.status_code
        expected = 201 if method.endswith("_add") else 404 if method == "static_error_show" else 200
        assert answer.status_code == expected, (method, answer.text[:300])
        return answer

    templates = call("bookingTemplate_list").json()["content"]["recordList"]
    sdk.values["template_custom_id"] = next(t["customId"] for t in templates if t["customId"])
    resources = call("bookingResource_list").json()["content"]["recordList"]
    sdk.values["resource_custom_id"] = next(r["customId"] for r in resources if r["customId"])
    day = call("bookingSlot_listDay").json()["content"]["list"]
    week = call("bookingSlot_listWeek").json()["content"]["list"]
    booking = {
        "bookingSlotId": day[0]["id"],
        "customId": "sdk-1",
        "customer": {"firstName": "Ada", "lastName": "Lovelace", "email": "ada@example.org"},
    }
    sdk.values["booked"] = call("appointment_add", booking).json()["content"]["id"]
    upload = {
        "name": "Note",
        "fileName": "note.txt",
        "fileContent": base64.b64encode(b"hi").decode(),
        "appointmentId": sdk.values["booked"],
    }
    sdk.values["file"] = call("file_add", upload).json()["content"]["id"]
    assert call("file_download").content == b"hi"
    config = call("moduleConfig_module_show").json()["content"]
    sdk.values["config"] = config["id"]
    call("appointment_move", {"bookingSlotId": week[-1]["id"]})
    call("customEntity_add", {"customId": "667", "name": "CB Testentity"})
    for method in SDK_METHODS:
        if method not in statuses and method != "appointment_cancel":
            call(method)
    call("appointment_cancel")
    assert set(statuses) == set(SDK_METHODS)


@pytest.mark.parametrize(
    "method", ["bookingTemplate_show", "appointment_add", "static_sector_list"]
)
def test_a_wrong_verb_is_not_a_missing_route(sandbox, method):
    """The sandbox tells "no such route" (404 route_not_found) from a wrong verb (405), so a
    method the SDK knows never meets "route does not exist"."""
    name, values = SDK_METHODS[method]
    endpoint = ENDPOINTS[name]
    path = endpoint.format(org=sandbox.organization_id, **values)
    other = "DELETE"
    answer = requests.request(other, f"{sandbox.api_url}en/{path}", timeout=5)
    assert answer.status_code == 405
