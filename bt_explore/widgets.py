"""The booking explorer: pick a template, see free slots and book, inside a notebook.

Two layers. :class:`ExplorerController` holds the whole logic and state as plain Python (no
widgets): templates, the slots on show, the customer form and its validation, the bookings of
this session and a status line. Every action catches what goes wrong and turns it into a status
message plus a log record (logger ``bt_explore.widgets``), so nothing fails silently.
:class:`BookingExplorer` is the thin ipywidgets view bound to it; it runs the network calls in a
worker thread so the kernel stays responsive while a request is in flight.

Example:
    >>> import bt_explore
    >>> client = bt_explore.connect()                  # doctest: +SKIP
    >>> bt_explore.BookingExplorer(client)              # doctest: +SKIP
"""

from __future__ import annotations

import concurrent.futures
import functools
import html
import logging
import re
import threading
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone, tzinfo
from typing import Any, Literal

from bt_explore.extras import missing_extra

try:
    import ipywidgets as widgets
except ImportError as exc:  # pragma: no cover - depends on the installed extras
    raise missing_extra("ipywidgets", "bt_explore.widgets") from exc

import bt_explore.errors as errors
import bt_explore.frames as frames
import bt_explore.rules as rules
import bt_explore.times as times

__all__ = [
    "BookingExplorer",
    "ExplorerController",
    "FormField",
    "FORM_FIELDS",
    "SELECTORS",
    "Slot",
    "Status",
    "customer_payload",
    "describe_error",
    "form_summary",
    "required_fields",
    "template_label",
    "template_summary",
    "validate_customer",
]

logger = logging.getLogger("bt_explore.widgets")

StatusLevel = Literal["info", "busy", "success", "warning", "error"]
Mode = Literal["day", "week"]

DEFAULT_BOOKING_DAYS = 14
_STATUS_HISTORY = 50


# --------------------------------------------------------------------------------------------
# Pure helpers: labels, descriptions, validation, error messages
# --------------------------------------------------------------------------------------------


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
    FormField("first_name", "First name", "customer.firstName", "e.g. Jane"),
    FormField("last_name", "Last name", "customer.lastName", "e.g. Doe"),
    FormField("email", "Email", "customer.email", "e.g. jane.doe@example.com"),
    FormField("mobile", "Mobile", "customer.mobile", "e.g. +49 170 1234567"),
    FormField("street", "Street", "customer.address.street", "e.g. Hauptstraße 1"),
    FormField("zip", "ZIP", "customer.address.zip", "e.g. 10115"),
    FormField("city", "City", "customer.address.city", "e.g. Berlin"),
)
_FIELDS_BY_NAME = {f.name: f for f in FORM_FIELDS}
_ADDRESS_FIELDS = ("street", "zip", "city")

# How the form words a rule's problem next to its field (others show the rule's own text).
_FORM_TEXTS = {
    "required": "required",
    "email_invalid": "not a valid email address (like name@example.com)",
    "mobile_invalid": "not a valid phone number (6 to 15 digits, may start with +)",
    "zip_invalid": "not a valid postal code",
}
# An address part the template does not require, missing while other parts are given.
_PARTIAL_ADDRESS = "needed too: an address has street, ZIP and city (or leave all three empty)"


def _num(value: Any) -> float | None:
    try:
        return None if value is None or value == "" else float(value)
    except (TypeError, ValueError):
        return None


def _price(template: Mapping[str, Any]) -> tuple[float | None, str, float | None]:
    """(gross price, currency, tax rate) from the nested ``price`` or the flat fields."""
    price = template.get("price")
    price = price if isinstance(price, Mapping) else {}
    gross = _num(price.get("priceGross", template.get("priceGross")))
    currency = str(price.get("currency") or template.get("currency") or "")
    tax = _num(price.get("taxRate", template.get("taxRate")))
    return gross, currency, tax


def _format_price(template: Mapping[str, Any]) -> str:
    gross, currency, _ = _price(template)
    if gross is None:
        return ""
    return f"{gross:.2f} {currency}".strip()


def _duration(template: Mapping[str, Any]) -> int | None:
    value = _num(template.get("duration"))
    return None if value is None else int(value)


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
    if template.get("showPrice", True) is not False:
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
    names = [n for p in rules.required_parameters(template) for n in _fields_for_parameter(p)]
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
        hidden = " (not shown to customers)" if template.get("showPrice") is False else ""
        summary["Price"] = f"{gross:.2f} {currency}{tax_text}{hidden}".replace("  ", " ")
    earliest = int(_num(template.get("bookingDayEarliest")) or 0)
    latest = _num(template.get("bookingDayLatest"))
    start = {0: "from today", 1: "from tomorrow"}.get(earliest, f"from {earliest} days ahead")
    window = f"{start} up to {int(latest)} days ahead" if latest is not None else start
    lead = int(_num(template.get("bookingLeadTime")) or 0)
    if lead:
        window += f", at least {lead} min in advance"
    summary["Booking window"] = window
    labels = [_FIELDS_BY_NAME[name].label.lower() for name in required_fields(template)]
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
    customer: dict[str, Any] = {"firstName": value["first_name"], "lastName": value["last_name"]}
    for name in ("email", "mobile"):
        if value[name] != "":
            customer[name] = value[name]
    parts = {name: value[name] for name in _ADDRESS_FIELDS if value[name] != ""}
    if parts:
        customer["address"] = parts
    # The form has one address; a home visit (appointmentAddressRequired) uses it too.
    home_visit = bool(template and template.get("appointmentAddressRequired"))
    address = customer.get("address") if home_visit else None
    required = required_fields(template)
    found: dict[str, str] = {}
    for problem in rules.booking_problems(customer, template=template, address=address):
        for name in _fields_for_parameter(problem.parameter):
            text = _FORM_TEXTS.get(problem.key, problem.text)
            if problem.key == "required" and name in _ADDRESS_FIELDS and name not in required:
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
        f"{_FIELDS_BY_NAME[name].label} ({text})"
        for name, text in problems.items()
        if text != _PARTIAL_ADDRESS
    ]
    partial = [
        _FIELDS_BY_NAME[name].label for name, text in problems.items() if text == _PARTIAL_ADDRESS
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
    customer: dict[str, Any] = {"firstName": value["first_name"], "lastName": value["last_name"]}
    if value["email"]:
        customer["email"] = value["email"]
    if value["mobile"]:
        customer["mobile"] = value["mobile"]
    if all(value[name] for name in _ADDRESS_FIELDS):
        address = {"street": value["street"], "zip": value["zip"], "city": value["city"]}
        if country:
            address["country"] = country
        customer["address"] = address
    return customer


def _fields_for_parameter(parameter: str | None) -> list[str]:
    """Form fields an API message parameter (``customer.email``, ``customer[address]``) names."""
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


def _messages(exc: BaseException) -> list[Any]:
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
        return (
            f"Could not reach bookingtime: {text}. Check the connection and click again to retry."
        )
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


def _zone(name: Any) -> tzinfo | None:
    if isinstance(name, tzinfo):
        return name
    if not name or not isinstance(name, str):
        return None
    return times.zone(name, fallback=None)


def _resource_name(resource: Mapping[str, Any]) -> str:
    name = resource.get("name")
    if isinstance(name, str) and name.strip():
        return name.strip()
    full = " ".join(str(resource.get(k) or "").strip() for k in ("firstName", "lastName"))
    return full.strip() or str(resource.get("id") or "?")


def _to_datetime(value: Any, tz: tzinfo | None) -> datetime | None:
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


def _present(value: Any) -> bool:
    """Whether a DataFrame cell holds a value (not None, NaN, NaT or pd.NA)."""
    if value is None:
        return False
    try:
        return not bool(value != value)
    except (TypeError, ValueError):  # pd.NA refuses bool(); it is the only such value here
        return False


def _resource_ids(value: Any) -> tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, str):
        return tuple(part.strip() for part in value.split(",") if part.strip())
    try:
        return tuple(str(v) for v in value)
    except TypeError:
        return (str(value),)


# --------------------------------------------------------------------------------------------
# Controller
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Slot:
    """A free slot as the explorer shows it: id, local start/end and resource names.

    Example:
        >>> from datetime import datetime
        >>> Slot("4fx", datetime(2026, 12, 1, 9), datetime(2026, 12, 1, 10), ("br1",),
        ...      ("Anna",)).label
        'Tue 01 Dec 2026 09:00–10:00 · Anna'
    """

    id: str
    start: datetime
    end: datetime | None
    resource_ids: tuple[str, ...]
    resource_names: tuple[str, ...]

    @property
    def label(self) -> str:
        """``Tue 01 Dec 2026 09:00–10:00 · Anna Schmidt, Room 2``."""
        when = self.start.strftime("%a %d %b %Y %H:%M")
        if self.end is not None:
            when += "–" + self.end.strftime("%H:%M")
        names = ", ".join(self.resource_names)
        return f"{when} · {names}" if names else when

    @property
    def time_label(self) -> str:
        """``09:00 · Anna Schmidt, Room 2``: the slot on a button of its day's times."""
        names = ", ".join(self.resource_names)
        return f"{self.start:%H:%M} · {names}" if names else f"{self.start:%H:%M}"


@dataclass(frozen=True)
class Status:
    """What the app is doing or what just happened, as the status line shows it.

    Example:
        >>> Status("busy", "Loading templates…").level
        'busy'
    """

    level: StatusLevel
    text: str


@dataclass(frozen=True)
class _BookingTicket:
    """What the user chose when they clicked Book: booked exactly as it was then."""

    slot: Slot
    template: dict[str, Any]
    customer: dict[str, Any]
    address: dict[str, Any] | None = None


def _guarded(action: Callable[..., Any]) -> Callable[..., Any]:
    """Turn any exception of a controller action into a status message and a log record."""

    @functools.wraps(action)
    def wrapper(self: ExplorerController, *args: Any, **kwargs: Any) -> Any:
        try:
            return action(self, *args, **kwargs)
        except Exception as exc:  # noqa: BLE001 - the point is to never fail silently
            self.report_exception(exc, action.__name__)
            return None

    return wrapper


class ExplorerController:
    """The booking explorer's logic and state, without any widget.

    Every action (``start``, ``load``, ``select_template``, ``show_first_day``,
    ``find_earliest``, ``browse``, ``step``, ``choose_day``, ``select_slot``, ``set_field``,
    ``book``, ``cancel``) updates the state, sets the messages and calls the listeners; none
    raises: failures become an ``error`` status and a log record.

    Messages belong to their moment and their place: :attr:`status` says what the app is doing
    (loading, how many free slots), :attr:`date_note` why a date was moved into the booking
    window, :attr:`book_feedback` what Book needs or what it did, :attr:`cancel_message` what
    Cancel did; :attr:`last_booking` (the confirmation) is dropped when another slot is chosen,
    the template changes or that booking is canceled.

    Example:
        >>> ctl = ExplorerController(client)                    # doctest: +SKIP
        >>> ctl.start(); ctl.find_earliest()                     # doctest: +SKIP
        >>> for name, value in {"first_name": "Jane", "last_name": "Doe",
        ...                     "email": "jane@example.com"}.items():
        ...     ctl.set_field(name, value)                       # doctest: +SKIP
        >>> ctl.book()["id"]                                     # doctest: +SKIP
        'ed…'
    """

    def __init__(self, client: Any, *, clock: Callable[[], datetime] | None = None) -> None:
        self.client = client
        self._clock = clock
        self._listeners: list[Callable[[ExplorerController], None]] = []
        self.organization: dict[str, Any] = {}
        self.tz: tzinfo | None = None
        self.templates: list[dict[str, Any]] = []
        self.resources: dict[str, str] = {}
        self.template_id: str | None = None
        self.mode: Mode = "day"
        self.day: date | None = None
        self.showing: Mode | None = None
        self.slots: list[Slot] = []
        self.slot_id: str | None = None
        self.values: dict[str, str] = {f.name: "" for f in FORM_FIELDS}
        self.touched: set[str] = set()
        self.server_errors: dict[str, str] = {}
        self.show_all_errors = False
        self.bookings: list[dict[str, Any]] = []
        self.last_booking: dict[str, Any] | None = None
        self.status = Status("info", "Not loaded yet.")
        self.history: list[Status] = []
        self.date_note = ""
        self.book_message: Status | None = None
        self.cancel_message: Status | None = None
        self.loaded = False
        self._lock = threading.RLock()
        self._booking: _BookingTicket | None = None
        self._busy = 0

    # -- listeners and status ------------------------------------------------------------------

    def add_listener(self, listener: Callable[[ExplorerController], None]) -> None:
        """Call ``listener(controller)`` after every state change."""
        self._listeners.append(listener)

    def _notify(self) -> None:
        for listener in list(self._listeners):
            try:
                listener(self)
            except Exception:  # noqa: BLE001 - a broken view must not break the logic
                logger.exception("explorer listener %r failed", listener)

    def _set_status(self, level: StatusLevel, text: str, *, log: bool = True) -> None:
        self.status = Status(level, text)
        self.history = [*self.history[-(_STATUS_HISTORY - 1) :], self.status]
        if log:
            log_level = {"error": logging.ERROR, "warning": logging.WARNING}.get(
                level, logging.INFO
            )
            logger.log(log_level, "explorer: %s", text)
        self._notify()

    def report_exception(self, exc: BaseException, context: str = "action") -> None:
        """Show ``exc`` as an error status and log it (with a traceback when unexpected).

        Example:
            >>> ctl = ExplorerController(None)
            >>> ctl.report_exception(RuntimeError("boom"), "book")
            >>> ctl.status.level
            'error'
        """
        if isinstance(exc, errors.BookingtimeError):
            logger.warning("explorer %s failed: %s", context, exc)
        else:
            logger.error("explorer %s failed unexpectedly", context, exc_info=exc)
        self._set_status("error", describe_error(exc), log=False)  # logged just above

    @property
    def busy(self) -> bool:
        """Whether a request is running (or a booking is being sent)."""
        return self._busy > 0 or self._booking is not None

    def _begin(self, text: str) -> None:
        with self._lock:
            self._busy += 1
        self._set_status("busy", text)

    def _end(self) -> None:
        with self._lock:
            self._busy = max(0, self._busy - 1)

    # -- time -------------------------------------------------------------------------------------

    def now(self) -> datetime:
        """The current time in the organization's time zone (the injected clock, if any)."""
        if self._clock is not None:
            current = self._clock()
        elif callable(getattr(self.client, "now", None)):
            current = self.client.now()  # the client's clock: the server's "today"
        else:
            current = datetime.now(timezone.utc)
        if isinstance(current, str):
            current = times.parse_timestamp(current)
        if current.tzinfo is None:
            current = current.replace(tzinfo=timezone.utc)
        return current.astimezone(self.tz) if self.tz is not None else current

    def today(self) -> date:
        """Today's date in the organization's time zone."""
        return self.now().date()

    # -- templates -------------------------------------------------------------------------------

    @property
    def template(self) -> dict[str, Any] | None:
        """The selected template (a BOOKING_TEMPLATE dict), or ``None``."""
        for template in self.templates:
            if template.get("id") == self.template_id:
                return template
        return None

    @property
    def template_options(self) -> list[tuple[str, str]]:
        """(label, id) pairs for the template dropdown."""
        return [(template_label(t), str(t.get("id"))) for t in self.templates]

    @property
    def booking_days(self) -> int:
        """How many days ahead the selected template can be booked."""
        latest = _num((self.template or {}).get("bookingDayLatest"))
        return int(latest) if latest is not None else DEFAULT_BOOKING_DAYS

    @property
    def window(self) -> tuple[date, date]:
        """The first and the last day the selected template can be booked on (inclusive)."""
        earliest = int(_num((self.template or {}).get("bookingDayEarliest")) or 0)
        today = self.today()
        return today + timedelta(days=max(earliest, 0)), today + timedelta(days=self.booking_days)

    @_guarded
    def load(self) -> None:
        """Fetch the organization, its templates and resources; select the first template."""
        self._begin("Loading templates and resources…")
        try:
            self.organization = dict(self.client.organization() or {})
            self.tz = _zone(self.organization.get("timeZone"))
            templates = [dict(t) for t in (self.client.templates() or [])]
            resources = self.client.resources() or []
        finally:
            self._end()
        self.templates = templates
        self.resources = {str(r.get("id")): _resource_name(r) for r in resources}
        self.loaded = True
        if self.day is None or self.day < self.today():
            self.day = self.today()
        if not templates:
            self.template_id = None
            self._set_status("warning", "This organization has no booking templates.")
            return
        if self.template is None:
            self.template_id = str(templates[0].get("id"))
        name = self.organization.get("name") or "the organization"
        self._set_status(
            "info",
            f"{len(templates)} templates of {name} loaded. Pick one, then a free time.",
        )

    def start(self) -> None:
        """Load (see :meth:`load`), then show the selected template's earliest bookable day."""
        self.load()
        if self.loaded and self.template is not None:
            self.show_first_day()

    @_guarded
    def select_template(self, template_id: str | None) -> None:
        """Select a template: clears the slots on show and the messages about the old one.

        The view then calls :meth:`show_first_day` (a request, so in its worker thread).
        """
        if template_id == self.template_id:
            return
        if template_id is not None and not any(t.get("id") == template_id for t in self.templates):
            raise ValueError(f"template_id: unknown template {template_id!r}")
        self.template_id = template_id
        self.slots, self.slot_id, self.showing = [], None, None
        self.server_errors = {}
        self.show_all_errors = False  # the new template asks for other fields: start unmarked
        self.last_booking = None
        self.book_message = None
        self.date_note = ""
        template = self.template
        if template is None:
            self._set_status("info", "Pick a template.")
            return
        self._set_status("info", f"{template_label(template)}: looking for free slots…")

    # -- slots --------------------------------------------------------------------------------------

    @property
    def slot(self) -> Slot | None:
        """The selected slot, or ``None``."""
        for slot in self.slots:
            if slot.id == self.slot_id:
                return slot
        return None

    @property
    def visible_slots(self) -> list[Slot]:
        """The slots of the chosen day (in week view the week holds more; see :attr:`days`)."""
        if self.showing == "week":
            return [s for s in self.slots if s.start.date() == self.day]
        return list(self.slots)

    @property
    def slot_options(self) -> list[tuple[str, str]]:
        """(label, id) pairs for the chosen day's times: ``09:00 · Anna Schmidt``."""
        options: list[tuple[str, str]] = []
        seen: dict[str, int] = {}
        for slot in self.visible_slots:
            label = slot.time_label
            seen[label] = seen.get(label, 0) + 1
            # a button group needs distinct labels; equal ones only differ in their slot id
            options.append((label if seen[label] == 1 else f"{label} ({seen[label]})", slot.id))
        return options

    @property
    def days(self) -> list[tuple[date, int]]:
        """(day, free slots) for each day of the week on show; ``[]`` unless in week view."""
        if self.showing != "week" or self.day is None:
            return []
        monday = self.day - timedelta(days=self.day.weekday())
        counts = {monday + timedelta(days=i): 0 for i in range(7)}
        for slot in self.slots:
            if slot.start.date() in counts:
                counts[slot.start.date()] += 1
        return list(counts.items())

    @property
    def day_options(self) -> list[tuple[str, date]]:
        """(label, day) pairs for the day chooser of the week view: ``Mon 07 Dec · 62``."""
        return [(f"{day:%a %d %b} · {count}", day) for day, count in self.days]

    def _parse_slots(self, content: Any, template: Mapping[str, Any]) -> list[Slot]:
        tz = self.tz
        if isinstance(content, Mapping) and content.get("timeZone"):
            tz = _zone(content.get("timeZone")) or tz
        tz_name = getattr(tz, "key", None)
        frame = frames.slots_frame(content, template=dict(template), tz=tz_name)
        slots = []
        for row in frame.itertuples(index=False):
            start = _to_datetime(row.start, tz)
            if start is None:
                continue
            ids = _resource_ids(row.resource_ids)
            slots.append(
                Slot(
                    id=str(row.slot_id),
                    start=start,
                    end=_to_datetime(row.end, tz),
                    resource_ids=ids,
                    resource_names=tuple(self.resources.get(i, i) for i in ids),
                )
            )
        slots.sort(key=lambda s: (s.start, s.resource_names))
        return slots

    def _fetch(self, template: Mapping[str, Any], showing: Mode, day: date) -> list[Slot]:
        content = self.client.slot_period(str(template.get("id")), showing, day)
        return self._parse_slots(content, template)

    def _apply(
        self,
        template_id: str,
        showing: Mode,
        day: date,
        slots: list[Slot],
        *,
        select: str | None = None,
    ) -> bool:
        """Show fetched slots unless the user picked another template meanwhile.

        In week view the chosen day is ``day`` or, if it has no free slot, the next that has.
        ``select`` is a slot id to select; otherwise a chosen slot stays chosen if still free.
        """
        if template_id != self.template_id:
            logger.info("dropping slots of %s: template changed meanwhile", template_id)
            return False
        previous = self.slot_id
        self.slots, self.showing, self.day = slots, showing, day
        if showing == "week":
            later = sorted({s.start.date() for s in slots if s.start.date() >= day})
            if later and not any(s.start.date() == day for s in slots):
                self.day = later[0]
        if select is not None:
            chosen = next((s for s in slots if s.id == select), None)
            self.day = chosen.start.date() if chosen else self.day
        ids = {s.id for s in self.visible_slots}
        # Only an explicit 'Earliest slot' picks for the user: after a booking, a silently
        # chosen next slot would let an impatient second click book it too.
        self.slot_id = select if select in ids else previous if previous in ids else None
        if self.slot_id is not None and self.slot_id != previous:
            # another slot is chosen: the last booking's confirmation no longer applies
            self.last_booking = None
            self.book_message = None
        return True

    def _when(self, showing: Mode | None, day: date | None) -> str:
        if showing is None or day is None:
            return f"in the next {self.booking_days} days"
        if showing == "week":
            year, week, _ = day.isocalendar()
            monday = day - timedelta(days=day.weekday())
            return f"in week {week}/{year} ({monday:%d %b}–{monday + timedelta(days=6):%d %b})"
        return f"on {day:%a %d %b %Y}"

    def _template_name(self) -> str:
        template = self.template or {}
        return str(template.get("name") or template.get("id") or "this template")

    def _fetch_for_status(self, template: Mapping[str, Any], showing: Mode, day: date) -> Any:
        """Fetch slots; a refusal of the range becomes a friendly warning (``None``)."""
        try:
            return self._fetch(template, showing, day)
        except errors.ValidationError as exc:
            # e.g. a range the server finds outside the bookable days: say so in plain words
            texts = "; ".join(str(getattr(m, "text", m)) for m in _messages(exc)) or str(exc)
            logger.warning("slot list refused: %s", exc)
            self._set_status(
                "warning",
                f"bookingtime lists no slots {self._when(showing, day)} for "
                f"{self._template_name()}: {texts} Pick another date.",
                log=False,
            )
            return None

    def _load_slots(self, showing: Mode, day: date) -> None:
        template = self.template
        if template is None:
            self._set_status("warning", "Pick a template first.")
            return
        name = self._template_name()
        self._begin(f"Looking for free slots of {name} {self._when(showing, day)}…")
        try:
            slots = self._fetch_for_status(template, showing, day)
        finally:
            self._end()
        if slots is None or not self._apply(str(template.get("id")), showing, day, slots):
            return
        when = self._when(showing, day)
        if not slots:
            self._set_status(
                "warning", f"No free slots {when} for {name}. Try ◀ ▶ or 'Earliest slot'."
            )
        elif showing == "week":
            self._set_status(
                "success",
                f"{len(slots)} free slots {when} for {name}: pick a day, then a time.",
            )
        else:
            self._set_status("success", f"{len(slots)} free slots {when} for {name}.")

    def _open_earliest(self, select: bool) -> None:
        """Show the day (or week) of the earliest free slot; ``select`` it too if asked."""
        template = self.template
        if template is None:
            self._set_status("warning", "Pick a template first.")
            return
        name = self._template_name()
        self._begin(f"Looking for the earliest free slot of {name}…")
        try:
            earliest = self._parse_slots(
                self.client.earliest_slot(str(template.get("id"))), template
            )
            day = earliest[0].start.date() if earliest else self.window[0]
            slots = self._fetch(template, self.mode, day) if earliest else []
        finally:
            self._end()
        if earliest and not any(s.id == earliest[0].id for s in slots):
            slots = sorted([*slots, *earliest], key=lambda s: (s.start, s.resource_names))
        first = earliest[0].id if (earliest and select) else None
        if not self._apply(str(template.get("id")), self.mode, day, slots, select=first):
            return
        self.date_note = ""
        if not earliest:
            self._set_status(
                "warning", f"No free slots in the next {self.booking_days} days for {name}."
            )
            return
        that_day = sum(1 for s in slots if s.start.date() == day)
        if select:
            text = f"Earliest free slot of {name}: {earliest[0].label} (chosen)."
        else:
            text = f"{name}: the earliest bookable day is {day:%a %d %b %Y}. Pick a time."
        self._set_status("success", f"{text} {that_day} free slots that day.")

    @_guarded
    def show_first_day(self) -> None:
        """Show the free slots of the template's earliest bookable day (or its week); choose none.

        This is what picking a template shows at once, instead of an empty list.
        """
        self._open_earliest(select=False)

    @_guarded
    def find_earliest(self) -> None:
        """Show the earliest free slot's day (or week) and choose that slot."""
        self._open_earliest(select=True)

    def _into_window(self, day: date) -> date:
        """``day`` moved into the template's booking window; :attr:`date_note` says why."""
        first, last = self.window
        today = self.today()
        name = self._template_name()
        if day < today:
            shown = "today" if first == today else f"{first:%a %d %b}, its first bookable day"
            self.date_note = (
                f"Dates before today ({today:%a %d %b %Y}) cannot be booked; showing {shown}."
            )
            return first
        if day < first:
            self.date_note = (
                f"{name} can be booked from {(first - today).days} days ahead; showing "
                f"{first:%a %d %b}, its first bookable day."
            )
            return first
        if day > last:
            self.date_note = (
                f"{day:%a %d %b %Y} is beyond the booking window of {name} (up to "
                f"{self.booking_days} days ahead); showing {last:%a %d %b}, its last bookable day."
            )
            return last
        self.date_note = ""
        return day

    @_guarded
    def browse(self, day: date | None = None, mode: Mode | None = None) -> None:
        """Show the free slots of a day or of its ISO week (default: the current day and mode).

        A day outside the template's booking window is moved into it, and :attr:`date_note`
        says so (nothing is asked of the server about days it would refuse).
        """
        if mode is not None:
            if mode not in ("day", "week"):
                raise ValueError(f"mode: expected 'day' or 'week', got {mode!r}")
            self.mode = mode
        day = day or self.day or self.today()
        if isinstance(day, datetime):
            day = day.date()
        if self.template is not None:
            day = self._into_window(day)
        self.day = day
        self._load_slots(self.mode, day)

    @_guarded
    def step(self, direction: int) -> None:
        """Browse one day or week back (``-1``) or forward (``+1``), within the booking window."""
        first, last = self.window
        current = self.day or first
        day = current + timedelta(days=(7 if self.mode == "week" else 1) * direction)
        name = self._template_name()
        if self.mode == "week":
            # a week partly inside the window is shown from (or up to) the window's edge
            monday = day - timedelta(days=day.weekday())
            if monday <= last and day > last:
                day = last
            elif monday + timedelta(days=6) >= first and day < first:
                day = first
        if day < first:
            self.date_note = f"{first:%a %d %b %Y} is the first bookable day of {name}."
            self._notify()
            return
        if day > last:
            self.date_note = (
                f"{last:%a %d %b %Y} is the last bookable day of {name} "
                f"(up to {self.booking_days} days ahead)."
            )
            self._notify()
            return
        self.browse(day)

    @_guarded
    def choose_day(self, day: date | None) -> None:
        """In week view, show the times of another day of the week (no request)."""
        if day is None or day == self.day:
            return
        if self.showing != "week" or day not in dict(self.days):
            raise ValueError(f"day: {day} is not a day of the week on show")
        self.day = day
        if self.slot is not None and self.slot.start.date() != day:
            self.slot_id = None
        if not dict(self.days)[day]:
            self._set_status(
                "info", f"No free times on {day:%a %d %b}: pick another day of the week.", log=False
            )
            return
        self._notify()

    def refresh(self) -> None:
        """Re-fetch what the slot list shows now (after a booking or a cancellation)."""
        if self.showing is None or self.template is None or self.day is None:
            return
        template = self.template
        slots = self._fetch(template, self.showing, self.day)
        self._apply(str(template.get("id")), self.showing, self.day, slots)
        self._notify()

    @_guarded
    def select_slot(self, slot_id: str | None) -> None:
        """Choose one of the slots on show (``None`` clears the choice).

        Choosing another slot drops the last booking's confirmation and Book's old message.
        """
        if slot_id is not None and not any(s.id == slot_id for s in self.slots):
            raise ValueError(f"slot_id: {slot_id!r} is not among the slots on show")
        changed = slot_id != self.slot_id
        self.slot_id = slot_id
        self.server_errors.pop("slot", None)
        slot = self.slot
        if changed and slot is not None:
            self.last_booking = None
            self.book_message = None
            self._set_status("info", f"Chosen: {slot.label}. Fill in the customer, then Book.")
            return
        self._notify()

    # -- the customer form ---------------------------------------------------------------------

    @property
    def required(self) -> tuple[str, ...]:
        """Names of the form fields the selected template requires."""
        return required_fields(self.template)

    @property
    def form_errors(self) -> dict[str, str]:
        """Every problem of the form now (client-side checks plus the server's last answer)."""
        problems = validate_customer(self.values, self.template)
        for name, text in self.server_errors.items():
            if name in _FIELDS_BY_NAME:
                problems.setdefault(name, text)
        return problems

    @property
    def visible_errors(self) -> dict[str, str]:
        """The problems to mark: of touched fields, or of all after a Book attempt."""
        problems = self.form_errors
        if self.show_all_errors:
            return problems
        return {k: v for k, v in problems.items() if k in self.touched or k in self.server_errors}

    @_guarded
    def set_field(self, name: str, value: str) -> None:
        """Set one customer field (``first_name``, ``email``, ``zip``…) and re-check the form."""
        if name not in _FIELDS_BY_NAME:
            raise ValueError(f"name: unknown form field {name!r}")
        self.values[name] = "" if value is None else str(value)
        self.touched.add(name)
        self.server_errors.pop(name, None)
        if self.book_message is not None and self.book_message.level in ("warning", "error"):
            self.book_message = None  # it spoke of the form as it was
        self._notify()

    @property
    def can_book(self) -> bool:
        """Whether Book can be clicked: a slot chosen, nothing in flight.

        The form is checked on the click, which names every field still to fix
        (:attr:`book_feedback`), rather than leaving a disabled button unexplained.
        """
        return self.template is not None and self.slot is not None and not self.busy

    @property
    def book_feedback(self) -> Status | None:
        """What to show beside Book: in flight, what to fix, its last outcome, or what is next.

        Example:
            >>> ctl = ExplorerController(None)
            >>> ctl.book_feedback
            Status(level='info', text='Pick a template first.')
        """
        if self._booking is not None:
            return Status("busy", f"Booking {self._booking.slot.label}…")
        if self.show_all_errors and self.form_errors:
            return Status("error", form_summary(self.form_errors))
        if self.book_message is not None:
            return self.book_message
        if self.template is None:
            return Status("info", "Pick a template first.")
        slot = self.slot
        if slot is None:
            if self.visible_slots:
                return Status("info", "Choose a free time above, then click Book.")
            return Status("info", "No time chosen: find a free slot above first.")
        return Status("info", f"Chosen: {slot.label}.")

    # -- booking ---------------------------------------------------------------------------------

    def request_booking(self) -> _BookingTicket | None:
        """Reserve the one booking allowed in flight; ``None`` (and a status) when refused.

        This is the double-click guard: it runs in the thread that handles the click, before
        any request, so a second click finds the first booking pending and is refused.
        """
        refusal: tuple[StatusLevel, str] | None = None
        ticket = None
        # Decide under the lock, report after it: listeners (the view) must never run while
        # the lock is held, or a rendering thread could deadlock against a clicking one.
        with self._lock:
            template, slot = self.template, self.slot
            problems = self.form_errors  # the rules' verdict and the server's last answer
            if self._booking is not None:
                refusal = ("warning", "A booking is already being sent: wait for its answer.")
            elif template is None:
                refusal = ("warning", "Pick a template first.")
            elif problems:
                # mark every problem, the untouched fields too; book_feedback lists them
                self.show_all_errors = True
                self.book_message = None
                summary = form_summary(problems)
                refusal = ("error", f"Please fix the form before booking. {summary}")
            elif slot is None:
                refusal = ("warning", "Choose a free slot first.")
                self.book_message = Status("warning", "Choose a free slot first.")
            else:
                org_address = self.organization.get("address")
                country = org_address.get("country") if isinstance(org_address, Mapping) else None
                customer = customer_payload(self.values, country=country or None)
                # The form has one address; a home visit (appointmentAddressRequired) uses it too.
                address = (
                    customer.get("address") if template.get("appointmentAddressRequired") else None
                )
                ticket = _BookingTicket(
                    slot=slot, template=dict(template), customer=customer, address=address
                )
                self._booking = ticket
        if refusal is not None:
            self._set_status(*refusal)
            return None
        self._notify()
        return ticket

    @_guarded
    def perform_booking(self, ticket: _BookingTicket) -> dict[str, Any] | None:
        """Send the reserved booking; on success add it to :attr:`bookings` and refresh slots."""
        try:
            return self._perform_booking(ticket)
        except Exception as exc:
            self.book_message = Status("error", describe_error(exc))  # beside Book, too
            raise
        finally:
            with self._lock:
                if self._booking is ticket:
                    self._booking = None
            self._notify()

    def _perform_booking(self, ticket: _BookingTicket) -> dict[str, Any] | None:
        slot = ticket.slot
        self._begin(f"Booking {slot.label}…")
        try:
            extra = {"address": ticket.address} if ticket.address is not None else {}
            appointment = self.client.book(
                slot.id, ticket.customer, template=ticket.template, **extra
            )
        except errors.SlotUnavailable as exc:  # before ValidationError: it is a subclass
            logger.warning("slot %s was taken meanwhile: %s", slot.id, exc)
            if self.slot_id == slot.id:
                self.slot_id = None
            self._refresh_after("That slot was just taken by someone else")
            self.book_message = Status("warning", self.status.text)
            return None
        except errors.ValidationError as exc:
            marked = self._mark_server_errors(exc)
            detail = describe_error(exc)
            if marked:
                labels = ", ".join(_FIELDS_BY_NAME[n].label for n in marked)
                detail += f" (marked: {labels})"
            logger.warning("booking rejected: %s", exc)
            self.book_message = Status("error", detail)
            self._set_status("error", detail)
            return None
        finally:
            self._end()
        appointment = dict(appointment or {})
        self.bookings.append(appointment)
        self.last_booking = appointment
        self.slot_id = None
        self.server_errors = {}
        self.show_all_errors = False
        self.cancel_message = None  # it spoke of the bookings list before this booking
        self.book_message = Status("success", f"Booked {appointment.get('id', '?')}.")
        confirmation = self.confirmation(appointment)
        try:
            self.refresh()
        except Exception as exc:  # noqa: BLE001 - the booking stands even if the refresh fails
            logger.warning("slot list refresh after booking failed: %s", exc)
            self._set_status(
                "warning", f"{confirmation} (The slot list could not be refreshed: {exc})"
            )
            return appointment
        self._set_status("success", confirmation)
        return appointment

    def _refresh_after(self, what: str) -> None:
        try:
            self.refresh()
        except Exception as exc:  # noqa: BLE001
            logger.warning("slot list refresh failed: %s", exc)
            self._set_status("error", f"{what}, and refreshing the list failed: {exc}")
            return
        self._set_status(
            "warning",
            f"{what}. The slot list was refreshed ({len(self.slots)} free): pick another slot.",
        )

    def _mark_server_errors(self, exc: BaseException) -> list[str]:
        marked: list[str] = []
        for message in _messages(exc):
            parameter = getattr(message, "parameter", None)
            text = getattr(message, "text", None) or "rejected by the server"
            for name in _fields_for_parameter(parameter):
                self.server_errors[name] = str(text)
                marked.append(name)
        fields = getattr(exc, "fields", None)
        if isinstance(fields, Mapping):
            items: Iterable[tuple[Any, Any]] = fields.items()
        elif isinstance(fields, Iterable) and not isinstance(fields, str):
            items = ((f, "rejected by the server") for f in fields)
        else:
            items = ()
        for parameter, text in items:
            for name in _fields_for_parameter(str(parameter)):
                if name not in self.server_errors:
                    self.server_errors[name] = str(text)
                    marked.append(name)
        return list(dict.fromkeys(marked))

    def book(self) -> dict[str, Any] | None:
        """Book the chosen slot for the customer in the form, synchronously.

        Returns the APPOINTMENT, or ``None`` when refused or failed (see :attr:`status`).
        """
        ticket = self.request_booking()
        return self.perform_booking(ticket) if ticket is not None else None

    def confirmation(self, appointment: Mapping[str, Any]) -> str:
        """``Booked ed…: Tue 01 Dec 2026 10:00–11:00 (Europe/Berlin) with Anna Schmidt.``"""
        start = _to_datetime(appointment.get("start"), self.tz)
        end = _to_datetime(appointment.get("end"), self.tz)
        when = start.strftime("%a %d %b %Y %H:%M") if start else "?"
        if end is not None:
            when += "–" + end.strftime("%H:%M")
        zone = getattr(self.tz, "key", None) or appointment.get("timeZone") or ""
        names = self.appointment_resources(appointment)
        text = f"Booked {appointment.get('id', '?')}: {when}"
        if zone:
            text += f" ({zone})"
        if names:
            text += " with " + ", ".join(names)
        return text + "."

    def appointment_resources(self, appointment: Mapping[str, Any]) -> list[str]:
        """Names of the resources an appointment binds."""
        names = []
        for resource in appointment.get("bookingResourceList") or []:
            if isinstance(resource, Mapping):
                names.append(_resource_name(resource))
            elif isinstance(resource, str):
                names.append(self.resources.get(resource, resource))
        return names

    # -- this session's bookings ---------------------------------------------------------------

    @property
    def active_bookings(self) -> list[dict[str, Any]]:
        """This session's bookings that are not canceled."""
        return [b for b in self.bookings if not b.get("canceled")]

    def bookings_frame(self) -> Any:
        """This session's bookings as a DataFrame (``frames.appointments_frame``)."""
        return frames.appointments_frame(self.bookings, tz=getattr(self.tz, "key", None))

    def _cancel_says(self, level: StatusLevel, text: str) -> None:
        """Say ``text`` beside Cancel and in the status line."""
        self.cancel_message = Status(level, text)
        self._set_status(level, text)

    @_guarded
    def cancel(self, appointment_id: str | None) -> dict[str, Any] | None:
        """Cancel one of this session's bookings; its slot becomes free again.

        The confirmation of that booking (:attr:`last_booking`) is dropped; the outcome is shown
        beside Cancel (:attr:`cancel_message`).
        """
        if not appointment_id:
            self._cancel_says("warning", "Choose a booking to cancel.")
            return None
        if not any(b.get("id") == appointment_id for b in self.active_bookings):
            self._cancel_says(
                "warning", f"{appointment_id} is not an active booking of this session."
            )
            return None
        self.cancel_message = Status("busy", f"Canceling {appointment_id}…")
        self._begin(f"Canceling {appointment_id}…")
        try:
            answer = dict(self.client.cancel(appointment_id) or {})
        except Exception as exc:
            self.cancel_message = Status("error", describe_error(exc))
            raise
        finally:
            self._end()
        if self.last_booking is not None and self.last_booking.get("id") == appointment_id:
            self.last_booking = None
            self.book_message = None
        answer.setdefault("id", appointment_id)
        answer.setdefault("canceled", True)
        self.bookings = [
            {**b, **answer} if b.get("id") == appointment_id else b for b in self.bookings
        ]
        try:
            self.refresh()
        except Exception as exc:  # noqa: BLE001
            logger.warning("slot list refresh after cancel failed: %s", exc)
            self._cancel_says(
                "warning", f"Canceled {appointment_id}; refreshing slots failed: {exc}"
            )
            return answer
        self._cancel_says("success", f"Canceled {appointment_id}: its slot is free again.")
        return answer


# --------------------------------------------------------------------------------------------
# View
# --------------------------------------------------------------------------------------------

_STATUS_STYLE = {
    "info": ("ℹ", "#1f4e79", "#eef4fb"),
    "busy": ("⟳", "#5b4a00", "#fff8e1"),
    "success": ("✔", "#1e5e2b", "#eaf7ec"),
    "warning": ("⚠", "#7a4b00", "#fff3e0"),
    "error": ("✖", "#8a1c1c", "#fdecea"),
}
_INVALID_BACKGROUND = "#fdecea"

#: The CSS classes the explorer puts on its widgets, for browser tests and page styles
#: (``bt-field-<name>`` and ``bt-field-error-<name>`` exist for every name in FORM_FIELDS).
#: Buttons carry the class on the ``<button>`` itself; a Text, Dropdown, DatePicker or
#: ToggleButtons on its wrapper, so its control is ``.bt-field-email input``,
#: ``.bt-template select``, ``.bt-date input`` or ``.bt-slots button``.
SELECTORS: dict[str, str] = {
    "bt-explorer": "the whole app (the root VBox)",
    "bt-status": "the status line: what the app is doing, how many free slots",
    "bt-template": "the template Dropdown (`select`)",
    "bt-reload": "the Reload button",
    "bt-earliest": "the 'Earliest slot' button",
    "bt-mode": "the Day/Week ToggleButtons (`button`s)",
    "bt-prev": "the ◀ button",
    "bt-date": "the DatePicker (`input[type=date]`)",
    "bt-next": "the ▶ button",
    "bt-date-note": "why a date was moved into the booking window (beside the date)",
    "bt-days": "week view: the day chooser ToggleButtons, 'Mon 07 Dec · 62' (`button`s)",
    "bt-slots": "the chosen day's free times as ToggleButtons, '09:00 · Anna' (`button`s)",
    "bt-field-<name>": "a customer Text (`input`); name: first_name, last_name, email, …",
    "bt-field-error-<name>": "what is wrong with that field, beside it (HTML)",
    "bt-book": "the Book button",
    "bt-book-feedback": "beside Book: what to fix, what is chosen, or what Book did",
    "bt-confirmation": "the last booking's confirmation (empty when it no longer applies)",
    "bt-bookings": "this session's bookings table (HTML)",
    "bt-booking-select": "the Dropdown of bookings to cancel (`select`)",
    "bt-cancel": "the 'Cancel booking' button",
    "bt-cancel-feedback": "beside Cancel: what it did",
}

# Placeholders in light italics, the times and days as a wrapping grid. (An HTML widget's
# <style> applies to the page; every rule is scoped to the explorer.)
_CSS = """<style>
.bt-explorer input::placeholder { color: #9e9e9e; font-style: italic; opacity: 1; }
.bt-explorer .bt-slots, .bt-explorer .bt-days { flex-wrap: wrap; height: auto; }
.bt-explorer .bt-slots > div, .bt-explorer .bt-days > div {
  display: flex; flex-wrap: wrap; gap: 4px; flex: 1 1 auto; min-width: 0;
}
.bt-explorer .bt-slots button, .bt-explorer .bt-days button { margin: 0; }
</style>"""


def _note(status: Status | None) -> str:
    """A small coloured message for beside a control (``""`` for none)."""
    if status is None or not status.text:
        return ""
    icon, color, _ = _STATUS_STYLE[status.level]
    return f"<span style='color:{color}'>{icon} {html.escape(status.text)}</span>"


class BookingExplorer(widgets.VBox):
    """Pick a template, find a free slot, fill in the customer and book — without code.

    Display it as the last expression of a notebook cell. Network calls run in a worker
    thread (``background=True``) so the kernel stays free; ``background=False`` runs them in the
    calling thread (tests). ``clock`` tells the app what "today" is (default: the client's
    :attr:`~bt_explore.Client.clock`). The logic lives in
    :attr:`controller` (an :class:`ExplorerController`); the widgets carry the CSS classes
    listed in :data:`SELECTORS`.

    Example:
        >>> import bt_explore
        >>> client = bt_explore.connect()                        # doctest: +SKIP
        >>> explorer = bt_explore.BookingExplorer(client)        # doctest: +SKIP
        >>> explorer                                             # doctest: +SKIP
    """

    def __init__(
        self,
        client: Any,
        *,
        background: bool = True,
        clock: Callable[[], datetime] | None = None,
        load: bool = True,
    ) -> None:
        super().__init__(layout=widgets.Layout(width="100%", max_width="1100px"))
        self.controller = ExplorerController(client, clock=clock)
        self.background = background
        self._executor: concurrent.futures.ThreadPoolExecutor | None = None
        self._futures: list[concurrent.futures.Future[Any]] = []
        self._pending = 0
        self._render_lock = threading.RLock()
        self._local = threading.local()
        self._bookings_key: tuple[tuple[Any, bool], ...] = ()
        self._build()
        self.controller.add_listener(lambda _ctl: self._render())
        self._render()
        if load:
            self.reload()

    def __repr__(self) -> str:
        # Short and stable: notebooks store it as the cell's text/plain output.
        org = getattr(self.controller.client, "organization_id", None)
        return f"BookingExplorer(organization_id={org!r})"

    # -- widgets -------------------------------------------------------------------------------

    def _build(self) -> None:
        wide = {"description_width": "110px"}
        self.title = widgets.HTML(_CSS + "<h3 style='margin:4px 0'>Booking explorer</h3>")
        self.template_dropdown = widgets.Dropdown(
            description="Template", options=[], style=wide, layout=widgets.Layout(width="560px")
        )
        self.reload_button = widgets.Button(
            description="Reload", icon="refresh", tooltip="Fetch templates and resources again"
        )
        self.description = widgets.HTML()
        self.earliest_button = widgets.Button(
            description="Earliest slot",
            icon="bolt",
            button_style="primary",
            tooltip="Choose the earliest free slot of this template",
        )
        self.mode_toggle = widgets.ToggleButtons(
            options=[("Day", "day"), ("Week", "week")],
            value="day",
            tooltip="Browse one day or one ISO week",
            style={"button_width": "64px"},
        )
        self.prev_button = widgets.Button(
            description="◀", tooltip="Previous day/week", layout=widgets.Layout(width="44px")
        )
        # No min/max: the picker would silently snap a typed past date; the controller moves
        # it into the booking window and says so in date_note.
        self.date_picker = widgets.DatePicker(
            description="Date",
            style={"description_width": "40px"},
            layout=widgets.Layout(width="220px"),
        )
        self.next_button = widgets.Button(
            description="▶", tooltip="Next day/week", layout=widgets.Layout(width="44px")
        )
        self.date_note = widgets.HTML(layout=widgets.Layout(margin="0 0 0 8px"))
        self.day_buttons = widgets.ToggleButtons(
            options=[],
            value=None,
            description="Day",
            style={"description_width": "110px", "button_width": "118px"},
            layout=widgets.Layout(width="100%", display="none"),
        )
        self.slot_buttons = widgets.ToggleButtons(
            options=[],
            value=None,
            description="Free times",
            style={"description_width": "110px", "button_width": "180px"},
            layout=widgets.Layout(width="100%"),
        )
        self.fields: dict[str, widgets.Text] = {}
        self.field_errors: dict[str, widgets.HTML] = {}
        rows = []
        for f in FORM_FIELDS:
            text = widgets.Text(
                description=f.label,
                placeholder=f.placeholder,
                continuous_update=True,
                style=wide,
                layout=widgets.Layout(width="380px"),
            )
            error = widgets.HTML(layout=widgets.Layout(margin="0 0 0 8px"))
            text.observe(self._handler(self._on_field, f.name), names="value")
            text.add_class(f"bt-field-{f.name}")
            error.add_class(f"bt-field-error-{f.name}")
            self.fields[f.name] = text
            self.field_errors[f.name] = error
            rows.append(widgets.HBox([text, error]))
        self.book_button = widgets.Button(
            description="Book",
            icon="check",
            button_style="success",
            disabled=True,
            tooltip="Book the chosen slot for this customer",
        )
        self.book_feedback = widgets.HTML(layout=widgets.Layout(margin="0 0 0 8px"))
        self.status = widgets.HTML(layout=widgets.Layout(margin="6px 0"))
        self.confirmation = widgets.HTML()
        self.bookings_html = widgets.HTML(layout=widgets.Layout(overflow="auto"))
        self.booking_dropdown = widgets.Dropdown(
            description="Booking",
            options=[],
            style={"description_width": "60px"},
            layout=widgets.Layout(width="460px"),
        )
        self.cancel_button = widgets.Button(
            description="Cancel booking",
            icon="times",
            button_style="danger",
            disabled=True,
            tooltip="Cancel the booking chosen on the left",
        )
        self.cancel_feedback = widgets.HTML(layout=widgets.Layout(margin="0 0 0 8px"))

        for widget, name in (
            (self, "bt-explorer"),
            (self.status, "bt-status"),
            (self.template_dropdown, "bt-template"),
            (self.reload_button, "bt-reload"),
            (self.earliest_button, "bt-earliest"),
            (self.mode_toggle, "bt-mode"),
            (self.prev_button, "bt-prev"),
            (self.date_picker, "bt-date"),
            (self.next_button, "bt-next"),
            (self.date_note, "bt-date-note"),
            (self.day_buttons, "bt-days"),
            (self.slot_buttons, "bt-slots"),
            (self.book_button, "bt-book"),
            (self.book_feedback, "bt-book-feedback"),
            (self.confirmation, "bt-confirmation"),
            (self.bookings_html, "bt-bookings"),
            (self.booking_dropdown, "bt-booking-select"),
            (self.cancel_button, "bt-cancel"),
            (self.cancel_feedback, "bt-cancel-feedback"),
        ):
            widget.add_class(name)

        self.template_dropdown.observe(self._handler(self._on_template), names="value")
        self.reload_button.on_click(self._handler(self._on_reload))
        self.earliest_button.on_click(self._handler(self._on_earliest))
        self.mode_toggle.observe(self._handler(self._on_mode), names="value")
        self.prev_button.on_click(self._handler(self._on_step, -1))
        self.next_button.on_click(self._handler(self._on_step, +1))
        self.date_picker.observe(self._handler(self._on_date), names="value")
        self.day_buttons.observe(self._handler(self._on_day), names="value")
        self.slot_buttons.observe(self._handler(self._on_slot), names="value")
        self.book_button.on_click(self._handler(self._on_book))
        self.cancel_button.on_click(self._handler(self._on_cancel))

        section = "<b style='display:block;margin:10px 0 2px'>{}</b>".format
        row = widgets.Layout(align_items="center", flex_flow="row wrap")
        self.children = [
            self.title,
            widgets.HBox([self.template_dropdown, self.reload_button]),
            self.description,
            widgets.HTML(section("1 · Find a free slot")),
            widgets.HBox(
                [
                    self.earliest_button,
                    self.mode_toggle,
                    self.prev_button,
                    self.date_picker,
                    self.next_button,
                    self.date_note,
                ],
                layout=row,
            ),
            self.status,
            self.day_buttons,
            self.slot_buttons,
            widgets.HTML(section("2 · Customer (* required)")),
            *rows,
            widgets.HBox([self.book_button, self.book_feedback], layout=row),
            self.confirmation,
            widgets.HTML(section("3 · Bookings of this session")),
            self.bookings_html,
            widgets.HBox(
                [self.booking_dropdown, self.cancel_button, self.cancel_feedback], layout=row
            ),
        ]

    # -- running actions -----------------------------------------------------------------------

    def _handler(self, method: Callable[..., None], *bound: Any) -> Callable[..., None]:
        """Wrap a widget callback: ignore echoes of our own rendering, never fail silently."""

        def handle(*event: Any) -> None:
            if getattr(self._local, "rendering", False):
                return
            try:
                method(*bound, *event)
            except Exception as exc:  # noqa: BLE001 - ipywidgets would swallow it
                self.controller.report_exception(exc, getattr(method, "__name__", "callback"))

        return handle

    def _run(self, action: Callable[..., Any], *args: Any) -> None:
        """Run a controller action that makes requests: in the worker thread or right here."""
        if not self.background:
            action(*args)
            self._render()
            return
        if self._executor is None:
            self._executor = concurrent.futures.ThreadPoolExecutor(
                max_workers=1, thread_name_prefix="bt_explore.widgets"
            )
        with self._render_lock:
            self._pending += 1
        self._render()

        def job() -> None:
            try:
                action(*args)
            except Exception as exc:  # noqa: BLE001 - actions are guarded; a last line of defence
                self.controller.report_exception(exc, "background job")
            finally:
                # Inside the job, so a finished future means the widgets are up to date.
                with self._render_lock:
                    self._pending -= 1
                self._render()

        future = self._executor.submit(job)
        self._futures = [f for f in self._futures if not f.done()] + [future]

    def wait(self, timeout: float | None = None) -> bool:
        """Wait until the requests started so far have finished; ``False`` on timeout.

        Example:
            >>> explorer.earliest_button.click(); explorer.wait()   # doctest: +SKIP
            True
        """
        done, not_done = concurrent.futures.wait(list(self._futures), timeout=timeout)
        return not not_done

    def reload(self) -> None:
        """Fetch the organization, templates and resources (again); show the first free day."""
        self._run(self.controller.start)

    def close(self) -> None:
        """Close the widgets and stop the worker thread."""
        if self._executor is not None:
            self._executor.shutdown(wait=False, cancel_futures=True)
        for child in self._walk(self):
            if child is not self:
                child.close()
        super().close()

    def _walk(self, widget: widgets.Widget) -> Iterable[widgets.Widget]:
        yield widget
        for child in getattr(widget, "children", ()) or ():
            yield from self._walk(child)

    # -- callbacks -----------------------------------------------------------------------------

    def _on_reload(self, _button: widgets.Button) -> None:
        self.reload()

    def _on_template(self, change: dict[str, Any]) -> None:
        self.controller.select_template(change["new"])
        self._render()
        if self.controller.template is not None:
            self._run(self.controller.show_first_day)

    def _on_earliest(self, _button: widgets.Button) -> None:
        self._run(self.controller.find_earliest)

    def _on_mode(self, change: dict[str, Any]) -> None:
        self._run(self.controller.browse, self.date_picker.value, change["new"])

    def _on_step(self, direction: int, _button: widgets.Button) -> None:
        self._run(self.controller.step, direction)

    def _on_date(self, change: dict[str, Any]) -> None:
        if change["new"] is None:
            return
        self._run(self.controller.browse, change["new"], self.mode_toggle.value)

    def _on_day(self, change: dict[str, Any]) -> None:
        self.controller.choose_day(change["new"])

    def _on_slot(self, change: dict[str, Any]) -> None:
        self.controller.select_slot(change["new"])

    def _on_field(self, name: str, change: dict[str, Any]) -> None:
        self.controller.set_field(name, change["new"])

    def _on_book(self, _button: widgets.Button) -> None:
        # Disable first, reserve second: the reservation is what really stops a double booking.
        self.book_button.disabled = True
        ticket = self.controller.request_booking()
        if ticket is None:
            self._render()
            return
        self._run(self.controller.perform_booking, ticket)

    def _on_cancel(self, _button: widgets.Button) -> None:
        appointment_id = self.booking_dropdown.value
        self.cancel_button.disabled = True
        self._run(self.controller.cancel, appointment_id)

    # -- rendering -----------------------------------------------------------------------------

    def _render(self) -> None:
        """Bring every widget in line with the controller's state."""
        with self._render_lock:
            self._local.rendering = True
            try:
                self._render_state()
            except Exception:  # noqa: BLE001 - rendering must never take the app down
                logger.exception("rendering the booking explorer failed")
            finally:
                self._local.rendering = False

    def _set(self, widget: Any, **values: Any) -> None:
        for name, value in values.items():
            if getattr(widget, name) != value:
                setattr(widget, name, value)

    def _render_state(self) -> None:
        ctl = self.controller
        busy = ctl.busy or self._pending > 0
        level = ctl.status.level
        if self._pending > 0 and level not in ("busy", "error", "warning"):
            level = "busy"
        icon, color, background = _STATUS_STYLE[level]
        self._set(
            self.status,
            value=(
                f"<div style='padding:6px 10px;border-radius:4px;color:{color};"
                f"background:{background}'>{icon} {html.escape(ctl.status.text)}</div>"
            ),
        )

        options = tuple(ctl.template_options)
        if tuple(self.template_dropdown.options) != options:
            self.template_dropdown.options = options
        if ctl.template_id is not None and self.template_dropdown.value != ctl.template_id:
            self.template_dropdown.value = ctl.template_id
        template = ctl.template
        if template is None:
            description = "<i>No template selected.</i>"
        else:
            items = "".join(
                f"<li><b>{html.escape(k)}:</b> {html.escape(v)}</li>"
                for k, v in template_summary(template).items()
            )
            description = f"<ul style='margin:2px 0 2px 110px;padding-left:16px'>{items}</ul>"
        self._set(self.description, value=description)

        if ctl.day is not None and self.date_picker.value != ctl.day:
            self.date_picker.value = ctl.day
        self._set(self.mode_toggle, value=ctl.mode)
        self._set(self.date_note, value=_note(Status("warning", ctl.date_note)))
        no_template = template is None
        for button in (self.earliest_button, self.prev_button, self.next_button):
            self._set(button, disabled=busy or no_template)
        self._set(self.date_picker, disabled=no_template)
        self._set(self.mode_toggle, disabled=no_template)

        day_options = tuple(ctl.day_options)
        if tuple(self.day_buttons.options) != day_options:
            self.day_buttons.options = day_options
        shown_day = ctl.day if day_options else None
        if self.day_buttons.value != shown_day:
            self.day_buttons.value = shown_day
        self._set(self.day_buttons.layout, display=None if day_options else "none")

        slot_options = tuple(ctl.slot_options)
        if tuple(self.slot_buttons.options) != slot_options:
            longest = max((len(label) for label, _ in slot_options), default=0)
            self._set(self.slot_buttons.style, button_width=f"{min(40 + 7 * longest, 320)}px")
            self.slot_buttons.tooltips = [s.label for s in ctl.visible_slots]
            self.slot_buttons.options = slot_options
        wanted = ctl.slot_id if any(v == ctl.slot_id for _, v in slot_options) else None
        if self.slot_buttons.value != wanted:
            self.slot_buttons.value = wanted
        self._set(self.slot_buttons, disabled=busy)

        required, problems = set(ctl.required), ctl.visible_errors
        for f in FORM_FIELDS:
            text, error = self.fields[f.name], self.field_errors[f.name]
            self._set(text, description=f.label + (" *" if f.name in required else ""))
            problem = problems.get(f.name)
            self._set(text.style, background=_INVALID_BACKGROUND if problem else None)
            self._set(
                error,
                value=(
                    f"<span style='color:#b00020'>⚠ {html.escape(f.label)}: "
                    f"{html.escape(problem)}</span>"
                    if problem
                    else ""
                ),
            )

        self._set(self.book_button, disabled=not ctl.can_book or self._pending > 0)
        self._set(self.book_feedback, value=_note(ctl.book_feedback))
        confirmation = ""
        if ctl.last_booking is not None:
            confirmation = (
                "<div style='margin:4px 0;padding:4px 8px;border-left:3px solid #2e7d32'>"
                f"{html.escape(ctl.confirmation(ctl.last_booking))}</div>"
            )
        self._set(self.confirmation, value=confirmation)
        self._set(self.bookings_html, value=self._bookings_table())
        active = tuple(
            (f"{b.get('id')} · {self._booking_when(b)}", str(b.get("id")))
            for b in ctl.active_bookings
        )
        if tuple(self.booking_dropdown.options) != active:
            self.booking_dropdown.options = active
        if active and self.booking_dropdown.value is None:
            self.booking_dropdown.value = active[-1][1]  # the latest booking
        self._set(self.cancel_button, disabled=busy or not active)
        self._set(self.cancel_feedback, value=_note(ctl.cancel_message))

    def _booking_when(self, booking: Mapping[str, Any]) -> str:
        start = _to_datetime(booking.get("start"), self.controller.tz)
        return start.strftime("%a %d %b %H:%M") if start else "?"

    def _bookings_table(self) -> str:
        ctl = self.controller
        if not ctl.bookings:
            return "<i>No bookings in this session yet.</i>"
        # Rendering runs on every keystroke in the form: rebuild the table only when it changed.
        key = tuple((b.get("id"), bool(b.get("canceled"))) for b in ctl.bookings)
        if key == self._bookings_key:
            return self.bookings_html.value
        self._bookings_key = key
        frame = ctl.bookings_frame()
        cell = "padding:3px 12px 3px 0;text-align:left;white-space:nowrap;vertical-align:top"
        head = "".join(
            f"<th style='{cell};border-bottom:1px solid #999'>{h}</th>"
            for h in ("appointment", "when", "template", "customer", "with", "state")
        )
        rows = []
        for booking, row in zip(ctl.bookings, frame.itertuples(index=False), strict=True):
            start, end = _to_datetime(row.start, ctl.tz), _to_datetime(row.end, ctl.tz)
            when = start.strftime("%a %d %b %H:%M") if start else ""
            if end is not None:
                when += "–" + end.strftime("%H:%M")
            customer = " ".join(
                str(v) for v in (row.customer_first_name, row.customer_last_name) if _present(v)
            )
            canceled = bool(row.canceled) if _present(row.canceled) else False
            values = (
                row.appointment_id,
                when,
                row.name,
                customer,
                ", ".join(ctl.appointment_resources(booking)),
                "canceled" if canceled else "booked",
            )
            style = cell + (";color:#888;text-decoration:line-through" if canceled else "")
            tds = "".join(
                f"<td style='{style}'>{html.escape(str(v)) if _present(v) else ''}</td>"
                for v in values
            )
            rows.append(f"<tr>{tds}</tr>")
        return (
            "<table class='bt-bookings-table' style='border-collapse:collapse;font-size:13px'>"
            f"<thead><tr>{head}</tr></thead><tbody>{''.join(rows)}</tbody></table>"
        )
