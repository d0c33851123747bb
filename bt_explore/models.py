"""The Module API's entities, containers and request bodies, declared once as msgspec Structs.

Attribute names are Python's (``price_gross``); on the wire each is the API's camelCase name
(``priceGross``), and ``class`` is the tag of the entities that carry one. Types are as loose as
the API really is (see ``docs`` and ``bookingtime-api.md``): I18n lists come in four shapes, an
address may be ``null`` or ``[]``, a template's price may be missing, and the shapes a PHP backend
sends are accepted too (``"recordTotal": "1"``, ``[]`` for an empty customer or
``additionalData``: the sandbox's ``dialect="php"``). The OpenAPI document of the
sandbox is generated from these types, and each row of :data:`bt_explore.endpoints.ENDPOINTS`
names its request and response types.

Example:
    >>> import msgspec
    >>> body = b'{"messageList": [], "content": {"class": "PRICE", "priceGross": 9.5}}'
    >>> msgspec.json.decode(body, type=Envelope[Price]).content.price_gross
    9.5
"""

from datetime import datetime
from functools import cache
from types import SimpleNamespace
from typing import Annotated, Any, Generic, Literal, TypeVar

import msgspec
from msgspec import Meta, Struct

__all__ = [
    "AccessToken",
    "Address",
    "Appointment",
    "AppointmentAdd",
    "AppointmentMove",
    "AuthorizeForm",
    "AuthorizeRequest",
    "BookingCategory",
    "BookingResource",
    "BookingSlot",
    "BookingStep",
    "BookingTemplate",
    "Customer",
    "CustomEntity",
    "CustomEntityAdd",
    "CustomEntityShort",
    "Earliest",
    "Envelope",
    "ErrorEnvelope",
    "File",
    "FileAdd",
    "GeoCoordinates",
    "I18n",
    "ID_PREFIXES",
    "I18nEntry",
    "KINDS",
    "List",
    "Message",
    "MessageTemplate",
    "ModuleConfig",
    "OpeningHours",
    "Organization",
    "Price",
    "RangeList",
    "RawBytes",
    "RefreshToken",
    "Setting",
    "StaticRecord",
    "TokenError",
    "TokenRequest",
    "WireNames",
    "id_pattern",
    "wire_names",
]

T = TypeVar("T")


def _wire(name: str) -> str:
    """``price_gross`` -> ``priceGross``; ``name_i18n_list`` -> ``nameI18nList``."""
    head, *rest = name.split("_")
    return head + "".join(part[:1].upper() + part[1:] for part in rest)


class WireNames:
    """A model's wire names by attribute: ``WireNames(Price).price_gross`` is ``'priceGross'``;
    an attribute the model does not have raises ``AttributeError`` naming the model.

    Example:
        >>> WireNames(BookingTemplate).booking_day_latest
        'bookingDayLatest'
    """

    def __init__(self, model: type[Struct]) -> None:
        self._model = model.__name__
        self._names = {f.name: f.encode_name for f in msgspec.structs.fields(model)}

    def __getattr__(self, name: str) -> str:
        try:
            return self._names[name]
        except KeyError:
            raise AttributeError(f"{self._model} has no field {name!r}") from None


@cache
def wire_names(model: type[Struct]) -> WireNames:
    """The wire names of ``model``'s fields by attribute name (one :class:`WireNames` per
    model), for code that reads or writes the API's JSON as plain dicts (a data file, a request
    body) without spelling the names again.

    Example:
        >>> names = wire_names(Customer)
        >>> names.first_name, names.class_
        ('firstName', 'class')
    """
    return WireNames(model)


def id_pattern(kind: str) -> str:
    """The regular expression of a bookingtime id of ``kind`` (its prefix + 30 characters).

    Example:
        >>> id_pattern("bookingTemplate")
        '^fc[0-9a-zA-Z]{30}$'
    """
    return f"^{ID_PREFIXES[kind]}[0-9a-zA-Z]{{30}}$"


#: Two-character id prefixes by entity type.
ID_PREFIXES: dict[str, str] = {
    "organization": "f6",
    "bookingTemplate": "fc",
    "bookingResource": "br",
    "bookingSlot": "4f",
    "appointment": "ed",
    "moduleConfig": "5f",
    "module": "23",
    "customEntity": "6T",
    "file": "w1",
    "emailTemplate": "46",
    "smsTemplate": "6G",
}


def _snake(name: str) -> str:
    """``bookingTemplate`` -> ``booking_template`` (the inverse of :func:`_wire`)."""
    return "".join(f"_{c.lower()}" if c.isupper() else c for c in name)


#: The id kinds of :data:`ID_PREFIXES` by attribute name: ``KINDS.booking_template`` is
#: ``"bookingTemplate"`` (the word failures and :func:`bt_explore.endpoints.is_id` use).
KINDS = SimpleNamespace(**{_snake(kind): kind for kind in ID_PREFIXES})


def _id(kind: str) -> Meta:
    """The constraint of an id of ``kind``: its pattern; ``extra["id"]`` names the kind (the
    request checks of :mod:`bt_explore.rules` name it in their message)."""
    return Meta(pattern=id_pattern(kind), extra={"id": kind})


OrganizationId = Annotated[str, _id("organization")]
TemplateId = Annotated[str, _id("bookingTemplate")]
ResourceId = Annotated[str, _id("bookingResource")]
SlotId = Annotated[str, _id("bookingSlot")]
AppointmentId = Annotated[str, _id("appointment")]
ModuleId = Annotated[str, _id("module")]
CustomEntityId = Annotated[str, _id("customEntity")]
ModuleConfigId = Annotated[str, _id("moduleConfig")]
FileId = Annotated[str, _id("file")]
#: ``additionalData``: lists of strings by key; ``Meta.extra["problem"]`` is the message key of
#: a value of another shape.
AdditionalData = Annotated[
    dict[str, list[str]],
    Meta(
        description="lists of strings by key",
        extra={"problem": "additional_data_invalid"},
    ),
]
Timestamp = Annotated[datetime, Meta(description="ISO 8601 with the organization's offset")]


class _Wire(Struct, rename=_wire, omit_defaults=True):
    """Base of the request bodies: camelCase on the wire; unset defaults are not sent."""


class _Answer(_Wire, omit_defaults=False):
    """Base of what the API answers: camelCase on the wire, every field sent (a default too),
    in the order the API sends them (the sandbox encodes its answers from these)."""


class I18nEntry(_Wire):
    """One ``{"key": locale, "value": text}`` of an I18n list in its list shape.

    Example:
        >>> I18nEntry(key="en", value="Check-up").value
        'Check-up'
    """

    key: str
    value: str


#: An I18n list, in any of the four shapes the API sends: ``[]``, ``""``, ``{"en": "..."}`` or
#: ``[{"key": "en", "value": "..."}]``.
I18n = Annotated[
    list[I18nEntry] | dict[str, str] | str,
    Meta(description='[], "", {locale: text} or [{key, value}]'),
]
#: The empty list the API sends for a missing object (an address: ``null`` or ``[]``): PHP has
#: one array type and encodes an empty one as ``[]`` (``customer``, ``additionalData`` too).
EmptyList = Annotated[list[Any], Meta(max_length=0)]
#: A count: an integer, or its digits as a string, as a PHP backend sends it
#: (``"recordTotal": "1"`` in every LIST of bookingtime's PHP SDK's mock data).
Count = Annotated[
    int | Annotated[str, Meta(pattern="^[0-9]+$")],
    Meta(description='an integer; PHP backends send its digits as a string ("1")'),
]


class Message(_Answer, tag_field="class", tag="MESSAGE"):
    """One MESSAGE of an envelope's ``messageList``; failures name the parameter.

    Example:
        >>> Message(type="failure", parameter="customer.email", text="Required.").parameter
        'customer.email'
    """

    type: Literal["success", "failure"]
    parameter: str | None = None
    text: str = ""


class Envelope(_Answer, Generic[T]):
    """Every Module API answer: ``{"messageList": [MESSAGE...], "content": ...}``.

    Example:
        >>> import msgspec
        >>> msgspec.json.decode(b'{"messageList": [], "content": null}', type=Envelope[None])
        Envelope(message_list=[], content=None)
    """

    message_list: list[Message]
    content: T


class GeoCoordinates(_Answer, tag_field="class", tag="GEO_COORDINATES"):
    """GEO_COORDINATES of an address.

    Example:
        >>> GeoCoordinates(latitude=52.53, longitude=13.38).latitude
        52.53
    """

    latitude: float
    longitude: float


# --- what a booking's customer and address must be (bt_explore.rules checks them by these) --
# Patterns are searched (JSON Schema's reading); surrounding white space is not counted, as the
# sandbox strips it before storing. A pattern's ``extra["problem"]`` is the message key of a
# value that does not match (``bad_id`` for ids, else ``invalid``).
_NOISE = r"[ ()/.\-]"
#: A mobile number: 6 to 15 digits, maybe a leading ``+``, between spaces, dashes, slashes,
#: dots and parentheses as people write them; empty when not given.
MOBILE_PATTERN = rf"^\s*(?:{_NOISE}*\+?(?:{_NOISE}*[0-9]){{6,15}}{_NOISE}*)?\s*$"
# A dot-atom local part (ASCII "atext" or any non-ASCII character: RFC 5322/6531; no quoted
# strings, no comments) of at most 64 characters, then a domain of at least two labels (letters
# and digits of any script, inner hyphens) whose last is alphabetic or an xn-- label; at most
# 254 characters in all (RFC 5321: a 256-octet path less its angle brackets).
_ATEXT = r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~\-\u0080-\U0010ffff]+"
_LABEL = r"[^\W_](?:[\w-]{0,61}[^\W_])?"
#: An e-mail address, or empty when not given. (Characters that are not printable are refused
#: too: :func:`bt_explore.rules.valid_email`; a pattern cannot say it.)
EMAIL_PATTERN = (
    rf"^\s*(?:(?=[^@]{{1,64}}@)(?=\S{{1,254}}\s*$){_ATEXT}(?:\.{_ATEXT})*"
    rf"@(?:{_LABEL}\.)+(?:[^\W\d_]{{2,63}}|[xX][nN]--[a-zA-Z0-9-]+))?\s*$"
)
#: A postal code: 2 to 10 letters, digits, spaces or dashes, starting with a letter or digit.
ZIP_PATTERN = r"^\s*[0-9A-Za-z][0-9A-Za-z \-]{0,8}[0-9A-Za-z\-]\s*$"
#: A text that must be given: not empty, not only white space.
Given = Annotated[str, Meta(min_length=1, pattern=r"\S")]
#: A person's first or last name: given, at most 255 characters (surrounding spaces not
#: counted: ``extra["trimmed"]``).
PersonName = Annotated[
    str, Meta(min_length=1, max_length=255, pattern=r"\S", extra={"trimmed": True})
]


class Address(_Answer, kw_only=True):
    """An ADDRESS (``class`` may be absent in a request body): street, ZIP and city given.

    Example:
        >>> Address(street="Parkstraße 1", zip="10115", city="Berlin", country="DE").city
        'Berlin'
    """

    class_: Literal["ADDRESS"] = msgspec.field(default="ADDRESS", name="class")
    name: str = ""
    extra: str = ""
    street: Given
    zip: Annotated[str, Meta(min_length=1, pattern=ZIP_PATTERN, extra={"problem": "zip_invalid"})]
    city: Given
    country: Annotated[
        str, Meta(pattern="^(?:[A-Z]{2})?$", description="ISO 3166 alpha-2 or empty")
    ] = ""
    geo_coordinates: GeoCoordinates | None = None


#: An address as the API sends it: the ADDRESS, ``null`` or ``[]``.
LooseAddress = Address | None | EmptyList


class Price(_Answer, tag_field="class", tag="PRICE"):
    """A template's PRICE.

    Example:
        >>> Price(price_gross=99.99, tax_rate=19, currency="EUR").currency
        'EUR'
    """

    price_gross: float = 0.0
    tax_rate: float = 0.0
    currency: str = ""


class BookingResource(_Answer, tag_field="class", tag="BOOKING_RESOURCE"):
    """A BOOKING_RESOURCE: an employee, a room, a piece of equipment.

    Example:
        >>> BookingResource(id="br" + "a" * 30, type="EMPLOYEE", name="Dr. Anna Schmidt").type
        'EMPLOYEE'
    """

    id: ResourceId
    name: str
    type: str = ""
    custom_id: str = ""
    name_i18n_list: I18n = ""
    gender: str = ""
    title: str = ""
    first_name: str = ""
    last_name: str = ""
    description: str = ""
    description_i18n_list: I18n = ""
    image: str = ""
    additional_data: Any = None


class BookingStep(_Answer, tag_field="class", tag="BOOKING_STEP"):
    """A BOOKING_STEP of a template: choose ``selection_quantity`` of its resources.

    Example:
        >>> BookingStep(name="Staff", selection_quantity=1).booking_resource_list
        []
    """

    name: str = ""
    name_i18n_list: I18n = ""
    description: str = ""
    description_i18n_list: I18n = ""
    selection_quantity: int = 1
    selection_display: str = ""
    booking_resource_list: list[BookingResource] = []
    additional_data: Any = None


class MessageTemplate(_Answer):
    """An EMAIL_TEMPLATE or SMS_TEMPLATE a template sends on an ``event``.

    Example:
        >>> MessageTemplate(class_="EMAIL_TEMPLATE", id="46" + "a" * 30, event="APPOINTMENT_END").event
        'APPOINTMENT_END'
    """

    class_: str = msgspec.field(name="class")
    id: str
    custom_id: str = ""
    name: str = ""
    event: str = ""


class BookingTemplate(_Answer, tag_field="class", tag="BOOKING_TEMPLATE"):
    """A BOOKING_TEMPLATE: a bookable service with its duration, price, steps and rules.

    Example:
        >>> BookingTemplate(id="fc" + "a" * 30, name="Check-up", duration=30).price is None
        True
    """

    id: TemplateId
    name: str
    duration: Annotated[int, Meta(description="minutes")]
    custom_id: str = ""
    name_i18n_list: I18n = ""
    location: str = ""
    image: str = ""
    lead_time: int = 0
    followup_time: int = 0
    price: Price | None = None
    show_price: bool = False
    price_gross: float = 0.0
    currency: str = ""
    tax_rate: float = 0.0
    description: str = ""
    description_i18n_list: I18n = ""
    appointment_address_required: bool = False
    customer_address_required: bool = False
    customer_email_required: bool = False
    customer_mobile_required: bool = False
    additional_customer_count_max: int = 0
    booking_day_earliest: Annotated[int, Meta(description="days")] = 0
    booking_day_latest: Annotated[int, Meta(description="days")] = 0
    booking_lead_time: Annotated[int, Meta(description="minutes")] = 0
    address: LooseAddress = None
    booking_step_list: list[BookingStep] = []
    email_template_list: list[MessageTemplate] = []
    sms_template_list: list[MessageTemplate] = []
    extra_field_list: list[Any] = []
    additional_data: Any = None


class BookingCategory(_Answer, tag_field="class", tag="BOOKING_CATEGORY"):
    """A BOOKING_CATEGORY of ``bookingCategory/tree``: a named group of templates, with its
    sub-categories.

    bookingtime's newest PHP SDK calls the endpoint but shows no answer; this shape is the
    sandbox's assumption (docs/sandbox.md): the LIST holds the root categories, each holds its
    children in ``bookingCategoryList`` and its templates' ids in ``bookingTemplateIdList``.

    Example:
        >>> BookingCategory(id="x", name="Therapies").booking_category_list
        []
    """

    id: str
    name: str
    custom_id: str = ""
    name_i18n_list: I18n = ""
    description: str = ""
    description_i18n_list: I18n = ""
    image: str = ""
    booking_template_id_list: list[TemplateId] = []
    booking_category_list: "list[BookingCategory]" = []


class BookingSlot(_Answer, tag_field="class", tag="BOOKING_SLOT"):
    """A free BOOKING_SLOT: its start and the resources that would serve it.

    Example:
        >>> import msgspec
        >>> slot = msgspec.json.decode(
        ...     b'{"class": "BOOKING_SLOT", "id": "4fAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",'
        ...     b' "timestamp": "2026-12-01T09:00:00+01:00", "bookingResourceCombination": []}',
        ...     type=BookingSlot,
        ... )
        >>> slot.timestamp.isoformat()
        '2026-12-01T09:00:00+01:00'
    """

    id: SlotId
    timestamp: Timestamp
    booking_resource_combination: list[ResourceId]


class List(_Answer, Generic[T], tag_field="class", tag="LIST", kw_only=True):
    """A LIST container of records.

    Example:
        >>> List(record_total=0, record_list=[]).record_limit
        0
    """

    record_total: Count
    record_limit: int = 0
    record_list: list[T]


class RangeList(_Answer, tag_field="class", tag="RANGE_LIST"):
    """A RANGE_LIST: the free slots of a day, week or month.

    Example:
        >>> RangeList(range_start=None, range_end=None, time_zone="Europe/Berlin", list=[]).list
        []
    """

    range_start: Timestamp | None
    range_end: Timestamp | None
    time_zone: str
    list: list[BookingSlot]


class Earliest(_Answer, forbid_unknown_fields=True):
    """The earliest-slot answer as bookingtime's walkthrough shows it: no ``class``,
    ``bookingSlotList`` (not ``list``; a sandbox that sent both would let code pass offline that
    breaks live, so other keys are refused).

    Example:
        >>> Earliest(range_start=None, range_end=None, time_zone="UTC").booking_slot_list
        []
    """

    range_start: Timestamp | None
    range_end: Timestamp | None
    time_zone: str
    booking_slot_list: list[BookingSlot] = []


class Customer(_Answer, kw_only=True):
    """The CUSTOMER of an appointment (``class`` may be absent in a request body): first and
    last name given; e-mail and mobile, when given, of their shapes (a template's flags can
    require them, :func:`bt_explore.rules.required_parameters`).

    An unset optional value is answered as ``""`` (``birthday``: ``null``).

    Example:
        >>> Customer(first_name="Ada", last_name="Lovelace", email="ada@example.org").gender
        'NOT_SPECIFIED'
    """

    class_: Literal["CUSTOMER"] = msgspec.field(default="CUSTOMER", name="class")
    custom_id: str = ""
    gender: Literal["MALE", "FEMALE", "NOT_SPECIFIED"] = "NOT_SPECIFIED"
    title: str = ""
    first_name: PersonName
    last_name: PersonName
    birthday: Annotated[str | None, Meta(description='"YYYY-MM-DD", "" or null')] = None
    email: Annotated[str, Meta(pattern=EMAIL_PATTERN, extra={"problem": "email_invalid"})] = ""
    mobile: Annotated[str, Meta(pattern=MOBILE_PATTERN, extra={"problem": "mobile_invalid"})] = ""
    notes: str = ""
    address: LooseAddress = None
    locale: str = ""


class File(_Answer, tag_field="class", tag="FILE", kw_only=True):
    """A FILE attached to an appointment (the sandbox's shape: bookingtime shows none).

    Example:
        >>> File(id="w1" + "a" * 30, name="Referral", file_name="referral.pdf").size
        0
    """

    id: FileId
    custom_id: str = ""
    name: str = ""
    file_name: str = ""
    mime_type: str = ""
    size: Annotated[int, Meta(description="bytes of the decoded file")] = 0
    appointment_id: AppointmentId | None = None
    timestamp_add: Timestamp | None = None


class Appointment(_Answer, tag_field="class", tag="APPOINTMENT", kw_only=True):
    """An APPOINTMENT: a booked slot with its customer and resources.

    Example:
        >>> from datetime import datetime, timezone
        >>> t = datetime(2026, 12, 1, 9, tzinfo=timezone.utc)
        >>> Appointment(id="ed" + "a" * 30, start=t, end=t, duration=60).canceled
        False
    """

    id: AppointmentId
    custom_id: str = ""
    start: Timestamp
    end: Timestamp
    duration: Annotated[int, Meta(description="minutes")]
    time_zone: str = ""
    protected: bool = False
    name: str = ""
    name_i18n_list: I18n = ""
    description: str = ""
    description_i18n_list: I18n = ""
    show_price: bool = False
    price_gross: float = 0.0
    tax_rate: float = 0.0
    currency: str = ""
    customer: Customer | None | EmptyList = None
    address: LooseAddress = None
    canceled: bool = False
    moved: bool = False
    booking_resource_list: list[BookingResource] = []
    file_list: list[File] = []
    organization_id: OrganizationId | None = None
    booking_template_id: Annotated[
        str | None, Meta(description="the sandbox's addition: the booked template's id")
    ] = None
    notes: str = ""
    additional_data: AdditionalData | None | EmptyList = None


class OpeningHours(_Answer, tag_field="class", tag="OPENING_HOURS"):
    """One OPENING_HOURS interval of an organization.

    Example:
        >>> OpeningHours(weekday="MONDAY", start="08:00", end="12:00").end
        '12:00'
    """

    weekday: str
    start: str
    end: str


class Organization(_Answer, tag_field="class", tag="ORGANIZATION"):
    """An ORGANIZATION (a practice, a shop, one branch of a chain).

    Example:
        >>> Organization(id="f6" + "a" * 30, name="Praxis", time_zone="Europe/Berlin").sector
        ''
    """

    id: OrganizationId
    name: str
    time_zone: str
    custom_id: str = ""
    address: LooseAddress = None
    telephone: str = ""
    email: str = ""
    description: str = ""
    logo: str = ""
    image_list: list[Any] = []
    opening_hours: list[OpeningHours] = []
    currency: str = ""
    sector: Annotated[str, Meta(description='a code of static/sector/list, e.g. "01ab"')] = ""


class Setting(_Answer):
    """One ``{key, value}`` of a module config's ``settingList``; values are always strings.

    Example:
        >>> Setting(key="showPrice", value="true").value
        'true'
    """

    key: str
    value: str


class ModuleConfig(_Answer, tag_field="class", tag="MODULE_CONFIG"):
    """A MODULE_CONFIG: a module's settings in one organization.

    Example:
        >>> ModuleConfig(id="5f" + "a" * 30, module_id="23" + "a" * 30).setting_list
        []
    """

    id: ModuleConfigId
    module_id: ModuleId
    custom_id: str = ""
    module_name: str = ""
    organization_id: OrganizationId | None = None
    setting_list: list[Setting] = []


class StaticRecord(_Answer):
    """A record of a static list (country, currency, language, sector, time zone).

    Example:
        >>> StaticRecord(class_="COUNTRY", code="DE", name="Germany").code
        'DE'
    """

    class_: str = msgspec.field(name="class")
    code: str
    name: str
    name_i18n_list: I18n = ""
    symbol: str | None = None


class AppointmentAdd(_Wire):
    """The body of ``appointment/add``: the slot, the customer and optional extras.

    Which customer fields are required follows the template's flags.

    Example:
        >>> import msgspec
        >>> body = AppointmentAdd(
        ...     booking_slot_id="4f" + "a" * 30, customer=Customer(first_name="Ada", last_name="L")
        ... )
        >>> sorted(msgspec.json.decode(msgspec.json.encode(body)))  # unset options are not sent
        ['bookingSlotId', 'customer']
    """

    booking_slot_id: SlotId
    customer: Customer
    custom_id: Annotated[str, Meta(max_length=128)] | None = None
    notes: str | None = None
    address: Address | None = None
    send_appointment_add_event_email: bool | None = None
    send_appointment_start_event_email: bool | None = None
    send_appointment_end_event_email: bool | None = None
    additional_data: AdditionalData | None = None


class AppointmentMove(_Wire):
    """The body of ``appointment/{id}/move``: the new slot.

    Example:
        >>> AppointmentMove(booking_slot_id="4f" + "a" * 30).booking_slot_id[:2]
        '4f'
    """

    booking_slot_id: SlotId


class TokenRequest(Struct):
    """The form of ``POST /oauth/token`` (RFC 6749 names).

    Example:
        >>> TokenRequest(grant_type="client_credentials", client_id="23" + "a" * 30).client_secret
        ''
    """

    grant_type: Literal["client_credentials", "refresh_token", "authorization_code"]
    client_id: ModuleId | None = None
    client_secret: Annotated[str, Meta(description="empty for modules")] = ""
    refresh_token: str | None = None
    organization_id: OrganizationId | None = None
    code: str | None = None
    redirect_uri: str | None = None
    code_verifier: str | None = None


class RefreshToken(Struct, kw_only=True):
    """The token endpoint's answer to ``client_credentials`` and ``authorization_code``.

    Example:
        >>> RefreshToken(refresh_token="r", expires_in=3600).token_type
        'Bearer'
    """

    refresh_token: str
    token_type: Literal["Bearer"] = "Bearer"
    expires_in: int


class AccessToken(Struct, kw_only=True):
    """The token endpoint's answer to ``refresh_token``: a short-lived access token.

    Example:
        >>> AccessToken(access_token="a", expires_in=300).expires_in
        300
    """

    access_token: str
    token_type: Literal["Bearer"] = "Bearer"
    expires_in: int


class TokenError(Struct):
    """An RFC 6749 §5.2 error of the token endpoint.

    Example:
        >>> TokenError(error="invalid_client", error_description="client_id is unknown").error
        'invalid_client'
    """

    error: Literal[
        "invalid_request",
        "invalid_client",
        "invalid_grant",
        "unsupported_grant_type",
        "access_denied",
        "server_error",
        "temporarily_unavailable",
        "slow_down",
    ]
    error_description: str = ""


class AuthorizeRequest(Struct):
    """The query of ``GET /oauth/authorize``: RFC 6749 §4.1.1 with PKCE (RFC 7636).

    Example:
        >>> AuthorizeRequest("code", "23" + "a" * 30, "http://127.0.0.1/cb").state
        ''
    """

    response_type: Literal["code"]
    client_id: ModuleId
    redirect_uri: str
    state: str = ""
    code_challenge: Annotated[str, Meta(description="base64url SHA-256 of the verifier")] = ""
    code_challenge_method: Literal["S256", ""] = ""
    organization_id: OrganizationId | Literal[""] = ""


class AuthorizeForm(AuthorizeRequest):
    """The form the consent page posts to ``/oauth/authorize``: the query plus the person's
    e-mail, password and decision.

    Example:
        >>> AuthorizeForm("code", "23" + "a" * 30, "http://127.0.0.1/cb").decision
        'deny'
    """

    username: str = ""
    password: str = ""
    decision: Literal["allow", "deny"] = "deny"


#: The answer of a failure: failure messages, ``content`` null.
ErrorEnvelope = Envelope[None]


class FileAdd(_Wire):
    """The body of ``file/add``: a file, base64-encoded, for an appointment.

    Example:
        >>> FileAdd(
        ...     name="Referral", file_name="referral.txt", file_content="aGk=",
        ...     appointment_id="ed" + "a" * 30,
        ... ).file_content
        'aGk='
    """

    name: Annotated[str, Meta(min_length=1, max_length=255)]
    file_name: Annotated[str, Meta(min_length=1, max_length=255)]
    file_content: Annotated[str, Meta(description="the file's bytes, base64 (RFC 4648)")]
    appointment_id: AppointmentId
    custom_id: Annotated[str, Meta(max_length=128)] | None = None


#: The answer of a download: the file's raw bytes, not JSON (an endpoint row's response type).
RawBytes = Annotated[bytes, Meta(description="the raw bytes of a file, not JSON")]


# --- custom entities ----------------------------------------------------------------------------
#: A custom entity type: the organization's own word, e.g. ``rentalCar``, ``course``.
CUSTOM_ENTITY_TYPE_PATTERN = "^[a-zA-Z][a-zA-Z0-9_-]{0,63}$"


class CustomEntityShort(_Answer, tag_field="class", tag="CUSTOM_ENTITY_SHORT"):
    """A CUSTOM_ENTITY_SHORT: an organization-defined, typed record (a course, a rental car…).

    ``appointment``, ``booking_resource``, ``booking_template`` and ``custom_entity`` are the
    relation fields bookingtime's SDK shows; their shape is not public (the sandbox sends
    ``null``).

    Example:
        >>> CustomEntityShort(id="6T" + "a" * 30, custom_id="yoga", name="Yoga").name
        'Yoga'
    """

    id: CustomEntityId
    name: str
    custom_id: str = ""
    image: str | None = None
    appointment: Any = None
    booking_resource: Any = None
    booking_template: Any = None
    custom_entity: Any = None
    additional_data: Any = None


class CustomEntity(CustomEntityShort, tag="CUSTOM_ENTITY"):
    """A CUSTOM_ENTITY: the short record plus type, notes, organization and timestamps.

    Example:
        >>> CustomEntity(id="6T" + "a" * 30, name="Audi S5", type="rentalCar").type
        'rentalCar'
    """

    type: str = ""
    notes: str = ""
    organization_id: str = ""
    timestamp_add: str = ""
    timestamp_edit: str = ""


class CustomEntityAdd(_Wire):
    """The body of ``customEntity/{customEntityType}/add``: name, optional customId and notes.

    The customId is unique per organization and type.

    Example:
        >>> import msgspec
        >>> msgspec.json.encode(CustomEntityAdd(name="CB Testentity", custom_id="667"))
        b'{"name":"CB Testentity","customId":"667"}'
    """

    name: Annotated[str, Meta(min_length=1, max_length=255)]
    custom_id: Annotated[str, Meta(max_length=128)] | None = None
    notes: Annotated[str, Meta(max_length=10000)] | None = None
    image: Annotated[str, Meta(max_length=2048)] | None = None
    additional_data: AdditionalData | None = None
