"""Client methods against a real in-process Sandbox over HTTP: shapes, request counts,
slot range planning, retries."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import bt_explore
from bt_explore import ApiResult, ServerError, UnexpectedResponse, ValidationError
from bt_explore.client import default_retry, new_custom_id, plan_slot_calls
from bt_explore.endpoints import ENDPOINTS

NOW = "2026-12-01T09:00:00+01:00"
BERLIN = ZoneInfo("Europe/Berlin")
ADA = {
    "firstName": "Ada",
    "lastName": "Lovelace",
    "email": "ada@example.com",
    "mobile": "+49 151 23456789",
}


def counts(sb):
    return len(sb.token_requests), len(sb.api_requests)


def test_cold_booking_flow_is_five_requests_and_warm_is_three(client, sb):
    template = client.templates()[0]
    slot = client.earliest_slot(template["id"])["bookingSlotList"][0]
    client.book(slot["id"], ADA)
    assert counts(sb) == (2, 3)
    sb.clear_requests()
    template = client.templates()[0]
    slot = client.earliest_slot(template["id"])["bookingSlotList"][0]
    appointment = client.book(slot["id"], ADA)
    assert counts(sb) == (0, 3)
    assert appointment["class"] == "APPOINTMENT"
    assert [r.method for r in sb.api_requests] == ["GET", "GET", "POST"]


def test_organization(client, sb):
    org = client.organization()
    assert org["id"] == sb.organization_id
    assert org["timeZone"] == "Europe/Berlin"


def test_list_endpoints_return_the_record_list(client):
    templates = client.templates()
    assert isinstance(templates, list) and len(templates) >= 4
    assert all(t["class"] == "BOOKING_TEMPLATE" for t in templates)
    resources = client.resources()
    assert all(r["class"] == "BOOKING_RESOURCE" for r in resources)
    assert {r["type"] for r in resources} >= {"EMPLOYEE", "ROOM"}
    related = client.resource_templates(resources[0]["id"])
    assert related and all(t["class"] == "BOOKING_TEMPLATE" for t in related)


def test_entities_by_id_and_custom_id(client):
    template = client.template_by_custom_id("4321")
    assert template["name"] == "Demo Appointment 2"
    assert client.template(template["id"]) == template
    anna = client.resource_by_custom_id("anna")
    assert client.resource(anna["id"])["customId"] == "anna"


def test_static_lists(client):
    assert any(c.get("code") == "DE" and c.get("name") for c in client.countries())
    assert client.currencies() and client.languages() and client.time_zones()
    assert client.static_list("sector")
    with pytest.raises(ValueError, match="timeZone"):
        client.static_list("planets")


def test_call_returns_content_messages_and_the_exchange(client, sb):
    result = client.call("template_list")
    assert isinstance(result, ApiResult)
    assert result.status_code == 200 and result.method == "GET"
    assert result.url.endswith(f"/organization/{sb.organization_id}/bookingTemplate/list")
    assert result.content["class"] == "LIST"
    assert result.records == result.content["recordList"]
    assert isinstance(result.messages, tuple)
    assert "LIST of" in repr(result)


def test_call_rejects_unknown_endpoints_and_missing_path_values(client):
    with pytest.raises(ValueError, match="template_list"):
        client.call("no_such_endpoint")
    with pytest.raises(TypeError, match="template_id"):
        client.call("template_show")
    with pytest.raises(TypeError, match="colour"):
        client.call("template_list", colour="red")


def test_urls_come_from_the_endpoint_table(client, sb):
    for name, endpoint in ENDPOINTS.items():
        values = {f: "x" for f in endpoint.fields if f != "org"}
        url = client.url(name, **values)
        assert url.startswith(sb.api_url + "en/")
        expected = endpoint.format(org=sb.organization_id, **values)
        assert url.endswith(expected)


#: An argument for each required parameter of an organization-scoped Client method.
_ARGUMENTS = {
    "endpoint_name": "template_list",
    "entity_type": "course",
    "name": "Yoga",
    "appointment_id": "ed" + "0" * 30,
    "name_or_path": "note.txt",
    "custom_id": "nutrition-basics",
    "slot_id": "4f" + "0" * 30,
    "customer": ADA,
    "entity_id": "6T" + "0" * 30,
    "file_id": "fi" + "0" * 30,
    "template_id": "fc12345678910AbcDefGh1112131415a",
    "template": "fc12345678910AbcDefGh1112131415a",
    "module_config_id": "5f" + "0" * 30,
    "resource_id": "br" + "0" * 30,
    "kind": "week",
    "day": date(2026, 12, 2),
    "start": date(2026, 12, 2),
    "end": date(2026, 12, 9),
    "year": 2026,
    "month": 12,
    "week": 49,
}


def _scoped_methods() -> list[str]:
    """The public Client methods that take ``organization_id=`` and send a request."""
    import inspect

    return sorted(
        name
        for name, method in inspect.getmembers(bt_explore.Client, inspect.isfunction)
        if not name.startswith("_")
        and "organization_id" in inspect.signature(method).parameters
        and name != "url"  # builds a URL, sends nothing (test_urls_come_from_the_endpoint_table)
    )


def test_the_scoped_methods_are_all_here():
    assert len(_scoped_methods()) >= 45


@pytest.mark.parametrize("name", _scoped_methods())
def test_every_scoped_method_asks_the_organization_it_is_given(client, sb, name):
    """Each one, given another organization the demo client may not see, asks for that one
    (never the configured one) and raises PermissionDenied (403) for it."""
    import inspect

    method = getattr(client, name)
    required = [
        p.name
        for p in inspect.signature(method).parameters.values()
        if p.default is inspect.Parameter.empty and p.kind is not inspect.Parameter.VAR_KEYWORD
    ]
    extra = {"content": b"x"} if name == "add_file" else {}
    args = [_ARGUMENTS[p] for p in required]
    sb.clear_requests()
    with pytest.raises(bt_explore.PermissionDenied) as info:
        method(*args, organization_id=sb.other_organization_id, **extra)
    assert info.value.status_code == 403
    # the token for that organization is refused (nothing reaches the API), or the API refuses
    asked = [r.organization_id for r in sb.requests if r.organization_id]
    assert asked and set(asked) == {sb.other_organization_id}, asked


def test_earliest_slot_shape(client):
    template = client.templates()[0]
    earliest = client.earliest_slot(template["id"])
    assert set(earliest) == {"rangeStart", "rangeEnd", "timeZone", "bookingSlotList"}
    assert earliest["bookingSlotList"][0]["class"] == "BOOKING_SLOT"


def test_day_week_month_calls(client):
    tid = client.templates()[0]["id"]
    day = client.slots_day(tid, date(2026, 12, 2))
    week = client.slots_week(tid, 2026, 49)
    month = client.slots_month(tid, 2026, 12)
    ids = lambda r: {s["id"] for s in r["list"]}  # noqa: E731
    assert ids(day) and ids(day) <= ids(week) <= ids(month)
    assert all(s["timestamp"].startswith("2026-12-02") for s in day["list"])
    assert client.slots_day(tid, "2026-12-02") == day


def test_slots_over_a_range_equals_the_days_joined(client, sb):
    tid = client.template_by_custom_id("video")["id"]  # bookable 45 days ahead
    start, end = date(2026, 12, 24), date(2027, 1, 6)
    sb.clear_requests()
    joined = client.slots(tid, start, end)
    assert plan_slot_calls(start, end) == [("month", (2026, 12)), ("month", (2027, 1))]
    assert len(sb.api_requests) == 2  # instead of 13 day calls
    by_day = []
    d = start
    while d < end:
        by_day += client.slots_day(tid, d)["list"]
        d += timedelta(days=1)
    assert len(by_day) > 50
    assert [s["id"] for s in joined["list"]] == [s["id"] for s in by_day]
    assert joined["rangeStart"] == "2026-12-24T00:00:00+01:00"
    assert joined["rangeEnd"] == "2027-01-06T00:00:00+01:00"
    assert joined["timeZone"] == "Europe/Berlin"


def test_slots_over_two_weeks_uses_week_calls(client, sb):
    tid = client.template_by_custom_id("video")["id"]
    sb.clear_requests()
    result = client.slots(tid, date(2026, 12, 28), date(2027, 1, 11))  # Monday to Monday
    paths = [r.path for r in sb.api_requests]
    assert [p.split("/")[-4:] for p in paths] == [
        ["2026", "week", "53", "listWeek"],
        ["2027", "week", "1", "listWeek"],
    ]
    assert result["list"][0]["timestamp"] >= "2026-12-28"
    assert result["list"][-1]["timestamp"] < "2027-01-11"


def test_slots_with_datetimes_filters_to_the_half_open_range(client):
    tid = client.templates()[0]["id"]
    start = datetime(2026, 12, 2, 10, 0, tzinfo=BERLIN)
    end = datetime(2026, 12, 2, 12, 0)  # naive: the organization's time zone
    result = client.slots(tid, start, end)
    stamps = [datetime.fromisoformat(s["timestamp"]) for s in result["list"]]
    assert stamps and all(start <= t < start + timedelta(hours=2) for t in stamps)
    assert stamps == sorted(stamps)
    whole_day = client.slots_day(tid, date(2026, 12, 2))["list"]
    expected = [
        s
        for s in whole_day
        if start <= datetime.fromisoformat(s["timestamp"]) < end.replace(tzinfo=BERLIN)
    ]
    assert [s["id"] for s in result["list"]] == [s["id"] for s in expected]


def test_slots_rejects_an_empty_range(client):
    with pytest.raises(ValueError, match="after start"):
        client.slots("fc" + "0" * 30, date(2026, 12, 5), date(2026, 12, 5))


@given(
    st.dates(min_value=date(2024, 1, 1), max_value=date(2028, 12, 31)),
    st.integers(min_value=1, max_value=120),
)
@settings(max_examples=200, deadline=None)
def test_plan_covers_the_range_with_few_calls(first, days):
    stop = first + timedelta(days=days)
    plan = plan_slot_calls(first, stop)
    covered = set()
    for kind, args in plan:
        if kind == "day":
            covered.add(date(*args))
        elif kind == "week":
            monday = date.fromisocalendar(args[0], args[1], 1)
            covered.update(monday + timedelta(days=i) for i in range(7))
        else:
            d = date(args[0], args[1], 1)
            while d.month == args[1]:
                covered.add(d)
                d += timedelta(days=1)
    wanted = {first + timedelta(days=i) for i in range(days)}
    assert wanted <= covered
    # never more calls than one per day or one per month touched (the plan is minimal)
    months = {(d.year, d.month) for d in wanted}
    weeks = {d.isocalendar()[:2] for d in wanted}
    assert len(plan) <= min(days, len(months), len(weeks))


def test_plan_examples():
    assert plan_slot_calls(date(2026, 12, 2), date(2026, 12, 3)) == [("day", (2026, 12, 2))]
    assert plan_slot_calls(date(2026, 12, 7), date(2026, 12, 14)) == [("week", (2026, 50))]
    assert plan_slot_calls(date(2026, 11, 1), date(2027, 1, 1)) == [
        ("month", (2026, 11)),
        ("month", (2026, 12)),
    ]
    assert plan_slot_calls(date(2026, 12, 5), date(2026, 12, 5)) == []


@pytest.fixture
def fast(sb):
    """A client that retries without backoff sleeps (the policy is the same otherwise)."""
    with bt_explore.connect(sandbox=sb, retry=default_retry(backoff_factor=0)) as c:
        yield c


def test_get_is_retried_on_503_and_429(fast, sb):
    client = fast
    client.organization()
    sb.set_faults(script=[503, 429, None], retry_after=0)
    sb.clear_requests()
    assert client.templates()
    assert [r.status for r in sb.api_requests] == [503, 429, 200]


def test_get_gives_up_after_the_retries(fast, sb):
    client = fast
    client.organization()
    sb.set_faults(script=[503] * 10)
    sb.clear_requests()
    with pytest.raises(ServerError) as info:
        client.templates()
    assert info.value.status_code == 503
    assert len(sb.api_requests) == 1 + default_retry().total


def test_put_is_never_retried(client, sb):
    template = client.templates()[0]
    slots = client.earliest_slot(template["id"])["bookingSlotList"]
    appointment = client.book(slots[0]["id"], ADA)
    sb.set_faults(script=[503])
    sb.clear_requests()
    with pytest.raises(ServerError):
        client.cancel(appointment["id"])
    assert [(r.method, r.status) for r in sb.api_requests] == [("PUT", 503)]


def test_retry_policy_is_urllib3s():
    retry = default_retry()
    assert retry.allowed_methods == frozenset({"GET"})
    assert set(retry.status_forcelist) == {429, 502, 503, 504}
    assert retry.respect_retry_after_header and not retry.raise_on_status


def test_connection_pool_is_large_enough_for_a_thread_pool(client, sb):
    adapter = client.session.get_adapter(sb.api_url)
    assert adapter._pool_maxsize >= 16
    assert adapter.max_retries.allowed_methods == frozenset({"GET"})


def test_custom_ids_are_unique_and_short():
    ids = {new_custom_id() for _ in range(1000)}
    assert len(ids) == 1000
    assert all(len(i) == 30 and i.isalnum() for i in ids)


def test_repr_and_close(client, sb):
    assert sb.organization_id in repr(client)
    client.close()
    with pytest.raises(RuntimeError, match="closed"):
        client.templates()
    client.close()  # closing twice is fine


def test_dataframes(client):
    pytest.importorskip("bt_explore.frames")
    templates = client.templates_frame()
    assert len(templates) == len(client.templates())
    tid = client.templates()[0]["id"]
    slots = client.slots_frame(tid, date(2026, 12, 2), date(2026, 12, 3))
    assert len(slots) == len(client.slots_day(tid, date(2026, 12, 2))["list"])
    assert len(client.earliest_slot_frame(tid)) >= 1
    assert len(client.resources_frame()) == len(client.resources())
    slot = client.earliest_slot(tid)["bookingSlotList"][0]
    appointment = client.book(slot["id"], ADA)
    assert len(client.appointment_frame(appointment["id"])) == 1


def test_slot_memory_forgets_the_oldest_answers_beyond_its_limit() -> None:
    from bt_explore.client.memory import SlotMemory as _SlotMemory

    memory = _SlotMemory(limit=4000)
    for n in range(3):
        memory.add({f"4f{n}-{i}": f"fc{n}" for i in range(1500)})
    assert memory.get("4f2-0") == "fc2" and memory.get("4f1-1499") == "fc1"
    assert memory.get("4f0-0") is None  # 4500 > 4000: the oldest answer's ids are gone
    assert len(memory) == 3000
    for i in range(3000):  # many one-slot answers (earliest) merge into few batches
        memory.add({f"4fe-{i}": "fce"})
    assert memory.get("4fe-0") == "fce" and len(memory._batches) <= 6


def test_slot_period_df_is_one_call_with_the_frame_of_the_dict_path(client, sb):
    from bt_explore.frames import slots_frame

    template = client.template_by_custom_id("massage")
    sb.clear_requests()
    week = client.slot_period_frame(template, "week", "2026-12-02")  # the ISO week around it
    assert [r.path.rsplit("/", 4)[-4:] for r in sb.api_requests] == [
        ["2026", "week", "49", "listWeek"]
    ]
    expected = slots_frame(client.slots_week(template["id"], 2026, 49), template=template)
    pd.testing.assert_frame_equal(week, expected)
    assert len(week) and (week["end"] - week["start"] == pd.Timedelta(minutes=30)).all()
    by_id = client.slot_period_frame(template["id"], "month", date(2026, 12, 9), tz="UTC")
    assert str(by_id["start"].dt.tz) == "UTC" and set(week["slot_id"]) <= set(by_id["slot_id"])
    day = client.slot_period_frame(template, "day", date(2026, 12, 2))
    assert set(day["start"].dt.date) == {date(2026, 12, 2)}
    with pytest.raises(ValueError, match="kind: must be 'day', 'week' or 'month', got 'year'"):
        client.slot_period_frame(template, "year", date(2026, 12, 2))


def test_slot_period_df_remembers_slots_so_book_checks_without_asking(sb):
    with bt_explore.connect(sandbox=sb) as fresh:
        massage = fresh.template_by_custom_id("massage")  # mobile required
        slot_id = fresh.slot_period_frame(massage, "week", date(2026, 12, 2))["slot_id"].iloc[0]
        sb.clear_requests()
        with pytest.raises(ValidationError) as info:
            fresh.book(slot_id, {"firstName": "Ada", "lastName": "Lovelace"})
        assert info.value.fields == ("customer.mobile",) and sb.api_requests == []


def test_slot_period_df_names_a_body_that_is_not_json(client, sb):
    template = client.templates()[0]
    original = client._send

    def garbage(method, url, organization_id, **kwargs):
        response = original(method, url, organization_id, **kwargs)
        response._content = b"<html>proxy says hi</html>"
        return response

    client._send = garbage
    with pytest.raises(UnexpectedResponse, match="proxy says hi"):
        client.slot_period_frame(template, "day", date(2026, 12, 2))


# -- issue 11: a range that starts before today is clipped to what can be asked --------------


@pytest.mark.parametrize(
    "start, end",
    [
        (date(2026, 11, 1), date(2026, 12, 8)),  # last month to next week
        ("2026-11-20T00:00", "2026-12-03T12:00"),  # datetimes, in the organization's zone
    ],
)
def test_slots_over_a_range_that_starts_in_the_past(sb, start, end):
    with bt_explore.connect(sandbox=sb) as client:
        template_id = client.templates()[0]["id"]
        result = client.slots(template_id, start, end)
        future = client.slots(template_id, date(2026, 12, 1), end)
    assert result["list"] and result["list"] == future["list"]
    assert result["rangeStart"].startswith(str(start)[:10])


def test_slots_wholly_in_the_past_are_none_and_ask_nothing(sb):
    with bt_explore.connect(sandbox=sb) as client:
        template_id = client.templates()[0]["id"]
        sb.clear_requests()
        result = client.slots(template_id, date(2026, 10, 1), date(2026, 11, 1))
    assert result["list"] == []
    assert [r.path.rsplit("/", 1)[-1] for r in sb.api_requests] in ([], ["show"])


# -- one slot road: slots_frame decodes the way the scan does --------------------------------------


@pytest.fixture
def parses(monkeypatch):
    """Every slot timestamp parsed (by the frames' decoder or the dict road's parser), and
    every slot the frames' decoder decoded."""
    from bt_explore import frames, times

    seen = {"parsed": 0, "decoded": 0}
    instants, parse, piece = frames._utc_instants, times.parse_timestamp, frames.slot_piece

    def counted_instants(values):
        seen["parsed"] += len(values)
        return instants(values)

    def counted_parse(value):
        seen["parsed"] += 1
        return parse(value)

    def counted_piece(data):
        result = piece(data)
        seen["decoded"] += len(result.ids)
        return result

    monkeypatch.setattr(frames, "_utc_instants", counted_instants)
    monkeypatch.setattr(times, "parse_timestamp", counted_parse)
    monkeypatch.setattr(frames, "slot_piece", counted_piece)
    return seen


def test_slots_frame_parses_each_slot_timestamp_once(client, parses):
    tid = client.templates()[0]["id"]
    frame = client.slots_frame(tid, date(2026, 12, 2), date(2026, 12, 12))
    assert len(frame) > 0
    assert parses["parsed"] == parses["decoded"] >= len(frame)


def test_scan_slots_parses_each_slot_timestamp_once(client, parses):
    frame = bt_explore.scan_slots(
        client, start=date(2026, 12, 2), end=date(2026, 12, 12), progress=False
    )
    assert len(frame) > 0
    assert parses["parsed"] == parses["decoded"] >= len(frame)


@pytest.mark.parametrize(
    "start, end",
    [
        (date(2026, 12, 2), date(2026, 12, 12)),
        (date(2026, 11, 20), date(2027, 1, 3)),  # starts before today: clipped
        (datetime(2026, 12, 3, 10, 30), datetime(2026, 12, 9, 12, 0)),  # naive: Berlin time
        (datetime(2026, 12, 3, 10, 30, tzinfo=ZoneInfo("UTC")), "2026-12-10"),
    ],
)
def test_slots_frame_holds_exactly_the_slots_of_slots(client, start, end):
    from bt_explore.frames import slots_frame

    template = client.templates()[1]
    frame = client.slots_frame(template["id"], start, end)
    expected = slots_frame(client.slots(template["id"], start, end), template=template)
    pd.testing.assert_frame_equal(frame, expected)


def test_slot_period_is_the_day_week_or_month_call_around_a_day(client, sb):
    tid = client.templates()[0]["id"]
    assert client.slot_period(tid, "week", date(2026, 12, 2)) == client.slots_week(tid, 2026, 49)
    assert client.slot_period(tid, "month", "2026-12-09") == client.slots_month(tid, 2026, 12)
    assert client.slot_period(tid, "day", date(2026, 12, 2)) == client.slots_day(
        tid, date(2026, 12, 2)
    )
    sb.clear_requests()
    with pytest.raises(ValueError, match="kind: must be 'day', 'week' or 'month', got 'Week'"):
        client.slot_period(tid, "Week", date(2026, 12, 2))
    assert sb.api_requests == []


def test_the_scan_plumbing_methods_are_private_with_deprecated_aliases(client):
    tid = client.templates()[0]["id"]
    with pytest.deprecated_call(match="slot_period_answer"):
        answer = client.slot_period_answer(tid, "day", date(2026, 12, 2))
    with pytest.deprecated_call(match="slot_period_piece"):
        piece = client.slot_period_piece(tid, answer)
    assert len(piece.ids) == len(client.slots_day(tid, date(2026, 12, 2))["list"])
