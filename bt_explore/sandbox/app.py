"""The sandbox's Flask app: bookingtime's token endpoint and Module API v3 over a SandboxState.

Routes are registered from :data:`bt_explore.endpoints.ENDPOINTS` below
``/module/v3/<locale>/``; ``POST /oauth/token`` is the auth server, ``GET /openapi.json`` the
contract. Every API answer, error or not, is the Module API envelope; the token endpoint answers
RFC 6749 JSON. A WSGI middleware in front of Flask answers only loopback ``Host`` headers,
injects the configured faults and writes the request log. Request bodies are bounded
(``SandboxState.max_body_size``, 413), and a JSON body holding a value no answer could carry is
refused (400) before anything is stored. Bodies are read and answers written with
``msgspec.json``.

Example:
    >>> from bt_explore.sandbox.state import SandboxState
    >>> app = create_app(SandboxState(now="2026-12-01T09:00:00+01:00"))
    >>> app.test_client().get("/module/v3/en/static/country/list").status_code
    401
"""

from __future__ import annotations

import calendar
import functools
import hmac
import ipaddress
import logging
import math
import re
import socket
import time
import unicodedata
from collections.abc import Callable, Iterable
from datetime import date, datetime, timedelta
from typing import Any
from urllib.parse import parse_qsl, quote

import msgspec
from flask import Flask, Response, request
from werkzeug.exceptions import HTTPException, MethodNotAllowed

import bt_explore.sandbox.dialect as dialects
import bt_explore.sandbox.messages as messages
from bt_explore import models
from bt_explore.endpoints import (
    API_PREFIX,
    ENDPOINTS,
    ID_PREFIXES,
    REVOKE_PATH,
    STATIC_LISTS,
    TOKEN_PATH,
    Endpoint,
    is_id,
)
from bt_explore.models import KINDS, AppointmentAdd, AppointmentMove, FileAdd, Message, wire_names
from bt_explore.rules import Problem, body_problems, booking_problems
from bt_explore.sandbox.auth import TokenClaims, TokenError, revoke_answer
from bt_explore.sandbox.authorize import (
    AUTHORIZE_PATH,
    authorization_code_grant,
    authorize_view,
    error_page,
)
from bt_explore.sandbox.custom_entity_api import CustomEntityApi
from bt_explore.sandbox.dialect import DialectMiddleware, check_dialect
from bt_explore.sandbox.engine import TemplateRules, free_slots, local_midnight
from bt_explore.sandbox.files import FileCustomIdTaken, StoredFile, file_problems
from bt_explore.sandbox.messages import envelope, failure, normalize_locale, status_phrase
from bt_explore.sandbox.ratelimit import RateLimit, Verdict
from bt_explore.sandbox.state import (
    Appointment,
    BookingConflict,
    RequestRecord,
    SandboxState,
)

__all__ = ["API_PREFIX", "TOKEN_PATH", "ApiFailure", "appointment_entity", "create_app"]

log = logging.getLogger("bt_explore.sandbox")


_GRANT_KEY = "bt_explore.grant_type"
_CLAIMS_KEY = "bt_explore.claims"
_ORG_KEY = "bt_explore.organization_id"
_ORG_IN_PATH = re.compile(rf"^{API_PREFIX}[^/]+/(?:module/[^/]+/)?organization/([^/]+)/")
_LOCALE_IN_PATH = re.compile(rf"^{API_PREFIX}([^/]+)/")


#: The deepest nesting of objects and arrays a JSON request body may have (the body is level 1).
#: Common JSON readers (orjson among them) give up beyond 255 levels, and an answer wraps a
#: stored value in levels of its own (envelope, APPOINTMENT, customer).
MAX_BODY_DEPTH = 64
#: The integers common JSON readers (orjson among them) can read: signed and unsigned 64-bit.
_INT_RANGE = (-(2**63), 2**64 - 1)
#: At most this many problems of one body are reported.
_MAX_BODY_PROBLEMS = 10
#: The longest ``searchQuery`` of ``organization_filter``.
MAX_SEARCH_QUERY = 200


#: Reads request bodies; a float literal beyond the float range (``1e400``) becomes infinity,
#: which :func:`_unservable` refuses naming its parameter (msgspec itself refuses it unnamed).
_BODY_DECODER = msgspec.json.Decoder(float_hook=float)
#: A JSON escape: a valid surrogate pair, a lone surrogate (group 1) or any other escape.
_ESCAPE = re.compile(
    rb"\\(?:u[dD][89abAB][0-9a-fA-F]{2}\\u[dD][c-fC-F][0-9a-fA-F]{2}"
    rb"|(u[dD][89a-fA-F][0-9a-fA-F]{2})|.)",
    re.DOTALL,
)


def _decode_body(raw: bytes) -> Any:
    """The JSON value of a request body; raises ``ValueError`` (or ``RecursionError``).

    msgspec refuses a lone UTF-16 surrogate escape (``"\\ud800"``) outright. So that the
    refusal can name the parameter holding it, each one is decoded as a private-use character
    the body does not contain and turned back into the lone surrogate afterwards, which
    :func:`_unservable` then reports.

    Example:
        >>> _decode_body(rb'{"a": ["\\ud800", "\\ud83d\\ude00"], "b": 1e400}')
        {'a': ['\\ud800', '😀'], 'b': inf}
    """
    try:
        return _BODY_DECODER.decode(raw)
    except msgspec.DecodeError:
        if not any(m.group(1) for m in _ESCAPE.finditer(raw)):
            raise
    text = raw.decode("utf-8")  # msgspec would refuse invalid UTF-8 anyway
    marker = next(
        (chr(c) for c in range(0xE000, 0xF900)
         if chr(c) not in text and f"\\u{c:04x}" not in text.lower()),
        None,
    )  # fmt: skip
    if marker is None:
        raise ValueError("lone UTF-16 surrogates (\\ud800) are not Unicode text")
    lone: list[str] = []

    def swap(match: re.Match[bytes]) -> bytes:
        if match.group(1) is None:
            return match.group()
        lone.append(chr(int(match.group(1)[1:], 16)))
        return f"\\u{ord(marker):04x}".encode()

    value = _BODY_DECODER.decode(_ESCAPE.sub(swap, raw))
    found = iter(lone)

    def restore(item: Any) -> Any:
        if isinstance(item, str):
            return "".join(next(found) if c == marker else c for c in item)
        if isinstance(item, list):
            return [restore(v) for v in item]
        if isinstance(item, dict):
            return {restore(k): restore(v) for k, v in item.items()}
        return item

    return restore(value)


def _is_unicode(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:  # a lone surrogate, e.g. from the JSON escape "\ud800"
        return False
    return True


def _unservable(
    value: Any, parameter: str | None, problems: list[tuple[str | None, str, dict]], depth: int = 1
) -> None:
    """Append ``(parameter, message key, fields)`` for each part of the parsed JSON ``value``
    that the sandbox could not write into an answer; ``value`` sits at ``parameter``, nested
    ``depth`` levels deep.

    Checked before anything is stored: a stored value that cannot be answered would turn every
    later answer that includes it into a 500.

    Example:
        >>> problems = []
        >>> _unservable({"notes": "\\ud800", "n": [2**64]}, None, problems)
        >>> [(parameter, key) for parameter, key, _ in problems]
        [('notes', 'text_not_unicode'), ('n[0]', 'number_out_of_range')]
    """
    if len(problems) >= _MAX_BODY_PROBLEMS or value is None or isinstance(value, bool):
        return
    if isinstance(value, (int, float, str)):
        key = _scalar_problem(value)
        if key is not None:
            problems.append((parameter, key, {}))
    elif depth > MAX_BODY_DEPTH:
        problems.append((parameter, "nesting_too_deep", {"max": MAX_BODY_DEPTH}))
    elif isinstance(value, dict):
        _unservable_members(value, parameter, problems, depth)
    elif isinstance(value, list):
        for index, item in enumerate(value):
            _unservable(item, f"{parameter or ''}[{index}]", problems, depth + 1)


def _unservable_members(
    value: dict, parameter: str | None, problems: list[tuple[str | None, str, dict]], depth: int
) -> None:
    """:func:`_unservable` for the keys and values of the JSON object ``value``."""
    for key, item in value.items():
        if not _is_unicode(key):
            # name the key as its JSON escape, so the failure itself can be answered
            shown = key.encode("utf-8", "backslashreplace").decode("utf-8")
            name = f"{parameter}.{shown}" if parameter else shown
            problems.append((name, "text_not_unicode", {}))
        else:
            name = f"{parameter}.{key}" if parameter else key
            _unservable(item, name, problems, depth + 1)


def _scalar_problem(value: int | float | str) -> str | None:
    """The message key of what keeps a JSON number or string from being answered (an integer
    out of range, a float that is not finite such as a literal 1e400, a string with a lone
    surrogate), or ``None``."""
    if isinstance(value, int):
        ok = _INT_RANGE[0] <= value <= _INT_RANGE[1]
        return None if ok else "number_out_of_range"
    if isinstance(value, float):
        return None if math.isfinite(value) else "number_out_of_range"
    return None if _is_unicode(value) else "text_not_unicode"


class ApiFailure(Exception):
    """An error answer: HTTP ``status`` with failure ``messages`` (and optional headers)."""

    def __init__(
        self, status: int, messages_: list[Message], headers: dict[str, str] | None = None
    ) -> None:
        super().__init__(f"{status}: {messages_}")
        self.status = status
        self.messages = messages_
        self.headers = headers or {}


class _TokenFailure(Exception):
    """An RFC 6749 error answer of the token endpoint."""

    def __init__(self, status: int, error: str, description: str) -> None:
        super().__init__(f"{status} {error}: {description}")
        self.status = status
        self.error = error
        self.description = description


def _encode(answer: Any) -> bytes:
    """The JSON bytes of an answer (a model of :mod:`bt_explore.models`, or a data-file record
    already in the API's shape): the one place every sandbox answer is encoded."""
    return msgspec.json.encode(answer)


def _json_response(
    payload: Any, status: int = 200, headers: dict[str, str] | None = None
) -> Response:
    return Response(_encode(payload), status=status, headers=headers, mimetype="application/json")


def _api_answer(content: Any, status: int = 200, msgs: list[Message] | None = None) -> Response:
    return _json_response(envelope(content, msgs), status)


def _failure_answer(
    status: int, msgs: list[Message], headers: dict[str, str] | None = None
) -> Response:
    return _json_response(envelope(None, msgs), status, headers)


#: The headers of every token endpoint answer (RFC 6749 §5.1).
_NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}


def _token_error(status: int, error: str, description: str) -> Response:
    answer = models.TokenError(error=error, error_description=description)  # type: ignore[arg-type]
    return _json_response(answer, status, _NO_STORE)


def _bad_id(parameter: str, kind: str, value: Any, locale: str) -> Message:
    """The failure naming ``parameter``: ``value`` is not an id of ``kind`` (prefix, shape)."""
    return failure(parameter, "bad_id", locale, value=value, kind=kind, prefix=ID_PREFIXES[kind])


def _not_found(parameter: str, key: str, locale: str, *, kind: str, value: str) -> ApiFailure:
    """A 404 whose one failure names ``parameter``: no ``kind`` is known by ``value``."""
    return ApiFailure(404, [failure(parameter, key, locale, kind=kind, value=value)])


def _request_body() -> bytes:
    """The request body; raises RequestEntityTooLarge (413) beyond the app's MAX_CONTENT_LENGTH.

    werkzeug checks a ``Content-Length`` against the limit but cuts a chunked body at it
    without a word: reading one more byte of the cut stream raises instead.
    """
    raw = request.get_data(cache=True)
    limit = request.max_content_length
    if limit is not None and len(raw) >= limit:
        request.stream.read(1)
    return raw


def _path_locale(path: str) -> str:
    match = _LOCALE_IN_PATH.match(path)
    return normalize_locale(match.group(1) if match else None)


#: The ``recordLimit`` of every LIST the sandbox answers (it never pages).
RECORD_LIMIT = 9999
_ADDRESS = wire_names(models.Address)
_CUSTOMER = wire_names(models.Customer)
_TEMPLATE = wire_names(models.BookingTemplate)
_ORGANIZATION = wire_names(models.Organization)
_APPOINTMENT_ADD = wire_names(AppointmentAdd)
_MOVE = wire_names(AppointmentMove)
_FILE_ADD = wire_names(FileAdd)
_CONFIG = wire_names(models.ModuleConfig)
_STATIC = wire_names(models.StaticRecord)
#: Every entity's customId (and the ``{customId}`` of the identify routes a failure names).
_CUSTOM_ID = _TEMPLATE.custom_id
#: The path parameters a failure names: the API's words for them, which the models' fields
#: happen to share (a path parameter is no model field).
_APPOINTMENT_ID = "appointmentId"  # wire: the {appointmentId} path parameter
_ORGANIZATION_ID = "organizationId"  # wire: the {organizationId} path parameter
#: The customer's texts stored without their surrounding spaces.
_STRIPPED = (_CUSTOMER.email, _CUSTOMER.mobile, _CUSTOMER.first_name, _CUSTOMER.last_name)
#: What an APPOINTMENT repeats of its template (the same field names in both models).
_FROM_TEMPLATE = tuple(
    (f.name, f.encode_name)
    for f in msgspec.structs.fields(models.Appointment)
    if f.name in ("name", "name_i18n_list", "description", "description_i18n_list")
    or f.name in ("show_price", "price_gross", "tax_rate", "currency")
)


def _list(records: list[Any]) -> models.List[Any]:
    """The LIST of ``records`` (models, or data-file records already in the API's shape)."""
    return models.List(record_total=len(records), record_limit=RECORD_LIMIT, record_list=records)


def _model(value: dict, model: type[msgspec.Struct]) -> Any:
    """A stored request object (already checked by :func:`_model_problems`) as ``model``; its
    ``class``, if sent, is the model's own and dropped, unknown keys are ignored."""
    return msgspec.convert({k: v for k, v in value.items() if k != _ADDRESS.class_}, model)


def _address(value: dict | None) -> models.Address | None:
    """The ADDRESS of a stored or data-file address (``None``, ``{}`` and ``[]``: none)."""
    return _model(value, models.Address) if value else None


def _customer(value: dict, locale: str) -> models.Customer:
    """The CUSTOMER of a stored booking; its ``locale`` defaults to the answer's."""
    fields = {_CUSTOMER.locale: locale, **value}
    address = fields.pop(_CUSTOMER.address, None)
    customer: models.Customer = _model(fields, models.Customer)
    customer.address = _address(address)
    return customer


def _timestamp(epoch: int, tz: Any) -> Any:
    """An instant as the API writes it: ISO 8601 with the organization's offset (``+00:00``,
    never the ``Z`` msgspec would write for a datetime); a model's Timestamp field encodes it
    as it is."""
    return datetime.fromtimestamp(epoch, tz).isoformat()


class _Api:
    """The request handlers over one :class:`SandboxState` (one method per endpoint name)."""

    def __init__(self, state: SandboxState) -> None:
        self.state = state
        self.data = state.data

    # --- helpers -------------------------------------------------------------------------
    def _tz(self, org: str):
        return self.data.org_rules[org].tz

    def _iso(self, epoch: int, org: str) -> Any:
        return _timestamp(epoch, self._tz(org))

    def _check_id(self, value: str, kind: str, parameter: str, locale: str) -> None:
        if not is_id(value, kind):
            raise ApiFailure(404, [_bad_id(parameter, kind, value, locale)])

    def _template(self, org: str, template_id: str, locale: str) -> dict:
        self._check_id(template_id, KINDS.booking_template, "templateId", locale)
        rules = self.data.template_rules.get(template_id)
        if rules is None or rules.organization_id != org:
            raise _not_found(
                "templateId",
                "unknown_entity",
                locale,
                kind=KINDS.booking_template,
                value=template_id,
            )
        return self.data.templates[template_id]

    def _resource(self, org: str, resource_id: str, locale: str) -> dict:
        self._check_id(resource_id, KINDS.booking_resource, "resourceId", locale)
        if self.data.resource_org.get(resource_id) != org:
            raise _not_found(
                "resourceId",
                "unknown_entity",
                locale,
                kind=KINDS.booking_resource,
                value=resource_id,
            )
        return self.data.resources[resource_id]

    def _appointment(self, org: str, appointment_id: str, locale: str) -> Appointment:
        self._check_id(appointment_id, KINDS.appointment, _APPOINTMENT_ID, locale)
        appt = self.state.book.get(org, appointment_id)
        if appt is None:
            raise _not_found(
                _APPOINTMENT_ID, "unknown_entity", locale, kind=KINDS.appointment,
                value=appointment_id,
            )  # fmt: skip
        return appt

    def appointment_entity(self, appt: Appointment, locale: str) -> models.Appointment:
        """The APPOINTMENT of a stored appointment."""
        tpl = self.data.templates[appt.template_id]
        rules = self.data.template_rules[appt.template_id]
        tz = self._tz(appt.organization_id)
        address = appt.address
        if address is None and tpl.get(_TEMPLATE.location) == "ORGANIZATION_ADDRESS":
            address = (
                tpl.get(_TEMPLATE.address)
                or self.data.organizations[appt.organization_id][_ORGANIZATION.address]
            )
        resources: Any = [self.data.resources[r] for r in appt.resource_ids]  # API-shaped dicts
        return models.Appointment(
            id=appt.id,
            custom_id=appt.custom_id,
            start=_timestamp(appt.start, tz),
            end=_timestamp(appt.start + rules.duration * 60, tz),
            duration=rules.duration,
            time_zone=tz.key,
            protected=False,
            **{name: tpl[wire] for name, wire in _FROM_TEMPLATE},
            customer=_customer(appt.customer, locale),
            address=_address(address),
            canceled=appt.canceled,
            moved=appt.moved,
            booking_resource_list=resources,
            file_list=[self.file_entity(f) for f in self.state.files.of_appointment(appt.id)],
            organization_id=appt.organization_id,
            booking_template_id=appt.template_id,
            notes=appt.notes,
            additional_data=appt.additional_data,
        )

    # --- slot listing ----------------------------------------------------------------------
    def _slots(
        self, rules: TemplateRules, range_start: int, range_end: int, now: int | None = None,
        *, first_only: bool = False,
    ) -> list[models.BookingSlot]:  # fmt: skip
        """BOOKING_SLOTs of the free slots of ``[range_start, range_end)`` at ``now``
        (default: the sandbox clock)."""
        org = self.data.org_rules[rules.organization_id]
        if now is None:
            now = int(self.state.now().timestamp())
        pairs = free_slots(
            org, rules, self.data.working_days, self.state.book.busy, range_start, range_end,
            now, first_only=first_only,
        )  # fmt: skip
        encode = self.data.slot_codec.encoder(rules.id)
        slot = models.BookingSlot
        out, last, timestamp = [], None, ""
        for start, combo in pairs:
            if start != last:  # the combinations of one start follow each other
                last, timestamp = start, _timestamp(start, org.tz)
            # combo is a tuple of ids: a JSON array, like the model's list
            out.append(slot(encode(start, combo), timestamp, combo))  # type: ignore[arg-type]
        return out

    def _range(
        self, org: str, template_id: str, first: date, stop: date, parameter: str, locale: str
    ) -> Response:
        """RANGE_LIST of the local days [first, stop)."""
        today = self.state.today(org)
        if stop <= today:
            raise ApiFailure(
                400, [failure(parameter, "range_past", locale, today=today.isoformat())]
            )
        tz = self._tz(org)
        start, end = local_midnight(first, tz), local_midnight(stop, tz)
        return _api_answer(
            models.RangeList(
                range_start=self._iso(start, org),
                range_end=self._iso(end, org),
                time_zone=tz.key,
                list=self._slots(self.data.template_rules[template_id], start, end),
            )
        )

    @staticmethod
    def _int(value: str, parameter: str, key: str, locale: str, **fields: Any) -> int:
        if not re.fullmatch(r"\d{1,4}", value or ""):
            raise ApiFailure(400, [failure(parameter, key, locale, value=value, **fields)])
        return int(value)

    def _year(self, value: str, locale: str) -> int:
        year = self._int(value, "year", "year_invalid", locale)
        if not 1970 <= year <= 9998:
            raise ApiFailure(400, [failure("year", "year_invalid", locale, value=value)])
        return year

    def _month(self, value: str, locale: str) -> int:
        month = self._int(value, "month", "month_invalid", locale)
        if not 1 <= month <= 12:
            raise ApiFailure(400, [failure("month", "month_invalid", locale, value=value)])
        return month

    def _json_body(self, locale: str) -> dict:
        if request.mimetype != "application/json" and not request.mimetype.endswith("+json"):
            got = request.headers.get("Content-Type") or "no Content-Type"
            raise ApiFailure(400, [failure(None, "content_type_json", locale, got=got)])
        raw = _request_body()
        try:
            body = _decode_body(raw) if raw.strip() else None
        except (ValueError, RecursionError) as exc:
            raise ApiFailure(
                400, [failure(None, "json_malformed", locale, detail=str(exc))]
            ) from None
        if body is None:
            raise ApiFailure(
                400, [failure(None, "json_malformed", locale, detail="the body is empty")]
            )
        if not isinstance(body, dict):
            raise ApiFailure(400, [failure(None, "body_not_object", locale)])
        problems: list[tuple[str | None, str, dict]] = []
        _unservable(body, None, problems)
        if problems:
            raise ApiFailure(400, [failure(p, key, locale, **f) for p, key, f in problems])
        return body

    # --- organization, templates, resources ------------------------------------------------
    def organization_show(self, org: str, locale: str) -> Response:
        return _api_answer(self.data.organizations[org])

    def template_list(self, org: str, locale: str) -> Response:
        return _api_answer(_list(self.data.templates_of(org)))

    def template_show(self, org: str, locale: str, template_id: str) -> Response:
        return _api_answer(self._template(org, template_id, locale))

    def template_identify(self, org: str, locale: str, custom_id: str) -> Response:
        return self._identify(
            self.data.templates_of(org), KINDS.booking_template, custom_id, locale
        )

    def resource_template_list(self, org: str, locale: str, resource_id: str) -> Response:
        self._resource(org, resource_id, locale)
        templates = [
            t
            for t in self.data.templates_of(org)
            if resource_id in self.data.template_rules[t["id"]].resources
        ]
        return _api_answer(_list(templates))

    def resource_list(self, org: str, locale: str) -> Response:
        return _api_answer(_list(self.data.resources_of(org)))

    def resource_show(self, org: str, locale: str, resource_id: str) -> Response:
        return _api_answer(self._resource(org, resource_id, locale))

    def resource_identify(self, org: str, locale: str, custom_id: str) -> Response:
        return self._identify(
            self.data.resources_of(org), KINDS.booking_resource, custom_id, locale
        )

    @staticmethod
    def _identify(records: Iterable[dict], kind: str, custom_id: str, locale: str) -> Response:
        """Answer the record whose ``customId`` is ``custom_id``; 404 naming ``customId`` else."""
        # An empty customId identifies nothing, not even a record whose customId is empty.
        if custom_id:
            for record in records:
                if record.get(_CUSTOM_ID) == custom_id:
                    return _api_answer(record)
        raise _not_found(_CUSTOM_ID, "unknown_custom_id", locale, kind=kind, value=custom_id)

    # --- slots -----------------------------------------------------------------------------
    def slot_earliest(self, org: str, locale: str, template_id: str) -> Response:
        self._template(org, template_id, locale)
        rules = self.data.template_rules[template_id]
        tz = self._tz(org)
        now = int(self.state.now().timestamp())
        min_start, first_day, last_day = rules.window(now, tz)
        start = max(min_start, local_midnight(first_day, tz))
        end = local_midnight(last_day + timedelta(days=1), tz)
        slots = self._slots(rules, start, max(start, end), now, first_only=True)
        # The walkthrough's shape exactly: no ``class`` and ``bookingSlotList`` only (a RANGE_LIST
        # says ``list``); sending both would let code pass offline that breaks live.
        return _api_answer(
            models.Earliest(
                range_start=self._iso(start, org),
                range_end=self._iso(max(start, end), org),
                time_zone=tz.key,
                booking_slot_list=slots,
            )
        )

    def slot_list_day(
        self, org: str, locale: str, template_id: str, year: str, month: str, day: str
    ) -> Response:
        self._template(org, template_id, locale)
        y, m = self._year(year, locale), self._month(month, locale)
        last = calendar.monthrange(y, m)[1]
        d = self._int(day, "day", "day_invalid", locale, year=y, month=m)
        if not 1 <= d <= last:
            raise ApiFailure(
                400, [failure("day", "day_invalid", locale, value=day, year=y, month=m)]
            )
        first = date(y, m, d)
        return self._range(org, template_id, first, first + timedelta(days=1), "day", locale)

    def slot_list_week(
        self, org: str, locale: str, template_id: str, year: str, week: str
    ) -> Response:
        self._template(org, template_id, locale)
        y = self._year(year, locale)
        weeks = date(y, 12, 28).isocalendar()[1]
        w = self._int(week, "week", "week_invalid", locale, year=y, weeks=weeks)
        if not 1 <= w <= weeks:
            raise ApiFailure(
                400, [failure("week", "week_invalid", locale, value=week, year=y, weeks=weeks)]
            )
        monday = date.fromisocalendar(y, w, 1)
        return self._range(org, template_id, monday, monday + timedelta(days=7), "week", locale)

    def slot_list_month(
        self, org: str, locale: str, template_id: str, year: str, month: str
    ) -> Response:
        self._template(org, template_id, locale)
        y, m = self._year(year, locale), self._month(month, locale)
        first = date(y, m, 1)
        stop = date(y + (m == 12), m % 12 + 1, 1)
        return self._range(org, template_id, first, stop, "month", locale)

    # --- appointments ----------------------------------------------------------------------
    def _validate_booking(self, body: dict, org: str, locale: str) -> dict:
        """The stored fields of an ``appointment/add`` body, or a 400 naming every problem:
        the body's shape by :class:`~bt_explore.models.AppointmentAdd`, the slot by this
        sandbox's calendar, the customer and address by the template's booking rules."""
        slot, customer = _APPOINTMENT_ADD.booking_slot_id, _APPOINTMENT_ADD.customer
        problems = body_problems(body, AppointmentAdd, skip=(customer, _APPOINTMENT_ADD.address))
        tpl = None
        if not any(p.parameter == slot for p in problems):
            tpl = self._slot_template(body[slot], org)
            if tpl is None:
                problems.append(Problem(slot, "slot_unknown", {"value": body[slot]}))
        problems += booking_problems(
            body.get(customer), template=tpl, address=body.get(_APPOINTMENT_ADD.address)
        )
        if problems:
            raise ApiFailure(
                400, [failure(p.parameter, p.key, locale, **p.fields) for p in problems]
            )
        fields = {
            k: body[k]
            for k in (f.encode_name for f in msgspec.structs.fields(AppointmentAdd))
            if k not in (slot, customer) and body.get(k) not in (None, {})
        }
        fields[customer] = {
            k: v.strip() if k in _STRIPPED and isinstance(v, str) else v
            for k, v in body[customer].items()
        }
        return fields

    def _slot_template(self, slot_id: str, org: str) -> dict | None:
        """The template of a slot id this sandbox could have issued for ``org``, else None."""
        decoded = self.data.slot_codec.decode(slot_id)
        rules = self.data.template_rules.get(decoded[0]) if decoded else None
        if decoded is None or rules is None or rules.organization_id != org:
            return None
        return self.data.templates[rules.id] if decoded[2] in rules.combinations else None

    def appointment_add(self, org: str, locale: str) -> Response:
        body = self._json_body(locale)
        fields = self._validate_booking(body, org, locale)
        return self._booking_answer(
            lambda: self.state.book.add(org, body[_APPOINTMENT_ADD.booking_slot_id], fields),
            201,
            "appointment_added",
            locale,
        )

    def _booking_answer(
        self, change: Callable[[], Appointment], status: int, success_key: str, locale: str
    ) -> Response:
        """Make a booking change: the APPOINTMENT with a success message, or 400 on conflict."""
        try:
            appt = change()
        except BookingConflict as exc:
            raise ApiFailure(400, [failure(exc.parameter, exc.key, locale, **exc.fields)]) from None
        return _api_answer(
            self.appointment_entity(appt, locale), status, [messages.success(success_key, locale)]
        )

    def appointment_show(self, org: str, locale: str, appointment_id: str) -> Response:
        appt = self._appointment(org, appointment_id, locale)
        return _api_answer(self.appointment_entity(appt, locale))

    def appointment_identify(self, org: str, locale: str, custom_id: str) -> Response:
        appt = self.state.book.by_custom_id(org, custom_id) if custom_id else None
        if appt is None:
            raise _not_found(
                _CUSTOM_ID, "unknown_custom_id", locale, kind=KINDS.appointment, value=custom_id
            )
        return _api_answer(self.appointment_entity(appt, locale))

    def appointment_move(self, org: str, locale: str, appointment_id: str) -> Response:
        self._appointment(org, appointment_id, locale)
        body = self._json_body(locale)
        problems = body_problems(body, AppointmentMove)
        if problems:
            raise ApiFailure(
                400, [failure(p.parameter, p.key, locale, **p.fields) for p in problems]
            )
        slot_id = body[_MOVE.booking_slot_id]
        return self._booking_answer(
            lambda: self.state.book.move(org, appointment_id, slot_id),
            200,
            "appointment_moved",
            locale,
        )

    def appointment_cancel(self, org: str, locale: str, appointment_id: str) -> Response:
        self._appointment(org, appointment_id, locale)
        appt, already = self.state.book.cancel(org, appointment_id)
        key = "appointment_already_canceled" if already else "appointment_canceled_ok"
        return _api_answer(
            self.appointment_entity(appt, locale), 200, [messages.success(key, locale)]
        )

    # --- files -------------------------------------------------------------------------------
    def file_entity(self, stored: StoredFile) -> models.File:
        """The FILE of a stored file."""
        added: Any = stored.added.astimezone(self._tz(stored.organization_id)).isoformat()
        return models.File(
            id=stored.id,
            custom_id=stored.custom_id,
            name=stored.name,
            file_name=stored.file_name,
            mime_type=stored.mime_type,
            size=len(stored.content),
            appointment_id=stored.appointment_id,
            timestamp_add=added,
        )

    def file_add(self, org: str, locale: str) -> Response:
        body = self._json_body(locale)
        files = self.state.files
        problems, content = file_problems(body, files.max_size)
        appointment_id: str = body.get(_FILE_ADD.appointment_id, "")
        if not any(p.parameter == _FILE_ADD.appointment_id for p in problems):
            if self.state.book.get(org, appointment_id) is None:
                fields = {"kind": "appointment", "value": appointment_id}
                problems.append(Problem(_FILE_ADD.appointment_id, "unknown_entity", fields))
        if problems:
            raise ApiFailure(
                400, [failure(p.parameter, p.key, locale, **p.fields) for p in problems]
            )
        custom_id = body.get(_FILE_ADD.custom_id) or ""
        try:
            stored = files.add(
                org,
                str(appointment_id),
                body[_FILE_ADD.name],
                body[_FILE_ADD.file_name],
                content,
                custom_id,
            )
        except FileCustomIdTaken:
            raise ApiFailure(
                400, [failure(_FILE_ADD.custom_id, "file_custom_id_taken", locale, value=custom_id)]
            ) from None
        return _api_answer(self.file_entity(stored), 201, [messages.success("file_added", locale)])

    def file_download(self, org: str, locale: str, file_id: str) -> Response:
        self._check_id(file_id, "file", "fileId", locale)
        stored = self.state.files.get(org, file_id)
        if stored is None:
            raise _not_found("fileId", "unknown_entity", locale, kind="file", value=file_id)
        response = Response(stored.content, mimetype=stored.mime_type)
        name = stored.file_name
        try:
            name.encode("ascii")
            options = {"filename": name}
        except UnicodeEncodeError:
            simple = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode("ascii")
            options = {
                "filename": simple,
                "filename*": "UTF-8''" + quote(name, safe="!#$&+-.^_`|~"),
            }
        response.headers.set("Content-Disposition", "attachment", **options)
        return response

    # --- static ------------------------------------------------------------------------------
    def static_list(self, org: None, locale: str, kind: str) -> Response:
        if kind not in STATIC_LISTS:
            raise ApiFailure(
                404,
                [
                    failure(
                        "kind",
                        "unknown_static_list",
                        locale,
                        value=kind,
                        known=", ".join(STATIC_LISTS),
                    )
                ],
            )
        records = []
        for record in self.data.static_lists[kind]:
            names = record.get(_STATIC.name_i18n_list)
            if isinstance(names, dict) and locale in names:
                record = {**record, "name": names[locale]}
            records.append(record)
        return _api_answer(_list(records))

    def static_error(self, org: None, locale: str, code: str) -> Response:
        status = int(code) if re.fullmatch(r"\d{3}", code or "") else 0
        if not 400 <= status <= 599 or status_phrase(status) == "Error":
            raise ApiFailure(404, [failure("code", "bad_error_code", locale, value=code)])
        headers = {"Retry-After": "1"} if status == 429 else None
        msg = failure(None, "status_text", locale, code=status, phrase=status_phrase(status))
        return _failure_answer(status, [msg], headers)

    # --- custom entities (bt_explore.sandbox.custom_entity_api) ------------------------------
    @functools.cached_property
    def _custom(self) -> CustomEntityApi:
        return CustomEntityApi(
            self.state.custom_entities,
            fail=ApiFailure,
            answer=_api_answer,
            lists=_list,
            check={
                KINDS.booking_template: self._template,
                KINDS.booking_resource: self._resource,
                "appointment": self._appointment,
            },
            json_body=self._json_body,
            templates=self.data.templates_of,
            resources=self.data.resources_of,
        )

    def custom_entity_add(self, org: str, locale: str, custom_entity_type: str) -> Response:
        return self._custom.add(org, locale, custom_entity_type)

    def custom_entity_show(self, org: str, locale: str, **path: str) -> Response:
        return self._custom.show(org, locale, **path)

    def custom_entity_identify(self, org: str, locale: str, **path: str) -> Response:
        return self._custom.identify(org, locale, **path)

    def custom_entity_list(self, org: str, locale: str, custom_entity_type: str) -> Response:
        return self._custom.list_of_type(org, locale, custom_entity_type)

    def appointment_custom_entity_list(
        self, org: str, locale: str, appointment_id: str, custom_entity_type: str
    ) -> Response:
        return self._custom.linked("appointment", org, locale, appointment_id, custom_entity_type)

    def resource_custom_entity_list(
        self, org: str, locale: str, resource_id: str, custom_entity_type: str
    ) -> Response:
        return self._custom.linked(
            KINDS.booking_resource, org, locale, resource_id, custom_entity_type
        )

    def template_custom_entity_list(
        self, org: str, locale: str, template_id: str, custom_entity_type: str
    ) -> Response:
        return self._custom.linked(
            KINDS.booking_template, org, locale, template_id, custom_entity_type
        )

    def custom_entity_custom_entity_list(
        self, org: str, locale: str, custom_entity_id: str, custom_entity_type: str
    ) -> Response:
        return self._custom.linked(
            KINDS.custom_entity, org, locale, custom_entity_id, custom_entity_type
        )

    def custom_entity_template_list(self, org: str, locale: str, **path: str) -> Response:
        return self._custom.templates(org, locale, **path)

    def custom_entity_resource_list(self, org: str, locale: str, **path: str) -> Response:
        return self._custom.resources(org, locale, **path)

    # --- module configs, organizations (branches), the protected appointment -----------------
    def _module(self, module_id: str, locale: str) -> None:
        """404 for a malformed ``moduleId``, 403 for another module than the token's."""
        self._check_id(module_id, KINDS.module, _CONFIG.module_id, locale)
        claims: TokenClaims = request.environ[_CLAIMS_KEY]
        if module_id != claims.client_id:
            raise ApiFailure(
                403, [failure(_CONFIG.module_id, "forbidden_module", locale, value=module_id)]
            )

    def moduleConfig_show(self, org: str, locale: str, module_config_id: str) -> Response:
        self._check_id(module_config_id, "moduleConfig", "moduleConfigId", locale)
        config = self.data.module_configs.get(module_config_id)
        if config is None or config[_CONFIG.organization_id] != org:
            raise _not_found(
                "moduleConfigId", "unknown_entity", locale, kind="moduleConfig",
                value=module_config_id,
            )  # fmt: skip
        return _api_answer(config)

    def moduleConfig_identify(self, org: str, locale: str, custom_id: str) -> Response:
        return self._identify(self.data.module_configs_of(org), "moduleConfig", custom_id, locale)

    def moduleConfig_module_show(self, org: str, locale: str, module_id: str) -> Response:
        self._module(module_id, locale)
        for config in self.data.module_configs_of(org):
            if config[_CONFIG.module_id] == module_id:
                return _api_answer(config)
        raise ApiFailure(
            404, [failure(_CONFIG.module_id, "module_not_configured", locale, value=module_id)]
        )

    def organization_identify(self, org: str, locale: str, custom_id: str) -> Response:
        chain = [self.data.organizations[org], *self.data.branches_of(org)]
        return self._identify(chain, "organization", custom_id, locale)

    def organization_filter(self, org: None, locale: str, module_id: str) -> Response:
        self._module(module_id, locale)
        query = request.args.get("searchQuery", "")
        if len(query) > MAX_SEARCH_QUERY:
            raise ApiFailure(
                400, [failure("searchQuery", "too_long", locale, max=MAX_SEARCH_QUERY)]
            )
        claims: TokenClaims = request.environ[_CLAIMS_KEY]
        allowed = claims.organization_ids
        if allowed is None:
            allowed = tuple(self.data.clients[claims.client_id].get("organizationIds", ()))
        needle = query.strip().casefold()
        found = []
        for org_id in allowed:
            record = self.data.organizations.get(org_id)
            if record is None:
                continue
            city = (record.get("address") or {}).get("city", "")
            haystack = (record.get(_ORGANIZATION.name, ""), record.get(_CUSTOM_ID, ""), city)
            if any(needle in str(text).casefold() for text in haystack):
                found.append(record)
        return _api_answer(_list(found))

    def organization_list(self, org: str, locale: str, module_id: str) -> Response:
        self._module(module_id, locale)
        return _api_answer(_list(self.data.branches_of(org)))

    def booking_category_tree(self, org: str, locale: str) -> Response:
        # The answer's shape is the sandbox's assumption (bt_explore.sandbox.categories).
        return _api_answer(_list(self.state.categories.tree(org)))

    def appointment_showProtected(self, org: str, locale: str, appointment_id: str) -> Response:
        # The sandbox's reading (docs/sandbox.md, "sandbox choices"): the full APPOINTMENT, as
        # appointment_show answers it; no sandbox appointment is protected.
        appt = self._appointment(org, appointment_id, locale)
        return _api_answer(self.appointment_entity(appt, locale))


def _authenticate(state: SandboxState, locale: str) -> TokenClaims:
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise ApiFailure(
            401,
            [failure(None, "token_missing", locale)],
            {"WWW-Authenticate": 'Bearer realm="bookingtime"'},
        )
    try:
        return state.tokens.check(token.strip(), "access")
    except TokenError as exc:
        raise ApiFailure(
            401,
            [failure(None, exc.reason, locale)],
            {"WWW-Authenticate": 'Bearer realm="bookingtime", error="invalid_token"'},
        ) from None


def _make_view(api: _Api, endpoint: Endpoint) -> Callable[..., Response]:
    handler = getattr(api, endpoint.name)
    state = api.state

    def view(locale: str, **path: str) -> Response:
        loc = normalize_locale(locale)
        claims = _authenticate(state, loc)
        request.environ[_CLAIMS_KEY] = claims
        org = None
        if endpoint.organization_scoped:
            org = path.pop("org")
            if not is_id(org, "organization"):
                raise ApiFailure(
                    404,
                    [
                        failure(
                            _ORGANIZATION_ID,
                            "bad_id",
                            loc,
                            value=org,
                            kind="organization",
                            prefix=ID_PREFIXES["organization"],
                        )
                    ],
                )
            if claims.organization_id != org:
                raise ApiFailure(
                    403, [failure(_ORGANIZATION_ID, "forbidden_organization", loc, value=org)]
                )
            if org not in state.data.organizations:
                raise ApiFailure(
                    404, [failure(_ORGANIZATION_ID, "unknown_organization", loc, value=org)]
                )
        return handler(org, loc, **path)

    view.__name__ = f"view_{endpoint.name}"
    view.__doc__ = endpoint.description
    return view


# --- token endpoint ---------------------------------------------------------------------------
_TOKEN_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data", "application/json")


def _form_under_json(raw: bytes) -> dict[str, str] | None:
    """The fields of a form body sent under ``Content-Type: application/json``, or ``None`` when
    the body is not a form (then it is read as JSON).

    bookingtime's own walkthrough sends its token requests that way (``curl -H "Content-Type:
    application/json" -d grant_type=client_credentials -d client_id=…``), and the service
    accepts them; a JSON body never starts with a name and ``=``.

    Example:
        >>> _form_under_json(b"grant_type=client_credentials&client_id=23ab")
        {'grant_type': 'client_credentials', 'client_id': '23ab'}
        >>> _form_under_json(b'{"grant_type": "client_credentials"}') is None
        True
    """
    text = raw.strip()
    if not _FORM_BODY.match(text):
        return None
    try:
        pairs = parse_qsl(text.decode("utf-8"), keep_blank_values=True, strict_parsing=True)
    except (UnicodeDecodeError, ValueError):
        return None
    fields: dict[str, str] = {}
    for key, value in pairs:
        if key in fields:
            raise _TokenFailure(400, "invalid_request", f"{key} is sent more than once")
        fields[key] = value
    return fields


#: A form body starts with a field name and ``=`` (JSON starts with ``{``, ``[``, ``"``, a digit…).
_FORM_BODY = re.compile(rb"^[A-Za-z_][A-Za-z0-9_.%-]*=")


def _token_params() -> dict[str, str]:
    mimetype = request.mimetype
    if not mimetype:
        raise _TokenFailure(
            400,
            "invalid_request",
            "Content-Type header is missing; send application/x-www-form-urlencoded, "
            "multipart/form-data or application/json",
        )
    if mimetype not in _TOKEN_TYPES:
        raise _TokenFailure(
            400,
            "invalid_request",
            f"Content-Type {mimetype} is not supported; send "
            "application/x-www-form-urlencoded, multipart/form-data or "
            "application/json",
        )
    raw = _request_body()  # request.form below parses these cached bytes
    if mimetype == "application/json":
        form = _form_under_json(raw)
        if form is not None:
            return form
        try:
            body = _decode_body(raw)
        except (ValueError, RecursionError) as exc:
            raise _TokenFailure(
                400,
                "invalid_request",
                f"the body is not valid JSON ({exc}); with Content-Type "
                "application/json send a JSON object",
            ) from None
        if not isinstance(body, dict):
            raise _TokenFailure(400, "invalid_request", "the JSON body must be an object")
        problems: list[tuple[str | None, str, dict]] = []
        _unservable(body, None, problems)
        if problems:
            parameter, key, fields = problems[0]
            raise _TokenFailure(
                400, "invalid_request", f"{parameter}: {messages.text(key, 'en', **fields)}"
            )
        params = {}
        for key, value in body.items():
            if value is None:
                continue
            if not isinstance(value, str):
                raise _TokenFailure(400, "invalid_request", f"{key} must be a string")
            params[key] = value
        return params
    return {key: request.form.get(key, "") for key in request.form}


def _token_view(state: SandboxState) -> Callable[[], Response]:
    data = state.data

    def token() -> Response:
        params = _token_params()
        grant = params.get("grant_type", "")
        request.environ[_GRANT_KEY] = grant or None
        request.environ[_ORG_KEY] = params.get("organization_id") or None
        if not grant:
            raise _TokenFailure(400, "invalid_request", "grant_type is required")
        client_id = params.get("client_id", "")
        if grant == "client_credentials":
            if not client_id:
                raise _TokenFailure(400, "invalid_request", "client_id is required")
            client = data.clients.get(client_id)
            secret = params.get("client_secret", "")
            if client is None:
                raise _TokenFailure(401, "invalid_client", "client_id is unknown")
            expected = client.get("secret", "")
            if expected and not secret:  # a confidential client authenticates with its secret
                raise _TokenFailure(401, "invalid_client", "client_secret is required")
            if secret and not hmac.compare_digest(secret, expected):
                raise _TokenFailure(401, "invalid_client", "client_secret is wrong")
            issued = state.tokens.issue_refresh(client_id)
            answer: models.RefreshToken | models.AccessToken = models.RefreshToken(
                refresh_token=issued.token, expires_in=issued.expires_in
            )
            return _json_response(answer, headers=_NO_STORE)
        if grant == "refresh_token":
            refresh = params.get("refresh_token", "")
            if not refresh:
                raise _TokenFailure(400, "invalid_request", "refresh_token is required")
            if client_id and client_id not in data.clients:
                raise _TokenFailure(401, "invalid_client", "client_id is unknown")
            try:
                claims = state.tokens.check(refresh, "refresh")
            except TokenError as exc:
                why = {
                    "token_expired": "the refresh token has expired",
                    "token_revoked": "the refresh token has been revoked",
                }
                raise _TokenFailure(
                    400, "invalid_grant", why.get(exc.reason, "the refresh token is invalid")
                ) from None
            if client_id and claims.client_id != client_id:
                raise _TokenFailure(
                    400, "invalid_grant", "the refresh token was issued to another client"
                )
            org = params.get("organization_id") or None
            if org is not None:
                if not is_id(org, "organization"):
                    raise _TokenFailure(
                        400,
                        "invalid_request",
                        "organization_id is not a valid organization id "
                        "(32 characters starting with 'f6')",
                    )
                allowed = data.clients[claims.client_id].get("organizationIds", [])
                if claims.organization_ids is not None:  # a person's grant: their organizations
                    allowed = list(claims.organization_ids)
                if org not in allowed:
                    raise _TokenFailure(
                        403, "access_denied", f"the client may not access organization {org}"
                    )
            issued = state.tokens.issue_access(claims.client_id, org, refresh_id=claims.token_id)
            answer = models.AccessToken(access_token=issued.token, expires_in=issued.expires_in)
            return _json_response(answer, headers=_NO_STORE)
        if grant == "authorization_code":
            status, granted = authorization_code_grant(state, params)
            return _json_response(granted, status, _NO_STORE)
        raise _TokenFailure(
            400,
            "unsupported_grant_type",
            f"grant_type {grant!r} is not supported; use client_credentials or refresh_token",
        )

    return token


def _revoke_view(state: SandboxState) -> Callable[[], Response]:
    def revoke() -> Response:
        status, answer = revoke_answer(state.tokens, state.data.clients, _token_params())
        if answer is None:
            return Response(b"", 200, _NO_STORE, content_type="text/plain; charset=utf-8")
        return _json_response(answer, status, _NO_STORE)

    return revoke


# --- faults and request log -----------------------------------------------------------------
def _drop(environ: dict) -> None:
    sock = environ.get("werkzeug.socket")
    if sock is not None:
        try:
            sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
    # werkzeug treats ConnectionError as "client went away": no answer, no traceback.
    raise ConnectionAbortedError("sandbox fault: connection dropped")


def _fault_answer(path: str, status: int, retry_after: int) -> tuple[bytes, list[tuple[str, str]]]:
    headers = [("Content-Type", "application/json")]
    if status == 429:
        headers.append(("Retry-After", str(retry_after)))
    if path in (TOKEN_PATH, REVOKE_PATH):
        error = {429: "slow_down", 503: "temporarily_unavailable"}.get(status, "server_error")
        description = f"{status} {status_phrase(status)}"
        payload: Any = models.TokenError(error=error, error_description=description)  # type: ignore[arg-type]
    elif path == AUTHORIZE_PATH:
        page = f"<!doctype html><title>{status}</title><p>{status} {status_phrase(status)}</p>"
        headers[0] = ("Content-Type", "text/html; charset=utf-8")
        headers.append(("Content-Length", str(len(page))))
        return page.encode(), headers
    else:
        locale = _path_locale(path)
        if status == 429:
            msg = failure(None, "rate_limited", locale, seconds=retry_after)
        else:
            msg = failure(None, "server_fault", locale, phrase=f"{status} {status_phrase(status)}")
        payload = envelope(None, [msg])
    body = _encode(payload)
    headers.append(("Content-Length", str(len(body))))
    return body, headers


_PORT = re.compile(r":[0-9]{1,5}")


def _loopback_host(host: str) -> bool:
    """Whether a ``Host`` header names a loopback address: ``localhost``, 127.0.0.0/8 or
    ``[::1]``, with or without a port.

    Example:
        >>> [_loopback_host(h) for h in ("localhost:8765", "127.0.0.2", "[::1]:80", "evil.test")]
        [True, True, True, False]
    """
    host = host.strip().lower()
    if host.startswith("["):
        name, bracket, port = host[1:].partition("]")
        if not bracket:
            return False
    else:
        name, colon, port = host.partition(":")
        port = colon + port
    if port and not _PORT.fullmatch(port):
        return False
    if name in ("localhost", "localhost."):
        return True
    try:
        address = ipaddress.ip_address(name)
    except ValueError:
        return False
    return address.is_loopback and (address.version == 6) == host.startswith("[")


def _misdirected_answer(path: str) -> tuple[bytes, list[tuple[str, str]]]:
    """The 421 answer to a request whose ``Host`` is not a loopback name (never naming it)."""
    locale = _path_locale(path)
    if path.startswith(API_PREFIX):
        body = _encode(envelope(None, [failure(None, "host_not_loopback", locale)]))
        kind = "application/json"
    elif path in (TOKEN_PATH, REVOKE_PATH):
        description = messages.text("host_not_loopback", "en")
        body = _encode(models.TokenError(error="invalid_request", error_description=description))
        kind = "application/json"
    else:
        body = messages.text("host_not_loopback", "en").encode("utf-8")
        kind = "text/plain; charset=utf-8"
    headers = [
        ("Content-Type", kind),
        ("Content-Length", str(len(body))),
        ("X-Content-Type-Options", "nosniff"),
    ]
    return body, headers


def _rate_limit(state: SandboxState, environ: dict, path: str) -> tuple[Verdict, RateLimit] | None:
    """The gateway's verdict on a request (``None``: not limited): one bucket per client (the
    access token's, or one shared bucket for requests without a valid token) or organization."""
    buckets = state.rate_limiter
    if buckets is None or not buckets.applies(path):
        return None
    key = None
    if buckets.limit.per == "organization":
        match = _ORG_IN_PATH.match(path)
        key = match.group(1) if match else None
    if key is None:
        scheme, _, token = environ.get("HTTP_AUTHORIZATION", "").partition(" ")
        try:
            key = state.tokens.check(token.strip(), "access").client_id
        except TokenError:
            key = "-"
    return buckets.take(key), buckets.limit


class _FaultsAndLog:
    """WSGI middleware around the Flask app: the loopback-Host check, latency, injected faults
    and the request log.

    A request whose ``Host`` header is not a loopback name is answered 421 before anything
    else: a web page whose domain an attacker re-points at 127.0.0.1 (DNS rebinding) sends its
    own domain as ``Host``, and must neither reach the API nor see its name in ``/openapi.json``.
    """

    def __init__(self, app: Callable, state: SandboxState) -> None:
        self.app = app
        self.state = state

    def __call__(self, environ: dict, start_response: Callable) -> Any:
        state = self.state
        path = environ.get("PATH_INFO", "") or "/"
        arrived = state.now()

        def record(status: int | None, dropped: bool = False, throttled: bool = False) -> None:
            org = environ.get(_ORG_KEY)
            if org is None:
                match = _ORG_IN_PATH.match(path)
                org = match.group(1) if match else None
            state.log.add(
                RequestRecord(
                    method=environ.get("REQUEST_METHOD", ""),
                    path=path,
                    query=environ.get("QUERY_STRING", ""),
                    status=status,
                    time=arrived,
                    grant_type=environ.get(_GRANT_KEY),
                    organization_id=org,
                    dropped=dropped,
                    throttled=throttled,
                )
            )

        host = environ.get("HTTP_HOST")
        if host is not None and not _loopback_host(host):
            body, headers = _misdirected_answer(path)
            record(421)
            start_response(f"421 {status_phrase(421)}", headers)
            return [body]
        # the gateway decides on arrival and refuses at once; the API behind it takes the
        # latency and has the faults
        limited = _rate_limit(state, environ, path)
        if limited is not None and not limited[0].allowed:
            verdict, limit = limited
            body, headers = _fault_answer(path, 429, math.ceil(verdict.retry_after))
            headers = [h for h in headers if h[0] != "Retry-After"] + verdict.headers(limit)
            record(429, throttled=True)
            start_response(f"429 {status_phrase(429)}", headers)
            return [body]
        latency, fault, retry_after = state.decide_fault(path)
        if latency:
            time.sleep(latency / 1000.0)
        if fault == "drop":
            record(None, dropped=True)
            _drop(environ)
        if isinstance(fault, int):
            body, headers = _fault_answer(path, fault, retry_after)
            record(fault)
            start_response(f"{fault} {status_phrase(fault)}", headers)
            return [body]
        seen: dict[str, int] = {}
        extra = [] if limited is None else limited[0].headers(limited[1])

        def capture(status: str, headers: list, exc_info: Any = None) -> Callable:
            seen["status"] = int(status.split(" ", 1)[0])
            if fault == "drop_after":
                return lambda _data: None
            return start_response(status, [*headers, *extra], exc_info)

        result = self.app(environ, capture)
        if fault == "drop_after":
            try:
                for _chunk in result:
                    pass
            finally:
                if hasattr(result, "close"):
                    result.close()
            record(seen.get("status"), dropped=True)
            _drop(environ)
        record(seen.get("status"))
        return result


def appointment_entity(state: SandboxState, appt: Appointment, locale: str = "en") -> dict:
    """The APPOINTMENT the API answers for a stored appointment, as the client reads it (a dict
    of JSON values).

    Example:
        >>> state = SandboxState(now="2026-12-01T09:00:00+01:00")
        >>> appointment_entity(state, state.book.all()[0])["class"]
        'APPOINTMENT'
    """
    return msgspec.to_builtins(_Api(state).appointment_entity(appt, locale))


def create_app(state: SandboxState, *, dialect: str | None = None) -> Flask:
    """The Flask app serving ``state``: token endpoint, Module API v3, ``/openapi.json``.

    Usable with Flask's test client as well as behind :class:`~bt_explore.sandbox.Sandbox`'s
    HTTP server. ``dialect`` ``"php"`` answers the Module API in the shapes of bookingtime's
    PHP backend (:mod:`bt_explore.sandbox.dialect`; ``None``: its ``DEFAULT_DIALECT``).

    Example:
        >>> from bt_explore.sandbox.state import SandboxState
        >>> client = create_app(SandboxState()).test_client()
        >>> client.post("/oauth/token", data={"grant_type": "password"}).json["error"]
        'unsupported_grant_type'
    """
    app = Flask("bt_explore.sandbox")
    app.config["SANDBOX_STATE"] = state
    # Reading a larger body raises RequestEntityTooLarge (413), answered by on_http_error below;
    # one limit for the whole body and for a form field (werkzeug's own default is 500 kB).
    app.config["MAX_CONTENT_LENGTH"] = state.max_body_size
    app.config["MAX_FORM_MEMORY_SIZE"] = state.max_body_size
    app.url_map.strict_slashes = False
    api = _Api(state)

    for endpoint in ENDPOINTS.values():
        app.add_url_rule(
            API_PREFIX + "<locale>/" + endpoint.flask_rule,
            endpoint=endpoint.name,
            view_func=_make_view(api, endpoint),
            methods=[endpoint.method],
            provide_automatic_options=False,
        )
    app.add_url_rule(
        TOKEN_PATH, "token", _token_view(state), methods=["POST"], provide_automatic_options=False
    )
    app.add_url_rule(
        REVOKE_PATH,
        "revoke",
        _revoke_view(state),
        methods=["POST"],
        provide_automatic_options=False,
    )
    app.add_url_rule(
        AUTHORIZE_PATH,
        "authorize",
        authorize_view(state),
        methods=["GET", "POST"],
        provide_automatic_options=False,
    )

    @app.get("/openapi.json")
    def openapi() -> Response:
        from bt_explore.sandbox.openapi import build_openapi

        return _json_response(build_openapi(request.host_url.rstrip("/")))

    @app.get("/")
    def index() -> Response:
        base = request.host_url.rstrip("/")
        return _json_response(
            {
                "name": "bt_explore sandbox of bookingtime's auth server and Module API v3",
                "auth_url": base + TOKEN_PATH,
                "authorize_url": base + AUTHORIZE_PATH,
                "revocation_url": base + REVOKE_PATH,
                "api_url": base + API_PREFIX,
                "openapi": base + "/openapi.json",
                "client_id": state.data.demo_client_id,
                "organization_id": state.data.demo_organization_id,
                "other_organization_id": state.data.other_organization_id,
                "now": state.now().isoformat(),
            }
        )

    @app.errorhandler(ApiFailure)
    def on_api_failure(exc: ApiFailure) -> Response:
        return _failure_answer(exc.status, exc.messages, exc.headers)

    @app.errorhandler(_TokenFailure)
    def on_token_failure(exc: _TokenFailure) -> Response:
        return _token_error(exc.status, exc.error, exc.description)

    @app.errorhandler(HTTPException)
    def on_http_error(exc: HTTPException) -> Response:
        code = exc.code or 500
        headers: dict[str, str] = {}
        allowed = ""
        if isinstance(exc, MethodNotAllowed) and exc.valid_methods:
            allowed = ", ".join(sorted(set(exc.valid_methods) - {"HEAD", "OPTIONS"}))
            headers["Allow"] = allowed
        if request.path in (TOKEN_PATH, REVOKE_PATH):
            error = "invalid_request"
            text = f"{request.method} is not allowed; use POST" if code == 405 else exc.description
            if code == 413:
                text = f"the request body is too large (at most {state.max_body_size} bytes)"
            answer = _token_error(code, error, text or status_phrase(code))
            answer.headers.update(headers)
            return answer
        if request.path == AUTHORIZE_PATH:
            answer = error_page(code, f"{code} {status_phrase(code)}")
            answer.headers.update(headers)
            return answer
        locale = _path_locale(request.path)
        if code == 404:
            msg = failure(None, "route_not_found", locale, method=request.method, path=request.path)
        elif code == 413:
            msg = failure(None, "body_too_large", locale, max=state.max_body_size)
        elif code == 405:
            msg = failure(
                None,
                "method_not_allowed",
                locale,
                method=request.method,
                path=request.path,
                allowed=allowed,
            )
        else:
            msg = failure(None, "status_text", locale, code=code, phrase=status_phrase(code))
        return _failure_answer(code, [msg], headers)

    @app.errorhandler(Exception)
    def on_unexpected(exc: Exception) -> Response:
        log.exception("sandbox: unexpected error on %s %s", request.method, request.path)
        return _failure_answer(500, [failure(None, "internal_error", _path_locale(request.path))])

    if check_dialect(dialect or dialects.DEFAULT_DIALECT) == "php":
        app.wsgi_app = DialectMiddleware(app.wsgi_app, API_PREFIX)  # type: ignore[method-assign]
    app.wsgi_app = _FaultsAndLog(app.wsgi_app, state)  # type: ignore[method-assign]
    return app
