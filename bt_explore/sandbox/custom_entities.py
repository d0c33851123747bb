"""The sandbox's custom entities: typed, organization-defined records and their links.

A custom entity (``6T…``) has a ``type`` (the organization's own word: ``course``,
``equipment``, ``rentalCar``), a ``customId`` unique per organization and type, and links to
booking templates, booking resources, appointments and other custom entities. The demo data
lives in ``data/custom_entities.json`` (``_organizationId`` and the ``_…Ids`` link lists are
the sandbox's own keys, never sent). Links between custom entities go both ways.

The relation fields of a CUSTOM_ENTITY_SHORT (``appointment``, ``bookingResource``,
``bookingTemplate``, ``customEntity``) have no public shape; the sandbox sends ``null``.

The route handlers are in :mod:`bt_explore.sandbox.custom_entity_api`.

Example:
    >>> from bt_explore.sandbox.state import SandboxState
    >>> state = SandboxState(now="2026-12-01T09:00:00+01:00")
    >>> sorted(state.custom_entities.types(state.data.demo_organization_id))
    ['course', 'equipment']
"""

from __future__ import annotations

import random
import re
import string
import threading
from collections.abc import Callable
from datetime import datetime
from importlib import resources as importlib_resources
from pathlib import Path
from typing import Any

import msgspec

from bt_explore.endpoints import is_id
from bt_explore.models import (
    CUSTOM_ENTITY_TYPE_PATTERN,
    ID_PREFIXES,
    KINDS,
    CustomEntity,
    CustomEntityShort,
    wire_names,
)

__all__ = ["CUSTOM_ENTITIES_FILE", "CUSTOM_ENTITY_TYPE", "CustomEntityStore"]

#: The data file of the custom entities (in ``sandbox/data`` or a user's ``data_dir``).
CUSTOM_ENTITIES_FILE = "custom_entities.json"

#: A valid custom entity type.
CUSTOM_ENTITY_TYPE = re.compile(CUSTOM_ENTITY_TYPE_PATTERN)
_LINKS = {
    KINDS.booking_template: "_bookingTemplateIds",
    KINDS.booking_resource: "_bookingResourceIds",
    KINDS.appointment: "_appointmentIds",
    KINDS.custom_entity: "_customEntityIds",
}
# What the API shows of a record: the fields of the models (the relation fields are null).
_SHORT_FIELDS = tuple((f.name, f.encode_name) for f in msgspec.structs.fields(CustomEntityShort))
_FULL_FIELDS = tuple(
    (f.name, f.encode_name)
    for f in msgspec.structs.fields(CustomEntity)
    if (f.name, f.encode_name) not in _SHORT_FIELDS
)
_NAMES = wire_names(CustomEntity)


class CustomEntityStore:
    """The custom entities of one sandbox, behind one lock.

    Records are stored as read from the data file (with their ``_organizationId`` and ``_…Ids``
    link lists); :meth:`short` and :meth:`full` are what the API shows.
    """

    def __init__(self, records: list[dict], now: Callable[[], datetime], seed: int = 0) -> None:
        self._lock = threading.Lock()
        self._now = now
        self._rng = random.Random(f"customEntity:{seed}")
        self.records: dict[str, dict] = {r["id"]: r for r in records}

    @classmethod
    def load(
        cls,
        data: Any,
        now: Callable[[], datetime],
        data_dir: str | Path | None = None,
        seed: int = 0,
    ) -> CustomEntityStore:
        """The store of ``data`` (a :class:`~bt_explore.sandbox.state.DemoData`): the records of
        ``custom_entities.json``: the one in ``data_dir`` if it has one, else the package's demo
        file without the records and links ``data`` cannot serve (so a ``data_dir`` without this
        file keeps working).

        Raises ``ValueError`` naming a record with a bad id or type, a customId used twice in a
        type, or (in a ``data_dir``'s own file) a link to an unknown entity.
        """
        raw, own = _read_records(data_dir)
        if not own:
            # the demo file beside a user's own data: keep what that data can serve
            raw = [r for r in raw if r.get("_organizationId") in data.organizations]
        known = _known_links(data, {r.get("id") for r in raw})
        records: list[dict] = []
        seen: set[tuple[str, str, str]] = set()
        for r in raw:
            where = f"sandbox data: custom entity {r.get('id')!r}"
            _check_record(r, where, data.organizations)
            key = (r["_organizationId"], r["type"], r.get(_NAMES.custom_id) or "")
            if key[2] and key in seen:
                raise ValueError(f"{where}: customId {key[2]!r} is not unique in its type")
            seen.add(key)
            records.append({**r, **_links(r, key[0], known, where, strict=own)})
        return cls(records, now, seed)

    # --- reading -----------------------------------------------------------------------------
    def types(self, org: str) -> set[str]:
        """The types the organization has entities of."""
        with self._lock:
            return {r["type"] for r in self.records.values() if r["_organizationId"] == org}

    def get(self, org: str, type_: str, entity_id: str) -> dict | None:
        with self._lock:
            r = self.records.get(entity_id)
        return r if r and r["_organizationId"] == org and r["type"] == type_ else None

    def of_type(self, org: str, type_: str) -> list[dict]:
        """The organization's entities of ``type_`` in the order they were added."""
        with self._lock:
            return [
                r
                for r in self.records.values()
                if r["_organizationId"] == org and r["type"] == type_
            ]

    def by_custom_id(self, org: str, type_: str, custom_id: str) -> dict | None:
        if not custom_id:
            return None
        return next(
            (r for r in self.of_type(org, type_) if r.get(_NAMES.custom_id) == custom_id), None
        )

    def linked_to(self, org: str, type_: str, kind: str, target: str) -> list[dict]:
        """The entities of ``type_`` linked to the ``kind`` (``bookingTemplate``…) ``target``."""
        field = _LINKS[kind]
        back: set[str] = set()
        if kind == KINDS.custom_entity:
            with self._lock:
                other = self.records.get(target)
            back = set(other["_customEntityIds"]) if other else set()
        return [
            r
            for r in self.of_type(org, type_)
            if (target in r[field] or r["id"] in back) and r["id"] != target
        ]

    @staticmethod
    def _short_fields(r: dict) -> dict[str, Any]:
        fields = {name: r.get(wire) for name, wire in _SHORT_FIELDS}
        fields["custom_id"] = r.get(_NAMES.custom_id) or ""
        fields["additional_data"] = r.get(_NAMES.additional_data) or {}
        return fields

    @classmethod
    def short(cls, r: dict) -> CustomEntityShort:
        """The CUSTOM_ENTITY_SHORT of a record."""
        return CustomEntityShort(**cls._short_fields(r))

    @classmethod
    def full(cls, r: dict) -> CustomEntity:
        """The CUSTOM_ENTITY of a record."""
        fields = cls._short_fields(r)
        fields.update({name: r.get(wire) or "" for name, wire in _FULL_FIELDS})
        fields["organization_id"] = r["_organizationId"]
        return CustomEntity(**fields)

    # --- writing -----------------------------------------------------------------------------
    def add(self, org: str, type_: str, fields: dict) -> dict | None:
        """Store a new entity; ``None`` if its customId is taken in this type (checked under
        the lock, so two concurrent adds cannot both win)."""
        with self._lock:
            custom_id = fields.get(_NAMES.custom_id) or ""
            if custom_id and any(
                r["_organizationId"] == org
                and r["type"] == type_
                and r.get(_NAMES.custom_id) == custom_id
                for r in self.records.values()
            ):
                return None
            while True:
                new_id = ID_PREFIXES[KINDS.custom_entity] + "".join(
                    self._rng.choice(string.ascii_letters + string.digits) for _ in range(30)
                )
                if new_id not in self.records:
                    break
            # stored as the data file holds records: the API's names and the internal _keys
            names = _NAMES
            record = {
                names.id: new_id,
                "_organizationId": org,
                names.type: type_,
                names.custom_id: custom_id,
                names.name: fields[names.name],
                names.notes: fields.get(names.notes) or "",
                names.image: fields.get(names.image),
                names.additional_data: fields.get(names.additional_data) or {},
                names.timestamp_add: self._now().isoformat(timespec="seconds"),
                names.timestamp_edit: "",
                **{f: [] for f in _LINKS.values()},
            }
            self.records[new_id] = record
            return record


def _read_records(data_dir: str | Path | None) -> tuple[list[dict], bool]:
    """The records of ``custom_entities.json`` and whether they are the ``data_dir``'s own
    (else the package's demo file)."""
    path = Path(data_dir) / CUSTOM_ENTITIES_FILE if data_dir is not None else None
    own = path is not None and path.is_file()
    if path is not None and own:
        try:
            raw = msgspec.json.decode(path.read_bytes())
        except ValueError as exc:
            raise ValueError(f"sandbox data: {path} is not valid JSON ({exc})") from None
    else:
        resource = importlib_resources.files("bt_explore.sandbox").joinpath(
            "data", CUSTOM_ENTITIES_FILE
        )
        raw = msgspec.json.decode(resource.read_bytes())
    if not isinstance(raw, list):
        raise ValueError(f"sandbox data: {CUSTOM_ENTITIES_FILE} must be a JSON list")
    return raw, own


def _known_links(data: Any, entity_ids: set[Any]) -> dict[str, Callable[[str, str], bool]]:
    """Kind -> whether an id of that kind exists in an organization (of ``data``, a
    :class:`~bt_explore.sandbox.state.DemoData`, or among ``entity_ids``)."""
    appointment_org = {
        a.get("id"): getattr(data.template_rules.get(a.get("templateId")), "organization_id", None)
        for a in data.seed_appointments
    }
    return {
        KINDS.booking_template: lambda i, org: (
            i in data.template_rules and data.template_rules[i].organization_id == org
        ),
        KINDS.booking_resource: lambda i, org: data.resource_org.get(i) == org,
        KINDS.appointment: lambda i, org: appointment_org.get(i) == org,
        KINDS.custom_entity: lambda i, org: i in entity_ids,
    }


def _check_record(r: dict, where: str, organizations: Any) -> None:
    """A ``ValueError`` naming what is wrong with a record: its id, organization, type, name."""
    if not is_id(r.get("id"), KINDS.custom_entity):
        raise ValueError(f"{where}: not a valid {KINDS.custom_entity} id")
    if r.get("_organizationId") not in organizations:
        raise ValueError(f"{where}: unknown _organizationId")
    type_ = r.get(_NAMES.type)
    if not isinstance(type_, str) or not CUSTOM_ENTITY_TYPE.match(type_):
        raise ValueError(f"{where}: type must match {CUSTOM_ENTITY_TYPE_PATTERN}")
    if not isinstance(r.get(_NAMES.name), str):
        raise ValueError(f"{where}: name must be a string")


def _links(
    r: dict, org: str, known: dict[str, Callable[[str, str], bool]], where: str, *, strict: bool
) -> dict[str, list[str]]:
    """A record's link lists, each keeping the ids that exist; ``strict``: an unknown id is a
    ``ValueError`` instead (a ``data_dir``'s own file)."""
    links: dict[str, list[str]] = {}
    for kind, field in _LINKS.items():
        links[field] = []
        for linked in r.get(field) or []:
            if known[kind](linked, org):
                links[field].append(linked)
            elif strict:
                raise ValueError(f"{where}: {field} names unknown {kind} {linked!r}")
    return links
