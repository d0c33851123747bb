"""The slot engine, slot ids, DST, the clock, the app factory and the CLI subcommand."""

from __future__ import annotations

import argparse
import json
from datetime import date, datetime, timedelta, timezone

import pytest
import requests
from _sandbox_http import bearer

from bt_explore.endpoints import ID_PATTERN
from bt_explore.sandbox import Sandbox, SandboxState, create_app
from bt_explore.sandbox.engine import (
    WEEKDAYS,
    OrganizationRules,
    SlotCodec,
    TemplateRules,
    free_slots,
    local_midnight,
)
from bt_explore.sandbox.state import Clock

MASSAGE = "fcyqesBhPT0MPaIrlh9dZMl65o6mSmCg"  # staff incl. David, who works on Sundays
ROOM_RENTAL = "fc0Ckv17XnURPjf3fUAY55KvQ4MyN88G"  # rooms only, every opening day


def api_get(sb: Sandbox, path: str) -> dict:
    answer = requests.get(
        f"{sb.api_url}en/organization/{sb.organization_id}/{path}",
        headers=bearer(sb),
        timeout=5,
    )
    assert answer.status_code == 200, answer.text
    return answer.json()["content"]


# --- DST -------------------------------------------------------------------------------------
def test_spring_forward_week_has_both_offsets() -> None:
    with Sandbox(now="2027-03-20T09:00:00+01:00") as sb:
        week = api_get(sb, f"bookingTemplate/{MASSAGE}/bookingSlot/year/2027/week/12/listWeek")
        assert week["rangeStart"] == "2027-03-22T00:00:00+01:00"
        assert week["rangeEnd"] == "2027-03-29T00:00:00+02:00"
        saturday = [s["timestamp"] for s in week["list"] if s["timestamp"].startswith("2027-03-27")]
        sunday = [s["timestamp"] for s in week["list"] if s["timestamp"].startswith("2027-03-28")]
        assert saturday and all(t.endswith("+01:00") for t in saturday)
        assert sunday and all(t.endswith("+02:00") for t in sunday)
        assert sunday[0] == "2027-03-28T10:00:00+02:00"  # Sunday opening 10:00 local
        day = api_get(sb, f"bookingTemplate/{MASSAGE}/bookingSlot/year/2027/month/3/day/28/listDay")
        assert day["rangeStart"] == "2027-03-28T00:00:00+01:00"
        assert day["rangeEnd"] == "2027-03-29T00:00:00+02:00"
        assert [s["timestamp"] for s in day["list"]] == sunday


def test_fall_back_day_has_winter_offsets() -> None:
    with Sandbox(now="2026-10-20T09:00:00+02:00") as sb:
        day = api_get(
            sb, f"bookingTemplate/{MASSAGE}/bookingSlot/year/2026/month/10/day/25/listDay"
        )
        assert day["rangeStart"] == "2026-10-25T00:00:00+02:00"
        assert day["rangeEnd"] == "2026-10-26T00:00:00+01:00"
        stamps = [s["timestamp"] for s in day["list"]]
        assert stamps[0] == "2026-10-25T10:00:00+01:00"
        assert all(t.endswith("+01:00") and t[11:13] in {"10", "11", "12", "13"} for t in stamps)
        friday = api_get(
            sb, f"bookingTemplate/{ROOM_RENTAL}/bookingSlot/year/2026/month/10/day/23/listDay"
        )["list"]
        assert friday[0]["timestamp"] == "2026-10-23T08:00:00+02:00"


def test_engine_grid_is_local_across_dst() -> None:
    org = OrganizationRules.from_entity({"timeZone": "Europe/Berlin", "openingHours": [
        {"weekday": d, "start": "00:00", "end": "24:00"} for d in WEEKDAYS]})  # fmt: skip
    rules = TemplateRules("fc" + "a" * 30, "f6", 60, 0, 0, 0, 0, 30, (("r",),))
    start = local_midnight(date(2027, 3, 28), org.tz)
    now = start - 86400
    slots = free_slots(org, rules, {}, {}, start, start + 23 * 3600, now)
    # 23-hour day: 00:00..23:00 local in quarter hours, minus the last hour for a 60 min block
    assert len(slots) == 23 * 4 - 3
    local = [datetime.fromtimestamp(s, org.tz) for s, _ in slots]
    assert all(t.minute % 15 == 0 for t in local)
    assert not any(t.hour == 2 for t in local)  # 02:00-03:00 does not exist that night


# --- engine rules ----------------------------------------------------------------------------
def _org(start: str = "09:00", end: str = "12:00") -> OrganizationRules:
    return OrganizationRules.from_entity({"timeZone": "UTC", "openingHours": [
        {"weekday": d, "start": start, "end": end} for d in WEEKDAYS]})  # fmt: skip


def test_lead_and_followup_time_must_fit_and_be_free() -> None:
    org = _org()
    day = local_midnight(date(2027, 1, 4), org.tz)
    rules = TemplateRules("fc" + "a" * 30, "f6", 30, 15, 15, 0, 0, 1, (("r",),))
    starts = [(s - day) // 60 for s, _ in free_slots(org, rules, {}, {}, day, day + 86400, day)]
    assert starts[0] == 9 * 60 + 15 and starts[-1] == 11 * 60 + 15
    busy = {"r": ((day + 10 * 3600,), (day + 10 * 3600 + 1800,))}  # 10:00-10:30 blocked
    starts = [(s - day) // 60 for s, _ in free_slots(org, rules, {}, busy, day, day + 86400, day)]
    assert 9 * 60 + 15 in starts and 10 * 60 + 45 in starts
    assert not {9 * 60 + 30, 9 * 60 + 45, 10 * 60, 10 * 60 + 15, 10 * 60 + 30} & set(starts)


def test_window_lead_minutes_and_working_days() -> None:
    org = _org()
    monday = local_midnight(date(2027, 1, 4), org.tz)
    rules = TemplateRules("fc" + "a" * 30, "f6", 60, 0, 0, 90, 1, 2, (("r", "s"),))
    now = monday + 9 * 3600
    slots = free_slots(org, rules, {}, {}, monday, monday + 7 * 86400, now)
    days = {datetime.fromtimestamp(s, org.tz).date() for s, _ in slots}
    assert days == {date(2027, 1, 5), date(2027, 1, 6)}  # earliest 1, latest 2 days
    rules = TemplateRules("fc" + "a" * 30, "f6", 60, 0, 0, 90, 0, 0, (("r", "s"),))
    slots = free_slots(org, rules, {}, {}, monday, monday + 86400, now)
    assert (slots[0][0] - monday) // 60 == 10 * 60 + 30  # 09:00 + 90 minutes
    off_on_monday = {"r": frozenset(range(1, 7))}
    assert free_slots(org, rules, off_on_monday, {}, monday, monday + 86400, monday) == []


def test_first_only_returns_every_combination_of_the_earliest_start() -> None:
    org = _org()
    day = local_midnight(date(2027, 1, 4), org.tz)
    rules = TemplateRules("fc" + "a" * 30, "f6", 60, 0, 0, 0, 0, 5, (("a",), ("b",), ("c",)))
    busy = {"a": ((day + 9 * 3600,), (day + 10 * 3600,))}
    first = free_slots(org, rules, {}, busy, day, day + 86400, day, first_only=True)
    assert first == [(day + 9 * 3600, ("b",)), (day + 9 * 3600, ("c",))]


def test_template_rules_build_distinct_combinations() -> None:
    rules = TemplateRules.from_entity(
        {"id": "fc" + "a" * 30, "duration": 30}, "f6", [["x", "y"], ["y", "z"]]
    )
    assert rules.combinations == (("x", "y"), ("x", "z"), ("y", "z"))


# --- slot ids --------------------------------------------------------------------------------
def test_slot_codec_round_trip_and_malformed_ids() -> None:
    templates = ["fc" + "a" * 30, "fc" + "b" * 30]
    resources = ["br" + c * 30 for c in "cdefg"]
    codec = SlotCodec(templates, resources)
    start = int(datetime(2027, 5, 3, 9, 15, tzinfo=timezone.utc).timestamp())
    for combo in [(resources[0],), tuple(resources[1:5])]:
        slot_id = codec.encode(templates[1], start, combo)
        assert ID_PATTERN.match(slot_id) and slot_id.startswith("4f")
        assert codec.decode(slot_id) == (templates[1], start, combo)
        assert SlotCodec(templates, resources).encode(templates[1], start, combo) == slot_id
    ids = {codec.encode(templates[0], start + 900 * i, (resources[0],)) for i in range(200)}
    assert len(ids) == 200
    one = codec.encode(templates[0], start, (resources[0],))
    assert one == f"4f0000{start // 60:010d}0001" + "0" * 12  # template, minute, resources
    assert codec.decode("4f0002" + one[6:]) is None  # no third template
    assert codec.decode(one[:6] + "00000000x9" + one[16:]) is None  # the minute is decimal
    assert codec.decode(one[:-4] + "000a") is None  # a gap before the fourth resource
    assert codec.decode(one[:16] + "00ZZ" + one[20:]) is None  # no such resource
    assert codec.decode(one[:16] + "0" * 16) is None  # no resource
    assert codec.decode("4f" + "!" * 30) is None and codec.decode("fc" + "a" * 30) is None
    with pytest.raises(ValueError):
        codec.encode(templates[0], start, tuple(resources))
    with pytest.raises(ValueError):
        codec.encode(templates[0], start + 30, (resources[0],))


# --- clock -----------------------------------------------------------------------------------
def test_clock_pinned_wall_and_naive() -> None:
    pinned = Clock("2026-12-01T09:00:00+01:00")
    assert pinned.pinned and pinned.now() == datetime(2026, 12, 1, 8, tzinfo=timezone.utc)
    pinned.advance(3600)
    assert pinned.now() == datetime(2026, 12, 1, 9, tzinfo=timezone.utc)
    wall = Clock()
    before = datetime.now(timezone.utc)
    assert not wall.pinned and wall.now() >= before
    wall.advance(86400)
    assert wall.now() - before >= timedelta(days=1)
    sb = Sandbox(now="2026-12-01T09:00")  # naive: the demo organization's time zone
    assert sb.now() == datetime(2026, 12, 1, 8, tzinfo=timezone.utc)
    assert Sandbox(now=datetime(2026, 12, 1, 8, tzinfo=timezone.utc)).now().hour == 8
    assert Sandbox(now="2026-12-01T08:00:00Z").now().hour == 8
    with pytest.raises(ValueError, match="now"):
        Sandbox(now="next tuesday")


def test_slots_follow_the_clock(sandbox: Sandbox) -> None:
    earliest = "bookingTemplate/fc12345678910AbcDefGh1112131415a/bookingSlot/earliest"
    before = api_get(sandbox, earliest)["bookingSlotList"][0]
    assert before["timestamp"] == "2026-12-01T11:00:00+01:00"
    sandbox.advance(3 * 3600)  # 12:00: lunch break, next start 13:00 + 120 min lead = 14:00
    after = api_get(sandbox, earliest)["bookingSlotList"][0]
    assert after["timestamp"] == "2026-12-01T14:00:00+01:00"


def test_seed_appointments_are_placed_relative_to_today() -> None:
    with Sandbox(now="2027-06-01T09:00:00+02:00") as sb:
        found = api_get(sb, "appointment/demo-0001/identify")
        assert found["start"] == "2027-06-02T10:00:00+02:00"
    assert {a["customId"] for a in sb.appointments()} >= {"demo-0001", "demo-0004"}
    assert [a["canceled"] for a in sb.appointments() if a["customId"] == "demo-0004"] == [True]


# --- app factory, server -------------------------------------------------------------------
def test_create_app_works_with_flasks_test_client() -> None:
    state = SandboxState(now="2026-12-01T09:00:00+01:00")
    client = create_app(state).test_client()
    refresh = client.post("/oauth/token", data={
        "grant_type": "client_credentials", "client_id": state.data.demo_client_id}).json  # fmt: skip
    access = client.post("/oauth/token", json={
        "grant_type": "refresh_token", "refresh_token": refresh["refresh_token"],
        "organization_id": state.data.demo_organization_id}).json["access_token"]  # fmt: skip
    org = state.data.demo_organization_id
    answer = client.get(
        f"/module/v3/en/organization/{org}/bookingResource/list",
        headers={"Authorization": f"Bearer {access}"},
    )
    assert answer.status_code == 200 and answer.json["content"]["recordTotal"] >= 4
    assert [r.status for r in state.log.records()] == [200, 200, 200]


def test_start_stop_and_a_fixed_port() -> None:
    sb = Sandbox()
    assert not sb.running and "not started" in repr(sb)
    sb.start()
    port = sb.port
    assert sb.start() is sb and sb.running  # idempotent
    assert requests.get(sb.base_url + "/", timeout=5).status_code == 200
    sb.stop()
    sb.stop()
    with pytest.raises(requests.ConnectionError):
        requests.get(f"http://127.0.0.1:{port}/", timeout=2)
    with Sandbox(port=port) as again:
        assert again.port == port and again.base_url == f"http://127.0.0.1:{port}"


# --- CLI ---------------------------------------------------------------------------------------
def test_cli_subcommand_serves_until_interrupted(monkeypatch: pytest.MonkeyPatch, capsys) -> None:
    from bt_explore._cli import sandbox as command

    parser = argparse.ArgumentParser()
    command.add_arguments(parser)
    args = parser.parse_args(
        ["--port", "0", "--now", "2026-12-01T09:00:00+01:00", "--latency", "5"]
    )
    served: list[int] = []

    def fake_wait() -> None:
        """Stands in for the forever-wait: checks the live server, then acts like Ctrl-C."""
        out = capsys.readouterr().out
        url = next(line.split()[-1] for line in out.splitlines() if "token URL" in line)
        fields = {
            "grant_type": "client_credentials",
            "client_id": "23123456788998745612312345678912",
        }
        served.append(requests.post(url, data=fields, timeout=5).status_code)
        print(out)
        raise KeyboardInterrupt

    monkeypatch.setattr(command, "_block_until_interrupted", fake_wait)
    assert command.run(args) == 0
    assert served == [200]
    out = capsys.readouterr().out
    assert "23123456788998745612312345678912" in out and "f6123456789101112131415aBCdeFgHi" in out
    assert "2026-12-01T09:00:00+01:00" in out and "latency" in out
    bad = parser.parse_args(["--host", "0.0.0.0"])
    assert command.run(bad) == 2


def test_cli_faults_and_request_log(monkeypatch: pytest.MonkeyPatch, capsys, tmp_path) -> None:
    from bt_explore._cli import sandbox as command

    parser = argparse.ArgumentParser()
    command.add_arguments(parser)
    log_file = tmp_path / "requests.jsonl"
    args = parser.parse_args(
        ["--port", "0", "--now", "2026-12-01T09:00:00+01:00", "--fault-rate", "1",
         "--fault-statuses", "503", "--request-log", str(log_file)]
    )  # fmt: skip
    statuses: list[int] = []

    def fake_wait() -> None:
        out = capsys.readouterr().out
        url = next(line.split()[2] for line in out.splitlines() if "API URL" in line)
        statuses.append(requests.get(url + "en/static/country/list", timeout=5).status_code)
        raise KeyboardInterrupt

    monkeypatch.setattr(command, "_block_until_interrupted", fake_wait)
    assert command.run(args) == 0
    assert statuses == [503]
    (line,) = log_file.read_text().splitlines()
    record = json.loads(line)
    assert (record["method"], record["path"], record["status"]) == (
        "GET", "/module/v3/en/static/country/list", 503,
    )  # fmt: skip
    assert record["time"] == "2026-12-01T08:00:00Z"
    assert command.run(parser.parse_args(["--fault-rate", "2"])) == 2
