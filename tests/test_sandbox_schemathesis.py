"""Contract fuzzing: the sandbox answers what its own ``/openapi.json`` promises.

schemathesis reads the document a started sandbox serves and, for every operation, sends
generated requests (schema-valid and invalid ones, boundary values, wrong methods) over real HTTP
to 127.0.0.1 with a real access token. Every answer must be no 5xx, have a documented status
code, content type and headers, and a body that conforms to the documented schema. The run is
deterministic (fixed seed, derandomized Hypothesis, no example database), bounded in examples
per operation, and needs no network beyond loopback.

The run goes through schemathesis' engine (``schemathesis.engine.from_schema(schema).execute()``,
what its own command line uses) from a plain test, not through its pytest plugin: the plugin's
lazy ``from_fixture`` schema reads pytest's private ``Function._nodeid``, which pytest 9.2 removed,
so the suite's result would depend on the day pytest was installed.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import requests
from _sandbox_http import token

from bt_explore.sandbox import Sandbox

schemathesis = pytest.importorskip("schemathesis")
checks = pytest.importorskip("schemathesis.checks")
SchemathesisConfig = pytest.importorskip("schemathesis.config").SchemathesisConfig

engine = pytest.importorskip("schemathesis.engine")
engine_events = pytest.importorskip("schemathesis.engine.events")

#: The checks every answer must pass (schemathesis' other built-in checks stay off).
CHECKS = (
    "not_a_server_error",
    "status_code_conformance",
    "content_type_conformance",
    "response_headers_conformance",
    "response_schema_conformance",
)
#: static/error/{code}/show answers the 4xx or 5xx it is asked for: there a 5xx is the contract.
ASKED_FOR_ERRORS = "static_error"


@schemathesis.check
def asked_for_status(ctx, response, case) -> None:
    """static/error/{code}/show answers exactly the 5xx it was asked for."""
    if case.operation.definition.raw.get("operationId") != ASKED_FOR_ERRORS:
        return
    if response.status_code >= 500:
        assert response.status_code == int(case.path_parameters["code"]), response.text


@pytest.fixture(scope="module")
def fuzzed_sandbox() -> Iterator[Sandbox]:
    with Sandbox(now="2026-12-01T09:00:00+01:00") as sb:
        yield sb


def _free_slots(sb: Sandbox, access: str) -> list[str]:
    """Free slot ids of every template in one week, so that some bookings and moves succeed."""
    ids = []
    for template in sorted(t["id"] for t in sb.state.data.templates_of(sb.organization_id)):
        answer = requests.get(
            f"{sb.api_url}en/organization/{sb.organization_id}/bookingTemplate/{template}"
            "/bookingSlot/year/2026/week/50/listWeek",
            headers={"Authorization": f"Bearer {access}"},
            timeout=5,
        )
        assert answer.status_code == 200, answer.text
        ids += [slot["id"] for slot in answer.json()["content"]["list"][:20]]
    return ids


@pytest.fixture(scope="module")
def sandbox_schema(fuzzed_sandbox: Sandbox, pytestconfig: pytest.Config):
    sb = fuzzed_sandbox
    access = token(sb)
    data = sb.state.data
    # Real ids most of the time, generated ones otherwise: without them nearly every call of an
    # organization's entity would be a 403 or 404 and the answers' content would go unchecked.
    dictionaries = {
        "templates": sorted(t["id"] for t in data.templates_of(sb.organization_id)),
        "resources": sorted(r["id"] for r in data.resources_of(sb.organization_id)),
        "appointments": sorted(a.id for a in sb.state.book.all(sb.organization_id)),
        "slots": _free_slots(sb, access),
        "files": sorted(
            f.id for a in sb.state.book.all() for f in sb.state.files.of_appointment(a.id)
        ),
        "emails": ["jd@scrubs.doc", "anna.schmidt@praxis.example"],
        "mobiles": ["+49 170 1234567", "0170/7654321"],
        "clients": [sb.client_id],
        "module_configs": sorted(data.module_configs),
        "redirect_uris": sorted(data.clients[sb.client_id]["redirectUris"]),
        "custom_entity_types": ["course", "equipment"],
        "custom_entities": sorted(
            sb.state.custom_entities.records[i]["id"]
            for i in sb.state.custom_entities.records
            if sb.state.custom_entities.records[i]["_organizationId"] == sb.organization_id
        ),
    }
    bindings = {
        "path.template_id": "templates",
        "path.resource_id": "resources",
        "path.appointment_id": "appointments",
        "path.file_id": "files",
        "body.appointmentId": "appointments",
        "path.module_id": "clients",
        "path.module_config_id": "module_configs",
        "body.bookingSlotId": "slots",
        "body.customer.email": "emails",
        "body.customer.mobile": "mobiles",
        # the authorization page: the demo client and its redirect URIs, so that consent pages
        # and redirects are answered, not only "unknown client" pages
        "query.client_id": "clients",
        "query.redirect_uri": "redirect_uris",
        "body.redirect_uri": "redirect_uris",
        "path.custom_entity_type": "custom_entity_types",
        "path.custom_entity_id": "custom_entities",
    }
    config = SchemathesisConfig.from_dict(
        {
            "seed": 20261201,
            "suppress-health-check": ["all"],
            "generation": {
                "mode": "all",
                # generated examples per operation, on top of the coverage phase's boundary
                # cases: --fuzz-examples (default 6: the file takes about 5 s)
                "max-examples": pytestconfig.getoption("--fuzz-examples"),
                "deterministic": True,
                "database": "none",
            },
            "auth": {"openapi": {"bearer": {"bearer": access}}},
            "request-timeout": 10,
            # the stateful phase chains operations by links, which the document does not declare
            "phases": {"stateful": {"enabled": False}},
            "checks": {
                "enabled": False,
                **{name: {"enabled": True} for name in (*CHECKS, "asked_for_status")},
            },
            "operations": [
                {
                    "include-operation-id": ASKED_FOR_ERRORS,
                    "checks": {"not_a_server_error": {"enabled": False}},
                }
            ],
            "dictionaries": {name: {"values": values} for name, values in dictionaries.items()},
            "parameters": {
                "path.org": sb.organization_id,
                **{key: {"dictionary": name, "probability": 0.8} for key, name in bindings.items()},
            },
        }
    )
    return schemathesis.openapi.from_url(sb.openapi_url, config=config)


def test_the_sandbox_keeps_its_openapi_contract(sandbox_schema) -> None:
    finished = None
    tested: set[str] = set()
    problems: list[str] = []
    for event in engine.from_schema(sandbox_schema).execute():
        if isinstance(event, engine_events.ScenarioFinished):
            tested.add(event.recorder.label)
            problems += [
                f"{event.recorder.label}: {node.name}: {node.failure_info.failure.title}"
                f" ({node.failure_info.failure.message})"
                for nodes in event.recorder.checks.values()
                for node in nodes
                if node.failure_info is not None
            ]
        elif isinstance(event, engine_events.NonFatalError):
            problems.append(f"{event.label}: {event.value!r}")
        elif isinstance(event, engine_events.FatalError):
            raise event.exception
        elif isinstance(event, engine_events.EngineFinished):
            finished = event
    assert finished is not None, "schemathesis' engine did not finish"
    problems += [f"{failure.title}: {failure.message}" for failure in finished.failures]
    assert not problems, "\n".join(sorted(set(problems)))
    # every operation of the document was exercised, not silently filtered away
    operations = {
        f"{operation.method.upper()} {operation.path}"
        for operation in (result.ok() for result in sandbox_schema.get_all_operations())
    }
    assert operations <= tested, sorted(operations - tested)
