"""An OpenAPI 3.1 document of the emulated API, derived from the endpoint table and the models.

Served by the sandbox at ``/openapi.json``; it describes the token endpoint and every row of
:data:`bt_explore.endpoints.ENDPOINTS` with its parameters, body and answers, so contract tests
and fuzzers can be driven from it. The component schemas are generated from
:mod:`bt_explore.models` (``msgspec.json.schema_components``); each operation's request body and
success answer are the types its endpoint row names. What is written here is only what the types
cannot say: path parameters, error statuses and their meaning.

Example:
    >>> doc = build_openapi("http://127.0.0.1:8765")
    >>> doc["paths"]["/oauth/token"]["post"]["operationId"]
    'token'
    >>> "/module/v3/{locale}/organization/{org}/show" in doc["paths"]
    True
"""

from __future__ import annotations

from typing import Any

import msgspec

from bt_explore.endpoints import (
    API_PREFIX,
    AUTHORIZE_PATH,
    ENDPOINTS,
    REVOKE_PATH,
    STATIC_LISTS,
    TOKEN_PATH,
    Endpoint,
)
from bt_explore.models import (
    CUSTOM_ENTITY_TYPE_PATTERN,
    KINDS,
    AccessToken,
    AuthorizeForm,
    AuthorizeRequest,
    ErrorEnvelope,
    RawBytes,
    RefreshToken,
    TokenError,
    TokenRequest,
    id_pattern,
)
from bt_explore.version import __version__

__all__ = ["build_openapi"]

_REF = "#/components/schemas/"


def _id(kind: str) -> dict:
    return {"type": "string", "pattern": id_pattern(kind)}


#: Path placeholder -> (OpenAPI parameter schema, description).
_PARAMETERS: dict[str, tuple[dict, str]] = {
    "org": (_id("organization"), "Organization id."),
    "template_id": (_id(KINDS.booking_template), "Booking template id."),
    "resource_id": (_id(KINDS.booking_resource), "Booking resource id."),
    "appointment_id": (_id("appointment"), "Appointment id."),
    "custom_id": ({"type": "string", "minLength": 1}, "The entity's customId."),
    "year": ({"type": "integer", "minimum": 1970, "maximum": 9998}, "Year."),
    "month": ({"type": "integer", "minimum": 1, "maximum": 12}, "Month 1-12."),
    "day": ({"type": "integer", "minimum": 1, "maximum": 31}, "Day of the month."),
    "week": ({"type": "integer", "minimum": 1, "maximum": 53}, "ISO week."),
    "code": ({"type": "integer", "minimum": 400, "maximum": 599}, "HTTP error status."),
    "kind": ({"type": "string", "enum": list(STATIC_LISTS)}, "Static list name."),
    "file_id": (_id("file"), "File id."),
    "custom_entity_type": (
        {"type": "string", "pattern": CUSTOM_ENTITY_TYPE_PATTERN},
        "Custom entity type, the organization's own word (e.g. course, rentalCar).",
    ),
    "custom_entity_id": (_id(KINDS.custom_entity), "Custom entity id."),
    "module_id": (_id("module"), "Module id (the client_id of the token's module)."),
    "module_config_id": (_id("moduleConfig"), "Module config id."),
}

#: Query parameter -> (OpenAPI parameter schema, description); all optional.
_QUERY: dict[str, tuple[dict, str]] = {
    "searchQuery": (
        {"type": "string", "maxLength": 200},
        "Text looked for in the organizations' name, customId and city (any case); empty: all.",
    ),
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


_TOKEN_ANSWERS = (RefreshToken, AccessToken)


def _components() -> tuple[dict[Any, dict], dict[str, Any]]:
    """``(type -> its $ref, component schemas)`` of every type the document names."""
    types: list[Any] = [
        ErrorEnvelope,
        TokenRequest,
        *_TOKEN_ANSWERS,
        TokenError,
        AuthorizeRequest,
        AuthorizeForm,
    ]
    for ep in ENDPOINTS.values():
        types += [
            t for t in (ep.request, ep.response) if t not in (None, RawBytes) and t not in types
        ]
    refs, schemas = msgspec.json.schema_components(types, ref_template=_REF + "{name}")
    for schema in schemas.values():
        # a model's docstring minus its doctest example is the schema's description
        if "description" in schema:
            schema["description"] = schema["description"].split("\n\nExample:")[0].strip()
    return dict(zip(types, refs, strict=True)), schemas


def _json(schema: dict, description: str) -> dict:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def _operation(ep: Endpoint, refs: dict[Any, dict]) -> dict:
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
    for name in ep.query:
        schema, description = _QUERY[name]
        parameters.append(
            {
                "name": name,
                "in": "query",
                "required": False,
                "description": description,
                "schema": schema,
            }
        )
    error = refs[ErrorEnvelope]
    responses: dict[str, Any] = {}
    if ep.name == "static_error":
        responses["4XX"] = _json(refs[ep.response], "The error envelope, with status = code.")
        responses["5XX"] = _json(refs[ep.response], "The error envelope, with status = code.")
    elif ep.response is RawBytes:
        # the file's own type (from its name), application/octet-stream when unknown
        binary = {"schema": {"type": "string", "format": "binary"}}
        responses[str(ep.success_status)] = {
            "description": ep.description,
            "headers": {"Content-Disposition": {"required": True, "schema": {"type": "string"}}},
            "content": {"application/octet-stream": binary, "*/*": binary},
        }
    else:
        responses[str(ep.success_status)] = _json(refs[ep.response], ep.description or "Success.")
    for code, description in _ERRORS.items():
        responses.setdefault(code, _json(error, description))
    responses["429"]["headers"] = {"Retry-After": {"schema": {"type": "integer"}}}
    operation: dict[str, Any] = {
        "operationId": ep.name,
        "summary": ep.description,
        "tags": ["static" if ep.path.startswith("static/") else "organization"],
        "parameters": parameters,
        "responses": responses,
        "security": [{"bearer": []}],
    }
    if ep.request is not None:
        operation["requestBody"] = {
            "required": True,
            "content": {"application/json": {"schema": refs[ep.request]}},
        }
        responses["413"] = _json(error, "The body is larger than the sandbox accepts.")
    return operation


def _token_operation(refs: dict[Any, dict]) -> dict:
    error = refs[TokenError]
    return {
        "operationId": "token",
        "summary": "Client credentials -> refresh token; refresh token (+ organization_id) "
        "-> access token; authorization code (+ PKCE verifier) -> a person's refresh token.",
        "tags": ["auth"],
        "requestBody": {
            "required": True,
            "content": {
                media: {"schema": refs[TokenRequest]}
                for media in (
                    "application/x-www-form-urlencoded",
                    "multipart/form-data",
                    "application/json",
                )
            },
        },
        "responses": {
            "200": _json(
                {"anyOf": [refs[t] for t in _TOKEN_ANSWERS]}, "A refresh or access token."
            ),
            "400": _json(error, "invalid_request, invalid_grant, ..."),
            "401": _json(error, "invalid_client."),
            "403": _json(error, "Organization not accessible."),
            "405": _json(error, "Wrong HTTP method."),
            "413": _json(error, "The body is larger than the sandbox accepts."),
        },
    }


def _revoke_operation(refs: dict[Any, dict]) -> dict:
    """POST /oauth/revoke: RFC 7009 token revocation."""
    error = refs[TokenError]
    form = {
        "type": "object",
        "required": ["token", "client_id"],
        "properties": {
            "token": {"type": "string", "description": "The refresh or access token."},
            "token_type_hint": {"enum": ["refresh_token", "access_token"]},
            "client_id": {"type": "string"},
            "client_secret": {"type": "string", "description": "Confidential clients only."},
        },
    }
    return {
        "operationId": "revoke",
        "summary": "Revoke a token (RFC 7009); a refresh token's access tokens end with it.",
        "tags": ["auth"],
        "requestBody": {
            "required": True,
            "content": {"application/x-www-form-urlencoded": {"schema": form}},
        },
        "responses": {
            "200": {"description": "Revoked, or not a valid token (RFC 7009 §2.2); no body."},
            "400": _json(error, "invalid_request, unsupported_token_type."),
            "401": _json(error, "invalid_client."),
            "405": _json(error, "Wrong HTTP method."),
        },
    }


def _page(description: str, media: str = "text/html") -> dict:
    return {"description": description, "content": {media: {"schema": {"type": "string"}}}}


def _authorize_operations(refs: dict[Any, dict], schemas: dict[str, Any]) -> dict:
    """GET (the consent page, query from AuthorizeRequest) and POST (its form) of /oauth/authorize."""
    query = schemas[refs[AuthorizeRequest]["$ref"].removeprefix(_REF)]
    responses = {
        "200": _page("The consent page: sign in and allow, or decline."),
        "302": {
            "description": "Back to redirect_uri with code and state, or error and "
            "error_description (RFC 6749 §4.1.2).",
            "headers": {"Location": {"required": True, "schema": {"type": "string"}}},
        },
        "400": _page("An error page: unknown client, redirect_uri not registered, wrong password."),
        "405": _page("Wrong HTTP method."),
        "421": _page(_ERRORS["421"], "text/plain"),
        "429": {
            **_page("Too many requests (see Retry-After)."),
            "headers": {"Retry-After": {"schema": {"type": "integer"}}},
        },
        "503": _page("Service unavailable."),
    }
    common = {"tags": ["auth"], "security": []}
    return {
        "get": {
            "operationId": "authorize",
            "summary": "A person signs in and lets the client act for them (authorization code).",
            **common,
            "parameters": [
                {
                    "name": name,
                    "in": "query",
                    "required": name in query.get("required", ()),
                    "schema": schema,
                }
                for name, schema in query["properties"].items()
            ],
            "responses": responses,
        },
        "post": {
            "operationId": "authorize_decision",
            "summary": "The consent page's form: the person's e-mail, password and decision.",
            **common,
            "requestBody": {
                "required": True,
                "content": {"application/x-www-form-urlencoded": {"schema": refs[AuthorizeForm]}},
            },
            "responses": {
                **responses,
                "413": _page("The body is larger than the sandbox accepts."),
            },
        },
    }


def build_openapi(server_url: str | None = None) -> dict[str, Any]:
    """The OpenAPI 3.1 document of the sandbox (``server_url``: its base URL, if known).

    Example:
        >>> ops = [op["operationId"] for p in build_openapi()["paths"].values() for op in p.values()]
        >>> "appointment_add" in ops and "slot_list_month" in ops
        True
    """
    refs, schemas = _components()
    paths: dict[str, dict] = {
        TOKEN_PATH: {"post": _token_operation(refs)},
        REVOKE_PATH: {"post": _revoke_operation(refs)},
        AUTHORIZE_PATH: _authorize_operations(refs, schemas),
    }
    for ep in ENDPOINTS.values():
        path = API_PREFIX + "{locale}/" + ep.path
        paths.setdefault(path, {})[ep.method.lower()] = _operation(ep, refs)
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
            "schemas": schemas,
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
        },
    }
    if server_url:
        doc["servers"] = [{"url": server_url}]
    return doc
