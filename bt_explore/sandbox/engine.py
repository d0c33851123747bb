"""The sandbox's slot engine: which start times a booking template has free, and slot ids.

A template's slots lie on a 15-minute grid that starts at each opening interval of its
organization (local time, DST-correct through :mod:`zoneinfo`). A start ``s`` is free for a
*combination* (one resource per booking step) when

- the whole block ``[s - leadTime, s + duration + followupTime)`` lies inside one opening
  interval of that day, and every resource of the combination works on that weekday;
- no resource of the combination is busy during the block (busy = the blocks of its
  non-canceled appointments);
- ``s >= now + bookingLeadTime`` minutes, and the local date of ``s`` lies between
  ``today + bookingDayEarliest`` and ``today + bookingDayLatest`` (inclusive, organization time
  zone).

Busy intervals are kept per resource as sorted tuples, so a check is two bisections and a month
of a template costs a few thousand of them. A day's candidate starts (:class:`DayGrid`) depend on
the data files only; :func:`free_groups` filters them by clock and bookings.

Slot ids are deterministic and self-describing: ``"4f"`` + 30 base-62 characters, fixed-width
fields for (template, start minute, resources), so the server decodes any slot id it ever handed
out — in any sandbox instance over the same data — without keeping a table.

Example:
    >>> codec = SlotCodec(["fc" + "a" * 30], ["br" + "b" * 30])
    >>> sid = codec.encode("fc" + "a" * 30, 1796112000, ("br" + "b" * 30,))
    >>> len(sid), sid[:2]
    (32, '4f')
    >>> codec.decode(sid) == ("fc" + "a" * 30, 1796112000, ("br" + "b" * 30,))
    True
"""

from __future__ import annotations

import bisect
import itertools
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from bt_explore.models import BookingTemplate, Organization, wire_names

__all__ = [
    "GRID_MINUTES",
    "WEEKDAYS",
    "Busy",
    "DayGrid",
    "OrganizationRules",
    "SlotCodec",
    "TemplateRules",
    "day_grid",
    "free_groups",
    "free_slots",
    "local_midnight",
]

#: The slot grid in minutes.
GRID_MINUTES = 15
_ORGANIZATION = wire_names(Organization)
_TEMPLATE = wire_names(BookingTemplate)

#: Weekday names as the data files spell them, Monday first (``date.weekday()`` order).
WEEKDAYS: tuple[str, ...] = (
    "MONDAY",
    "TUESDAY",
    "WEDNESDAY",
    "THURSDAY",
    "FRIDAY",
    "SATURDAY",
    "SUNDAY",
)

#: resource id -> (sorted block starts, matching block ends), epoch seconds; blocks never overlap.
Busy = Mapping[str, tuple[Sequence[int], Sequence[int]]]


def _minutes(hhmm: str) -> int:
    hours, minutes = hhmm.split(":")
    return int(hours) * 60 + int(minutes)


def local_midnight(day: date, tz: ZoneInfo) -> int:
    """Epoch seconds of local midnight of ``day`` in ``tz``.

    Example:
        >>> local_midnight(date(2027, 3, 28), ZoneInfo("Europe/Berlin"))
        1806188400
    """
    return int(datetime.combine(day, time(0), tzinfo=tz).timestamp())


def _local_epoch(day: date, minute_of_day: int, tz: ZoneInfo) -> int:
    if minute_of_day >= 24 * 60:
        return local_midnight(day + timedelta(days=1), tz)
    clock = time(minute_of_day // 60, minute_of_day % 60)
    return int(datetime.combine(day, clock, tzinfo=tz).timestamp())


@dataclass(frozen=True)
class OrganizationRules:
    """An organization's time zone and opening intervals (minutes of the day) per weekday.

    Example:
        >>> org = OrganizationRules.from_entity({"timeZone": "Europe/Berlin", "openingHours": [
        ...     {"weekday": "MONDAY", "start": "08:00", "end": "12:00"}]})
        >>> org.opening[0]
        ((480, 720),)
    """

    tz: ZoneInfo
    opening: tuple[tuple[tuple[int, int], ...], ...]

    @classmethod
    def from_entity(cls, organization: Mapping) -> OrganizationRules:
        """Rules from an ORGANIZATION dict (``timeZone``, ``openingHours``)."""
        per_day: list[list[tuple[int, int]]] = [[] for _ in WEEKDAYS]
        for entry in organization.get(_ORGANIZATION.opening_hours) or []:
            start, end = _minutes(entry["start"]), _minutes(entry["end"])
            if not 0 <= start < end <= 24 * 60:
                raise ValueError(f"openingHours entry {entry!r}: start must be before end")
            per_day[WEEKDAYS.index(entry["weekday"])].append((start, end))
        zone = ZoneInfo(organization[_ORGANIZATION.time_zone])
        return cls(zone, tuple(tuple(sorted(d)) for d in per_day))


@dataclass(frozen=True)
class TemplateRules:
    """What the engine needs of a booking template: timing, booking window, combinations.

    ``combinations`` holds one tuple of resource ids per way to pick one resource per booking
    step (a resource is never picked twice in one combination).
    """

    id: str
    organization_id: str
    duration: int
    lead: int
    followup: int
    booking_lead_minutes: int
    day_earliest: int
    day_latest: int
    combinations: tuple[tuple[str, ...], ...]
    resources: frozenset[str] = field(default_factory=frozenset)
    #: an offline twin's observed free slots (:mod:`bt_explore.sandbox.observed`): inside its
    #: windows they replace the engine's
    observed: Any = field(default=None, compare=False)

    @classmethod
    def from_entity(
        cls, template: Mapping, organization_id: str, steps: Sequence[Sequence[str]]
    ) -> TemplateRules:
        """Rules from a BOOKING_TEMPLATE dict and its steps' resource id lists."""
        combos = tuple(
            combo for combo in itertools.product(*steps) if steps and len(set(combo)) == len(combo)
        )
        return cls(
            id=template["id"],
            organization_id=organization_id,
            duration=int(template["duration"]),
            lead=int(template.get(_TEMPLATE.lead_time) or 0),
            followup=int(template.get(_TEMPLATE.followup_time) or 0),
            booking_lead_minutes=int(template.get(_TEMPLATE.booking_lead_time) or 0),
            day_earliest=int(template.get(_TEMPLATE.booking_day_earliest) or 0),
            day_latest=int(template.get(_TEMPLATE.booking_day_latest) or 0),
            combinations=combos,
            resources=frozenset(r for step in steps for r in step),
        )

    def block(self, start: int) -> tuple[int, int]:
        """The busy block ``[start - lead, start + duration + followup)`` in epoch seconds."""
        return start - self.lead * 60, start + (self.duration + self.followup) * 60

    def window(self, now: int, tz: ZoneInfo) -> tuple[int, date, date]:
        """(earliest allowed start, first bookable local day, last bookable local day)."""
        today = datetime.fromtimestamp(now, tz).date()
        return (
            now + self.booking_lead_minutes * 60,
            today + timedelta(days=self.day_earliest),
            today + timedelta(days=self.day_latest),
        )


@dataclass(frozen=True)
class DayGrid:
    """The static part of one template's slots on one local day: bounds and candidate starts.

    ``candidates`` are the grid starts whose whole block fits an opening interval, in the
    engine's order (opening interval, then time); ``combos`` are the combinations whose
    resources all work that weekday. Nothing here depends on the clock or on bookings.

    Example:
        >>> org = OrganizationRules.from_entity({"timeZone": "UTC", "openingHours": [
        ...     {"weekday": "MONDAY", "start": "09:00", "end": "10:00"}]})
        >>> t = TemplateRules("fc" + "a" * 30, "f6", 30, 0, 0, 0, 0, 1, (("r1",),))
        >>> g = day_grid(org, t, {}, date(2027, 1, 4))
        >>> [(s - g.start) // 60 for s in g.candidates]
        [540, 555, 570]
    """

    day: date
    start: int
    end: int
    candidates: tuple[int, ...]
    combos: tuple[tuple[str, ...], ...]


def day_grid(
    org: OrganizationRules,
    template: TemplateRules,
    working_days: Mapping[str, frozenset[int]],
    day: date,
) -> DayGrid:
    """The :class:`DayGrid` of ``template`` on the local date ``day``.

    Example:
        >>> org = OrganizationRules.from_entity({"timeZone": "Europe/Berlin", "openingHours": [
        ...     {"weekday": "SUNDAY", "start": "10:00", "end": "11:00"}]})
        >>> t = TemplateRules("fc" + "a" * 30, "f6", 30, 0, 0, 0, 0, 1, (("r1",),))
        >>> g = day_grid(org, t, {}, date(2027, 3, 28))  # the spring-forward Sunday: 23 hours
        >>> (g.end - g.start) // 3600, len(g.candidates)
        (23, 3)
    """
    tz = org.tz
    weekday = day.weekday()
    combos = tuple(
        c for c in template.combinations if all(weekday in working_days.get(r, range(7)) for r in c)
    )
    candidates: list[int] = []
    if combos:
        grid = GRID_MINUTES * 60
        lead, tail = template.lead * 60, (template.duration + template.followup) * 60
        for open_min, close_min in org.opening[weekday]:
            open_at = _local_epoch(day, open_min, tz)
            close_at = _local_epoch(day, close_min, tz)
            start = open_at + -(-lead // grid) * grid
            while start + tail <= close_at:
                candidates.append(start)
                start += grid
    return DayGrid(
        day,
        local_midnight(day, tz),
        local_midnight(day + timedelta(days=1), tz),
        tuple(candidates),
        combos,
    )


def free_groups(
    grid: DayGrid,
    template: TemplateRules,
    busy: Busy,
    min_start: int,
    range_start: int | None = None,
    range_end: int | None = None,
    *,
    first_only: bool = False,
) -> list[tuple[int, tuple[tuple[str, ...], ...]]]:
    """The free candidates of one day grid, each with its free combinations, in engine order.

    Only candidates with ``start >= min_start`` (and inside ``[range_start, range_end)`` when
    given) count; the booking window's days are the caller's business. With ``first_only`` the
    first free candidate ends the search.

    Example:
        >>> org = OrganizationRules.from_entity({"timeZone": "UTC", "openingHours": [
        ...     {"weekday": "MONDAY", "start": "09:00", "end": "10:00"}]})
        >>> t = TemplateRules("fc" + "a" * 30, "f6", 30, 0, 0, 0, 0, 1, (("r1",),))
        >>> g = day_grid(org, t, {}, date(2027, 1, 4))
        >>> busy = {"r1": ((g.start + 9 * 3600,), (g.start + 9 * 3600 + 1800,))}
        >>> [((s - g.start) // 60, c) for s, c in free_groups(g, t, busy, 0)]
        [(570, (('r1',),))]
    """
    combos = grid.combos
    if not grid.candidates or not combos:
        return []
    lead, tail = template.lead * 60, (template.duration + template.followup) * 60
    lo = min_start if range_start is None else max(min_start, range_start)
    # The busy entries of the day's resources, looked up once instead of once per candidate.
    checks = [(combo, [busy.get(r) for r in combo]) for combo in combos]
    bisect_left = bisect.bisect_left
    out: list[tuple[int, tuple[tuple[str, ...], ...]]] = []
    for start in grid.candidates:
        if start < lo or (range_end is not None and start >= range_end):
            continue
        block_start, block_end = start - lead, start + tail
        free = []
        for combo, combo_entries in checks:
            for entry in combo_entries:
                # Blocks never overlap, so ends are sorted too: only the last block starting
                # before block_end can reach into the block.
                if entry:
                    starts, ends = entry
                    i = bisect_left(starts, block_end)
                    if i and ends[i - 1] > block_start:
                        break
            else:
                free.append(combo)
        if free:
            out.append((start, tuple(free)))
            if first_only:
                return out
    return out


def free_slots(
    org: OrganizationRules,
    template: TemplateRules,
    working_days: Mapping[str, frozenset[int]],
    busy: Busy,
    range_start: int,
    range_end: int,
    now: int,
    *,
    first_only: bool = False,
) -> list[tuple[int, tuple[str, ...]]]:
    """The free (start, combination) pairs of ``template`` with ``range_start <= start < range_end``.

    Times are epoch seconds; ``working_days`` maps a resource id to its weekdays (0 = Monday;
    missing: every day). With ``first_only`` only the combinations of the earliest free start
    are returned. The result is sorted by start, then by combination order.

    Example:
        >>> org = OrganizationRules.from_entity({"timeZone": "UTC", "openingHours": [
        ...     {"weekday": d, "start": "09:00", "end": "10:00"} for d in WEEKDAYS]})
        >>> t = TemplateRules("fc" + "a" * 30, "f6", 30, 0, 0, 0, 0, 1, (("r1",),))
        >>> day = local_midnight(date(2027, 1, 4), org.tz)
        >>> [(s - day) // 60 for s, _ in free_slots(org, t, {}, {}, day, day + 86400, day)]
        [540, 555, 570]
    """
    if template.observed is not None:
        return template.observed.free_slots(
            org, template, working_days, busy, range_start, range_end, now, first_only=first_only
        )
    if not template.combinations or range_end <= range_start:
        return []
    tz = org.tz
    min_start, first_day, last_day = template.window(now, tz)
    day = max(datetime.fromtimestamp(range_start, tz).date(), first_day)
    stop_day = min(datetime.fromtimestamp(range_end - 1, tz).date(), last_day)
    out: list[tuple[int, tuple[str, ...]]] = []
    while day <= stop_day:
        grid = day_grid(org, template, working_days, day)
        found = free_groups(
            grid, template, busy, min_start, range_start, range_end, first_only=first_only
        )
        for start, combos in found:
            out.extend((start, combo) for combo in combos)
        if first_only and out:
            return out
        day += timedelta(days=1)
    return out


class SlotCodec:
    """Deterministic, reversible slot ids: ``"4f"`` + 30 characters of ``[0-9a-zA-Z]``.

    The 30 characters are fixed-width fields: the template's position in the data files (4
    base-62 digits), the start in minutes since the epoch (10 decimal digits), and the positions
    of one to four resources, each plus one, ``0000`` for none (4 base-62 digits each). The same
    data files and clock give the same ids; an id that does not decode to known positions is
    refused (``None``).

    Example:
        >>> c = SlotCodec(["fc" + "x" * 30], ["br" + "y" * 30])
        >>> c.encode("fc" + "x" * 30, 1796112000, ("br" + "y" * 30,))
        '4f000000299352000001000000000000'
        >>> c.decode("4f" + "Z" * 30) is None
        True
    """

    ALPHABET = "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
    MAX_RESOURCES = 4
    _INDEX, _MINUTE = 4, 10  # field widths; the index fields are base 62, the minute decimal

    def __init__(self, template_ids: Iterable[str], resource_ids: Iterable[str]) -> None:
        self._templates = list(template_ids)
        self._resources = list(resource_ids)
        # The fixed-width field of every template and resource (a resource's is its index + 1).
        self._template_field = {t: self._base62(i) for i, t in enumerate(self._templates)}
        self._resource_field = {r: self._base62(i + 1) for i, r in enumerate(self._resources)}

    @classmethod
    def _base62(cls, number: int) -> str:
        if not 0 <= number < 62**cls._INDEX:
            raise ValueError(f"{number} does not fit {cls._INDEX} base-62 digits")
        out = ""
        for _ in range(cls._INDEX):
            number, digit = divmod(number, 62)
            out = cls.ALPHABET[digit] + out
        return out

    def encode(self, template_id: str, start: int, combination: Sequence[str]) -> str:
        """The slot id of ``template_id`` at ``start`` (epoch seconds) with these resources."""
        return self.encoder(template_id)(start, combination)

    def encoder(self, template_id: str) -> Callable[[int, Sequence[str]], str]:
        """``encode`` for the slots of one template, as a listing has many: the template's field
        and each combination's resource fields are put together once, not once per slot."""
        prefix = "4f" + self._template_field[template_id]
        width = self._INDEX * self.MAX_RESOURCES
        suffixes: dict[tuple[str, ...], str] = {}

        def encode(start: int, combination: Sequence[str]) -> str:
            key = tuple(combination)
            suffix = suffixes.get(key)
            if suffix is None:
                if not 1 <= len(combination) <= self.MAX_RESOURCES:
                    raise ValueError(f"a slot holds one to {self.MAX_RESOURCES} resources")
                fields = "".join([self._resource_field[r] for r in combination])
                suffix = suffixes[key] = fields.ljust(width, "0")
            minute, seconds = divmod(start, 60)
            if seconds or not 0 <= minute < 10**self._MINUTE:
                raise ValueError(f"a slot starts on a whole minute after 1970, not at {start}")
            return f"{prefix}{minute:010d}{suffix}"

        return encode

    def decode(self, slot_id: str) -> tuple[str, int, tuple[str, ...]] | None:
        """(template id, start epoch seconds, resource ids) of ``slot_id``, or ``None``."""
        if not isinstance(slot_id, str) or len(slot_id) != 32 or not slot_id.startswith("4f"):
            return None
        minute = slot_id[6:16]
        index_fields = [slot_id[2:6]] + [slot_id[at : at + 4] for at in range(16, 32, 4)]
        if not (minute.isascii() and minute.isdigit()):
            return None
        if any(char not in self.ALPHABET for field in index_fields for char in field):
            return None
        template, *resources = (
            sum(self.ALPHABET.index(c) * 62**k for k, c in enumerate(reversed(field)))
            for field in index_fields
        )
        used = [r for r in resources if r]
        if template >= len(self._templates) or not used or resources[: len(used)] != used:
            return None  # an unknown template, no resource, or a gap between resources
        if any(r > len(self._resources) for r in used):
            return None
        combination = tuple(self._resources[r - 1] for r in used)
        return self._templates[template], int(minute) * 60, combination
