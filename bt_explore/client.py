"""The Module API client: one method per endpoint, typed errors, retries, safe booking.

:class:`Client` talks to bookingtime's Module API v3 over a pooled ``requests.Session``.
Its methods return plain Python data — the envelope's ``content``: entities are dicts, LIST
endpoints return their ``recordList`` as ``list[dict]``, slot calls return the range dict
(``rangeStart``, ``rangeEnd``, ``timeZone`` and the slots: ``list`` for day/week/month,
``bookingSlotList`` for the earliest slot, as bookingtime names them). :meth:`Client.call`
returns an :class:`ApiResult` that also carries the envelope's messages.

GET requests are retried with backoff on connection errors, 429 (honouring ``Retry-After``)
and 502/503/504 by urllib3's ``Retry``; POST and PUT never are. :meth:`Client.book` gives every
booking a ``customId`` and, when an answer is lost, asks ``appointment/{customId}/identify``
whether the booking exists instead of booking again.

Example:
    >>> import bt_explore
    >>> with bt_explore.connect(mode="sandbox") as client:                # doctest: +SKIP
    ...     template = client.templates()[0]
    ...     slot = client.earliest_slot(template["id"])["bookingSlotList"][0]
    ...     appointment = client.book(slot["id"], {"firstName": "Ada", "lastName": "Lovelace",
    ...                                            "email": "ada@example.com"})
"""

from __future__ import annotations

import base64
import calendar
import email.message
import logging
import os
import re
import threading
import time
import unicodedata
import uuid
from collections import deque
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from datetime import time as dtime
from pathlib import Path
from typing import TYPE_CHECKING, Any, overload
from urllib.parse import quote, unquote, urlsplit

import requests
from urllib3.exceptions import ConnectTimeoutError, NewConnectionError, ReadTimeoutError
from urllib3.util.retry import Retry

import bt_explore.rules as rules
import bt_explore.times as times
from bt_explore.auth import Clock, TokenAuth, now_seconds
from bt_explore.endpoints import ENDPOINTS, STATIC_LISTS
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
    decode_envelope,
    raise_for_answer,
    short_url,
)
from bt_explore.models import RawBytes
from bt_explore.pacing import PacedAdapter, RateController
from bt_explore.retry import default_retry, for_token_requests
from bt_explore.settings import Settings
from bt_explore.version import __version__

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd

    from bt_explore.frames import SlotPiece

__all__ = ["Client", "ApiResult", "default_retry", "plan_slot_calls", "new_custom_id"]

log = logging.getLogger("bt_explore.client")

#: The least time (seconds) a lost booking answer is settled over when the server may still be
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


@dataclass(frozen=True)
class ApiResult:
    """One answer of the Module API: its ``content`` and ``messages``, and the exchange.

    Example:
        >>> r = ApiResult({"class": "LIST", "recordList": [{"id": "fc1"}]}, (), 200, "GET", "u")
        >>> r.records
        [{'id': 'fc1'}]
    """

    content: Any
    messages: tuple[Message, ...]
    status_code: int
    method: str
    url: str

    @property
    def records(self) -> list[dict[str, Any]]:
        """The ``recordList`` of a LIST content (a list content as is; ``[]`` for none)."""
        return _records(self.content)

    def __repr__(self) -> str:
        return (
            f"ApiResult(status_code={self.status_code}, method={self.method!r}, "
            f"url={short_url(self.url)!r}, messages={list(self.messages)!r}, "
            f"content={_summary(self.content)})"
        )


def _summary(content: Any) -> str:
    if isinstance(content, dict):
        cls = content.get("class", "dict")
        if "recordList" in content:
            return f"<{cls} of {len(content.get('recordList') or [])}>"
        if "list" in content:
            return f"<{cls} of {len(content.get('list') or [])}>"
        return f"<{cls} {content.get('id', '')}>".replace(" >", ">")
    if isinstance(content, list):
        return f"<list of {len(content)}>"
    if isinstance(content, bytes):
        return f"<{len(content)} bytes>"
    return repr(content)


def _records(content: Any) -> list[dict[str, Any]]:
    if content is None:
        return []
    if isinstance(content, list):
        return content
    if isinstance(content, dict):
        records = content.get("recordList")
        if isinstance(records, list):
            return records
    raise TypeError(f"expected a LIST content, got {_summary(content)}")


def _slot_range(content: Any, key: str = "list") -> dict[str, Any]:
    """Normalize slot content: always a dict whose ``key`` holds the list of slots.

    A RANGE_LIST says ``list`` (``key="list"``); the earliest answer says ``bookingSlotList``
    (``key="bookingSlotList"``). Either name is read, the one ``key`` names first, and a bare
    BOOKING_SLOT counts as a list of one; the other name is dropped so users index one key.
    """
    other = "list" if key == "bookingSlotList" else "bookingSlotList"
    if isinstance(content, dict) and content.get("class") == "BOOKING_SLOT":
        return {"rangeStart": None, "rangeEnd": None, "timeZone": None, key: [content]}
    if not isinstance(content, dict):
        return {"rangeStart": None, "rangeEnd": None, "timeZone": None, key: []}
    slots = content.get(key)
    if not isinstance(slots, list):
        slots = content.get(other)
    result = {k: v for k, v in content.items() if k != other}
    result[key] = list(slots) if isinstance(slots, list) else []
    return result


def _slot_time(slot: Any) -> datetime | None:
    """A slot's aware ``timestamp``; ``None`` for a slot without a usable one."""
    value = slot.get("timestamp") if isinstance(slot, dict) else None
    if not isinstance(value, str):
        return None
    try:
        ts = times.parse_timestamp(value)
    except ValueError:
        return None
    return ts if ts.tzinfo is not None else None


def plan_slot_calls(first: date, stop: date) -> list[tuple[str, tuple[int, ...]]]:
    """The fewest day/week/month slot calls covering the days ``[first, stop)``.

    Ties go to the plan that fetches fewer days. Calls are ``("day", (y, m, d))``,
    ``("week", (iso_year, iso_week))`` or ``("month", (y, m))``, in date order. No two calls
    fetch the same day: only the first call may reach back before ``first`` and only the last
    past ``stop``, so no period is sent twice.

    Example:
        >>> from datetime import date
        >>> plan_slot_calls(date(2026, 12, 1), date(2027, 1, 1))
        [('month', (2026, 12))]
        >>> plan_slot_calls(date(2026, 12, 7), date(2026, 12, 14))   # Monday to Monday
        [('week', (2026, 50))]
        >>> plan_slot_calls(date(2026, 12, 30), date(2027, 1, 2))    # across the new year
        [('week', (2026, 53))]
        >>> plan_slot_calls(date(2026, 12, 6), date(2027, 1, 4))     # no week 53 after December
        [('month', (2026, 12)), ('month', (2027, 1))]
        >>> plan_slot_calls(date(2026, 12, 2), date(2026, 12, 3))
        [('day', (2026, 12, 2))]
    """
    n = (stop - first).days
    if n <= 0:
        return []
    # best[i] = (calls, fetched days, call, next index) for covering days i..n-1
    best: list[tuple[int, int, tuple[str, tuple[int, ...]] | None, int]] = [(0, 0, None, n)] * (
        n + 1
    )
    for i in range(n - 1, -1, -1):
        d = first + timedelta(days=i)
        monday = d - timedelta(days=d.weekday())
        month_days = calendar.monthrange(d.year, d.month)[1]
        month_end = date(d.year, d.month, month_days) + timedelta(days=1)
        iso = d.isocalendar()
        options = [
            (("day", (d.year, d.month, d.day)), d, d + timedelta(days=1), 1),
            (("week", (iso[0], iso[1])), monday, monday + timedelta(days=7), 7),
            (("month", (d.year, d.month)), d.replace(day=1), month_end, month_days),
        ]
        choice = None
        for call, begin, end, size in options:
            if i and begin < d:  # would fetch days the previous call already fetched
                continue
            j = min(n, (end - first).days)
            cost = (1 + best[j][0], size + best[j][1])
            if choice is None or cost < choice[0]:
                choice = (cost, call, j)
        assert choice is not None
        best[i] = (choice[0][0], choice[0][1], choice[1], choice[2])
    plan = []
    i = 0
    while i < n:
        _, _, step, j = best[i]
        assert step is not None
        plan.append(step)
        i = j
    return plan


class _SlotMemory:
    """Which template each slot id seen in an answer belongs to, for ``book(slot_id)``.

    Slot ids are deterministic per template, so a remembered id never changes template. Ids
    arrive in batches (one per answer, often a month of slots) and are looked up rarely (one
    per booking), so batches are kept as they come, newest last, and the oldest are forgotten
    once more than ``limit`` ids are held: adding a batch costs no per-id work beyond building
    its dict.

    Example:
        >>> memory = _SlotMemory(limit=200_000)
        >>> memory.add({"4fa": "fc1", "4fb": "fc1"})
        >>> memory.get("4fb"), memory.get("4fz")
        ('fc1', None)
    """

    #: Batches smaller than this are merged into the newest one, so many one-slot answers
    #: (``earliest``) do not make lookups walk thousands of tiny batches.
    _SMALL = 1024

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self._batches: deque[dict[str, str]] = deque()
        self._size = 0

    def add(self, batch: dict[str, str]) -> None:
        """Remember ``batch`` (slot id → template id); forget the oldest beyond the limit."""
        if not batch:
            return
        newest = self._batches[-1] if self._batches else None
        if newest is not None and len(newest) + len(batch) <= self._SMALL:
            self._size -= len(newest)
            newest.update(batch)
            self._size += len(newest)
        else:
            self._batches.append(batch)
            self._size += len(batch)
        while self._size > self.limit and len(self._batches) > 1:
            self._size -= len(self._batches.popleft())

    def get(self, slot_id: str) -> str | None:
        """The template id of ``slot_id``, if remembered (newest answers first)."""
        for batch in reversed(self._batches):
            template_id = batch.get(slot_id)
            if template_id is not None:
                return template_id
        return None

    def __len__(self) -> int:
        return self._size


class Client:
    """A client for bookingtime's Module API v3.

    ``settings`` default to :class:`Settings()` (arguments → environment → ``.env``); a client
    id is required. ``session`` is a ``requests.Session`` to use (the client mounts its pooled,
    retrying adapter on the API's and the auth server's addresses). ``clock`` drives token
    expiry (epoch seconds or aware datetimes). Nothing is sent until the first call.

    Every organization-scoped method takes ``organization_id=`` (default: the settings').

    Example:
        >>> from bt_explore import Client, Settings
        >>> client = Client(Settings(client_id="23demo", organization_id="f6demo", env_file=None))
        >>> client
        Client(api_url='https://api.bookingtime.com/module/v3/', locale='en', organization_id='f6demo')
    """

    def __init__(
        self,
        settings: Settings | None = None,
        *,
        session: requests.Session | None = None,
        clock: Clock | None = None,
        retry: Retry | None = None,
        pace: RateController | None = None,
    ) -> None:
        if settings is not None and not isinstance(settings, Settings):
            raise TypeError(
                f"settings must be a bt_explore.Settings, got {type(settings).__name__}"
                + (": use Client(Settings(client_id=...))" if isinstance(settings, str) else "")
            )
        if session is not None and not isinstance(session, requests.Session):
            raise TypeError(f"session must be a requests.Session, got {type(session).__name__}")
        if clock is not None and not callable(clock):
            raise TypeError(
                "clock must be a callable returning epoch seconds or an aware datetime "
                f"(e.g. time.time), got {type(clock).__name__}"
            )
        self.settings = (settings if settings is not None else Settings()).require()
        self.session = session if session is not None else requests.Session()
        self._owns_session = session is None
        retry = retry or default_retry()
        #: this client's pace, shared by all its threads and organizations (bt_explore.pacing)
        self.pace = pace if pace is not None else RateController()
        adapter = PacedAdapter(self.pace, pool_connections=4, pool_maxsize=32, max_retries=retry)
        for url in (self.settings.api_url, self.settings.auth_url):
            parts = urlsplit(url)
            self.session.mount(f"{parts.scheme}://{parts.netloc}/", adapter)
        # token requests create nothing: retried like GETs (the longest mounted prefix wins)
        self.session.mount(
            self.settings.auth_url, PacedAdapter(self.pace, max_retries=for_token_requests(retry))
        )
        #: what "now" is for this client: epoch seconds or an aware datetime (default
        #: :func:`time.time`); tokens expire, and "today" begins, by it
        self.clock: Clock = clock if clock is not None else time.time
        self.auth = TokenAuth(self.settings, session=self.session, clock=self.clock)
        self._headers = {
            "Accept": "application/json",
            "User-Agent": f"bt_explore/{__version__} {requests.utils.default_user_agent()}",
        }
        self._lock = threading.Lock()
        self._templates: dict[str, dict[str, Any]] = {}
        self._slot_templates = _SlotMemory(_SLOT_MEMORY)
        self._time_zones: dict[str, str] = {}
        self._closers: list[Callable[[], object]] = []
        self._closed = False
        #: makes the ``customId`` of each booking; replace it for reproducible recordings
        self.custom_ids: Callable[[], str] = new_custom_id
        #: the vcrpy cassette this client records to or replays from (``connect(mode=
        #: "record" | "replay")``), else ``None``; vcrpy is not thread-safe, so
        #: :func:`bt_explore.scan_slots` then scans on one thread
        self.cassette: Any = None

    def __repr__(self) -> str:
        return (
            f"Client(api_url={self.settings.api_url!r}, locale={self.settings.locale!r}, "
            f"organization_id={self.settings.organization_id!r})"
        )

    def now(self) -> datetime:
        """This client's :attr:`clock` as an aware UTC datetime.

        Example:
            >>> c = Client(Settings(client_id="23demo", env_file=None), clock=lambda: 0)
            >>> c.now().isoformat()
            '1970-01-01T00:00:00+00:00'
        """
        return datetime.fromtimestamp(now_seconds(self.clock), timezone.utc)

    @property
    def organization_id(self) -> str | None:
        """The default organization (from the settings)."""
        return self.settings.organization_id

    # -- life cycle -------------------------------------------------------------------------

    def close(self) -> None:
        """Close the connections and run the :meth:`on_close` callbacks (idempotent).

        Example:
            >>> client = Client(Settings(client_id="23demo", env_file=None)); client.close()
        """
        if self._closed:
            return
        self._closed = True
        try:
            if self._owns_session:
                self.session.close()
        finally:
            for callback in reversed(self._closers):
                callback()

    def on_close(self, callback: Callable[[], object]) -> None:
        """Call ``callback`` when this client closes (last registered, first called).

        Example:
            >>> client = Client(Settings(client_id="23demo", env_file=None))
            >>> client.on_close(lambda: print("bye")); client.close()
            bye
        """
        self._closers.append(callback)

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    # -- the one request path -------------------------------------------------------------

    def url(self, endpoint_name: str, *, organization_id: str | None = None, **path: Any) -> str:
        """The full URL of an endpoint (``organization_id`` fills ``{org}``).

        Example:
            >>> c = Client(Settings(client_id="23demo", organization_id="f6demo", env_file=None))
            >>> c.url("template_show", template_id="fc1")
            'https://api.bookingtime.com/module/v3/en/organization/f6demo/bookingTemplate/fc1/show'
        """
        try:
            endpoint = ENDPOINTS[endpoint_name]
        except KeyError:
            raise ValueError(
                f"unknown endpoint {endpoint_name!r}; known: {', '.join(ENDPOINTS)}"
            ) from None
        values = {k: _segment(k, v) for k, v in path.items()}
        if endpoint.organization_scoped:
            org = self.settings.require_organization(organization_id)
            values["org"] = _segment("organization_id", org)
        missing = [f for f in endpoint.fields if f not in values]
        if missing:
            raise TypeError(f"{endpoint_name} needs {', '.join(missing)}=...")
        extra = set(values) - set(endpoint.fields)
        if extra:
            raise TypeError(f"{endpoint_name} takes no {', '.join(sorted(extra))}")
        return f"{self.settings.api_url}{self.settings.locale}/{endpoint.format(**values)}"

    def call(
        self,
        endpoint_name: str,
        *,
        json: Any = None,
        organization_id: str | None = None,
        params: dict[str, str] | None = None,
        **path: Any,
    ) -> ApiResult:
        """Call an endpoint of :data:`bt_explore.endpoints.ENDPOINTS` by name.

        ``params`` are the query parameters the endpoint's row names (``query``).

        Returns the :class:`ApiResult` (content, messages, status, method, URL) of any 2xx
        answer; raises the typed :class:`~bt_explore.ApiError` for the others and
        :class:`~bt_explore.TransportError` when no answer came.

        Example:
            >>> result = client.call("template_list")                    # doctest: +SKIP
            >>> result.status_code, len(result.records), result.messages  # doctest: +SKIP
            (200, 5, ())
        """
        url = self.url(endpoint_name, organization_id=organization_id, **path)
        endpoint = ENDPOINTS[endpoint_name]
        unknown = sorted(set(params or ()) - set(endpoint.query))
        if unknown:
            raise TypeError(f"{endpoint_name} reads no query parameter {', '.join(unknown)}")
        org = self._organization_of(endpoint_name, organization_id)
        response = self._send(endpoint.method, url, org, json=json, params=params)
        raise_for_answer(response)
        if endpoint.response is RawBytes:  # a download: the bytes are the content, no envelope
            return ApiResult(response.content, (), response.status_code, endpoint.method, url)
        content, messages = decode_envelope(response)
        return ApiResult(content, messages, response.status_code, endpoint.method, url)

    def _organization_of(self, endpoint_name: str, organization_id: str | None) -> str | None:
        """The organization a call of ``endpoint_name`` addresses (``None``: none, static)."""
        if not ENDPOINTS[endpoint_name].organization_scoped:
            return None
        return self.settings.require_organization(organization_id)

    def _send(
        self,
        method: str,
        url: str,
        organization_id: str | None,
        *,
        json: Any = None,
        params: dict[str, str] | None = None,
    ) -> requests.Response:
        if self._closed:
            raise RuntimeError("this Client is closed")
        started = time.perf_counter()
        try:
            response = self.session.request(
                method,
                url,
                json=json,
                params=params,
                headers=self._headers,
                auth=self.auth.for_organization(organization_id),
                timeout=self.settings.timeout,
            )
        except requests.RequestException as exc:
            sent = None if _maybe_sent(exc) else False
            raise TransportError(_describe(exc), method=method, url=url, sent=sent) from exc
        log.debug(
            "%s %s -> %s (%.0f ms)",
            method,
            short_url(url),
            response.status_code,
            (time.perf_counter() - started) * 1000,
        )
        return response

    def _get(self, endpoint_name: str, organization_id: str | None, **path: Any) -> Any:
        return self.call(endpoint_name, organization_id=organization_id, **path).content

    def _list(
        self,
        endpoint_name: str,
        organization_id: str | None,
        *,
        params: dict[str, str] | None = None,
        **path: Any,
    ) -> list[dict]:
        result = self.call(endpoint_name, organization_id=organization_id, params=params, **path)
        try:
            return result.records
        except TypeError:
            raise UnexpectedResponse(
                result.status_code,
                result.method,
                result.url,
                excerpt=f"content is not a LIST: {_summary(result.content)}",
            ) from None

    # -- organization, templates, resources -----------------------------------------------

    def organization(self, *, organization_id: str | None = None) -> dict[str, Any]:
        """The ORGANIZATION (name, address, timeZone, opening hours, …).

        Example:
            >>> client.organization()["timeZone"]                             # doctest: +SKIP
            'Europe/Berlin'
        """
        org = self._get("organization_show", organization_id)
        if isinstance(org, dict) and org.get("timeZone"):
            key = self.settings.require_organization(organization_id)
            self._time_zones[key] = str(org["timeZone"])
        return org

    def templates(self, *, organization_id: str | None = None) -> list[dict[str, Any]]:
        """The organization's BOOKING_TEMPLATEs (the LIST's ``recordList``).

        Example:
            >>> [t["name"] for t in client.templates()][:2]                 # doctest: +SKIP
            ['Test AppointmentTemplate', 'Demo Appointment 2']
        """
        records = self._list("template_list", organization_id)
        self._remember_templates(records)
        return records

    def template(self, template_id: str, *, organization_id: str | None = None) -> dict[str, Any]:
        """One BOOKING_TEMPLATE by id.

        Example:
            >>> client.template("fc...")["duration"]                         # doctest: +SKIP
            60
        """
        record = self._get("template_show", organization_id, template_id=template_id)
        self._remember_templates([record])
        return record

    def template_by_custom_id(
        self, custom_id: str, *, organization_id: str | None = None
    ) -> dict[str, Any]:
        """One BOOKING_TEMPLATE by its ``customId``.

        Example:
            >>> client.template_by_custom_id("4321")["name"]                  # doctest: +SKIP
            'Demo Appointment 2'
        """
        record = self._get("template_identify", organization_id, custom_id=custom_id)
        self._remember_templates([record])
        return record

    def resource_templates(
        self, resource_id: str, *, organization_id: str | None = None
    ) -> list[dict[str, Any]]:
        """The BOOKING_TEMPLATEs a resource takes part in.

        Example:
            >>> client.resource_templates("br...")                           # doctest: +SKIP
        """
        records = self._list("resource_template_list", organization_id, resource_id=resource_id)
        self._remember_templates(records)
        return records

    def resources(self, *, organization_id: str | None = None) -> list[dict[str, Any]]:
        """The organization's BOOKING_RESOURCEs (staff, rooms, equipment).

        Example:
            >>> {r["type"] for r in client.resources()}                      # doctest: +SKIP
            {'EMPLOYEE', 'ROOM'}
        """
        return self._list("resource_list", organization_id)

    def resource(self, resource_id: str, *, organization_id: str | None = None) -> dict[str, Any]:
        """One BOOKING_RESOURCE by id.

        Example:
            >>> client.resource("br...")["name"]                             # doctest: +SKIP
        """
        return self._get("resource_show", organization_id, resource_id=resource_id)

    def resource_by_custom_id(
        self, custom_id: str, *, organization_id: str | None = None
    ) -> dict[str, Any]:
        """One BOOKING_RESOURCE by its ``customId``.

        Example:
            >>> client.resource_by_custom_id("anna")                         # doctest: +SKIP
        """
        return self._get("resource_identify", organization_id, custom_id=custom_id)

    # -- slots ------------------------------------------------------------------------------

    def earliest_slot(
        self, template_id: str, *, organization_id: str | None = None
    ) -> dict[str, Any]:
        """The earliest free slot(s): ``{rangeStart, rangeEnd, timeZone, bookingSlotList}``.

        The shape of bookingtime's walkthrough. ``bookingSlotList`` is always a list: filled from
        ``bookingSlotList``, else from ``list``, else from a bare BOOKING_SLOT answer.

        Example:
            >>> slot = client.earliest_slot(template_id)["bookingSlotList"][0]  # doctest: +SKIP
            >>> slot["id"], slot["timestamp"]  # doctest: +SKIP
            ('4f...', '2026-12-01T11:00:00+01:00')
        """
        content = self._get("slot_earliest", organization_id, template_id=template_id)
        earliest = _slot_range(content, "bookingSlotList")
        return self._remember_slots(template_id, earliest, organization_id, "bookingSlotList")

    def slots_day(
        self, template_id: str, day: date | str, *, organization_id: str | None = None
    ) -> dict[str, Any]:
        """The free slots of one day (RANGE_LIST content).

        Example:
            >>> len(client.slots_day(template_id, date(2026, 12, 2))["list"])  # doctest: +SKIP
            28
        """
        d = times.as_date(day, "day")
        content = self._get(
            "slot_list_day",
            organization_id,
            template_id=template_id,
            year=d.year,
            month=d.month,
            day=d.day,
        )
        return self._remember_slots(template_id, _slot_range(content), organization_id)

    def slots_week(
        self, template_id: str, year: int, week: int, *, organization_id: str | None = None
    ) -> dict[str, Any]:
        """The free slots of one ISO week (RANGE_LIST content).

        Example:
            >>> client.slots_week(template_id, 2026, 49)["rangeStart"]      # doctest: +SKIP
            '2026-11-30T00:00:00+01:00'
        """
        content = self._get(
            "slot_list_week", organization_id, template_id=template_id, year=year, week=week
        )
        return self._remember_slots(template_id, _slot_range(content), organization_id)

    def slots_month(
        self, template_id: str, year: int, month: int, *, organization_id: str | None = None
    ) -> dict[str, Any]:
        """The free slots of one month (RANGE_LIST content).

        Example:
            >>> len(client.slots_month(template_id, 2026, 12)["list"])       # doctest: +SKIP
            412
        """
        content = self._get(
            "slot_list_month", organization_id, template_id=template_id, year=year, month=month
        )
        return self._remember_slots(template_id, _slot_range(content), organization_id)

    def slot_period_df(
        self,
        template: Mapping[str, Any] | str,
        kind: str,
        day: date | str,
        *,
        tz: str | None = None,
        organization_id: str | None = None,
    ) -> pd.DataFrame:
        """The free slots of the ``"day"``, ISO ``"week"`` or ``"month"`` containing ``day`` —
        exactly one ``listDay`` / ``listWeek`` / ``listMonth`` call — as a slot DataFrame.

        The raw answer is decoded straight from bytes by :mod:`bt_explore.frames` (no Python
        dicts in between), the path every call of :func:`bt_explore.scan_slots` takes. ``template`` is a template dict (its
        ``duration`` gives ``end``) or a template id; times are shown in ``tz``, else in the
        answer's time zone. The slot ids are remembered like ``slots_day()`` & co. do, so
        ``book(slot_id)`` can check the template's required fields without another request.

        Example:
            >>> df = client.slot_period_df(template_id, "week", "2026-12-02")  # doctest: +SKIP
            >>> df["start"].min()                                               # doctest: +SKIP
            Timestamp('2026-11-30 08:00:00+0100', tz='Europe/Berlin')
        """
        from bt_explore.frames import slot_table, template_identity

        if isinstance(template, str):
            template = self._known_template(template, organization_id)
        template_id, duration = template_identity(template)
        answer = self.slot_period_answer(str(template_id or ""), kind, day, organization_id)
        piece = self.slot_period_piece(str(template_id or ""), answer, organization_id)
        return slot_table(
            [(piece, template_id, duration)], times.resolve_zone(tz, piece.time_zone, "slots")
        )

    def slot_period_answer(
        self,
        template_id: str,
        kind: str,
        day: date | str,
        organization_id: str | None = None,
    ) -> requests.Response:
        """Send one ``listDay`` / ``listWeek`` / ``listMonth`` call (``kind``: ``"day"``,
        ``"week"`` or ``"month"``, the period containing ``day``); its 2xx answer, undecoded.

        Typed errors for the others, as every call. A scan's worker threads only wait for
        answers like this and leave the decoding to :meth:`slot_period_piece`.

        Example:
            >>> answer = client.slot_period_answer(template_id, "week", "2026-12-02")  # doctest: +SKIP
            >>> client.slot_period_piece(template_id, answer).ids[:2]                  # doctest: +SKIP
        """
        d = times.as_date(day, "day")
        if kind == "day":
            endpoint, path = "slot_list_day", {"year": d.year, "month": d.month, "day": d.day}
        elif kind == "week":
            year, week, _ = d.isocalendar()
            endpoint, path = "slot_list_week", {"year": year, "week": week}
        elif kind == "month":
            endpoint, path = "slot_list_month", {"year": d.year, "month": d.month}
        else:
            raise ValueError(f"kind: must be 'day', 'week' or 'month', got {kind!r}")
        url = self.url(endpoint, organization_id=organization_id, template_id=template_id, **path)
        response = self._send("GET", url, self._organization_of(endpoint, organization_id))
        raise_for_answer(response)
        return response

    def slot_period_piece(
        self,
        template_id: str,
        response: requests.Response,
        organization_id: str | None = None,
    ) -> SlotPiece:
        """Decode an answer of :meth:`slot_period_answer` into slot columns
        (:class:`bt_explore.frames.SlotPiece`, no frame yet) and remember its slots, like
        ``slots_day()`` & co., so that ``book(slot_id)`` knows their template.

        Example:
            >>> answer = client.slot_period_answer(template_id, "day", "2026-12-02")  # doctest: +SKIP
            >>> piece = client.slot_period_piece(template_id, answer)                 # doctest: +SKIP
            >>> len(piece.ids), piece.time_zone                                         # doctest: +SKIP
            (14, 'Europe/Berlin')
        """
        from bt_explore.frames import slot_piece

        try:
            piece = slot_piece(response.content)
        except (ValueError, TypeError):
            # Not a slot answer at all: the envelope decoder names the problem (status, excerpt).
            content, _ = decode_envelope(response)
            piece = slot_piece(_slot_range(content))
        self._remember_slot_ids(template_id, piece.ids.tolist())  # a missing id: never asked
        self._remember_time_zone(organization_id, piece.time_zone)
        return piece

    def slots(
        self,
        template_id: str,
        start: date | datetime | str,
        end: date | datetime | str,
        *,
        organization_id: str | None = None,
    ) -> dict[str, Any]:
        """The free slots in ``[start, end)``, from the fewest day/week/month calls.

        ``start``/``end`` are dates (whole days) or datetimes; naive datetimes are taken in the
        organization's time zone. Returns a RANGE_LIST-shaped dict with the requested bounds and
        the slots sorted by time, without duplicates.

        Example:
            >>> r = client.slots(template_id, date(2026, 12, 1), date(2026, 12, 15))  # doctest: +SKIP
            >>> r["rangeStart"], len(r["list"])  # doctest: +SKIP
            ('2026-12-01T00:00:00+01:00', 305)
        """
        whole_days = not isinstance(start, datetime) and not isinstance(end, datetime)
        org_tz = None if whole_days else times.zone(self._time_zone(organization_id))
        if org_tz is None:
            lo_day, hi_day = times.as_date(start, "start"), times.as_date(end, "end")
            if hi_day <= lo_day:
                raise ValueError(f"end ({hi_day}) must be after start ({lo_day})")
            first, stop = lo_day, hi_day
        else:
            lo = times.aware(start, org_tz, "start")
            hi = times.aware(end, org_tz, "end")
            if hi <= lo:
                raise ValueError(f"end ({hi.isoformat()}) must be after start ({lo.isoformat()})")
            first = lo.astimezone(org_tz).date()
            last = (hi - timedelta(microseconds=1)).astimezone(org_tz).date()
            stop = last + timedelta(days=1)
        first = self._first_askable_day(first, organization_id)
        pieces = []
        for kind, args in plan_slot_calls(first, stop) if first < stop else ():
            if kind == "day":
                pieces.append(
                    self.slots_day(template_id, date(*args), organization_id=organization_id)
                )
            elif kind == "week":
                pieces.append(self.slots_week(template_id, *args, organization_id=organization_id))
            else:
                pieces.append(self.slots_month(template_id, *args, organization_id=organization_id))
        zone = next((p["timeZone"] for p in pieces if p.get("timeZone")), None)
        tz = org_tz or times.zone(zone or self._time_zone(organization_id))
        seen: dict[str, tuple[datetime, dict[str, Any]]] = {}
        for piece in pieces:
            for slot in piece["list"]:
                ts = _slot_time(slot)
                if ts is None:
                    log.warning("slots: skipping a slot without a valid timestamp: %.80r", slot)
                    continue
                if whole_days:
                    keep = lo_day <= ts.astimezone(tz).date() < hi_day
                else:
                    keep = lo <= ts < hi
                if keep:
                    seen.setdefault(f"{slot.get('id')}@{slot['timestamp']}", (ts, slot))
        slots = [slot for _, slot in sorted(seen.values(), key=lambda pair: pair[0])]
        if whole_days:
            bounds = [datetime.combine(d, dtime(), tz) for d in (lo_day, hi_day)]
        else:
            bounds = [lo.astimezone(tz), hi.astimezone(tz)]
        return {
            "class": "RANGE_LIST",
            "rangeStart": bounds[0].isoformat(),
            "rangeEnd": bounds[1].isoformat(),
            "timeZone": zone or str(tz),
            "list": slots,
        }

    def _first_askable_day(self, first: date, organization_id: str | None) -> date:
        """``first``, or the organization's today if ``first`` lies before it: the API refuses
        periods that end before today (and the past has no free slots)."""
        now = now_seconds(self.clock)
        # No time zone is more than 14 hours ahead of UTC: a later day needs no look-up.
        if first > (datetime.fromtimestamp(now, timezone.utc) + timedelta(hours=14)).date():
            return first
        today = datetime.fromtimestamp(now, times.zone(self._time_zone(organization_id))).date()
        return max(first, today)

    # -- appointments -------------------------------------------------------------------------

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
            "bookingSlotId": slot_id,
            "customId": custom_id,
            "customer": dict(customer),
        }
        if notes is not None:
            body["notes"] = notes
        if address is not None:
            body["address"] = dict(address)
        if additional_data is not None:
            body["additionalData"] = _additional_data(additional_data)
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
            in_flight = isinstance(cause, requests.RequestException) and _timed_out(cause)
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
                if not any(m.parameter == "customId" for m in exc.failures):
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
            json={"bookingSlotId": slot_id},
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
            "name": name or file_name,
            "fileName": file_name,
            "fileContent": base64.b64encode(bytes(content)).decode("ascii"),
            "appointmentId": appointment_id,
        }
        if custom_id is not None:
            body["customId"] = custom_id
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

    # -- module configs, organizations (branches), the protected appointment -----------------

    def module_config(
        self, module_config_id: str, *, organization_id: str | None = None
    ) -> dict[str, Any]:
        """One MODULE_CONFIG by id: ``moduleId``, ``moduleName``, ``settingList`` of
        ``{key, value}`` (values are strings).

        Example:
            >>> client.module_config("5fDemoBooking7Hq2Lx9Vd4Rk8Tz3Wn6")["customId"]  # doctest: +SKIP
            'demo-booking'
        """
        return self._get("moduleConfig_show", organization_id, module_config_id=module_config_id)

    def module_config_by_custom_id(
        self, custom_id: str, *, organization_id: str | None = None
    ) -> dict[str, Any]:
        """One MODULE_CONFIG by its ``customId`` (raises :class:`~bt_explore.NotFound` if none).

        Example:
            >>> client.module_config_by_custom_id("demo-booking")["moduleName"]  # doctest: +SKIP
            'bt_explore demo module'
        """
        return self._get("moduleConfig_identify", organization_id, custom_id=custom_id)

    def module_config_for(
        self, module_id: str | None = None, *, organization_id: str | None = None
    ) -> dict[str, Any]:
        """The MODULE_CONFIG of a module (default: this client's) in the organization.

        Example:
            >>> settings = client.module_config_for()["settingList"]          # doctest: +SKIP
            >>> {s["key"]: s["value"] for s in settings}["showPrice"]          # doctest: +SKIP
            'true'
        """
        return self._get(
            "moduleConfig_module_show",
            organization_id,
            module_id=module_id or self.settings.client_id,
        )

    def organization_by_custom_id(
        self, custom_id: str, *, organization_id: str | None = None
    ) -> dict[str, Any]:
        """The ORGANIZATION, or one of its branches, by ``customId``.

        Example:
            >>> client.organization_by_custom_id("potsdam")["name"]           # doctest: +SKIP
            'Praxis am Park – Potsdam'
        """
        return self._get("organization_identify", organization_id, custom_id=custom_id)

    def find_organizations(
        self, search_query: str = "", *, module_id: str | None = None
    ) -> list[dict[str, Any]]:
        """The ORGANIZATIONs the module (default: this client) may access whose name, customId
        or city holds ``search_query`` (any case; ``""``: all). Sent with an unscoped token, as
        bookingtime's SDK does: no organization is in the URL.

        Example:
            >>> [o["customId"] for o in client.find_organizations("potsdam")]  # doctest: +SKIP
            ['potsdam']
        """
        return self._list(
            "organization_filter",
            None,
            params={"searchQuery": search_query},
            module_id=module_id or self.settings.client_id,
        )

    def branches(
        self, *, module_id: str | None = None, organization_id: str | None = None
    ) -> list[dict[str, Any]]:
        """The organization's branches (ORGANIZATIONs), as the module (default: this client)
        sees them.

        Example:
            >>> [b["customId"] for b in client.branches()]                    # doctest: +SKIP
            ['mitte', 'potsdam']
        """
        return self._list(
            "organization_list", organization_id, module_id=module_id or self.settings.client_id
        )

    def booking_categories(self, *, organization_id: str | None = None) -> list[dict[str, Any]]:
        """The organization's booking category tree (``bookingCategory/tree``): the root
        BOOKING_CATEGORYs, each with its sub-categories in ``bookingCategoryList`` and its
        templates' ids in ``bookingTemplateIdList`` (the shape is the sandbox's assumption, see
        docs/sandbox.md).

        Example:
            >>> [c["name"] for c in client.booking_categories()]                # doctest: +SKIP
            ['Examinations', 'Therapies', 'Courses and rooms']
        """
        return self._list("booking_category_tree", organization_id)

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

    # -- static lists --------------------------------------------------------------------------

    def static_list(self, kind: str) -> list[dict[str, Any]]:
        """A static LIST: ``timeZone``, ``country``, ``currency``, ``language`` or ``sector``.

        Records carry ``code`` and ``name`` (what bookingtime's own plugins read); sector codes
        look like ``"01ab"``, the code an ORGANIZATION's ``sector`` holds.

        Example:
            >>> {c["code"]: c["name"] for c in client.static_list("country")}["DE"]  # doctest: +SKIP
            'Germany'
        """
        if kind not in STATIC_LISTS:
            raise ValueError(f"unknown static list {kind!r}; known: {', '.join(STATIC_LISTS)}")
        return self._list("static_list", None, kind=kind)

    def time_zones(self) -> list[dict[str, Any]]:
        """The static list of time zones.

        Example:
            >>> len(client.time_zones()) > 0                                 # doctest: +SKIP
            True
        """
        return self.static_list("timeZone")

    def countries(self) -> list[dict[str, Any]]:
        """The static list of countries.

        Example:
            >>> client.countries()[0]                                        # doctest: +SKIP
        """
        return self.static_list("country")

    def currencies(self) -> list[dict[str, Any]]:
        """The static list of currencies.

        Example:
            >>> client.currencies()[0]                                       # doctest: +SKIP
        """
        return self.static_list("currency")

    def languages(self) -> list[dict[str, Any]]:
        """The static list of languages.

        Example:
            >>> client.languages()[0]                                        # doctest: +SKIP
        """
        return self.static_list("language")

    # -- DataFrames (bt_explore.frames) -----------------------------------------------------

    def templates_df(self, *, organization_id: str | None = None) -> pd.DataFrame:
        """The templates as a DataFrame (:func:`bt_explore.frames.templates_frame`).

        Example:
            >>> client.templates_df()[["name", "duration"]]                  # doctest: +SKIP
        """
        from bt_explore.frames import templates_frame

        return templates_frame(self.templates(organization_id=organization_id))

    def organizations_df(
        self, *, module_id: str | None = None, organization_id: str | None = None
    ) -> pd.DataFrame:
        """The organization's branches as a DataFrame
        (:func:`bt_explore.frames.organizations_frame`).

        Example:
            >>> client.organizations_df()[["custom_id", "city"]]              # doctest: +SKIP
        """
        from bt_explore.frames import organizations_frame

        return organizations_frame(
            self.branches(module_id=module_id, organization_id=organization_id)
        )

    def resources_df(self, *, organization_id: str | None = None) -> pd.DataFrame:
        """The resources as a DataFrame (:func:`bt_explore.frames.resources_frame`).

        Example:
            >>> client.resources_df()                                        # doctest: +SKIP
        """
        from bt_explore.frames import resources_frame

        return resources_frame(self.resources(organization_id=organization_id))

    def slots_df(
        self,
        template_id: str,
        start: date | datetime | str,
        end: date | datetime | str,
        *,
        organization_id: str | None = None,
    ) -> pd.DataFrame:
        """The free slots in ``[start, end)`` as a DataFrame with start and end times.

        Example:
            >>> client.slots_df(template_id, "2026-12-01", "2026-12-08")     # doctest: +SKIP
        """
        from bt_explore.frames import slots_frame

        content = self.slots(template_id, start, end, organization_id=organization_id)
        template = self._known_template(template_id, organization_id)
        return slots_frame(content, template=template)

    def earliest_slot_df(
        self, template_id: str, *, organization_id: str | None = None
    ) -> pd.DataFrame:
        """The earliest slot(s) as a DataFrame.

        Example:
            >>> client.earliest_slot_df(template_id)                         # doctest: +SKIP
        """
        from bt_explore.frames import slots_frame

        content = self.earliest_slot(template_id, organization_id=organization_id)
        template = self._known_template(template_id, organization_id)
        return slots_frame(content, template=template)

    def appointment_df(
        self, appointment_id: str, *, organization_id: str | None = None
    ) -> pd.DataFrame:
        """One appointment as a one-row DataFrame (:func:`bt_explore.frames.appointments_frame`).

        Example:
            >>> client.appointment_df(appointment["id"]).T                   # doctest: +SKIP
        """
        from bt_explore.frames import appointments_frame

        return appointments_frame(
            [self.appointment(appointment_id, organization_id=organization_id)]
        )

    # -- custom entities ----------------------------------------------------------------------

    def add_custom_entity(
        self,
        entity_type: str,
        name: str,
        *,
        custom_id: str | None = None,
        notes: str | None = None,
        additional_data: Mapping[str, list[str]] | None = None,
        organization_id: str | None = None,
        **fields: Any,
    ) -> dict[str, Any]:
        """Add a custom entity of ``entity_type`` (``course``, ``rentalCar``…); returns the
        CUSTOM_ENTITY (201). Its ``custom_id`` must be unique in its type (else
        :class:`~bt_explore.ValidationError`, nothing stored). Other body fields pass through
        ``**fields``.

        Example:
            >>> car = client.add_custom_entity("rentalCar", "CB Testentity", custom_id="667")
            ... # doctest: +SKIP
            >>> car["class"], car["type"]                                      # doctest: +SKIP
            ('CUSTOM_ENTITY', 'rentalCar')
        """
        body: dict[str, Any] = {"name": name, **fields}
        for key, value in (
            ("customId", custom_id),
            ("notes", notes),
            ("additionalData", additional_data),
        ):
            if value is not None:
                body[key] = dict(value) if isinstance(value, Mapping) else value
        return self.call(
            "custom_entity_add",
            json=body,
            organization_id=organization_id,
            custom_entity_type=entity_type,
        ).content

    def custom_entity(
        self, entity_type: str, entity_id: str, *, organization_id: str | None = None
    ) -> dict[str, Any]:
        """One CUSTOM_ENTITY by type and id.

        Example:
            >>> client.custom_entity("course", "6T...")["name"]                # doctest: +SKIP
        """
        return self._get(
            "custom_entity_show",
            organization_id,
            custom_entity_type=entity_type,
            custom_entity_id=entity_id,
        )

    def custom_entity_by_custom_id(
        self, entity_type: str, custom_id: str, *, organization_id: str | None = None
    ) -> dict[str, Any]:
        """One CUSTOM_ENTITY by type and ``customId`` (raises :class:`~bt_explore.NotFound`).

        Example:
            >>> client.custom_entity_by_custom_id("equipment", "projector")["name"]
            ... # doctest: +SKIP
            'Projector'
        """
        return self._get(
            "custom_entity_identify",
            organization_id,
            custom_entity_type=entity_type,
            custom_id=custom_id,
        )

    def custom_entities(
        self, entity_type: str, *, organization_id: str | None = None
    ) -> list[dict[str, Any]]:
        """The organization's custom entities of one type (CUSTOM_ENTITY_SHORTs).

        Example:
            >>> [e["customId"] for e in client.custom_entities("course")]    # doctest: +SKIP
            ['nutrition-basics', 'back-fit', 'online-coaching']
        """
        return self._list("custom_entity_list", organization_id, custom_entity_type=entity_type)

    def appointment_custom_entities(
        self, appointment_id: str, entity_type: str, *, organization_id: str | None = None
    ) -> list[dict[str, Any]]:
        """The custom entities of one type linked to an appointment.

        Example:
            >>> client.appointment_custom_entities("ed...", "equipment")      # doctest: +SKIP
        """
        return self._list(
            "appointment_custom_entity_list",
            organization_id,
            appointment_id=appointment_id,
            custom_entity_type=entity_type,
        )

    def resource_custom_entities(
        self, resource_id: str, entity_type: str, *, organization_id: str | None = None
    ) -> list[dict[str, Any]]:
        """The custom entities of one type linked to a booking resource.

        Example:
            >>> client.resource_custom_entities("br...", "equipment")         # doctest: +SKIP
        """
        return self._list(
            "resource_custom_entity_list",
            organization_id,
            resource_id=resource_id,
            custom_entity_type=entity_type,
        )

    def template_custom_entities(
        self, template_id: str, entity_type: str, *, organization_id: str | None = None
    ) -> list[dict[str, Any]]:
        """The custom entities of one type linked to a booking template.

        Example:
            >>> client.template_custom_entities("fc...", "course")            # doctest: +SKIP
        """
        return self._list(
            "template_custom_entity_list",
            organization_id,
            template_id=template_id,
            custom_entity_type=entity_type,
        )

    def linked_custom_entities(
        self, entity_id: str, entity_type: str, *, organization_id: str | None = None
    ) -> list[dict[str, Any]]:
        """The custom entities of ``entity_type`` linked to the custom entity ``entity_id``.

        Example:
            >>> client.linked_custom_entities("6T...", "equipment")           # doctest: +SKIP
        """
        return self._list(
            "custom_entity_custom_entity_list",
            organization_id,
            custom_entity_id=entity_id,
            custom_entity_type=entity_type,
        )

    def custom_entity_templates(
        self, entity_type: str, entity_id: str, *, organization_id: str | None = None
    ) -> list[dict[str, Any]]:
        """The BOOKING_TEMPLATEs linked to a custom entity.

        Example:
            >>> [t["name"] for t in client.custom_entity_templates("course", "6T...")]
            ... # doctest: +SKIP
        """
        records = self._list(
            "custom_entity_template_list",
            organization_id,
            custom_entity_type=entity_type,
            custom_entity_id=entity_id,
        )
        self._remember_templates(records)
        return records

    def custom_entity_resources(
        self, entity_type: str, entity_id: str, *, organization_id: str | None = None
    ) -> list[dict[str, Any]]:
        """The BOOKING_RESOURCEs linked to a custom entity.

        Example:
            >>> client.custom_entity_resources("equipment", "6T...")          # doctest: +SKIP
        """
        return self._list(
            "custom_entity_resource_list",
            organization_id,
            custom_entity_type=entity_type,
            custom_entity_id=entity_id,
        )

    def custom_entities_df(
        self, entity_type: str, *, organization_id: str | None = None
    ) -> pd.DataFrame:
        """The custom entities of one type as a DataFrame
        (:func:`bt_explore.frames.custom_entities_frame`).

        Example:
            >>> client.custom_entities_df("equipment")[["customId", "name"]]  # doctest: +SKIP
        """
        from bt_explore.frames import custom_entities_frame

        return custom_entities_frame(
            self.custom_entities(entity_type, organization_id=organization_id),
            entity_type=entity_type,
        )

    # -- memory of what the API said ----------------------------------------------------------

    def _remember_templates(self, records: Iterable[Any]) -> None:
        with self._lock:
            for record in records:
                if isinstance(record, dict) and record.get("id"):
                    self._templates[str(record["id"])] = record

    def _remember_slots(
        self,
        template_id: str,
        content: dict[str, Any],
        organization_id: str | None,
        key: str = "list",
    ) -> dict[str, Any]:
        self._remember_slot_ids(
            template_id,
            [str(s["id"]) for s in content[key] if isinstance(s, dict) and s.get("id")],
        )
        self._remember_time_zone(organization_id, content.get("timeZone"))
        return content

    def _remember_time_zone(self, organization_id: str | None, zone: Any) -> None:
        """Keep the time zone a slot answer named for its organization (saves a request)."""
        org = organization_id or self.settings.organization_id
        if zone and org:
            with self._lock:
                self._time_zones[org] = str(zone)

    def _remember_slot_ids(self, template_id: str, slot_ids: Iterable[str]) -> None:
        batch = dict.fromkeys(slot_ids, template_id)
        with self._lock:
            self._slot_templates.add(batch)

    def _known_template(self, template_id: str, organization_id: str | None) -> dict[str, Any]:
        with self._lock:
            known = self._templates.get(template_id)
        return (
            known
            if known is not None
            else self.template(template_id, organization_id=organization_id)
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

    def _time_zone(self, organization_id: str | None) -> str:
        org = self.settings.require_organization(organization_id)
        zone = self._time_zones.get(org)
        if zone is None:
            content = self.organization(organization_id=org)
            zone = str((content.get("timeZone") if isinstance(content, dict) else None) or "UTC")
            self._time_zones[org] = zone
        return zone


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


def _segment(name: str, value: Any) -> str:
    """One path segment: any text encoded so that it cannot change the route it is put in.

    ``/`` and the like are percent-encoded. ``.`` and ``..`` cannot be sent at all: HTTP
    libraries (requests, urllib3) and servers read them as "this" and "the parent" folder, even
    when encoded as ``%2E``, so the request would go to another route.
    """
    if isinstance(value, bool) or not isinstance(value, (str, int)):
        raise TypeError(f"{name} must be a string, got {type(value).__name__}: {value!r}")
    text = str(value)
    if not text.strip():
        raise ValueError(f"{name} must not be empty")
    if text in (".", ".."):
        raise ValueError(f"{name} cannot be {text!r}: in a URL it names a folder, not a value")
    return quote(text, safe="")


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
        problems.append(Message("failure", "bookingSlotId", rules.TEXTS["required"]))
    found = rules.booking_problems(customer, template=template, address=address)
    return problems + [Message("failure", p.parameter, p.text) for p in found]


def _reason(exc: requests.RequestException) -> Any:
    """The urllib3 error beneath a requests error (inside ``MaxRetryError`` after retries)."""
    reason: Any = exc.args[0] if exc.args else None
    return getattr(reason, "reason", reason)


def _maybe_sent(exc: requests.RequestException) -> bool:
    """Whether a failed request may have reached the server (False only when it surely did not)."""
    if isinstance(exc, requests.ConnectTimeout):
        return False
    return not isinstance(_reason(exc), (NewConnectionError, ConnectTimeoutError))


def _timed_out(exc: requests.RequestException) -> bool:
    """Whether the server took longer than the read timeout (it may still be working)."""
    return isinstance(exc, requests.ReadTimeout) or isinstance(_reason(exc), ReadTimeoutError)


def _describe(exc: requests.RequestException) -> str:
    if not _maybe_sent(exc):
        # urllib3's NewConnectionError (refused) is a kind of ConnectTimeoutError
        refused = isinstance(_reason(exc), NewConnectionError)
        return "connection refused" if refused else "timed out connecting"
    if _timed_out(exc):
        return "timed out waiting for the answer"
    if isinstance(exc, requests.ConnectionError):
        return "connection dropped without an answer"
    return f"request failed ({type(exc).__name__})"
