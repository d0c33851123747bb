"""Concurrent slot scans: every free slot of many templates over a date range, as one DataFrame.

:func:`scan_slots` plans the fewest ``listMonth`` / ``listWeek`` / ``listDay`` calls that cover
the range for each template (:func:`plan_calls`), runs them in a bounded thread pool that
shares one :class:`~bt_explore.client.Client` (so one access token per organization), shows a
``tqdm.auto`` progress bar (when tqdm, of the ``notebook`` extra, is installed), and returns one
frame with the :data:`bt_explore.frames.SLOT_COLUMNS` plus ``template_name``. A call that still
fails after the client's retries is
never dropped silently: the scan raises :class:`ScanError` naming every missing template/period,
or with ``errors="report"`` returns what it got with the gaps in ``frame.attrs["missing"]``.
``organization_id=[...]`` scans several organizations (e.g. a chain's branches) in one call,
one access token each, with an ``organization_id`` column (:data:`ORGANIZATION_SCAN_COLUMNS`).

Example:
    >>> import bt_explore
    >>> client = bt_explore.connect(mode="sandbox")          # doctest: +SKIP
    >>> slots = bt_explore.scan_slots(client)                 # doctest: +SKIP
    >>> slots.groupby("template_name").size()                 # doctest: +SKIP
"""

from __future__ import annotations

import functools
import logging
import os
from collections.abc import Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone
from typing import TYPE_CHECKING, Any, Literal
from zoneinfo import ZoneInfo

import msgspec
import numpy as np
import pandas as pd

from bt_explore import periods, times
from bt_explore.errors import (
    AuthenticationError,
    BookingtimeError,
    ConfigurationError,
    PermissionDenied,
)
from bt_explore.extras import missing_extra
from bt_explore.models import BookingTemplate, Organization

if TYPE_CHECKING:  # pragma: no cover
    from bt_explore.checkpoint import Checkpoint
    from bt_explore.client import Client
    from bt_explore.frames import SlotPiece

__all__ = [
    "ScanError",
    "SlotCall",
    "pace_note",
    "plan_calls",
    "scan_slots",
    "SCAN_COLUMNS",
    "ORGANIZATION_SCAN_COLUMNS",
]

log = logging.getLogger("bt_explore.scan")

# Errors that doom every other call too: stop the scan at once instead of failing N times.
_FATAL: tuple[type[BaseException], ...] = (
    AuthenticationError,
    PermissionDenied,
    ConfigurationError,
)


@dataclass(frozen=True, order=True)
class SlotCall:
    """One slot-listing call: ``kind`` is ``"month"``, ``"week"`` or ``"day"``; it covers the
    dates ``[start, end)``.

    Example:
        >>> SlotCall("week", date(2026, 11, 30), date(2026, 12, 7)).label
        'listWeek 2026-W49 (2026-11-30..2026-12-06)'
    """

    kind: Literal["month", "week", "day"]
    start: date
    end: date

    @property
    def label(self) -> str:
        """A human-readable name of the call and the dates it covers (end inclusive)."""
        last = self.end - timedelta(days=1)
        span = f"{self.start.isoformat()}..{last.isoformat()}"
        if self.kind == "month":
            return f"listMonth {self.start:%Y-%m} ({span})"
        if self.kind == "week":
            year, week, _ = self.start.isocalendar()
            return f"listWeek {year}-W{week:02d} ({span})"
        return f"listDay {self.start.isoformat()}"

    def fetch(self, client: Client, template_id: str, organization_id: str | None = None) -> Any:
        """Send this call for ``template_id`` through ``client``; returns the RANGE_LIST content."""
        return client.slot_period(
            template_id, self.kind, self.start, organization_id=organization_id
        )


def plan_calls(start: date, end: date) -> list[SlotCall]:
    """The fewest month/week/day calls covering the dates ``[start, end)``, as :class:`SlotCall`.

    The plan is :func:`bt_explore.periods.plan` (the one ``client.slots()`` uses), so
    a scan sends exactly the calls the per-template ``client.slots()`` calls would. A call's
    period may reach past either end of the range when that saves calls (e.g. one ``listWeek``
    instead of three ``listDay``); the scan keeps only slots inside the range.

    Example:
        >>> [c.label for c in plan_calls(date(2026, 12, 30), date(2027, 1, 2))]
        ['listWeek 2026-W53 (2026-12-28..2027-01-03)']
        >>> [c.label for c in plan_calls(date(2026, 12, 14), date(2026, 12, 23))]
        ['listMonth 2026-12 (2026-12-01..2026-12-31)']
    """
    return list(_plan(start, end))


@functools.lru_cache(maxsize=1024)
def _plan(start: date, end: date) -> tuple[SlotCall, ...]:
    # templates of a scan mostly share their window: plan each window once, before the first
    # slot call can leave
    return tuple(SlotCall(p.kind, *p.span(day)) for p, day in periods.plan(start, end))


@dataclass
class _Failure:
    template_id: str
    template_name: str
    call: SlotCall
    error: BaseException
    #: the days of the scan range the call was meant to cover: [first, stop)
    first: date
    stop: date
    #: set only when several organizations are scanned (then it leads the dict and the text)
    organization_id: str | None = None

    def as_dict(self) -> dict[str, Any]:
        where = {} if self.organization_id is None else {"organization_id": self.organization_id}
        return {
            **where,
            "template_id": self.template_id,
            "template_name": self.template_name,
            "call": self.call.kind,
            "start": self.first,
            "end": self.stop - timedelta(days=1),
            "error": str(self.error),
        }

    def __str__(self) -> str:
        name = f" ({self.template_name})" if self.template_name else ""
        last = self.stop - timedelta(days=1)
        org = "" if self.organization_id is None else f"organization {self.organization_id} "
        return (
            f"{org}template {self.template_id}{name} {self.first.isoformat()}..{last.isoformat()} "
            f"({self.call.label}): {self.error}"
        )


class ScanError(BookingtimeError):
    """Some slot calls of a scan failed for good; ``missing`` lists each template and period.

    ``missing`` is a list of dicts with ``template_id``, ``template_name``, ``call`` (``"month"``,
    ``"week"`` or ``"day"``), ``start`` and ``end`` (the missing days of the scan range, both
    inclusive) and ``error`` — led by ``organization_id`` when several organizations were
    scanned; ``partial`` is the frame of what did arrive.

    Example:
        >>> try:                                                   # doctest: +SKIP
        ...     scan_slots(client)
        ... except ScanError as exc:
        ...     print(exc.missing[0]["template_id"], exc.missing[0]["start"])
    """

    def __init__(self, failures: Sequence[_Failure], total: int, partial: pd.DataFrame) -> None:
        self.missing: list[dict[str, Any]] = [f.as_dict() for f in failures]
        self.total = total
        self.partial = partial
        shown = "; ".join(str(f) for f in failures[:5])
        more = f"; and {len(failures) - 5} more" if len(failures) > 5 else ""
        super().__init__(
            f"{len(failures)} of {total} slot calls failed, so these periods are missing: "
            f"{shown}{more}"
        )


#: Columns of a scan: the slot frame's schema with ``template_name`` after ``template_id``.
SCAN_COLUMNS: tuple[str, ...] = (
    "slot_id",
    "template_id",
    "template_name",
    "start",
    "end",
    "resource_ids",
    "resource_count",
)

#: Columns of a scan of several organizations: :data:`SCAN_COLUMNS` after ``organization_id``.
ORGANIZATION_SCAN_COLUMNS: tuple[str, ...] = ("organization_id", *SCAN_COLUMNS)


@dataclass
class _Job:
    template: dict[str, Any]
    call: SlotCall
    lo: date
    hi: date
    result: SlotPiece | None = None
    organization_id: str | None = None
    tz: ZoneInfo = ZoneInfo("UTC")


def _wire_name(model: type[msgspec.Struct], attribute: str) -> str:
    """The API's name of a model's attribute (``booking_day_earliest`` → its wire name)."""
    return next(f.encode_name for f in msgspec.structs.fields(model) if f.name == attribute)


_EARLIEST = _wire_name(BookingTemplate, "booking_day_earliest")
_LATEST = _wire_name(BookingTemplate, "booking_day_latest")
_TIME_ZONE = _wire_name(Organization, "time_zone")


def _int_or(value: Any, default: int | None) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return default


def _window(
    template: dict[str, Any], today: date, start: date | None, end: date | None
) -> tuple[date, date]:
    """The dates ``[lo, hi)`` to scan for ``template``: the requested range cut to what the
    template can book (``today + bookingDayEarliest`` … ``today + bookingDayLatest``, both
    inclusive) and never before today — calls outside that window cannot return slots."""
    earliest = max(_int_or(template.get(_EARLIEST), 0) or 0, 0)
    latest = _int_or(template.get(_LATEST), None)
    lo = today + timedelta(days=earliest)
    if start is not None:
        lo = max(lo, start)
    hi = end
    if latest is not None:
        cap = today + timedelta(days=latest + 1)
        hi = cap if hi is None else min(hi, cap)
    if hi is None:
        # No booking window and no end: scan four weeks rather than guess an unbounded range.
        hi = lo + timedelta(days=28)
    return lo, max(lo, hi)


def _empty_scan(tz: str | None) -> pd.DataFrame:
    from bt_explore.frames import slots_frame

    frame = slots_frame([], tz=tz)
    frame.insert(frame.columns.get_loc("template_id") + 1, "template_name", pd.Series(dtype="str"))
    return frame


def _fetch(client: Client, job: _Job, organization_id: str | None) -> Any:
    """Send one call (in a worker thread) and return its answer undecoded: a worker that only
    waits for the network can send its next call at once, while the answers are decoded one
    after the other by :func:`_decode` in the scan's own thread."""
    return client._slot_period_answer(
        str(job.template["id"]), job.call.kind, job.call.start, organization_id
    )


def _decode(
    client: Client, job: _Job, answer: Any, organization_id: str | None, tz: ZoneInfo
) -> SlotPiece:
    """One call's slots from its answer (see :func:`_fetch`), shaped by :func:`_shape`."""
    piece = client._slot_period_piece(str(job.template["id"]), answer, organization_id)
    return _shape(job, piece, tz)


def _shape(job: _Job, piece: SlotPiece, tz: ZoneInfo) -> SlotPiece:
    """Make one call's slots a ready part of the scan: keep those on the days this call stands
    for (its period inside the template's window, so the calls of a template never overlap
    even when a server pads its answers), drop repeated slot ids and put them in time order
    (stable: slots at the same time keep the API's order). The assembly then only has to put
    the parts in template order."""
    start = piece.start
    if len(start):
        first = _utc(max(job.call.start, job.lo), tz)
        stop = _utc(min(job.call.end, job.hi), tz)
        keep = (start >= first) & (start < stop)  # NaT compares False: unreadable times go
        if not keep.all():
            piece = piece.take(np.flatnonzero(keep))
    ids = piece.ids.tolist()
    if len(set(ids)) != len(ids):
        if len(set(zip(ids, piece.start.tolist(), strict=True))) != len(set(ids)):
            log.warning(_CONFLICT)  # the same id at two different times within one answer
        piece = piece.take(np.flatnonzero(~pd.Index(piece.ids).duplicated()))
    steps = np.diff(piece.start.view(np.int64))
    if (steps < 0).any():
        piece = piece.take(np.argsort(piece.start, kind="stable"))
    return piece


_CONFLICT = "the server listed some slot ids at two different times; keeping the first"


def _utc(day: date, tz: ZoneInfo) -> np.datetime64:
    """The first instant of the local ``day`` in ``tz`` (where midnight does not exist, the
    first time that does), as a naive UTC ``datetime64[us]`` like the slots' ``start``.

    Example:
        >>> _utc(date(2026, 3, 29), ZoneInfo("Europe/Berlin"))
        np.datetime64('2026-03-28T23:00:00.000000')
    """
    # fold=0 reads a skipped midnight with the offset before the gap (= the first instant that
    # exists) and a repeated one as its first occurrence; integer arithmetic keeps it exact.
    local = datetime.combine(day, time(), tzinfo=tz)
    return np.datetime64((local - _EPOCH) // _MICROSECOND, "us")


_EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)
_MICROSECOND = timedelta(microseconds=1)


def _assemble(jobs: Sequence[_Job], tz_name: str | None) -> pd.DataFrame:
    """The scan's frame from its calls' parts (each already cut, unique and in time order,
    see :func:`_shape`): one row per distinct slot, sorted by ``template_id`` and ``start``.
    The parts of a template cover disjoint days, so putting them in template and period order
    is the sort, and one frame is built for all of them at once; only a server that lists one
    slot id at two different times needs the general (slower) de-duplication and sort."""
    from bt_explore.frames import STR, slot_table, template_identity

    parts = sorted(
        ((j, j.result) for j in jobs if j.result is not None and len(j.result.ids)),
        key=lambda part: (str(part[0].template["id"]), part[0].call.start),
    )
    if not parts:
        return _empty_scan(tz_name)
    answer_tz = next((piece.time_zone for _, piece in parts if piece.time_zone), None)
    pieces = [(piece, *template_identity(j.template)) for j, piece in parts]
    frame = slot_table(pieces, times.resolve_zone(tz_name, answer_tz, "slots"))
    lengths = [len(piece.ids) for _, piece in parts]
    names = pd.array([str(j.template.get("name") or "") for j, _ in parts], dtype=STR)
    frame.insert(
        frame.columns.get_loc("template_id") + 1,
        "template_name",
        names.take(np.repeat(np.arange(len(parts), dtype=np.intp), lengths)),
    )
    by_template: dict[str, list[Any]] = {}
    for job, piece in parts:
        by_template.setdefault(str(job.template["id"]), []).extend(piece.ids.tolist())
    if all(len(set(ids)) == len(ids) for ids in by_template.values()):
        return frame
    # the parts of a template cover disjoint days: an id in two of them is at two times
    log.warning(_CONFLICT)
    return (
        frame.drop_duplicates(subset=["template_id", "slot_id"])
        .sort_values(["template_id", "start"], kind="stable")
        .reset_index(drop=True)
    )


def _setup(
    client: Client, organization_ids: Sequence[str | None], *, parallel: int
) -> list[tuple[Any, list[Any]]]:
    """Each organization (for its time zone) and its templates; all at once when allowed
    (``parallel`` threads at most), since each costs a full round trip before the first slot
    call can start. An error (e.g. a 403 for one organization) is raised as it came."""
    if parallel < 2:
        return [
            (client.organization(organization_id=o), client.templates(organization_id=o))
            for o in organization_ids
        ]
    workers = min(2 * len(organization_ids), parallel)
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="scan-setup") as pool:
        futures = [
            (
                pool.submit(client.organization, organization_id=o),
                pool.submit(client.templates, organization_id=o),
            )
            for o in organization_ids
        ]
        return [(org.result(), templates.result()) for org, templates in futures]


@dataclass
class _Plan:
    """What one organization contributes to a scan: its time zone, templates and calls."""

    organization_id: str | None
    tz_name: str | None
    chosen: list[dict[str, Any]]
    jobs: list[_Job]


def _plan_organization(
    client: Client,
    organization_id: str | None,
    organization: Any,
    chosen: list[dict[str, Any]],
    start: date | datetime | timedelta | str | None,
    end: date | datetime | timedelta | str | None,
) -> _Plan:
    """The calls for ``chosen`` templates of one organization, its range read in its own time
    zone (a date means the organization's local day; "today" is its local today)."""
    tz_name = organization.get(_TIME_ZONE) if isinstance(organization, dict) else None
    tz = ZoneInfo(tz_name or "UTC")
    today = client.now().astimezone(tz).date()
    lo_req = times.as_date(start, "start", tz=tz, today=today) if start is not None else None
    hi_req = times.as_date(end, "end", tz=tz, today=today) if end is not None else None
    windows = {str(t["id"]): _window(t, today, lo_req, hi_req) for t in chosen}
    jobs = [
        _Job(t, call, *windows[str(t["id"])], organization_id=organization_id, tz=tz)
        for t in chosen
        for call in plan_calls(*windows[str(t["id"])])
    ]
    return _Plan(organization_id, tz_name, chosen, jobs)


def _templates_by_id(templates: Any) -> dict[str, dict[str, Any]]:
    return {str(t.get("id")): t for t in templates if isinstance(t, dict) and t.get("id")}


def _organization_ids(organization_id: str | Sequence[str] | None) -> list[str] | None:
    """The organizations of a scan of several (deduplicated, in the given order), or None for
    a scan of one (``None`` or a string: the frame has no ``organization_id`` column)."""
    if organization_id is None or isinstance(organization_id, str):
        return None
    ids = list(dict.fromkeys(organization_id))
    bad = [o for o in ids if not isinstance(o, str) or not o]
    if bad:
        raise TypeError(f"organization_id: organization ids must be strings, got {bad[0]!r}")
    if not ids:
        raise ValueError("organization_id: an empty list; give at least one organization id")
    return ids


def _combine(plans: Sequence[_Plan]) -> pd.DataFrame:
    """One frame of several organizations' scans: ``organization_id`` first, sorted by
    organization, template and start; times in the organizations' common time zone, or in UTC
    when their zones differ (one column holds one zone)."""
    from bt_explore.frames import STR

    zones = {p.tz_name or "UTC" for p in plans}
    common = zones.pop() if len(zones) == 1 else "UTC"
    parts = []
    for plan in sorted(plans, key=lambda p: str(p.organization_id)):
        frame = _assemble(plan.jobs, plan.tz_name)
        for column in ("start", "end"):
            frame[column] = frame[column].dt.tz_convert(common)
        frame.insert(0, "organization_id", pd.array([plan.organization_id] * len(frame), STR))
        parts.append(frame)
    filled = [part for part in parts if len(part)] or parts[:1]
    return pd.concat(filled, ignore_index=True) if len(filled) > 1 else filled[0]


def _check_arguments(concurrency: Any, errors: Any) -> None:
    if isinstance(concurrency, bool) or not isinstance(concurrency, int):
        raise TypeError(f"concurrency: must be a whole number, got {concurrency!r}")
    if concurrency < 1:
        raise ValueError(f"concurrency: must be at least 1, got {concurrency!r}")
    if errors not in ("raise", "report"):
        raise ValueError(f"errors: must be 'raise' or 'report', got {errors!r}")


def _threads(client: Client, concurrency: int) -> int:
    if concurrency > 1 and getattr(client, "cassette", None) is not None:
        # vcrpy drops interactions recorded from several threads (kevin1024/vcrpy#849), and a
        # replay has no network latency to hide anyway.
        log.info("the client records or replays a cassette: scanning on one thread")
        return 1
    return concurrency


def _chosen_templates(
    setups: Sequence[tuple[Any, list[Any]]],
    template_ids: Sequence[str] | str | None,
    several: list[str] | None,
    organization_id: Any,
) -> list[list[dict[str, Any]]]:
    """Per organization, the templates to scan (all, or those of ``template_ids`` that are
    its own); an id that is no organization's template is a ``ValueError`` naming it."""
    by_org = [_templates_by_id(templates) for _, templates in setups]
    if template_ids is None:
        return [list(by_id.values()) for by_id in by_org]
    wanted = list(dict.fromkeys([template_ids] if isinstance(template_ids, str) else template_ids))
    known = {tid for by_id in by_org for tid in by_id}
    unknown = [t for t in wanted if t not in known]
    if unknown:
        raise _unknown_templates(unknown, known, setups[0][0], several, organization_id)
    return [[by_id[t] for t in wanted if t in by_id] for by_id in by_org]


def _unknown_templates(
    unknown: list[str], known: set[str], organization: Any, several: list[str] | None, given: Any
) -> ValueError:
    if several is None:
        org = organization.get("id") if isinstance(organization, dict) else None
        where = f"organization {org or given}"
    else:
        where = f"organizations {', '.join(several)}"
    return ValueError(
        f"template_ids: {', '.join(unknown)} "
        f"{'is not a template' if len(unknown) == 1 else 'are not templates'} of "
        f"{where}; {'it has' if several is None else 'they have'} "
        f"{', '.join(known) or 'none'}"
    )


def _open_checkpoint(
    checkpoint: str | os.PathLike[str] | None, jobs: Sequence[_Job]
) -> Checkpoint | None:
    """The checkpoint file of this scan (``None``: no checkpoint), identified by every planned
    call (organization, template, period) with the days it stands for. Not by the server's
    address: a sandbox serves the same data on a new port each run."""
    if checkpoint is None:
        return None
    from bt_explore.checkpoint import Checkpoint, scan_identity

    if not isinstance(checkpoint, (str, os.PathLike)):
        raise TypeError(f"checkpoint: must be a file path, got {checkpoint!r}")
    parts = [f"{_job_key(j)}|{j.lo}|{j.hi}" for j in jobs]
    first = min((j.lo for j in jobs), default=None)
    last = max((j.hi for j in jobs), default=None)
    description = f"{len(jobs)} slot calls from {first} to {last}"
    return Checkpoint(checkpoint, scan_identity(parts), description=description)


def scan_slots(
    client: Client,
    template_ids: Sequence[str] | None = None,
    start: date | datetime | timedelta | str | None = None,
    end: date | datetime | timedelta | str | None = None,
    *,
    concurrency: int = 8,
    progress: bool | None = None,
    errors: Literal["raise", "report"] = "raise",
    organization_id: str | Sequence[str] | None = None,
    checkpoint: str | os.PathLike[str] | None = None,
) -> pd.DataFrame:
    """Every free slot of ``template_ids`` (default: all) from ``start`` to ``end``, as one frame.

    ``start``/``end`` are dates (``end`` exclusive) in the organization's time zone, or
    timedeltas from today (``end=timedelta(weeks=4)``: the next four weeks); each
    template's range is cut to its bookable window (``bookingDayEarliest``/``bookingDayLatest``
    days from today) and never starts before today, so by default every template is scanned
    over its whole window. Per template the range is split into the fewest
    ``listMonth``/``listWeek``/``listDay`` calls that never fetch a day twice
    (:func:`plan_calls`); the calls run on ``concurrency`` threads sharing ``client``, its
    tokens and its pace (one thread when the client records or replays a cassette: vcrpy is
    not thread-safe). The client paces itself (:mod:`bt_explore.pacing`): after a 429, or when
    the server states its rate limit, every thread takes its turn from one rate, and the
    progress bar shows that pace. Calls that fail with 429, 502-504 or a transport error are
    retried by the client's one retry policy (:func:`bt_explore.retry.default_retry`, set with
    ``Client(retry=...)``); the scan itself does not retry, it reports what still failed.

    The result has the :data:`SCAN_COLUMNS` (the slot frame's columns plus ``template_name``),
    one row per distinct slot, sorted by ``template_id`` and ``start`` (slots at the same time in
    the API's order), times in the organization's time zone. ``frame.attrs["templates"]`` and
    ``frame.attrs["calls"]`` hold the number of templates scanned and of slot calls planned.
    If any call fails for good, ``errors="raise"`` (default) raises :class:`ScanError` listing
    each missing template and period; ``errors="report"`` returns the slots that arrived with
    the same list in ``frame.attrs["missing"]`` (empty when complete).

    ``organization_id`` is the organization to scan (default: the client's); a list of ids
    (e.g. the branches of ``client.branches()``) scans them all in one go: each organization's
    templates (``template_ids`` keeps, per organization, those that are its own), its range in
    its own time zone, all calls on the one pool with one access token per organization. That
    frame has the :data:`ORGANIZATION_SCAN_COLUMNS` (``organization_id`` first), is sorted by
    organization, template and start, its times are in the organizations' common time zone
    (UTC when they differ), ``attrs["organizations"]`` lists the organizations scanned and each
    entry of ``missing`` names its ``organization_id``. A 401/403 for any organization stops
    the scan with that error.

    ``checkpoint`` is a file (:mod:`bt_explore.checkpoint`) where each finished period is
    recorded as it completes: run the same scan again after a crash or Ctrl-C and it sends only
    the calls that are missing and returns the same frame as an uninterrupted scan
    (``attrs["resumed"]``: the periods read from the file).

    Example:
        >>> from datetime import timedelta
        >>> client = bt_explore.connect(mode="sandbox")                  # doctest: +SKIP
        >>> slots = scan_slots(client, end=timedelta(weeks=4))            # doctest: +SKIP
        >>> slots.groupby("template_name").size()                         # doctest: +SKIP
        >>> branches = [b["id"] for b in client.branches()]               # doctest: +SKIP
        >>> chain = scan_slots(client, organization_id=branches)          # doctest: +SKIP
        >>> chain.groupby("organization_id").size()                       # doctest: +SKIP
        >>> again = scan_slots(client, checkpoint="scan.sqlite")          # doctest: +SKIP
    """
    _check_arguments(concurrency, errors)
    several = _organization_ids(organization_id)
    concurrency = _threads(client, concurrency)
    org_ids: list[str | None] = list(several) if several is not None else [organization_id]  # type: ignore[list-item]
    setups = _setup(client, org_ids, parallel=concurrency)
    chosen = _chosen_templates(setups, template_ids, several, organization_id)
    plans = [
        _plan_organization(client, org_id, organization, templates, start, end)
        for org_id, (organization, _), templates in zip(org_ids, setups, chosen, strict=True)
    ]
    jobs = [job for plan in plans for job in plan.jobs]
    n_templates = sum(len(plan.chosen) for plan in plans)
    log.info(
        "scanning %d template(s) of %d organization(s) with %d slot call(s) on %d thread(s)",
        n_templates,
        len(plans),
        len(jobs),
        min(concurrency, max(len(jobs), 1)),
    )
    book = _open_checkpoint(checkpoint, jobs)
    try:
        resumed = _restore(jobs, book)
        failures = _execute(client, jobs, concurrency, progress, book)
    finally:
        if book is not None:
            book.close()
    if several is None:
        for failure in failures:  # one organization: the gaps read as they always did
            failure.organization_id = None
    frame = _assemble(jobs, plans[0].tz_name) if several is None else _combine(plans)
    frame.attrs.update(templates=n_templates, calls=len(jobs))
    if several is not None:
        frame.attrs["organizations"] = list(several)
    if book is not None:
        frame.attrs["resumed"] = resumed
    return _finish(frame, failures, len(jobs), errors)


def _finish(frame: pd.DataFrame, failures: list[_Failure], calls: int, errors: str) -> pd.DataFrame:
    frame.attrs["missing"] = [f.as_dict() for f in failures]
    if failures and errors == "raise":
        raise ScanError(failures, calls, frame)
    if failures:
        log.warning("scan incomplete: %d of %d slot calls failed", len(failures), calls)
    return frame


class _NoBar:
    def update(self, n: int = 1) -> None:
        pass

    def set_postfix_str(self, s: str = "", refresh: bool = True) -> None:
        pass

    def close(self) -> None:
        pass


def _progress_bar(total: int, progress: bool | None) -> Any:
    """A ``tqdm.auto`` bar of the slot calls: when asked (``True``), or by default (``None``)
    when tqdm (the ``notebook`` extra) is installed."""
    if progress is False:
        return _NoBar()
    try:
        from tqdm.auto import tqdm
    except ImportError as exc:
        if progress is None:
            return _NoBar()
        raise missing_extra("tqdm", "scan_slots(progress=True)") from exc
    return tqdm(total=total, desc="slot calls", unit="call")


def pace_note(client: Any) -> str:
    """What the progress bar says about the client's pace: ``""`` while nothing throttles it,
    else the current rate and the throttled answers so far.

    Example:
        >>> from bt_explore.pacing import RateController
        >>> class C: pace = RateController(max_rate=4)
        >>> pace_note(C())
        'paced at 4.0 req/s'
    """
    pace = getattr(client, "pace", None)
    rate = None if pace is None else pace.rate
    if pace is None or rate is None:
        return ""
    throttled = f", {pace.throttles} throttled" if pace.throttles else ""
    return f"paced at {rate:.1f} req/s{throttled}"


def _job_key(job: _Job) -> str:
    return "|".join(
        (job.organization_id or "", str(job.template["id"]), job.call.kind, str(job.call.start))
    )


def _restore(jobs: Sequence[_Job], book: Checkpoint | None) -> int:
    """Fill the jobs a checkpoint already holds from their stored answers; how many."""
    if book is None:
        return 0
    from bt_explore.frames import slot_piece

    stored = book.done()
    restored = 0
    for job in jobs:
        answer = stored.get(_job_key(job))
        if answer is not None:
            job.result = _shape(job, slot_piece(answer), job.tz)
            restored += 1
    if restored:
        log.info("checkpoint %s: %d of %d slot calls already done", book.path, restored, len(jobs))
    return restored


def _settle(
    client: Client, job: _Job, future: Future[Any], book: Checkpoint | None
) -> _Failure | None:
    """Decode one finished call into ``job.result`` (and the checkpoint); its failure, if any.
    An error that dooms every other call too (401/403) is raised at once."""
    exc = future.exception()
    if exc is None:
        try:
            answer = future.result()
            job.result = _decode(client, job, answer, job.organization_id, job.tz)
            if book is not None:
                book.put(_job_key(job), answer.content)
            return None
        except Exception as error:  # an answer that is not a slot list
            exc = error
    if isinstance(exc, _FATAL) or not isinstance(exc, Exception):
        raise exc
    log.warning("slot call failed: template %s %s: %s", job.template["id"], job.call.label, exc)
    name = str(job.template.get("name") or "")
    gap = (max(job.call.start, job.lo), min(job.call.end, job.hi))
    return _Failure(str(job.template["id"]), name, job.call, exc, *gap, job.organization_id)


def _execute(
    client: Client,
    jobs: list[_Job],
    concurrency: int,
    progress: bool | None,
    book: Checkpoint | None = None,
) -> list[_Failure]:
    """Run the ``jobs`` without a result on a bounded pool; fill ``job.result``; return the
    calls that failed. The bar counts every planned call (restored ones as done)."""
    failures: list[_Failure] = []
    todo = [j for j in jobs if j.result is None]
    if not jobs:
        return failures
    bar = _progress_bar(len(jobs), progress)
    bar.update(len(jobs) - len(todo))
    pool = ThreadPoolExecutor(
        max_workers=max(1, min(concurrency, len(todo))), thread_name_prefix="scan"
    )
    try:
        pending = {pool.submit(_fetch, client, j, j.organization_id): j for j in todo}
        while pending:
            done, _ = wait(pending, return_when=FIRST_COMPLETED)
            for future in done:
                failure = _settle(client, pending.pop(future), future, book)
                if failure is not None:
                    failures.append(failure)
            note = pace_note(client)
            if note:
                bar.set_postfix_str(note, refresh=False)
            bar.update(len(done))
    finally:
        pool.shutdown(wait=True, cancel_futures=True)
        bar.close()
    failures.sort(key=lambda f: (f.organization_id or "", f.template_id, f.call))
    return failures
