"""bt_explore.times: the scalar time helpers every module reads timestamps, days and zones with."""

from __future__ import annotations

import logging
from datetime import date, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest

from bt_explore import times

BERLIN = ZoneInfo("Europe/Berlin")


@pytest.mark.parametrize(
    ("text", "offset"),
    [
        ("2026-10-25T02:30:00+02:00", timedelta(hours=2)),
        ("2026-10-25T02:30:00+01:00", timedelta(hours=1)),
        ("2026-10-25T02:30:00Z", timedelta(0)),
        ("2026-10-25T02:30:00.250-05:00", timedelta(hours=-5)),
    ],
)
def test_parse_timestamp_keeps_the_offset(text, offset):
    assert times.parse_timestamp(text).utcoffset() == offset


def test_parse_timestamp_without_offset_is_naive_and_garbage_is_an_error():
    assert times.parse_timestamp("2026-12-02").tzinfo is None
    with pytest.raises(ValueError):
        times.parse_timestamp("next monday")


def test_as_date_reads_dates_datetimes_and_iso_strings():
    assert times.as_date(date(2026, 12, 2), "day") == date(2026, 12, 2)
    assert times.as_date(datetime(2026, 12, 2, 23, 30), "day") == date(2026, 12, 2)
    assert times.as_date("2026-12-02", "day") == date(2026, 12, 2)
    assert times.as_date("2026-12-02T10:00:00Z", "day") == date(2026, 12, 2)


def test_as_date_takes_aware_values_on_their_day_in_tz():
    late = "2026-10-25T23:30:00+00:00"  # already the 26th in Berlin
    assert times.as_date(late, "start") == date(2026, 10, 25)
    assert times.as_date(late, "start", tz=BERLIN) == date(2026, 10, 26)
    naive = datetime(2026, 10, 25, 23, 30)
    assert times.as_date(naive, "start", tz=BERLIN) == date(2026, 10, 25)


def test_as_date_counts_a_timedelta_from_today_only_when_told():
    assert times.as_date(timedelta(days=3), "end", today=date(2026, 12, 30)) == date(2027, 1, 2)
    with pytest.raises(ValueError, match="end: expected a date"):
        times.as_date(timedelta(days=3), "end")


@pytest.mark.parametrize("value", ["2026-13-01", "", None, 20261202, ["2026-12-02"]])
def test_as_date_names_the_argument_it_cannot_read(value):
    with pytest.raises(ValueError, match=r"^start: expected a date.*got"):
        times.as_date(value, "start")


def test_aware_attaches_the_zone_to_naive_values_only():
    assert times.aware(date(2026, 3, 29), BERLIN, "start").isoformat() == (
        "2026-03-29T00:00:00+01:00"
    )
    assert times.aware("2026-03-29T12:00", BERLIN, "start").utcoffset() == timedelta(hours=2)
    kept = datetime(2026, 3, 29, 12, tzinfo=timezone.utc)
    assert times.aware(kept, BERLIN, "start") is kept
    with pytest.raises(ValueError, match="^end must be a date"):
        times.aware("soon", BERLIN, "end")


def test_zone_falls_back_with_a_warning(caplog):
    assert times.zone("Europe/Berlin") == BERLIN
    assert times.zone(BERLIN) is BERLIN
    with caplog.at_level(logging.WARNING, logger="bt_explore.times"):
        assert times.zone("Mars/Base") == times.UTC
        assert times.zone("Mars/Base", fallback=None) is None
        assert times.zone(None) == times.UTC
    assert caplog.text.count("unknown time zone") == 3


@pytest.mark.parametrize(
    ("name", "known"),
    [("Europe/Berlin", True), ("UTC", True), ("utc", True), ("Mars/Base", False),
     ("", False), ("../etc", False), (5, False), (None, False)],
)  # fmt: skip
def test_is_zone_name(name, known):
    assert times.is_zone_name(name) is known


def test_resolve_zone_prefers_the_argument_then_the_answer_then_utc(caplog):
    assert times.resolve_zone("America/New_York", "Europe/Berlin", "slots") == "America/New_York"
    assert times.resolve_zone(BERLIN, None, "slots") is BERLIN
    assert times.resolve_zone(None, "Europe/Berlin", "slots") == "Europe/Berlin"
    assert times.resolve_zone(None, None, "slots") == "UTC"
    with caplog.at_level(logging.WARNING, logger="bt_explore.times"):
        assert times.resolve_zone(None, "Mars/Base", "slots") == "UTC"
    assert "slots: ignoring invalid timeZone 'Mars/Base'" in caplog.text
    with pytest.raises(ValueError, match="tz: unknown time zone 'Mars/Base'"):
        times.resolve_zone("Mars/Base", "Europe/Berlin", "slots")
