"""``verify(client)``: where the service's answers differ from the declared contract.

A read-only walk over every GET endpoint the client's credentials can reach — the organization,
its branches, templates, resources, a bounded number of slot calls, the static lists, module
configs, custom entities of the types you name, the booking category tree — that decodes each
answer strictly against the models of :mod:`bt_explore.models` (the endpoint table's
``response``). Per endpoint it reports ``ok`` or what differs: fields the service sent that the
models do not declare (name, JSON type, an example with personal data masked), declared fields
that were missing, type differences, status or envelope differences. Endpoints that answer
401/403 are ``denied``, an HTML answer is ``html``, no answer in time is ``timeout``: each is
reported and the walk goes on.

It sends only GET requests to the Module API (plus the token requests the client needs), at most
:attr:`VerifyReport.budget` of them, and the report holds no token, secret or customer data: a
user can attach its JSON to a bug report. ``bt-explore verify`` is the command.

Example:
    >>> import bt_explore
    >>> with bt_explore.Sandbox(now="2026-12-01T09:00:00+01:00") as sb:
    ...     with bt_explore.connect(sandbox=sb) as client:
    ...         report = verify(client, custom_entity_types=["course"])
    >>> report.ok, report.requests_sent <= report.budget
    (True, True)
"""

from __future__ import annotations

import dataclasses
import json
import re
import types
import typing
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING, Any, Literal, Union, get_args, get_origin

import msgspec
import requests
import urllib3

from bt_explore import models
from bt_explore.endpoints import ENDPOINTS, ID_PATTERN, STATIC_LISTS, Endpoint
from bt_explore.models import RawBytes

if TYPE_CHECKING:
    from bt_explore.client import Client

__all__ = ["EndpointCheck", "Finding", "VerifyReport", "verify"]

_ENVELOPE_NAMES = models.wire_names(models.Envelope)
_LIST = models.wire_names(models.List)
_ORGANIZATION = models.wire_names(models.Organization)
#: Every entity's customId (organization, template, resource, module config, custom entity).
_CUSTOM_ID = _ORGANIZATION.custom_id

#: How an endpoint came out: ``ok``; ``differs`` (the answer decodes otherwise than declared);
#: ``denied`` (401/403: these credentials may not); ``html`` (not JSON); ``timeout``;
#: ``error`` (another status, a broken connection).
Outcome = Literal["ok", "differs", "denied", "html", "timeout", "error"]

#: The paths of the envelope's own keys: a difference there is an envelope difference.
_ENVELOPE = ("", _ENVELOPE_NAMES.message_list, _ENVELOPE_NAMES.content)
#: Token requests a walk may need: the refresh token, the organization's and the unscoped
#: access token, one renewal.
_TOKEN_REQUESTS = 4
#: Keys whose values are personal data of a person: never shown, even in declared fields.
_PERSONAL = re.compile(
    r"(?i)(name|first|last|email|mail|mobile|phone|telephone|street|zip|birthday|notes|title"
    r"|customer|address|city)"
)
_PLAIN = re.compile(r"^(?:[A-Z][A-Z0-9_]*|-?\d+(?:\.\d+)?|\d{4}-\d{2}-\d{2}(?:T[0-9:.+\-Z]+)?)$")


@dataclass(frozen=True)
class Finding:
    """One difference between an answer and its declared model.

    ``kind``: ``undeclared`` (a field the model does not declare), ``missing`` (a required
    field that is absent), ``type`` (a value of another type or shape), ``status``,
    ``envelope``. ``path`` is where (``content.recordList[].color``), ``detail`` what (the JSON
    type, the expected type), ``example`` a masked example value.

    Example:
        >>> Finding("undeclared", "content.color", "string", "<text, 7 characters>").line()
        'undeclared content.color: string (e.g. <text, 7 characters>)'
    """

    kind: str
    path: str
    detail: str
    example: str | None = None

    def line(self) -> str:
        """One readable line."""
        example = f" (e.g. {self.example})" if self.example is not None else ""
        return f"{self.kind} {self.path}: {self.detail}{example}"


@dataclass
class EndpointCheck:
    """What one request of the walk found: endpoint row, path, status, outcome, findings."""

    endpoint: str
    path: str
    status: int | None
    outcome: Outcome
    findings: list[Finding] = field(default_factory=list)
    note: str = ""


@dataclass
class VerifyReport:
    """The result of :func:`verify`: one :class:`EndpointCheck` per request, the requests sent
    and their bound; ``data`` holds the decoded answers for :mod:`bt_explore.twin` (not
    part of the JSON report).

    Example:
        >>> report = VerifyReport("sandbox", "f6x", [EndpointCheck("template_list", "…", 500,
        ...     "error")], requests_sent=1, budget=47)
        >>> report.ok, report.to_dict()["endpoints"][0]["outcome"]
        (False, 'error')
    """

    source: str
    organization_id: str | None
    checks: list[EndpointCheck]
    requests_sent: int
    budget: int
    data: dict[str, Any] = field(default_factory=dict, repr=False)

    @property
    def differences(self) -> list[EndpointCheck]:
        """The checks that are neither ``ok`` nor ``denied``."""
        return [c for c in self.checks if c.outcome not in ("ok", "denied")]

    @property
    def ok(self) -> bool:
        """Whether every reachable endpoint answered as declared."""
        return not self.differences

    def to_dict(self) -> dict[str, Any]:
        """The report as JSON-ready data (no token, no secret, no customer data)."""
        return {
            "source": self.source,
            "organization_id": self.organization_id,
            "ok": self.ok,
            "requests_sent": self.requests_sent,
            "request_budget": self.budget,
            "endpoints": [asdict(c) for c in self.checks],
        }

    def table(self) -> str:
        """A plain-text table: one row per request, then every difference.

        Example:
            >>> r = VerifyReport("sandbox", None, [EndpointCheck("organization_show",
            ...     "organization/f6x/show", 200, "ok")], 1, 5)
            >>> print(r.table())
            endpoint           status  result  path
            organization_show  200     ok      organization/f6x/show
            <BLANKLINE>
            1 request(s) sent (at most 5), 1 endpoint call(s) checked: no difference.
        """
        rows = [("endpoint", "status", "result", "path")]
        for check in self.checks:
            result = (
                check.outcome if not check.findings else f"{check.outcome} ({len(check.findings)})"
            )
            rows.append((check.endpoint, str(check.status or "-"), result, check.path))
        widths = [max(len(r[i]) for r in rows) for i in range(3)]
        lines = [
            "  ".join(cell.ljust(widths[i]) for i, cell in enumerate(row[:3])) + "  " + row[3]
            for row in rows
        ]
        details = []
        for check in self.checks:
            if check.findings or check.note:
                details.append(f"{check.endpoint} {check.path}:")
                details += [f"  {f.line()}" for f in check.findings]
                if check.note:
                    details.append(f"  {check.note}")
        verdict = (
            "no difference."
            if self.ok
            else f"{len(self.differences)} endpoint call(s) differ from the declared models."
        )
        summary = (
            f"{self.requests_sent} request(s) sent (at most {self.budget}), "
            f"{len(self.checks)} endpoint call(s) checked: {verdict}"
        )
        return "\n".join([*lines, "", *details, *([""] if details else []), summary]).replace(
            "\n\n\n", "\n\n"
        )


# --- comparing a JSON value with a declared type -------------------------------------------
def _json_type(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    return "object"


def mask(value: Any, key: str = "") -> str:
    """An example of ``value`` that shows its shape, never personal data.

    Numbers, booleans, null, enum-like words (``EMPLOYEE``), dates and bookingtime ids are
    shown; other text only by its length, and anything under a personal key (names, e-mail,
    phone, address, notes) only by its type.

    Example:
        >>> mask("jane@example.org", "email"), mask("EMPLOYEE"), mask(3), mask([1, 2])
        ('<string>', '"EMPLOYEE"', '3', '<array of 2>')
        >>> mask("Bring the X-ray")
        '<text, 15 characters>'
    """
    if _PERSONAL.search(key) and value not in (None, "", [], {}):
        return f"<{_json_type(value)}>"
    if isinstance(value, str):
        if value == "" or (len(value) <= 40 and (_PLAIN.match(value) or ID_PATTERN.match(value))):
            return json.dumps(value)
        return f"<text, {len(value)} characters>"
    if isinstance(value, list):
        return f"<array of {len(value)}>"
    if isinstance(value, dict):
        return "<object with " + ", ".join(sorted(value)[:8]) + ">"
    return json.dumps(value)


def _strip(tp: Any) -> Any:
    while get_origin(tp) is typing.Annotated:
        tp = get_args(tp)[0]
    return tp


def _struct_class(tp: Any) -> type[msgspec.Struct] | None:
    cls = get_origin(tp) or tp
    return cls if isinstance(cls, type) and issubclass(cls, msgspec.Struct) else None


def _describe(tp: Any) -> str:
    tp = _strip(tp)
    if get_origin(tp) in (Union, types.UnionType):
        return " | ".join(_describe(a) for a in get_args(tp))
    cls = _struct_class(tp)
    if cls is not None:
        config = cls.__struct_config__
        return f"object {config.tag}" if config.tag else "object"
    if get_origin(tp) is list:
        return "array"
    if get_origin(tp) is dict:
        return "object"
    if get_origin(tp) is Literal:
        return " | ".join(json.dumps(a) for a in get_args(tp))
    if tp is type(None):
        return "null"
    names = {str: "string", int: "integer", float: "number", bool: "boolean", datetime: "timestamp"}
    return names.get(tp, getattr(tp, "__name__", str(tp)))


def _fits_kind(value: Any, tp: Any) -> bool:
    """Whether ``value``'s JSON kind (object, array, scalar) can be of type ``tp``."""
    tp = _strip(tp)
    if tp is Any:
        return True
    if _struct_class(tp) is not None or get_origin(tp) is dict:
        return isinstance(value, dict)
    if get_origin(tp) is list:
        return isinstance(value, list)
    return not isinstance(value, (dict, list))


def compare(value: Any, tp: Any, path: str = "") -> list[Finding]:
    """The differences between a decoded JSON ``value`` and the declared type ``tp``.

    Example:
        >>> from bt_explore.models import Price
        >>> [f.line() for f in compare({"class": "PRICE", "priceGross": "9", "x": 1}, Price)]
        ['type priceGross: string, declared number (e.g. "9")', 'undeclared x: integer (e.g. 1)']
    """
    out: list[Finding] = []
    _compare(value, tp, path, out)
    return out


def _join(path: str, key: str) -> str:
    return f"{path}.{key}" if path else key


def _other_type(value: Any, tp: Any, path: str) -> Finding:
    key = path.rsplit(".", 1)[-1]
    return Finding("type", path, f"{_json_type(value)}, declared {_describe(tp)}", mask(value, key))


def _compare(value: Any, annotated: Any, path: str, out: list[Finding]) -> None:
    tp = _strip(annotated)
    if tp is Any:
        return
    if get_origin(tp) in (Union, types.UnionType):
        _compare_union(value, tp, path, out)
        return
    if not _fits_kind(value, tp):  # an object, an array or a scalar where another is declared
        out.append(_other_type(value, tp, path))
        return
    cls = _struct_class(tp)
    if cls is not None:
        _compare_struct(value, tp, cls.__struct_config__, path, out)
        return
    if get_origin(tp) is list:
        (item_type,) = get_args(tp) or (Any,)
        for item in value:
            _compare(item, item_type, f"{path}[]", out)
        return
    if get_origin(tp) is dict:
        value_type = (get_args(tp) or (Any, Any))[1]
        for item in value.values():
            _compare(item, value_type, f"{path}.*", out)
        return
    _compare_scalar(value, annotated, tp, path, out)


def _compare_union(value: Any, tp: Any, path: str, out: list[Finding]) -> None:
    """The fewest differences among the union's members of ``value``'s kind (or one type
    finding when none is)."""
    members = [m for m in get_args(tp) if _fits_kind(value, m)]
    if not members:
        out.append(_other_type(value, tp, path))
        return
    tried = [compare(value, m, path) for m in members]
    best: list[Finding] = min(tried, key=len)
    out.extend(best)


def _compare_struct(
    value: dict, tp: Any, config: msgspec.structs.StructConfig, path: str, out: list[Finding]
) -> None:
    """An object against a model: its tag, each field it has (declared or not), and each
    required field it lacks."""
    fields = {f.encode_name: f for f in msgspec.structs.fields(tp)}
    for name, item in value.items():
        where = _join(path, name)
        if config.tag_field is not None and name == config.tag_field:
            if item != config.tag:
                declared = f"{json.dumps(item)}, declared {json.dumps(config.tag)}"
                out.append(Finding("type", where, declared))
            continue
        if name not in fields:
            out.append(Finding("undeclared", where, _json_type(item), mask(item, name)))
        else:
            _compare(item, fields[name].type, where, out)
    for name, f in fields.items():
        if f.required and name not in value:
            out.append(Finding("missing", _join(path, name), f"declared {_describe(f.type)}"))


def _compare_scalar(value: Any, annotated: Any, tp: Any, path: str, out: list[Finding]) -> None:
    """A scalar against its declared type and constraints (``annotated`` keeps them)."""
    try:
        msgspec.convert(value, annotated, strict=True)
    except msgspec.ValidationError as exc:
        finding = _other_type(value, tp, path)
        if _json_type(value) == _describe(tp):  # the type fits, a constraint does not
            detail = f"{_json_type(value)}: {str(exc).split(' - at ')[0]}"
            finding = dataclasses.replace(finding, detail=detail)
        out.append(finding)


def _deduplicated(findings: Iterable[Finding]) -> list[Finding]:
    """One finding per (kind, path, detail): list items repeat the same difference."""
    seen: dict[tuple[str, str, str], Finding] = {}
    for f in findings:
        seen.setdefault((f.kind, f.path, f.detail), f)
    return list(seen.values())


# --- the walk ----------------------------------------------------------------------------
@dataclass
class _Walk:
    client: Client
    organization_id: str
    checks: list[EndpointCheck] = field(default_factory=list)
    answers: dict[str, Any] = field(default_factory=dict)

    def get(self, name: str, key: str | None = None, **path: Any) -> Any:
        """GET one endpoint; record its check; the decoded content (``None`` if unusable)."""
        endpoint = ENDPOINTS[name]
        if endpoint.method != "GET":  # the walk never writes
            raise ValueError(f"verify sends GET requests only, not {endpoint.method} {name}")
        org = self.organization_id if endpoint.organization_scoped else None
        url = self.client.url(name, organization_id=org, **path)
        check = EndpointCheck(name, self._shown(url), None, "ok")
        self.checks.append(check)
        answer = self._send(url, org, check)
        if answer is None:
            return None
        if endpoint.response is RawBytes:
            return answer.content
        decoded, body = _decode(answer, check)
        if not decoded or not _compared(answer.status_code, body, endpoint, check):
            return None
        content = body.get("content") if isinstance(body, dict) else None
        if key is not None:
            self.answers.setdefault(key, content)
        return content

    def _shown(self, url: str) -> str:
        """``url`` as the report shows it: after the API prefix and version, the organization
        and the module id (no credential) as placeholders."""
        shown = url.split("/module/v3/", 1)[-1].split("/", 1)[-1]
        shown = shown.replace(f"organization/{self.organization_id}/", "…/", 1)
        module_id = self.client.settings.client_id
        if module_id:  # the report names no credential
            shown = shown.replace(f"module/{module_id}/", "module/{module_id}/")
        return shown

    def _send(self, url: str, org: str | None, check: EndpointCheck) -> requests.Response | None:
        """The answer to a GET of ``url`` (``None``, noted in ``check``, when none came in time,
        none came at all, or the credentials may not read it)."""
        try:
            answer = self.client.session.get(
                url,
                auth=self.client.auth.for_organization(org),
                timeout=self.client.settings.timeout,
                headers={"Accept": "application/json"},
            )
        except requests.RequestException as exc:
            if _timed_out(exc):
                check.outcome, check.note = "timeout", "no answer in time"
            else:
                check.outcome, check.note = "error", f"no answer: {type(exc).__name__}"
            return None
        check.status = answer.status_code
        if answer.status_code in (401, 403):
            check.outcome = "denied"
            check.note = f"{answer.status_code}: these credentials may not read this"
            return None
        return answer

    def records(self, name: str, key: str | None = None, **path: Any) -> list[dict]:
        content = self.get(name, key, **path)
        records = content.get(_LIST.record_list) if isinstance(content, dict) else None
        return [r for r in records if isinstance(r, dict)] if isinstance(records, list) else []


def _decode(answer: requests.Response, check: EndpointCheck) -> tuple[bool, Any]:
    """Whether ``answer`` is JSON, and its decoded body (an HTML page or other text is noted in
    ``check``)."""
    try:
        return True, msgspec.json.decode(answer.content)
    except msgspec.DecodeError:
        kind = answer.headers.get("Content-Type", "")
        html = "html" in kind.lower() or answer.content.lstrip()[:1] == b"<"
        check.outcome = "html" if html else "error"
        check.findings.append(Finding("envelope", "", f"not JSON ({kind or 'no Content-Type'})"))
        return False, None


def _compared(status: int, body: Any, endpoint: Endpoint, check: EndpointCheck) -> bool:
    """Whether the answer is a success (else its status is noted in ``check``); its body's
    differences from the declared response go to ``check``."""
    if status != endpoint.success_status:
        check.outcome = "error" if status != 404 else "differs"
        check.findings.append(
            Finding("status", "", f"{status}, declared {endpoint.success_status}")
        )
        return False
    check.findings = [
        # the envelope itself (not what it holds) has another shape
        dataclasses.replace(f, kind="envelope") if f.path in _ENVELOPE else f
        for f in _deduplicated(compare(body, endpoint.response))
    ]
    if check.findings:
        check.outcome = "differs"
    return True


def _timed_out(exc: requests.RequestException) -> bool:
    """Whether no answer came in time (also after the client's retries gave up)."""
    if isinstance(exc, requests.Timeout):
        return True
    reason = getattr(exc.args[0], "reason", None) if exc.args else None
    return isinstance(reason, (urllib3.exceptions.TimeoutError, TimeoutError))


def _week(day: date) -> tuple[int, int]:
    year, week, _ = day.isocalendar()
    return year, week


def verify(
    client: Client,
    *,
    organization_id: str | None = None,
    max_records: int = 5,
    slot_calls: int = 7,
    custom_entity_types: Sequence[str] = (),
    source: str = "",
) -> VerifyReport:
    """Walk every GET endpoint the client can reach and compare each answer with its model.

    ``max_records`` bounds the ``show``/``identify`` calls per list (templates, resources,
    custom entities); ``slot_calls`` the slot calls (``earliest``, today and this month of the
    first template, then the current and the next ISO week of as many templates as fit); ``custom_entity_types`` names the custom entity
    types to read (the API cannot list them). The report's ``budget`` is the most requests
    the walk may send: ``16 + 4 * max_records + slot_calls + (4 + 2 * max_records)`` per
    custom entity type, plus 4 token requests (47 with the defaults and no entity type).

    Example:
        >>> import bt_explore
        >>> with bt_explore.Sandbox(now="2026-12-01T09:00:00+01:00", dialect="php") as sb:
        ...     with bt_explore.connect(sandbox=sb) as client:
        ...         print(verify(client).ok)
        True
    """
    org = client.settings.require_organization(organization_id)
    module_id = client.settings.client_id
    api_calls = (
        5  # organization, branches, identify, filter, template list
        + 4 * max_records  # template and resource show/identify
        + 2  # resource list, one resource's templates
        + slot_calls
        + len(STATIC_LISTS)
        + 3  # module config: for the module, show, identify
        + 1  # booking category tree
        + len(custom_entity_types) * (4 + 2 * max_records)
    )
    budget = api_calls + _TOKEN_REQUESTS
    sent = 0

    def count(response: requests.Response, *args: Any, **kwargs: Any) -> None:
        nonlocal sent
        sent += 1

    hooks = client.session.hooks.setdefault("response", [])
    hooks.append(count)
    walk = _Walk(client, org)
    try:
        _walk(walk, module_id, max_records, slot_calls, custom_entity_types, client)
    finally:
        hooks.remove(count)
    return VerifyReport(
        source or client.settings.api_url.split("/module/")[0],
        org,
        walk.checks,
        sent,
        budget,
        data=walk.answers,
    )


def _walk(
    walk: _Walk,
    module_id: str | None,
    max_records: int,
    slot_calls: int,
    types: Sequence[str],
    client: Client,
) -> None:
    """Every GET endpoint in turn: organizations, templates, resources, slots, static lists,
    module config, booking categories, then each custom entity type."""
    organization = _walk_organizations(walk, module_id)
    templates = _walk_templates(walk, max_records)
    _walk_resources(walk, max_records)
    _slots(walk, _ids(templates), slot_calls, organization, client)
    walk.answers["static"] = {kind: walk.records("static_list", kind=kind) for kind in STATIC_LISTS}
    _walk_module_config(walk, module_id)
    walk.records("booking_category_tree", "categories")
    walk.answers["custom_entities"] = {
        kind: _walk_custom_entities(walk, kind, templates, max_records) for kind in types
    }


def _walk_organizations(walk: _Walk, module_id: str | None) -> Any:
    """The organization (the decoded content), its branches, one identify and the filter."""
    organization = walk.get("organization_show", "organization")
    branches = walk.records("organization_list", "branches", module_id=module_id)
    named = [o for o in [organization, *branches] if isinstance(o, dict) and o.get(_CUSTOM_ID)]
    if named:
        walk.get("organization_identify", custom_id=named[0][_CUSTOM_ID])
    walk.records("organization_filter", module_id=module_id)
    return organization


def _walk_templates(walk: _Walk, max_records: int) -> list[dict]:
    """The template list (returned), then up to ``max_records`` shows and identifies."""
    templates = walk.records("template_list", "templates")
    walk.answers["template_details"] = [
        walk.get("template_show", template_id=t["id"]) for t in _ids(templates)[:max_records]
    ]
    for t in [t for t in templates if t.get(_CUSTOM_ID)][:max_records]:
        walk.get("template_identify", custom_id=t[_CUSTOM_ID])
    return templates


def _walk_resources(walk: _Walk, max_records: int) -> None:
    """The resource list, up to ``max_records`` shows and identifies, one resource's templates."""
    resources = walk.records("resource_list", "resources")
    for r in _ids(resources)[:max_records]:
        walk.get("resource_show", resource_id=r["id"])
    for r in [r for r in resources if r.get(_CUSTOM_ID)][:max_records]:
        walk.get("resource_identify", custom_id=r[_CUSTOM_ID])
    if resources and _ids(resources):
        walk.get("resource_template_list", resource_id=_ids(resources)[0]["id"])


def _walk_module_config(walk: _Walk, module_id: str | None) -> None:
    """The module's config, then shown and identified by its own id."""
    config = walk.get("moduleConfig_module_show", "module_config", module_id=module_id)
    if isinstance(config, dict) and isinstance(config.get("id"), str):
        walk.get("moduleConfig_show", module_config_id=config["id"])
        if config.get(_CUSTOM_ID):
            walk.get("moduleConfig_identify", custom_id=config[_CUSTOM_ID])


def _walk_custom_entities(
    walk: _Walk, kind: str, templates: list[dict], max_records: int
) -> list[dict]:
    """One custom entity type: its list, up to ``max_records`` shows (returned, the first with
    its template and resource links) and identifies, and the first template's entities."""
    listed = _ids(walk.records("custom_entity_list", custom_entity_type=kind))
    full = []
    for e in listed[:max_records]:
        shown = walk.get("custom_entity_show", custom_entity_type=kind, custom_entity_id=e["id"])
        if isinstance(shown, dict):
            full.append(shown)
    for e in [e for e in listed if e.get(_CUSTOM_ID)][:max_records]:
        walk.get("custom_entity_identify", custom_entity_type=kind, custom_id=e[_CUSTOM_ID])
    if listed:
        _link_first_entity(walk, kind, listed[0]["id"], full)
    if templates and _ids(templates):
        walk.records(
            "template_custom_entity_list",
            template_id=_ids(templates)[0]["id"],
            custom_entity_type=kind,
        )
    return full


def _link_first_entity(walk: _Walk, kind: str, first: str, full: list[dict]) -> None:
    """Read the templates and resources of entity ``first``; when it leads ``full``, it keeps
    their ids."""
    links = {
        "_bookingTemplateIds": walk.records(
            "custom_entity_template_list", custom_entity_type=kind, custom_entity_id=first
        ),
        "_bookingResourceIds": walk.records(
            "custom_entity_resource_list", custom_entity_type=kind, custom_entity_id=first
        ),
    }
    if full and full[0].get("id") == first:
        full[0] = {**full[0], **{k: [r["id"] for r in _ids(v)] for k, v in links.items()}}


def _ids(records: list[dict]) -> list[dict]:
    return [r for r in records if isinstance(r.get("id"), str) and r["id"]]


def _slots(
    walk: _Walk, templates: list[dict], calls: int, organization: Any, client: Client
) -> None:
    """``earliest``, today and this month of the first template, then this and next ISO week
    of each template while calls are left; the ranges are what :mod:`bt_explore.twin` serves."""
    observed: list[dict] = []
    walk.answers["observed_slots"] = observed
    if not templates or calls <= 0:
        return
    first = templates[0]["id"]
    zone = organization.get(_ORGANIZATION.time_zone) if isinstance(organization, dict) else None
    today = _today(client, zone)
    singles: list[tuple[str, dict[str, Any]]] = [
        ("slot_earliest", {}),
        ("slot_list_day", {"year": today.year, "month": today.month, "day": today.day}),
        ("slot_list_month", {"year": today.year, "month": today.month}),
    ]
    for name, values in singles[:calls]:
        content = walk.get(name, None, template_id=first, **values)
        if name != "slot_earliest" and isinstance(content, dict):
            observed.append({"templateId": first, **content})
    calls -= len(singles[:calls])
    weeks = [_week(today), _week(today + timedelta(days=7))]
    for template in templates:
        if calls < len(weeks):
            break
        for year, week in weeks:
            content = walk.get("slot_list_week", template_id=template["id"], year=year, week=week)
            calls -= 1
            if isinstance(content, dict):
                observed.append({"templateId": template["id"], **content})


def _today(client: Client, zone: Any) -> date:
    from zoneinfo import ZoneInfo

    now = client.now()
    try:
        return now.astimezone(ZoneInfo(zone)).date() if isinstance(zone, str) else now.date()
    except (KeyError, ValueError):
        return now.date()
