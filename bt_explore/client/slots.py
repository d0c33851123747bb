"""The client's slot methods: earliest, day/week/month, any range, and their DataFrames."""

from __future__ import annotations

import calendar
import logging
from collections.abc import Mapping
from datetime import date, datetime, timedelta, timezone
from datetime import time as dtime
from typing import TYPE_CHECKING, Any

import requests

import bt_explore.times as times
from bt_explore.auth import now_seconds
from bt_explore.client.entities import EntityMethods
from bt_explore.errors import decode_envelope, raise_for_answer

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd

    from bt_explore.frames import SlotPiece

__all__ = ["SlotMethods", "plan_slot_calls"]

log = logging.getLogger(__name__)


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
    ``("week", (iso_year, iso_week))`` or ``("month", (y, m))``, in date order.

    Example:
        >>> from datetime import date
        >>> plan_slot_calls(date(2026, 12, 1), date(2027, 1, 1))
        [('month', (2026, 12))]
        >>> plan_slot_calls(date(2026, 12, 7), date(2026, 12, 14))   # Monday to Monday
        [('week', (2026, 50))]
        >>> plan_slot_calls(date(2026, 12, 30), date(2027, 1, 2))    # across the new year
        [('week', (2026, 53))]
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
            (("day", (d.year, d.month, d.day)), d + timedelta(days=1), 1),
            (("week", (iso[0], iso[1])), monday + timedelta(days=7), 7),
            (("month", (d.year, d.month)), month_end, month_days),
        ]
        choice = None
        for call, end, size in options:
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
