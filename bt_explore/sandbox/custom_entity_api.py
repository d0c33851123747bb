"""The sandbox's custom-entity routes (``_Api`` in :mod:`bt_explore.sandbox.app` delegates).

Validation failures name the field: ``customEntityType`` (404 when it is not a type's shape),
``customEntityId``, ``customId``, ``name``, ``notes``, ``image``, ``additionalData``; a customId
is unique per organization and type (400 ``customId`` otherwise).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import msgspec
from flask import Response

from bt_explore.endpoints import is_id
from bt_explore.models import (
    CUSTOM_ENTITY_TYPE_PATTERN,
    ID_PREFIXES,
    KINDS,
    CustomEntityAdd,
    List,
    Message,
    wire_names,
)
from bt_explore.rules import Problem, body_problems
from bt_explore.sandbox import messages
from bt_explore.sandbox.custom_entities import CUSTOM_ENTITY_TYPE, CustomEntityStore
from bt_explore.sandbox.messages import failure

__all__ = ["CustomEntityApi"]

_ADD = wire_names(CustomEntityAdd)


def _identifiable(custom_id: str) -> bool:
    """Whether ``…/{customId}/identify`` can find this customId again: URLs drop ``.`` and
    ``..`` segments, a leading ``/`` makes an empty segment, and the client sends no blank
    path segment."""
    return (
        bool(custom_id.strip())
        and not custom_id.startswith("/")
        and all(part not in (".", "..") for part in custom_id.split("/"))
    )


class CustomEntityApi:
    """The custom-entity route handlers; ``_Api`` delegates to them.

    ``fail(status, failures)`` raises the sandbox's error answer, ``answer(content, status,
    msgs)`` makes a success answer, ``check`` validates a template, resource or appointment id
    (raising 404 like the other routes) and ``json_body(locale)`` reads the request body.
    """

    def __init__(
        self,
        store: CustomEntityStore,
        *,
        fail: Callable[[int, list[Message]], Exception],
        answer: Callable[..., Response],
        lists: Callable[[list[Any]], List[Any]],
        check: dict[str, Callable[[str, str, str], Any]],
        json_body: Callable[[str], dict],
        templates: Callable[[str], list[dict]],
        resources: Callable[[str], list[dict]],
    ) -> None:
        self.store = store
        self._fail = fail
        self._answer = answer
        self._list = lists
        self._check = check
        self._json_body = json_body
        self._templates = templates
        self._resources = resources

    def _type(self, value: str, locale: str, status: int = 404) -> str:
        if not CUSTOM_ENTITY_TYPE.match(value):
            raise self._fail(
                status,
                [
                    failure(
                        "customEntityType",
                        "custom_entity_type_invalid",
                        locale,
                        value=value,
                        pattern=CUSTOM_ENTITY_TYPE_PATTERN,
                    )
                ],
            )
        return value

    def _entity(self, org: str, type_: str, entity_id: str, locale: str) -> dict:
        self._type(type_, locale)
        return self._known_entity(org, entity_id, locale, type_)

    def _known_entity(
        self, org: str, entity_id: str, locale: str, type_: str | None = None
    ) -> dict:
        """The stored entity ``entity_id`` of ``org`` (and of ``type_``, when given); a 404
        naming ``customEntityId`` for a malformed or unknown id."""
        if not is_id(entity_id, KINDS.custom_entity):
            raise self._fail(
                404,
                [
                    failure(
                        "customEntityId",
                        "bad_id",
                        locale,
                        value=entity_id,
                        kind=KINDS.custom_entity,
                        prefix=ID_PREFIXES[KINDS.custom_entity],
                    )
                ],
            )
        if type_ is not None:
            record = self.store.get(org, type_, entity_id)
        else:
            record = self.store.records.get(entity_id)
            if record is not None and record["_organizationId"] != org:
                record = None
        if record is None:
            raise self._fail(
                404,
                [
                    failure(
                        "customEntityId",
                        "unknown_entity",
                        locale,
                        kind=f"{KINDS.custom_entity} of type {type_}"
                        if type_
                        else KINDS.custom_entity,
                        value=entity_id,
                    )
                ],
            )
        return record

    def _shorts(self, records: list[dict]) -> Response:
        return self._answer(self._list([self.store.short(r) for r in records]))

    # --- handlers --------------------------------------------------------------------------
    def add(self, org: str, locale: str, custom_entity_type: str) -> Response:
        type_ = self._type(custom_entity_type, locale)
        body = self._json_body(locale)
        problems = body_problems(body, CustomEntityAdd)
        custom_id = body.get(_ADD.custom_id)
        if custom_id and isinstance(custom_id, str) and not _identifiable(custom_id):
            problems.append(Problem(_ADD.custom_id, "custom_id_unservable", {"value": custom_id}))
        errors = [failure(p.parameter, p.key, locale, **p.fields) for p in problems]
        fields: dict[str, Any] = {
            key: body[key]
            for key in (f.encode_name for f in msgspec.structs.fields(CustomEntityAdd))
            if body.get(key) is not None
        }
        if _ADD.name in fields:
            fields[_ADD.name] = str(fields[_ADD.name]).strip()
        if errors:
            raise self._fail(400, errors)
        record = self.store.add(org, type_, fields)
        if record is None:
            raise self._fail(
                400,
                [
                    failure(
                        _ADD.custom_id,
                        "custom_entity_custom_id_taken",
                        locale,
                        value=fields[_ADD.custom_id],
                        type=type_,
                    )
                ],
            )
        return self._answer(
            self.store.full(record), 201, [messages.success("custom_entity_added", locale)]
        )

    def show(self, org: str, locale: str, custom_entity_type: str, custom_entity_id: str):
        return self._answer(
            self.store.full(self._entity(org, custom_entity_type, custom_entity_id, locale))
        )

    def identify(self, org: str, locale: str, custom_entity_type: str, custom_id: str):
        type_ = self._type(custom_entity_type, locale)
        record = self.store.by_custom_id(org, type_, custom_id)
        if record is None:
            raise self._fail(
                404,
                [
                    failure(
                        _ADD.custom_id,
                        "unknown_custom_id",
                        locale,
                        kind=f"{KINDS.custom_entity} of type {type_}",
                        value=custom_id,
                    )
                ],
            )
        return self._answer(self.store.full(record))

    def list_of_type(self, org: str, locale: str, custom_entity_type: str) -> Response:
        return self._shorts(self.store.of_type(org, self._type(custom_entity_type, locale)))

    def linked(self, kind: str, org: str, locale: str, target: str, custom_entity_type: str):
        """The entities of a type linked to a template, resource, appointment or entity."""
        if kind == KINDS.custom_entity:
            self._known_entity(org, target, locale)
        else:
            self._check[kind](org, target, locale)
        type_ = self._type(custom_entity_type, locale)
        return self._shorts(self.store.linked_to(org, type_, kind, target))

    def templates(self, org: str, locale: str, custom_entity_type: str, custom_entity_id: str):
        ids = self._entity(org, custom_entity_type, custom_entity_id, locale)["_bookingTemplateIds"]
        return self._answer(self._list([t for t in self._templates(org) if t["id"] in ids]))

    def resources(self, org: str, locale: str, custom_entity_type: str, custom_entity_id: str):
        ids = self._entity(org, custom_entity_type, custom_entity_id, locale)["_bookingResourceIds"]
        return self._answer(self._list([r for r in self._resources(org) if r["id"] in ids]))
