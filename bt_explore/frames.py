"""Flatten bookingtime API answers into pandas DataFrames with fixed, explicit schemas.

Every flattener is a pure function: records in, a DataFrame out. The input can be what the
client returns (a list of dicts, a ``LIST`` / ``RANGE_LIST`` dict, a single entity), the full
response envelope (``{"messageList": [...], "content": ...}``), the client's ``ApiResult``, a
``requests.Response`` or the raw response body as ``bytes`` / ``str``.

There is one data path. Each answer is read into msgspec structs derived from the API's
contract, :mod:`bt_explore.models`: one struct per model with the wire names of its fields.
Raw bodies are decoded straight from bytes (without building the JSON tree as dicts), Python
objects are converted with ``msgspec.convert`` into the same structs. The derived structs are
lenient where the API is loose: a field that should hold an object also accepts anything else,
and leaf values are taken as they come and checked by the column converters.

The columns and dtypes never depend on the data: an empty input, missing keys, ``null``, ``[]``
where an object is expected, unknown extra keys, values of the wrong type and I18n lists in any
of their forms give the same schema (``TEMPLATE_COLUMNS``, ``SLOT_COLUMNS``, ...). Values that
cannot be read become ``<NA>`` / ``NaT`` and lists become empty tuples. Timestamps are parsed by
pandas to UTC and then shown in the frame's time zone, which keeps instants right across DST
changes.

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
import logging
import math
import operator
import types
import typing
from collections.abc import Callable, Iterable, Mapping
from typing import Any, NamedTuple

import msgspec
import numpy as np
import pandas as pd

from bt_explore import models
from bt_explore.times import resolve_zone

__all__ = [
    "APPOINTMENT_COLUMNS",
    "CUSTOM_ENTITY_COLUMNS",
    "DATETIME",
    "ORGANIZATION_COLUMNS",
    "RESOURCE_COLUMNS",
    "SLOT_COLUMNS",
    "STR",
    "TEMPLATE_COLUMNS",
    "TEMPLATE_RESOURCE_COLUMNS",
    "TUPLE",
    "SlotPiece",
    "appointments_frame",
    "custom_entities_frame",
    "loads",
    "organizations_frame",
    "resources_frame",
    "slot_piece",
    "slot_table",
    "slots_frame",
    "template_identity",
    "template_resources_frame",
    "templates_frame",
]

log = logging.getLogger("bt_explore.frames")

#: A raw JSON body (bytes or text), an envelope, a container dict, a list of records, one record
#: or ``None``. Objects with a ``content`` attribute are read too: the client's ``ApiResult``
#: (parsed content) and a ``requests.Response`` (raw body, decoded straight from bytes).
FrameInput = bytes | bytearray | memoryview | str | Mapping[str, Any] | Iterable[Any] | None
#: A time zone name (``"Europe/Berlin"``) or a ``tzinfo``.
TimeZone = str | _dt.tzinfo

_PANDAS_3 = int(pd.__version__.split(".")[0]) >= 3
#: The dtype of text columns: pandas 3's default "str", whose missing value is NaN. pandas 2.3
#: has the same dtype without the name, so frames have the same dtypes, compare and print the
#: same under both (pandas 2's "string" would print ``<NA>``).
STR: Any = "str" if _PANDAS_3 else pd.StringDtype(na_value=np.nan)
#: Datetime columns are tz-aware with microsecond resolution. The time zone is the frame's
#: (the answer's ``timeZone`` or the ``tz=`` argument); the schemas show the UTC fallback.
DATETIME = "datetime64[us, UTC]"
#: List columns hold a tuple of strings per row (hashable, ``explode``-able), never NA.
TUPLE = "object"


def _struct_of(annotation: Any) -> Any:
    """The model struct a field holds (under ``Annotated``, ``| None`` and the like), if any."""
    return next((m for m in _members(annotation) if _is_struct(m)), None)


def _model_path(model: Any, column: str) -> tuple[str, ...] | None:
    """The attribute path of ``column`` in ``model``: a field of that name, or a nested
    model's field under its prefix (``address_city`` -> ``("address", "city")``)."""
    names = {f.name: f.type for f in msgspec.structs.fields(model)}
    if column in names:
        return (column,)
    for name, annotation in names.items():
        nested = _struct_of(annotation)
        if nested is not None and column.startswith(name + "_"):
            rest = _model_path(nested, column[len(name) + 1 :])
            if rest is not None:
                return (name, *rest)
    return None


def _model_paths(
    model: Any,
    columns: Mapping[str, str],
    renamed: Mapping[str, tuple[str, ...]],
    computed: Iterable[str] = (),
) -> dict[str, tuple[str, ...]]:
    """Column -> attribute path for each plain column of ``columns``: the ``renamed`` ones as
    given, the others as the model names them (:func:`_model_path`); columns the model has no
    path for, and the ``computed`` ones, are the flattener's own.

    Example:
        >>> _model_paths(models.Appointment, {"appointment_id": STR, "customer_first_name": STR,
        ...     "address_city": STR, "file_count": "Int64"}, {"appointment_id": ("id",)})
        {'appointment_id': ('id',), 'customer_first_name': ('customer', 'first_name'), 'address_city': ('address', 'city')}
    """
    skip = set(computed)
    paths: dict[str, tuple[str, ...]] = {}
    for column in columns:
        path = renamed.get(column) or (None if column in skip else _model_path(model, column))
        if path is not None:
            paths[column] = path
    return paths


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

ORGANIZATION_COLUMNS: dict[str, str] = {
    "organization_id": STR,
    "custom_id": STR,
    "name": STR,
    "time_zone": STR,
    "currency": STR,
    "sector": STR,
    "telephone": STR,
    "email": STR,
    "address_street": STR,
    "address_zip": STR,
    "address_city": STR,
    "address_country": STR,
    "address_latitude": "Float64",
    "address_longitude": "Float64",
    "opening_days": TUPLE,
    "opening_hours_count": "Int64",
}

_INT64_MIN, _INT64_MAX = -(2**63), 2**63 - 1
_NoneType = type(None)
_EMPTY: tuple[str, ...] = ()


# --------------------------------------------------------------------------------------------
# The answers' shapes: msgspec structs, lenient where the API is loose
# --------------------------------------------------------------------------------------------

# Every JSON value that is not an object. A field typed ``S | _NOT_AN_OBJECT`` reads an object
# into struct ``S`` and keeps anything else (PHP sends [] for an empty object), so that a body
# of odd shapes decodes like a regular one and the flatteners see the oddity as "not an S".
_SCALAR = str | int | float | bool | None
_NOT_AN_OBJECT = tuple[Any, ...] | _SCALAR
# ... and every JSON value that is not an array, for fields that hold a list.
_NOT_AN_ARRAY = dict[str, Any] | _SCALAR
_UNSET = msgspec.UNSET
_Unset = msgspec.UnsetType

# Leaf values are typed ``Any``: the column converters (``_as_int`` & co.) check them, so that
# "60" still reads as 60 and a value of the wrong type becomes NA instead of failing the body.


# The frames' record structs are derived from the contract (``bt_explore.models``): each has
# the wire names of its model's fields, with the model's types loosened by :func:`_loose`.
# Leaf values are typed ``Any``: the column converters (``_as_int`` & co.) check them, so that
# "60" still reads as 60 and a value of the wrong type becomes NA instead of failing the body.

_LENIENT: dict[type[msgspec.Struct], type[msgspec.Struct]] = {}
#: A lenient struct's field name -> wire name, where the two differ (``defstruct``'s rename).
_RENAMES: dict[Any, dict[str, str]] = {}

#: What the frames read beyond a model's fields: the other spellings of an I18n entry's locale
#: and text keys that bookingtime's answers are known to use.
_TOLERATED: dict[type[msgspec.Struct], tuple[str, ...]] = {
    models.I18nEntry: ("locale", "language", "lang", "text", "name"),
}


def _lenient(model: type[msgspec.Struct]) -> Any:
    """The lenient reading of ``model``: a struct with each of its fields (the model's
    attribute and wire names) and the extra keys in ``_TOLERATED``, every field optional
    (``None``), types loosened by :func:`_loose`. Made once per model.

    Example:
        >>> price = msgspec.json.decode(b'{"priceGross": "9", "x": 1}', type=_lenient(models.Price))
        >>> price.price_gross, price.currency
        ('9', None)
    """
    lenient = _LENIENT.get(model)
    if lenient is None:
        # the tag (or a request body's optional class) is left out
        kept = [f for f in msgspec.structs.fields(model) if f.encode_name != "class"]
        fields: list[tuple[str, Any, Any]] = [(f.name, _loose(f.type), None) for f in kept]
        fields += [(name, Any, None) for name in _TOLERATED.get(model, ())]
        rename = {f.name: f.encode_name for f in kept if f.name != f.encode_name}
        lenient = msgspec.defstruct(
            f"_{model.__name__}", fields, rename=rename, gc=False, module=__name__
        )
        _LENIENT[model] = lenient
        _RENAMES[lenient] = rename
    return lenient


def _members(annotation: Any) -> tuple[Any, ...]:
    """The members of a (possibly ``Annotated``) union; a single type as a 1-tuple."""
    while typing.get_origin(annotation) is typing.Annotated:
        annotation = typing.get_args(annotation)[0]
    if typing.get_origin(annotation) in (typing.Union, types.UnionType):
        return tuple(m for arg in typing.get_args(annotation) for m in _members(arg))
    return (annotation,)


def _is_struct(annotation: Any) -> bool:
    return isinstance(annotation, type) and issubclass(annotation, msgspec.Struct)


def _loose(annotation: Any) -> Any:
    """A model field's type, loosened so that a body of odd shapes decodes like a regular one:
    an object field becomes the lenient struct or any non-object (``S | _NOT_AN_OBJECT``), a
    list becomes a tuple of lenient records or non-objects, or any non-array; leaves ``Any``."""
    members = _members(annotation)
    lists = [m for m in members if typing.get_origin(m) is list]
    for item in (_members(a) for m in lists for a in typing.get_args(m)):
        record = next((i for i in item if _is_struct(i)), None)
        if record is not None:
            return tuple[_lenient(record) | _NOT_AN_OBJECT, ...] | _NOT_AN_ARRAY  # type: ignore[misc]
    record = next((m for m in members if _is_struct(m)), None)
    if record is not None:
        return _lenient(record) | _NOT_AN_OBJECT
    if lists:
        return tuple[Any, ...] | _NOT_AN_ARRAY
    return Any


_Template = _lenient(models.BookingTemplate)
_Resource = _lenient(models.BookingResource)
_Appointment = _lenient(models.Appointment)
_Organization = _lenient(models.Organization)
_Slot = _lenient(models.BookingSlot)
_CustomEntity = _lenient(models.CustomEntity)
_I18nEntry = _lenient(models.I18nEntry)
_Step = _lenient(models.BookingStep)

# Plain columns: column -> path of model attributes, derived from the models (see
# :func:`_model_paths`). Computed columns (price fallback, counts, id lists, datetimes) are
# filled by the flatteners themselves.
_COORDINATES = {
    "address_latitude": ("address", "geo_coordinates", "latitude"),
    "address_longitude": ("address", "geo_coordinates", "longitude"),
}
_TEMPLATE_PATHS = _model_paths(
    models.BookingTemplate,
    TEMPLATE_COLUMNS,
    {"template_id": ("id",), **_COORDINATES},
    computed=("price_gross", "tax_rate", "currency"),
)
_RESOURCE_PATHS = _model_paths(models.BookingResource, RESOURCE_COLUMNS, {"resource_id": ("id",)})
_ORGANIZATION_PATHS = _model_paths(
    models.Organization, ORGANIZATION_COLUMNS, {"organization_id": ("id",), **_COORDINATES}
)
_APPOINTMENT_PATHS = _model_paths(
    models.Appointment,
    APPOINTMENT_COLUMNS,
    {"appointment_id": ("id",)},
    computed=("start", "end"),
)


# The top level of an answer: the envelope (``models.Envelope``), a container (``models.List``,
# ``models.RangeList``, ``models.Earliest``) or one record, hence a record struct plus the
# containers' fields. These default to UNSET to keep "key absent" apart from null: an object is
# the envelope when it has ``content`` but neither ``class`` nor ``id``, a LIST when it has
# ``recordList`` or ``class`` "LIST".


class _Kind(NamedTuple):
    """How to read one kind of answer: its record struct, its top-level types and decoder."""

    what: str
    record: type[Any]
    container: type[Any]  # a record plus the containers' fields (what an envelope's content is)
    top: type[Any]  # the container plus the envelope's ``content``
    shape: Any  # the top-level type: the top struct, a list of records or a non-object
    decode: Callable[[Any], Any]


def _kind(what: str, record: Any, *containers: type[msgspec.Struct]) -> _Kind:
    """How to read answers whose records are ``record`` (a lenient struct) and whose
    containers are ``models.List`` and ``containers``; lists of records in a container are
    read as records, its other fields as they come."""
    records: Any = tuple[record | _NOT_AN_OBJECT, ...] | _NOT_AN_ARRAY
    fields: dict[str, Any] = {"id": Any, "cls": Any}
    rename = {**_RENAMES[record], "cls": "class"}
    models_: tuple[type[msgspec.Struct], ...] = (models.List, *containers)
    for model in models_:
        for field in msgspec.structs.fields(model):
            listed = any(typing.get_origin(m) is list for m in _members(field.type))
            fields[field.name] = records if listed else Any
            if field.name != field.encode_name:
                rename[field.name] = field.encode_name
    container = msgspec.defstruct(
        f"{record.__name__}Container",
        [(name, kind | _Unset, _UNSET) for name, kind in fields.items()],
        bases=(record,),
        rename=rename,
        gc=False,
        module=__name__,
    )
    content: Any = container | tuple[record | _NOT_AN_OBJECT, ...] | _SCALAR | _Unset
    top = msgspec.defstruct(
        f"{record.__name__}Top",
        [("content", content, _UNSET)],
        bases=(container,),
        gc=False,
        module=__name__,
    )
    shape: Any = top | tuple[record | _NOT_AN_OBJECT, ...] | _SCALAR
    return _Kind(what, record, container, top, shape, msgspec.json.Decoder(shape).decode)


_TEMPLATES = _kind("templates", _Template)
_RESOURCES = _kind("resources", _Resource)
_APPOINTMENTS = _kind("appointments", _Appointment)
_SLOTS = _kind("slots", _Slot, models.RangeList, models.Earliest)
_ORGANIZATIONS = _kind("organizations", _Organization)


# --------------------------------------------------------------------------------------------
# JSON input
# --------------------------------------------------------------------------------------------


def loads(data: bytes | bytearray | memoryview | str) -> Any:
    """Decode a JSON response body into Python objects (msgspec, which keeps integers of any
    size exact); ``ValueError`` for what is not JSON.

    Example:
        >>> loads(b'{"content": {"class": "LIST", "recordList": []}}')["content"]["class"]
        'LIST'
    """
    try:
        return msgspec.json.decode(data.encode("utf-8") if isinstance(data, str) else data)
    except (msgspec.DecodeError, UnicodeEncodeError) as exc:
        raise ValueError(f"data: not a valid JSON body ({exc})") from None


def _is_raw(data: Any) -> bool:
    return isinstance(data, (bytes, bytearray, memoryview, str))


def _content_of(obj: Any) -> Any:
    """What an object with a ``content`` attribute holds: an ``ApiResult``'s content, a
    ``requests.Response``'s body; anything else as it is."""
    if not isinstance(obj, (dict, list)) and not _is_raw(obj) and hasattr(obj, "content"):
        return obj.content
    return obj


def _read(data: FrameInput, kind: _Kind) -> Any:
    """``data`` as ``kind``'s top-level type: raw bodies decoded straight from bytes, Python
    objects converted (``strict=False``) into the same structs."""
    data = _content_of(data)
    if isinstance(data, (bytes, bytearray, memoryview, str)):
        try:
            return kind.decode(data.encode("utf-8") if isinstance(data, str) else data)
        except (msgspec.DecodeError, UnicodeEncodeError):
            data = loads(data)  # JSON of another shape (converted below), or a clear ValueError
    elif isinstance(data, Mapping) and not isinstance(data, dict):
        data = dict(data)
    elif isinstance(data, np.ndarray):
        data = _array_records(data, kind)
    elif not isinstance(data, (dict, list, tuple)) and isinstance(data, Iterable):
        data = list(data)
    try:
        return msgspec.convert(data, kind.shape, strict=False)
    except msgspec.ValidationError:
        pass  # a Python value JSON cannot hold (a date, a set, a non-str key) where an object goes
    try:
        as_json = msgspec.json.encode(data, enc_hook=_unreadable)
    except (TypeError, ValueError, OverflowError) as exc:
        raise TypeError(f"{kind.what}: cannot read the data: {exc}") from None
    return kind.decode(as_json)


def _array_records(array: np.ndarray, kind: _Kind) -> list[Any]:
    """The records of a one-dimensional numpy array: of dicts (``np.array(records)``) or a
    record array (``DataFrame.to_records()``), as plain Python values."""
    if array.ndim != 1:
        raise TypeError(
            f"{kind.what}: expected a one-dimensional array of records, got an array of shape "
            f"{array.shape}"
        )
    names = array.dtype.names
    if names:
        return [dict(zip(names, row, strict=True)) for row in array.tolist()]
    return array.tolist()


def _unreadable(value: Any) -> None:
    """What JSON encoding makes of a value it has no form for: null (read as missing)."""
    return None


def _unwrap(top: Any, kind: _Kind) -> Any:
    """Strip the response envelope: an object with ``content`` but no ``class`` and no ``id``."""
    if isinstance(top, kind.top) and top.content is not _UNSET:
        if top.cls is _UNSET and top.id is _UNSET:
            return top.content
    return top


def _one_record(top: Any) -> Any:
    """A top-level object read as the record itself (its ``id`` may be UNSET: absent)."""
    return msgspec.structs.replace(top, id=None) if top.id is _UNSET else top


def _only_records(items: tuple[Any, ...], kind: _Kind) -> list[Any]:
    """The records among ``items``; other JSON values (null, numbers, lists) are skipped."""
    record = kind.record
    kept = [item for item in items if type(item) is record]
    if len(kept) != len(items):
        log.debug(
            "%s: tolerant path: skipped %d records that are not JSON objects",
            kind.what,
            len(items) - len(kept),
        )
    return kept


def _records(data: FrameInput, kind: _Kind) -> list[Any]:
    """The records of a ``LIST``, a list of records or one record (in any wrapping)."""
    obj = _unwrap(_read(data, kind), kind)
    if obj is None:
        return []
    if type(obj) is tuple:
        return _only_records(obj, kind)
    if isinstance(obj, kind.container):
        if type(obj.record_list) is tuple:
            return _only_records(obj.record_list, kind)
        if obj.record_list is not _UNSET or obj.cls == "LIST":
            return []
        return [_one_record(obj)]
    raise TypeError(
        f"{kind.what}: expected a JSON body, a LIST, a list of records or a record, "
        f"got {type(obj).__name__}"
    )


# the fields of models.RangeList, models.Earliest and models.List that hold slots
_SLOT_LIST_KEYS = ("list", "booking_slot_list", "record_list")
_SLOT_CONTAINER_KEYS = (*_SLOT_LIST_KEYS, "range_start", "range_end")


def _slot_records(data: FrameInput) -> tuple[list[Any], Any]:
    """The slots and the answer's time zone of a RANGE_LIST / earliest answer, a list of slots
    or one slot (in any wrapping)."""
    obj = _unwrap(_read(data, _SLOTS), _SLOTS)
    if obj is None:
        return [], None
    if type(obj) is tuple:
        return _only_records(obj, _SLOTS), None
    if isinstance(obj, _SLOTS.container):
        zone = None if obj.time_zone is _UNSET else obj.time_zone
        for key in _SLOT_LIST_KEYS:
            records = getattr(obj, key)
            if type(records) is tuple:
                return _only_records(records, _SLOTS), zone
        if any(getattr(obj, key) is not _UNSET for key in _SLOT_CONTAINER_KEYS) or obj.cls in (
            "RANGE_LIST",
            "LIST",
        ):
            return [], zone
        return [_one_record(obj)], zone
    raise TypeError(
        "slots: expected a JSON body, a RANGE_LIST, an earliest answer, a list of slots or a "
        f"slot, got {type(obj).__name__}"
    )


# --------------------------------------------------------------------------------------------
# Reading values from structs
# --------------------------------------------------------------------------------------------


def _get(value: Any, key: str) -> Any:
    """``value.key`` for a struct that has the field, else ``None``."""
    # not isinstance(value, msgspec.Struct): a metaclass check, ~20x slower than this
    fields = getattr(type(value), "__struct_fields__", ())
    return getattr(value, key) if key in fields else None


def _column(rows: list[Any], key: str) -> list[Any]:
    """``row.key`` for every row; ``None`` where a row is not a struct with that field."""
    kinds = set(map(type, rows))
    if len(kinds) == 1:
        (kind,) = kinds
        if key in getattr(kind, "__struct_fields__", ()):
            return list(map(operator.attrgetter(key), rows))  # the usual case, at C speed
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
    """A resource's id: the bare id string, or the ``id`` of a resource object."""
    return value if type(value) is str else _get(value, "id")


def _id_tuple(values: Any) -> tuple[str, ...]:
    """The string ids in a list of ids or of objects with an ``id``, in order, without repeats."""
    if type(values) is not tuple:
        return _EMPTY
    return tuple(dict.fromkeys(rid for rid in map(_id_of, values) if type(rid) is str))


def _step_resource_ids(steps: Any) -> tuple[str, ...]:
    """The resource ids over all booking steps, in order, without repeats."""
    if type(steps) is not tuple:
        return _EMPTY
    ids = {
        rid: None
        for step in steps
        if type(step) is _Step and type(step.booking_resource_list) is tuple
        for rid in map(_id_of, step.booking_resource_list)
        if type(rid) is str
    }
    return tuple(ids)


_I18N_KEY_FIELDS = ("key", "locale", "language", "lang")
_I18N_VALUE_FIELDS = ("value", "text", "name")


def _i18n_pairs(i18n: Any) -> list[tuple[str, str]]:
    if isinstance(i18n, dict) and any(f in i18n for f in _I18N_KEY_FIELDS):
        i18n = (msgspec.convert(i18n, _I18nEntry),)  # one entry without its list
    if isinstance(i18n, dict):
        return [(k, v) for k, v in i18n.items() if isinstance(v, str)]
    pairs = []
    if type(i18n) is tuple:
        for item in i18n:
            if type(item) is not _I18nEntry:
                continue
            keys = (item.key, item.locale, item.language, item.lang)
            key = next((k for k in keys if isinstance(k, str)), None)
            text = next((t for t in (item.value, item.text, item.name) if isinstance(t, str)), None)
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


#: The localized columns: column -> the field with its I18n list.
_LOCALIZED = {"name": "name_i18n_list", "description": "description_i18n_list"}


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
# StringArray checks "only str or NA" in one C loop; it backs "str" unless pyarrow does (pandas 2's
# StringArray cannot take the NaN-missing dtype: there the general path below builds it).
_PLAIN_STRINGS = _PANDAS_3 and getattr(_STR_DTYPE, "storage", None) == "python"


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

    Values that are already arrays (the slot columns) are taken as they are.
    """
    data = {}
    for name, dtype in schema.items():
        values = columns[name]
        if isinstance(values, (pd.api.extensions.ExtensionArray, pd.Index, np.ndarray)):
            data[name] = values
        else:
            data[name] = _CONVERTERS[dtype](values)
    return pd.DataFrame(data, index=pd.RangeIndex(length), copy=False)


# Far-off years are garbage in booking data, and pandas cannot even display some of them in a
# local time zone: they count as unreadable.
_EARLIEST = np.datetime64("1700-01-01T00:00:00", "us")
_LATEST = np.datetime64("2200-01-01T00:00:00", "us")
_NO_TIMES = np.array([], dtype="M8[us]")


def _in_range(utc: np.ndarray) -> np.ndarray:
    implausible = (utc < _EARLIEST) | (utc >= _LATEST)
    return np.where(implausible, np.datetime64("NaT", "us"), utc) if implausible.any() else utc


def _utc_instants(values: list[Any]) -> np.ndarray:
    """ISO 8601 strings (any offsets; none means UTC) → naive UTC ``datetime64[us]``.

    Values that are not strings, do not parse, or fall outside 1700–2199 become NaT. Parsing to
    UTC first and converting to a zone afterwards keeps instants right across DST changes,
    where the offset differs from one timestamp to the next.
    """
    if not set(map(type, values)) <= {str}:
        values = [v if type(v) is str else None for v in values]  # numbers are not timestamps
    # cache=False: pandas' cache (unique values first) costs more than it saves on slot lists
    parsed = pd.to_datetime(values, utc=True, format="ISO8601", errors="coerce", cache=False)
    return _in_range(pd.DatetimeIndex(parsed).as_unit("us").tz_localize(None).to_numpy())


def _aware(utc: np.ndarray, tz: str | _dt.tzinfo) -> pd.DatetimeIndex:
    return pd.DatetimeIndex(utc).tz_localize("UTC").tz_convert(tz)


def _timestamps(values: list[Any], tz: str | _dt.tzinfo) -> pd.DatetimeIndex:
    """ISO 8601 strings → tz-aware microsecond datetimes in ``tz`` (see :func:`_utc_instants`)."""
    return _aware(_utc_instants(values), tz)


# --------------------------------------------------------------------------------------------
# Flatteners
# --------------------------------------------------------------------------------------------


def _template_columns(records: list[Any], locale: str | None) -> dict[str, list[Any]]:
    columns = _paths(records, _TEMPLATE_PATHS)
    price = _column(records, "price")
    for key in ("price_gross", "tax_rate", "currency"):  # in the price, else the template
        columns[key] = _first_present(_column(price, key), _column(records, key))
    steps = _column(records, "booking_step_list")
    columns["booking_step_count"] = [_count(s) for s in steps]
    resource_ids = [_step_resource_ids(s) for s in steps]
    columns["resource_ids"] = resource_ids
    columns["resource_count"] = [
        len(ids) if count is not None else None
        for ids, count in zip(resource_ids, columns["booking_step_count"], strict=True)
    ]
    for column, key in (
        ("email_template_count", "email_template_list"),
        ("sms_template_count", "sms_template_list"),
        ("extra_field_count", "extra_field_list"),
    ):
        columns[column] = [_count(v) for v in _column(records, key)]
    _localize(columns, records, locale, _LOCALIZED)
    return columns


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
    records = _records(data, _TEMPLATES)
    return _frame(TEMPLATE_COLUMNS, _template_columns(records, locale), len(records))


def template_identity(
    template: Mapping[str, Any] | str | None, template_id: str | None = None
) -> tuple[str | None, int | None]:
    """The template id and duration (minutes) that slot frames use: from a template dict, a
    ``templates_frame`` row or a bare template id; ``template_id`` overrides the id.

    Example:
        >>> template_identity({"id": "fc01", "duration": 30})
        ('fc01', 30)
        >>> template_identity("fc01", template_id="fc02")
        ('fc02', None)
    """
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


def _combinations(values: list[Any]) -> np.ndarray:
    """The resource id tuples: the string ids of each tuple, ``()`` for anything else."""
    if set(map(type, values)) <= {tuple} and set(
        map(type, itertools.chain.from_iterable(values))
    ) <= {str}:
        return _tuple_array(values)  # the usual case, at C speed
    return _tuple_array(
        [tuple(v for v in c if type(v) is str) if type(c) is tuple else _EMPTY for c in values]
    )


_MAX_DURATION_MINUTES = 10**8  # ~190 years: beyond it the template's duration is garbage


def _slot_ends(start: np.ndarray, duration: int | None) -> np.ndarray:
    """UTC ends: adding elapsed time to UTC instants keeps ends right across DST changes."""
    if duration is not None and abs(duration) <= _MAX_DURATION_MINUTES:
        return _in_range(start + np.timedelta64(duration, "m"))
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
    tid, duration = template_identity(template, template_id)
    piece = slot_piece(data)
    return slot_table([(piece, tid, duration)], resolve_zone(tz, piece.time_zone, "slots"))


class SlotPiece(NamedTuple):
    """The slot columns of one answer, decoded but not yet a frame: what a scan collects per
    call, so that many answers become one frame (:func:`slot_table`) without a DataFrame each.

    Example:
        >>> piece = slot_piece([{"id": "4f01", "timestamp": "2026-10-25T01:30:00+02:00",
        ...     "bookingResourceCombination": ["br01"]}])
        >>> piece.ids.tolist(), str(piece.start[0]), piece.combos.tolist()
        (['4f01'], '2026-10-24T23:30:00.000000', [('br01',)])
    """

    ids: np.ndarray  # object: str, or the "str" NA where an id is missing
    start: np.ndarray  # datetime64[us], naive UTC; NaT where unreadable
    combos: np.ndarray  # object: a tuple of resource ids per slot
    counts: np.ndarray  # int64: len of each tuple
    time_zone: Any  # the answer's timeZone, unchecked
    complete: bool  # every id is a str

    def take(self, index: np.ndarray) -> SlotPiece:
        """The rows at ``index`` (an integer array)."""
        return SlotPiece(
            self.ids[index], self.start[index], self.combos[index], self.counts[index],
            self.time_zone, self.complete,
        )  # fmt: skip


def slot_piece(data: FrameInput) -> SlotPiece:
    """Decode one slot answer (any input :func:`slots_frame` takes) into a :class:`SlotPiece`.

    Example:
        >>> slot_piece(b'{"timeZone": "Europe/Berlin", "list": []}').time_zone
        'Europe/Berlin'
    """
    slots, answer_tz = _slot_records(data)
    count = len(slots)
    ids = np.fromiter(map(operator.attrgetter("id"), slots), dtype=object, count=count)
    complete = set(map(type, ids)) <= {str}
    if not complete:
        ids = np.asarray(_str_array(ids), dtype=object)
    combos = _combinations(list(map(operator.attrgetter("booking_resource_combination"), slots)))
    counts = np.fromiter(map(len, combos), dtype=np.int64, count=count)
    start = _utc_instants(list(map(operator.attrgetter("timestamp"), slots)))
    return SlotPiece(ids, start, combos, counts, answer_tz, complete)


def slot_table(
    pieces: Iterable[tuple[SlotPiece, str | None, int | None]], tz: TimeZone
) -> pd.DataFrame:
    """One frame (schema ``SLOT_COLUMNS``) from decoded pieces, each with its template id and
    duration (minutes, or ``None``), times shown in ``tz`` (a zone name or ``tzinfo``; see
    :func:`bt_explore.times.resolve_zone` to pick it).

    Example:
        >>> piece = slot_piece([{"id": "4f01", "timestamp": "2026-10-25T02:30:00+02:00"}])
        >>> df = slot_table([(piece, "fc01", 60)], "Europe/Berlin")
        >>> str(df.loc[0, "end"])
        '2026-10-25 02:30:00+01:00'
    """
    pieces = list(pieces)
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
        "start": _aware(start, tz),
        "end": _aware(np.concatenate(ends) if ends else _NO_TIMES, tz),
        "resource_ids": (
            np.concatenate([p.combos for p, _, _ in pieces]) if pieces else np.array([], object)
        ),
        "resource_count": _count_array(
            np.concatenate([p.counts for p, _, _ in pieces]) if pieces else np.array([], np.int64)
        ),
    }
    return _frame(SLOT_COLUMNS, columns, length)


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
    records = _records(data, _RESOURCES)
    columns = _paths(records, _RESOURCE_PATHS)
    _localize(columns, records, locale, _LOCALIZED)
    return _frame(RESOURCE_COLUMNS, columns, len(records))


def _opening_days(hours: Any) -> tuple[str, ...]:
    """The weekdays of OPENING_HOURS intervals, in order, without repeats."""
    if type(hours) is not tuple:
        return _EMPTY
    days = (_get(h, "weekday") for h in hours)
    return tuple(dict.fromkeys(d for d in days if type(d) is str))


def organizations_frame(data: FrameInput) -> pd.DataFrame:
    """Flatten organizations (an organization's branches, a filter's hits) into rows
    (``ORGANIZATION_COLUMNS``).

    ``data`` is the organization list, a ``LIST``, one organization, the envelope or the raw
    body. ``opening_days`` holds the weekdays with opening hours, ``opening_hours_count`` the
    number of intervals.

    Example:
        >>> df = organizations_frame([{"id": "f601", "customId": "mitte", "address": {
        ...     "city": "Berlin"}, "openingHours": [{"weekday": "MONDAY", "start": "08:00",
        ...     "end": "12:00"}, {"weekday": "MONDAY", "start": "13:00", "end": "18:00"}]}])
        >>> df.loc[0, ["custom_id", "address_city", "opening_days"]].tolist()
        ['mitte', 'Berlin', ('MONDAY',)]
        >>> int(df.loc[0, "opening_hours_count"])
        2
    """
    records = _records(data, _ORGANIZATIONS)
    columns: dict[str, Any] = _paths(records, _ORGANIZATION_PATHS)
    hours = _column(records, "opening_hours")
    columns["opening_days"] = [_opening_days(h) for h in hours]
    columns["opening_hours_count"] = [_count(h) for h in hours]
    return _frame(ORGANIZATION_COLUMNS, columns, len(records))


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
    records = _records(data, _APPOINTMENTS)
    columns: dict[str, Any] = _paths(records, _APPOINTMENT_PATHS)
    zone = resolve_zone(tz, _common_time_zone(columns["time_zone"]), "appointments")
    columns["start"] = _timestamps(_column(records, "start"), zone)
    columns["end"] = _timestamps(_column(records, "end"), zone)
    resources = _column(records, "booking_resource_list")
    columns["resource_ids"] = [_id_tuple(r) for r in resources]
    columns["resource_count"] = [
        len(ids) if type(r) is tuple else None
        for ids, r in zip(columns["resource_ids"], resources, strict=True)
    ]
    columns["file_count"] = [_count(v) for v in _column(records, "file_list")]
    _localize(columns, records, locale, _LOCALIZED)
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
    if locale is not None and not isinstance(locale, str):
        raise TypeError(f"locale: expected a string like 'de' or 'en_GB', got {locale!r}")
    rows: dict[str, list[Any]] = {name: [] for name in TEMPLATE_RESOURCE_COLUMNS}

    def name_of(record: Any) -> Any:
        localized = _localized(record.name_i18n_list, locale) if locale is not None else None
        return localized or record.name

    for template in _records(data, _TEMPLATES):
        steps = template.booking_step_list
        if type(steps) is not tuple:
            continue
        template_name = name_of(template)
        for index, step in enumerate(steps):
            if type(step) is not _Step or type(step.booking_resource_list) is not tuple:
                continue
            step_name = name_of(step)
            for resource in step.booking_resource_list:
                if type(resource) is str:
                    resource = _Resource(id=resource)
                elif type(resource) is not _Resource:
                    continue
                rows["template_id"].append(template.id)
                rows["template_name"].append(template_name)
                rows["step_index"].append(index)
                rows["step_name"].append(step_name)
                rows["selection_quantity"].append(step.selection_quantity)
                rows["selection_display"].append(step.selection_display)
                rows["resource_id"].append(resource.id)
                rows["resource_custom_id"].append(resource.custom_id)
                rows["resource_type"].append(resource.type)
                rows["resource_name"].append(name_of(resource))
                rows["resource_first_name"].append(resource.first_name)
                rows["resource_last_name"].append(resource.last_name)
    return _frame(TEMPLATE_RESOURCE_COLUMNS, rows, len(rows["template_id"]))


# --------------------------------------------------------------------------------------------
# Custom entities
# --------------------------------------------------------------------------------------------

CUSTOM_ENTITY_COLUMNS: dict[str, str] = {
    "custom_entity_id": STR,
    "custom_id": STR,
    "type": STR,
    "name": STR,
    "notes": STR,
    "image": STR,
    "organization_id": STR,
    "timestamp_add": STR,
    "timestamp_edit": STR,
    "additional_data_keys": TUPLE,
}


_CUSTOM_ENTITIES = _kind("custom entities", _CustomEntity)

_CUSTOM_ENTITY_PATHS = _model_paths(
    models.CustomEntity, CUSTOM_ENTITY_COLUMNS, {"custom_entity_id": ("id",)}
)


def custom_entities_frame(data: FrameInput, *, entity_type: str | None = None) -> pd.DataFrame:
    """Flatten custom entities (CUSTOM_ENTITY or _SHORT) into rows (``CUSTOM_ENTITY_COLUMNS``).

    ``data`` is the entity list, a ``LIST``, one entity, the envelope or the raw body.
    ``entity_type=`` fills ``type`` where a record has none (a LIST of CUSTOM_ENTITY_SHORT, as
    ``customEntity/{type}/list`` answers, does not name its type). ``additional_data_keys``
    holds the keys of ``additionalData``.

    Example:
        >>> df = custom_entities_frame([{"class": "CUSTOM_ENTITY_SHORT", "id": "6T01",
        ...     "customId": "projector", "name": "Projector", "additionalData": {"hdmi": ["1"]}}],
        ...     entity_type="equipment")
        >>> df.loc[0, ["custom_entity_id", "type", "name", "additional_data_keys"]].tolist()
        ['6T01', 'equipment', 'Projector', ('hdmi',)]
    """
    records = _records(data, _CUSTOM_ENTITIES)
    columns = _paths(records, _CUSTOM_ENTITY_PATHS)
    if entity_type is not None:
        columns["type"] = [t if t is not None else entity_type for t in columns["type"]]
    columns["additional_data_keys"] = [
        tuple(str(k) for k in extra) if isinstance(extra, dict) else ()
        for extra in _column(records, "additional_data")
    ]
    return _frame(CUSTOM_ENTITY_COLUMNS, columns, len(records))
