"""An OpenAPI 3.1 document of the emulated API, generated from the endpoint table.

Served by the sandbox at ``/openapi.json``; it describes the token endpoint and every row of
:data:`bt_explore.endpoints.ENDPOINTS` with its parameters, body and answers, so contract tests
and fuzzers can be driven from it.

Example:
    >>> doc = build_openapi("http://127.0.0.1:8765")
    >>> doc["paths"]["/oauth/token"]["post"]["operationId"]
    'token'
    >>> "/module/v3/{locale}/organization/{org}/show" in doc["paths"]
    True
"""

from __future__ import annotations

from typing import Any

from bt_explore.endpoints import ENDPOINTS, ID_PREFIXES, STATIC_LISTS, Endpoint
from bt_explore.version import __version__

__all__ = ["build_openapi"]

_REF = "#/components/schemas/"


def _ref(name: str) -> dict:
    return {"$ref": _REF + name}


def _id(kind: str) -> dict:
    return {"type": "string", "pattern": f"^{ID_PREFIXES[kind]}[0-9a-zA-Z]{{30}}$"}


_STRING = {"type": "string"}
_EMPTY = {"type": "string", "maxLength": 0}
_I18N = {"description": '[], "", {locale: text} or [{key, value}]'}

#: Path placeholder -> (OpenAPI parameter schema, description).
_PARAMETERS: dict[str, tuple[dict, str]] = {
    "org": (_id("organization"), "Organization id."),
    "template_id": (_id("bookingTemplate"), "Booking template id."),
    "resource_id": (_id("bookingResource"), "Booking resource id."),
    "appointment_id": (_id("appointment"), "Appointment id."),
    "custom_id": ({"type": "string", "minLength": 1}, "The entity's customId."),
    "year": ({"type": "integer", "minimum": 1970, "maximum": 9998}, "Year."),
    "month": ({"type": "integer", "minimum": 1, "maximum": 12}, "Month 1-12."),
    "day": ({"type": "integer", "minimum": 1, "maximum": 31}, "Day of the month."),
    "week": ({"type": "integer", "minimum": 1, "maximum": 53}, "ISO week."),
    "code": ({"type": "integer", "minimum": 400, "maximum": 599}, "HTTP error status."),
    "kind": ({"type": "string", "enum": list(STATIC_LISTS)}, "Static list name."),
}

_CONTENT: dict[str, dict] = {
    "organization_show": _ref("Organization"),
    "template_list": _ref("TemplateList"),
    "template_show": _ref("BookingTemplate"),
    "template_identify": _ref("BookingTemplate"),
    "resource_template_list": _ref("TemplateList"),
    "resource_list": _ref("ResourceList"),
    "resource_show": _ref("BookingResource"),
    "resource_identify": _ref("BookingResource"),
    "slot_earliest": _ref("EarliestRange"),
    "slot_list_day": _ref("RangeList"),
    "slot_list_week": _ref("RangeList"),
    "slot_list_month": _ref("RangeList"),
    "appointment_add": _ref("Appointment"),
    "appointment_show": _ref("Appointment"),
    "appointment_identify": _ref("Appointment"),
    "appointment_move": _ref("Appointment"),
    "appointment_cancel": _ref("Appointment"),
    "static_list": _ref("StaticList"),
}

_ERRORS = {
    "400": "Validation failed or the slot is no longer bookable.",
    "401": "Missing, invalid, expired or revoked access token.",
    "403": "The token is not scoped to the organization in the URL.",
    "404": "Unknown entity (or an id of the wrong shape) or route.",
    "405": "Wrong HTTP method.",
    "421": "The Host header is not a loopback name (localhost, 127.0.0.1, [::1]).",
    "429": "Too many requests (see Retry-After).",
    "500": "Server trouble.",
    "503": "Service unavailable.",
}


def _schemas() -> dict[str, Any]:
    address = {
        "type": ["object", "null"],
        "properties": {
            "class": {"const": "ADDRESS"},
            "name": _STRING,
            "extra": _STRING,
            "street": _STRING,
            "zip": _STRING,
            "city": _STRING,
            "country": {"type": "string", "pattern": "^([A-Z]{2})?$", "description": "ISO 3166"},
            "geoCoordinates": {"type": ["object", "null"]},
        },
    }
    resource = {
        "type": "object",
        "required": ["class", "id", "type", "name"],
        "properties": {
            "class": {"const": "BOOKING_RESOURCE"},
            "id": _id("bookingResource"),
            "customId": _STRING,
            "type": _STRING,
            "name": _STRING,
            "nameI18nList": _I18N,
            "gender": _STRING,
            "title": _STRING,
            "firstName": _STRING,
            "lastName": _STRING,
            "description": _STRING,
            "descriptionI18nList": _I18N,
            "image": _STRING,
            "additionalData": {},
        },
    }
    step = {
        "type": "object",
        "properties": {
            "class": {"const": "BOOKING_STEP"},
            "name": _STRING,
            "selectionQuantity": {"type": "integer"},
            "bookingResourceList": {"type": "array", "items": _ref("BookingResource")},
        },
    }
    template = {
        "type": "object",
        "required": ["class", "id", "name", "duration"],
        "properties": {
            "class": {"const": "BOOKING_TEMPLATE"},
            "id": _id("bookingTemplate"),
            "customId": _STRING,
            "name": _STRING,
            "nameI18nList": _I18N,
            "location": _STRING,
            "duration": {"type": "integer", "description": "minutes"},
            "leadTime": {"type": "integer"},
            "followupTime": {"type": "integer"},
            "price": {"type": ["object", "null"]},
            "showPrice": {"type": "boolean"},
            "priceGross": {"type": "number"},
            "currency": _STRING,
            "taxRate": {"type": "number"},
            "description": _STRING,
            "appointmentAddressRequired": {"type": "boolean"},
            "customerAddressRequired": {"type": "boolean"},
            "customerEmailRequired": {"type": "boolean"},
            "customerMobileRequired": {"type": "boolean"},
            "bookingDayEarliest": {"type": "integer", "description": "days"},
            "bookingDayLatest": {"type": "integer", "description": "days"},
            "bookingLeadTime": {"type": "integer", "description": "minutes"},
            "address": _ref("Address"),
            "bookingStepList": {"type": "array", "items": _ref("BookingStep")},
            "emailTemplateList": {"type": "array"},
            "smsTemplateList": {"type": "array"},
            "extraFieldList": {"type": "array"},
        },
    }
    slot = {
        "type": "object",
        "required": ["class", "id", "timestamp", "bookingResourceCombination"],
        "properties": {
            "class": {"const": "BOOKING_SLOT"},
            "id": _id("bookingSlot"),
            "timestamp": {"type": "string", "format": "date-time"},
            "bookingResourceCombination": {"type": "array", "items": _id("bookingResource")},
        },
    }
    range_props = {
        "class": {"const": "RANGE_LIST"},
        "rangeStart": {"type": "string", "format": "date-time"},
        "rangeEnd": {"type": "string", "format": "date-time"},
        "timeZone": _STRING,
        "list": {"type": "array", "items": _ref("BookingSlot")},
    }
    customer = {
        "type": "object",
        "required": ["firstName", "lastName"],
        "properties": {
            "customId": _STRING,
            "gender": {"enum": ["MALE", "FEMALE", "NOT_SPECIFIED"]},
            "title": _STRING,
            "firstName": {"type": "string", "minLength": 1},
            "lastName": {"type": "string", "minLength": 1},
            # "" is what an optional, unset birthday or e-mail is sent and answered as
            "birthday": {"anyOf": [{"type": "null"}, _EMPTY, {"type": "string", "format": "date"}]},
            "email": {"anyOf": [_EMPTY, {"type": "string", "format": "email"}]},
            "mobile": _STRING,
            "notes": _STRING,
            "address": _ref("Address"),
            "locale": _STRING,
        },
    }
    appointment = {
        "type": "object",
        "required": ["class", "id", "start", "end", "duration", "canceled", "moved"],
        "properties": {
            "class": {"const": "APPOINTMENT"},
            "id": _id("appointment"),
            "customId": _STRING,
            "start": {"type": "string", "format": "date-time"},
            "end": {"type": "string", "format": "date-time"},
            "duration": {"type": "integer"},
            "timeZone": _STRING,
            "protected": {"type": "boolean"},
            "name": _STRING,
            "showPrice": {"type": "boolean"},
            "priceGross": {"type": "number"},
            "taxRate": {"type": "number"},
            "currency": _STRING,
            "customer": _ref("Customer"),
            "address": _ref("Address"),
            "canceled": {"type": "boolean"},
            "moved": {"type": "boolean"},
            "bookingResourceList": {"type": "array", "items": _ref("BookingResource")},
            "fileList": {"type": "array"},
            "organizationId": _id("organization"),
        },
    }

    def listing(item: dict) -> dict:
        return {
            "type": "object",
            "required": ["class", "recordTotal", "recordList"],
            "properties": {
                "class": {"const": "LIST"},
                "recordTotal": {"type": "integer"},
                "recordLimit": {"type": "integer"},
                "recordList": {"type": "array", "items": item},
            },
        }

    return {
        "Message": {
            "type": "object",
            "required": ["class", "type", "parameter", "text"],
            "properties": {
                "class": {"const": "MESSAGE"},
                "type": {"enum": ["success", "failure"]},
                "parameter": {"type": ["string", "null"]},
                "text": _STRING,
            },
        },
        "Envelope": {
            "type": "object",
            "required": ["messageList", "content"],
            "properties": {
                "messageList": {"type": "array", "items": _ref("Message")},
                "content": {},
            },
        },
        "Address": address,
        "Organization": {
            "type": "object",
            "required": ["class", "id", "name", "timeZone"],
            "properties": {
                "class": {"const": "ORGANIZATION"},
                "id": _id("organization"),
                "name": _STRING,
                "address": _ref("Address"),
                "openingHours": {"type": "array"},
                "timeZone": _STRING,
                "currency": _STRING,
                "sector": {
                    "type": "string",
                    "description": 'A code of static/sector/list: "01ab".',
                },
            },
        },
        "BookingResource": resource,
        "BookingStep": step,
        "BookingTemplate": template,
        "BookingSlot": slot,
        "RangeList": {"type": "object", "required": list(range_props), "properties": range_props},
        "EarliestRange": {
            "type": "object",
            "required": ["rangeStart", "rangeEnd", "timeZone", "bookingSlotList"],
            "properties": {
                "rangeStart": range_props["rangeStart"],
                "rangeEnd": range_props["rangeEnd"],
                "timeZone": _STRING,
                "bookingSlotList": {"type": "array", "items": _ref("BookingSlot")},
            },
            "additionalProperties": False,
        },
        "TemplateList": listing(_ref("BookingTemplate")),
        "ResourceList": listing(_ref("BookingResource")),
        "StaticList": listing(
            {
                # bookingtime's own plugins read ``code`` and ``name`` of these records
                "type": "object",
                "required": ["class", "code", "name"],
                "properties": {"class": _STRING, "code": _STRING, "name": _STRING},
            }
        ),
        "Customer": customer,
        "Appointment": appointment,
        "AppointmentAdd": {
            "type": "object",
            "required": ["bookingSlotId", "customer"],
            "properties": {
                "bookingSlotId": _id("bookingSlot"),
                "customer": _ref("Customer"),
                "customId": {"type": "string", "maxLength": 128},
                "notes": _STRING,
                "address": _ref("Address"),
                "sendAppointmentAddEventEmail": {"type": "boolean"},
                "sendAppointmentStartEventEmail": {"type": "boolean"},
                "sendAppointmentEndEventEmail": {"type": "boolean"},
                "additionalData": {
                    "type": "object",
                    "additionalProperties": {"type": "array", "items": _STRING},
                },
            },
        },
        "AppointmentMove": {
            "type": "object",
            "required": ["bookingSlotId"],
            "properties": {"bookingSlotId": _id("bookingSlot")},
        },
        "TokenRequest": {
            "type": "object",
            "required": ["grant_type"],
            "properties": {
                "grant_type": {"enum": ["client_credentials", "refresh_token"]},
                "client_id": _id("module"),
                "client_secret": {"type": "string", "description": "empty for modules"},
                "refresh_token": _STRING,
                "organization_id": _id("organization"),
            },
        },
        "TokenAnswer": {
            "type": "object",
            "required": ["token_type", "expires_in"],
            "properties": {
                "refresh_token": _STRING,
                "access_token": _STRING,
                "token_type": {"const": "Bearer"},
                "expires_in": {"type": "integer"},
            },
        },
        "TokenError": {
            "type": "object",
            "required": ["error", "error_description"],
            "properties": {
                "error": {
                    "enum": [
                        "invalid_request",
                        "invalid_client",
                        "invalid_grant",
                        "unsupported_grant_type",
                        "access_denied",
                        "server_error",
                        "temporarily_unavailable",
                        "slow_down",
                    ]
                },
                "error_description": _STRING,
            },
        },
    }


def _envelope_of(content: dict | None) -> dict:
    if content is None:
        return _ref("Envelope")
    return {"allOf": [_ref("Envelope"), {"properties": {"content": content}}]}


def _json(schema: dict, description: str) -> dict:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def _operation(ep: Endpoint) -> dict:
    parameters = [
        {
            "name": "locale",
            "in": "path",
            "required": True,
            "description": "Message language: en, de (also en_EN, de_DE; others fall back to en).",
            "schema": {"type": "string", "examples": ["en", "de"]},
        }
    ]
    for name in ep.fields:
        schema, description = _PARAMETERS[name]
        parameters.append(
            {
                "name": name,
                "in": "path",
                "required": True,
                "description": description,
                "schema": schema,
            }
        )
    responses: dict[str, Any] = {}
    if ep.name == "static_error":
        responses["4XX"] = _json(_ref("Envelope"), "The error envelope, with status = code.")
        responses["5XX"] = _json(_ref("Envelope"), "The error envelope, with status = code.")
    else:
        responses[str(ep.success_status)] = _json(
            _envelope_of(_CONTENT.get(ep.name)), ep.description or "Success."
        )
    for code, description in _ERRORS.items():
        responses.setdefault(code, _json(_ref("Envelope"), description))
    responses["429"]["headers"] = {"Retry-After": {"schema": {"type": "integer"}}}
    operation: dict[str, Any] = {
        "operationId": ep.name,
        "summary": ep.description,
        "tags": ["organization" if ep.organization_scoped else "static"],
        "parameters": parameters,
        "responses": responses,
        "security": [{"bearer": []}],
    }
    if ep.name in ("appointment_add", "appointment_move"):
        body = "AppointmentAdd" if ep.name == "appointment_add" else "AppointmentMove"
        operation["requestBody"] = {
            "required": True,
            "content": {"application/json": {"schema": _ref(body)}},
        }
        responses["413"] = _json(_ref("Envelope"), "The body is larger than the sandbox accepts.")
    return operation


def build_openapi(server_url: str | None = None) -> dict[str, Any]:
    """The OpenAPI 3.1 document of the sandbox (``server_url``: its base URL, if known).

    Example:
        >>> ops = [op["operationId"] for p in build_openapi()["paths"].values() for op in p.values()]
        >>> "appointment_add" in ops and "slot_list_month" in ops
        True
    """
    paths: dict[str, dict] = {
        "/oauth/token": {
            "post": {
                "operationId": "token",
                "summary": "Client credentials -> refresh token; refresh token (+ organization_id) "
                "-> access token.",
                "tags": ["auth"],
                "requestBody": {
                    "required": True,
                    "content": {
                        media: {"schema": _ref("TokenRequest")}
                        for media in (
                            "application/x-www-form-urlencoded",
                            "multipart/form-data",
                            "application/json",
                        )
                    },
                },
                "responses": {
                    "200": _json(_ref("TokenAnswer"), "A refresh or access token."),
                    "400": _json(_ref("TokenError"), "invalid_request, invalid_grant, ..."),
                    "401": _json(_ref("TokenError"), "invalid_client."),
                    "403": _json(_ref("TokenError"), "Organization not accessible."),
                    "405": _json(_ref("TokenError"), "Wrong HTTP method."),
                    "413": _json(
                        _ref("TokenError"), "The body is larger than the sandbox accepts."
                    ),
                },
            }
        }
    }
    for ep in ENDPOINTS.values():
        path = "/module/v3/{locale}/" + ep.path
        paths.setdefault(path, {})[ep.method.lower()] = _operation(ep)
    doc: dict[str, Any] = {
        "openapi": "3.1.0",
        "info": {
            "title": "bt_explore sandbox: bookingtime auth server and Module API v3",
            "version": __version__,
            "description": "A local, stateful emulator. Every API answer is the envelope "
            "{messageList, content}; errors carry failure messages naming the parameter.",
        },
        "paths": paths,
        "components": {
            "schemas": _schemas(),
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
        },
    }
    if server_url:
        doc["servers"] = [{"url": server_url}]
    return doc
