"""The booking explorer: pick a template, see free slots and book, inside a notebook.

Two layers, each in its own module. :class:`ExplorerController`
(:mod:`bt_explore.widgets_controller`) holds the whole logic and state as plain Python (no
widgets): templates, the slots on show, the customer form and its validation, the bookings of
this session and a status line. Every action catches what goes wrong and turns it into a status
message plus a log record (logger ``bt_explore.widgets``), so nothing fails silently.
:class:`BookingExplorer` (:mod:`bt_explore.widgets_view`) is the thin ipywidgets view bound to
it; it runs the network calls in a worker thread so the kernel stays responsive while a request
is in flight. The pure parts — labels, the template summary, the form's checks, error messages —
are :mod:`bt_explore.widgets_form`. This module gathers the public names.

Example:
    >>> import bt_explore
    >>> client = bt_explore.connect()                  # doctest: +SKIP
    >>> bt_explore.BookingExplorer(client)              # doctest: +SKIP
"""

from __future__ import annotations

import bt_explore.widgets_form as _form
from bt_explore.widgets_controller import ExplorerController, Slot, Status
from bt_explore.widgets_form import (
    FORM_FIELDS,
    FormField,
    customer_payload,
    describe_error,
    form_summary,
    required_fields,
    template_label,
    template_summary,
    validate_customer,
)
from bt_explore.widgets_view import SELECTORS, BookingExplorer

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

# Kept for code that reached into the old single module.
_fields_for_parameter = _form.fields_for_parameter
