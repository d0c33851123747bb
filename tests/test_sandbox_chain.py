"""Module configs, organizations (a chain with branches) and appointment_showProtected: through
the client over real HTTP against a Sandbox, plus the raw requests the client cannot send."""

from __future__ import annotations

import pandas as pd
import pytest
import requests
from _sandbox_http import token

import bt_explore
from bt_explore import NotFound, PermissionDenied, Sandbox, ValidationError
from bt_explore.endpoints import ENDPOINTS
from bt_explore.frames import ORGANIZATION_COLUMNS, organizations_frame

NOW = "2026-12-01T09:00:00+01:00"
DEMO_CONFIG = "5fDemoBooking7Hq2Lx9Vd4Rk8Tz3Wn6"
OTHER_MODULE = "23" + "a" * 30


@pytest.fixture(scope="module")
def sb():
    with Sandbox(now=NOW) as sandbox:
        yield sandbox


def _named(error: bt_explore.ApiError) -> tuple[str, ...]:
    """The parameters an API error's messages name."""
    return tuple(m.parameter for m in error.messages if m.parameter)


def _branches(sb: Sandbox) -> list[dict]:
    return sb.state.data.branches_of(sb.organization_id)


# --- module configs ---------------------------------------------------------------------------


def test_module_config_by_id_custom_id_and_module(client, sb) -> None:
    config = client.module_config(DEMO_CONFIG)
    assert config["class"] == "MODULE_CONFIG"
    assert config["moduleId"] == sb.client_id and config["organizationId"] == sb.organization_id
    assert config["moduleName"]
    settings = config["settingList"]
    assert settings and all(isinstance(s["value"], str) for s in settings)
    assert {s["key"] for s in settings} >= {"showPrice", "primaryColor"}
    assert client.module_config_by_custom_id("demo-booking") == config
    assert client.module_config_for() == config
    assert client.module_config_for(sb.client_id) == config


def test_each_branch_has_its_own_module_config(client, sb) -> None:
    for branch in _branches(sb):
        config = client.module_config_for(organization_id=branch["id"])
        assert config["organizationId"] == branch["id"]
        with pytest.raises(NotFound):  # the demo organization's config is not the branch's
            client.module_config(DEMO_CONFIG, organization_id=branch["id"])


@pytest.mark.parametrize(
    ("call", "parameter"),
    [
        (lambda c: c.module_config("5f" + "0" * 30), "moduleConfigId"),
        (lambda c: c.module_config("fc" + "0" * 30), "moduleConfigId"),  # wrong prefix
        (lambda c: c.module_config_by_custom_id("nope"), "customId"),
        (lambda c: c.module_config_for("23short"), "moduleId"),
        (lambda c: c.organization_by_custom_id("other"), "customId"),  # not in the chain
        (lambda c: c.appointment_protected("ed" + "0" * 30), "appointmentId"),
    ],
)
def test_unknown_ids_are_404_naming_the_field(client, call, parameter) -> None:
    with pytest.raises(NotFound) as err:
        call(client)
    assert _named(err.value) == (parameter,)


def test_another_module_is_403_naming_module_id(client) -> None:
    for call in (
        lambda: client.module_config_for(OTHER_MODULE),
        lambda: client.branches(module_id=OTHER_MODULE),
        lambda: client.find_organizations(module_id=OTHER_MODULE),
    ):
        with pytest.raises(PermissionDenied) as err:
            call()
        assert _named(err.value) == ("moduleId",)


def test_the_other_organization_is_403(client, sb) -> None:
    other = sb.other_organization_id
    for call in (
        lambda: client.module_config(DEMO_CONFIG, organization_id=other),
        lambda: client.module_config_for(organization_id=other),
        lambda: client.branches(organization_id=other),
        lambda: client.organization_by_custom_id("demo", organization_id=other),
        lambda: client.appointment_protected("ed" + "0" * 30, organization_id=other),
    ):
        with pytest.raises(PermissionDenied):  # the token endpoint refuses the organization
            call()


def test_another_organizations_token_is_403_on_the_api(sb) -> None:
    headers = {"Authorization": f"Bearer {token(sb)}"}
    other = sb.other_organization_id
    for name, path in (
        ("moduleConfig_show", {"module_config_id": DEMO_CONFIG}),
        ("moduleConfig_module_show", {"module_id": sb.client_id}),
        ("organization_list", {"module_id": sb.client_id}),
        ("organization_identify", {"custom_id": "demo"}),
        ("appointment_showProtected", {"appointment_id": "ed" + "0" * 30}),
    ):
        url = f"{sb.api_url}en/{ENDPOINTS[name].format(org=other, **path)}"
        answer = requests.get(url, headers=headers, timeout=5)
        assert answer.status_code == 403, (name, answer.text)
        assert answer.json()["messageList"][0]["parameter"] == "organizationId"


# --- organizations and branches -----------------------------------------------------------------


def test_branches_are_organizations_with_their_own_templates_and_hours(client, sb) -> None:
    branches = client.branches()
    assert [b["customId"] for b in branches] == ["mitte", "potsdam"]
    demo = client.organization()
    template_ids = {t["id"] for t in client.templates()}
    for branch in branches:
        assert branch["class"] == "ORGANIZATION" and branch["id"] != sb.organization_id
        assert branch["openingHours"] and branch["openingHours"] != demo["openingHours"]
        own = client.templates(organization_id=branch["id"])
        assert own and template_ids.isdisjoint(t["id"] for t in own)
        slot = client.earliest_slot(own[0]["id"], organization_id=branch["id"])
        assert slot["bookingSlotList"], branch["customId"]
        assert client.branches(organization_id=branch["id"]) == []  # no branches of branches


def test_organization_by_custom_id_finds_itself_and_its_branches(client, sb) -> None:
    assert client.organization_by_custom_id("demo")["id"] == sb.organization_id
    potsdam = client.organization_by_custom_id("potsdam")
    assert potsdam["address"]["city"] == "Potsdam"
    assert client.organization_by_custom_id("potsdam", organization_id=potsdam["id"]) == potsdam


@pytest.mark.parametrize(
    ("query", "found"),
    [
        ("", ["demo", "mitte", "potsdam"]),
        ("POTSDAM", ["potsdam"]),
        ("berlin", ["demo", "mitte"]),  # the city
        ("Praxis am Park", ["demo", "mitte", "potsdam"]),
        ("wien", []),  # the other organization: not accessible
        ("ü/&?#%", []),
    ],
)
def test_find_organizations(client, query, found) -> None:
    assert [o["customId"] for o in client.find_organizations(query)] == found


def test_find_organizations_sends_an_unscoped_token_and_the_query(client, sb) -> None:
    sb.state.log.clear()
    client.find_organizations("mitte")
    api = [r for r in sb.state.log.records() if r.is_api_request]
    assert api[-1].query == "searchQuery=mitte"
    tokens = [r for r in sb.state.log.records() if r.is_token_request]
    assert tokens and tokens[-1].organization_id is None


def test_a_too_long_search_query_is_400(client) -> None:
    with pytest.raises(ValidationError) as err:
        client.find_organizations("x" * 201)
    assert err.value.fields == ("searchQuery",)


def test_the_client_refuses_query_parameters_the_row_does_not_name(client) -> None:
    with pytest.raises(TypeError, match="searchQuery"):
        client.call(
            "organization_list", params={"searchQuery": "x"}, module_id=client.settings.client_id
        )


def test_organizations_frame(client) -> None:
    df = client.branches_frame()
    assert dict(df.dtypes.astype(str)) == {
        k: str(pd.api.types.pandas_dtype(v)) for k, v in ORGANIZATION_COLUMNS.items()
    }
    assert df["custom_id"].tolist() == ["mitte", "potsdam"]
    assert df.loc[1, "opening_days"][-1] == "SATURDAY"
    empty = organizations_frame([])
    assert list(empty.columns) == list(ORGANIZATION_COLUMNS) and len(empty) == 0
    odd = organizations_frame([{"id": 5, "address": [], "openingHours": "x"}, "junk"])
    assert len(odd) == 1 and odd.loc[0, "opening_days"] == ()


# --- appointment_showProtected ------------------------------------------------------------------


def test_show_protected_answers_the_full_appointment(client, sb) -> None:
    for appt in sb.state.book.all(sb.organization_id):
        full = client.appointment_protected(appt.id)
        assert full == client.appointment(appt.id)
        assert full["customer"]["lastName"]


def test_show_protected_of_a_malformed_id_is_404(client) -> None:
    with pytest.raises(NotFound) as err:
        client.appointment_protected("nope")
    assert _named(err.value) == ("appointmentId",)


# --- data files -----------------------------------------------------------------------------------


def test_data_files_name_known_organizations(tmp_path) -> None:
    import json

    from bt_explore.sandbox.state import DemoData

    data = DemoData.load()
    assert set(data.clients[data.demo_client_id]["organizationIds"]) >= {
        b["id"] for b in data.branches_of(data.demo_organization_id)
    }
    assert {c["organizationId"] for c in data.module_configs.values()} == set(
        data.clients[data.demo_client_id]["organizationIds"]
    )
    (tmp_path / "module_configs.json").write_text(
        json.dumps([{**data.module_configs[DEMO_CONFIG], "organizationId": "f6" + "0" * 30}])
    )
    with pytest.raises(ValueError, match="unknown organizationId"):
        DemoData.load(tmp_path)
    (tmp_path / "module_configs.json").write_text(json.dumps([{"id": "5fshort"}]))
    with pytest.raises(ValueError, match="moduleConfig id"):
        DemoData.load(tmp_path)
