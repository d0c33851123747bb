"""The booking explorer's view: the ipywidgets bound to an :class:`ExplorerController`.

:class:`BookingExplorer` builds the widgets once, turns their events into controller actions
(network calls in a worker thread, so the kernel stays free) and, after every change of state,
brings each section in line with it — status, template, browsing, days, times, form, Book and
the bookings — each its own small function. :data:`SELECTORS` lists the CSS classes it sets.

Example:
    >>> sorted(SELECTORS)[:2]
    ['bt-book', 'bt-book-feedback']
"""

from __future__ import annotations

import concurrent.futures
import html
import logging
import threading
from collections.abc import Callable, Iterable, Mapping
from datetime import datetime
from typing import Any, TypeVar

from bt_explore.extras import missing_extra

try:
    import ipywidgets as widgets
except ImportError as exc:  # pragma: no cover - depends on the installed extras
    raise missing_extra("ipywidgets", "bt_explore.widgets") from exc

from bt_explore.widgets_controller import ExplorerController, Status
from bt_explore.widgets_form import FORM_FIELDS, present, template_summary, to_datetime

__all__ = ["BookingExplorer", "SELECTORS"]

logger = logging.getLogger("bt_explore.widgets")

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

# Placeholders in light italics, the times and days as a wrapping grid, day buttons as wide as
# their label (JupyterLab's font cut "· 62" off a fixed width), and the chosen time, day and
# mode in a strong blue rather than the theme's slightly darker grey. (An HTML widget's <style>
# applies to the page; every rule is scoped to the explorer.)
_CSS = """<style>
.bt-explorer input::placeholder { color: #9e9e9e; font-style: italic; opacity: 1; }
.bt-explorer .bt-slots, .bt-explorer .bt-days { flex-wrap: wrap; height: auto; }
.bt-explorer .bt-slots > div, .bt-explorer .bt-days > div {
  display: flex; flex-wrap: wrap; gap: 4px; flex: 1 1 auto; min-width: 0;
}
.bt-explorer .bt-slots button, .bt-explorer .bt-days button { margin: 0; }
.bt-explorer .bt-days button { min-width: 118px; padding: 0 10px; }
.bt-explorer .bt-slots button.mod-active, .bt-explorer .bt-days button.mod-active,
.bt-explorer .bt-mode button.mod-active {
  background: #1565c0; color: #fff; font-weight: bold; box-shadow: inset 0 0 0 2px #0d47a1;
}
</style>"""


#: The width of the labels left of the controls, so the controls line up.
_LABEL_WIDTH = "110px"

W = TypeVar("W", bound=widgets.DOMWidget)


def _classed(widget: W, name: str) -> W:
    """``widget`` with the CSS class ``name`` (one of :data:`SELECTORS`)."""
    widget.add_class(name)
    return widget


def _note_widget() -> widgets.HTML:
    """An HTML widget for a short message beside a control."""
    return widgets.HTML(layout=widgets.Layout(margin="0 0 0 8px"))


def _section(title: str) -> widgets.HTML:
    """A section's bold heading."""
    return widgets.HTML(f"<b style='display:block;margin:10px 0 2px'>{html.escape(title)}</b>")


def _row() -> widgets.Layout:
    """The layout of a row of controls: it wraps on a narrow screen rather than overflowing."""
    return widgets.Layout(align_items="center", flex_flow="row wrap")


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
        """The widgets, section by section, each with its CSS class and its callbacks."""
        self.title = widgets.HTML(_CSS + "<h3 style='margin:4px 0'>Booking explorer</h3>")
        self.status = _classed(widgets.HTML(layout=widgets.Layout(margin="6px 0")), "bt-status")
        self.add_class("bt-explorer")
        self.children = [
            self.title,
            *self._build_template(),
            _section("1 · Find a free slot"),
            *self._build_browse(),
            self.status,
            *self._build_times(),
            _section("2 · Customer (* required)"),
            *self._build_form(),
            *self._build_book(),
            _section("3 · Bookings of this session"),
            *self._build_bookings(),
        ]

    def _build_template(self) -> list[widgets.Widget]:
        """The template dropdown, Reload, and the chosen template's summary."""
        self.template_dropdown = _classed(
            widgets.Dropdown(
                description="Template",
                options=[],
                style={"description_width": _LABEL_WIDTH},
                layout=widgets.Layout(width="560px", max_width="100%"),
            ),
            "bt-template",
        )
        self.reload_button = _classed(
            widgets.Button(
                description="Reload", icon="refresh", tooltip="Fetch templates and resources again"
            ),
            "bt-reload",
        )
        self.description = widgets.HTML()
        self.template_dropdown.observe(self._handler(self._on_template), names="value")
        self.reload_button.on_click(self._handler(self._on_reload))
        return [
            widgets.HBox([self.template_dropdown, self.reload_button], layout=_row()),
            self.description,
        ]

    def _build_browse(self) -> list[widgets.Widget]:
        """Earliest slot, Day/Week, ◀ date ▶ and the note beside the date."""
        self.earliest_button = _classed(
            widgets.Button(
                description="Earliest slot",
                icon="bolt",
                button_style="primary",
                tooltip="Choose the earliest free slot of this template",
            ),
            "bt-earliest",
        )
        self.mode_toggle = _classed(
            widgets.ToggleButtons(
                options=[("Day", "day"), ("Week", "week")],
                value="day",
                tooltip="Browse one day or one ISO week",
                style={"button_width": "64px"},
            ),
            "bt-mode",
        )
        self.prev_button = _classed(
            widgets.Button(
                description="◀", tooltip="Previous day/week", layout=widgets.Layout(width="44px")
            ),
            "bt-prev",
        )
        # No min/max: the picker would silently snap a typed past date; the controller moves
        # it into the booking window and says so in date_note.
        self.date_picker = _classed(
            widgets.DatePicker(
                description="Date",
                style={"description_width": "40px"},
                layout=widgets.Layout(width="220px"),
            ),
            "bt-date",
        )
        self.next_button = _classed(
            widgets.Button(
                description="▶", tooltip="Next day/week", layout=widgets.Layout(width="44px")
            ),
            "bt-next",
        )
        self.date_note = _classed(_note_widget(), "bt-date-note")
        self.earliest_button.on_click(self._handler(self._on_earliest))
        self.mode_toggle.observe(self._handler(self._on_mode), names="value")
        self.prev_button.on_click(self._handler(self._on_step, -1))
        self.next_button.on_click(self._handler(self._on_step, +1))
        self.date_picker.observe(self._handler(self._on_date), names="value")
        controls = [
            self.earliest_button,
            self.mode_toggle,
            self.prev_button,
            self.date_picker,
            self.next_button,
            self.date_note,
        ]
        return [widgets.HBox(controls, layout=_row())]

    def _build_times(self) -> list[widgets.Widget]:
        """Week view's day chooser and the chosen day's free times."""
        self.day_buttons = _classed(
            widgets.ToggleButtons(
                options=[],
                value=None,
                description="Day",
                style={"description_width": _LABEL_WIDTH, "button_width": "auto"},
                layout=widgets.Layout(width="100%", display="none"),
            ),
            "bt-days",
        )
        self.slot_buttons = _classed(
            widgets.ToggleButtons(
                options=[],
                value=None,
                description="Free times",
                style={"description_width": _LABEL_WIDTH, "button_width": "180px"},
                layout=widgets.Layout(width="100%"),
            ),
            "bt-slots",
        )
        self.day_buttons.observe(self._handler(self._on_day), names="value")
        self.slot_buttons.observe(self._handler(self._on_slot), names="value")
        return [self.day_buttons, self.slot_buttons]

    def _build_form(self) -> list[widgets.Widget]:
        """A Text per customer field, what is wrong with it beside it."""
        self.fields: dict[str, widgets.Text] = {}
        self.field_errors: dict[str, widgets.HTML] = {}
        rows: list[widgets.Widget] = []
        for f in FORM_FIELDS:
            text = widgets.Text(
                description=f.label,
                placeholder=f.placeholder,
                continuous_update=True,
                style={"description_width": _LABEL_WIDTH},
                layout=widgets.Layout(width="380px", max_width="100%"),
            )
            self.fields[f.name] = _classed(text, f"bt-field-{f.name}")
            self.field_errors[f.name] = _classed(_note_widget(), f"bt-field-error-{f.name}")
            text.observe(self._handler(self._on_field, f.name), names="value")
            rows.append(widgets.HBox([text, self.field_errors[f.name]], layout=_row()))
        return rows

    def _build_book(self) -> list[widgets.Widget]:
        """Book, the text beside it, and the confirmation below it."""
        self.book_button = _classed(
            widgets.Button(
                description="Book",
                icon="check",
                button_style="success",
                disabled=True,
                tooltip="Book the chosen slot for this customer",
            ),
            "bt-book",
        )
        self.book_feedback = _classed(_note_widget(), "bt-book-feedback")
        self.confirmation = _classed(widgets.HTML(), "bt-confirmation")
        self.book_button.on_click(self._handler(self._on_book))
        return [
            widgets.HBox([self.book_button, self.book_feedback], layout=_row()),
            self.confirmation,
        ]

    def _build_bookings(self) -> list[widgets.Widget]:
        """This session's bookings table, the dropdown of active ones, Cancel and its note."""
        self.bookings_html = _classed(
            widgets.HTML(layout=widgets.Layout(overflow="auto")), "bt-bookings"
        )
        self.booking_dropdown = _classed(
            widgets.Dropdown(
                description="Booking",
                options=[],
                style={"description_width": "60px"},
                layout=widgets.Layout(width="460px", max_width="100%"),
            ),
            "bt-booking-select",
        )
        self.cancel_button = _classed(
            widgets.Button(
                description="Cancel booking",
                icon="times",
                button_style="danger",
                disabled=True,
                tooltip="Cancel the booking chosen on the left",
            ),
            "bt-cancel",
        )
        self.cancel_feedback = _classed(_note_widget(), "bt-cancel-feedback")
        self.cancel_button.on_click(self._handler(self._on_cancel))
        row = [self.booking_dropdown, self.cancel_button, self.cancel_feedback]
        return [self.bookings_html, widgets.HBox(row, layout=_row())]

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
        busy = self.controller.busy or self._pending > 0
        self._render_status()
        self._render_template()
        self._render_browse(busy)
        self._render_days()
        self._render_times(busy)
        self._render_form()
        self._render_book()
        self._render_bookings(busy)

    def _render_status(self) -> None:
        """The status line; while a request of ours runs, an info or success shows as busy."""
        status = self.controller.status
        level = status.level
        if self._pending > 0 and level not in ("busy", "error", "warning"):
            level = "busy"
        icon, color, background = _STATUS_STYLE[level]
        self._set(
            self.status,
            value=(
                f"<div style='padding:6px 10px;border-radius:4px;color:{color};"
                f"background:{background}'>{icon} {html.escape(status.text)}</div>"
            ),
        )

    def _render_template(self) -> None:
        """The template dropdown and the chosen template's summary."""
        ctl = self.controller
        options = tuple(ctl.template_options)
        if tuple(self.template_dropdown.options) != options:
            self.template_dropdown.options = options
        if ctl.template_id is not None and self.template_dropdown.value != ctl.template_id:
            self.template_dropdown.value = ctl.template_id
        self._set(self.description, value=_summary_html(ctl.template))

    def _render_browse(self, busy: bool) -> None:
        """Earliest slot, Day/Week, ◀ date ▶ and the note beside the date."""
        ctl = self.controller
        if ctl.day is not None and self.date_picker.value != ctl.day:
            self.date_picker.value = ctl.day
        self._set(self.mode_toggle, value=ctl.mode)
        self._set(self.date_note, value=_note(Status("warning", ctl.date_note)))
        no_template = ctl.template is None
        for button in (self.earliest_button, self.prev_button, self.next_button):
            self._set(button, disabled=busy or no_template)
        self._set(self.date_picker, disabled=no_template)
        self._set(self.mode_toggle, disabled=no_template)

    def _render_days(self) -> None:
        """Week view: the day chooser, a button per day with its free slots."""
        ctl = self.controller
        day_options = tuple(ctl.day_options)
        if tuple(self.day_buttons.options) != day_options:
            self.day_buttons.options = day_options
        shown_day = ctl.day if day_options else None
        if self.day_buttons.value != shown_day:
            self.day_buttons.value = shown_day
        self._set(self.day_buttons.layout, display=None if day_options else "none")

    def _render_times(self, busy: bool) -> None:
        """The chosen day's free times as buttons, the chosen one selected."""
        ctl = self.controller
        slot_options = tuple(ctl.slot_options)
        if tuple(self.slot_buttons.options) != slot_options:
            if slot_options:  # (no labels: no width to fit)
                longest = max(len(label) for label, _ in slot_options)
                width = f"{min(40 + 7 * longest, 320)}px"
                self._set(self.slot_buttons.style, button_width=width)
            self.slot_buttons.tooltips = [s.label for s in ctl.visible_slots]
            self.slot_buttons.options = slot_options
        wanted = ctl.slot_id if any(v == ctl.slot_id for _, v in slot_options) else None
        if self.slot_buttons.value != wanted:
            self.slot_buttons.value = wanted
        self._set(self.slot_buttons, disabled=busy)
        # A browser keeps the old buttons when the options become empty (ipywidgets' view only
        # rebuilds for new labels), so a day without times hides the row instead of showing
        # the previous day's times as dead buttons.
        self._set(self.slot_buttons.layout, display=None if slot_options else "none")

    def _render_form(self) -> None:
        """Each customer field: `*` when required, red with its problem beside it when wrong."""
        ctl = self.controller
        required, problems = set(ctl.required), ctl.visible_errors
        for f in FORM_FIELDS:
            text, error = self.fields[f.name], self.field_errors[f.name]
            self._set(text, description=f.label + (" *" if f.name in required else ""))
            problem = problems.get(f.name)
            self._set(text.style, background=_INVALID_BACKGROUND if problem else None)
            self._set(error, value=_field_error_html(f.label, problem))

    def _render_book(self) -> None:
        """Book, the text beside it and the last booking's confirmation."""
        ctl = self.controller
        self._set(self.book_button, disabled=not ctl.can_book or self._pending > 0)
        self._set(self.book_feedback, value=_note(ctl.book_feedback))
        confirmation = ""
        if ctl.last_booking is not None:
            confirmation = (
                "<div style='margin:4px 0;padding:4px 8px;border-left:3px solid #2e7d32'>"
                f"{html.escape(ctl.confirmation(ctl.last_booking))}</div>"
            )
        self._set(self.confirmation, value=confirmation)

    def _render_bookings(self, busy: bool) -> None:
        """This session's bookings: the table, the dropdown of active ones and Cancel."""
        ctl = self.controller
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
        start = to_datetime(booking.get("start"), self.controller.tz)
        return start.strftime("%a %d %b %H:%M") if start else "?"

    def _bookings_table(self) -> str:
        ctl = self.controller
        if not ctl.bookings:
            return "<i>No bookings in this session yet.</i>"
        # Rendering runs on every keystroke in the form: rebuild the table only when it changed.
        key = tuple((b.get("id"), bool(b.get("canceled"))) for b in ctl.bookings)
        if key == self._bookings_key:
            return str(self.bookings_html.value)
        self._bookings_key = key
        frame = ctl.bookings_frame()
        rows = [
            _booking_row(ctl, booking, row)
            for booking, row in zip(ctl.bookings, frame.itertuples(index=False), strict=True)
        ]
        head = "".join(
            f"<th style='{_CELL};border-bottom:1px solid #999'>{h}</th>"
            for h in ("appointment", "when", "template", "customer", "with", "state")
        )
        return (
            "<table class='bt-bookings-table' style='border-collapse:collapse;font-size:13px'>"
            f"<thead><tr>{head}</tr></thead><tbody>{''.join(rows)}</tbody></table>"
        )


# --- the sections' HTML ------------------------------------------------------------------------

_CELL = "padding:3px 12px 3px 0;text-align:left;white-space:nowrap;vertical-align:top"


def _summary_html(template: Mapping[str, Any] | None) -> str:
    """The chosen template's facts as a list (``template_summary``)."""
    if template is None:
        return "<i>No template selected.</i>"
    items = "".join(
        f"<li><b>{html.escape(k)}:</b> {html.escape(v)}</li>"
        for k, v in template_summary(template).items()
    )
    return f"<ul style='margin:2px 0 2px 110px;padding-left:16px'>{items}</ul>"


def _field_error_html(label: str, problem: str | None) -> str:
    """What is wrong with a field, in red beside it (``""`` when nothing is)."""
    if not problem:
        return ""
    return f"<span style='color:#b00020'>⚠ {html.escape(label)}: {html.escape(problem)}</span>"


def _when_html(row: Any, tz: Any) -> str:
    start, end = to_datetime(row.start, tz), to_datetime(row.end, tz)
    when = start.strftime("%a %d %b %H:%M") if start else ""
    if end is not None:
        when += "–" + end.strftime("%H:%M")
    return when


def _booking_row(ctl: ExplorerController, booking: Mapping[str, Any], row: Any) -> str:
    """One booking as a table row: id, when, template, customer, resources, state."""
    customer = " ".join(
        str(v) for v in (row.customer_first_name, row.customer_last_name) if present(v)
    )
    canceled = bool(row.canceled) if present(row.canceled) else False
    values = (
        row.appointment_id,
        _when_html(row, ctl.tz),
        row.name,
        customer,
        ", ".join(ctl.appointment_resources(booking)),
        "canceled" if canceled else "booked",
    )
    style = _CELL + (";color:#888;text-decoration:line-through" if canceled else "")
    tds = "".join(
        f"<td style='{style}'>{html.escape(str(v)) if present(v) else ''}</td>" for v in values
    )
    return f"<tr>{tds}</tr>"
