"""Scalar time helpers: API timestamps, days, time zones — each written once.

The API sends ISO 8601 timestamps with an offset (``2026-10-25T02:30:00+01:00``) and names time
zones by IANA name (``Europe/Berlin``). The client, the scan, the widgets and the frames read
them through these functions, so that every module accepts the same spellings and names the
argument it could not read. Columns of timestamps are parsed by pandas in
:mod:`bt_explore.frames`, not here.

Example:
    >>> from bt_explore.times import as_date, aware, parse_timestamp, zone
    >>> parse_timestamp("2026-10-25T02:30:00Z").isoformat()
    '2026-10-25T02:30:00+00:00'
    >>> as_date("2026-12-02", "day")
    datetime.date(2026, 12, 2)
    >>> aware("2026-10-25T02:30", zone("Europe/Berlin"), "start").isoformat()
    '2026-10-25T02:30:00+02:00'
"""

from __future__ import annotations

import logging
from datetime import date, datetime, time, timedelta, tzinfo
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

__all__ = ["UTC", "as_date", "aware", "is_zone_name", "parse_timestamp", "resolve_zone", "zone"]

log = logging.getLogger("bt_explore.times")

#: The UTC zone as a ``ZoneInfo`` (what :func:`zone` falls back to).
UTC = ZoneInfo("UTC")

_ZONE_ERRORS = (ZoneInfoNotFoundError, ValueError, TypeError, OSError)


def parse_timestamp(value: str) -> datetime:
    """An ISO 8601 timestamp as a ``datetime``: aware when it has an offset (``Z``/``z`` is UTC).

    ``ValueError`` for a string that is not ISO 8601 (``datetime.fromisoformat`` before
    Python 3.11 does not read ``Z``, hence the rewrite).

    Example:
        >>> parse_timestamp("2027-03-28T03:00:00+02:00").utcoffset()
        datetime.timedelta(seconds=7200)
        >>> parse_timestamp("2026-12-02").isoformat()
        '2026-12-02T00:00:00'
    """
    return datetime.fromisoformat(value[:-1] + "+00:00" if value.endswith(("Z", "z")) else value)


def as_date(
    value: date | datetime | timedelta | str,
    name: str,
    *,
    tz: tzinfo | None = None,
    today: date | None = None,
) -> date:
    """A date from a ``date``, a ``datetime`` or an ISO 8601 string; ``ValueError`` naming
    ``name`` otherwise.

    An aware datetime (or a string with an offset) is taken on its day in ``tz`` when ``tz`` is
    given, else on its own day. With ``today=``, a ``timedelta`` counts whole days from it.

    Example:
        >>> as_date("2026-10-25T23:30:00+00:00", "start", tz=ZoneInfo("Europe/Berlin"))
        datetime.date(2026, 10, 26)
        >>> as_date(timedelta(days=2), "end", today=date(2026, 12, 30))
        datetime.date(2027, 1, 1)
        >>> as_date("next monday", "day")
        Traceback (most recent call last):
        ...
        ValueError: day: expected a date, a datetime or an ISO date like '2026-12-02', got 'next monday'
    """
    if isinstance(value, timedelta) and today is not None:
        return today + timedelta(days=value.days)
    if isinstance(value, datetime):
        return value.astimezone(tz).date() if tz is not None and value.tzinfo else value.date()
    if isinstance(value, date):
        return value
    if isinstance(value, str):
        try:
            return as_date(parse_timestamp(value), name, tz=tz)
        except ValueError:
            pass
    also = " or a timedelta" if today is not None else ""
    raise ValueError(
        f"{name}: expected a date, a datetime{also} or an ISO date like '2026-12-02', got {value!r}"
    )


def aware(value: date | datetime | str, tz: tzinfo, name: str) -> datetime:
    """An aware ``datetime``: naive values (and dates, at midnight) are taken in ``tz``; aware
    ones are kept as they are. ``ValueError`` naming ``name`` for an unreadable string.

    Example:
        >>> aware(date(2026, 10, 25), ZoneInfo("Europe/Berlin"), "start").isoformat()
        '2026-10-25T00:00:00+02:00'
        >>> aware("2026-10-25T01:00:00Z", ZoneInfo("Europe/Berlin"), "start").isoformat()
        '2026-10-25T01:00:00+00:00'
    """
    if isinstance(value, str):
        try:
            value = parse_timestamp(value)
        except ValueError:
            raise ValueError(
                f"{name} must be a date, a datetime or ISO 8601, got {value!r}"
            ) from None
    if not isinstance(value, datetime):
        value = datetime.combine(value, time())
    return value.replace(tzinfo=tz) if value.tzinfo is None else value


def is_zone_name(name: Any) -> bool:
    """Whether ``name`` is a time zone this machine knows (``"UTC"`` in any case).

    Example:
        >>> is_zone_name("Europe/Berlin"), is_zone_name("Mars/Base"), is_zone_name(5)
        (True, False, False)
    """
    if not isinstance(name, str):
        return False
    if name.upper() == "UTC":
        return True
    try:
        ZoneInfo(name)
    except _ZONE_ERRORS:
        return False
    return True


def zone(name: str | tzinfo | None, *, fallback: tzinfo | None = UTC) -> tzinfo | None:
    """The time zone ``name`` (a ``tzinfo`` is returned as it is); for a name that is not a
    known zone, ``fallback`` (UTC unless told) with a warning.

    Example:
        >>> zone("Europe/Berlin")
        zoneinfo.ZoneInfo(key='Europe/Berlin')
        >>> zone("Mars/Base")
        zoneinfo.ZoneInfo(key='UTC')
    """
    if isinstance(name, tzinfo):
        return name
    try:
        return ZoneInfo(name)  # type: ignore[arg-type]
    except _ZONE_ERRORS:
        if fallback is None:
            log.warning("ignoring unknown time zone %r", name)
        else:
            log.warning("ignoring unknown time zone %r; using %s", name, fallback)
        return fallback


def resolve_zone(tz: str | tzinfo | None, answer_tz: Any, what: str) -> str | tzinfo:
    """The zone to show an answer's times in: ``tz`` if given (``ValueError`` if unknown),
    else the answer's ``timeZone`` if it is a known zone, else ``"UTC"`` (with a warning
    naming ``what`` when the answer's zone is invalid).

    Example:
        >>> resolve_zone(None, "Europe/Berlin", "slots")
        'Europe/Berlin'
        >>> resolve_zone("America/New_York", "Europe/Berlin", "slots")
        'America/New_York'
    """
    if tz is not None:
        if isinstance(tz, tzinfo) or is_zone_name(tz):
            return tz
        raise ValueError(
            f"tz: unknown time zone {tz!r} (expected an IANA name like 'Europe/Berlin')"
        )
    if answer_tz is None:
        return "UTC"
    if is_zone_name(answer_tz):
        return answer_tz
    log.warning("%s: ignoring invalid timeZone %r in the answer; using UTC", what, answer_tz)
    return "UTC"
