"""The slot periods — a day, an ISO week, a month — and the endpoint that lists each, in one table.

Every place that turns a period into a slot call reads :data:`PERIODS`: the client's
``slots_day/week/month``, ``slot_period()``, ``slot_period_frame()`` and ``slots()``, the scan's
calls and the explorer's day and week views. :func:`plan` picks the fewest periods that cover a
range of days.

Example:
    >>> from datetime import date
    >>> week = PERIODS["week"]
    >>> week.endpoint, week.path(date(2026, 12, 2))
    ('slot_list_week', {'year': 2026, 'week': 49})
    >>> [d.isoformat() for d in week.span(date(2026, 12, 2))]
    ['2026-11-30', '2026-12-07']
"""

from __future__ import annotations

import calendar
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Literal

from bt_explore.endpoints import ENDPOINTS

__all__ = ["KINDS", "PERIODS", "Kind", "Period", "period", "plan"]

Kind = Literal["day", "week", "month"]


@dataclass(frozen=True)
class Period:
    """One kind of slot period: how to find the period around a day, and the call that lists it.

    Example:
        >>> PERIODS["month"].args(date(2026, 12, 9))
        (2026, 12)
        >>> PERIODS["month"].first_of((2026, 12))
        datetime.date(2026, 12, 1)
    """

    kind: Kind
    #: the row of :data:`bt_explore.endpoints.ENDPOINTS` that lists this period's slots
    endpoint: str
    #: the first day of the period containing a day
    start: Callable[[date], date]
    #: the path arguments of the endpoint for the period containing a day
    path: Callable[[date], dict[str, int]]
    #: the first day of the period that path arguments (in the endpoint's order) name
    first_of: Callable[[tuple[int, ...]], date]

    @property
    def label(self) -> str:
        """The endpoint's last path segment, as bookingtime names the call (``listWeek``)."""
        return ENDPOINTS[self.endpoint].path.rsplit("/", 1)[-1]

    def span(self, day: date) -> tuple[date, date]:
        """The days ``[first, stop)`` of the period containing ``day``."""
        first = self.start(day)
        return first, _next(self.kind, first)

    def args(self, day: date) -> tuple[int, ...]:
        """The endpoint's path arguments for the period containing ``day``, in order."""
        return tuple(self.path(day).values())


def _next(kind: Kind, first: date) -> date:
    if kind == "month":
        return first + timedelta(days=calendar.monthrange(first.year, first.month)[1])
    return first + timedelta(days=7 if kind == "week" else 1)


def _week_path(day: date) -> dict[str, int]:
    year, week, _ = day.isocalendar()
    return {"year": year, "week": week}


#: The three slot periods by kind, shortest first.
PERIODS: dict[str, Period] = {
    p.kind: p
    for p in (
        Period(
            "day",
            "slot_list_day",
            start=lambda d: d,
            path=lambda d: {"year": d.year, "month": d.month, "day": d.day},
            first_of=lambda a: date(a[0], a[1], a[2]),
        ),
        Period(
            "week",
            "slot_list_week",
            start=lambda d: d - timedelta(days=d.weekday()),
            path=_week_path,
            first_of=lambda a: date.fromisocalendar(a[0], a[1], 1),
        ),
        Period(
            "month",
            "slot_list_month",
            start=lambda d: d.replace(day=1),
            path=lambda d: {"year": d.year, "month": d.month},
            first_of=lambda a: date(a[0], a[1], 1),
        ),
    )
}

#: The period kinds, shortest first.
KINDS: tuple[str, ...] = tuple(PERIODS)


def period(kind: str) -> Period:
    """The :class:`Period` of ``kind``; a ``ValueError`` naming the kinds for anything else.

    Example:
        >>> period("day").endpoint
        'slot_list_day'
        >>> period("year")
        Traceback (most recent call last):
        ValueError: kind: must be 'day', 'week' or 'month', got 'year'
    """
    found = PERIODS.get(kind) if isinstance(kind, str) else None
    if found is None:
        raise ValueError(f"kind: must be 'day', 'week' or 'month', got {kind!r}")
    return found


def plan(first: date, stop: date) -> list[tuple[Period, date]]:
    """The fewest periods covering the days ``[first, stop)``, each with its first day.

    Ties go to the plan that fetches fewer days; periods come in date order. No two periods
    share a day: only the first may reach back before ``first`` and only the last past
    ``stop``, so no period is sent twice.

    Example:
        >>> [(p.kind, d.isoformat()) for p, d in plan(date(2026, 12, 7), date(2026, 12, 14))]
        [('week', '2026-12-07')]
        >>> [(p.kind, d.isoformat()) for p, d in plan(date(2026, 12, 30), date(2027, 1, 2))]
        [('week', '2026-12-28')]
    """
    n = (stop - first).days
    if n <= 0:
        return []
    # best[i] = (calls, fetched days, period, its first day, next index) covering days i..n-1
    best: list[tuple[int, int, Period | None, date, int]] = [(0, 0, None, first, n)] * (n + 1)
    for i in range(n - 1, -1, -1):
        d = first + timedelta(days=i)
        choice = None
        for p in PERIODS.values():
            start, end = p.span(d)
            if i and start < d:  # would fetch days the previous call already fetched
                continue
            j = min(n, (end - first).days)
            cost = (1 + best[j][0], (end - start).days + best[j][1])
            if choice is None or cost < choice[0]:
                choice = (cost, p, start, j)
        assert choice is not None
        best[i] = (choice[0][0], choice[0][1], choice[1], choice[2], choice[3])
    result = []
    i = 0
    while i < n:
        _, _, chosen, start, j = best[i]
        assert chosen is not None
        result.append((chosen, start))
        i = j
    return result
