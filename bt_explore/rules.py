"""Booking rules: what a booking's ``customer`` and ``address`` must be, declared once.

The models (:class:`bt_explore.models.Customer`, :class:`~bt_explore.models.Address`) declare
each field's type, whether it is required, its length and pattern; :func:`body_problems` reads
them. What a model cannot say is here: which fields a template's flags require, that a
birthday is a real date and an e-mail address printable, and the message texts.

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

from bt_explore.models import (
    EMAIL_PATTERN,
    ID_PREFIXES,
    MOBILE_PATTERN,
    Address,
    BookingTemplate,
    Customer,
    wire_names,
)

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

_CUSTOMER = wire_names(Customer)
_ADDRESS = wire_names(Address)
_TEMPLATE = wire_names(BookingTemplate)


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


def _choices(model: type[msgspec.Struct], name: str) -> tuple[str, ...]:
    """The values a ``Literal`` field of ``model`` may take."""
    annotation = {f.name: f.type for f in msgspec.structs.fields(model)}[name]
    return get_args(_unwrap(annotation)[0])


def _max_length(model: type[msgspec.Struct], name: str) -> int:
    annotation = {f.name: f.type for f in msgspec.structs.fields(model)}[name]
    return next(m.max_length for m in _unwrap(annotation)[1] if m.max_length is not None)


#: The values ``customer.gender`` may take.
GENDERS: tuple[str, ...] = _choices(Customer, "gender")
#: The parts a complete address has (``name``, ``extra`` and ``country`` are optional).
ADDRESS_PARTS: tuple[str, ...] = tuple(
    f.encode_name for f in msgspec.structs.fields(Address) if f.required
)
#: The longest first or last name accepted (characters, surrounding spaces not counted).
MAX_NAME_LENGTH = _max_length(Customer, "first_name")

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

_EMAIL = re.compile(EMAIL_PATTERN)
_MOBILE = re.compile(MOBILE_PATTERN)
#: template flag -> the parameter it makes required
_FLAGS = (
    (_TEMPLATE.customer_email_required, f"customer.{_CUSTOMER.email}"),
    (_TEMPLATE.customer_mobile_required, f"customer.{_CUSTOMER.mobile}"),
    (_TEMPLATE.customer_address_required, f"customer.{_CUSTOMER.address}"),
    (_TEMPLATE.appointment_address_required, "address"),
)
#: What every booking needs: the customer's required fields.
_ALWAYS = tuple(f"customer.{f.encode_name}" for f in msgspec.structs.fields(Customer) if f.required)
#: The customer's fields in their order (problems are reported in it).
_ORDER = {
    f"customer.{f.encode_name}": index for index, f in enumerate(msgspec.structs.fields(Customer))
}
#: Judged apart from the field types: the tag, and the address (complete, or required by a flag).
_APART = (_CUSTOMER.class_, _CUSTOMER.address)


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
    return _ALWAYS + tuple(parameter for flag, parameter in _FLAGS if flags.get(flag))


def valid_email(value: str) -> bool:
    """Whether ``value`` (surrounding spaces ignored) is an e-mail address.

    Example:
        >>> valid_email("ada@example.com"), valid_email("ada@example.c"), valid_email('"x"@y.de')
        (True, False, False)
    """
    text = value.strip()
    return bool(text) and _EMAIL.search(text) is not None and text.isprintable()


def valid_mobile(value: str) -> bool:
    """Whether ``value`` is a phone number: 6 to 15 digits, maybe a leading ``+``.

    Example:
        >>> valid_mobile("+49 (151) 234-56789"), valid_mobile("+")
        (True, False)
    """
    return bool(value.strip()) and _MOBILE.search(value) is not None


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
    required = set(required_parameters(flags))
    problems: list[Problem] = []
    if customer is None:
        problems.append(Problem("customer", "required"))
    elif not isinstance(customer, Mapping):
        problems.append(Problem("customer", "not_an_object"))
    else:
        problems += _customer_problems(customer, required)
        _address_or_required(
            customer.get(_CUSTOMER.address), "customer.address", required, problems
        )
        _shape_problem(customer, Customer, "customer", problems)
    _address_or_required(address, "address", required, problems)
    if _given(address):
        _shape_problem(address, Address, "address", problems)
    return problems


def _given(value: Any) -> bool:
    """Whether an optional object was sent (``None`` and ``{}`` are what "not given" looks like)."""
    return value is not None and not (isinstance(value, Mapping) and not value)


def _blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def _customer_problems(customer: Mapping[str, Any], required: set[str]) -> list[Problem]:
    """The customer's fields by the model, the fields the template's flags require, and what
    the model cannot say (a real birthday, a printable e-mail address), in field order."""
    problems = body_problems(customer, Customer, skip=_APART, prefix="customer.")
    found = {p.parameter for p in problems}
    for key in (_CUSTOMER.email, _CUSTOMER.mobile):
        parameter = f"customer.{key}"
        if parameter in required and _blank(customer.get(key)):
            problems.append(Problem(parameter, "required"))
    email = customer.get(_CUSTOMER.email)
    parameter = f"customer.{_CUSTOMER.email}"
    if parameter not in found and isinstance(email, str) and email.strip():
        if not valid_email(email):
            problems.append(Problem(parameter, "email_invalid", {"value": email}))
    birthday = customer.get(_CUSTOMER.birthday)
    if isinstance(birthday, str) and birthday and not _is_date(birthday):
        problems.append(Problem(f"customer.{_CUSTOMER.birthday}", "date_invalid"))
    return sorted(problems, key=lambda p: _ORDER[p.parameter])


def _is_date(text: str) -> bool:
    try:
        date.fromisoformat(text)
    except ValueError:
        return False
    return True


def _address_or_required(
    address: Any, parameter: str, required: set[str], problems: list[Problem]
) -> None:
    """A complete address where one is given (street, zip and city given, the rest of their
    types and shapes, by the model), else ``required`` if the template's flags ask for it."""
    if not _given(address):
        if parameter in required:
            problems.append(Problem(parameter, "required"))
    elif not isinstance(address, Mapping):
        problems.append(Problem(parameter, "not_an_object"))
    else:
        problems += body_problems(address, Address, skip=(_ADDRESS.class_,), prefix=f"{parameter}.")


def _shape_problem(
    value: Mapping[str, Any], model: type[msgspec.Struct], parameter: str, problems: list[Problem]
) -> None:
    """When the checks above found nothing in ``value``: what its model still refuses (the
    first value of another type, e.g. an address's ``geoCoordinates``), so that whatever is
    accepted can be answered as the model. Its own ``class`` and unknown keys are ignored;
    texts are read without surrounding spaces, as the sandbox stores them."""
    if any(p.parameter.startswith(parameter) for p in problems):
        return
    stored = {k: v.strip() if isinstance(v, str) else v for k, v in value.items() if k != "class"}
    try:
        msgspec.convert(stored, model)
    except msgspec.ValidationError as exc:
        where = str(exc).rpartition(" - at `$")[2].rstrip("`")
        problems.append(Problem(parameter + where, "invalid"))


def body_problems(
    body: Mapping[str, Any],
    model: type[msgspec.Struct],
    *,
    skip: tuple[str, ...] = (),
    prefix: str = "",
) -> list[Problem]:
    """What is wrong with a request ``body`` by its request model (:mod:`bt_explore.models`):
    each field's presence, JSON type, length, pattern and id shape, as the model declares them.

    A required field that is missing, ``null`` or ``""`` is ``required`` (blank text too, where
    the model asks for a minimum length); an optional one may be ``null``. ``skip`` names the
    fields (wire names) checked elsewhere, e.g. the customer by :func:`booking_problems`;
    ``prefix`` is put before each parameter (``"customer."``).

    Example:
        >>> from bt_explore.models import CustomEntityAdd
        >>> [(p.parameter, p.key) for p in body_problems(
        ...     {"name": " ", "customId": "x" * 200, "additionalData": {"k": "v"}}, CustomEntityAdd)]
        [('name', 'required'), ('customId', 'too_long'), ('additionalData', 'additional_data_invalid')]
    """
    problems: list[Problem] = []
    for field_ in msgspec.structs.fields(model):
        if field_.encode_name in skip:
            continue
        name = prefix + field_.encode_name
        value = body.get(field_.encode_name)
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
        return next((p for p in (_text_problem(name, value, m) for m in metas) if p), None)
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


def _text_problem(name: str, value: str, meta: msgspec.Meta) -> Problem | None:
    """What ``meta`` refuses in the text ``value``: blank where a length is required, too long
    (``extra["trimmed"]``: surrounding spaces not counted), or not of the pattern."""
    extra = meta.extra or {}
    if meta.min_length and len(value.strip()) < meta.min_length:
        return Problem(name, "required")
    length = len(value.strip()) if extra.get("trimmed") else len(value)
    if meta.max_length is not None and length > meta.max_length:
        return Problem(name, "too_long", {"max": meta.max_length})
    if not meta.pattern or re.search(meta.pattern, value) is not None:
        return None
    if extra.get("id"):
        kind = extra["id"]
        return Problem(name, "bad_id", {"value": value, "kind": kind, "prefix": ID_PREFIXES[kind]})
    if extra.get("problem"):
        return Problem(name, extra["problem"], {"value": value})
    return Problem(name, "invalid")
