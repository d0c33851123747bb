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

from bt_explore.models import BookingCategory

__all__ = ["BOOKING_CATEGORIES_FILE", "BookingCategories"]

#: The data file of the booking categories (in ``sandbox/data`` or a user's ``data_dir``).
BOOKING_CATEGORIES_FILE = "booking_categories.json"


class BookingCategories:
    """The booking categories of a sandbox's organizations (read-only).

    Example:
        >>> from bt_explore.sandbox.state import SandboxState
        >>> SandboxState().categories.tree("f6" + "x" * 30)
        []
    """

    def __init__(self, records: list[dict[str, Any]], data: Any, *, skip_unknown: bool = False):
        #: (organization id, parent id or None, the category without children), in file order
        self._entries: list[tuple[str, str | None, BookingCategory]] = []
        ids = {str(r.get("id")) for r in records}
        for record in records:
            try:
                category = msgspec.convert(
                    {k: v for k, v in record.items() if not k.startswith("_")}, BookingCategory
                )
            except msgspec.ValidationError as exc:
                raise ValueError(f"sandbox data: category {record.get('id')!r}: {exc}") from None
            org, parent = record.get("_organizationId"), record.get("_parentCategoryId")
            unknown = [t for t in category.booking_template_id_list if t not in data.templates]
            if skip_unknown and (org not in data.organizations or unknown):
                continue  # the demo's categories, over a data folder without their templates
            if org not in data.organizations:
                raise ValueError(f"sandbox data: category {category.id!r} names an unknown "
                                 "_organizationId")  # fmt: skip
            if parent is not None and parent not in ids:
                raise ValueError(f"sandbox data: category {category.id!r} names an unknown "
                                 "_parentCategoryId")  # fmt: skip
            if unknown:
                raise ValueError(f"sandbox data: category {category.id!r} names an unknown "
                                 f"template {unknown[0]!r}")  # fmt: skip
            self._entries.append((str(org), parent, category))

    @classmethod
    def load(
        cls, data: Any, data_dir: str | Path | None, read: Callable[[Path | None, str], Any]
    ) -> BookingCategories:
        """The categories of ``data_dir``'s ``booking_categories.json``, else the demo's (only
        those of organizations and templates ``data`` has); ``read(data_dir, name)`` reads a
        data file (the state's reader)."""
        path = Path(data_dir) if data_dir is not None else None
        own = path is not None and (path / BOOKING_CATEGORIES_FILE).is_file()
        return cls(read(path, BOOKING_CATEGORIES_FILE), data, skip_unknown=not own)

    def tree(self, organization_id: str) -> list[dict[str, Any]]:
        """The organization's root BOOKING_CATEGORYs, each with its sub-categories."""
        own = [(parent, c) for org, parent, c in self._entries if org == organization_id]

        def node(category: BookingCategory) -> BookingCategory:
            children = [node(c) for parent, c in own if parent == category.id]
            return msgspec.structs.replace(category, booking_category_list=children)

        return [msgspec.to_builtins(node(c)) for parent, c in own if parent is None]
