"""Booking safely, appointments and their files.

:meth:`BookingMethods.book` gives every booking a ``customId`` and, when an answer is lost, asks
``appointment/{customId}/identify`` whether the booking exists instead of booking again.
"""

from __future__ import annotations

import base64
import email.message
import logging
import os
import re
import time
import unicodedata
import uuid
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any, overload
from urllib.parse import unquote

import requests

import bt_explore.rules as rules
from bt_explore import models
from bt_explore.client.entities import EntityMethods
from bt_explore.client.transport import timed_out
from bt_explore.deprecation import renamed_method
from bt_explore.errors import (
    ApiError,
    BookingOutcomeUnknown,
    BookingtimeError,
    Message,
    NotFound,
    ServerError,
    TransportError,
    UnexpectedResponse,
    ValidationError,
    raise_for_answer,
)
from bt_explore.models import wire_names

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd

__all__ = ["SETTLE_MIN_SECONDS", "BookingMethods", "new_custom_id"]

log = logging.getLogger(__name__)

# the wire names of the request bodies the client writes, from their models
_ADD = wire_names(models.AppointmentAdd)
_MOVE = wire_names(models.AppointmentMove)
_FILE = wire_names(models.FileAdd)

#: booking; otherwise the client's read timeout.
SETTLE_MIN_SECONDS = 1.0

# Enough to map the slots of a long scan to their templates without growing forever.
_SLOT_MEMORY = 200_000


def new_custom_id() -> str:
    """A fresh ``customId`` for a booking: ``bt`` + 28 random hex digits (112 random bits).

    Example:
        >>> cid = new_custom_id()
        >>> len(cid), cid[:2]
        (30, 'bt')
    """
    return "bt" + uuid.uuid4().hex[:28]


class BookingMethods(EntityMethods):
    """Safe booking, moving, canceling, appointments and their files."""

    #: makes the ``customId`` of each booking; replace it for reproducible recordings
    custom_ids: Callable[[], str] = staticmethod(new_custom_id)

    def book(
        self,
        slot_id: str,
        customer: Mapping[str, Any],
        *,
        custom_id: str | None = None,
        notes: str | None = None,
        template: Mapping[str, Any] | str | None = None,
        address: Mapping[str, Any] | None = None,
        additional_data: Mapping[str, list[str]] | None = None,
        organization_id: str | None = None,
        **fields: Any,
    ) -> dict[str, Any]:
        """Book a slot for a customer, safely; returns the APPOINTMENT.

        - The booking gets ``custom_id`` (generated when not given) as its ``customId``.
        - Customer fields and ``address`` are checked before sending by
          :func:`bt_explore.rules.booking_problems` (the sandbox's rules too): first and last
          name always, e-mail, mobile and address shapes, and whatever the template demands
          (``template=`` as a dict or an id, else the template this client last listed the slot
          for, if it knows it). A :class:`~bt_explore.ValidationError` is raised with nothing
          sent.
        - ``appointment/add`` is never re-sent. When its answer is lost (timeout, dropped
          connection, 5xx), ``appointment/{customId}/identify`` tells whether the booking
          exists: it is returned if so; if it certainly does not, the original error is raised
          saying so (safe to book again); if that cannot be learned either,
          :class:`~bt_explore.BookingOutcomeUnknown` carries the ``custom_id``.

        Other top-level fields of the booking request (``sendAppointmentAddEventEmail=False``…)
        pass through ``**fields``.

        Example:
            >>> appointment = client.book(slot["id"], {"firstName": "Ada",  # doctest: +SKIP
            ...     "lastName": "Lovelace", "email": "ada@example.com"}, notes="first visit")
            >>> appointment["customId"]  # doctest: +SKIP
            'bt3f9c...'
        """
        org = self.settings.require_organization(organization_id)
        url = self.url("appointment_add", organization_id=org)
        _check_booking_arguments(slot_id, customer, custom_id, notes, template, address)
        tpl = self._template_for(slot_id, template, org)
        problems = _check_booking(slot_id, customer, tpl, address)
        if problems:
            raise ValidationError(None, "POST", url, problems)
        custom_id = custom_id or self.custom_ids()
        # the lookup that settles a lost answer must be possible before anything is sent
        self.url("appointment_identify", organization_id=org, custom_id=custom_id)
        body: dict[str, Any] = {
            _ADD.booking_slot_id: slot_id,
            _ADD.custom_id: custom_id,
            _ADD.customer: dict(customer),
        }
        if notes is not None:
            body[_ADD.notes] = notes
        if address is not None:
            body[_ADD.address] = dict(address)
        if additional_data is not None:
            body[_ADD.additional_data] = _additional_data(additional_data)
        body.update(fields)
        try:
            return self.call("appointment_add", json=body, organization_id=org).content
        except TransportError as exc:
            if exc.sent is False:
                raise TransportError(
                    exc.detail + "; the booking was not sent, safe to book again",
                    method=exc.method,
                    url=exc.url,
                    sent=False,
                ) from exc
            # no answer within the timeout: the server may still be booking
            cause = exc.__cause__
            in_flight = isinstance(cause, requests.RequestException) and timed_out(cause)
            lost: BookingtimeError = exc
        except ApiError as exc:
            if not exc.sent:  # e.g. the token endpoint failed: appointment/add never went out
                exc.note = f"{exc.note}; the booking was not sent, safe to book again"
                raise
            status = exc.status_code or 0
            if isinstance(exc, ServerError):
                # a gateway's 502/504 may come while the API is still booking behind it
                in_flight = status in (502, 504)
            elif isinstance(exc, UnexpectedResponse) and not 400 <= status < 500:
                # a garbled 2xx may hide a booking; a 5xx that is not the API's envelope is a
                # proxy's page, and the API behind it may still be booking
                in_flight = status >= 500
            else:
                raise
            lost = exc
        return self._settle_lost_booking(custom_id, org, lost, in_flight=in_flight)

    def _settle_lost_booking(
        self, custom_id: str, organization_id: str, lost: BookingtimeError, *, in_flight: bool
    ) -> dict[str, Any]:
        """Learn from ``identify`` whether a booking whose answer was lost exists.

        Returns the appointment if it does. "No booking was made, safe to book again" is said
        only when certain: the server had finished with the request (it answered, or closed the
        connection) and ``identify`` answers the API's "no appointment with this customId".
        When the server may still be booking (``in_flight``: a read timeout, a gateway's
        502/504), identify is asked again with backoff for at least the request's own read
        timeout; an appointment that has not appeared by then is
        :class:`~bt_explore.BookingOutcomeUnknown`, as is any identify answer that does not
        say whether the appointment exists.
        """
        log.warning(
            "the answer to appointment/add was lost (%s); looking up customId %s",
            type(lost).__name__,
            custom_id,
        )
        window = max(self.settings.timeout[1], SETTLE_MIN_SECONDS) if in_flight else 0.0
        deadline = time.monotonic() + window
        delay = 0.1
        while True:
            try:
                appointment = self.appointment_by_custom_id(
                    custom_id, organization_id=organization_id
                )
            except NotFound as exc:
                if not any(m.parameter == _ADD.custom_id for m in exc.failures):
                    # a 404 that does not name the customId (an unknown route, a proxy's
                    # page) says nothing about the appointment
                    raise BookingOutcomeUnknown(
                        custom_id, f"{lost}; then identify answered: {exc}"
                    ) from lost
                left = deadline - time.monotonic()
                if left <= 0:
                    break
                time.sleep(min(delay, left))
                delay = min(delay * 2, 2.0)
                continue
            except BookingtimeError as exc:
                raise BookingOutcomeUnknown(
                    custom_id, f"{lost}; then identify failed: {exc}"
                ) from lost
            log.info("booking %s exists despite the lost answer; not booking again", custom_id)
            return appointment
        if in_flight:
            raise BookingOutcomeUnknown(
                custom_id,
                f"{lost}; the server may still be booking: identify found no appointment "
                f"with this customId for {window:g} s",
            ) from lost
        note = (
            f"no booking was made: appointment/{custom_id}/identify answered that no "
            "appointment has this customId; safe to book again"
        )
        if isinstance(lost, ApiError):
            lost.note = note
            raise lost from None
        assert isinstance(lost, TransportError)
        raise TransportError(
            f"{lost.detail}; {note}", method=lost.method, url=lost.url, sent=False
        ) from lost

    def appointment(
        self, appointment_id: str, *, organization_id: str | None = None
    ) -> dict[str, Any]:
        """One APPOINTMENT by id.

        Example:
            >>> client.appointment(appointment["id"])["canceled"]             # doctest: +SKIP
            False
        """
        return self._get("appointment_show", organization_id, appointment_id=appointment_id)

    def appointment_by_custom_id(
        self, custom_id: str, *, organization_id: str | None = None
    ) -> dict[str, Any]:
        """One APPOINTMENT by its ``customId`` (raises :class:`~bt_explore.NotFound` if none).

        Example:
            >>> client.appointment_by_custom_id("bt3f9c...")["id"]            # doctest: +SKIP
        """
        return self._get("appointment_identify", organization_id, custom_id=custom_id)

    def move(
        self, appointment_id: str, slot_id: str, *, organization_id: str | None = None
    ) -> dict[str, Any]:
        """Move an appointment to another slot; returns the APPOINTMENT (``moved: true``).

        Example:
            >>> client.move(appointment["id"], other_slot["id"])["moved"]     # doctest: +SKIP
            True
        """
        return self.call(
            "appointment_move",
            json={_MOVE.booking_slot_id: slot_id},
            organization_id=organization_id,
            appointment_id=appointment_id,
        ).content

    def cancel(self, appointment_id: str, *, organization_id: str | None = None) -> dict[str, Any]:
        """Cancel an appointment; returns the APPOINTMENT (``canceled: true``).

        Example:
            >>> client.cancel(appointment["id"])["canceled"]                  # doctest: +SKIP
            True
        """
        return self.call(
            "appointment_cancel", organization_id=organization_id, appointment_id=appointment_id
        ).content

    # -- files ---------------------------------------------------------------------------------

    def add_file(
        self,
        appointment_id: str,
        name_or_path: str | os.PathLike[str],
        content: bytes | None = None,
        *,
        name: str | None = None,
        custom_id: str | None = None,
        organization_id: str | None = None,
    ) -> dict[str, Any]:
        """Attach a file to an appointment; returns the FILE (``id``, ``size``, ``mimeType``, …).

        Give the file's name and its ``content`` (bytes), or a path to read (``content``
        ``None``). ``name`` is the title shown (default: the file name); the bytes are sent
        base64-encoded as ``fileContent``.

        Example:
            >>> f = client.add_file(appointment["id"], "note.txt", b"Bring the X-ray.")  # doctest: +SKIP
            >>> f["size"], f["mimeType"]                                      # doctest: +SKIP
            (16, 'text/plain')
            >>> client.add_file(appointment["id"], "scans/knee.pdf")          # doctest: +SKIP
        """
        if content is None:
            path = Path(name_or_path)
            content = path.read_bytes()
            file_name = path.name
        else:
            if not isinstance(content, (bytes, bytearray, memoryview)):
                raise TypeError(f"content must be bytes, not {type(content).__name__}")
            file_name = Path(name_or_path).name
        body: dict[str, Any] = {
            _FILE.name: name or file_name,
            _FILE.file_name: file_name,
            _FILE.file_content: base64.b64encode(bytes(content)).decode("ascii"),
            _FILE.appointment_id: appointment_id,
        }
        if custom_id is not None:
            body[_FILE.custom_id] = custom_id
        return self.call("file_add", json=body, organization_id=organization_id).content

    @overload
    def download_file(
        self, file_id: str, path: None = None, *, organization_id: str | None = None
    ) -> bytes: ...

    @overload
    def download_file(
        self, file_id: str, path: str | os.PathLike[str], *, organization_id: str | None = None
    ) -> Path: ...

    def download_file(
        self,
        file_id: str,
        path: str | os.PathLike[str] | None = None,
        *,
        organization_id: str | None = None,
    ) -> bytes | Path:
        """A file's raw bytes; with ``path``, written there (a folder: under the file's own
        name) and the written path returned.

        Example:
            >>> client.download_file(f["id"])                                 # doctest: +SKIP
            b'Bring the X-ray.'
            >>> client.download_file(f["id"], "downloads/")                   # doctest: +SKIP
            PosixPath('downloads/note.txt')
        """
        url = self.url("file_download", organization_id=organization_id, file_id=file_id)
        org = self._organization_of("file_download", organization_id)
        response = self._send("GET", url, org)
        raise_for_answer(response)
        if path is None:
            return response.content
        target = Path(path)
        if target.is_dir():
            name = _attachment_name(response.headers.get("Content-Disposition", ""))
            target = target / (name or file_id)
        if target.is_dir():
            raise ValueError(f"path: {str(target)!r} is a folder; name a file or an empty folder")
        target.write_bytes(response.content)
        return target

    def appointment_protected(
        self, appointment_id: str, *, organization_id: str | None = None
    ) -> dict[str, Any]:
        """The full APPOINTMENT by id (``showProtected``; the sandbox answers what
        :meth:`appointment` does, see docs/sandbox.md).

        Example:
            >>> client.appointment_protected(appointment["id"])["customer"]  # doctest: +SKIP
        """
        return self._get(
            "appointment_showProtected", organization_id, appointment_id=appointment_id
        )

    def appointment_frame(
        self, appointment_id: str, *, organization_id: str | None = None
    ) -> pd.DataFrame:
        """One appointment as a one-row DataFrame (:func:`bt_explore.frames.appointments_frame`).

        Example:
            >>> client.appointment_frame(appointment["id"]).T                   # doctest: +SKIP
        """
        from bt_explore.frames import appointments_frame

        return appointments_frame(
            [self.appointment(appointment_id, organization_id=organization_id)]
        )

    def _template_for(
        self, slot_id: str, template: Mapping[str, Any] | str | None, organization_id: str
    ) -> Mapping[str, Any] | None:
        if isinstance(template, Mapping):
            return template
        if isinstance(template, str):
            return self._known_template(template, organization_id)
        with self._lock:
            template_id = self._slot_templates.get(slot_id)
            # only what is already known: validation must not cost a request of its own
            return self._templates.get(template_id) if template_id else None

    # -- old names, kept for one release

    appointment_df = renamed_method("appointment_df", "appointment_frame")


def _attachment_name(disposition: str) -> str | None:
    """The file name of a ``Content-Disposition`` header, without any folder part.

    Example:
        >>> _attachment_name('attachment; filename="note.txt"')
        'note.txt'
        >>> _attachment_name("attachment; filename=x; filename*=UTF-8''%C3%A4rzte.txt")
        'ärzte.txt'
        >>> _attachment_name('attachment; filename=".."') is None   # a folder, not a name
        True
    """
    extended = re.search(r"filename\*\s*=\s*UTF-8''([^;\s]+)", disposition, re.IGNORECASE)
    if extended:
        name: str | None = unquote(extended[1])
    else:
        msg = email.message.Message()
        msg["Content-Disposition"] = disposition
        name = msg.get_filename()
    name = Path(name).name if name else ""
    # "." and ".." name folders; control and text-direction characters disguise a name
    unsafe = name in ("", ".", "..") or any(unicodedata.category(c) in ("Cc", "Cf") for c in name)
    return None if unsafe else name


def _check_booking_arguments(
    slot_id: Any,
    customer: Any,
    custom_id: Any,
    notes: Any,
    template: Any,
    address: Any,
) -> None:
    """``TypeError``/``ValueError`` naming the argument of :meth:`Client.book` that has the
    wrong type; what the API would refuse is :func:`_check_booking`'s."""
    if isinstance(slot_id, Mapping):
        raise TypeError("slot_id must be the slot's id (a string), not the slot: pass slot['id']")
    if not isinstance(slot_id, str):
        raise TypeError(f"slot_id must be a string, got {type(slot_id).__name__}")
    if not isinstance(customer, Mapping):
        raise TypeError(
            f"customer must be a dict of customer fields, got {type(customer).__name__}"
        )
    if custom_id is not None:
        if not isinstance(custom_id, str):
            raise TypeError(f"custom_id must be a string, got {type(custom_id).__name__}")
        if not custom_id.strip():
            raise ValueError("custom_id must not be empty (leave it out to have one generated)")
    if notes is not None and not isinstance(notes, str):
        raise TypeError(f"notes must be a string, got {type(notes).__name__}")
    if template is not None and not isinstance(template, (str, Mapping)):
        raise TypeError(f"template must be a template dict or id, got {type(template).__name__}")
    if address is not None and not isinstance(address, Mapping):
        raise TypeError(f"address must be a dict of address fields, got {type(address).__name__}")


def _additional_data(value: Any) -> dict[str, list[str]]:
    """``additionalData`` as the API takes it: each key to a list of strings.

    Example:
        >>> _additional_data({"source": ["web"], "tags": ("a", "b")})
        {'source': ['web'], 'tags': ['a', 'b']}
        >>> _additional_data({"source": "web"})
        Traceback (most recent call last):
        TypeError: additional_data['source'] must be a list of strings, got str: pass ['web']
    """
    if not isinstance(value, Mapping):
        raise TypeError(
            f"additional_data must be a dict of lists of strings, got {type(value).__name__}"
        )
    result: dict[str, list[str]] = {}
    for key, items in value.items():
        if not isinstance(key, str):
            raise TypeError(f"additional_data keys must be strings, got {key!r}")
        if isinstance(items, str):
            raise TypeError(
                f"additional_data[{key!r}] must be a list of strings, got str: pass [{items!r}]"
            )
        if not isinstance(items, (list, tuple)) or not all(isinstance(i, str) for i in items):
            raise TypeError(f"additional_data[{key!r}] must be a list of strings, got {items!r}")
        result[key] = list(items)
    return result


def _check_booking(
    slot_id: Any,
    customer: Any,
    template: Mapping[str, Any] | None,
    address: Mapping[str, Any] | None,
) -> list[Message]:
    """Failure messages for a booking request, in the API's words; [] when it looks fine."""
    problems: list[Message] = []
    if not isinstance(slot_id, str) or not slot_id.strip():
        problems.append(Message("failure", _ADD.booking_slot_id, rules.TEXTS["required"]))
    found = rules.booking_problems(customer, template=template, address=address)
    return problems + [Message("failure", p.parameter, p.text) for p in found]
