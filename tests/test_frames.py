"""Unit tests for bt_explore.frames: schemas, input shapes, the walkthrough, DST, malformed data."""

from __future__ import annotations

import contextlib
import io
import json
import logging
from types import SimpleNamespace

import msgspec
import pandas as pd
import pytest
from _docs import read as read_doc
from _docs import snippets as doc_snippets

from bt_explore import frames
from bt_explore.frames import (
    APPOINTMENT_COLUMNS,
    RESOURCE_COLUMNS,
    SLOT_COLUMNS,
    TEMPLATE_COLUMNS,
    TEMPLATE_RESOURCE_COLUMNS,
    appointments_frame,
    loads,
    resources_frame,
    slots_frame,
    template_resources_frame,
    templates_frame,
)

# The template list answer of bookingtime's "How to use the Module API" walkthrough, made valid
# JSON (a stray comma removed; the second template and the container cut short with "..." in
# the original keep the fields it shows).
WALKTHROUGH_TEMPLATES = """
{
"messageList": [],
"content": {
"class": "LIST",
"recordTotal": 12,
"recordLimit": 9999,
"recordList": [
{
"class": "BOOKING_TEMPLATE",
"id": "fc12345678910AbcDefGh1112",
"customId": "",
"name": "Test AppointmentTemplate",
"nameI18nList": [],
"location": "ORGANIZATION_ADDRESS",
"image": "",
"duration": 60,
"leadTime": 0,
"followupTime": 0,
"price": {
"class": "PRICE",
"priceGross": 99.99,
"taxRate": 19,
"currency": "EUR"
},
"showPrice": true,
"priceGross": 99.99,
"currency": "EUR",
"taxRate": 19,
"description": "Zeile1 Zeile2",
"descriptionI18nList": [],
"appointmentAddressRequired": false,
"customerAddressRequired": false,
"customerEmailRequired": true,
"customerMobileRequired": false,
"additionalCustomerCountMax": 0,
"bookingDayEarliest": 0,
"bookingDayLatest": 14,
"bookingLeadTime": 120,
"address": {
"class": "ADDRESS",
"name": "Example Company",
"extra": "",
"street": "Street 1",
"zip": "12345",
"city": "New York",
"country": "DE",
"geoCoordinates": {
"class": "GEO_COORDINATES",
"latitude": 42.60389747,
"longitude": 8.980361
}
},
"bookingStepList": [],
"emailTemplateList": [{
"class": "EMAIL_TEMPLATE",
"id": "46Ytcdub4EjAxuxZ25iIFvkCkIDau0VF",
"customId": "",
"name": "Aftersale E-Mail",
"event": "APPOINTMENT_END"
}],
"smsTemplateList": [{
"class": "SMS_TEMPLATE",
"id": "6GmkLGvDF36kLB9SvV4dvIpU4V4Jr8qM",
"customId": "",
"name": "After customer-start",
"event": "APPOINTMENT_CUSTOMER_START"
}],
"extraFieldList": [],
"additionalData": null
},{
"class": "BOOKING_TEMPLATE",
"id": "fc123456789101112131415aBCdeFgH",
"customId": "4321",
"name": "Demo Appointment 2",
"duration": 60
}]
}
}
"""

# The walkthrough's earliest-slot answer (its offsets are as printed there).
WALKTHROUGH_EARLIEST = """
{
"rangeStart": "2021-01-01T08:00:00+02:00",
"rangeEnd": "2021-01-02T08:15:00+02:00",
"timeZone": "Europe/Berlin",
"bookingSlotList": [{
"class": "BOOKING_SLOT",
"id": "4f6gl70xpd71eqiz0878651d90b04330",
"timestamp": "2021-01-01T00:15:00+02:00",
"bookingResourceCombination": ["browuBQJWSylERkRQIHHrlXHVpCeyfqN"]
}, {
"class": "BOOKING_SLOT",
"id": "4f123456789101112131415aBCdeFgH",
"timestamp": "2021-01-01T00:15:00+02:00",
"bookingResourceCombination": ["br.."]
}]
}
"""

# The walkthrough's booking answer, without the elisions.
WALKTHROUGH_APPOINTMENT = {
    "class": "APPOINTMENT",
    "id": "ed123456789101112131415aBCdeFgH",
    "start": "2021-01-01T00:15:00+02:00",
    "end": "2021-01-01T00:45:00+02:00",
    "duration": 30,
    "name": "Demo Appointment 1",
    "customer": {"firstName": "John", "lastName": "Doe", "email": "jd@scrubs.doc"},
}

RESOURCE = {
    "class": "BOOKING_RESOURCE",
    "id": "br000000000000000000000000000001",
    "customId": "R1",
    "type": "EMPLOYEE",
    "name": "Anna Schmidt",
    "nameI18nList": [{"key": "en", "value": "Anna S."}],
    "gender": "FEMALE",
    "title": "Dr.",
    "firstName": "Anna",
    "lastName": "Schmidt",
    "description": "Senior stylist",
    "descriptionI18nList": {"de": "Erfahrene Friseurin"},
    "image": "",
    "additionalData": None,
}
RESOURCE_2 = {**RESOURCE, "id": "br000000000000000000000000000002", "firstName": "Ben"}

TEMPLATE_WITH_STEPS = {
    "class": "BOOKING_TEMPLATE",
    "id": "fc000000000000000000000000000001",
    "name": "Haircut",
    "nameI18nList": [{"key": "de", "value": "Haarschnitt"}],
    "duration": 45,
    "bookingStepList": [
        {
            "class": "BOOKING_STEP",
            "name": "Stylist",
            "nameI18nList": {"de": "Friseur"},
            "selectionQuantity": 1,
            "selectionDisplay": "LIST",
            "bookingResourceList": [RESOURCE, RESOURCE_2],
        },
        {
            "class": "BOOKING_STEP",
            "name": "Chair",
            "selectionQuantity": 1,
            "bookingResourceList": [RESOURCE_2, "br000000000000000000000000000003"],
        },
    ],
}


def slot(slot_id: str, timestamp: str, *resources: str) -> dict:
    return {
        "class": "BOOKING_SLOT",
        "id": slot_id,
        "timestamp": timestamp,
        "bookingResourceCombination": list(resources),
    }


def range_list(*slots: dict, time_zone: str = "Europe/Berlin") -> dict:
    return {
        "class": "RANGE_LIST",
        "rangeStart": "2026-10-24T00:00:00+02:00",
        "rangeEnd": "2026-10-26T00:00:00+01:00",
        "timeZone": time_zone,
        "list": list(slots),
    }


def envelope(content) -> bytes:
    return json.dumps({"messageList": [], "content": content}).encode()


def assert_schema(frame: pd.DataFrame, schema: dict[str, str], tz: str = "UTC") -> None:
    """Columns in schema order and every dtype as declared (datetimes: us, in ``tz``)."""
    assert list(frame.columns) == list(schema)
    for column, dtype in schema.items():
        actual = frame[column].dtype
        if dtype == frames.DATETIME:
            assert isinstance(actual, pd.DatetimeTZDtype), column
            assert actual.unit == "us", column
            assert str(actual.tz) == tz, column
        else:
            assert str(actual) == dtype, f"{column}: {actual} != {dtype}"
    assert isinstance(frame.index, pd.RangeIndex)


FLATTENERS = {
    "templates": (templates_frame, TEMPLATE_COLUMNS),
    "slots": (slots_frame, SLOT_COLUMNS),
    "resources": (resources_frame, RESOURCE_COLUMNS),
    "appointments": (appointments_frame, APPOINTMENT_COLUMNS),
    "template_resources": (template_resources_frame, TEMPLATE_RESOURCE_COLUMNS),
    "custom_entities": (frames.custom_entities_frame, frames.CUSTOM_ENTITY_COLUMNS),
}


# --- schemas ------------------------------------------------------------------------------


def test_schemas_use_the_nullable_dtypes():
    for _, schema in FLATTENERS.values():
        assert set(schema.values()) <= {
            frames.STR,
            "Int64",
            "Float64",
            "boolean",
            frames.DATETIME,
            frames.TUPLE,
        }
        assert all(name == name.lower() and " " not in name for name in schema)


def test_every_template_column_has_its_dtype():
    frame = templates_frame(WALKTHROUGH_TEMPLATES)
    assert_schema(frame, TEMPLATE_COLUMNS)


def test_every_slot_column_has_its_dtype():
    frame = slots_frame(WALKTHROUGH_EARLIEST, template={"id": "fc01", "duration": 30})
    assert_schema(frame, SLOT_COLUMNS, tz="Europe/Berlin")


def test_every_resource_column_has_its_dtype():
    assert_schema(resources_frame([RESOURCE, RESOURCE_2]), RESOURCE_COLUMNS)


def test_every_appointment_column_has_its_dtype():
    frame = appointments_frame({**WALKTHROUGH_APPOINTMENT, "timeZone": "Europe/Berlin"})
    assert_schema(frame, APPOINTMENT_COLUMNS, tz="Europe/Berlin")


def test_every_template_resource_column_has_its_dtype():
    assert_schema(template_resources_frame([TEMPLATE_WITH_STEPS]), TEMPLATE_RESOURCE_COLUMNS)


# --- empty inputs -------------------------------------------------------------------------

EMPTY_INPUTS = [
    [],
    None,
    (),
    {"class": "LIST", "recordTotal": 0, "recordLimit": 9999, "recordList": []},
    {"class": "LIST", "recordList": None},
    {"messageList": [], "content": None},
    {"messageList": [], "content": []},
    b'{"messageList": [], "content": null}',
    b'{"messageList": [], "content": {"class": "LIST", "recordList": []}}',
    b"[]",
    "[]",
]


@pytest.mark.parametrize("name", sorted(FLATTENERS))
@pytest.mark.parametrize("data", EMPTY_INPUTS, ids=repr)
def test_empty_inputs_keep_the_schema(name, data):
    flatten, schema = FLATTENERS[name]
    frame = flatten(data)
    assert len(frame) == 0
    assert_schema(frame, schema)


@pytest.mark.parametrize(
    "data",
    [
        {"class": "RANGE_LIST", "timeZone": "Europe/Berlin", "list": []},
        {"rangeStart": "x", "rangeEnd": "y", "timeZone": "Europe/Berlin", "bookingSlotList": []},
        {"class": "RANGE_LIST", "timeZone": "Europe/Berlin", "list": None},
        envelope({"class": "RANGE_LIST", "timeZone": "Europe/Berlin", "list": []}),
    ],
    ids=repr,
)
def test_empty_slot_answers_keep_the_schema_in_the_answers_time_zone(data):
    frame = slots_frame(data, template={"id": "fc01", "duration": 30})
    assert len(frame) == 0
    assert_schema(frame, SLOT_COLUMNS, tz="Europe/Berlin")


# --- templates ----------------------------------------------------------------------------


def test_walkthrough_template_example():
    frame = templates_frame(msgspec.json.decode(WALKTHROUGH_TEMPLATES))
    first = frame.iloc[0]
    assert first["template_id"] == "fc12345678910AbcDefGh1112"
    assert first["custom_id"] == ""
    assert first["name"] == "Test AppointmentTemplate"
    assert first["description"] == "Zeile1 Zeile2"
    assert first["location"] == "ORGANIZATION_ADDRESS"
    assert first["duration"] == 60
    assert first["lead_time"] == 0 and first["followup_time"] == 0
    assert first["price_gross"] == 99.99
    assert first["tax_rate"] == 19.0
    assert first["currency"] == "EUR"
    assert bool(first["show_price"]) is True
    assert bool(first["customer_email_required"]) is True
    assert bool(first["customer_mobile_required"]) is False
    assert bool(first["appointment_address_required"]) is False
    assert bool(first["customer_address_required"]) is False
    assert first["additional_customer_count_max"] == 0
    assert first["booking_day_earliest"] == 0
    assert first["booking_day_latest"] == 14
    assert first["booking_lead_time"] == 120
    assert first["address_name"] == "Example Company"
    assert first["address_street"] == "Street 1"
    assert first["address_zip"] == "12345"
    assert first["address_city"] == "New York"
    assert first["address_country"] == "DE"
    assert first["address_latitude"] == 42.60389747
    assert first["address_longitude"] == 8.980361
    assert first["booking_step_count"] == 0
    assert first["resource_ids"] == ()
    assert first["resource_count"] == 0
    assert first["email_template_count"] == 1
    assert first["sms_template_count"] == 1
    assert first["extra_field_count"] == 0

    second = frame.iloc[1]
    assert second["template_id"] == "fc123456789101112131415aBCdeFgH"
    assert second["custom_id"] == "4321"
    assert second["duration"] == 60
    for column in ("price_gross", "address_city", "show_price", "email_template_count"):
        assert pd.isna(second[column]), column
    assert second["resource_ids"] == ()


@pytest.mark.parametrize(
    "data",
    [
        WALKTHROUGH_TEMPLATES,
        WALKTHROUGH_TEMPLATES.encode(),
        bytearray(WALKTHROUGH_TEMPLATES.encode()),
        memoryview(WALKTHROUGH_TEMPLATES.encode()),
        msgspec.json.decode(WALKTHROUGH_TEMPLATES)["content"],
        msgspec.json.decode(WALKTHROUGH_TEMPLATES)["content"]["recordList"],
        SimpleNamespace(content=msgspec.json.decode(WALKTHROUGH_TEMPLATES)["content"]),
    ],
    ids=["str", "bytes", "bytearray", "memoryview", "LIST", "records", "ApiResult"],
)
def test_templates_from_every_input_shape_are_equal(data):
    expected = templates_frame(msgspec.json.decode(WALKTHROUGH_TEMPLATES))
    pd.testing.assert_frame_equal(templates_frame(data), expected)


def test_a_response_object_takes_the_fast_path(caplog):
    response = SimpleNamespace(content=WALKTHROUGH_EARLIEST.encode(), status_code=200)
    caplog.set_level(logging.DEBUG, logger="bt_explore.frames")
    frame = slots_frame(response, template_id="fc01")
    assert "tolerant path" not in caplog.text
    pd.testing.assert_frame_equal(frame, slots_frame(WALKTHROUGH_EARLIEST, template_id="fc01"))
    templates = SimpleNamespace(content=WALKTHROUGH_TEMPLATES.encode())
    pd.testing.assert_frame_equal(
        templates_frame(templates), templates_frame(WALKTHROUGH_TEMPLATES)
    )
    assert "tolerant path" not in caplog.text


def test_raw_template_body_takes_the_typed_fast_path(caplog):
    caplog.set_level(logging.DEBUG, logger="bt_explore.frames")
    templates_frame(WALKTHROUGH_TEMPLATES.encode())
    assert "tolerant path" not in caplog.text


def test_single_template_and_template_envelope():
    record = msgspec.json.decode(WALKTHROUGH_TEMPLATES)["content"]["recordList"][0]
    one = templates_frame(record)
    assert one["template_id"].tolist() == ["fc12345678910AbcDefGh1112"]
    pd.testing.assert_frame_equal(templates_frame(envelope(record)), one)


def test_price_comes_from_price_object_or_flat_fields():
    frame = templates_frame(
        [
            {"id": "a", "price": {"priceGross": 10.5, "taxRate": 7, "currency": "EUR"}},
            {"id": "b", "priceGross": 20, "taxRate": 19, "currency": "CHF"},
            {"id": "c", "price": [], "priceGross": 30.0, "currency": "USD"},
            {"id": "d", "price": None},
            {"id": "e", "price": {"priceGross": None}, "priceGross": 5, "taxRate": "19"},
        ]
    )
    assert frame["price_gross"].tolist()[:3] == [10.5, 20.0, 30.0]
    assert pd.isna(frame.loc[3, "price_gross"])
    assert frame.loc[4, "price_gross"] == 5.0
    assert frame["tax_rate"].tolist()[:2] == [7.0, 19.0]
    assert frame.loc[4, "tax_rate"] == 19.0  # a numeric string is a number
    assert frame["currency"].tolist()[:3] == ["EUR", "CHF", "USD"]


@pytest.mark.parametrize("address", [None, [], "", {}, {"geoCoordinates": []}, 5], ids=repr)
def test_missing_or_odd_address_gives_na(address):
    frame = templates_frame([{"id": "fc01", "address": address}])
    assert_schema(frame, TEMPLATE_COLUMNS)
    for column in (c for c in TEMPLATE_COLUMNS if c.startswith("address_")):
        assert pd.isna(frame.loc[0, column]), column


def test_resource_ids_collect_all_steps_in_order_without_repeats():
    frame = templates_frame([TEMPLATE_WITH_STEPS])
    assert frame.loc[0, "resource_ids"] == (
        "br000000000000000000000000000001",
        "br000000000000000000000000000002",
        "br000000000000000000000000000003",
    )
    assert frame.loc[0, "resource_count"] == 3
    assert frame.loc[0, "booking_step_count"] == 2


def test_resource_ids_are_hashable_and_explode():
    frame = templates_frame([TEMPLATE_WITH_STEPS, {"id": "fc02"}])
    assert frame.groupby("resource_ids").size().sum() == 2
    long = frame.explode("resource_ids")
    assert long["resource_ids"].dropna().tolist()[0] == "br000000000000000000000000000001"


@pytest.mark.parametrize(
    ("i18n", "locale", "expected"),
    [
        ([], "de", "Haircut"),
        ("", "de", "Haircut"),
        (None, "de", "Haircut"),
        ({"de": "Haarschnitt", "en": "Haircut EN"}, "de", "Haarschnitt"),
        ([{"key": "de", "value": "Haarschnitt"}], "de", "Haarschnitt"),
        ([{"key": "de_DE", "value": "Haarschnitt"}], "de", "Haarschnitt"),
        ([{"key": "de", "value": "Haarschnitt"}], "de-AT", "Haarschnitt"),
        ([{"key": "en", "value": "Cut"}], "de", "Haircut"),
        ([{"key": "de", "value": ""}], "de", "Haircut"),
        ([{"locale": "fr", "text": "Coupe"}, "junk", 5], "fr", "Coupe"),
        ({"de": 5}, "de", "Haircut"),
        ({"key": "de", "value": "Haarschnitt"}, "de", "Haarschnitt"),
    ],
)
def test_locale_picks_the_localized_name_with_fallback(i18n, locale, expected):
    record = {"id": "fc01", "name": "Haircut", "nameI18nList": i18n}
    assert templates_frame([record], locale=locale).loc[0, "name"] == expected
    assert templates_frame(json.dumps([record]), locale=locale).loc[0, "name"] == expected
    assert templates_frame([record]).loc[0, "name"] == "Haircut"


def test_locale_must_be_a_string():
    with pytest.raises(TypeError, match="locale"):
        templates_frame([{"id": "fc01"}], locale=5)


def test_values_of_the_wrong_type_become_na_or_are_converted():
    frame = templates_frame(
        [
            {
                "id": 12345,
                "name": ["not", "a", "name"],
                "duration": "60",
                "leadTime": 1.0,
                "followupTime": 1.5,
                "bookingDayLatest": True,
                "bookingLeadTime": 10**30,
                "showPrice": "true",
                "customerEmailRequired": 1,
                "customerMobileRequired": "maybe",
                "priceGross": "abc",
                "taxRate": float("inf"),
                "bookingStepList": {"not": "a list"},
                "emailTemplateList": "x",
                "unknownField": {"nested": [1, 2]},
            }
        ]
    )
    assert_schema(frame, TEMPLATE_COLUMNS)
    row = frame.iloc[0]
    assert row["template_id"] == "12345"
    assert pd.isna(row["name"])
    assert row["duration"] == 60
    assert row["lead_time"] == 1
    assert pd.isna(row["followup_time"])
    assert pd.isna(row["booking_day_latest"])
    assert pd.isna(row["booking_lead_time"])
    assert bool(row["show_price"]) is True
    assert bool(row["customer_email_required"]) is True
    assert pd.isna(row["customer_mobile_required"])
    assert pd.isna(row["price_gross"])
    assert row["tax_rate"] == float("inf")
    assert pd.isna(row["booking_step_count"]) and pd.isna(row["resource_count"])
    assert row["resource_ids"] == ()
    assert pd.isna(row["email_template_count"])


def test_records_that_are_not_objects_are_skipped():
    frame = templates_frame([None, 5, "x", [], {"id": "fc01"}, {}])
    assert_schema(frame, TEMPLATE_COLUMNS)
    assert len(frame) == 2
    assert frame.loc[0, "template_id"] == "fc01"
    assert pd.isna(frame.loc[1, "template_id"])


def test_a_malformed_raw_body_falls_back_to_the_tolerant_path(caplog):
    records = [{"id": "fc01", "duration": "60"}, None, {"id": "fc02", "address": []}]
    caplog.set_level(logging.DEBUG, logger="bt_explore.frames")
    frame = templates_frame(envelope({"class": "LIST", "recordList": records}))
    assert "tolerant path" in caplog.text
    pd.testing.assert_frame_equal(frame, templates_frame(records))
    assert frame["duration"].tolist()[0] == 60


def test_invalid_json_names_the_problem():
    with pytest.raises(ValueError, match="not a valid JSON body"):
        templates_frame(b'{"content": [')


def test_top_level_of_the_wrong_type_is_a_clear_error():
    with pytest.raises(TypeError, match="templates: expected"):
        templates_frame(5)
    with pytest.raises(TypeError, match="slots: expected"):
        slots_frame(b'{"messageList": [], "content": 5}')


def test_loads_keeps_big_integers_and_names_what_is_not_json():
    assert loads(b'{"n": 123456789012345678901234567890}')["n"] == 123456789012345678901234567890
    for body in (b"{", b'{"x": NaN}', b"<html>"):
        with pytest.raises(ValueError, match="not a valid JSON body"):
            loads(body)


# --- slots --------------------------------------------------------------------------------


def test_walkthrough_earliest_answer_with_booking_slot_list():
    frame = slots_frame(WALKTHROUGH_EARLIEST, template_id="fc123456789101112131415aBCdeFgH")
    assert frame["slot_id"].tolist() == [
        "4f6gl70xpd71eqiz0878651d90b04330",
        "4f123456789101112131415aBCdeFgH",
    ]
    assert frame["template_id"].unique().tolist() == ["fc123456789101112131415aBCdeFgH"]
    # the instant is kept and shown in the answer's zone (Berlin is at +01:00 in January)
    assert str(frame.loc[0, "start"]) == "2020-12-31 23:15:00+01:00"
    assert frame["end"].isna().all()  # no template duration known
    assert frame.loc[0, "resource_ids"] == ("browuBQJWSylERkRQIHHrlXHVpCeyfqN",)
    assert frame["resource_count"].tolist() == [1, 1]


def test_both_slot_list_keys_give_the_same_frame():
    slots = [slot("4f01", "2026-10-24T10:00:00+02:00", "br01", "br02")]
    with_list = slots_frame({"timeZone": "Europe/Berlin", "list": slots}, template_id="fc01")
    with_booking_slot_list = slots_frame(
        {"timeZone": "Europe/Berlin", "bookingSlotList": slots}, template_id="fc01"
    )
    pd.testing.assert_frame_equal(with_list, with_booking_slot_list)
    assert with_list.loc[0, "resource_ids"] == ("br01", "br02")


def test_list_is_read_before_booking_slot_list():
    answer = {
        "timeZone": "Europe/Berlin",
        "list": [slot("4f01", "2026-10-24T10:00:00+02:00")],
        "bookingSlotList": [slot("4f02", "2026-10-24T10:00:00+02:00")],
    }
    assert slots_frame(answer)["slot_id"].tolist() == ["4f01"]
    assert slots_frame(json.dumps(answer))["slot_id"].tolist() == ["4f01"]
    answer["list"] = None
    assert slots_frame(answer)["slot_id"].tolist() == ["4f02"]


@pytest.mark.parametrize(
    "data",
    [
        range_list(slot("4f01", "2026-10-24T10:00:00+02:00", "br01")),
        envelope(range_list(slot("4f01", "2026-10-24T10:00:00+02:00", "br01"))),
        json.dumps(range_list(slot("4f01", "2026-10-24T10:00:00+02:00", "br01"))),
        [slot("4f01", "2026-10-24T10:00:00+02:00", "br01")],
        slot("4f01", "2026-10-24T10:00:00+02:00", "br01"),
        envelope(slot("4f01", "2026-10-24T10:00:00+02:00", "br01")),
        json.dumps([slot("4f01", "2026-10-24T10:00:00+02:00", "br01")]).encode(),
    ],
    ids=[
        "RANGE_LIST",
        "envelope bytes",
        "str",
        "list",
        "bare slot",
        "bare slot envelope",
        "list bytes",
    ],
)
def test_every_slot_input_shape(data):
    frame = slots_frame(data, template={"id": "fc01", "duration": 30}, tz="Europe/Berlin")
    assert_schema(frame, SLOT_COLUMNS, tz="Europe/Berlin")
    assert frame["slot_id"].tolist() == ["4f01"]
    assert str(frame.loc[0, "start"]) == "2026-10-24 10:00:00+02:00"
    assert str(frame.loc[0, "end"]) == "2026-10-24 10:30:00+02:00"
    assert frame.loc[0, "resource_ids"] == ("br01",)


def test_raw_slot_body_takes_the_typed_fast_path_and_matches_the_dict_path(caplog):
    answer = range_list(
        slot("4f01", "2026-10-25T01:30:00+02:00", "br01"),
        slot("4f02", "2026-10-25T02:30:00+01:00", "br01", "br02"),
    )
    caplog.set_level(logging.DEBUG, logger="bt_explore.frames")
    fast = slots_frame(envelope(answer), template={"id": "fc01", "duration": 45})
    assert "tolerant path" not in caplog.text
    pd.testing.assert_frame_equal(
        fast, slots_frame(answer, template={"id": "fc01", "duration": 45})
    )


def test_late_october_dst_change_in_berlin():
    # 2026-10-25: at 03:00 CEST clocks go back to 02:00 CET; 02:30 happens twice.
    answer = range_list(
        slot("4f01", "2026-10-25T01:30:00+02:00"),
        slot("4f02", "2026-10-25T02:30:00+02:00"),
        slot("4f03", "2026-10-25T02:30:00+01:00"),
        slot("4f04", "2026-10-25T03:30:00+01:00"),
    )
    for data in (answer, envelope(answer)):
        frame = slots_frame(data, template={"id": "fc01", "duration": 60})
        assert [str(t) for t in frame["start"]] == [
            "2026-10-25 01:30:00+02:00",
            "2026-10-25 02:30:00+02:00",
            "2026-10-25 02:30:00+01:00",
            "2026-10-25 03:30:00+01:00",
        ]
        assert [str(t) for t in frame["end"]] == [
            "2026-10-25 02:30:00+02:00",
            "2026-10-25 02:30:00+01:00",  # 60 minutes of real time across the change
            "2026-10-25 03:30:00+01:00",
            "2026-10-25 04:30:00+01:00",
        ]
        assert (frame["end"] - frame["start"] == pd.Timedelta(hours=1)).all()
        # consecutive starts are one real hour apart although the wall clock repeats 02:30
        assert (frame["start"].diff().dropna() == pd.Timedelta(hours=1)).all()


def test_late_march_dst_change_in_berlin():
    # 2027-03-28: at 02:00 CET clocks jump to 03:00 CEST; 02:30 does not exist.
    answer = range_list(
        slot("4f01", "2027-03-28T01:30:00+01:00"),
        slot("4f02", "2027-03-28T03:00:00+02:00"),
        slot("4f03", "2027-03-28T00:30:00Z"),
    )
    for data in (answer, envelope(answer)):
        frame = slots_frame(data, template={"id": "fc01", "duration": 60})
        assert [str(t) for t in frame["start"]] == [
            "2027-03-28 01:30:00+01:00",
            "2027-03-28 03:00:00+02:00",
            "2027-03-28 01:30:00+01:00",
        ]
        assert str(frame.loc[0, "end"]) == "2027-03-28 03:30:00+02:00"
        assert str(frame.loc[1, "end"]) == "2027-03-28 04:00:00+02:00"


def test_tz_argument_wins_over_the_answers_time_zone():
    answer = range_list(slot("4f01", "2026-10-24T10:00:00+02:00"))
    frame = slots_frame(answer, tz="America/New_York")
    assert str(frame.loc[0, "start"]) == "2026-10-24 04:00:00-04:00"
    assert_schema(frame, SLOT_COLUMNS, tz="America/New_York")


def test_unknown_tz_argument_is_an_error():
    with pytest.raises(ValueError, match="tz: unknown time zone 'Mars/Base'"):
        slots_frame([], tz="Mars/Base")


@pytest.mark.parametrize("time_zone", ["Mars/Base", 5, ["Europe/Berlin"]])
def test_invalid_answer_time_zone_falls_back_to_utc(time_zone, caplog):
    answer = range_list(slot("4f01", "2026-10-24T10:00:00+02:00"), time_zone=time_zone)
    with caplog.at_level(logging.WARNING, logger="bt_explore.frames"):
        frame = slots_frame(envelope(answer))
    assert_schema(frame, SLOT_COLUMNS, tz="UTC")
    assert str(frame.loc[0, "start"]) == "2026-10-24 08:00:00+00:00"
    assert "invalid timeZone" in caplog.text


def test_template_from_a_templates_frame_row_or_an_id():
    row = templates_frame([{"id": "fc01", "duration": 30}]).iloc[0]
    answer = range_list(slot("4f01", "2026-10-24T10:00:00+02:00"))
    by_row = slots_frame(answer, template=row)
    assert by_row.loc[0, "template_id"] == "fc01"
    assert str(by_row.loc[0, "end"]) == "2026-10-24 10:30:00+02:00"
    by_id = slots_frame(answer, template="fc01")
    assert by_id.loc[0, "template_id"] == "fc01"
    assert pd.isna(by_id.loc[0, "end"])
    overridden = slots_frame(answer, template={"id": "fc01", "duration": 30}, template_id="fc02")
    assert overridden.loc[0, "template_id"] == "fc02"
    assert pd.isna(slots_frame(answer).loc[0, "template_id"])


def test_template_of_the_wrong_type_is_an_error():
    with pytest.raises(TypeError, match="template: expected"):
        slots_frame([], template=5)


def test_huge_template_duration_gives_nat_ends(caplog):
    answer = range_list(slot("4f01", "2026-10-24T10:00:00+02:00"))
    frame = slots_frame(answer, template={"id": "fc01", "duration": 10**15})
    assert frame["end"].isna().all()
    assert "out of range" in caplog.text


def test_malformed_slots_never_crash_nor_change_the_schema():
    slots = [
        slot("4f01", "2026-10-24T10:00:00+02:00", "br01"),
        {"id": "4f02"},
        {"id": None, "timestamp": None, "bookingResourceCombination": None},
        {"id": 7, "timestamp": 1700000000, "bookingResourceCombination": "br01"},
        {"timestamp": "not a time", "bookingResourceCombination": ["br01", 5, None, "br02"]},
        {"timestamp": {"date": "2026-10-24"}, "bookingResourceCombination": {"a": 1}},
        {"timestamp": "2026-10-24T10:00:00.250+02:00", "extra": [1, 2, 3]},
        None,
        "4f03",
        [],
    ]
    for data in (range_list(*slots), envelope(range_list(*slots))):
        frame = slots_frame(data, template={"id": "fc01", "duration": 30})
        assert_schema(frame, SLOT_COLUMNS, tz="Europe/Berlin")
        assert len(frame) == 7
        assert frame["slot_id"].tolist()[:2] == ["4f01", "4f02"]
        assert frame.loc[3, "slot_id"] == "7"
        assert frame["start"].isna().tolist() == [False, True, True, True, True, True, False]
        assert str(frame.loc[6, "start"]) == "2026-10-24 10:00:00.250000+02:00"
        assert frame.loc[4, "resource_ids"] == ("br01", "br02")
        assert frame["resource_ids"].tolist()[5] == ()
        assert frame["resource_count"].tolist() == [1, 0, 0, 0, 2, 0, 0]


def test_implausible_years_are_nat():
    frame = slots_frame(
        [slot("4f01", "0001-01-01T00:00:00+00:00"), slot("4f02", "9999-12-31T23:59:59+00:00")],
        tz="Europe/Berlin",
    )
    assert frame["start"].isna().all()
    repr(frame)  # displayable


# --- resources ----------------------------------------------------------------------------


def test_resources_frame_values_and_locale():
    frame = resources_frame({"class": "LIST", "recordList": [RESOURCE, RESOURCE_2]})
    assert frame.loc[0].drop("description").tolist() == [
        "br000000000000000000000000000001",
        "R1",
        "EMPLOYEE",
        "Anna Schmidt",
        "Anna",
        "Schmidt",
        "FEMALE",
        "Dr.",
        "",
    ]
    localized = resources_frame([RESOURCE], locale="de")
    assert localized.loc[0, "name"] == "Anna Schmidt"  # no German name: fallback
    assert localized.loc[0, "description"] == "Erfahrene Friseurin"
    assert resources_frame([RESOURCE], locale="en").loc[0, "name"] == "Anna S."


def test_resources_from_a_raw_envelope():
    body = envelope({"class": "LIST", "recordList": [RESOURCE, None, {"id": "br9"}]})
    frame = resources_frame(body)
    assert frame["resource_id"].tolist() == [RESOURCE["id"], "br9"]
    assert_schema(frame, RESOURCE_COLUMNS)


# --- appointments -------------------------------------------------------------------------


def test_walkthrough_booking_answer():
    frame = appointments_frame(WALKTHROUGH_APPOINTMENT, tz="Europe/Berlin")
    row = frame.iloc[0]
    assert row["appointment_id"] == "ed123456789101112131415aBCdeFgH"
    assert row["duration"] == 30
    assert str(row["start"]) == "2020-12-31 23:15:00+01:00"
    assert str(row["end"]) == "2020-12-31 23:45:00+01:00"
    assert row["customer_first_name"] == "John"
    assert row["customer_last_name"] == "Doe"
    assert row["customer_email"] == "jd@scrubs.doc"
    assert pd.isna(row["customer_mobile"])
    assert pd.isna(row["canceled"])
    assert row["resource_ids"] == ()


def test_appointment_fields_across_the_october_change():
    appointment = {
        **WALKTHROUGH_APPOINTMENT,
        "customId": "my-key-1",
        "start": "2026-10-25T01:30:00+02:00",
        "end": "2026-10-25T02:30:00+01:00",
        "duration": 120,
        "timeZone": "Europe/Berlin",
        "protected": False,
        "canceled": True,
        "moved": False,
        "priceGross": 49.9,
        "taxRate": 19,
        "currency": "EUR",
        "customer": {**WALKTHROUGH_APPOINTMENT["customer"], "mobile": "+49 170 000"},
        "address": {"city": "Berlin", "zip": "10115"},
        "bookingResourceList": [RESOURCE, RESOURCE_2["id"]],
        "fileList": [],
        "organizationId": "f6000000000000000000000000000001",
    }
    frame = appointments_frame(envelope(appointment))
    row = frame.iloc[0]
    assert_schema(frame, APPOINTMENT_COLUMNS, tz="Europe/Berlin")
    assert (row["end"] - row["start"]) == pd.Timedelta(hours=2)
    assert str(row["end"]) == "2026-10-25 02:30:00+01:00"
    assert bool(row["canceled"]) is True and bool(row["moved"]) is False
    assert row["price_gross"] == 49.9 and row["currency"] == "EUR"
    assert row["customer_mobile"] == "+49 170 000"
    assert row["address_city"] == "Berlin"
    assert row["resource_ids"] == (RESOURCE["id"], RESOURCE_2["id"])
    assert row["resource_count"] == 2
    assert row["file_count"] == 0
    assert row["organization_id"] == "f6000000000000000000000000000001"


def test_appointments_in_several_time_zones_are_shown_in_utc():
    frame = appointments_frame(
        [
            {**WALKTHROUGH_APPOINTMENT, "timeZone": "Europe/Berlin"},
            {**WALKTHROUGH_APPOINTMENT, "timeZone": "Europe/London"},
        ]
    )
    assert_schema(frame, APPOINTMENT_COLUMNS, tz="UTC")
    assert frame["time_zone"].tolist() == ["Europe/Berlin", "Europe/London"]


# --- template × step × resource -----------------------------------------------------------


def test_template_resources_frame_is_long():
    frame = template_resources_frame(
        [TEMPLATE_WITH_STEPS, {"id": "fc02", "bookingStepList": []}, {"id": "fc03"}]
    )
    assert frame[["template_id", "step_index", "step_name", "resource_id"]].values.tolist() == [
        ["fc000000000000000000000000000001", 0, "Stylist", "br000000000000000000000000000001"],
        ["fc000000000000000000000000000001", 0, "Stylist", "br000000000000000000000000000002"],
        ["fc000000000000000000000000000001", 1, "Chair", "br000000000000000000000000000002"],
        ["fc000000000000000000000000000001", 1, "Chair", "br000000000000000000000000000003"],
    ]
    assert frame.loc[0, "resource_first_name"] == "Anna"
    assert frame.loc[0, "selection_quantity"] == 1
    assert frame.loc[0, "selection_display"] == "LIST"
    assert pd.isna(frame.loc[3, "resource_first_name"])  # a bare id
    who = frame.groupby("resource_id")["template_id"].nunique()
    assert who.to_dict()["br000000000000000000000000000002"] == 1


def test_template_resources_locale():
    frame = template_resources_frame([TEMPLATE_WITH_STEPS], locale="de")
    assert frame.loc[0, "template_name"] == "Haarschnitt"
    assert frame.loc[0, "step_name"] == "Friseur"
    assert frame.loc[2, "step_name"] == "Chair"


def test_template_resources_from_the_raw_walkthrough():
    frame = template_resources_frame(WALKTHROUGH_TEMPLATES.encode())
    assert len(frame) == 0
    assert_schema(frame, TEMPLATE_RESOURCE_COLUMNS)


# --- docs/frames.md ----------------------------------------------------------------------

SECTION = read_doc("frames")
SNIPPETS = doc_snippets(SECTION)


def test_docs_page_covers_every_flattener_and_the_benchmark():
    assert len(SNIPPETS) >= 4
    code = "\n".join(SNIPPETS)
    for name in FLATTENERS:
        assert f"{name}_frame(" in code, name
    assert "python -m benchmarks.frames" in SECTION
    for column in list(TEMPLATE_COLUMNS) + list(SLOT_COLUMNS) + list(APPOINTMENT_COLUMNS):
        assert f"`{column}`" in SECTION, column


@pytest.mark.parametrize("index", range(len(SNIPPETS)))
def test_docs_snippets_print_what_they_show(index):
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        exec(compile(SNIPPETS[index], f"docs/frames.md snippet {index}", "exec"), {})
    printed = out.getvalue().splitlines()
    assert printed
    for line in printed:
        assert f"# {line}".rstrip() in SNIPPETS[index], f"printed but not shown: {line!r}"


# --- one data path ------------------------------------------------------------------------


def test_python_values_that_json_cannot_hold_are_read_as_missing():
    import datetime

    frame = templates_frame(
        [
            {"id": "fc01", "address": datetime.date(2026, 1, 1), "duration": 30},
            {"id": "fc02", "address": {1: "x", "city": "Berlin"}, "extra": object()},
            {"id": "fc03", "address": {"city": "Köln", "zip": {5}}},
        ]
    )
    assert_schema(frame, TEMPLATE_COLUMNS)
    assert frame["template_id"].tolist() == ["fc01", "fc02", "fc03"]
    assert pd.isna(frame.loc[0, "address_city"]) and frame.loc[0, "duration"] == 30
    assert frame["address_city"].tolist()[1:] == ["Berlin", "Köln"]


def test_slot_pieces_of_several_answers_make_one_frame():
    first = envelope(range_list(slot("4f01", "2026-10-25T02:30:00+02:00", "br01")))
    second = [slot("4f02", "2026-10-25T02:30:00+01:00", "br01", "br02")]
    pieces = [(frames.slot_piece(first), "fc01", 60), (frames.slot_piece(second), "fc02", None)]
    frame = frames.slot_table(pieces, "Europe/Berlin")
    assert_schema(frame, SLOT_COLUMNS, tz="Europe/Berlin")
    assert frame["template_id"].tolist() == ["fc01", "fc02"]
    assert str(frame.loc[0, "end"]) == "2026-10-25 02:30:00+01:00"
    assert pd.isna(frame.loc[1, "end"])
    assert frame["resource_count"].tolist() == [1, 2]
    assert frames.template_identity({"id": "fc01", "duration": "45"}) == ("fc01", 45)
    empty = frames.slot_table([], "UTC")
    assert_schema(empty, SLOT_COLUMNS) and len(empty) == 0


def _wire_path(model: type, path: tuple[str, ...]) -> tuple[str, ...]:
    """The JSON keys of an attribute path through ``model`` and its nested models."""
    keys = []
    for name in path:
        field = {f.name: f for f in msgspec.structs.fields(model)}[name]
        keys.append(field.encode_name)
        model = frames._struct_of(field.type)
    return tuple(keys)


@pytest.mark.parametrize(
    ("paths", "model", "column", "keys"),
    [
        (frames._TEMPLATE_PATHS, "BookingTemplate", "template_id", ("id",)),
        (frames._TEMPLATE_PATHS, "BookingTemplate", "lead_time", ("leadTime",)),
        (
            frames._TEMPLATE_PATHS,
            "BookingTemplate",
            "address_latitude",
            ("address", "geoCoordinates", "latitude"),
        ),
        (
            frames._APPOINTMENT_PATHS,
            "Appointment",
            "customer_first_name",
            ("customer", "firstName"),
        ),
        (frames._APPOINTMENT_PATHS, "Appointment", "organization_id", ("organizationId",)),
        (frames._ORGANIZATION_PATHS, "Organization", "time_zone", ("timeZone",)),
        (frames._RESOURCE_PATHS, "BookingResource", "last_name", ("lastName",)),
        (frames._CUSTOM_ENTITY_PATHS, "CustomEntity", "timestamp_edit", ("timestampEdit",)),
    ],
)
def test_the_column_paths_come_from_the_models(paths, model, column, keys) -> None:
    from bt_explore import models

    assert _wire_path(getattr(models, model), paths[column]) == keys


def test_every_plain_column_has_a_model_path_and_the_computed_ones_none() -> None:
    tables = [
        (frames._TEMPLATE_PATHS, frames.TEMPLATE_COLUMNS, 26),
        (frames._APPOINTMENT_PATHS, frames.APPOINTMENT_COLUMNS, 26),
        (frames._ORGANIZATION_PATHS, frames.ORGANIZATION_COLUMNS, 14),
        (frames._RESOURCE_PATHS, frames.RESOURCE_COLUMNS, 10),
        (frames._CUSTOM_ENTITY_PATHS, frames.CUSTOM_ENTITY_COLUMNS, 9),
    ]
    for paths, columns, plain in tables:
        assert set(paths) <= set(columns)
        assert len(paths) == plain
    computed = {"price_gross", "resource_ids", "resource_count", "booking_step_count"}
    assert not computed & set(frames._TEMPLATE_PATHS)
    assert not {"start", "end", "file_count"} & set(frames._APPOINTMENT_PATHS)
