"""The booking explorer's logic and state as plain Python: no widgets.

:class:`ExplorerController` holds templates, the slots on show, the customer form, this
session's bookings and the messages; every action catches what goes wrong and turns it into a
status message plus a log record (logger ``bt_explore.widgets``), so nothing fails silently.
The pure steps it takes (reading a slot list, naming a period, moving a day into the booking
window, the confirmation's words) are the small functions below it.
:class:`bt_explore.widgets_view.BookingExplorer` is the view bound to it.

Example:
    >>> ctl = ExplorerController(None)
    >>> ctl.status
    Status(level='info', text='Not loaded yet.')
"""

from __future__ import annotations

import functools
import logging
import threading
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone, tzinfo
from typing import Any, Literal

import bt_explore.errors as errors
import bt_explore.frames as frames
import bt_explore.times as times
from bt_explore.widgets_form import (
    APPOINTMENT,
    FIELDS_BY_NAME,
    FORM_FIELDS,
    ORGANIZATION,
    RANGE,
    api_messages,
    booking_days,
    customer_payload,
    describe_error,
    fields_for_parameter,
    form_summary,
    is_home_visit,
    required_fields,
    resource_ids,
    resource_name,
    template_label,
    to_datetime,
    validate_customer,
    zone,
)

__all__ = [
    "DEFAULT_BOOKING_DAYS",
    "ExplorerController",
    "Mode",
    "Slot",
    "Status",
    "StatusLevel",
    "appointment_resources",
    "confirmation_text",
    "into_window",
    "parse_slots",
    "period_text",
    "server_field_errors",
    "shown_day",
]

logger = logging.getLogger("bt_explore.widgets")

StatusLevel = Literal["info", "busy", "success", "warning", "error"]
Mode = Literal["day", "week"]

#: How many days ahead a template without ``bookingDayLatest`` can be booked.
DEFAULT_BOOKING_DAYS = 14
_STATUS_HISTORY = 50


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


# --- the pure steps ------------------------------------------------------------------------------


def parse_slots(
    content: Any, template: Mapping[str, Any], tz: tzinfo | None, resources: Mapping[str, str]
) -> list[Slot]:
    """A slot list answer as :class:`Slot` s in time order, named by ``resources`` (id → name).

    The answer's own ``timeZone`` wins over ``tz``.

    Example:
        >>> parse_slots([], {"id": "fc1", "duration": 30}, None, {})
        []
    """
    if isinstance(content, Mapping) and content.get(RANGE.time_zone):
        tz = zone(content.get(RANGE.time_zone)) or tz
    frame = frames.slots_frame(content, template=dict(template), tz=getattr(tz, "key", None))
    slots = []
    for row in frame.itertuples(index=False):
        start = to_datetime(row.start, tz)
        if start is None:
            continue
        ids = resource_ids(row.resource_ids)
        slots.append(
            Slot(
                id=str(row.slot_id),
                start=start,
                end=to_datetime(row.end, tz),
                resource_ids=ids,
                resource_names=tuple(resources.get(i, i) for i in ids),
            )
        )
    slots.sort(key=lambda s: (s.start, s.resource_names))
    return slots


def period_text(showing: Mode | None, day: date | None, days_ahead: int) -> str:
    """How the status line names the period on show.

    Example:
        >>> period_text("week", date(2026, 12, 2), 14)
        'in week 49/2026 (30 Nov–06 Dec)'
    """
    if showing is None or day is None:
        return f"in the next {days_ahead} days"
    if showing == "week":
        year, week, _ = day.isocalendar()
        monday = day - timedelta(days=day.weekday())
        return f"in week {week}/{year} ({monday:%d %b}–{monday + timedelta(days=6):%d %b})"
    return f"on {day:%a %d %b %Y}"


def into_window(
    day: date, today: date, window: tuple[date, date], name: str, days_ahead: int
) -> tuple[date, str]:
    """``day`` moved into the booking ``window`` of template ``name``, and why (``""``: kept).

    Example:
        >>> into_window(date(2026, 11, 20), date(2026, 12, 1),
        ...             (date(2026, 12, 1), date(2026, 12, 15)), "Check-up", 14)[1]
        'Dates before today (Tue 01 Dec 2026) cannot be booked; showing today.'
    """
    first, last = window
    if day < today:
        shown = "today" if first == today else f"{first:%a %d %b}, its first bookable day"
        return first, f"Dates before today ({today:%a %d %b %Y}) cannot be booked; showing {shown}."
    if day < first:
        return first, (
            f"{name} can be booked from {(first - today).days} days ahead; showing "
            f"{first:%a %d %b}, its first bookable day."
        )
    if day > last:
        return last, (
            f"{day:%a %d %b %Y} is beyond the booking window of {name} (up to "
            f"{days_ahead} days ahead); showing {last:%a %d %b}, its last bookable day."
        )
    return day, ""


def shown_day(slots: Sequence[Slot], showing: Mode, day: date, select: str | None) -> date:
    """The day whose times show: ``select``'s day, else in week view ``day`` or, if it has no
    free slot, the next that has.

    Example:
        >>> shown_day([], "week", date(2026, 12, 2), None)
        datetime.date(2026, 12, 2)
    """
    chosen = next((s for s in slots if s.id == select), None) if select is not None else None
    if chosen is not None:
        return chosen.start.date()
    if showing == "week" and not any(s.start.date() == day for s in slots):
        later = sorted({s.start.date() for s in slots if s.start.date() >= day})
        if later:
            return later[0]
    return day


def server_field_errors(exc: BaseException) -> dict[str, str]:
    """Form field → the server's complaint, from an error's messages and ``fields``.

    Example:
        >>> server_field_errors(ValueError("no messages"))
        {}
    """
    found: dict[str, str] = {}
    for message in api_messages(exc):
        text = getattr(message, "text", None) or "rejected by the server"
        for name in fields_for_parameter(getattr(message, "parameter", None)):
            found[name] = str(text)
    fields = getattr(exc, "fields", None)
    if isinstance(fields, Mapping):
        items: Iterable[tuple[Any, Any]] = fields.items()
    elif isinstance(fields, Iterable) and not isinstance(fields, str):
        items = ((f, "rejected by the server") for f in fields)
    else:
        items = ()
    for parameter, text in items:
        for name in fields_for_parameter(str(parameter)):
            found.setdefault(name, str(text))
    return found


def appointment_resources(
    appointment: Mapping[str, Any], resources: Mapping[str, str]
) -> list[str]:
    """Names of the resources an appointment binds (ids named by ``resources``).

    Example:
        >>> appointment_resources({"bookingResourceList": ["br1"]}, {"br1": "Anna"})
        ['Anna']
    """
    names = []
    for resource in appointment.get(APPOINTMENT.booking_resource_list) or []:
        if isinstance(resource, Mapping):
            names.append(resource_name(resource))
        elif isinstance(resource, str):
            names.append(resources.get(resource, resource))
    return names


def confirmation_text(
    appointment: Mapping[str, Any], tz: tzinfo | None, resources: Mapping[str, str]
) -> str:
    """``Booked ed…: Tue 01 Dec 2026 10:00–11:00 (Europe/Berlin) with Anna Schmidt.``

    Example:
        >>> confirmation_text({"id": "ed1", "start": "2026-12-01T10:00:00+01:00"}, None, {})
        'Booked ed1: Tue 01 Dec 2026 10:00.'
    """
    start = to_datetime(appointment.get("start"), tz)
    end = to_datetime(appointment.get("end"), tz)
    when = start.strftime("%a %d %b %Y %H:%M") if start else "?"
    if end is not None:
        when += "–" + end.strftime("%H:%M")
    zone_name = getattr(tz, "key", None) or appointment.get(APPOINTMENT.time_zone) or ""
    names = appointment_resources(appointment, resources)
    text = f"Booked {appointment.get('id', '?')}: {when}"
    if zone_name:
        text += f" ({zone_name})"
    if names:
        text += " with " + ", ".join(names)
    return text + "."


def _guarded(action: Callable[..., Any]) -> Callable[..., Any]:
    """Turn any exception of a controller action into a status message and a log record."""

    @functools.wraps(action)
    def wrapper(self: _SlotChooser, *args: Any, **kwargs: Any) -> Any:
        try:
            return action(self, *args, **kwargs)
        except Exception as exc:  # noqa: BLE001 - the point is to never fail silently
            self.report_exception(exc, action.__name__)
            return None

    return wrapper


class _SlotChooser:
    """The first half of :class:`ExplorerController`: the state, the status line, the clock,
    the templates and the free slots on show (browsing, choosing a day and a time)."""

    def __init__(self, client: Any, *, clock: Callable[[], datetime] | None = None) -> None:
        self.client = client
        self._clock = clock
        self._listeners: list[Callable[[Any], None]] = []
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
        # The status line speaks of the form (a refused or rejected Book): it follows the form.
        self._form_status = False
        self.loaded = False
        self._lock = threading.RLock()
        self._booking: _BookingTicket | None = None
        self._busy = 0

    # -- listeners and status ------------------------------------------------------------------

    def add_listener(self, listener: Callable[[Any], None]) -> None:
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
        self._form_status = False
        self.history = [*self.history[-(_STATUS_HISTORY - 1) :], self.status]
        if log:
            # What a person is told is a record of the session, not a fault: INFO. Failures are
            # logged where they are caught, at WARNING or ERROR; a refused form or "no free
            # slots" must not print on a notebook's stderr.
            logger.info("explorer: %s", text)
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
        _, latest = booking_days(self.template)
        return int(latest) if latest is not None else DEFAULT_BOOKING_DAYS

    @property
    def window(self) -> tuple[date, date]:
        """The first and the last day the selected template can be booked on (inclusive)."""
        earliest, _ = booking_days(self.template)
        today = self.today()
        return today + timedelta(days=max(earliest, 0)), today + timedelta(days=self.booking_days)

    @_guarded
    def load(self) -> None:
        """Fetch the organization, its templates and resources; select the first template."""
        self._begin("Loading templates and resources…")
        try:
            self.organization = dict(self.client.organization() or {})
            self.tz = zone(self.organization.get(ORGANIZATION.time_zone))
            templates = [dict(t) for t in (self.client.templates() or [])]
            resources = self.client.resources() or []
        finally:
            self._end()
        self.templates = templates
        self.resources = {str(r.get("id")): resource_name(r) for r in resources}
        self.loaded = True
        self.cancel_message = None  # it spoke of a moment before this reload
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

    def _template_name(self) -> str:
        template = self.template or {}
        return str(template.get("name") or template.get("id") or "this template")

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
        return parse_slots(content, template, self.tz, self.resources)

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

        The day whose times show is :func:`shown_day`'s. ``select`` is a slot id to select;
        otherwise a chosen slot stays chosen if still free.
        """
        if template_id != self.template_id:
            logger.info("dropping slots of %s: template changed meanwhile", template_id)
            return False
        previous = self.slot_id
        self.slots, self.showing = slots, showing
        self.day = shown_day(slots, showing, day, select)
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
        return period_text(showing, day, self.booking_days)

    def _fetch_for_status(self, template: Mapping[str, Any], showing: Mode, day: date) -> Any:
        """Fetch slots; a refusal of the range becomes a friendly warning (``None``)."""
        try:
            return self._fetch(template, showing, day)
        except errors.ValidationError as exc:
            # e.g. a range the server finds outside the bookable days: say so in plain words
            texts = "; ".join(str(getattr(m, "text", m)) for m in api_messages(exc)) or str(exc)
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

    def _fetch_earliest(self, template: Mapping[str, Any]) -> tuple[list[Slot], date, list[Slot]]:
        """(the earliest slot, its day or the window's first, that day's or week's slots)."""
        self._begin(f"Looking for the earliest free slot of {self._template_name()}…")
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
        return earliest, day, slots

    def _open_earliest(self, select: bool) -> None:
        """Show the day (or week) of the earliest free slot; ``select`` it too if asked."""
        template = self.template
        if template is None:
            self._set_status("warning", "Pick a template first.")
            return
        name = self._template_name()
        earliest, day, slots = self._fetch_earliest(template)
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
        chosen = self.slot
        if select:
            text = f"Earliest free slot of {name}: {earliest[0].label} (chosen)."
        elif chosen is not None:  # still free: a reload keeps it chosen
            text = (
                f"{name}: the earliest bookable day is {day:%a %d %b %Y}; chosen: {chosen.label}."
            )
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
        window = self.window
        day, self.date_note = into_window(
            day, self.today(), window, self._template_name(), self.booking_days
        )
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


class ExplorerController(_SlotChooser):
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
            if name in FIELDS_BY_NAME:
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
        if name not in FIELDS_BY_NAME:
            raise ValueError(f"name: unknown form field {name!r}")
        self.values[name] = "" if value is None else str(value)
        self.touched.add(name)
        self.server_errors.pop(name, None)
        if self.book_message is not None and self.book_message.level in ("warning", "error"):
            self.book_message = None  # it spoke of the form as it was
        if self._form_status:
            self._say_form()  # the status line spoke of the form: say what it is now
            return
        self._notify()

    def _say_form(self) -> None:
        """The status line about the form after a refused Book: what is still to fix (the same
        fields as beside Book), or that it is complete."""
        problems = self.form_errors
        slot = self.slot
        if problems:
            labels = ", ".join(FIELDS_BY_NAME[name].label for name in problems)
            self._set_status("error", f"Please fix the form before booking: {labels}.", log=False)
        elif slot is not None:
            self._set_status("info", f"The form is complete: click Book for {slot.label}.")
        else:
            self._set_status("info", "The form is complete: choose a free time above, then Book.")
        self._form_status = True

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
        if (self.show_all_errors or self.server_errors) and self.form_errors:
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

    def _ticket(self, template: dict[str, Any], slot: Slot) -> _BookingTicket:
        """The booking the form would send now, for ``slot`` of ``template``."""
        org_address = self.organization.get("address")
        country = org_address.get("country") if isinstance(org_address, Mapping) else None
        customer = customer_payload(self.values, country=country or None)
        # The form has one address; a home visit (appointmentAddressRequired) uses it too.
        address = customer.get("address") if is_home_visit(template) else None
        return _BookingTicket(
            slot=slot, template=dict(template), customer=customer, address=address
        )

    def _refusal(self) -> tuple[StatusLevel, str] | None:
        """Why Book cannot send now (and the marks that say so), or ``None``. Under the lock.

        For the form's problems the text is empty: :meth:`_say_form` words it.
        """
        problems = self.form_errors  # the rules' verdict and the server's last answer
        if self._booking is not None:
            return "warning", "A booking is already being sent: wait for its answer."
        if self.template is None:
            return "warning", "Pick a template first."
        if problems:
            # mark every problem, the untouched fields too; book_feedback lists them
            self.show_all_errors = True
            self.book_message = None
            return "error", ""
        if self.slot is None:
            self.book_message = Status("warning", "Choose a free slot first.")
            return "warning", "Choose a free slot first."
        return None

    def request_booking(self) -> _BookingTicket | None:
        """Reserve the one booking allowed in flight; ``None`` (and a status) when refused.

        This is the double-click guard: it runs in the thread that handles the click, before
        any request, so a second click finds the first booking pending and is refused.
        """
        ticket = None
        # Decide under the lock, report after it: listeners (the view) must never run while
        # the lock is held, or a rendering thread could deadlock against a clicking one.
        with self._lock:
            refusal = self._refusal()
            template, slot = self.template, self.slot
            if refusal is None and template is not None and slot is not None:
                ticket = self._booking = self._ticket(template, slot)
        if refusal == ("error", ""):
            self._say_form()
            return None
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

    def _send(self, ticket: _BookingTicket) -> dict[str, Any] | None:
        """Send ``ticket``: the APPOINTMENT, or ``None`` when the server refused (said so)."""
        slot = ticket.slot
        self._begin(f"Booking {slot.label}…")
        try:
            extra = {"address": ticket.address} if ticket.address is not None else {}
            return dict(
                self.client.book(slot.id, ticket.customer, template=ticket.template, **extra) or {}
            )
        except errors.SlotUnavailable as exc:  # before ValidationError: it is a subclass
            logger.warning("slot %s was taken meanwhile: %s", slot.id, exc)
            if self.slot_id == slot.id:
                self.slot_id = None
            self._refresh_after("That slot was just taken by someone else")
            self.book_message = Status("warning", self.status.text)
            return None
        except errors.ValidationError as exc:
            self._rejected(exc)
            return None
        finally:
            self._end()

    def _rejected(self, exc: errors.ValidationError) -> None:
        """Mark the fields the server named and say what it refused."""
        marked = self._mark_server_errors(exc)
        detail = describe_error(exc)
        if marked:
            labels = ", ".join(FIELDS_BY_NAME[n].label for n in marked)
            detail += f" (marked: {labels})"
        logger.warning("booking rejected: %s", exc)
        self.book_message = Status("error", detail)
        self._set_status("error", detail)
        self._form_status = bool(marked)  # fixing the marked fields updates the status line

    def _perform_booking(self, ticket: _BookingTicket) -> dict[str, Any] | None:
        appointment = self._send(ticket)
        if appointment is None:
            return None
        self.bookings.append(appointment)
        self.last_booking = appointment
        self.slot_id = None
        self.server_errors = {}
        self.show_all_errors = False
        self.cancel_message = None  # it spoke of the bookings list before this booking
        # One confirmation, below Book (last_booking): the status line and the text beside
        # Book do not repeat it.
        self.book_message = None
        logger.info("explorer: %s", self.confirmation(appointment))
        try:
            self.refresh()
        except Exception as exc:  # noqa: BLE001 - the booking stands even if the refresh fails
            logger.warning("slot list refresh after booking failed: %s", exc)
            self._set_status(
                "warning", f"Booked (see below), but the free times could not be refreshed: {exc}"
            )
            return appointment
        free = len(self.visible_slots)
        self._set_status(
            "success",
            f"Booked (see below). {free} free slots left {self._when('day', self.day)}.",
            log=False,  # the confirmation was logged above
        )
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
        found = server_field_errors(exc)
        self.server_errors.update(found)
        return list(found)

    def book(self) -> dict[str, Any] | None:
        """Book the chosen slot for the customer in the form, synchronously.

        Returns the APPOINTMENT, or ``None`` when refused or failed (see :attr:`status`).
        """
        ticket = self.request_booking()
        return self.perform_booking(ticket) if ticket is not None else None

    def confirmation(self, appointment: Mapping[str, Any]) -> str:
        """``Booked ed…: Tue 01 Dec 2026 10:00–11:00 (Europe/Berlin) with Anna Schmidt.``"""
        return confirmation_text(appointment, self.tz, self.resources)

    def appointment_resources(self, appointment: Mapping[str, Any]) -> list[str]:
        """Names of the resources an appointment binds."""
        return appointment_resources(appointment, self.resources)

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

    def _send_cancel(self, appointment_id: str) -> dict[str, Any]:
        self.cancel_message = Status("busy", f"Canceling {appointment_id}…")
        self._begin(f"Canceling {appointment_id}…")
        try:
            answer = dict(self.client.cancel(appointment_id) or {})
        except Exception as exc:
            self.cancel_message = Status("error", describe_error(exc))
            raise
        finally:
            self._end()
        answer.setdefault("id", appointment_id)
        answer.setdefault("canceled", True)
        return answer

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
        answer = self._send_cancel(appointment_id)
        if self.last_booking is not None and self.last_booking.get("id") == appointment_id:
            self.last_booking = None
            self.book_message = None
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
