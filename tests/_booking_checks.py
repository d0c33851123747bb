"""Checks on the sandbox's own appointment store, shared by the stateful test and the soak."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from datetime import datetime
from typing import Any

#: The customIds of the demo data's appointments, present before any test books.
SEED_CUSTOM_IDS = frozenset(f"demo-000{n}" for n in range(1, 6))

#: A customer and an appointment address that every demo template accepts.
CUSTOMER = {
    "firstName": "Ada",
    "lastName": "Lovelace",
    "email": "ada@example.com",
    "mobile": "+49 170 1234567",
    "address": {"street": "Weg 1", "zip": "10115", "city": "Berlin", "country": "DE"},
}
ADDRESS = {"street": "Weg 2", "zip": "10115", "city": "Berlin", "country": "DE"}


def double_bookings(appointments: Iterable[dict[str, Any]]) -> list[str]:
    """Pairs of non-canceled appointments that share a resource over overlapping [start, end).

    Example:
        >>> a = {"id": "ed1", "canceled": False, "start": "2026-12-01T10:00:00+01:00",
        ...      "end": "2026-12-01T11:00:00+01:00", "bookingResourceList": [{"id": "br1"}]}
        >>> double_bookings([a, dict(a, id="ed2", start="2026-12-01T10:30:00+01:00")])
        ['br1: ed1 [2026-12-01T10:00:00+01:00, 2026-12-01T11:00:00+01:00) overlaps ed2 [2026-12-01T10:30:00+01:00, 2026-12-01T11:00:00+01:00)']
    """
    by_resource: dict[str, list[tuple[datetime, datetime, dict]]] = {}
    for appt in appointments:
        if appt["canceled"]:
            continue
        start, end = datetime.fromisoformat(appt["start"]), datetime.fromisoformat(appt["end"])
        for resource in appt["bookingResourceList"]:
            by_resource.setdefault(resource["id"], []).append((start, end, appt))
    found = []
    for rid, blocks in sorted(by_resource.items()):
        blocks.sort(key=lambda b: (b[0], b[1]))
        latest: tuple[datetime, datetime, dict] | None = None
        for block in blocks:
            if latest is not None and block[0] < latest[1]:
                first, second = latest[2], block[2]
                found.append(
                    f"{rid}: {first['id']} [{first['start']}, {first['end']}) overlaps "
                    f"{second['id']} [{second['start']}, {second['end']})"
                )
            if latest is None or block[1] > latest[1]:
                latest = block
    return found


def repeated_custom_ids(appointments: Iterable[dict[str, Any]]) -> dict[str, int]:
    """The non-empty customIds that more than one appointment carries, with their counts.

    Example:
        >>> repeated_custom_ids([{"customId": "a"}, {"customId": "a"}, {"customId": ""}])
        {'a': 2}
    """
    counts = Counter(a["customId"] for a in appointments if a.get("customId"))
    return {cid: n for cid, n in counts.items() if n > 1}
