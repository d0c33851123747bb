"""What a client remembers of the API's answers: which template each slot id belongs to."""

from __future__ import annotations

from collections import deque

__all__ = ["SLOT_MEMORY", "SlotMemory"]

# Enough to map the slots of a long scan to their templates without growing forever.
SLOT_MEMORY = 200_000


class SlotMemory:
    """Which template each slot id seen in an answer belongs to, for ``book(slot_id)``.

    Slot ids are deterministic per template, so a remembered id never changes template. Ids
    arrive in batches (one per answer, often a month of slots) and are looked up rarely (one
    per booking), so batches are kept as they come, newest last, and the oldest are forgotten
    once more than ``limit`` ids are held: adding a batch costs no per-id work beyond building
    its dict.

    Example:
        >>> memory = SlotMemory(limit=200_000)
        >>> memory.add({"4fa": "fc1", "4fb": "fc1"})
        >>> memory.get("4fb"), memory.get("4fz")
        ('fc1', None)
    """

    #: Batches smaller than this are merged into the newest one, so many one-slot answers
    #: (``earliest``) do not make lookups walk thousands of tiny batches.
    _SMALL = 1024

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self._batches: deque[dict[str, str]] = deque()
        self._size = 0

    def add(self, batch: dict[str, str]) -> None:
        """Remember ``batch`` (slot id → template id); forget the oldest beyond the limit."""
        if not batch:
            return
        newest = self._batches[-1] if self._batches else None
        if newest is not None and len(newest) + len(batch) <= self._SMALL:
            self._size -= len(newest)
            newest.update(batch)
            self._size += len(newest)
        else:
            self._batches.append(batch)
            self._size += len(batch)
        while self._size > self.limit and len(self._batches) > 1:
            self._size -= len(self._batches.popleft())

    def get(self, slot_id: str) -> str | None:
        """The template id of ``slot_id``, if remembered (newest answers first)."""
        for batch in reversed(self._batches):
            template_id = batch.get(slot_id)
            if template_id is not None:
                return template_id
        return None

    def __len__(self) -> int:
        return self._size
