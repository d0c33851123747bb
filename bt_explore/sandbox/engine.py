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
the data files only; :func:`free_groups` filters them by clock and bookings, which is what the
app's per-day slot cache builds on.

Slot ids are deterministic and self-describing: ``"4f"`` + 30 base-62 characters that encode
(template, start minute, resources) with an integrity tag, so the server decodes any slot id it
ever handed out — in any sandbox instance over the same data — without keeping a table.

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
import hashlib
import hmac
import itertools
import struct
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

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
        for entry in organization.get("openingHours") or []:
            start, end = _minutes(entry["start"]), _minutes(entry["end"])
            if not 0 <= start < end <= 24 * 60:
                raise ValueError(f"openingHours entry {entry!r}: start must be before end")
            per_day[WEEKDAYS.index(entry["weekday"])].append((start, end))
        return cls(ZoneInfo(organization["timeZone"]), tuple(tuple(sorted(d)) for d in per_day))


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
            lead=int(template.get("leadTime") or 0),
            followup=int(template.get("followupTime") or 0),
            booking_lead_minutes=int(template.get("bookingLeadTime") or 0),
            day_earliest=int(template.get("bookingDayEarliest") or 0),
            day_latest=int(template.get("bookingDayLatest") or 0),
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
    resources all work that weekday. Nothing here depends on the clock or on bookings, so a
    grid can be kept as long as the data files do not change.

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

    def cut_key(self, min_start: int) -> int | None:
        """What ``start >= min_start`` removes from this day, as a hashable value.

        ``None`` when no candidate is earlier than ``min_start``; otherwise the first candidate
        that survives (``-1`` if none does). Two cut-offs with the same key select exactly the
        same candidates, so results computed for one are valid for the other.
        """
        if not self.candidates or min(self.candidates) >= min_start:
            return None
        return min((c for c in self.candidates if c >= min_start), default=-1)


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
    """Deterministic, reversible slot ids: ``"4f"`` + 30 base-62 characters.

    The id packs the template's and resources' positions in the data files and the start minute,
    tagged with a keyed BLAKE2s hash (so a made-up id is refused, not misread) and scrambled so ids
    look opaque, as the real service's do.

    Example:
        >>> c = SlotCodec(["fc" + "x" * 30], ["br" + "y" * 30])
        >>> c.decode("4f" + "0" * 30) is None
        True
    """

    _KEY = b"bt_explore sandbox slot ids v1"
    _ALPHABET = "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
    _MAX_RESOURCES = 4
    _PAYLOAD = 18
    _TAG = 4
    _STRUCT = struct.Struct(">BHIB4H")
    _CHUNK = 62**10

    def __init__(self, template_ids: Iterable[str], resource_ids: Iterable[str]) -> None:
        self._templates = list(template_ids)
        self._resources = list(resource_ids)
        self._template_index = {t: i for i, t in enumerate(self._templates)}
        self._resource_index = {r: i for i, r in enumerate(self._resources)}
        self._digits = {c: i for i, c in enumerate(self._ALPHABET)}
        # Two base-62 digits per divmod halves the work of the hottest loop of a slot scan.
        self._pairs = [a + b for a in self._ALPHABET for b in self._ALPHABET]
        # Ids are deterministic, so repeated scans of the same ranges reuse them.
        self._cache: dict[tuple[str, int, tuple[str, ...]], str] = {}

    def _ten_digits(self, chunk: int) -> str:
        # chunk < 62**10: five two-digit pairs, most significant first.
        pairs = self._pairs
        chunk, e = divmod(chunk, 3844)
        chunk, d = divmod(chunk, 3844)
        chunk, c = divmod(chunk, 3844)
        a, b = divmod(chunk, 3844)
        return pairs[a] + pairs[b] + pairs[c] + pairs[d] + pairs[e]

    def _tag(self, payload: bytes) -> bytes:
        return hashlib.blake2s(payload, digest_size=self._TAG, key=self._KEY).digest()

    def _mask(self, tag: bytes) -> int:
        mask = hashlib.blake2s(tag, digest_size=self._PAYLOAD, key=self._KEY, person=b"mask")
        return int.from_bytes(mask.digest(), "big")

    def encode(self, template_id: str, start: int, combination: Sequence[str]) -> str:
        """The slot id of ``template_id`` at ``start`` (epoch seconds) with these resources."""
        key = (template_id, start, tuple(combination))
        cached = self._cache.get(key)
        if cached is not None:
            return cached
        if len(combination) > self._MAX_RESOURCES:
            raise ValueError(f"a slot holds at most {self._MAX_RESOURCES} resources")
        indices = [self._resource_index[r] for r in combination]
        indices += [0] * (self._MAX_RESOURCES - len(indices))
        payload = self._STRUCT.pack(
            1,
            self._template_index[template_id],
            start // 60,
            len(combination),
            *indices,
        ).ljust(self._PAYLOAD, b"\0")
        tag = self._tag(payload)
        scrambled = int.from_bytes(payload, "big") ^ self._mask(tag)
        number = (int.from_bytes(tag, "big") << (8 * self._PAYLOAD)) | scrambled
        # 30 base-62 digits as three 10-digit chunks: the chunks are machine-size ints, so the
        # digit loop does not divide a 176-bit number 15 times.
        high, rest = divmod(number, self._CHUNK * self._CHUNK)
        middle, low = divmod(rest, self._CHUNK)
        slot_id = "4f" + self._ten_digits(high) + self._ten_digits(middle) + self._ten_digits(low)
        if len(self._cache) > 500_000:
            self._cache.clear()
        self._cache[key] = slot_id
        return slot_id

    def decode(self, slot_id: str) -> tuple[str, int, tuple[str, ...]] | None:
        """(template id, start epoch seconds, resource ids) of ``slot_id``, or ``None``."""
        if not isinstance(slot_id, str) or len(slot_id) != 32 or not slot_id.startswith("4f"):
            return None
        number = 0
        for char in slot_id[2:]:
            digit = self._digits.get(char)
            if digit is None:
                return None
            number = number * 62 + digit
        size = self._TAG + self._PAYLOAD
        if number >= 1 << (8 * size):
            return None
        blob = number.to_bytes(size, "big")
        tag = blob[: self._TAG]
        scrambled = int.from_bytes(blob[self._TAG :], "big")
        payload = (scrambled ^ self._mask(tag)).to_bytes(self._PAYLOAD, "big")
        if not hmac.compare_digest(tag, self._tag(payload)):
            return None
        version, t_index, minute, count, *indices = struct.unpack_from(">BHIB4H", payload)
        if version != 1 or count > self._MAX_RESOURCES or t_index >= len(self._templates):
            return None
        if any(i >= len(self._resources) for i in indices[:count]):
            return None
        combination = tuple(self._resources[i] for i in indices[:count])
        return self._templates[t_index], minute * 60, combination
