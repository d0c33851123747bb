"""scan_slots: call planning, concurrency, retries, failures named — against a scripted client
and against the real sandbox over HTTP."""

from __future__ import annotations

import itertools
import re
import threading
from collections import Counter
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pandas as pd
import pytest

from bt_explore.errors import PermissionDenied, RateLimited, ServerError, TransportError
from bt_explore.scan import SCAN_COLUMNS, ScanError, SlotCall, plan_slot_calls, scan_slots

BERLIN = ZoneInfo("Europe/Berlin")


# --------------------------------------------------------------------------- planning (pure)


def _fewest_calls(start: date, end: date) -> int:
    """Brute force: the fewest calls tiling [start, end), by breadth-first search over days."""
    frontier, seen, depth = {start}, {start}, 0
    while end not in frontier:
        depth += 1
        nxt = set()
        for d in frontier:
            steps = [d + timedelta(days=1)]
            if d.weekday() == 0:
                steps.append(d + timedelta(days=7))
            if d.day == 1:
                steps.append(date(d.year + (d.month == 12), d.month % 12 + 1, 1))
            nxt |= {s for s in steps if s <= end and s not in seen}
        seen |= nxt
        frontier = nxt
    return depth


def test_plan_tiles_the_range_exactly_with_the_fewest_calls() -> None:
    starts = [date(2026, 11, 25) + timedelta(days=i) for i in range(0, 70, 3)]
    for start, length in itertools.product(starts, [1, 6, 7, 13, 31, 45, 62, 100]):
        end = start + timedelta(days=length)
        calls = plan_slot_calls(start, end)
        day = start
        for call in calls:
            assert call.start == day, (start, end, calls)
            day = call.end
            if call.kind == "week":
                assert call.start.weekday() == 0 and (call.end - call.start).days == 7
            if call.kind == "month":
                assert call.start.day == 1 and call.end.day == 1
        assert day == end
        assert len(calls) == _fewest_calls(start, end), (start, end)


def test_plan_uses_months_weeks_and_days() -> None:
    calls = plan_slot_calls(date(2026, 12, 30), date(2027, 2, 9))
    assert [(c.kind, c.start.isoformat()) for c in calls] == [
        ("day", "2026-12-30"),
        ("day", "2026-12-31"),
        ("month", "2027-01-01"),
        ("week", "2027-02-01"),
        ("day", "2027-02-08"),
    ]
    assert plan_slot_calls(date(2026, 12, 1), date(2026, 12, 1)) == []
    assert plan_slot_calls(date(2026, 12, 2), date(2026, 12, 1)) == []


def test_week_label_uses_iso_year() -> None:
    call = SlotCall("week", date(2026, 12, 28), date(2027, 1, 4))
    assert call.label == "listWeek 2026-W53 (2026-12-28..2027-01-03)"


# --------------------------------------------------------------------------- a scripted client


def _template(tid: str, name: str, earliest: int, latest: int, duration: int = 30) -> dict:
    return {
        "class": "BOOKING_TEMPLATE",
        "id": tid,
        "name": name,
        "duration": duration,
        "bookingDayEarliest": earliest,
        "bookingDayLatest": latest,
    }


TEMPLATES = [
    _template("fc" + "A" * 30, "Haircut", 0, 20),
    _template("fc" + "B" * 30, "Consultation", 2, 9, duration=60),
]


class FakeClient:
    """Answers slot calls like the API (two slots per weekday, 09:00 and 14:00 local) and can
    be told to fail a call with a list of exceptions, one per attempt."""

    def __init__(self, now: datetime, *, overlap: bool = False) -> None:
        self.now = now
        self.overlap = overlap
        self.calls: list[tuple[str, str, date]] = []
        self.faults: dict[tuple[str, str, date], list[BaseException]] = {}
        self.threads: set[str] = set()
        self._lock = threading.Lock()

    def clock(self) -> datetime:
        return self.now

    def organization(self, organization_id: str | None = None) -> dict:
        return {"class": "ORGANIZATION", "id": "f6" + "0" * 30, "timeZone": "Europe/Berlin"}

    def templates(self, organization_id: str | None = None) -> list[dict]:
        return [dict(t) for t in TEMPLATES]

    def _answer(self, tid: str, kind: str, first: date, end: date) -> dict:
        key = (tid, kind, first)
        with self._lock:
            self.calls.append(key)
            self.threads.add(threading.current_thread().name)
            pending = self.faults.get(key)
            error = pending.pop(0) if pending else None
        if error is not None:
            raise error
        if self.overlap:  # some servers pad a period; the scan must cut and dedupe
            first, end = first - timedelta(days=1), end + timedelta(days=1)
        slots = []
        day = first
        while day < end:
            if day.weekday() < 5:
                for hour in (9, 14):
                    start = datetime(day.year, day.month, day.day, hour, tzinfo=BERLIN)
                    slots.append(
                        {
                            "class": "BOOKING_SLOT",
                            "id": f"4f{tid[2:6]}{start:%Y%m%d%H}".ljust(32, "0"),
                            "timestamp": start.isoformat(),
                            "bookingResourceCombination": ["br" + "1" * 30],
                        }
                    )
            day += timedelta(days=1)
        return {"class": "RANGE_LIST", "timeZone": "Europe/Berlin", "list": slots}

    def slots_day(self, template_id: str, day: date, organization_id: str | None = None) -> dict:
        return self._answer(template_id, "day", day, day + timedelta(days=1))

    def slots_week(self, template_id: str, year: int, week: int, organization_id=None) -> dict:
        first = date.fromisocalendar(year, week, 1)
        return self._answer(template_id, "week", first, first + timedelta(days=7))

    def slots_month(self, template_id: str, year: int, month: int, organization_id=None) -> dict:
        first = date(year, month, 1)
        end = date(year + (month == 12), month % 12 + 1, 1)
        return self._answer(template_id, "month", first, end)


NOW = datetime(2026, 11, 25, 10, 30, tzinfo=BERLIN)  # a Wednesday


def _expected_days(tpl: dict) -> list[date]:
    today = NOW.date()
    first = today + timedelta(days=tpl["bookingDayEarliest"])
    last = today + timedelta(days=tpl["bookingDayLatest"])
    return [
        first + timedelta(days=i)
        for i in range((last - first).days + 1)
        if (first + timedelta(days=i)).weekday() < 5
    ]


def test_default_scan_covers_each_templates_window_with_the_planned_calls() -> None:
    client = FakeClient(NOW)
    frame = scan_slots(client, progress=False)
    assert tuple(frame.columns) == SCAN_COLUMNS
    for tpl in TEMPLATES:
        rows = frame[frame["template_id"] == tpl["id"]]
        assert sorted(set(rows["start"].dt.date)) == _expected_days(tpl)
        assert len(rows) == 2 * len(_expected_days(tpl))
        assert set(rows["template_name"]) == {tpl["name"]}
        assert (rows["end"] - rows["start"] == pd.Timedelta(minutes=tpl["duration"])).all()
        first = NOW.date() + timedelta(days=tpl["bookingDayEarliest"])
        last = NOW.date() + timedelta(days=tpl["bookingDayLatest"])
        planned = [
            (tpl["id"], c.kind, c.start) for c in plan_slot_calls(first, last + timedelta(1))
        ]
        assert sorted(c for c in client.calls if c[0] == tpl["id"]) == sorted(planned)
    assert frame.attrs["calls"] == len(client.calls)
    assert frame.attrs["missing"] == []
    assert str(frame["start"].dt.tz) == "Europe/Berlin"


def test_result_is_sorted_and_unique_even_when_answers_overlap() -> None:
    client = FakeClient(NOW, overlap=True)
    frame = scan_slots(client, progress=False)
    assert not frame.duplicated(["template_id", "slot_id"]).any()
    assert frame.equals(
        frame.sort_values(["template_id", "start", "slot_id"]).reset_index(drop=True)
    )
    # padded answers reach outside the window; the scan keeps only the requested days
    for tpl in TEMPLATES:
        days = set(frame.loc[frame["template_id"] == tpl["id"], "start"].dt.date)
        assert days == set(_expected_days(tpl))


def test_explicit_range_is_cut_to_the_bookable_window_and_today() -> None:
    client = FakeClient(NOW)
    frame = scan_slots(
        client,
        [TEMPLATES[1]["id"]],
        start=date(2026, 11, 1),  # before today: the past has no slots, nothing is asked
        end=timedelta(weeks=4),  # beyond bookingDayLatest=9: cut to the window
        progress=False,
    )
    days = sorted(set(frame["start"].dt.date))
    assert days[0] == date(2026, 11, 27) and days[-1] == date(2026, 12, 4)
    assert {c[0] for c in client.calls} == {TEMPLATES[1]["id"]}
    assert min(c[2] for c in client.calls) == date(2026, 11, 27)


def test_same_frame_sequential_and_concurrent() -> None:
    one = scan_slots(FakeClient(NOW), concurrency=1, progress=False)
    client = FakeClient(NOW)
    many = scan_slots(client, concurrency=8, progress=False)
    pd.testing.assert_frame_equal(one, many)
    assert len(client.threads) > 1


def test_escaped_rate_limit_and_server_errors_are_retried() -> None:
    client = FakeClient(NOW)
    key = (TEMPLATES[0]["id"], "week", date(2026, 11, 30))
    url = "http://127.0.0.1/module/v3/en/x"
    client.faults[key] = [
        RateLimited(429, "GET", url, retry_after=0.01),
        ServerError(503, "GET", url),
    ]
    frame = scan_slots(client, progress=False, retries=2, backoff=0.001)
    assert Counter(client.calls)[key] == 3
    pd.testing.assert_frame_equal(frame, scan_slots(FakeClient(NOW), progress=False))


def test_permanent_failure_raises_scan_error_naming_template_and_dates() -> None:
    client = FakeClient(NOW)
    key = (TEMPLATES[0]["id"], "week", date(2026, 12, 7))
    client.faults[key] = [
        TransportError("connection dropped", method="GET", url="http://127.0.0.1/x")
    ] * 5
    with pytest.raises(ScanError) as info:
        scan_slots(client, progress=False, retries=1, backoff=0.001)
    err = info.value
    assert TEMPLATES[0]["id"] in str(err)
    assert "2026-12-07..2026-12-13" in str(err)
    assert "Haircut" in str(err)
    assert err.missing == [
        {
            "template_id": TEMPLATES[0]["id"],
            "template_name": "Haircut",
            "call": "week",
            "start": date(2026, 12, 7),
            "end": date(2026, 12, 13),
            "error": "GET …/x: connection dropped",
        }
    ]
    assert Counter(client.calls)[key] == 2  # the first try and one retry
    # what did arrive is kept on the error, without the failed week
    assert not (
        err.partial["start"].dt.date.between(date(2026, 12, 7), date(2026, 12, 13))
        & (err.partial["template_id"] == TEMPLATES[0]["id"])
    ).any()


def test_errors_report_returns_the_rest_and_lists_the_gap() -> None:
    client = FakeClient(NOW)
    key = (TEMPLATES[1]["id"], "day", date(2026, 11, 27))
    client.faults[key] = [ServerError(500, "GET", "http://127.0.0.1/x")] * 3
    frame = scan_slots(client, progress=False, errors="report", retries=0)
    assert [(m["template_id"], m["start"]) for m in frame.attrs["missing"]] == [
        (TEMPLATES[1]["id"], date(2026, 11, 27))
    ]
    complete = scan_slots(FakeClient(NOW), progress=False)
    gap = (complete["template_id"] == TEMPLATES[1]["id"]) & (
        complete["start"].dt.date == date(2026, 11, 27)
    )
    pd.testing.assert_frame_equal(frame, complete[~gap].reset_index(drop=True), check_like=False)


def test_permission_denied_stops_the_scan_with_the_original_error() -> None:
    client = FakeClient(NOW)
    key = (TEMPLATES[0]["id"], "day", date(2026, 11, 25))
    client.faults[key] = [PermissionDenied(403, "GET", "http://127.0.0.1/x")]
    with pytest.raises(PermissionDenied):
        scan_slots(client, progress=False, concurrency=1)
    assert Counter(client.calls)[key] == 1


def test_unknown_template_and_bad_arguments_are_named() -> None:
    client = FakeClient(NOW)
    with pytest.raises(ValueError, match="template_ids: .*fcNOPE"):
        scan_slots(client, ["fcNOPE"], progress=False)
    with pytest.raises(ValueError, match="concurrency"):
        scan_slots(client, concurrency=0)
    with pytest.raises(ValueError, match="errors"):
        scan_slots(client, errors="ignore")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="start"):
        scan_slots(client, start="next week", progress=False)
    assert client.calls == []


def test_empty_scan_has_the_schema() -> None:
    client = FakeClient(NOW)
    frame = scan_slots(client, start=date(2027, 6, 1), end=date(2027, 6, 2), progress=False)
    assert frame.empty and tuple(frame.columns) == SCAN_COLUMNS
    assert client.calls == []  # outside every window: nothing to ask


def test_progress_bar_goes_to_stderr_only_when_asked(capsys: pytest.CaptureFixture[str]) -> None:
    scan_slots(FakeClient(NOW), progress=False)
    assert capsys.readouterr().err == ""
    scan_slots(FakeClient(NOW), progress=True)
    err = capsys.readouterr().err
    assert re.search(r"slot calls: 100%.*\b(\d+)/\1\b", err)


def test_scan_error_is_a_bookingtime_error() -> None:
    from bt_explore import BookingtimeError
    from bt_explore import ScanError as Exported

    assert Exported is ScanError and issubclass(ScanError, BookingtimeError)
