"""The sandbox's booking categories: the tree ``bookingCategory/tree`` answers.

bookingtime's newest PHP SDK has a 43rd method, ``bookingCategory_tree`` (``GET
…/organization/{organizationId}/bookingCategory/tree``), but no answer of it is public. The
sandbox assumes the shape of :class:`bt_explore.models.BookingCategory`: a LIST of the root
BOOKING_CATEGORYs, each with its sub-categories in ``bookingCategoryList`` and its templates'
ids in ``bookingTemplateIdList`` (docs/sandbox.md says so). The data file
``booking_categories.json`` is flat: each record names its organization (``_organizationId``)
and its parent (``_parentCategoryId``, ``null`` for a root), the sandbox's own keys, never sent.

Example:
    >>> from bt_explore.sandbox.state import SandboxState
    >>> categories = SandboxState().categories
    >>> [c["name"] for c in categories.tree("f6123456789101112131415aBCdeFgHi")]
    ['Examinations', 'Therapies', 'Courses and rooms']
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import msgspec

from bt_explore.endpoints import is_id
from bt_explore.models import BookingCategory

__all__ = ["BOOKING_CATEGORIES_FILE", "BookingCategories"]

#: The data file of the booking categories (in ``sandbox/data`` or a user's ``data_dir``).
BOOKING_CATEGORIES_FILE = "booking_categories.json"
#: The keys a category shows, in the model's order.
_KEYS = tuple(f.encode_name for f in msgspec.structs.fields(BookingCategory))


class BookingCategories:
    """The booking categories of a sandbox's organizations (read-only).

    Example:
        >>> from bt_explore.sandbox.state import SandboxState
        >>> SandboxState().categories.tree("f6" + "x" * 30)
        []
    """

    def __init__(self, records: list[dict[str, Any]], data: Any) -> None:
        self._records: list[dict[str, Any]] = []
        ids = {str(r.get("id")) for r in records}
        for record in records:
            org = record.get("_organizationId")
            if org not in data.organizations:
                raise ValueError(f"sandbox data: category {record.get('id')!r} names an unknown "
                                 "_organizationId")  # fmt: skip
            parent = record.get("_parentCategoryId")
            if parent is not None and parent not in ids:
                raise ValueError(f"sandbox data: category {record['id']!r} names an unknown "
                                 "_parentCategoryId")  # fmt: skip
            for template_id in record.get("bookingTemplateIdList", []):
                if not is_id(template_id, "bookingTemplate") or template_id not in data.templates:
                    raise ValueError(f"sandbox data: category {record['id']!r} names an unknown "
                                     f"template {template_id!r}")  # fmt: skip
            self._records.append(record)

    @classmethod
    def load(
        cls, data: Any, data_dir: str | Path | None, read: Callable[[Path | None, str], Any]
    ) -> BookingCategories:
        """The categories of ``data_dir``'s ``booking_categories.json``, else the demo's (only
        those of organizations and templates ``data`` has); ``read(data_dir, name)`` reads a
        data file (the state's reader)."""
        path = Path(data_dir) if data_dir is not None else None
        records = read(path, BOOKING_CATEGORIES_FILE)
        if path is None or not (path / BOOKING_CATEGORIES_FILE).is_file():
            records = [
                r
                for r in records
                if r.get("_organizationId") in data.organizations
                and all(t in data.templates for t in r.get("bookingTemplateIdList", []))
            ]
        return cls(records, data)

    def tree(self, organization_id: str) -> list[dict[str, Any]]:
        """The organization's root BOOKING_CATEGORYs, each with its sub-categories."""
        own = [r for r in self._records if r["_organizationId"] == organization_id]

        def node(record: dict[str, Any]) -> dict[str, Any]:
            shown: dict[str, Any] = {
                "class": "BOOKING_CATEGORY",
                "id": record["id"],
                "customId": "",
                "name": "",
                "nameI18nList": "",
                "description": "",
                "descriptionI18nList": "",
                "image": "",
                "bookingTemplateIdList": [],
            }
            shown.update({k: v for k, v in record.items() if k in _KEYS})
            shown["bookingCategoryList"] = [
                node(r) for r in own if r.get("_parentCategoryId") == record["id"]
            ]
            return shown

        return [node(r) for r in own if r.get("_parentCategoryId") is None]

    def records(self, organization_id: str) -> list[dict[str, Any]]:
        """The flat data-file records of the organization (for a saved data folder)."""
        return [dict(r) for r in self._records if r["_organizationId"] == organization_id]
