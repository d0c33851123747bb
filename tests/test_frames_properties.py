"""Property tests for bt_explore.frames: random missing, null, odd and extra fields.

Whatever the records hold, every flattener keeps its schema (columns and dtypes), keeps one row
per record object, and the raw-body fast path gives exactly the frame of the dict path.
"""

from __future__ import annotations

import datetime
import json
from typing import Any

import pandas as pd
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_frames import (
    RESOURCE,
    TEMPLATE_WITH_STEPS,
    WALKTHROUGH_APPOINTMENT,
    WALKTHROUGH_TEMPLATES,
    assert_schema,
)

from bt_explore.frames import (
    APPOINTMENT_COLUMNS,
    RESOURCE_COLUMNS,
    SLOT_COLUMNS,
    TEMPLATE_COLUMNS,
    TEMPLATE_RESOURCE_COLUMNS,
    appointments_frame,
    resources_frame,
    slots_frame,
    template_resources_frame,
    templates_frame,
)

PROFILE = settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)

json_scalars = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=6)
    | st.sampled_from(["", "2026-10-25T02:30:00+01:00", "EUR", "60", "true", "de", "Europe/Berlin"])
)
json_values = st.recursive(
    json_scalars,
    lambda children: (
        st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=5), children, max_size=3)
    ),
    max_leaves=6,
)


@st.composite
def mutated(draw: st.DrawFn, value: Any, depth: int = 0) -> Any:
    """``value`` with keys dropped, nulled, replaced by random JSON or added, at any depth."""
    if isinstance(value, dict):
        result = {}
        for key, item in value.items():
            action = draw(st.sampled_from(["keep", "keep", "keep", "drop", "null", "random"]))
            if action == "keep":
                result[key] = draw(mutated(item, depth + 1)) if depth < 4 else item
            elif action == "null":
                result[key] = None
            elif action == "random":
                result[key] = draw(json_values)
        extra = draw(st.dictionaries(st.text(min_size=1, max_size=8), json_values, max_size=2))
        for key, item in extra.items():
            result.setdefault(key, item)
        return result
    if isinstance(value, list) and depth < 4:
        return [draw(mutated(item, depth + 1)) for item in value]
    return value


def records_of(base: list[dict]) -> st.SearchStrategy[list[Any]]:
    """Lists of mutated copies of the base records, with the odd non-object among them."""
    one = st.sampled_from(base).flatmap(mutated)
    return st.lists(one | st.sampled_from([None, 5, "x", []]), max_size=4)


def container(records: list[Any], kind: int) -> Any:
    if kind == 0:
        return records
    if kind == 1:
        return {"class": "LIST", "recordTotal": len(records), "recordList": records}
    return {"messageList": [], "content": {"class": "LIST", "recordList": records}}


def object_count(records: list[Any]) -> int:
    return sum(isinstance(r, dict) for r in records)


def raw(data: Any) -> bytes:
    return json.dumps(data).encode()


TEMPLATE_BASES = [
    json.loads(WALKTHROUGH_TEMPLATES)["content"]["recordList"][0],
    TEMPLATE_WITH_STEPS,
]
SLOT_BASE = {
    "class": "BOOKING_SLOT",
    "id": "4f000000000000000000000000000001",
    "timestamp": "2026-10-25T02:30:00+01:00",
    "bookingResourceCombination": ["br01", "br02"],
}
APPOINTMENT_BASE = {
    **WALKTHROUGH_APPOINTMENT,
    "timeZone": "Europe/Berlin",
    "price": {"priceGross": 10.0, "taxRate": 19, "currency": "EUR"},
    "address": {"city": "Berlin"},
    "canceled": False,
    "bookingResourceList": [RESOURCE],
    "fileList": [],
}
VALID_ZONES = {"Europe/Berlin", "UTC", "America/New_York"}


@PROFILE
@given(
    records=records_of(TEMPLATE_BASES),
    kind=st.integers(0, 2),
    locale=st.sampled_from([None, "de", "en_GB"]),
)
def test_templates_frame_schema_never_changes(records, kind, locale):
    data = container(records, kind)
    frame = templates_frame(data, locale=locale)
    assert_schema(frame, TEMPLATE_COLUMNS)
    assert len(frame) == object_count(records)
    pd.testing.assert_frame_equal(templates_frame(raw(data), locale=locale), frame)


@PROFILE
@given(
    slots=st.lists(mutated(SLOT_BASE) | st.sampled_from([None, 3, []]), max_size=5),
    list_key=st.sampled_from(["list", "bookingSlotList"]),
    time_zone=st.sampled_from(["Europe/Berlin", "UTC", None, "Mars/Base", 5]),
    template=st.one_of(
        st.none(),
        st.text(max_size=4),
        st.fixed_dictionaries({"id": json_values, "duration": json_values}),
    ),
    wrapped=st.booleans(),
)
def test_slots_frame_schema_never_changes(slots, list_key, time_zone, template, wrapped):
    answer = {"class": "RANGE_LIST", "timeZone": time_zone, list_key: slots}
    data = {"messageList": [], "content": answer} if wrapped else answer
    frame = slots_frame(data, template=template)
    tz = time_zone if time_zone in VALID_ZONES else "UTC"
    assert_schema(frame, SLOT_COLUMNS, tz=tz)
    assert len(frame) == object_count(slots)
    assert frame["resource_count"].tolist() == [len(ids) for ids in frame["resource_ids"]]
    pd.testing.assert_frame_equal(slots_frame(raw(data), template=template), frame)


@PROFILE
@given(records=records_of([RESOURCE]), kind=st.integers(0, 2), locale=st.sampled_from([None, "de"]))
def test_resources_frame_schema_never_changes(records, kind, locale):
    data = container(records, kind)
    frame = resources_frame(data, locale=locale)
    assert_schema(frame, RESOURCE_COLUMNS)
    assert len(frame) == object_count(records)
    pd.testing.assert_frame_equal(resources_frame(raw(data), locale=locale), frame)


@PROFILE
@given(
    records=records_of([APPOINTMENT_BASE]),
    kind=st.integers(0, 2),
    tz=st.sampled_from([None, "Europe/Berlin"]),
)
def test_appointments_frame_schema_never_changes(records, kind, tz):
    data = container(records, kind)
    frame = appointments_frame(data, tz=tz)
    zones = [r.get("timeZone") for r in records if isinstance(r, dict)]
    zones = {z for z in zones if isinstance(z, str) and z}
    if tz is not None:
        expected = tz
    elif len(zones) == 1 and zones <= VALID_ZONES:
        expected = zones.pop()
    else:
        expected = "UTC"
    assert_schema(frame, APPOINTMENT_COLUMNS, tz=expected)
    assert len(frame) == object_count(records)
    pd.testing.assert_frame_equal(appointments_frame(raw(data), tz=tz), frame)


@PROFILE
@given(
    records=records_of(TEMPLATE_BASES),
    kind=st.integers(0, 2),
    locale=st.sampled_from([None, "de"]),
)
def test_template_resources_frame_schema_never_changes(records, kind, locale):
    data = container(records, kind)
    frame = template_resources_frame(data, locale=locale)
    assert_schema(frame, TEMPLATE_RESOURCE_COLUMNS)
    pd.testing.assert_frame_equal(template_resources_frame(raw(data), locale=locale), frame)


@PROFILE
@given(
    moments=st.lists(
        st.tuples(
            st.datetimes(
                min_value=datetime.datetime(1700, 1, 2), max_value=datetime.datetime(2199, 12, 30)
            ),
            st.integers(min_value=-(23 * 60 + 59), max_value=23 * 60 + 59),
        ),
        max_size=20,
    )
)
def test_vectorised_timestamp_parse_matches_pandas(moments):
    stamps = [
        moment.replace(
            microsecond=0, tzinfo=datetime.timezone(datetime.timedelta(minutes=offset))
        ).isoformat()
        for moment, offset in moments
    ]
    slots = [
        {"id": str(i), "timestamp": t, "bookingResourceCombination": []}
        for i, t in enumerate(stamps)
    ]
    expected = pd.to_datetime(pd.Series(stamps, dtype=object), utc=True, format="ISO8601")
    for data in (slots, raw(slots)):
        frame = slots_frame(data, tz="UTC")
        assert frame["start"].tolist() == expected.tolist()
