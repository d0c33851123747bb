"""Booking rules: what a booking's ``customer`` and ``address`` must be, declared once.

The client's pre-check (:meth:`bt_explore.Client.book`), the booking explorer's form, the demo
CLI and the sandbox's ``appointment/add`` all ask :func:`booking_problems`, so they give the
same verdict for the same input. Each :class:`Problem` names the parameter in the API's words
(``customer.email``, ``customer.address.zip``, ``address``), a message key (the sandbox
localizes by it) and the English text.

Example:
    >>> [p.parameter for p in booking_problems({"firstName": "Ada", "email": "ada@example.c"})]
    ['customer.lastName', 'customer.email']
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Any, Literal, get_args, get_origin

import msgspec

from bt_explore.models import ID_PREFIXES, Address, Customer

__all__ = [
    "ADDRESS_PARTS",
    "GENDERS",
    "MAX_NAME_LENGTH",
    "Problem",
    "TEXTS",
    "body_problems",
    "booking_problems",
    "required_parameters",
    "valid_email",
    "valid_mobile",
]

#: The values ``customer.gender`` may take.
GENDERS: tuple[str, ...] = ("MALE", "FEMALE", "NOT_SPECIFIED")
#: The parts a complete address has (``name``, ``extra`` and ``country`` are optional).
ADDRESS_PARTS: tuple[str, ...] = ("street", "zip", "city")
#: The longest first or last name accepted (characters, surrounding spaces not counted).
MAX_NAME_LENGTH = 255
#: The longest e-mail address there is (RFC 5321: a 256-octet path less its angle brackets).
_MAX_EMAIL_LENGTH = 254

#: message key -> English text (``str.format`` fields); the sandbox adds other languages.
TEXTS: dict[str, str] = {
    "required": "This parameter is required.",
    "invalid": "This parameter is invalid.",
    "not_a_string": "This parameter must be a string.",
    "not_an_object": "This parameter must be a JSON object.",
    "email_invalid": "This parameter is invalid: '{value}' is not an e-mail address.",
    "mobile_invalid": "This parameter is invalid: '{value}' is not a mobile number.",
    "zip_invalid": "This parameter is invalid: '{value}' is not a postal code.",
    "choice_invalid": "This parameter is invalid: expected one of {choices}.",
    "too_long": "This parameter is too long (at most {max} characters).",
    "date_invalid": "This parameter is invalid: expected a date YYYY-MM-DD.",
    "not_a_boolean": "This parameter must be true or false.",
    "bad_id": "'{value}' is not a valid {kind} id: expected 32 characters, '{prefix}' and 30 of "
    "[0-9a-zA-Z].",
    "additional_data_invalid": "This parameter is invalid: expected an object mapping keys to "
    "lists of strings.",
}

# A dot-atom local part (ASCII "atext" or any non-ASCII character: RFC 5322/6531; no quoted
# strings, no comments), then a domain of at least two labels (letters and digits of any
# script, inner hyphens) whose last is alphabetic or an xn-- label.
_ATEXT = r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~\-\u0080-\U0010ffff]+"
_LABEL = r"[^\W_](?:[\w-]{0,61}[^\W_])?"
_EMAIL = re.compile(
    rf"(?=[^@]{{1,64}}@){_ATEXT}(?:\.{_ATEXT})*@(?:{_LABEL}\.)+(?:[^\W\d_]{{2,63}}|xn--[a-z0-9-]+)",
    re.IGNORECASE,
)
# People write numbers with spaces, dashes, slashes, dots and parentheses; only digits count.
_MOBILE_NOISE = re.compile(r"[ ()/.\-]")
_MOBILE = re.compile(r"\+?[0-9]{6,15}")
_ZIP = re.compile(r"[0-9A-Za-z][0-9A-Za-z \-]{1,9}")
_COUNTRY = re.compile(r"[A-Z]{2}")
# Customer fields that are text when given (names, e-mail and mobile are checked on their own).
_TEXT_FIELDS = ("title", "notes", "customId", "locale", "birthday")
# template flag -> the parameter it makes required
_FLAGS = (
    ("customerEmailRequired", "customer.email"),
    ("customerMobileRequired", "customer.mobile"),
    ("customerAddressRequired", "customer.address"),
    ("appointmentAddressRequired", "address"),
)


@dataclass(frozen=True)
class Problem:
    """What is wrong with one parameter of a booking request.

    Example:
        >>> p = Problem("customer.email", "email_invalid", {"value": "a@b"})
        >>> p.text
        "This parameter is invalid: 'a@b' is not an e-mail address."
    """

    parameter: str
    key: str
    fields: Mapping[str, Any] = field(default_factory=dict)

    @property
    def text(self) -> str:
        """The English message text."""
        return TEXTS[self.key].format(**self.fields)


def required_parameters(template: Mapping[str, Any] | None) -> tuple[str, ...]:
    """The parameters a booking for ``template`` must give: names always, the rest by its flags.

    Example:
        >>> required_parameters({"customerMobileRequired": True, "customerEmailRequired": False})
        ('customer.firstName', 'customer.lastName', 'customer.mobile')
    """
    flags = template or {}
    return ("customer.firstName", "customer.lastName") + tuple(
        parameter for flag, parameter in _FLAGS if flags.get(flag)
    )


def valid_email(value: str) -> bool:
    """Whether ``value`` (surrounding spaces ignored) is an e-mail address.

    Example:
        >>> valid_email("ada@example.com"), valid_email("ada@example.c"), valid_email('"x"@y.de')
        (True, False, False)
    """
    text = value.strip()
    if len(text) > _MAX_EMAIL_LENGTH or any(c.isspace() or not c.isprintable() for c in text):
        return False
    return _EMAIL.fullmatch(text) is not None


def valid_mobile(value: str) -> bool:
    """Whether ``value`` is a phone number: 6 to 15 digits, maybe a leading ``+``.

    Example:
        >>> valid_mobile("+49 (151) 234-56789"), valid_mobile("+")
        (True, False)
    """
    return _MOBILE.fullmatch(_MOBILE_NOISE.sub("", value.strip())) is not None


def booking_problems(
    customer: Any,
    *,
    template: Mapping[str, Any] | None = None,
    address: Any = None,
) -> list[Problem]:
    """What is wrong with a booking's ``customer`` and ``address`` for ``template``; [] if fine.

    ``template`` is the booking template (its ``customer…Required`` and
    ``appointmentAddressRequired`` flags); ``None`` when unknown, so only what every booking
    needs is checked. Surrounding spaces are ignored: ``" Ada "`` is a first name.

    Example:
        >>> template = {"customerMobileRequired": True}
        >>> [(p.parameter, p.key) for p in booking_problems(
        ...     {"firstName": "Ada", "lastName": " ", "mobile": "abc"}, template=template)]
        [('customer.lastName', 'required'), ('customer.mobile', 'mobile_invalid')]
    """
    flags = template or {}
    problems: list[Problem] = []
    if customer is None:
        problems.append(Problem("customer", "required"))
    elif not isinstance(customer, Mapping):
        problems.append(Problem("customer", "not_an_object"))
    else:
        _customer_problems(customer, flags, problems)
        _shape_problem(customer, Customer, "customer", problems)
    if _given(address):
        _address_problems(address, "address", problems)
        _shape_problem(address, Address, "address", problems)
    elif flags.get("appointmentAddressRequired"):
        problems.append(Problem("address", "required"))
    return problems


def _shape_problem(
    value: Mapping[str, Any], model: type[msgspec.Struct], parameter: str, problems: list[Problem]
) -> None:
    """When the checks above found nothing in ``value``: what its model still refuses (the
    first value of another type, e.g. an address's ``geoCoordinates``), so that whatever is
    accepted can be answered as the model. Its own ``class`` and unknown keys are ignored."""
    if any(p.parameter.startswith(parameter) for p in problems):
        return
    try:
        msgspec.convert({k: v for k, v in value.items() if k != "class"}, model)
    except msgspec.ValidationError as exc:
        where = str(exc).rpartition(" - at `$")[2].rstrip("`")
        problems.append(Problem(parameter + where, "invalid"))


def _given(value: Any) -> bool:
    """Whether an optional object was sent (``None`` and ``{}`` are what "not given" looks like)."""
    return value is not None and not (isinstance(value, Mapping) and not value)


def _blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def _customer_problems(
    customer: Mapping[str, Any], flags: Mapping[str, Any], problems: list[Problem]
) -> None:
    for key in ("firstName", "lastName"):
        value = customer.get(key)
        if _blank(value):
            problems.append(Problem(f"customer.{key}", "required"))
        elif not isinstance(value, str):
            problems.append(Problem(f"customer.{key}", "not_a_string"))
        elif len(value.strip()) > MAX_NAME_LENGTH:
            problems.append(Problem(f"customer.{key}", "too_long", {"max": MAX_NAME_LENGTH}))
    for key, flag, valid, message in (
        ("email", "customerEmailRequired", valid_email, "email_invalid"),
        ("mobile", "customerMobileRequired", valid_mobile, "mobile_invalid"),
    ):
        value = customer.get(key)
        if _blank(value):
            if flags.get(flag):
                problems.append(Problem(f"customer.{key}", "required"))
        elif not isinstance(value, str):
            problems.append(Problem(f"customer.{key}", "not_a_string"))
        elif not valid(value):
            problems.append(Problem(f"customer.{key}", message, {"value": value}))
    for key in _TEXT_FIELDS:
        value = customer.get(key)
        if value is not None and not isinstance(value, str):
            problems.append(Problem(f"customer.{key}", "not_a_string"))
    gender = customer.get("gender")
    if gender is not None and gender not in GENDERS:
        problems.append(
            Problem("customer.gender", "choice_invalid", {"choices": ", ".join(GENDERS)})
        )
    birthday = customer.get("birthday")
    if isinstance(birthday, str) and birthday:
        try:
            date.fromisoformat(birthday)
        except ValueError:
            problems.append(Problem("customer.birthday", "date_invalid"))
    address = customer.get("address")
    if _given(address):
        _address_problems(address, "customer.address", problems)
    elif flags.get("customerAddressRequired"):
        problems.append(Problem("customer.address", "required"))


def _address_problems(address: Any, prefix: str, problems: list[Problem]) -> None:
    """A complete address: street, zip and city as text, a postal code's shape, and the
    optional name, extra and two-letter ISO country as text."""
    if not isinstance(address, Mapping):
        problems.append(Problem(prefix, "not_an_object"))
        return
    for key in ADDRESS_PARTS:
        value = address.get(key)
        if _blank(value):
            problems.append(Problem(f"{prefix}.{key}", "required"))
        elif not isinstance(value, str):
            problems.append(Problem(f"{prefix}.{key}", "not_a_string"))
        elif key == "zip" and not _ZIP.fullmatch(value.strip()):
            problems.append(Problem(f"{prefix}.zip", "zip_invalid", {"value": value}))
    for key in ("name", "extra", "country"):
        value = address.get(key)
        if value is not None and not isinstance(value, str):
            problems.append(Problem(f"{prefix}.{key}", "not_a_string"))
    country = address.get("country")
    if isinstance(country, str) and country and not _COUNTRY.fullmatch(country):
        problems.append(Problem(f"{prefix}.country", "invalid"))


def body_problems(
    body: Mapping[str, Any], model: type[msgspec.Struct], *, skip: tuple[str, ...] = ()
) -> list[Problem]:
    """What is wrong with a request ``body`` by its request model (:mod:`bt_explore.models`):
    each field's presence, JSON type, length and id shape, as the model declares them.

    A required field that is missing, ``null`` or ``""`` is ``required`` (blank text too, where
    the model asks for a minimum length); an optional one may be ``null``. ``skip`` names the
    fields (wire names) checked elsewhere, e.g. the customer by :func:`booking_problems`.

    Example:
        >>> from bt_explore.models import CustomEntityAdd
        >>> [(p.parameter, p.key) for p in body_problems(
        ...     {"name": " ", "customId": "x" * 200, "additionalData": {"k": "v"}}, CustomEntityAdd)]
        [('name', 'required'), ('customId', 'too_long'), ('additionalData', 'additional_data_invalid')]
    """
    problems: list[Problem] = []
    for field_ in msgspec.structs.fields(model):
        name = field_.encode_name
        if name in skip:
            continue
        value = body.get(name)
        if value is None or (field_.required and value == ""):
            if field_.required:
                problems.append(Problem(name, "required"))
            continue
        problem = _value_problem(name, value, field_.type)
        if problem is not None:
            problems.append(problem)
    return problems


def _value_problem(name: str, value: Any, annotation: Any) -> Problem | None:
    """The problem of one given value of a field typed ``annotation`` (``None`` if it fits)."""
    kind, metas = _unwrap(annotation)
    if kind is str:
        if not isinstance(value, str):
            return Problem(name, "not_a_string")
        for meta in metas:
            if meta.min_length and len(value.strip()) < meta.min_length:
                return Problem(name, "required")
            if meta.max_length is not None and len(value) > meta.max_length:
                return Problem(name, "too_long", {"max": meta.max_length})
            if meta.pattern and re.search(meta.pattern, value) is None:
                id_kind = (meta.extra or {}).get("id")
                if id_kind:
                    fields = {"value": value, "kind": id_kind, "prefix": ID_PREFIXES[id_kind]}
                    return Problem(name, "bad_id", fields)
                return Problem(name, "invalid")
        return None
    if kind is bool:
        return None if isinstance(value, bool) else Problem(name, "not_a_boolean")
    if get_origin(kind) is Literal:
        choices = get_args(kind)
        if value in choices:
            return None
        return Problem(name, "choice_invalid", {"choices": ", ".join(map(str, choices))})
    try:
        msgspec.convert(value, annotation, strict=True)
    except msgspec.ValidationError:
        keys = [(meta.extra or {}).get("problem") for meta in metas]
        return Problem(name, next((k for k in keys if k), "invalid"))
    return None


def _unwrap(annotation: Any) -> tuple[Any, list[msgspec.Meta]]:
    """The type under ``Annotated`` and ``| None``, and its constraints."""
    metas: list[msgspec.Meta] = []
    while True:
        args = get_args(annotation)
        if hasattr(annotation, "__metadata__"):  # Annotated[T, Meta(...)]
            metas += [m for m in annotation.__metadata__ if isinstance(m, msgspec.Meta)]
            annotation = args[0]
        elif args and type(None) in args and get_origin(annotation) is not Literal:
            rest = [a for a in args if a is not type(None)]
            if len(rest) != 1:
                return annotation, metas
            annotation = rest[0]
        else:
            return annotation, metas
