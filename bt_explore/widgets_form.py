"""The booking explorer's pure parts: template facts, the customer form and its messages.

No widgets and no requests here: what a template's label and summary say, which form fields it
requires, what is wrong with the form (the verdict of :mod:`bt_explore.rules`), the ``customer``
the form books, and a clear line for any error. :mod:`bt_explore.widgets_controller` and
:mod:`bt_explore.widgets_view` build on it; :mod:`bt_explore.widgets` re-exports the public names.
Wire fields are named through :mod:`bt_explore.models` (:class:`~bt_explore.models.WireNames`), never spelled here.

Example:
    >>> template_label({"name": "Check-up", "duration": 30})
    'Check-up · 30 min'
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timezone, tzinfo
from typing import Any
from urllib.parse import urlsplit

import bt_explore.errors as errors
import bt_explore.models as models
import bt_explore.rules as rules
import bt_explore.times as times
from bt_explore.models import WireNames  # the one implementation; still importable from here

__all__ = [
    "ADDRESS_FIELDS",
    "APPOINTMENT",
    "CUSTOMER",
    "ORGANIZATION",
    "PRICE",
    "RANGE",
    "RESOURCE",
    "TEMPLATE",
    "FIELDS_BY_NAME",
    "FORM_FIELDS",
    "FormField",
    "WireNames",
    "api_messages",
    "booking_days",
    "customer_payload",
    "describe_error",
    "fields_for_parameter",
    "is_home_visit",
    "form_summary",
    "number",
    "present",
    "required_fields",
    "resource_ids",
    "resource_name",
    "template_label",
    "template_summary",
    "to_datetime",
    "validate_customer",
    "zone",
]


#: The wire names the explorer reads, each of its model.
TEMPLATE = models.wire_names(models.BookingTemplate)
PRICE = models.wire_names(models.Price)
CUSTOMER = models.wire_names(models.Customer)
RESOURCE = models.wire_names(models.BookingResource)
APPOINTMENT = models.wire_names(models.Appointment)
ORGANIZATION = models.wire_names(models.Organization)
RANGE = models.wire_names(models.RangeList)


@dataclass(frozen=True)
class FormField:
    """One customer form field: its key, label and the API parameter it fills.

    Example:
        >>> FORM_FIELDS[2].label, FORM_FIELDS[2].parameter
        ('Email', 'customer.email')
    """

    name: str
    label: str
    parameter: str
    placeholder: str = ""


# Placeholders start with "e.g." (and the view sets them in light italics), so an empty field
# never looks filled in.
FORM_FIELDS: tuple[FormField, ...] = (
    FormField("first_name", "First name", f"customer.{CUSTOMER.first_name}", "e.g. Jane"),
    FormField("last_name", "Last name", f"customer.{CUSTOMER.last_name}", "e.g. Doe"),
    FormField("email", "Email", "customer.email", "e.g. jane.doe@example.com"),
    FormField("mobile", "Mobile", "customer.mobile", "e.g. +49 170 1234567"),
    FormField("street", "Street", "customer.address.street", "e.g. Hauptstraße 1"),
    FormField("zip", "ZIP", "customer.address.zip", "e.g. 10115"),
    FormField("city", "City", "customer.address.city", "e.g. Berlin"),
)
FIELDS_BY_NAME = {f.name: f for f in FORM_FIELDS}
ADDRESS_FIELDS = ("street", "zip", "city")

# How the form words a rule's problem next to its field (others show the rule's own text).
_FORM_TEXTS = {
    "required": "required",
    "email_invalid": "not a valid email address (like name@example.com)",
    "mobile_invalid": "not a valid phone number (6 to 15 digits, may start with +)",
    "zip_invalid": "not a valid postal code",
}
# An address part the template does not require, missing while other parts are given.
_PARTIAL_ADDRESS = "needed too: an address has street, ZIP and city (or leave all three empty)"


def number(value: Any) -> float | None:
    """A number from an API field that may be a string, empty or missing (then ``None``).

    Example:
        >>> number("14"), number(""), number("n/a")
        (14.0, None, None)
    """
    try:
        return None if value is None or value == "" else float(value)
    except (TypeError, ValueError):
        return None


def _price(template: Mapping[str, Any]) -> tuple[float | None, str, float | None]:
    """(gross price, currency, tax rate) from the nested ``price`` or the flat fields."""
    price = template.get("price")
    price = price if isinstance(price, Mapping) else {}
    gross = number(price.get(PRICE.price_gross, template.get(TEMPLATE.price_gross)))
    currency = str(price.get("currency") or template.get("currency") or "")
    tax = number(price.get(PRICE.tax_rate, template.get(TEMPLATE.tax_rate)))
    return gross, currency, tax


def _format_price(template: Mapping[str, Any]) -> str:
    gross, currency, _ = _price(template)
    if gross is None:
        return ""
    return f"{gross:.2f} {currency}".strip()


def _duration(template: Mapping[str, Any]) -> int | None:
    value = number(template.get("duration"))
    return None if value is None else int(value)


def booking_days(template: Mapping[str, Any] | None) -> tuple[int, float | None]:
    """A template's booking window: (first day ahead, last day ahead or ``None``).

    Example:
        >>> booking_days({"bookingDayEarliest": 1, "bookingDayLatest": 30})
        (1, 30.0)
    """
    template = template or {}
    earliest = int(number(template.get(TEMPLATE.booking_day_earliest)) or 0)
    return earliest, number(template.get(TEMPLATE.booking_day_latest))


def is_home_visit(template: Mapping[str, Any] | None) -> bool:
    """Whether a template books at an address (the form's one address serves it too).

    Example:
        >>> is_home_visit({"appointmentAddressRequired": True}), is_home_visit(None)
        (True, False)
    """
    return bool(template and template.get(TEMPLATE.appointment_address_required))


def template_label(template: Mapping[str, Any]) -> str:
    """A readable one-line label: name · duration · price.

    Example:
        >>> template_label({"name": "Consultation", "duration": 60, "priceGross": 99.99,
        ...                 "currency": "EUR"})
        'Consultation · 60 min · 99.99 EUR'
    """
    parts = [str(template.get("name") or template.get("id") or "unnamed template")]
    duration = _duration(template)
    if duration is not None:
        parts.append(f"{duration} min")
    if template.get(TEMPLATE.show_price, True) is not False:
        price = _format_price(template)
        if price:
            parts.append(price)
    return " · ".join(parts)


def required_fields(template: Mapping[str, Any] | None) -> tuple[str, ...]:
    """The form fields a template requires (names always; the rest by the template's flags).

    Example:
        >>> required_fields({"customerEmailRequired": True})
        ('first_name', 'last_name', 'email')
    """
    names = [n for p in rules.required_parameters(template) for n in fields_for_parameter(p)]
    return tuple(dict.fromkeys(names))


def template_summary(template: Mapping[str, Any]) -> dict[str, str]:
    """The facts a user needs before booking, as label → text.

    Example:
        >>> template_summary({"duration": 30, "bookingDayLatest": 14})["Booking window"]
        'from today up to 14 days ahead'
    """
    summary: dict[str, str] = {}
    duration = _duration(template)
    summary["Duration"] = f"{duration} min" if duration is not None else "unknown"
    gross, currency, tax = _price(template)
    if gross is None:
        summary["Price"] = "not given"
    else:
        tax_text = f" incl. {tax:g} % tax" if tax else ""
        hidden = " (not shown to customers)" if template.get(TEMPLATE.show_price) is False else ""
        summary["Price"] = f"{gross:.2f} {currency}{tax_text}{hidden}".replace("  ", " ")
    earliest, latest = booking_days(template)
    start = {0: "from today", 1: "from tomorrow"}.get(earliest, f"from {earliest} days ahead")
    window = f"{start} up to {int(latest)} days ahead" if latest is not None else start
    lead = int(number(template.get(TEMPLATE.booking_lead_time)) or 0)
    if lead:
        window += f", at least {lead} min in advance"
    summary["Booking window"] = window
    labels = [FIELDS_BY_NAME[name].label.lower() for name in required_fields(template)]
    summary["Required customer fields"] = ", ".join(labels)
    description = template.get("description")
    if isinstance(description, str) and description.strip():
        summary["Description"] = description.strip()
    return summary


def validate_customer(
    values: Mapping[str, str], template: Mapping[str, Any] | None = None
) -> dict[str, str]:
    """Check the customer form; field name → what is wrong (empty when valid).

    The verdict is :func:`bt_explore.rules.booking_problems`' on the booking the form would
    send (a partial address included, so its missing parts are named).

    Example:
        >>> validate_customer({"first_name": "Jane", "last_name": "Doe", "email": "jane@"},
        ...                   {"customerEmailRequired": True})
        {'email': 'not a valid email address (like name@example.com)'}
    """
    value = {f.name: _form_value(values.get(f.name)) for f in FORM_FIELDS}
    customer: dict[str, Any] = {
        CUSTOMER.first_name: value["first_name"],
        CUSTOMER.last_name: value["last_name"],
    }
    for name in ("email", "mobile"):
        if value[name] != "":
            customer[name] = value[name]
    parts = {name: value[name] for name in ADDRESS_FIELDS if value[name] != ""}
    if parts:
        customer["address"] = parts
    # The form has one address; a home visit (appointmentAddressRequired) uses it too.
    home_visit = is_home_visit(template)
    address = customer.get("address") if home_visit else None
    required = required_fields(template)
    found: dict[str, str] = {}
    for problem in rules.booking_problems(customer, template=template, address=address):
        for name in fields_for_parameter(problem.parameter):
            text = _FORM_TEXTS.get(problem.key, problem.text)
            if problem.key == "required" and name in ADDRESS_FIELDS and name not in required:
                text = _PARTIAL_ADDRESS  # the rules want a whole address once a part is given
            found.setdefault(name, text)
    return {f.name: found[f.name] for f in FORM_FIELDS if f.name in found}


def form_summary(problems: Mapping[str, str]) -> str:
    """One line naming every field to fix and why (``validate_customer``'s result); ``""`` if none.

    The missing parts of a half-filled address are named together.

    Example:
        >>> form_summary({"last_name": "required", "zip": _PARTIAL_ADDRESS,
        ...               "city": _PARTIAL_ADDRESS})
        'Fill in: Last name (required); Address: also ZIP and City, or leave it empty.'
    """
    parts = [
        f"{FIELDS_BY_NAME[name].label} ({text})"
        for name, text in problems.items()
        if text != _PARTIAL_ADDRESS
    ]
    partial = [
        FIELDS_BY_NAME[name].label for name, text in problems.items() if text == _PARTIAL_ADDRESS
    ]
    if partial:
        parts.append(f"Address: also {' and '.join(partial)}, or leave it empty")
    return f"Fill in: {'; '.join(parts)}." if parts else ""


def _form_value(value: Any) -> Any:
    """A form value as the booking would carry it: text stripped, nothing as ``""``; anything
    else (not from the form's text boxes) is passed on for the rules to judge."""
    if value is None:
        return ""
    return value.strip() if isinstance(value, str) else value


def customer_payload(values: Mapping[str, str], *, country: str | None = None) -> dict[str, Any]:
    """The ``customer`` object for ``appointment/add`` from the form values (empty ones left out).

    Example:
        >>> customer_payload({"first_name": " Jane ", "last_name": "Doe", "email": ""})
        {'firstName': 'Jane', 'lastName': 'Doe'}
    """
    value = {f.name: str(values.get(f.name) or "").strip() for f in FORM_FIELDS}
    customer: dict[str, Any] = {
        CUSTOMER.first_name: value["first_name"],
        CUSTOMER.last_name: value["last_name"],
    }
    if value["email"]:
        customer["email"] = value["email"]
    if value["mobile"]:
        customer["mobile"] = value["mobile"]
    if all(value[name] for name in ADDRESS_FIELDS):
        address = {"street": value["street"], "zip": value["zip"], "city": value["city"]}
        if country:
            address["country"] = country
        customer["address"] = address
    return customer


def fields_for_parameter(parameter: str | None) -> list[str]:
    """Form fields an API message parameter (``customer.email``, ``customer[address]``) names.

    Example:
        >>> fields_for_parameter("customer[address]")
        ['street', 'zip', 'city']
    """
    if not parameter:
        return []
    normalized = re.sub(r"\[(\w+)\]", r".\1", parameter).strip(".").lower()
    if normalized == "address" or normalized.startswith("address."):
        # the appointment's address comes from the same form fields as the customer's
        normalized = "customer." + normalized
    hits = []
    for f in FORM_FIELDS:
        target = f.parameter.lower()
        if normalized == target or target.startswith(normalized + "."):
            hits.append(f.name)
    return hits


def api_messages(exc: BaseException) -> list[Any]:
    """The API's messages an error carries (``[]`` for any other exception).

    Example:
        >>> api_messages(ValueError("boom"))
        []
    """
    return list(getattr(exc, "messages", None) or [])


def describe_error(exc: BaseException) -> str:
    """A clear one-line message for the status line, with what to do next.

    Example:
        >>> describe_error(ValueError("boom"))
        "Unexpected error: ValueError: boom. Details are in the log (logger 'bt_explore.widgets')."
    """
    text = str(exc) or type(exc).__name__
    if isinstance(exc, errors.BookingOutcomeUnknown):
        cid = getattr(exc, "custom_id", "")
        return (
            f"The answer to the booking was lost, so its outcome is unknown (customId {cid}). "
            f"Do not book again yet: check with client.appointment_by_custom_id({cid!r})."
        )
    if isinstance(exc, errors.TransportError):
        return f"Could not reach {_server(exc)}: {text}. {_reach_hint(exc)}"
    if isinstance(exc, errors.SlotUnavailable):
        return f"That slot is no longer available: {text}"
    if isinstance(exc, errors.RateLimited):
        wait = getattr(exc, "retry_after", None)
        hint = f"wait {wait:g} s" if isinstance(wait, (int, float)) else "wait a moment"
        return f"Too many requests: {hint}, then click again."
    if isinstance(exc, errors.ServerError):
        return f"bookingtime had a server problem ({text}). Click again to retry in a moment."
    if isinstance(exc, errors.AuthenticationError):
        return f"Authentication failed ({text}). Check the client id and secret."
    if isinstance(exc, errors.PermissionDenied):
        return f"Not allowed: {text}. Is this module enabled for the organization?"
    if isinstance(exc, errors.ValidationError):
        return f"The request was rejected: {text}"
    if isinstance(exc, errors.BookingtimeError):
        return text
    return (
        f"Unexpected error: {type(exc).__name__}: {text}. "
        "Details are in the log (logger 'bt_explore.widgets')."
    )


_LOOPBACK = ("127.0.0.1", "::1", "localhost")


def _server(exc: BaseException) -> str:
    """Who did not answer: a sandbox on this machine (bookingtime never is), or bookingtime."""
    parts = urlsplit(str(getattr(exc, "url", "") or ""))
    if parts.hostname in _LOOPBACK:
        return f"the sandbox at {parts.netloc}"
    return "bookingtime"


def _reach_hint(exc: BaseException) -> str:
    if _server(exc) != "bookingtime":
        return "Is it still running? Start it again, then click again to retry."
    return "Check the connection and click again to retry."


def zone(name: Any) -> tzinfo | None:
    """A time zone from its IANA name (``None`` for none or an unknown one).

    Example:
        >>> zone("Europe/Berlin").key, zone("")
        ('Europe/Berlin', None)
    """
    if isinstance(name, tzinfo):
        return name
    if not name or not isinstance(name, str):
        return None
    return times.zone(name, fallback=None)


def resource_name(resource: Mapping[str, Any]) -> str:
    """A resource's name for people: its name, else first and last name, else its id.

    Example:
        >>> resource_name({"id": "br1", "firstName": "Anna", "lastName": "Schmidt"})
        'Anna Schmidt'
    """
    name = resource.get("name")
    if isinstance(name, str) and name.strip():
        return name.strip()
    parts = (resource.get(RESOURCE.first_name), resource.get(RESOURCE.last_name))
    full = " ".join(str(part or "").strip() for part in parts)
    return full.strip() or str(resource.get("id") or "?")


def to_datetime(value: Any, tz: tzinfo | None) -> datetime | None:
    """A timestamp (text, pandas or datetime) as an aware datetime in ``tz``; ``None`` if none.

    Example:
        >>> to_datetime("2026-12-01T09:00:00+01:00", timezone.utc).isoformat()
        '2026-12-01T08:00:00+00:00'
    """
    if value is None:
        return None
    if hasattr(value, "to_pydatetime"):
        try:
            if value != value:  # NaT
                return None
        except (TypeError, ValueError):
            pass
        value = value.to_pydatetime()
    if isinstance(value, str):
        try:
            value = times.parse_timestamp(value)
        except ValueError:
            return None
    if not isinstance(value, datetime):
        return None
    if value.tzinfo is None:
        value = value.replace(tzinfo=timezone.utc)
    return value.astimezone(tz) if tz is not None else value


def present(value: Any) -> bool:
    """Whether a DataFrame cell holds a value (not None, NaN, NaT or pd.NA).

    Example:
        >>> present("x"), present(None), present(float("nan"))
        (True, False, False)
    """
    if value is None:
        return False
    try:
        return not bool(value != value)
    except (TypeError, ValueError):  # pd.NA refuses bool(); it is the only such value here
        return False


def resource_ids(value: Any) -> tuple[str, ...]:
    """A slot's resource ids from a list or a comma-separated text.

    Example:
        >>> resource_ids("br1, br2")
        ('br1', 'br2')
    """
    if value is None:
        return ()
    if isinstance(value, str):
        return tuple(part.strip() for part in value.split(",") if part.strip())
    try:
        return tuple(str(v) for v in value)
    except TypeError:
        return (str(value),)
