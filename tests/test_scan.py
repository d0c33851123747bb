"""scan_slots: call planning, concurrency, failures named — against a scripted client
and against the real sandbox over HTTP."""

from __future__ import annotations

import itertools
import json
import logging
import re
import threading
from collections import Counter
from collections.abc import Iterator
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pandas as pd
import pytest
import requests

import bt_explore
from bt_explore import Client, Sandbox
from bt_explore.client import default_retry
from bt_explore.errors import PermissionDenied, ServerError, TransportError
from bt_explore.frames import SlotPiece, slot_piece, slots_frame
from bt_explore.periods import period
from bt_explore.scan import (
    ORGANIZATION_SCAN_COLUMNS,
    SCAN_COLUMNS,
    ScanError,
    SlotCall,
    plan_calls,
    scan_slots,
)

BERLIN = ZoneInfo("Europe/Berlin")


# --------------------------------------------------------------------------- planning (pure)


def _fewest_exact_tiling(start: date, end: date) -> int:
    """Brute force: the fewest calls whose periods tile [start, end) exactly (no overshoot)."""
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


def test_plan_covers_every_day_of_the_range_with_few_calls() -> None:
    starts = [date(2026, 11, 25) + timedelta(days=i) for i in range(0, 70, 3)]
    for start, length in itertools.product(starts, [1, 6, 7, 13, 31, 45, 62, 100]):
        end = start + timedelta(days=length)
        calls = plan_calls(start, end)
        covered = set()
        for call in calls:
            days = {call.start + timedelta(days=i) for i in range((call.end - call.start).days)}
            assert days & {start + timedelta(days=i) for i in range(length)}, call  # no idle call
            covered |= days
            if call.kind == "week":
                assert call.start.weekday() == 0 and (call.end - call.start).days == 7
            elif call.kind == "month":
                assert call.start.day == 1 and call.end.day == 1
            else:
                assert (call.end - call.start).days == 1
        assert all(start + timedelta(days=i) in covered for i in range(length)), (start, end)
        assert len(set(calls)) == len(calls)
        for before, after in itertools.pairwise(calls):  # no day fetched twice
            assert before.end <= after.start, (before.label, after.label)
        assert len(calls) <= _fewest_exact_tiling(start, end), (start, end)


def test_plan_labels_name_the_call_and_its_days() -> None:
    calls = plan_calls(date(2026, 12, 30), date(2027, 2, 9))
    assert [c.label for c in calls] == [
        "listMonth 2026-12 (2026-12-01..2026-12-31)",
        "listMonth 2027-01 (2027-01-01..2027-01-31)",
        "listMonth 2027-02 (2027-02-01..2027-02-28)",
    ]
    assert [c.label for c in plan_calls(date(2026, 12, 30), date(2027, 1, 4))] == [
        "listWeek 2026-W53 (2026-12-28..2027-01-03)"
    ]
    assert SlotCall("day", date(2027, 2, 8), date(2027, 2, 9)).label == "listDay 2027-02-08"
    assert plan_calls(date(2026, 12, 1), date(2026, 12, 1)) == []


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

    def __init__(
        self, now: datetime, *, overlap: bool = False, together: threading.Barrier | None = None
    ) -> None:
        self.current = now
        self.together = together
        self.overlap = overlap
        self.calls: list[tuple[str, str, date]] = []
        self.faults: dict[tuple[str, str, date], list[BaseException]] = {}
        self.threads: set[str] = set()
        self._lock = threading.Lock()

    def clock(self) -> datetime:
        return self.current

    def now(self) -> datetime:
        return self.current

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
        if self.together is not None:  # proves calls overlap: each waits for the others
            self.together.wait()
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

    # the two halves of a period call a scan uses, as bt_explore.Client has them
    def _slot_period_answer(
        self, template_id: str, kind: str, day: date, organization_id: str | None = None
    ) -> requests.Response:
        response = requests.Response()
        response.status_code = 200
        response._content = json.dumps(self._answer(template_id, kind, *period(kind).span(day)))
        response._content = response._content.encode()
        return response

    def _slot_period_piece(
        self, template_id: str, answer: requests.Response, organization_id: str | None = None
    ) -> SlotPiece:
        return slot_piece(answer.content)


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
        planned = [_key(tpl, c) for c in _plan(tpl)]
        assert sorted(c for c in client.calls if c[0] == tpl["id"]) == sorted(planned)
    assert frame.attrs["calls"] == len(client.calls)
    assert frame.attrs["missing"] == []
    assert str(frame["start"].dt.tz) == "Europe/Berlin"


def test_result_is_sorted_and_unique_even_when_answers_overlap() -> None:
    client = FakeClient(NOW, overlap=True)
    frame = scan_slots(client, progress=False)
    assert not frame.duplicated(["template_id", "slot_id"]).any()
    assert frame.equals(
        frame.sort_values(["template_id", "start"], kind="stable").reset_index(drop=True)
    )
    # padded answers reach outside the window; the scan keeps only the requested days
    for tpl in TEMPLATES:
        days = set(frame.loc[frame["template_id"] == tpl["id"], "start"].dt.date)
        assert days == set(_expected_days(tpl))


class ShuffledClient(FakeClient):
    """Lists each answer's slots out of time order and twice each."""

    def _answer(self, tid: str, kind: str, first: date, end: date) -> dict:
        answer = super()._answer(tid, kind, first, end)
        answer["list"] = answer["list"][::-1] * 2
        return answer


def test_answers_out_of_order_or_with_repeats_give_the_same_frame(
    caplog: pytest.LogCaptureFixture,
) -> None:
    reference = scan_slots(FakeClient(NOW), progress=False)
    with caplog.at_level(logging.WARNING, logger="bt_explore.scan"):
        shuffled = scan_slots(ShuffledClient(NOW), progress=False)
        padded = scan_slots(FakeClient(NOW, overlap=True), progress=False)
    pd.testing.assert_frame_equal(shuffled, reference)
    assert len(padded) == len(reference)
    assert caplog.records == []  # the same slot twice at the same time is no conflict


class MovingSlotClient(FakeClient):
    """A broken server: one slot id turns up at every Wednesday 14:00, so at several times."""

    def _answer(self, tid: str, kind: str, first: date, end: date) -> dict:
        answer = super()._answer(tid, kind, first, end)
        for i, slot in enumerate(answer["list"]):
            start = datetime.fromisoformat(slot["timestamp"])
            if start.weekday() == 2 and start.hour == 14:
                answer["list"][i] = dict(slot, id="4f" + "M" * 30)
        return answer


def test_a_slot_id_at_two_times_is_kept_once_and_the_frame_stays_sorted(
    caplog: pytest.LogCaptureFixture,
) -> None:
    client = MovingSlotClient(NOW)
    with caplog.at_level(logging.WARNING, logger="bt_explore.scan"):
        frame = scan_slots(client, progress=False)
    assert not frame.duplicated(["template_id", "slot_id"]).any()
    assert frame.equals(
        frame.sort_values(["template_id", "start"], kind="stable").reset_index(drop=True)
    )
    moving = frame[frame["slot_id"] == "4f" + "M" * 30]
    assert sorted(moving["template_id"]) == sorted(t["id"] for t in TEMPLATES)  # once each
    assert "two different times" in caplog.text


def _plan(tpl: dict) -> list[SlotCall]:
    today = NOW.date()
    first = today + timedelta(days=tpl["bookingDayEarliest"])
    return plan_calls(first, today + timedelta(days=tpl["bookingDayLatest"] + 1))


def _key(tpl: dict, call: SlotCall) -> tuple[str, str, date]:
    return (tpl["id"], call.kind, call.start)


def test_explicit_range_is_cut_to_the_bookable_window_and_today() -> None:
    client = FakeClient(NOW)
    frame = scan_slots(
        client,
        [TEMPLATES[1]["id"]],
        start=date(2026, 11, 1),  # before today + bookingDayEarliest: cut
        end=timedelta(weeks=4),  # beyond bookingDayLatest=9: cut to the window
        progress=False,
    )
    days = sorted(set(frame["start"].dt.date))
    assert days[0] == date(2026, 11, 27) and days[-1] == date(2026, 12, 4)
    assert client.calls == [_key(TEMPLATES[1], c) for c in _plan(TEMPLATES[1])]


def test_same_frame_sequential_and_concurrent() -> None:
    one = scan_slots(FakeClient(NOW), concurrency=1, progress=False)
    calls = sum(len(_plan(t)) for t in TEMPLATES)
    # every call blocks until all of them are in flight: only a truly concurrent scan finishes
    client = FakeClient(NOW, together=threading.Barrier(calls, timeout=10))
    many = scan_slots(client, concurrency=8, progress=False)
    pd.testing.assert_frame_equal(one, many)
    assert len(client.threads) == calls


def test_the_scan_itself_does_not_retry_it_reports_the_gap() -> None:
    # retrying is the client's job (one retry policy); what reaches the scan is final
    client = FakeClient(NOW)
    key = _key(TEMPLATES[0], _plan(TEMPLATES[0])[-1])
    client.faults[key] = [ServerError(503, "GET", "http://127.0.0.1/module/v3/en/x")]
    frame = scan_slots(client, progress=False, errors="report")
    assert Counter(client.calls)[key] == 1
    assert [m["template_id"] for m in frame.attrs["missing"]] == [TEMPLATES[0]["id"]]


def test_permanent_failure_raises_scan_error_naming_template_and_dates() -> None:
    client = FakeClient(NOW)
    tpl = TEMPLATES[0]
    call = _plan(tpl)[-1]
    assert call.label == "listMonth 2026-12 (2026-12-01..2026-12-31)"
    client.faults[_key(tpl, call)] = [
        TransportError("connection dropped", method="GET", url="http://127.0.0.1/x")
    ] * 5
    with pytest.raises(ScanError) as info:
        scan_slots(client, progress=False)
    err = info.value
    assert tpl["id"] in str(err) and "Haircut" in str(err)
    # the missing days are those of the template's window the call was to cover
    assert "2026-12-01..2026-12-15 (listMonth 2026-12 (2026-12-01..2026-12-31))" in str(err)
    assert err.missing == [
        {
            "template_id": tpl["id"],
            "template_name": "Haircut",
            "call": "month",
            "start": date(2026, 12, 1),
            "end": date(2026, 12, 15),
            "error": "GET …/x: connection dropped",
        }
    ]
    assert Counter(client.calls)[_key(tpl, call)] == 1  # no retry by the scan
    # what did arrive is kept on the error, without the failed month
    mine = err.partial[err.partial["template_id"] == tpl["id"]]
    assert set(mine["start"].dt.month) == {11}
    assert (err.partial["template_id"] == TEMPLATES[1]["id"]).any()


def test_errors_report_returns_the_rest_and_lists_the_gap() -> None:
    client = FakeClient(NOW)
    tpl = TEMPLATES[1]
    call = _plan(tpl)[0]  # listWeek 2026-W48
    client.faults[_key(tpl, call)] = [ServerError(500, "GET", "http://127.0.0.1/x")] * 3
    frame = scan_slots(client, progress=False, errors="report")
    assert [(m["template_id"], m["start"], m["end"]) for m in frame.attrs["missing"]] == [
        (tpl["id"], date(2026, 11, 27), date(2026, 11, 29))
    ]
    complete = scan_slots(FakeClient(NOW), progress=False)
    gap = (complete["template_id"] == tpl["id"]) & (complete["start"].dt.date < date(2026, 11, 30))
    pd.testing.assert_frame_equal(frame, complete[~gap].reset_index(drop=True))


def test_permission_denied_stops_the_scan_with_the_original_error() -> None:
    client = FakeClient(NOW)
    key = _key(TEMPLATES[0], _plan(TEMPLATES[0])[0])
    client.faults[key] = [PermissionDenied(403, "GET", "http://127.0.0.1/x")]
    with pytest.raises(PermissionDenied):
        scan_slots(client, progress=False, concurrency=1)
    assert Counter(client.calls)[key] == 1
    assert len(client.calls) < len(_plan(TEMPLATES[0])) + len(_plan(TEMPLATES[1]))


def test_unknown_template_and_bad_arguments_are_named() -> None:
    client = FakeClient(NOW)
    with pytest.raises(ValueError, match="template_ids: fcNOPE is not a template"):
        scan_slots(client, ["fcNOPE"], progress=False)
    with pytest.raises(ValueError, match="concurrency"):
        scan_slots(client, concurrency=0)
    for odd in (float("nan"), 2.5, True, "8"):  # a NaN once made a pool with no thread: a hang
        with pytest.raises(TypeError, match="concurrency: must be a whole number"):
            scan_slots(client, concurrency=odd)  # type: ignore[arg-type]
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


# --------------------------------------------------------------------------- the real sandbox

SB_NOW = "2026-12-02T08:00:00+01:00"  # a Wednesday morning in Berlin


@pytest.fixture(scope="module")
def sb() -> Iterator[Sandbox]:
    with Sandbox(now=SB_NOW) as sandbox:
        yield sandbox


@pytest.fixture
def fresh(sb: Sandbox) -> Iterator[Sandbox]:
    """The module's sandbox with no faults and an empty request log."""
    sb.clear_faults()
    sb.clear_requests()
    yield sb
    sb.clear_faults()


def _client(sb: Sandbox) -> Client:
    """A cold client on the sandbox's clock whose own retries do not sleep."""
    return bt_explore.connect(sandbox=sb, retry=default_retry(backoff_factor=0))


def _slot_requests(sb: Sandbox) -> list:
    return [r for r in sb.api_requests if "/bookingSlot/" in r.path]


RANGE = (date(2026, 12, 2), date(2026, 12, 23))


@pytest.fixture(scope="module")
def reference(sb: Sandbox) -> pd.DataFrame:
    """A fault-free scan of RANGE (computed once; the sandbox's slots do not change)."""
    with _client(sb) as client:
        return scan_slots(client, start=RANGE[0], end=RANGE[1], progress=False)


def test_scan_equals_the_union_of_per_template_slots_calls(
    fresh: Sandbox, reference: pd.DataFrame
) -> None:
    today = fresh.now().astimezone(BERLIN).date()
    with _client(fresh) as client:
        templates = client.templates()
        assert len(templates) >= 4
        fresh.clear_requests()
        parts = []
        for tpl in templates:
            lo = max(RANGE[0], today + timedelta(days=tpl["bookingDayEarliest"]))
            hi = min(RANGE[1], today + timedelta(days=tpl["bookingDayLatest"] + 1))
            if hi > lo:
                parts.append(slots_frame(client.slots(tpl["id"], lo, hi), template=tpl))
        per_template_calls = len(_slot_requests(fresh))
    expected = (
        pd.concat(parts, ignore_index=True)
        .sort_values(["template_id", "start"], kind="stable")
        .reset_index(drop=True)
    )
    assert len(reference) > 1000
    assert reference["template_id"].nunique() > 4
    pd.testing.assert_frame_equal(reference.drop(columns="template_name"), expected)
    assert reference.attrs["calls"] == per_template_calls  # the same plan, call for call


def test_default_scan_uses_each_templates_window_and_one_token(fresh: Sandbox) -> None:
    today = fresh.now().astimezone(BERLIN).date()
    with _client(fresh) as client:
        frame = scan_slots(client, concurrency=8, progress=False)
        templates = {t["id"]: t for t in client.templates()}
    for tid, rows in frame.groupby("template_id"):
        tpl = templates[tid]
        days = rows["start"].dt.date
        assert days.min() >= today + timedelta(days=tpl["bookingDayEarliest"])
        assert days.max() <= today + timedelta(days=tpl["bookingDayLatest"])
        assert (rows["template_name"] == tpl["name"]).all()
    slot_requests = _slot_requests(fresh)
    assert len(slot_requests) == frame.attrs["calls"]
    assert len({(r.path, r.query) for r in slot_requests}) == len(slot_requests)
    # 8 threads, one client: one refresh token and one access token for the organization
    grants = Counter(r.grant_type for r in fresh.token_requests)
    assert grants == {"client_credentials": 1, "refresh_token": 1}


def test_429_and_503_answers_are_survived_with_identical_results(
    fresh: Sandbox, reference: pd.DataFrame
) -> None:
    fresh.set_faults(rate=0.3, statuses=(429, 503), retry_after=0, seed=11)
    # the client's one retry policy, with more tries than the default 3 (0.3 ** 7 per call)
    retry = default_retry(total=6, backoff_factor=0)
    with bt_explore.connect(sandbox=fresh, retry=retry) as client:
        frame = scan_slots(client, start=RANGE[0], end=RANGE[1], progress=False)
    statuses = Counter(r.status for r in fresh.api_requests)
    assert statuses[429] > 0 and statuses[503] > 0
    assert frame.attrs["missing"] == []
    pd.testing.assert_frame_equal(frame, reference)


def test_a_period_that_keeps_failing_is_named_with_template_and_dates(
    fresh: Sandbox, reference: pd.DataFrame
) -> None:
    victim = reference["template_id"].iloc[0]
    name = reference["template_name"].iloc[0]
    fresh.set_faults(rate=1.0, statuses=(503,), paths=rf"/bookingTemplate/{victim}/bookingSlot/")
    with _client(fresh) as client:
        with pytest.raises(ScanError) as info:
            scan_slots(client, start=RANGE[0], end=RANGE[1], progress=False)
    err = info.value
    assert victim in str(err) and name in str(err)
    assert {m["template_id"] for m in err.missing} == {victim}
    assert all("503" in m["error"] for m in err.missing)
    covered = set()
    for m in err.missing:
        assert m["start"].isoformat() in str(err) and m["end"].isoformat() in str(err)
        covered |= {m["start"] + timedelta(days=i) for i in range((m["end"] - m["start"]).days + 1)}
    assert set(reference.loc[reference["template_id"] == victim, "start"].dt.date) <= covered
    # each failed call: 4 requests, the first and the client's 3 retries; the scan adds none
    failed = [r for r in fresh.api_requests if r.status == 503]
    assert len(failed) == 4 * len(err.missing)
    # the rest arrived, unchanged
    pd.testing.assert_frame_equal(
        err.partial, reference[reference["template_id"] != victim].reset_index(drop=True)
    )


def test_plots_of_a_real_scan(fresh: Sandbox, reference: pd.DataFrame) -> None:
    from bt_explore import plots

    grid = plots.availability_heatmap(reference).axes[0].images[0].get_array()
    assert grid.sum() == len(reference)
    starts = reference["start"]
    monday_nine = ((starts.dt.day_of_week == 0) & (starts.dt.hour == 9)).sum()
    assert grid[0, 9 - int(starts.dt.hour.min())] == monday_nine
    with _client(fresh) as client:
        resources = client.resources_frame()
    ax = plots.resource_load(reference, resources).axes[0]
    labels = {t.get_text() for t in ax.get_yticklabels()}
    assert labels <= set(resources["name"]) and labels
    lines = plots.daily_availability(reference).axes[0].get_lines()
    assert sum(line.get_ydata().sum() for line in lines) == len(reference)


def test_cli_scan_prints_a_summary_and_writes_csv(
    tmp_path, capsys: pytest.CaptureFixture[str]
) -> None:
    from bt_explore.cli import main

    out = tmp_path / "slots.csv"
    assert main(["scan", "--weeks", "1", "--no-progress", "--csv", str(out)]) == 0
    printed = capsys.readouterr().out
    table = pd.read_csv(out)
    assert list(table.columns) == list(SCAN_COLUMNS)
    assert (
        f"{len(table)} free slots in {table['template_id'].nunique()} of 11 template(s)" in printed
    )
    for name in table["template_name"].unique():
        assert name in printed
    assert table["resource_ids"].str.fullmatch(r"br\w{30}( br\w{30})*").all()


def test_cli_scan_of_the_organization_and_its_branches(
    tmp_path, capsys: pytest.CaptureFixture[str]
) -> None:
    from bt_explore.cli import main

    out = tmp_path / "chain.csv"
    assert main(["scan", "--weeks", "1", "--branches", "--no-progress", "--csv", str(out)]) == 0
    table = pd.read_csv(out)
    assert list(table.columns) == list(ORGANIZATION_SCAN_COLUMNS)
    assert table["organization_id"].nunique() == 3  # the demo practice and its two branches
    printed = capsys.readouterr().out
    assert "of 13 template(s)" in printed and "Physiotherapy (Potsdam)" in printed

    branch = table.loc[table["template_name"] == "Check-up (Mitte)", "organization_id"].iloc[0]
    assert main(["scan", "--weeks", "1", "--organization", branch, "--no-progress"]) == 0
    printed = capsys.readouterr().out
    assert "Check-up (Mitte)" in printed and "of 1 template(s)" in printed


def test_cli_scan_rejects_an_unknown_template(capsys: pytest.CaptureFixture[str]) -> None:
    from bt_explore.cli import main

    assert main(["scan", "--template", "fcNOPE", "--no-progress"]) == 2
    assert "fcNOPE is not a template of organization f6" in capsys.readouterr().err


def test_a_recording_client_is_scanned_on_one_thread() -> None:
    client = FakeClient(NOW)
    client.cassette = object()  # what connect(mode="record"|"replay") attaches
    frame = scan_slots(client, concurrency=8, progress=False)
    assert len(client.threads) == 1
    pd.testing.assert_frame_equal(frame, scan_slots(FakeClient(NOW), progress=False))


def test_an_organization_the_client_may_not_see_fails_at_once(fresh: Sandbox) -> None:
    with _client(fresh) as client:
        with pytest.raises(PermissionDenied):
            scan_slots(client, organization_id=fresh.other_organization_id, progress=False)
    assert _slot_requests(fresh) == []


def test_an_answer_that_is_not_a_slot_list_is_a_reported_gap(
    fresh: Sandbox, reference: pd.DataFrame
) -> None:
    with _client(fresh) as client:
        victim = client.templates()[0]["id"]
        send = client._slot_period_answer

        def proxy_page(template_id, kind, day, organization_id):
            response = send(template_id, kind, day, organization_id)
            if template_id == victim:
                response._content = b"<html>502 Bad Gateway</html>"  # a 200 from a bad proxy
            return response

        client._slot_period_answer = proxy_page  # type: ignore[method-assign]
        frame = scan_slots(
            client, start=RANGE[0], end=RANGE[1], errors="report", concurrency=4, progress=False
        )
    assert {m["template_id"] for m in frame.attrs["missing"]} == {victim}
    assert all("502 Bad Gateway" in m["error"] for m in frame.attrs["missing"])
    others = reference[reference["template_id"] != victim].reset_index(drop=True)
    pd.testing.assert_frame_equal(frame, others)


# --------------------------------------------------------------------------- several organizations


class ZonedClient(FakeClient):
    """A FakeClient whose organizations ``f6tokyo…`` live in Tokyo and the others in Berlin."""

    def organization(self, organization_id: str | None = None) -> dict:
        zone = "Asia/Tokyo" if str(organization_id).startswith("f6tokyo") else "Europe/Berlin"
        return {"class": "ORGANIZATION", "id": organization_id, "timeZone": zone}


def test_a_list_of_organizations_adds_the_column_and_one_organization_keeps_the_frame() -> None:
    one = scan_slots(FakeClient(NOW), organization_id="f6berlin", progress=False)
    assert tuple(one.columns) == SCAN_COLUMNS and "organizations" not in one.attrs
    listed = scan_slots(FakeClient(NOW), organization_id=["f6berlin"], progress=False)
    assert tuple(listed.columns) == ORGANIZATION_SCAN_COLUMNS
    assert listed.attrs["organizations"] == ["f6berlin"]
    pd.testing.assert_frame_equal(listed.drop(columns="organization_id"), one)
    with pytest.raises(ValueError, match="at least one organization"):
        scan_slots(FakeClient(NOW), organization_id=[], progress=False)
    with pytest.raises(TypeError, match="organization ids must be strings"):
        scan_slots(FakeClient(NOW), organization_id=[None], progress=False)  # type: ignore[list-item]


def test_organizations_in_different_zones_give_utc_times_sorted_by_organization() -> None:
    orgs = ["f6tokyo" + "0" * 25, "f6berlin" + "0" * 24]
    frame = scan_slots(ZonedClient(NOW), organization_id=orgs, progress=False)
    assert str(frame["start"].dt.tz) == "UTC"
    assert list(frame["organization_id"].unique()) == sorted(orgs)
    assert frame.equals(
        frame.sort_values(["organization_id", "template_id", "start"], kind="stable")
    )
    # each organization's window starts on its own local today
    tokyo = frame[frame["organization_id"] == orgs[0]]
    assert len(tokyo) and len(frame) == 2 * len(tokyo)


def _branch_ids(sb: Sandbox) -> list[str]:
    with _client(sb) as client:
        return [b["id"] for b in client.branches()]


def test_a_chain_is_scanned_in_one_call_with_one_token_per_organization(fresh: Sandbox) -> None:
    orgs = [fresh.organization_id, *_branch_ids(fresh)]
    assert len(orgs) == 3
    fresh.clear_requests()
    with _client(fresh) as client:
        frame = scan_slots(
            client, start=RANGE[0], end=RANGE[1], organization_id=orgs, progress=False
        )
    grants = Counter(r.grant_type for r in fresh.token_requests)
    assert grants == {"client_credentials": 1, "refresh_token": 3}
    assert tuple(frame.columns) == ORGANIZATION_SCAN_COLUMNS
    assert frame.attrs["organizations"] == orgs and frame.attrs["missing"] == []
    assert len(_slot_requests(fresh)) == frame.attrs["calls"]
    assert set(frame["organization_id"]) == set(orgs)
    assert frame.equals(
        frame.sort_values(["organization_id", "template_id", "start"], kind="stable")
    )
    with _client(fresh) as client:  # the same as scanning each organization on its own
        for org in orgs:
            alone = scan_slots(
                client, start=RANGE[0], end=RANGE[1], organization_id=org, progress=False
            )
            part = frame[frame["organization_id"] == org].drop(columns="organization_id")
            pd.testing.assert_frame_equal(part.reset_index(drop=True), alone)


def test_template_ids_of_several_organizations_are_kept_per_organization(fresh: Sandbox) -> None:
    branches = _branch_ids(fresh)
    orgs = [fresh.organization_id, *branches]
    with _client(fresh) as client:
        ids = [client.templates()[0]["id"], client.templates(organization_id=branches[1])[0]["id"]]
        frame = scan_slots(
            client, ids, end=timedelta(weeks=1), organization_id=orgs, progress=False
        )
        assert frame.groupby("organization_id")["template_id"].unique().to_dict() == {
            fresh.organization_id: [ids[0]],
            branches[1]: [ids[1]],
        }
        assert frame.attrs["templates"] == 2
        with pytest.raises(ValueError, match=r"fcNOPE is not a template of organizations f6"):
            scan_slots(client, [ids[0], "fcNOPE"], organization_id=orgs, progress=False)


def test_a_forbidden_organization_among_several_stops_the_scan(fresh: Sandbox) -> None:
    orgs = [fresh.organization_id, fresh.other_organization_id]
    with _client(fresh) as client:
        with pytest.raises(PermissionDenied):
            scan_slots(client, organization_id=orgs, progress=False)
    assert _slot_requests(fresh) == []


def test_gaps_of_several_organizations_name_their_organization(fresh: Sandbox) -> None:
    branches = _branch_ids(fresh)
    orgs = [fresh.organization_id, *branches]
    with _client(fresh) as client:
        victim = client.templates(organization_id=branches[0])[0]["id"]
    fresh.set_faults(rate=1.0, statuses=(503,), paths=rf"/bookingTemplate/{victim}/bookingSlot/")
    with _client(fresh) as client:
        frame = scan_slots(
            client, end=timedelta(weeks=2), errors="report", organization_id=orgs, progress=False
        )
        with pytest.raises(ScanError, match=rf"organization {branches[0]} template {victim}"):
            scan_slots(client, end=timedelta(weeks=2), organization_id=orgs, progress=False)
    assert frame.attrs["missing"]
    assert {(m["organization_id"], m["template_id"]) for m in frame.attrs["missing"]} == {
        (branches[0], victim)
    }
    assert set(frame["organization_id"]) == {fresh.organization_id, branches[1]}


_SLOT_PATH = re.compile(
    r"/bookingTemplate/(?P<template>[^/]+)/bookingSlot/year/(?P<year>\d+)"
    r"(?:/month/(?P<month>\d+)(?:/day/(?P<day>\d+))?|/week/(?P<week>\d+))/list"
)


def _days_fetched(path: str) -> tuple[str, set[date]]:
    """The template and the days one slot request of the sandbox's log fetched."""
    m = _SLOT_PATH.search(path)
    assert m is not None, path
    year = int(m["year"])
    if m["week"]:
        first = date.fromisocalendar(year, int(m["week"]), 1)
        stop = first + timedelta(days=7)
    elif m["day"]:
        first = date(year, int(m["month"]), int(m["day"]))
        stop = first + timedelta(days=1)
    else:
        first = date(year, int(m["month"]), 1)
        stop = date(year + (first.month == 12), first.month % 12 + 1, 1)
    return m["template"], {first + timedelta(days=i) for i in range((stop - first).days)}


def test_a_scan_across_a_month_end_fetches_no_day_twice_and_warns_nothing(
    caplog: pytest.LogCaptureFixture,
) -> None:
    # issue 21.5: listMonth 2026-12 and listWeek 2026-W53 both fetched Dec 28-31, and the
    # 300 slots fetched twice were reported as "slot ids at two different times"
    with Sandbox(now="2026-12-06T09:00:00+01:00") as sandbox:
        with caplog.at_level(logging.WARNING, logger="bt_explore"):
            with _client(sandbox) as client:
                frame = scan_slots(client, progress=False)
        requests_ = _slot_requests(sandbox)
    assert frame["start"].dt.month.nunique() > 1  # the scan crosses the month end
    fetched: dict[str, set[date]] = {}
    for record in requests_:
        template, days = _days_fetched(record.path)
        twice = fetched.setdefault(template, set()) & days
        assert not twice, f"{record.path} fetches {sorted(twice)} again"
        fetched[template] |= days
    assert len(requests_) == frame.attrs["calls"]
    assert caplog.records == []
