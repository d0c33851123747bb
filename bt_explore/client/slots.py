"""The client's slot methods: earliest, a day, week or month, any range, and their DataFrames.

Every period call reads :data:`bt_explore.periods.PERIODS`; :meth:`SlotMethods.slots_frame` goes
the scan's road (raw answer → :func:`bt_explore.frames.slot_piece` → one frame), so each
timestamp is parsed once.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone, tzinfo
from datetime import time as dtime
from typing import TYPE_CHECKING, Any

import numpy as np
import requests

import bt_explore.times as times
from bt_explore import models
from bt_explore.auth import now_seconds
from bt_explore.client.entities import EntityMethods
from bt_explore.deprecation import renamed_method
from bt_explore.errors import decode_envelope, raise_for_answer
from bt_explore.models import wire_names
from bt_explore.periods import PERIODS, Period, period, plan

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd

    from bt_explore.frames import SlotPiece

__all__ = ["SlotMethods", "plan_slot_calls"]

log = logging.getLogger(__name__)

# the wire names of the slot answers, from their models
_RANGE = wire_names(models.RangeList)
_EARLIEST = wire_names(models.Earliest)
_SLOT = wire_names(models.BookingSlot)
_TAG = str(models.BookingSlot.__struct_config__.tag_field)  # "class"
_SLOT_TAG = str(models.BookingSlot.__struct_config__.tag)  # "BOOKING_SLOT"
_RANGE_TAG = str(models.RangeList.__struct_config__.tag)  # "RANGE_LIST"


def _slot_range(content: Any, key: str = _RANGE.list) -> dict[str, Any]:
    """Normalize slot content: always a dict whose ``key`` holds the list of slots.

    A RANGE_LIST says ``list`` (``key="list"``); the earliest answer says ``bookingSlotList``
    (``key="bookingSlotList"``). Either name is read, the one ``key`` names first, and a bare
    BOOKING_SLOT counts as a list of one; the other name is dropped so users index one key.
    """
    other = _RANGE.list if key == _EARLIEST.booking_slot_list else _EARLIEST.booking_slot_list
    empty = {_RANGE.range_start: None, _RANGE.range_end: None, _RANGE.time_zone: None}
    if isinstance(content, dict) and content.get(_TAG) == _SLOT_TAG:
        return {**empty, key: [content]}
    if not isinstance(content, dict):
        return {**empty, key: []}
    slots = content.get(key)
    if not isinstance(slots, list):
        slots = content.get(other)
    result = {k: v for k, v in content.items() if k != other}
    result[key] = list(slots) if isinstance(slots, list) else []
    return result


def _slot_time(slot: Any) -> datetime | None:
    """A slot's aware ``timestamp``; ``None`` for a slot without a usable one."""
    value = slot.get(_SLOT.timestamp) if isinstance(slot, dict) else None
    if not isinstance(value, str):
        return None
    try:
        ts = times.parse_timestamp(value)
    except ValueError:
        return None
    return ts if ts.tzinfo is not None else None


def plan_slot_calls(first: date, stop: date) -> list[tuple[str, tuple[int, ...]]]:
    """The fewest day/week/month slot calls covering the days ``[first, stop)``
    (:func:`bt_explore.periods.plan`, as kinds and path arguments).

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
    return [(p.kind, p.args(day)) for p, day in plan(first, stop)]


@dataclass(frozen=True)
class _Window:
    """What ``slots(start, end)`` asks for: whole days ``[lo_day, hi_day)`` (``lo``/``hi``
    ``None``) or the instants ``[lo, hi)`` (``tz``: the organization's zone), and the calls."""

    lo_day: date
    hi_day: date
    lo: datetime | None
    hi: datetime | None
    tz: tzinfo | None
    calls: list[tuple[Period, date]]

    def zone(self, answered: Any, fallback: Any) -> tzinfo:
        """The zone the range is read in: the organization's for instants, else the one the
        answers name, else ``fallback()``'s."""
        return self.tz or times.zone(answered or fallback()) or timezone.utc

    def bounds(self, tz: tzinfo) -> tuple[datetime, datetime]:
        """The range's first and end instants, in ``tz``."""
        if self.lo is None or self.hi is None:
            return datetime.combine(self.lo_day, dtime(), tz), datetime.combine(
                self.hi_day, dtime(), tz
            )
        return self.lo.astimezone(tz), self.hi.astimezone(tz)

    def holds(self, ts: datetime, tz: tzinfo) -> bool:
        """Whether the instant ``ts`` is in the range (whole days: by its date in ``tz``)."""
        if self.lo is None or self.hi is None:
            return self.lo_day <= ts.astimezone(tz).date() < self.hi_day
        return self.lo <= ts < self.hi


def _utc64(moment: datetime) -> np.datetime64:
    """An aware datetime as naive UTC ``datetime64[us]``, like a slot piece's ``start``."""
    return np.datetime64(moment.astimezone(timezone.utc).replace(tzinfo=None), "us")


def _slots_within(pieces: list[dict[str, Any]], window: _Window, tz: tzinfo) -> list[Any]:
    """The slots of RANGE_LIST contents inside ``window``, unique and sorted by time."""
    seen: dict[str, tuple[datetime, dict[str, Any]]] = {}
    for piece in pieces:
        for slot in piece[_RANGE.list]:
            ts = _slot_time(slot)
            if ts is None:
                log.warning("slots: skipping a slot without a valid timestamp: %.80r", slot)
            elif window.holds(ts, tz):
                seen.setdefault(f"{slot.get(_SLOT.id)}@{slot[_SLOT.timestamp]}", (ts, slot))
    return [slot for _, slot in sorted(seen.values(), key=lambda pair: pair[0])]


def _piece_within(pieces: list[SlotPiece], window: _Window, tz: tzinfo) -> SlotPiece:
    """The slots of decoded answers inside ``window``: unique (id and time), sorted by time
    (stable: the API's order among equal times), like :func:`_slots_within`."""
    import pandas as pd

    from bt_explore.frames import SlotPiece, slot_piece

    if not pieces:
        return slot_piece([])
    whole = SlotPiece(
        np.concatenate([p.ids for p in pieces]),
        np.concatenate([p.start for p in pieces]),
        np.concatenate([p.combos for p in pieces]),
        np.concatenate([p.counts for p in pieces]),
        pieces[0].time_zone,
        all(p.complete for p in pieces),
    )
    unreadable = int(np.isnat(whole.start).sum())
    if unreadable:
        log.warning("slots: skipping %d slots without a valid timestamp", unreadable)
    lo, hi = (_utc64(b) for b in window.bounds(tz))
    keep = (whole.start >= lo) & (whole.start < hi)
    keep &= ~pd.MultiIndex.from_arrays([whole.ids, whole.start]).duplicated()
    kept = whole.take(np.flatnonzero(keep))
    return kept.take(np.argsort(kept.start, kind="stable"))


class SlotMethods(EntityMethods):
    """Free slots: the earliest, a day, week or month, and any range."""

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
        key = _EARLIEST.booking_slot_list
        return self._remember_slots(template_id, _slot_range(content, key), organization_id, key)

    def slot_period(
        self,
        template_id: str,
        kind: str,
        day: date | str,
        *,
        organization_id: str | None = None,
    ) -> dict[str, Any]:
        """The free slots of the ``"day"``, ISO ``"week"`` or ``"month"`` containing ``day``
        (RANGE_LIST content): one ``listDay`` / ``listWeek`` / ``listMonth`` call.

        Example:
            >>> week = client.slot_period(template_id, "week", date(2026, 12, 2))  # doctest: +SKIP
            >>> week["rangeStart"]                                                  # doctest: +SKIP
            '2026-11-30T00:00:00+01:00'
        """
        p = period(kind)
        path = p.path(times.as_date(day, "day"))
        return self._slot_list(p.endpoint, template_id, organization_id, **path)

    def slots_day(
        self, template_id: str, day: date | str, *, organization_id: str | None = None
    ) -> dict[str, Any]:
        """The free slots of one day (RANGE_LIST content).

        Example:
            >>> len(client.slots_day(template_id, date(2026, 12, 2))["list"])  # doctest: +SKIP
            28
        """
        path = PERIODS["day"].path(times.as_date(day, "day"))
        return self._slot_list("slot_list_day", template_id, organization_id, **path)

    def slots_week(
        self, template_id: str, year: int, week: int, *, organization_id: str | None = None
    ) -> dict[str, Any]:
        """The free slots of one ISO week (RANGE_LIST content).

        Example:
            >>> client.slots_week(template_id, 2026, 49)["rangeStart"]      # doctest: +SKIP
            '2026-11-30T00:00:00+01:00'
        """
        return self._slot_list("slot_list_week", template_id, organization_id, year=year, week=week)

    def slots_month(
        self, template_id: str, year: int, month: int, *, organization_id: str | None = None
    ) -> dict[str, Any]:
        """The free slots of one month (RANGE_LIST content).

        Example:
            >>> len(client.slots_month(template_id, 2026, 12)["list"])       # doctest: +SKIP
            412
        """
        return self._slot_list(
            "slot_list_month", template_id, organization_id, year=year, month=month
        )

    def _slot_list(
        self, endpoint: str, template_id: str, organization_id: str | None, **path: int
    ) -> dict[str, Any]:
        content = self._get(endpoint, organization_id, template_id=template_id, **path)
        return self._remember_slots(template_id, _slot_range(content), organization_id)

    def slot_period_frame(
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
        dicts in between), the path every call of :func:`bt_explore.scan_slots` takes.
        ``template`` is a template dict (its ``duration`` gives ``end``) or a template id; times
        are shown in ``tz``, else in the answer's time zone. The slot ids are remembered like
        ``slots_day()`` & co. do, so ``book(slot_id)`` can check the template's required fields
        without another request.

        Example:
            >>> df = client.slot_period_frame(template_id, "week", "2026-12-02")  # doctest: +SKIP
            >>> df["start"].min()                                               # doctest: +SKIP
            Timestamp('2026-11-30 08:00:00+0100', tz='Europe/Berlin')
        """
        from bt_explore.frames import slot_table, template_identity

        if isinstance(template, str):
            template = self._known_template(template, organization_id)
        template_id, duration = template_identity(template)
        tid = str(template_id or "")
        answer = self._slot_period_answer(tid, kind, day, organization_id)
        piece = self._slot_period_piece(tid, answer, organization_id)
        return slot_table(
            [(piece, template_id, duration)], times.resolve_zone(tz, piece.time_zone, "slots")
        )

    def _slot_period_answer(
        self,
        template_id: str,
        kind: str,
        day: date | str,
        organization_id: str | None = None,
    ) -> requests.Response:
        """Send one ``listDay`` / ``listWeek`` / ``listMonth`` call (``kind``: ``"day"``,
        ``"week"`` or ``"month"``, the period containing ``day``); its 2xx answer, undecoded.

        Typed errors for the others, as every call. A scan's worker threads only wait for
        answers like this and leave the decoding to :meth:`_slot_period_piece`.
        """
        p = period(kind)
        path = p.path(times.as_date(day, "day"))
        url = self.url(p.endpoint, organization_id=organization_id, template_id=template_id, **path)
        response = self._send("GET", url, self._organization_of(p.endpoint, organization_id))
        raise_for_answer(response)
        return response

    def _slot_period_piece(
        self,
        template_id: str,
        response: requests.Response,
        organization_id: str | None = None,
    ) -> SlotPiece:
        """Decode an answer of :meth:`_slot_period_answer` into slot columns
        (:class:`bt_explore.frames.SlotPiece`, no frame yet) and remember its slots, like
        ``slots_day()`` & co., so that ``book(slot_id)`` knows their template.
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

    slot_period_answer = renamed_method(
        "slot_period_answer", "_slot_period_answer", "use slot_period_frame() or scan_slots()"
    )
    slot_period_piece = renamed_method(
        "slot_period_piece", "_slot_period_piece", "use slot_period_frame() or scan_slots()"
    )

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
        window = self._slot_window(start, end, organization_id)
        pieces = [
            self.slot_period(template_id, p.kind, day, organization_id=organization_id)
            for p, day in window.calls
        ]
        zone = next((p[_RANGE.time_zone] for p in pieces if p.get(_RANGE.time_zone)), None)
        tz = window.zone(zone, lambda: self._time_zone(organization_id))
        lo, hi = window.bounds(tz)
        return {
            _TAG: _RANGE_TAG,
            _RANGE.range_start: lo.isoformat(),
            _RANGE.range_end: hi.isoformat(),
            _RANGE.time_zone: zone or str(tz),
            _RANGE.list: _slots_within(pieces, window, tz),
        }

    def _slot_window(
        self,
        start: date | datetime | str,
        end: date | datetime | str,
        organization_id: str | None,
    ) -> _Window:
        """The range ``slots()`` and ``slots_frame()`` read, checked, and the calls covering it."""
        if not isinstance(start, datetime) and not isinstance(end, datetime):
            lo_day, hi_day = times.as_date(start, "start"), times.as_date(end, "end")
            if hi_day <= lo_day:
                raise ValueError(f"end ({hi_day}) must be after start ({lo_day})")
            first, stop, lo, hi, tz = lo_day, hi_day, None, None, None
        else:
            tz = times.zone(self._time_zone(organization_id)) or timezone.utc
            lo, hi = times.aware(start, tz, "start"), times.aware(end, tz, "end")
            if hi <= lo:
                raise ValueError(f"end ({hi.isoformat()}) must be after start ({lo.isoformat()})")
            first = lo_day = lo.astimezone(tz).date()
            stop = hi_day = (hi - timedelta(microseconds=1)).astimezone(tz).date() + timedelta(
                days=1
            )
        first = self._first_askable_day(first, organization_id)
        return _Window(lo_day, hi_day, lo, hi, tz, plan(first, stop))

    def _first_askable_day(self, first: date, organization_id: str | None) -> date:
        """``first``, or the organization's today if ``first`` lies before it: the API refuses
        periods that end before today (and the past has no free slots)."""
        now = now_seconds(self.clock)
        # No time zone is more than 14 hours ahead of UTC: a later day needs no look-up.
        if first > (datetime.fromtimestamp(now, timezone.utc) + timedelta(hours=14)).date():
            return first
        today = datetime.fromtimestamp(now, times.zone(self._time_zone(organization_id))).date()
        return max(first, today)

    def slots_frame(
        self,
        template_id: str,
        start: date | datetime | str,
        end: date | datetime | str,
        *,
        organization_id: str | None = None,
    ) -> pd.DataFrame:
        """The free slots in ``[start, end)`` as a DataFrame with start and end times: the
        rows of :meth:`slots`, decoded the way :func:`bt_explore.scan_slots` decodes (each
        answer straight from bytes, each timestamp parsed once).

        Example:
            >>> client.slots_frame(template_id, "2026-12-01", "2026-12-08")     # doctest: +SKIP
        """
        from bt_explore.frames import slot_table, template_identity

        window = self._slot_window(start, end, organization_id)
        pieces = [
            self._slot_period_piece(
                template_id,
                self._slot_period_answer(template_id, p.kind, day, organization_id),
                organization_id,
            )
            for p, day in window.calls
        ]
        zone = next((p.time_zone for p in pieces if p.time_zone), None)
        tz = window.zone(zone, lambda: self._time_zone(organization_id))
        piece = _piece_within(pieces, window, tz)
        tid, duration = template_identity(self._known_template(template_id, organization_id))
        return slot_table(
            [(piece, tid, duration)], times.resolve_zone(None, zone or str(tz), "slots")
        )

    def earliest_slot_frame(
        self, template_id: str, *, organization_id: str | None = None
    ) -> pd.DataFrame:
        """The earliest slot(s) as a DataFrame.

        Example:
            >>> client.earliest_slot_frame(template_id)                         # doctest: +SKIP
        """
        from bt_explore.frames import slots_frame

        content = self.earliest_slot(template_id, organization_id=organization_id)
        template = self._known_template(template_id, organization_id)
        return slots_frame(content, template=template)

    def _remember_slots(
        self,
        template_id: str,
        content: dict[str, Any],
        organization_id: str | None,
        key: str = _RANGE.list,
    ) -> dict[str, Any]:
        self._remember_slot_ids(
            template_id,
            [str(s[_SLOT.id]) for s in content[key] if isinstance(s, dict) and s.get(_SLOT.id)],
        )
        self._remember_time_zone(organization_id, content.get(_RANGE.time_zone))
        return content

    # -- old names, kept for one release

    slots_df = renamed_method("slots_df", "slots_frame")
    earliest_slot_df = renamed_method("earliest_slot_df", "earliest_slot_frame")
    slot_period_df = renamed_method("slot_period_df", "slot_period_frame")
