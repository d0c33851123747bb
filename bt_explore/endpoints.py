"""The bookingtime Module API v3, declared once.

Every endpoint the project knows is one row of :data:`ENDPOINTS`: a Python name, the HTTP verb,
the path template below ``/module/v3/{locale}/``, the status a success answers with, and the
request and response types of :mod:`bt_explore.models`. The client builds its methods' URLs from
this table, the sandbox registers its routes from it, the sandbox's OpenAPI document is generated
from it, and tests check that the README, both sides and every answer agree with it.

Path placeholders are ``{org}`` (organization id), ``{template_id}``, ``{resource_id}``,
``{appointment_id}``, ``{custom_id}``, ``{year}``, ``{month}``, ``{day}``, ``{week}``,
``{code}``, ``{kind}`` (static list name), ``{file_id}``, ``{custom_entity_type}``,
``{custom_entity_id}``, ``{module_id}`` and ``{module_config_id}``. Query parameters an endpoint
reads are named in its row's ``query``.

Example:
    >>> from bt_explore.endpoints import ENDPOINTS
    >>> ENDPOINTS["template_list"].format(org="f6abc")
    'organization/f6abc/bookingTemplate/list'
"""

from __future__ import annotations

import re
import string
from dataclasses import dataclass
from typing import Any

from bt_explore.models import (
    ID_PREFIXES,
    Appointment,
    AppointmentAdd,
    AppointmentMove,
    BookingCategory,
    BookingResource,
    BookingTemplate,
    CustomEntity,
    CustomEntityAdd,
    CustomEntityShort,
    Earliest,
    Envelope,
    ErrorEnvelope,
    File,
    FileAdd,
    List,
    ModuleConfig,
    Organization,
    RangeList,
    RawBytes,
    StaticRecord,
)

__all__ = [
    "API_PREFIX",
    "AUTHORIZE_PATH",
    "REVOKE_PATH",
    "TOKEN_PATH",
    "ENDPOINTS",
    "Endpoint",
    "ID_PREFIXES",
    "ID_PATTERN",
    "STATIC_LISTS",
    "is_id",
]


#: The Module API's base path on its host; the locale and an endpoint's path follow it.
API_PREFIX = "/module/v3/"
#: The auth server's token endpoint.
TOKEN_PATH = "/oauth/token"
#: The auth server's page where a person signs in (beside the token endpoint).
AUTHORIZE_PATH = "/oauth/authorize"
#: The auth server's token revocation endpoint (RFC 7009).
REVOKE_PATH = "/oauth/revoke"


@dataclass(frozen=True)
class Endpoint:
    """One Module API endpoint: name, verb, path template, success status, body and answer types.

    ``request`` is the JSON body's type (``None``: no body); ``response`` the type a success
    answer decodes to (for ``static_error``: the error envelope it is asked for); ``query`` the
    names of the (optional) query parameters it reads.

    Example:
        >>> ep = Endpoint("organization_show", "GET", "organization/{org}/show")
        >>> ep.format(org="f6x")
        'organization/f6x/show'
        >>> ep.fields
        ('org',)
    """

    name: str
    method: str
    path: str
    success_status: int = 200
    description: str = ""
    organization_scoped: bool = True
    request: Any = None
    response: Any = None
    query: tuple[str, ...] = ()

    @property
    def fields(self) -> tuple[str, ...]:
        """The placeholder names in the path template, in order."""
        return tuple(f for _, f, _, _ in string.Formatter().parse(self.path) if f)

    def format(self, **values: object) -> str:
        """The concrete path for these placeholder values.

        Raises ``KeyError`` naming a missing placeholder.
        """
        missing = [f for f in self.fields if f not in values]
        if missing:
            raise KeyError(f"{self.name}: missing path value(s) {', '.join(missing)}")
        return self.path.format(**{k: str(v) for k, v in values.items()})

    @property
    def flask_rule(self) -> str:
        """The path as a Flask/Werkzeug rule (``{org}`` → ``<org>``).

        A ``customId`` is the caller's own text and may hold ``/`` (sent as ``%2F``, which the
        server decodes before routing), so it matches across slashes.

        Example:
            >>> ENDPOINTS["appointment_identify"].flask_rule
            'organization/<org>/appointment/<path:custom_id>/identify'
        """
        return re.sub(
            r"\{(\w+)\}",
            lambda m: f"<path:{m[1]}>" if m[1] == "custom_id" else f"<{m[1]}>",
            self.path,
        )


_SLOTS = "organization/{org}/bookingTemplate/{template_id}/bookingSlot"
_CE = "organization/{org}/customEntity/{custom_entity_type}"

_TABLE: tuple[Endpoint, ...] = (
    Endpoint(
        "organization_show",
        "GET",
        "organization/{org}/show",
        description="The organization.",
        response=Envelope[Organization],
    ),
    Endpoint(
        "template_list",
        "GET",
        "organization/{org}/bookingTemplate/list",
        description="LIST of BOOKING_TEMPLATE.",
        response=Envelope[List[BookingTemplate]],
    ),
    Endpoint(
        "template_show",
        "GET",
        "organization/{org}/bookingTemplate/{template_id}/show",
        description="One BOOKING_TEMPLATE by id.",
        response=Envelope[BookingTemplate],
    ),
    Endpoint(
        "template_identify",
        "GET",
        "organization/{org}/bookingTemplate/{custom_id}/identify",
        description="One BOOKING_TEMPLATE by customId.",
        response=Envelope[BookingTemplate],
    ),
    Endpoint(
        "resource_template_list",
        "GET",
        "organization/{org}/bookingResource/{resource_id}/bookingTemplate/list",
        description="LIST of the BOOKING_TEMPLATEs a resource takes part in.",
        response=Envelope[List[BookingTemplate]],
    ),
    Endpoint(
        "resource_list",
        "GET",
        "organization/{org}/bookingResource/list",
        description="LIST of BOOKING_RESOURCE.",
        response=Envelope[List[BookingResource]],
    ),
    Endpoint(
        "resource_show",
        "GET",
        "organization/{org}/bookingResource/{resource_id}/show",
        description="One BOOKING_RESOURCE by id.",
        response=Envelope[BookingResource],
    ),
    Endpoint(
        "resource_identify",
        "GET",
        "organization/{org}/bookingResource/{custom_id}/identify",
        description="One BOOKING_RESOURCE by customId.",
        response=Envelope[BookingResource],
    ),
    Endpoint(
        "slot_earliest",
        "GET",
        f"{_SLOTS}/earliest",
        description="The earliest free slot(s): rangeStart, rangeEnd, timeZone, bookingSlotList.",
        response=Envelope[Earliest],
    ),
    Endpoint(
        "slot_list_day",
        "GET",
        f"{_SLOTS}/year/{{year}}/month/{{month}}/day/{{day}}/listDay",
        description="RANGE_LIST of the free slots of one day.",
        response=Envelope[RangeList],
    ),
    Endpoint(
        "slot_list_week",
        "GET",
        f"{_SLOTS}/year/{{year}}/week/{{week}}/listWeek",
        description="RANGE_LIST of the free slots of one ISO week.",
        response=Envelope[RangeList],
    ),
    Endpoint(
        "slot_list_month",
        "GET",
        f"{_SLOTS}/year/{{year}}/month/{{month}}/listMonth",
        description="RANGE_LIST of the free slots of one month.",
        response=Envelope[RangeList],
    ),
    Endpoint(
        "appointment_add",
        "POST",
        "organization/{org}/appointment/add",
        201,
        description="Book a slot: APPOINTMENT.",
        request=AppointmentAdd,
        response=Envelope[Appointment],
    ),
    Endpoint(
        "appointment_show",
        "GET",
        "organization/{org}/appointment/{appointment_id}/show",
        description="One APPOINTMENT by id.",
        response=Envelope[Appointment],
    ),
    Endpoint(
        "appointment_identify",
        "GET",
        "organization/{org}/appointment/{custom_id}/identify",
        description="One APPOINTMENT by customId.",
        response=Envelope[Appointment],
    ),
    Endpoint(
        "appointment_move",
        "PUT",
        "organization/{org}/appointment/{appointment_id}/move",
        description="Move to another slot: APPOINTMENT (moved: true).",
        request=AppointmentMove,
        response=Envelope[Appointment],
    ),
    Endpoint(
        "appointment_cancel",
        "PUT",
        "organization/{org}/appointment/{appointment_id}/cancel",
        description="Cancel: APPOINTMENT (canceled: true).",
        response=Envelope[Appointment],
    ),
    Endpoint(
        "file_add",
        "POST",
        "organization/{org}/file/add",
        201,
        description="Attach a file (base64 fileContent) to an appointment: FILE.",
        request=FileAdd,
        response=Envelope[File],
    ),
    Endpoint(
        "file_download",
        "GET",
        "organization/{org}/file/{file_id}/download",
        description="The file's raw bytes (not JSON), with Content-Type and Content-Disposition.",
        response=RawBytes,
    ),
    Endpoint(
        "static_list",
        "GET",
        "static/{kind}/list",
        organization_scoped=False,
        description="A static LIST: timeZone, country, currency, language, sector.",
        response=Envelope[List[StaticRecord]],
    ),
    Endpoint(
        "static_error",
        "GET",
        "static/error/{code}/show",
        organization_scoped=False,
        description="The error envelope for an HTTP status code, answered with that status.",
        response=ErrorEnvelope,
    ),
    # --- custom entities ---------------------------------------------------------------------
    Endpoint(
        "custom_entity_add",
        "POST",
        f"{_CE}/add",
        201,
        description="Add a custom entity of this type: CUSTOM_ENTITY.",
        request=CustomEntityAdd,
        response=Envelope[CustomEntity | CustomEntityShort],
    ),
    Endpoint(
        "custom_entity_show",
        "GET",
        f"{_CE}/{{custom_entity_id}}/show",
        description="One CUSTOM_ENTITY by type and id.",
        response=Envelope[CustomEntity],
    ),
    Endpoint(
        "custom_entity_identify",
        "GET",
        f"{_CE}/{{custom_id}}/identify",
        description="One CUSTOM_ENTITY by type and customId.",
        response=Envelope[CustomEntity],
    ),
    Endpoint(
        "custom_entity_list",
        "GET",
        f"{_CE}/list",
        description="LIST of CUSTOM_ENTITY_SHORT of one type.",
        response=Envelope[List[CustomEntityShort | CustomEntity]],
    ),
    Endpoint(
        "appointment_custom_entity_list",
        "GET",
        "organization/{org}/appointment/{appointment_id}/customEntity/{custom_entity_type}/list",
        description="LIST of the CUSTOM_ENTITY_SHORTs of this type linked to an appointment.",
        response=Envelope[List[CustomEntityShort | CustomEntity]],
    ),
    Endpoint(
        "resource_custom_entity_list",
        "GET",
        "organization/{org}/bookingResource/{resource_id}/customEntity/{custom_entity_type}/list",
        description="LIST of the CUSTOM_ENTITY_SHORTs of this type linked to a resource.",
        response=Envelope[List[CustomEntityShort | CustomEntity]],
    ),
    Endpoint(
        "template_custom_entity_list",
        "GET",
        "organization/{org}/bookingTemplate/{template_id}/customEntity/{custom_entity_type}/list",
        description="LIST of the CUSTOM_ENTITY_SHORTs of this type linked to a template.",
        response=Envelope[List[CustomEntityShort | CustomEntity]],
    ),
    Endpoint(
        "custom_entity_custom_entity_list",
        "GET",
        "organization/{org}/customEntity/{custom_entity_id}/customEntity/{custom_entity_type}/list",
        description="LIST of the CUSTOM_ENTITY_SHORTs of this type linked to a custom entity.",
        response=Envelope[List[CustomEntityShort | CustomEntity]],
    ),
    Endpoint(
        "custom_entity_template_list",
        "GET",
        f"{_CE}/{{custom_entity_id}}/bookingTemplate/list",
        description="LIST of the BOOKING_TEMPLATEs linked to a custom entity.",
        response=Envelope[List[BookingTemplate]],
    ),
    Endpoint(
        "custom_entity_resource_list",
        "GET",
        f"{_CE}/{{custom_entity_id}}/bookingResource/list",
        description="LIST of the BOOKING_RESOURCEs linked to a custom entity.",
        response=Envelope[List[BookingResource]],
    ),
    # --- module configs, organizations (branches), the protected appointment ---------------
    Endpoint(
        "moduleConfig_show",
        "GET",
        "organization/{org}/moduleConfig/{module_config_id}/show",
        description="One MODULE_CONFIG by id.",
        response=Envelope[ModuleConfig],
    ),
    Endpoint(
        "moduleConfig_identify",
        "GET",
        "organization/{org}/moduleConfig/{custom_id}/identify",
        description="One MODULE_CONFIG by customId.",
        response=Envelope[ModuleConfig],
    ),
    Endpoint(
        "moduleConfig_module_show",
        "GET",
        "module/{module_id}/organization/{org}/moduleConfig/show",
        description="The MODULE_CONFIG of this module in the organization.",
        response=Envelope[ModuleConfig],
    ),
    Endpoint(
        "organization_identify",
        "GET",
        "organization/{org}/organization/{custom_id}/identify",
        description="The ORGANIZATION or one of its branches by customId.",
        response=Envelope[Organization],
    ),
    Endpoint(
        "organization_filter",
        "GET",
        "module/{module_id}/organization/filter",
        organization_scoped=False,
        description="LIST of the ORGANIZATIONs the module may access whose name, customId or "
        "city holds searchQuery (an unscoped token).",
        response=Envelope[List[Organization]],
        query=("searchQuery",),
    ),
    Endpoint(
        "organization_list",
        "GET",
        "module/{module_id}/organization/{org}/organization/list",
        description="LIST of the organization's branches (ORGANIZATION).",
        response=Envelope[List[Organization]],
    ),
    Endpoint(
        "booking_category_tree",
        "GET",
        "organization/{org}/bookingCategory/tree",
        description="LIST of the root BOOKING_CATEGORYs, each with its sub-categories "
        "(bookingCategoryList) and template ids; the shape is the sandbox's assumption.",
        response=Envelope[List[BookingCategory]],
    ),
    Endpoint(
        "appointment_showProtected",
        "GET",
        "organization/{org}/appointment/{appointment_id}/showProtected",
        description="The full APPOINTMENT by id, protected or not.",
        response=Envelope[Appointment],
    ),
)

#: All endpoints by name.
ENDPOINTS: dict[str, Endpoint] = {ep.name: ep for ep in _TABLE}

#: The static lists the API serves under ``static/{kind}/list``.
STATIC_LISTS: tuple[str, ...] = ("timeZone", "country", "currency", "language", "sector")

#: A bookingtime id: 2-character type prefix + 30 of ``[0-9a-zA-Z]``.
ID_PATTERN = re.compile(r"^[0-9a-zA-Z]{2}[0-9a-zA-Z]{30}$")


def is_id(value: object, kind: str | None = None) -> bool:
    """Whether ``value`` is shaped like a bookingtime id (of ``kind``, when given).

    Example:
        >>> is_id("fc" + "a" * 30, "bookingTemplate")
        True
        >>> is_id("fc123")
        False
    """
    if not isinstance(value, str) or not ID_PATTERN.match(value):
        return False
    return kind is None or value[:2] == ID_PREFIXES[kind]
