"""Flatten bookingtime API answers into pandas DataFrames with fixed, explicit schemas.

Every flattener is a pure function: records in, a DataFrame out. The input can be what the
client returns (a list of dicts, a ``LIST`` / ``RANGE_LIST`` dict, a single entity), the full
response envelope (``{"messageList": [...], "content": ...}``), or the raw response body as
``bytes`` / ``str``. Raw bodies of templates and slots take the fast path: they are decoded
straight into the few fields a frame needs (typed msgspec structs), without building the whole
JSON tree, and fall back to the tolerant dict path (``loads`` and plain dicts) when a payload
does not have the expected types. Both paths give the same frame.

The columns and dtypes never depend on the data: an empty input, missing keys, ``null``, ``[]``
where an object is expected, unknown extra keys, values of the wrong type and I18n lists in any
of their forms give the same schema (``TEMPLATE_COLUMNS``, ``SLOT_COLUMNS``, ...). Values that
cannot be read become ``<NA>`` / ``NaT`` and lists become empty tuples.

Example:
    >>> from bt_explore.frames import slots_frame
    >>> body = b'''{"messageList": [], "content": {"class": "RANGE_LIST",
    ...   "timeZone": "Europe/Berlin", "list": [{"class": "BOOKING_SLOT",
    ...   "id": "4f0000000000000000000000000001", "timestamp": "2026-10-25T01:30:00+02:00",
    ...   "bookingResourceCombination": ["br0000000000000000000000000001"]}]}}'''
    >>> df = slots_frame(body, template={"id": "fc01", "duration": 60})
    >>> str(df.loc[0, "end"])
    '2026-10-25 02:30:00+02:00'
"""

from __future__ import annotations

import datetime as _dt
import itertools
import json
import logging
import math
import operator
import zoneinfo
from collections.abc import Callable, Iterable, Mapping
from typing import Any, NamedTuple

import numpy as np
import orjson
import pandas as pd

try:  # msgspec makes raw bodies fast; without it the tolerant orjson path does all the work
    import msgspec
except ImportError:  # pragma: no cover - msgspec is a declared dependency
    msgspec = None

__all__ = [
    "APPOINTMENT_COLUMNS",
    "RESOURCE_COLUMNS",
    "SLOT_COLUMNS",
    "TEMPLATE_COLUMNS",
    "TEMPLATE_RESOURCE_COLUMNS",
    "appointments_frame",
    "loads",
    "resources_frame",
    "slots_frame",
    "template_resources_frame",
    "templates_frame",
]

log = logging.getLogger("bt_explore.frames")

#: A raw JSON body (bytes or text), an envelope, a container dict, a list of records, one record
#: or ``None``. Objects with a ``content`` attribute are read too: the client's ``ApiResult``
#: (parsed content) and a ``requests.Response`` (raw body, so it takes the fast path).
FrameInput = bytes | bytearray | memoryview | str | Mapping[str, Any] | Iterable[Any] | None
#: A time zone name (``"Europe/Berlin"``) or a ``tzinfo``.
TimeZone = str | _dt.tzinfo

# pandas 3 has a dedicated "str" dtype; pandas 2 spells the nullable string dtype "string".
STR = "str" if int(pd.__version__.split(".")[0]) >= 3 else "string"
#: Datetime columns are tz-aware with microsecond resolution. The time zone is the frame's
#: (the answer's ``timeZone`` or the ``tz=`` argument); the schemas show the UTC fallback.
DATETIME = "datetime64[us, UTC]"
#: List columns hold a tuple of strings per row (hashable, ``explode``-able), never NA.
TUPLE = "object"

TEMPLATE_COLUMNS: dict[str, str] = {
    "template_id": STR,
    "custom_id": STR,
    "name": STR,
    "description": STR,
    "location": STR,
    "image": STR,
    "duration": "Int64",
    "lead_time": "Int64",
    "followup_time": "Int64",
    "price_gross": "Float64",
    "tax_rate": "Float64",
    "currency": STR,
    "show_price": "boolean",
    "appointment_address_required": "boolean",
    "customer_address_required": "boolean",
    "customer_email_required": "boolean",
    "customer_mobile_required": "boolean",
    "additional_customer_count_max": "Int64",
    "booking_day_earliest": "Int64",
    "booking_day_latest": "Int64",
    "booking_lead_time": "Int64",
    "address_name": STR,
    "address_extra": STR,
    "address_street": STR,
    "address_zip": STR,
    "address_city": STR,
    "address_country": STR,
    "address_latitude": "Float64",
    "address_longitude": "Float64",
    "booking_step_count": "Int64",
    "resource_ids": TUPLE,
    "resource_count": "Int64",
    "email_template_count": "Int64",
    "sms_template_count": "Int64",
    "extra_field_count": "Int64",
}

SLOT_COLUMNS: dict[str, str] = {
    "slot_id": STR,
    "template_id": STR,
    "start": DATETIME,
    "end": DATETIME,
    "resource_ids": TUPLE,
    "resource_count": "Int64",
}

RESOURCE_COLUMNS: dict[str, str] = {
    "resource_id": STR,
    "custom_id": STR,
    "type": STR,
    "name": STR,
    "first_name": STR,
    "last_name": STR,
    "gender": STR,
    "title": STR,
    "description": STR,
    "image": STR,
}

APPOINTMENT_COLUMNS: dict[str, str] = {
    "appointment_id": STR,
    "custom_id": STR,
    "name": STR,
    "description": STR,
    "start": DATETIME,
    "end": DATETIME,
    "duration": "Int64",
    "time_zone": STR,
    "protected": "boolean",
    "show_price": "boolean",
    "price_gross": "Float64",
    "tax_rate": "Float64",
    "currency": STR,
    "canceled": "boolean",
    "moved": "boolean",
    "customer_custom_id": STR,
    "customer_gender": STR,
    "customer_title": STR,
    "customer_first_name": STR,
    "customer_last_name": STR,
    "customer_email": STR,
    "customer_mobile": STR,
    "address_name": STR,
    "address_street": STR,
    "address_zip": STR,
    "address_city": STR,
    "address_country": STR,
    "resource_ids": TUPLE,
    "resource_count": "Int64",
    "file_count": "Int64",
    "organization_id": STR,
}

TEMPLATE_RESOURCE_COLUMNS: dict[str, str] = {
    "template_id": STR,
    "template_name": STR,
    "step_index": "Int64",
    "step_name": STR,
    "selection_quantity": "Int64",
    "selection_display": STR,
    "resource_id": STR,
    "resource_custom_id": STR,
    "resource_type": STR,
    "resource_name": STR,
    "resource_first_name": STR,
    "resource_last_name": STR,
}

# Plain columns: column -> JSON path. Computed columns (price fallback, counts, id lists,
# datetimes) are filled by the flatteners themselves.
_TEMPLATE_PATHS: dict[str, tuple[str, ...]] = {
    "template_id": ("id",),
    "custom_id": ("customId",),
    "name": ("name",),
    "description": ("description",),
    "location": ("location",),
    "image": ("image",),
    "duration": ("duration",),
    "lead_time": ("leadTime",),
    "followup_time": ("followupTime",),
    "show_price": ("showPrice",),
    "appointment_address_required": ("appointmentAddressRequired",),
    "customer_address_required": ("customerAddressRequired",),
    "customer_email_required": ("customerEmailRequired",),
    "customer_mobile_required": ("customerMobileRequired",),
    "additional_customer_count_max": ("additionalCustomerCountMax",),
    "booking_day_earliest": ("bookingDayEarliest",),
    "booking_day_latest": ("bookingDayLatest",),
    "booking_lead_time": ("bookingLeadTime",),
    "address_name": ("address", "name"),
    "address_extra": ("address", "extra"),
    "address_street": ("address", "street"),
    "address_zip": ("address", "zip"),
    "address_city": ("address", "city"),
    "address_country": ("address", "country"),
    "address_latitude": ("address", "geoCoordinates", "latitude"),
    "address_longitude": ("address", "geoCoordinates", "longitude"),
}

_RESOURCE_PATHS: dict[str, tuple[str, ...]] = {
    "resource_id": ("id",),
    "custom_id": ("customId",),
    "type": ("type",),
    "name": ("name",),
    "first_name": ("firstName",),
    "last_name": ("lastName",),
    "gender": ("gender",),
    "title": ("title",),
    "description": ("description",),
    "image": ("image",),
}

_APPOINTMENT_PATHS: dict[str, tuple[str, ...]] = {
    "appointment_id": ("id",),
    "custom_id": ("customId",),
    "name": ("name",),
    "description": ("description",),
    "duration": ("duration",),
    "time_zone": ("timeZone",),
    "protected": ("protected",),
    "show_price": ("showPrice",),
    "canceled": ("canceled",),
    "moved": ("moved",),
    "customer_custom_id": ("customer", "customId"),
    "customer_gender": ("customer", "gender"),
    "customer_title": ("customer", "title"),
    "customer_first_name": ("customer", "firstName"),
    "customer_last_name": ("customer", "lastName"),
    "customer_email": ("customer", "email"),
    "customer_mobile": ("customer", "mobile"),
    "address_name": ("address", "name"),
    "address_street": ("address", "street"),
    "address_zip": ("address", "zip"),
    "address_city": ("address", "city"),
    "address_country": ("address", "country"),
    "organization_id": ("organizationId",),
}

_INT64_MIN, _INT64_MAX = -(2**63), 2**63 - 1
_NoneType = type(None)
_EMPTY: tuple[str, ...] = ()


# --------------------------------------------------------------------------------------------
# JSON input
# --------------------------------------------------------------------------------------------


def loads(data: bytes | bytearray | memoryview | str) -> Any:
    """Decode a JSON response body into Python objects (msgspec or orjson, stdlib fallback).

    msgspec keeps integers of any size exact, where orjson turns those beyond 64 bits into
    floats; the stdlib reads what both reject (``NaN`` literals, lone surrogates).

    Example:
        >>> loads(b'{"content": {"class": "LIST", "recordList": []}}')["content"]["class"]
        'LIST'
    """
    try:
        if msgspec is not None:
            return _decode_any(data)
        return orjson.loads(data)
    except (ValueError, TypeError) as exc:  # msgspec.DecodeError, orjson.JSONDecodeError
        problem = exc
    try:
        text = data if isinstance(data, str) else bytes(data).decode("utf-8")
        return json.loads(text)
    except (ValueError, UnicodeDecodeError):
        raise ValueError(f"data: not a valid JSON body ({problem})") from None


def _is_raw(data: Any) -> bool:
    return isinstance(data, (bytes, bytearray, memoryview, str))


def _content_of(obj: Any) -> Any:
    """What an object with a ``content`` attribute holds: an ``ApiResult``'s content, a
    ``requests.Response``'s body; anything else as it is."""
    if not isinstance(obj, (dict, list)) and not _is_raw(obj) and hasattr(obj, "content"):
        return obj.content
    return obj


def _unwrap(obj: Any) -> Any:
    """Strip what surrounds the records: an ``ApiResult``, the response envelope."""
    obj = _content_of(obj)
    if _is_raw(obj):
        obj = loads(obj)
    if isinstance(obj, Mapping) and not isinstance(obj, dict):
        obj = dict(obj)
    if isinstance(obj, dict) and "content" in obj and "class" not in obj and "id" not in obj:
        obj = obj["content"]
    return obj


def _locate_records(obj: Any, what: str) -> Any:
    """The record list inside a ``LIST``, a list of records or one record."""
    if obj is None:
        return []
    if isinstance(obj, dict):
        records = obj.get("recordList")
        if isinstance(records, list):
            return records
        if "recordList" in obj or obj.get("class") == "LIST":
            return []
        return [obj]
    if isinstance(obj, list):
        return obj
    if isinstance(obj, Iterable) and not isinstance(obj, (str, bytes)):
        return list(obj)
    raise TypeError(
        f"{what}: expected a JSON body, a LIST, a list of records or a record, "
        f"got {type(obj).__name__}"
    )


_SLOT_LIST_KEYS = ("list", "bookingSlotList", "recordList")
_SLOT_CONTAINER_KEYS = (*_SLOT_LIST_KEYS, "rangeStart", "rangeEnd")


def _locate_slots(obj: Any) -> tuple[Any, Any]:
    """The slot list and the answer's time zone inside a RANGE_LIST / earliest answer."""
    if obj is None:
        return [], None
    if isinstance(obj, dict):
        time_zone = obj.get("timeZone")
        for key in _SLOT_LIST_KEYS:
            if isinstance(obj.get(key), list):
                return obj[key], time_zone
        if any(key in obj for key in _SLOT_CONTAINER_KEYS) or obj.get("class") in (
            "RANGE_LIST",
            "LIST",
        ):
            return [], time_zone
        return [obj], time_zone
    if isinstance(obj, list):
        return obj, None
    if isinstance(obj, Iterable) and not isinstance(obj, (str, bytes)):
        return list(obj), None
    raise TypeError(
        "slots: expected a JSON body, a RANGE_LIST, an earliest answer, a list of slots or a "
        f"slot, got {type(obj).__name__}"
    )


def _dict_records(records: list[Any], what: str) -> list[dict[str, Any]]:
    kept = [r for r in records if isinstance(r, dict)]
    if len(kept) != len(records):
        skipped = len(records) - len(kept)
        log.debug("%s: skipped %d records that are not JSON objects", what, skipped)
    return kept


# --------------------------------------------------------------------------------------------
# Fast path for raw bodies: decode only the fields a frame needs, into typed structs
# --------------------------------------------------------------------------------------------


class _FallBack(Exception):
    """The raw body does not fit the typed fast path; use the tolerant dict path."""


if msgspec is not None:
    _Raw = msgspec.Raw
    _Struct = msgspec.Struct
    _UNSET = msgspec.UNSET
    _Unset = msgspec.UnsetType

    class _Anything(msgspec.Struct, gc=False):
        """An element we only count."""

    class _Geo(msgspec.Struct, gc=False):
        latitude: float | None = None
        longitude: float | None = None

    class _Address(msgspec.Struct, gc=False):
        name: str | None = None
        extra: str | None = None
        street: str | None = None
        zip: str | None = None
        city: str | None = None
        country: str | None = None
        # PHP serialises an empty object as [], hence the tuple alternative
        geoCoordinates: _Geo | tuple[_Anything, ...] | None = None

    class _Price(msgspec.Struct, gc=False):
        priceGross: float | None = None
        taxRate: float | None = None
        currency: str | None = None

    class _ResourceRef(msgspec.Struct, gc=False):
        id: str | None = None

    class _Step(msgspec.Struct, gc=False):
        bookingResourceList: tuple[_ResourceRef | str, ...] | None = None

    class _Template(msgspec.Struct, gc=False):
        id: str | None = None
        customId: str | None = None
        name: str | None = None
        description: str | None = None
        location: str | None = None
        image: str | None = None
        duration: int | None = None
        leadTime: int | None = None
        followupTime: int | None = None
        price: _Price | tuple[_Anything, ...] | None = None
        showPrice: bool | None = None
        priceGross: float | None = None
        taxRate: float | None = None
        currency: str | None = None
        appointmentAddressRequired: bool | None = None
        customerAddressRequired: bool | None = None
        customerEmailRequired: bool | None = None
        customerMobileRequired: bool | None = None
        additionalCustomerCountMax: int | None = None
        bookingDayEarliest: int | None = None
        bookingDayLatest: int | None = None
        bookingLeadTime: int | None = None
        address: _Address | tuple[_Anything, ...] | None = None
        bookingStepList: tuple[_Step, ...] | None = None
        emailTemplateList: tuple[_Raw, ...] | None = None
        smsTemplateList: tuple[_Raw, ...] | None = None
        extraFieldList: tuple[_Raw, ...] | None = None

    class _Slot(msgspec.Struct, gc=False):
        # Required and not nullable: a slot that lacks one sends the body to the dict path,
        # so the fast path needs no missing-value checks.
        id: str
        timestamp: str
        bookingResourceCombination: tuple[str, ...]

    # The top levels keep "key absent" (UNSET) apart from null, so that the fast path takes
    # exactly the decisions _unwrap / _locate_* take on dicts.
    class _TemplateTop(msgspec.Struct, gc=False):
        content: _TemplateTop | tuple[_Template, ...] | None | _Unset = _UNSET
        cls: str | None | _Unset = msgspec.field(default=_UNSET, name="class")
        id: Any = _UNSET
        recordList: tuple[_Template, ...] | None | _Unset = _UNSET

    class _SlotTop(msgspec.Struct, gc=False):
        content: _SlotTop | tuple[_Slot, ...] | None | _Unset = _UNSET
        cls: str | None | _Unset = msgspec.field(default=_UNSET, name="class")
        id: str | None | _Unset = _UNSET
        timestamp: str | None | _Unset = _UNSET
        bookingResourceCombination: tuple[str, ...] | None | _Unset = _UNSET
        timeZone: str | None | _Unset = _UNSET
        list: tuple[_Slot, ...] | None | _Unset = _UNSET
        bookingSlotList: tuple[_Slot, ...] | None | _Unset = _UNSET
        recordList: tuple[_Slot, ...] | None | _Unset = _UNSET
        rangeStart: Any = _UNSET
        rangeEnd: Any = _UNSET

    _decode_any = msgspec.json.Decoder().decode
    _decode_template_body = msgspec.json.Decoder(_TemplateTop | tuple[_Template, ...]).decode
    _decode_slot_body = msgspec.json.Decoder(_SlotTop | tuple[_Slot, ...]).decode
else:  # pragma: no cover
    _Struct = ()  # isinstance(x, ()) is always False
    _UNSET = object()
    _Template = _Slot = None
    _decode_any = _decode_template_body = _decode_slot_body = None


def _typed(decode: Callable[[Any], Any], data: Any) -> Any:
    """Decode a raw body with a typed decoder, or raise ``_FallBack``."""
    if msgspec is None:
        raise _FallBack("msgspec is not installed")
    if isinstance(data, str):
        data = data.encode("utf-8")
    try:
        return decode(data)
    except msgspec.DecodeError as exc:  # ValidationError is a DecodeError
        raise _FallBack(str(exc)) from None


def _typed_unwrap(top: Any) -> Any:
    """``_unwrap`` for a decoded top-level struct."""
    if (
        isinstance(top, _Struct)
        and top.content is not _UNSET
        and top.cls is _UNSET
        and top.id is _UNSET
    ):
        return top.content
    return top


def _typed_template_records(data: Any) -> tuple[Any, ...]:
    """``_locate_records`` on the typed decoding of a raw template body."""
    obj = _typed_unwrap(_typed(_decode_template_body, data))
    if obj is None:
        return ()
    if type(obj) is tuple:
        return obj
    if type(obj.recordList) is tuple:
        return obj.recordList
    if obj.recordList is not _UNSET or obj.cls == "LIST":
        return ()
    raise _FallBack("a single template: its fields are read on the dict path")


def _typed_slot_records(data: Any) -> tuple[tuple[Any, ...], Any]:
    """``_locate_slots`` on the typed decoding of a raw slot body."""
    obj = _typed_unwrap(_typed(_decode_slot_body, data))
    if obj is None:
        return (), None
    if type(obj) is tuple:
        return obj, None
    time_zone = None if obj.timeZone is _UNSET else obj.timeZone
    for key in _SLOT_LIST_KEYS:
        records = getattr(obj, key)
        if type(records) is tuple:
            return records, time_zone
    if any(getattr(obj, key) is not _UNSET for key in _SLOT_CONTAINER_KEYS) or obj.cls in (
        "RANGE_LIST",
        "LIST",
    ):
        return (), time_zone
    return (obj,), time_zone


# --------------------------------------------------------------------------------------------
# Reading values: dicts (tolerant path) and structs (fast path) through the same code
# --------------------------------------------------------------------------------------------


def _get(value: Any, key: str) -> Any:
    if type(value) is dict:
        return value.get(key)
    if isinstance(value, _Struct):
        return getattr(value, key, None)
    return None


def _column(rows: list[Any], key: str) -> list[Any]:
    """``row[key]`` for every row; ``None`` where a row is not an object or lacks the key."""
    if (
        type(rows) is tuple
        and rows
        and type(rows[0]) is _Template
        and key in _Template.__struct_fields__
    ):
        # a typed decoder's record tuple: every row is a _Template
        return list(map(operator.attrgetter(key), rows))
    kinds = set(map(type, rows))
    if kinds <= {dict, _NoneType}:
        if _NoneType in kinds:
            return [r.get(key) if r is not None else None for r in rows]
        return [r.get(key) for r in rows]
    structs = [kind for kind in kinds if issubclass(kind, _Struct)]
    if len(structs) == 1 and dict not in kinds:
        # typed fast path: every object at this position is the same struct class
        cls = structs[0]
        if key not in cls.__struct_fields__:
            return [None] * len(rows)
        get = operator.attrgetter(key)
        if len(kinds) == 1:
            return list(map(get, rows))
        return [get(r) if type(r) is cls else None for r in rows]
    return [_get(r, key) for r in rows]


def _paths(records: list[Any], paths: Mapping[str, tuple[str, ...]]) -> dict[str, list[Any]]:
    """Raw values for each path; intermediate objects are looked up once per prefix."""
    cache: dict[tuple[str, ...], list[Any]] = {(): records}

    def walk(path: tuple[str, ...]) -> list[Any]:
        if path not in cache:
            cache[path] = _column(walk(path[:-1]), path[-1])
        return cache[path]

    return {name: walk(path) for name, path in paths.items()}


def _first_present(primary: list[Any], fallback: list[Any]) -> list[Any]:
    return [a if a is not None else b for a, b in zip(primary, fallback, strict=True)]


def _count(value: Any) -> int | None:
    return len(value) if type(value) is list or type(value) is tuple else None


def _id_of(value: Any) -> Any:
    kind = type(value)
    if kind is str:
        return value
    if kind is dict:
        return value.get("id")
    return _get(value, "id")


def _id_tuple(values: Any) -> tuple[str, ...]:
    """The string ids in a list of ids or of objects with an ``id``, in order, without repeats."""
    if type(values) is not list and type(values) is not tuple:
        return _EMPTY
    ids = [rid for rid in map(_id_of, values) if type(rid) is str]
    return tuple(dict.fromkeys(ids))


def _step_resource_ids(steps: Any) -> tuple[str, ...]:
    """The resource ids over all booking steps, in order, without repeats."""
    if type(steps) is tuple:
        # typed fast path: _Step structs holding _ResourceRef structs or id strings
        unique = {
            (resource if type(resource) is str else resource.id): None
            for step in steps
            if step.bookingResourceList
            for resource in step.bookingResourceList
        }
        unique.pop(None, None)
        return tuple(unique)
    if type(steps) is not list:
        return _EMPTY
    ids: list[str] = []
    for step in steps:
        resources = _get(step, "bookingResourceList")
        if type(resources) is list or type(resources) is tuple:
            ids.extend(rid for rid in map(_id_of, resources) if type(rid) is str)
    return tuple(dict.fromkeys(ids))


# I18n lists come as [], "", {"en": "..."} or [{"key": "en", "value": "..."}].
_I18N_KEY_FIELDS = ("key", "locale", "language", "lang")
_I18N_VALUE_FIELDS = ("value", "text", "name")


def _i18n_pairs(i18n: Any) -> list[tuple[str, str]]:
    pairs = []
    if isinstance(i18n, dict) and any(f in i18n for f in _I18N_KEY_FIELDS):
        i18n = [i18n]  # one {"key": ..., "value": ...} entry without its list
    if isinstance(i18n, dict):
        pairs = [(k, v) for k, v in i18n.items() if isinstance(v, str)]
    elif isinstance(i18n, list):
        for item in i18n:
            if not isinstance(item, dict):
                continue
            key = next((item[f] for f in _I18N_KEY_FIELDS if isinstance(item.get(f), str)), None)
            text = next((item[f] for f in _I18N_VALUE_FIELDS if isinstance(item.get(f), str)), None)
            if key is not None and text is not None:
                pairs.append((key, text))
    return pairs


def _norm_locale(locale: str) -> str:
    return locale.strip().replace("-", "_").lower()


def _localized(i18n: Any, locale: str) -> str | None:
    """The text for ``locale`` (``de`` matches ``de_DE`` and back), or ``None``."""
    pairs = [(_norm_locale(k), v) for k, v in _i18n_pairs(i18n) if v != ""]
    want = _norm_locale(locale)
    for key, text in pairs:
        if key == want:
            return text
    language = want.split("_")[0]
    for key, text in pairs:
        if key.split("_")[0] == language:
            return text
    return None


def _localize(
    columns: dict[str, list[Any]], records: list[Any], locale: str | None, fields: Mapping
) -> None:
    """Replace ``name`` / ``description`` by their ``locale`` text where the record has one."""
    if locale is None:
        return
    if not isinstance(locale, str):
        raise TypeError(f"locale: expected a string like 'de' or 'en_GB', got {locale!r}")
    for column, i18n_key in fields.items():
        texts = [_localized(_get(r, i18n_key), locale) for r in records]
        columns[column] = _first_present(texts, columns[column])


# --------------------------------------------------------------------------------------------
# Typed arrays
# --------------------------------------------------------------------------------------------


def _as_int(value: Any) -> int | None:
    kind = type(value)
    if kind is int:
        result = value
    elif kind is float:
        if not math.isfinite(value) or not value.is_integer():
            return None
        result = int(value)
    elif kind is str:
        try:
            result = int(value.strip())
        except ValueError:
            return None
    else:  # bool, containers, None
        return None
    return result if _INT64_MIN <= result <= _INT64_MAX else None


def _as_float(value: Any) -> float | None:
    kind = type(value)
    if kind is float or kind is int:
        try:
            result = float(value)
        except OverflowError:
            return None
    elif kind is str:
        try:
            result = float(value.strip())
        except ValueError:
            return None
    else:
        return None
    return None if math.isnan(result) else result


_TRUE = frozenset(("true", "1", "yes"))
_FALSE = frozenset(("false", "0", "no"))


def _as_bool(value: Any) -> bool | None:
    kind = type(value)
    if kind is bool:
        return value
    if kind is int and value in (0, 1):
        return bool(value)
    if kind is str:
        text = value.strip().lower()
        if text in _TRUE:
            return True
        if text in _FALSE:
            return False
    return None


def _as_str(value: Any) -> str | None:
    kind = type(value)
    if kind is str:
        return value
    if kind is int:
        return str(value)
    if kind is float:
        return None if math.isnan(value) else repr(value)
    return None


def _int_array(values: list[Any]) -> pd.api.extensions.ExtensionArray:
    if set(map(type, values)) <= {int, _NoneType}:
        try:
            return pd.array(values, dtype="Int64")
        except (OverflowError, TypeError, ValueError):
            pass  # an integer beyond int64: the slow path drops it
    return pd.array([_as_int(v) for v in values], dtype="Int64")


def _count_array(counts: np.ndarray) -> pd.api.extensions.ExtensionArray:
    """Int64 from an int64 ndarray that has no missing values."""
    return pd.arrays.IntegerArray(counts, np.zeros(len(counts), dtype=bool))


def _float_array(values: list[Any]) -> pd.api.extensions.ExtensionArray:
    if set(map(type, values)) <= {float, int, _NoneType}:
        try:
            array = np.array([np.nan if v is None else v for v in values], dtype="float64")
        except OverflowError:
            pass  # an integer beyond float range: the slow path drops it
        else:
            return pd.arrays.FloatingArray(array, np.isnan(array))
    return pd.array([_as_float(v) for v in values], dtype="Float64")


def _bool_array(values: list[Any]) -> pd.api.extensions.ExtensionArray:
    if not set(map(type, values)) <= {bool, _NoneType}:
        values = [_as_bool(v) for v in values]
    return pd.array(values, dtype="boolean")


_STR_DTYPE = pd.api.types.pandas_dtype(STR)
# StringArray checks "only str or NA" in one C loop; it backs "str" unless pyarrow does.
_PLAIN_STRINGS = getattr(_STR_DTYPE, "storage", None) == "python"


def _str_array(
    values: list[Any] | np.ndarray, *, complete: bool = False
) -> pd.api.extensions.ExtensionArray:
    """A "str" array; ``complete=True`` promises that no value is missing (skips a check)."""
    if _PLAIN_STRINGS:
        array = values if isinstance(values, np.ndarray) else np.array(values, dtype=object)
        if array.ndim == 1:  # a list of equal-length lists would make it 2-D: slow path
            try:
                strings = pd.arrays.StringArray(array, dtype=_STR_DTYPE)
            except (ValueError, TypeError):
                pass  # not all strings: coerce one by one below
            else:
                if complete:
                    return strings
                missing = pd.isna(array)
                if missing.any():  # one NA spelling, so that equal frames compare equal
                    array[missing] = _STR_DTYPE.na_value
                    strings = pd.arrays.StringArray(array, dtype=_STR_DTYPE)
                return strings
        values = list(values)
    if not set(map(type, values)) <= {str, _NoneType}:
        values = [_as_str(v) for v in values]
    return pd.array(values, dtype=STR)


def _tuple_array(values: list[tuple[str, ...]]) -> np.ndarray:
    return np.fromiter(values, dtype=object, count=len(values))


_CONVERTERS: dict[str, Callable[[list[Any]], Any]] = {
    "Int64": _int_array,
    "Float64": _float_array,
    "boolean": _bool_array,
    STR: _str_array,
    TUPLE: _tuple_array,
}


def _frame(schema: Mapping[str, str], columns: Mapping[str, Any], length: int) -> pd.DataFrame:
    """A DataFrame with exactly ``schema``'s columns in order, from raw value lists.

    Values that are already arrays (built by a fast path) are taken as they are.
    """
    data = {}
    for name, dtype in schema.items():
        values = columns[name]
        if isinstance(values, (pd.api.extensions.ExtensionArray, pd.Index, np.ndarray)):
            data[name] = values
        else:
            data[name] = _CONVERTERS[dtype](values)
    return pd.DataFrame(data, index=pd.RangeIndex(length), copy=False)


def _resolve_tz(tz: TimeZone | None, answer_tz: Any, what: str) -> str | _dt.tzinfo:
    """``tz=`` if given (checked), else the answer's ``timeZone`` if valid, else UTC."""
    if tz is not None:
        if isinstance(tz, _dt.tzinfo):
            return tz
        if isinstance(tz, str) and _valid_tz_name(tz):
            return tz
        raise ValueError(
            f"tz: unknown time zone {tz!r} (expected an IANA name like 'Europe/Berlin')"
        )
    if answer_tz is None:
        return "UTC"
    if isinstance(answer_tz, str) and _valid_tz_name(answer_tz):
        return answer_tz
    log.warning("%s: ignoring invalid timeZone %r in the answer; using UTC", what, answer_tz)
    return "UTC"


def _valid_tz_name(name: str) -> bool:
    if name.upper() == "UTC":
        return True
    try:
        zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError, TypeError, OSError):
        return False
    return True


# "YYYY-MM-DDTHH:MM:SS+HH:MM", the API's timestamp form: what _parse_canonical reads.
_CANONICAL_LENGTH = 25
_CANONICAL_SEPARATORS = {4: "-", 7: "-", 10: "T", 13: ":", 16: ":", 22: ":"}
_CANONICAL_DIGITS = [i for i in range(19) if i not in _CANONICAL_SEPARATORS] + [20, 21, 23, 24]
_DAYS_IN_MONTH = np.array([0, 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31])


def _canonical_bytes(strings: list[Any]) -> np.ndarray | None:
    """The strings as an (n, 26) uint8 matrix, each row ending in "|", if they can be.

    Joined with "|" (which no canonical timestamp contains), every row of 26 characters must
    end in "|" and hold only canonical characters elsewhere (checked by the caller), so each
    string has exactly 25 characters: no per-string length check is needed.
    """
    try:
        joined = "|".join(strings)  # TypeError unless every value is a str
    except TypeError:
        return None
    count = len(strings)
    width = _CANONICAL_LENGTH + 1
    if len(joined) + 1 != count * width or count == 0:
        return None
    try:
        data = (joined + "|").encode("ascii")
    except UnicodeEncodeError:
        return None
    chars = np.frombuffer(data, dtype=np.uint8).reshape(count, width)
    if not (chars[:, _CANONICAL_LENGTH] == ord("|")).all():
        return None
    return chars


def _parse_canonical(strings: list[Any]) -> tuple[np.ndarray, np.ndarray]:
    """Vectorised parse of canonical ISO 8601 timestamps with offset.

    Returns microseconds since the epoch (UTC) and a mask of the values read; everything else
    (other ISO forms, garbage, non-strings) is left to pandas. pandas' ISO parser works one
    string at a time, which costs more than the JSON decoding of a slot list.
    """
    count = len(strings)
    chars = _canonical_bytes(strings)
    if chars is not None:
        ok = np.ones(count, dtype=bool)  # the checks below reject a "|" in any other column
    else:
        width = _CANONICAL_LENGTH + 1  # one more, so that longer strings show a character there
        # fromiter keeps nested lists as single objects, where np.array would add a dimension
        objects = np.fromiter(strings, dtype=object, count=count)
        try:
            text = objects.astype(f"U{width}")
        except (TypeError, ValueError):
            return np.zeros(count, dtype=np.int64), np.zeros(count, dtype=bool)
        # Non-strings were stringified by numpy; none of them (None, numbers, datetimes: those
        # have a space, not "T") has the canonical form, so the checks below reject them.
        chars = text.view(np.uint32).reshape(count, width)
        ok = chars[:, _CANONICAL_LENGTH] == 0
    for position, separator in _CANONICAL_SEPARATORS.items():
        ok &= chars[:, position] == ord(separator)
    sign_char = chars[:, 19]
    ok &= (sign_char == ord("+")) | (sign_char == ord("-"))
    digits = chars[:, _CANONICAL_DIGITS] - chars.dtype.type(ord("0"))  # wraps below "0": > 9
    ok &= (digits <= 9).all(axis=1)
    columns = np.ascontiguousarray(digits.T, dtype=np.int64)  # one row per digit position

    def number(first: int, width: int) -> np.ndarray:
        row = _CANONICAL_DIGITS.index(first)
        value = columns[row].copy()
        for i in range(row + 1, row + width):
            value *= 10
            value += columns[i]
        return value

    year, month, day = number(0, 4), number(5, 2), number(8, 2)
    hour, minute, second = number(11, 2), number(14, 2), number(17, 2)
    offset_hour, offset_minute = number(20, 2), number(23, 2)
    leap = (year % 4 == 0) & ((year % 100 != 0) | (year % 400 == 0))
    month_ok = (month >= 1) & (month <= 12)
    days_in_month = _DAYS_IN_MONTH[np.where(month_ok, month, 0)] + (leap & (month == 2))
    ok &= month_ok & (day >= 1) & (day <= days_in_month)
    ok &= (hour < 24) & (minute < 60) & (second < 60) & (offset_hour < 24) & (offset_minute < 60)
    # days from the civil date (H. Hinnant's algorithm), exact for the proleptic Gregorian
    y = year - (month <= 2)
    era = np.floor_divide(y, 400)
    year_of_era = y - era * 400
    day_of_year = (153 * (month + np.where(month > 2, -3, 9)) + 2) // 5 + day - 1
    day_of_era = year_of_era * 365 + year_of_era // 4 - year_of_era // 100 + day_of_year
    days = era * 146097 + day_of_era - 719468
    sign = np.where(sign_char == ord("-"), -1, 1)
    seconds = days * 86400 + hour * 3600 + minute * 60 + second
    seconds -= sign * (offset_hour * 3600 + offset_minute * 60)
    return np.where(ok, seconds * 1_000_000, 0), ok


_EARLIEST = np.datetime64("1700-01-01T00:00:00", "us")
_LATEST = np.datetime64("2200-01-01T00:00:00", "us")


def _utc_micros(values: list[Any]) -> np.ndarray:
    """ISO 8601 strings (any offsets) → naive UTC ``datetime64[us]``; unreadable → NaT."""
    micros, ok = _parse_canonical(values)
    result = micros.view("M8[us]")
    rest = np.flatnonzero(~ok)
    if len(rest):
        others = [values[i] if type(values[i]) is str else None for i in rest]
        try:
            parsed = pd.to_datetime(others, utc=True, format="ISO8601")
        except (ValueError, OverflowError):
            parsed = pd.to_datetime(others, utc=True, format="ISO8601", errors="coerce")
        result = result.copy()
        result[rest] = pd.DatetimeIndex(parsed).as_unit("us").tz_localize(None).to_numpy()
    return _plausible(result)


def _plausible(result: np.ndarray) -> np.ndarray:
    # Far-off years are garbage in booking data, and pandas cannot even display some of them
    # in a local time zone: they count as unreadable.
    implausible = (result < _EARLIEST) | (result >= _LATEST)
    if implausible.any():
        result = np.where(implausible, np.datetime64("NaT", "us"), result)
    return result


def _aware(utc: np.ndarray, tz: str | _dt.tzinfo) -> pd.DatetimeIndex:
    return pd.DatetimeIndex(utc).tz_localize("UTC").tz_convert(tz)


def _timestamps(values: list[Any], tz: str | _dt.tzinfo) -> pd.DatetimeIndex:
    """ISO 8601 strings (any offsets) → tz-aware microsecond datetimes in ``tz``.

    Parsing to UTC first and converting afterwards keeps instants right across DST changes,
    where the offset differs from one timestamp to the next. Unreadable values and instants
    outside 1700–2199 become NaT; strings without an offset are read as UTC.
    """
    return _aware(_utc_micros(values), tz)


# --------------------------------------------------------------------------------------------
# Flatteners
# --------------------------------------------------------------------------------------------


def _template_columns(records: list[Any], locale: str | None) -> dict[str, list[Any]]:
    columns = _paths(records, _TEMPLATE_PATHS)
    price = _column(records, "price")
    for column, nested, flat in (
        ("price_gross", "priceGross", "priceGross"),
        ("tax_rate", "taxRate", "taxRate"),
        ("currency", "currency", "currency"),
    ):
        columns[column] = _first_present(_column(price, nested), _column(records, flat))
    steps = _column(records, "bookingStepList")
    columns["booking_step_count"] = [_count(s) for s in steps]
    resource_ids = [_step_resource_ids(s) for s in steps]
    columns["resource_ids"] = resource_ids
    columns["resource_count"] = [
        len(ids) if count is not None else None
        for ids, count in zip(resource_ids, columns["booking_step_count"], strict=True)
    ]
    for column, key in (
        ("email_template_count", "emailTemplateList"),
        ("sms_template_count", "smsTemplateList"),
        ("extra_field_count", "extraFieldList"),
    ):
        columns[column] = [_count(v) for v in _column(records, key)]
    _localize(
        columns, records, locale, {"name": "nameI18nList", "description": "descriptionI18nList"}
    )
    return columns


def _template_records(data: FrameInput, locale: str | None) -> Any:
    """Template records: typed structs from a raw body when possible, else dicts."""
    data = _content_of(data)
    if _is_raw(data) and locale is None:
        try:
            return _typed_template_records(data)
        except _FallBack as exc:
            log.debug("templates: tolerant path (%s)", exc)
    return _dict_records(_locate_records(_unwrap(data), "templates"), "templates")


def templates_frame(data: FrameInput, *, locale: str | None = None) -> pd.DataFrame:
    """Flatten booking templates into one row per template (schema ``TEMPLATE_COLUMNS``).

    ``data`` is the template list, a ``LIST``, one template, the envelope or the raw body.
    Price fields come from ``price{}`` or the flat ``priceGross`` / ``taxRate`` / ``currency``,
    whichever is present; ``resource_ids`` collects the resources of all booking steps. With
    ``locale="de"`` the ``name`` and ``description`` come from the I18n lists, falling back to
    the plain fields.

    Example:
        >>> df = templates_frame([{"id": "fc01", "name": "Haircut", "duration": 30,
        ...     "price": {"priceGross": 25.0, "taxRate": 19, "currency": "EUR"},
        ...     "address": {"city": "Berlin", "geoCoordinates": {"latitude": 52.5}}}])
        >>> df[["name", "duration", "price_gross", "address_city"]]
              name  duration  price_gross address_city
        0  Haircut        30         25.0       Berlin
    """
    records = _template_records(data, locale)
    return _frame(TEMPLATE_COLUMNS, _template_columns(records, locale), len(records))


def _template_identity(template: Any, template_id: str | None) -> tuple[Any, Any]:
    duration = None
    tid = None
    if isinstance(template, str):
        tid = template
    elif template is not None:
        if not hasattr(template, "get"):
            raise TypeError(
                "template: expected a template dict, a templates_frame row or a template id, "
                f"got {type(template).__name__}"
            )
        tid = template.get("id")
        if tid is None:
            tid = template.get("template_id")
        duration = _as_int(_plain(template.get("duration")))
    if template_id is not None:
        tid = template_id
    return _as_str(_plain(tid)), duration


def _plain(value: Any) -> Any:
    """numpy / pandas scalars (a frame row's values) as Python values; NA as None."""
    if value is None or value is pd.NA or value is pd.NaT:
        return None
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and math.isnan(value):
        return None
    return value


def _slot_records(data: FrameInput) -> tuple[Any, Any]:
    data = _content_of(data)
    if _is_raw(data):
        try:
            return _typed_slot_records(data)
        except _FallBack as exc:
            log.debug("slots: tolerant path (%s)", exc)
    slots, answer_tz = _locate_slots(_unwrap(data))
    return _dict_records(slots, "slots"), answer_tz


def _combination(value: Any) -> tuple[str, ...]:
    if type(value) is tuple:
        return value  # typed fast path: already a tuple of str
    if type(value) is list:
        return tuple(v for v in value if type(v) is str)
    return _EMPTY


def _combinations(values: list[Any]) -> list[tuple[str, ...]]:
    if set(map(type, values)) <= {list} and set(
        map(type, itertools.chain.from_iterable(values))
    ) <= {str}:
        return list(map(tuple, values))  # the usual case, at C speed
    return [_combination(v) for v in values]


def _slot_columns(slots: Any) -> tuple[np.ndarray, list[Any], np.ndarray, np.ndarray, bool]:
    """Slot ids (an object array of str, or the "str" NA where missing), timestamps, resource
    id tuples, their counts, and whether every id is a str (the typed fast path)."""
    typed = type(slots) is tuple and (not slots or type(slots[0]) is _Slot)
    if typed:
        # typed fast path: the decoder guarantees every row is a _Slot with all three fields
        count = len(slots)
        ids = np.fromiter(map(operator.attrgetter("id"), slots), dtype=object, count=count)
        stamps = list(map(operator.attrgetter("timestamp"), slots))
        combos = np.fromiter(
            map(operator.attrgetter("bookingResourceCombination"), slots), dtype=object, count=count
        )
    else:
        ids = np.asarray(_str_array(_column(slots, "id")), dtype=object)
        stamps = _column(slots, "timestamp")
        combos = _tuple_array(_combinations(_column(slots, "bookingResourceCombination")))
    counts = np.fromiter(map(len, combos), dtype=np.int64, count=len(combos))
    return ids, stamps, combos, counts, typed


_MAX_DURATION_MINUTES = 10**8  # ~190 years: beyond it the template's duration is garbage


def _slot_ends(start: np.ndarray, duration: int | None) -> np.ndarray:
    """UTC ends: adding elapsed time to UTC instants keeps ends right across DST changes."""
    if duration is not None and abs(duration) <= _MAX_DURATION_MINUTES:
        return _plausible(start + np.timedelta64(duration, "m"))
    if duration is not None:
        log.warning("slots: template duration %r minutes is out of range; end is NaT", duration)
    return np.full(len(start), np.datetime64("NaT", "us"))


def slots_frame(
    data: FrameInput,
    *,
    template: Mapping[str, Any] | str | None = None,
    tz: TimeZone | None = None,
    template_id: str | None = None,
) -> pd.DataFrame:
    """Flatten bookable slots into one row per slot (schema ``SLOT_COLUMNS``).

    ``data`` is a ``RANGE_LIST``, the earliest answer (``list`` or ``bookingSlotList``), a slot,
    a list of slots, the envelope or the raw body. ``template`` (a template dict, a
    ``templates_frame`` row or a template id) gives ``template_id`` and, through its duration,
    ``end``; ``template_id=`` overrides the id. Times are converted to ``tz`` if given, else to
    the answer's ``timeZone``, else UTC.

    Example:
        >>> df = slots_frame({"timeZone": "Europe/Berlin", "list": [
        ...     {"id": "4f01", "timestamp": "2027-03-28T01:30:00+01:00",
        ...      "bookingResourceCombination": ["br01", "br02"]}]},
        ...     template={"id": "fc01", "duration": 60})
        >>> str(df.loc[0, "end"]), int(df.loc[0, "resource_count"])
        ('2027-03-28 03:30:00+02:00', 2)
    """
    tid, duration = _template_identity(template, template_id)
    piece = _slot_piece(data)
    zone = _resolve_tz(tz, piece.time_zone, "slots")
    return _slot_table([(piece, tid, duration)], zone)


class _SlotPiece(NamedTuple):
    """The slot columns of one answer, decoded but not yet a frame: what a scan collects per
    call, so that many answers become one frame without a DataFrame each."""

    ids: np.ndarray  # object: str, or the "str" NA where an id is missing
    start: np.ndarray  # datetime64[us], naive UTC; NaT where unreadable
    combos: np.ndarray  # object: a tuple of resource ids per slot
    counts: np.ndarray  # int64: len of each tuple
    time_zone: Any  # the answer's timeZone, unchecked
    complete: bool  # every id is a str (the typed fast path guarantees it)

    def take(self, index: np.ndarray) -> _SlotPiece:
        """The rows at ``index`` (an integer array)."""
        return _SlotPiece(
            self.ids[index], self.start[index], self.combos[index], self.counts[index],
            self.time_zone, self.complete,
        )  # fmt: skip


def _slot_piece(data: FrameInput) -> _SlotPiece:
    """Decode one slot answer (raw bodies take the typed fast path) into a :class:`_SlotPiece`."""
    slots, answer_tz = _slot_records(data)
    ids, stamps, combos, counts, typed = _slot_columns(slots)
    return _SlotPiece(ids, _utc_micros(stamps), combos, counts, answer_tz, typed)


def _slot_table(
    pieces: list[tuple[_SlotPiece, str | None, int | None]], zone: str | _dt.tzinfo
) -> pd.DataFrame:
    """One frame (schema ``SLOT_COLUMNS``) from decoded pieces, each with its template id and
    duration, times shown in ``zone``."""
    lengths = np.fromiter((len(p.ids) for p, _, _ in pieces), dtype=np.intp, count=len(pieces))
    length = int(lengths.sum())
    which = np.repeat(np.arange(len(pieces), dtype=np.intp), lengths)
    start = np.concatenate([p.start for p, _, _ in pieces]) if pieces else _NO_TIMES
    ends = [_slot_ends(p.start, duration) for p, _, duration in pieces]
    columns = {
        "slot_id": _str_array(
            np.concatenate([p.ids for p, _, _ in pieces]) if pieces else np.array([], object),
            complete=all(p.complete for p, _, _ in pieces),
        ),
        "template_id": pd.array([tid for _, tid, _ in pieces], dtype=STR).take(which),
        "start": _aware(start, zone),
        "end": _aware(np.concatenate(ends) if ends else _NO_TIMES, zone),
        "resource_ids": (
            np.concatenate([p.combos for p, _, _ in pieces]) if pieces else np.array([], object)
        ),
        "resource_count": _count_array(
            np.concatenate([p.counts for p, _, _ in pieces]) if pieces else np.array([], np.int64)
        ),
    }
    return _frame(SLOT_COLUMNS, columns, length)


_NO_TIMES = np.array([], dtype="M8[us]")


def resources_frame(data: FrameInput, *, locale: str | None = None) -> pd.DataFrame:
    """Flatten booking resources (staff, rooms, equipment) into rows (``RESOURCE_COLUMNS``).

    ``data`` is the resource list, a ``LIST``, one resource, the envelope or the raw body;
    ``locale=`` picks ``name`` / ``description`` from the I18n lists, falling back to the plain
    fields.

    Example:
        >>> df = resources_frame([{"id": "br01", "type": "EMPLOYEE", "firstName": "Ann",
        ...     "lastName": "Lee", "nameI18nList": [{"key": "de", "value": "Frau Lee"}]}],
        ...     locale="de")
        >>> df.loc[0, ["resource_id", "name", "last_name"]].tolist()
        ['br01', 'Frau Lee', 'Lee']
    """
    records = _dict_records(_locate_records(_unwrap(data), "resources"), "resources")
    columns = _paths(records, _RESOURCE_PATHS)
    _localize(
        columns, records, locale, {"name": "nameI18nList", "description": "descriptionI18nList"}
    )
    return _frame(RESOURCE_COLUMNS, columns, len(records))


def _common_time_zone(values: list[Any]) -> Any:
    zones = {v for v in values if isinstance(v, str) and v}
    if len(zones) == 1:
        return zones.pop()
    if len(zones) > 1:
        log.info("appointments: several time zones %s; showing times in UTC", sorted(zones))
    return None


def appointments_frame(
    data: FrameInput, *, tz: TimeZone | None = None, locale: str | None = None
) -> pd.DataFrame:
    """Flatten appointments into one row per appointment (schema ``APPOINTMENT_COLUMNS``).

    ``data`` is one appointment (what ``book()``, ``move()`` and ``cancel()`` return), a list
    of them, the envelope or the raw body. ``start`` / ``end`` are shown in ``tz`` if given,
    else in the appointments' common ``timeZone``, else UTC.

    Example:
        >>> df = appointments_frame({"id": "ed01", "start": "2026-10-25T01:30:00+02:00",
        ...     "end": "2026-10-25T02:30:00+01:00", "duration": 120,
        ...     "timeZone": "Europe/Berlin", "customer": {"lastName": "Doe"}})
        >>> str(df.loc[0, "end"]), df.loc[0, "customer_last_name"]
        ('2026-10-25 02:30:00+01:00', 'Doe')
    """
    records = _dict_records(_locate_records(_unwrap(data), "appointments"), "appointments")
    columns: dict[str, Any] = _paths(records, _APPOINTMENT_PATHS)
    zone = _resolve_tz(tz, _common_time_zone(columns["time_zone"]), "appointments")
    columns["start"] = _timestamps(_column(records, "start"), zone)
    columns["end"] = _timestamps(_column(records, "end"), zone)
    price = _column(records, "price")
    for column, key in (
        ("price_gross", "priceGross"),
        ("tax_rate", "taxRate"),
        ("currency", "currency"),
    ):
        columns[column] = _first_present(_column(price, key), _column(records, key))
    resources = _column(records, "bookingResourceList")
    columns["resource_ids"] = [_id_tuple(r) for r in resources]
    columns["resource_count"] = [
        len(ids) if isinstance(r, list) else None
        for ids, r in zip(columns["resource_ids"], resources, strict=True)
    ]
    columns["file_count"] = [_count(v) for v in _column(records, "fileList")]
    _localize(
        columns, records, locale, {"name": "nameI18nList", "description": "descriptionI18nList"}
    )
    return _frame(APPOINTMENT_COLUMNS, columns, len(records))


def template_resources_frame(data: FrameInput, *, locale: str | None = None) -> pd.DataFrame:
    """Who can do what: one row per template × booking step × resource (long format).

    Schema ``TEMPLATE_RESOURCE_COLUMNS``; ``step_index`` counts a template's booking steps from
    0. Templates without steps or resources have no rows. Resources given as bare ids have only
    ``resource_id`` filled.

    Example:
        >>> df = template_resources_frame([{"id": "fc01", "name": "Haircut",
        ...     "bookingStepList": [{"name": "Stylist", "bookingResourceList": [
        ...         {"id": "br01", "firstName": "Ann"}, {"id": "br02", "firstName": "Bob"}]}]}])
        >>> df[["template_id", "step_index", "resource_id"]].values.tolist()
        [['fc01', 0, 'br01'], ['fc01', 0, 'br02']]
    """
    templates = _dict_records(_locate_records(_unwrap(data), "templates"), "templates")
    rows: dict[str, list[Any]] = {name: [] for name in TEMPLATE_RESOURCE_COLUMNS}
    for template in templates:
        steps = template.get("bookingStepList")
        if not isinstance(steps, list):
            continue
        template_name = template.get("name")
        if locale is not None:
            template_name = _localized(template.get("nameI18nList"), locale) or template_name
        for index, step in enumerate(steps):
            resources = _get(step, "bookingResourceList")
            if not isinstance(resources, list):
                continue
            step_name = _get(step, "name")
            if locale is not None:
                step_name = _localized(_get(step, "nameI18nList"), locale) or step_name
            for resource in resources:
                if isinstance(resource, str):
                    resource = {"id": resource}
                elif not isinstance(resource, dict):
                    continue
                resource_name = resource.get("name")
                if locale is not None:
                    localized = _localized(resource.get("nameI18nList"), locale)
                    resource_name = localized or resource_name
                rows["template_id"].append(template.get("id"))
                rows["template_name"].append(template_name)
                rows["step_index"].append(index)
                rows["step_name"].append(step_name)
                rows["selection_quantity"].append(_get(step, "selectionQuantity"))
                rows["selection_display"].append(_get(step, "selectionDisplay"))
                rows["resource_id"].append(resource.get("id"))
                rows["resource_custom_id"].append(resource.get("customId"))
                rows["resource_type"].append(resource.get("type"))
                rows["resource_name"].append(resource_name)
                rows["resource_first_name"].append(resource.get("firstName"))
                rows["resource_last_name"].append(resource.get("lastName"))
    return _frame(TEMPLATE_RESOURCE_COLUMNS, rows, len(rows["template_id"]))
