"""An offline twin's observed free slots: inside the observed windows, exactly what was seen.

``bt-explore verify --save DIR`` writes ``observed_slots.json`` beside the twin's other data
files: per template the windows it listed (``rangeStart``/``rangeEnd`` of a week's RANGE_LIST)
and the free slots each answer held. A sandbox serving ``DIR`` answers, for a start inside a
window, exactly those slots (minus what is booked in the twin, and those before the template's
earliest allowed start); outside the windows, its own engine. Slot ids are the sandbox's own
(bookingtime's are opaque), so a twin's slot can be booked like any other.

Example:
    >>> import json, tempfile
    >>> from pathlib import Path
    >>> from bt_explore.sandbox.state import SandboxState
    >>> folder = Path(tempfile.mkdtemp())
    >>> _ = (folder / OBSERVED_FILE).write_text(json.dumps({"windows": [{
    ...     "templateId": "fc12345678910AbcDefGh1112131415a",
    ...     "rangeStart": "2026-12-07T00:00:00+01:00", "rangeEnd": "2026-12-14T00:00:00+01:00"}],
    ...     "slots": [{"templateId": "fc12345678910AbcDefGh1112131415a",
    ...     "timestamp": "2026-12-07T10:00:00+01:00",
    ...     "bookingResourceCombination": ["brUAAufOuPqc66GrmrqtTK3HFF63pKlP"]}]}))
    >>> state = SandboxState(now="2026-12-01T09:00:00+01:00", data_dir=folder)
    >>> state.data.template_rules["fc12345678910AbcDefGh1112131415a"].observed.windows[0][1] - (
    ...     state.data.template_rules["fc12345678910AbcDefGh1112131415a"].observed.windows[0][0])
    604800
"""

from __future__ import annotations

import bisect
import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import msgspec

from bt_explore.models import BookingSlot, RangeList, wire_names
from bt_explore.sandbox.engine import Busy, OrganizationRules, TemplateRules, free_slots

__all__ = ["OBSERVED_FILE", "ObservedSlots", "attach_observed"]

#: The twin's file of observed windows and slots.
OBSERVED_FILE = "observed_slots.json"
#: Its windows and slots keep the names of a RANGE_LIST's and a BOOKING_SLOT's fields.
_RANGE, _SLOT = wire_names(RangeList), wire_names(BookingSlot)


def _epoch(text: str, what: str) -> int:
    try:
        moment = datetime.fromisoformat(text)
    except (TypeError, ValueError):
        raise ValueError(
            f"sandbox data: {OBSERVED_FILE}: {what} {text!r} is not an ISO time"
        ) from None
    if moment.tzinfo is None:
        raise ValueError(f"sandbox data: {OBSERVED_FILE}: {what} {text!r} has no UTC offset")
    return int(moment.timestamp())


@dataclass(frozen=True)
class ObservedSlots:
    """One template's observed windows (epoch ``[start, end)``) and free (start, combination)
    pairs, sorted."""

    windows: tuple[tuple[int, int], ...]
    pairs: tuple[tuple[int, tuple[str, ...]], ...]

    def inside(self, start: int) -> bool:
        """Whether ``start`` lies in an observed window."""
        return any(a <= start < b for a, b in self.windows)

    def free_slots(
        self,
        org: OrganizationRules,
        template: TemplateRules,
        working_days: Mapping[str, frozenset[int]],
        busy: Busy,
        range_start: int,
        range_end: int,
        now: int,
        *,
        first_only: bool = False,
    ) -> list[tuple[int, tuple[str, ...]]]:
        """The engine's :func:`~bt_explore.sandbox.engine.free_slots` with the observed slots
        inside the windows."""
        engine = dataclasses.replace(template, observed=None)
        outside = [
            pair
            for pair in free_slots(org, engine, working_days, busy, range_start, range_end, now)
            if not self.inside(pair[0])
        ]
        min_start = template.window(now, org.tz)[0]
        inside = [
            (start, combo)
            for start, combo in self.pairs
            if range_start <= start < range_end
            and start >= min_start
            and _free(template, busy, start, combo)
        ]
        out = sorted(outside + inside, key=lambda pair: pair[0])  # stable: combination order
        if first_only and out:
            out = [pair for pair in out if pair[0] == out[0][0]]
        return out


def _free(template: TemplateRules, busy: Busy, start: int, combo: tuple[str, ...]) -> bool:
    block_start, block_end = template.block(start)
    for resource in combo:
        entry = busy.get(resource)
        if entry:
            starts, ends = entry
            i = bisect.bisect_left(starts, block_end)
            if i and ends[i - 1] > block_start:
                return False
    return True


def attach_observed(data: Any, data_dir: str | Path | None) -> None:
    """Give each template of ``data`` its observed slots from ``data_dir/observed_slots.json``
    (nothing when the folder has none)."""
    raw = _read_observed(data_dir)
    if raw is None:
        return
    windows = _observed_windows(raw, data)
    pairs = _observed_pairs(raw, windows, data)
    for tid, spans in windows.items():
        seen = sorted(pairs.get(tid, []), key=lambda pair: pair[0])
        rules = data.template_rules[tid]
        combos = tuple(dict.fromkeys([*rules.combinations, *(c for _, c in seen)]))
        data.template_rules[tid] = dataclasses.replace(
            rules,
            combinations=combos,
            resources=rules.resources | {r for c in combos for r in c},
            observed=ObservedSlots(tuple(spans), tuple(seen)),
        )


def _read_observed(data_dir: str | Path | None) -> Any:
    """The decoded ``observed_slots.json`` of ``data_dir`` (``None`` when it has none)."""
    if data_dir is None or not (Path(data_dir) / OBSERVED_FILE).is_file():
        return None
    path = Path(data_dir) / OBSERVED_FILE
    try:
        return msgspec.json.decode(path.read_bytes())
    except msgspec.DecodeError as exc:
        raise ValueError(f"sandbox data: {path} is not valid JSON ({exc})") from None


def _observed_windows(raw: Any, data: Any) -> dict[str, list[tuple[int, int]]]:
    """The observed windows (start, end in epoch seconds) by template id, each template known
    to ``data``."""
    start_key, end_key = _RANGE.range_start, _RANGE.range_end
    windows: dict[str, list[tuple[int, int]]] = {}
    for window in raw.get("windows", []):
        tid = window.get("templateId")
        if tid not in data.template_rules:
            raise ValueError(f"sandbox data: {OBSERVED_FILE}: unknown templateId {tid!r}")
        span = (
            _epoch(window.get(start_key), start_key),
            _epoch(window.get(end_key), end_key),
        )
        windows.setdefault(tid, []).append(span)
    return windows


def _observed_pairs(
    raw: Any, windows: dict[str, list[tuple[int, int]]], data: Any
) -> dict[str, list[tuple[int, tuple[str, ...]]]]:
    """The observed free slots (start, resource combination) by template id, each in a
    template with a window and of resources known to ``data``."""
    pairs: dict[str, list[tuple[int, tuple[str, ...]]]] = {}
    for slot in raw.get("slots", []):
        tid = slot.get("templateId")
        if tid not in windows:
            raise ValueError(f"sandbox data: {OBSERVED_FILE}: a slot of {tid!r} has no window")
        combo = tuple(slot.get(_SLOT.booking_resource_combination) or ())
        unknown = [r for r in combo if r not in data.resources]
        if unknown:
            raise ValueError(f"sandbox data: {OBSERVED_FILE}: unknown resource {unknown[0]!r}")
        pairs.setdefault(tid, []).append((_epoch(slot.get("timestamp"), "timestamp"), combo))
    return pairs
