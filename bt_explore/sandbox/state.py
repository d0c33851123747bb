"""Everything one sandbox instance remembers: clock, demo data, appointments, faults, request log.

:class:`SandboxState` is what :func:`~bt_explore.sandbox.app.create_app` serves; the
:class:`~bt_explore.sandbox.Sandbox` server owns one. Demo data comes from the JSON files in
``bt_explore/sandbox/data/``; keys starting with ``_`` there are sandbox-internal (which
organization a record belongs to, working days, step resources) and never sent to clients.

Example:
    >>> state = SandboxState(now="2026-12-01T09:00:00+01:00")
    >>> state.now().isoformat()
    '2026-12-01T08:00:00+00:00'
    >>> state.data.demo_organization_id
    'f6123456789101112131415aBCdeFgHi'
"""

from __future__ import annotations

import copy
import logging
import random
import re
import string
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone
from importlib import resources as importlib_resources
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import msgspec

from bt_explore import times
from bt_explore.endpoints import API_PREFIX, STATIC_LISTS, TOKEN_PATH, is_id
from bt_explore.models import (
    KINDS,
    AppointmentAdd,
    BookingStep,
    BookingTemplate,
    ModuleConfig,
    wire_names,
)
from bt_explore.sandbox.auth import TokenService
from bt_explore.sandbox.authorize import SignIns
from bt_explore.sandbox.categories import BookingCategories
from bt_explore.sandbox.custom_entities import CustomEntityStore
from bt_explore.sandbox.engine import (
    WEEKDAYS,
    Busy,
    OrganizationRules,
    SlotCodec,
    TemplateRules,
    free_slots,
)
from bt_explore.sandbox.files import FileStore
from bt_explore.sandbox.observed import attach_observed
from bt_explore.sandbox.ratelimit import TokenBuckets

__all__ = [
    "DEFAULT_MAX_BODY_SIZE",
    "DEFAULT_REQUEST_LOG_SIZE",
    "AppointmentBook",
    "BookingConflict",
    "Clock",
    "DemoData",
    "FaultSettings",
    "RequestLog",
    "RequestRecord",
    "SandboxState",
    "parse_instant",
]

log = logging.getLogger("bt_explore.sandbox")

#: How many request records a sandbox keeps by default (the newest ones).
DEFAULT_REQUEST_LOG_SIZE = 10_000
#: The largest request body a sandbox accepts by default, in bytes (larger ones get 413).
DEFAULT_MAX_BODY_SIZE = 1024 * 1024

_ALPHANUMERIC = string.digits + string.ascii_letters
_ADD = wire_names(AppointmentAdd)
_SLOT_ID = _ADD.booking_slot_id
_CONFIG = wire_names(ModuleConfig)
_TEMPLATE = wire_names(BookingTemplate)
_STEP = wire_names(BookingStep)
_APPOINTMENT_ID = "appointmentId"  # wire: the {appointmentId} path parameter a conflict names


def parse_instant(
    value: str | datetime, default_tz: ZoneInfo | timezone = timezone.utc
) -> datetime:
    """An aware datetime from an ISO 8601 string or datetime; naive values get ``default_tz``.

    Example:
        >>> parse_instant("2026-12-01T09:00:00Z").isoformat()
        '2026-12-01T09:00:00+00:00'
    """
    if isinstance(value, str):
        try:
            value = times.parse_timestamp(value.strip())
        except ValueError:
            raise ValueError(
                f"now: {value!r} is not an ISO 8601 timestamp such as 2026-12-01T09:00:00+01:00"
            ) from None
    if not isinstance(value, datetime):
        raise TypeError(f"now: expected an ISO string or datetime, got {type(value).__name__}")
    if value.tzinfo is None:
        value = value.replace(tzinfo=default_tz)
    return value


class Clock:
    """The sandbox clock: pinned to an instant (``now``) or following the wall clock.

    ``advance(seconds)`` moves it in both modes (for the wall clock, as a growing offset).

    Example:
        >>> c = Clock("2026-12-01T09:00:00+01:00")
        >>> c.advance(90)
        >>> c.now().isoformat()
        '2026-12-01T08:01:30+00:00'
    """

    def __init__(self, now: str | datetime | None = None, default_tz: ZoneInfo | None = None):
        self._lock = threading.Lock()
        self._offset = timedelta(0)
        self._pinned: datetime | None = None
        if now is not None:
            self._pinned = parse_instant(now, default_tz or timezone.utc).astimezone(timezone.utc)

    @property
    def pinned(self) -> bool:
        """Whether the clock is pinned (does not follow the wall clock)."""
        return self._pinned is not None

    def now(self) -> datetime:
        """The current sandbox time, an aware UTC datetime."""
        with self._lock:
            base = self._pinned if self._pinned is not None else datetime.now(timezone.utc)
            return base + self._offset

    def advance(self, seconds: float) -> None:
        """Move the clock forward by ``seconds`` (negative values move it back)."""
        with self._lock:
            self._offset += timedelta(seconds=seconds)

    def __repr__(self) -> str:
        mode = "pinned" if self.pinned else "wall clock"
        return f"Clock({self.now().isoformat()}, {mode})"


def _public(value: Any) -> Any:
    """A deep copy of ``value`` without the sandbox-internal ``_keys``."""
    if isinstance(value, dict):
        return {k: _public(v) for k, v in value.items() if not k.startswith("_")}
    if isinstance(value, list):
        return [_public(v) for v in value]
    return value


def _load_json(data_dir: Path | None, name: str) -> Any:
    """A data file from ``data_dir`` if it has one, else the package's demo file."""
    if data_dir is not None and (Path(data_dir) / name).is_file():
        path = Path(data_dir) / name
        try:
            return msgspec.json.decode(path.read_bytes())
        except ValueError as exc:
            raise ValueError(f"sandbox data: {path} is not valid JSON ({exc})") from None
    resource = importlib_resources.files("bt_explore.sandbox").joinpath("data", name)
    return msgspec.json.decode(resource.read_bytes())


def _seed_files(data_dir: Path | None) -> list[dict]:
    """The files of ``files.json``; none when ``data_dir`` has its own appointments but no
    files (the demo files belong to the demo appointments)."""
    if (
        data_dir is not None
        and (data_dir / "appointments.json").is_file()
        and not (data_dir / "files.json").is_file()
    ):
        return []
    return _load_json(data_dir, "files.json")


class DemoData:
    """The demo organizations, templates, resources, clients and static lists, read-only.

    Entities are stored as the API shows them (``public`` dicts); the engine rules derived from
    them live next to them.

    Example:
        >>> data = DemoData.load()
        >>> len(data.templates_of(data.demo_organization_id)) >= 4
        True
    """

    def __init__(
        self,
        organizations: list[dict],
        templates: list[dict],
        resources: list[dict],
        clients: list[dict],
        appointments: list[dict],
        static_lists: dict[str, list[dict]],
        module_configs: list[dict] | None = None,
    ) -> None:
        self._load_organizations(organizations)
        self._load_module_configs(module_configs or [])
        self._load_resources(resources)
        self._load_templates(templates)
        self.clients: dict[str, dict] = {c["id"]: c for c in clients}
        self.seed_appointments = appointments
        self.static_lists = static_lists
        demo_client = clients[0]
        self.demo_client_id: str = demo_client["id"]
        self.demo_client_secret: str = demo_client.get("secret", "")
        self.demo_organization_id: str = demo_client["organizationIds"][0]
        self.other_organization_id: str | None = next(
            (o for o in self.organizations if o not in demo_client["organizationIds"]), None
        )
        self.slot_codec = SlotCodec([t["id"] for t in templates], [r["id"] for r in resources])

    def _load_organizations(self, organizations: list[dict]) -> None:
        self.organizations: dict[str, dict] = {}
        self.org_rules: dict[str, OrganizationRules] = {}
        #: branch id -> the id of the organization it is a branch of (``_parentOrganizationId``)
        self.parent_of: dict[str, str] = {}
        for org in organizations:
            self._check_id(org["id"], KINDS.organization)
            self.organizations[org["id"]] = _public(org)
            self.org_rules[org["id"]] = OrganizationRules.from_entity(org)
            if org.get("_parentOrganizationId"):
                self.parent_of[org["id"]] = org["_parentOrganizationId"]
        for branch, parent in self.parent_of.items():
            if parent not in self.organizations:
                raise ValueError(f"demo data: {branch} names an unknown _parentOrganizationId")

    def _load_module_configs(self, module_configs: list[dict]) -> None:
        #: MODULE_CONFIGs by id
        self.module_configs: dict[str, dict] = {}
        for config in module_configs:
            self._check_id(config["id"], KINDS.module_config)
            if config.get(_CONFIG.organization_id) not in self.organizations:
                raise ValueError(
                    f"demo data: {config['id']} names an unknown {_CONFIG.organization_id}"
                )
            self.module_configs[config["id"]] = _public(config)

    def _load_resources(self, resources: list[dict]) -> None:
        self.resources: dict[str, dict] = {}
        self.resource_org: dict[str, str] = {}
        self.working_days: dict[str, frozenset[int]] = {}
        for res in resources:
            self._check_id(res["id"], KINDS.booking_resource)
            self._check_org(res)
            self.resources[res["id"]] = _public(res)
            self.resource_org[res["id"]] = res["_organizationId"]
            if "_workingDays" in res:
                self.working_days[res["id"]] = frozenset(
                    WEEKDAYS.index(d) for d in res["_workingDays"]
                )

    def _load_templates(self, templates: list[dict]) -> None:
        """Templates as the API shows them: each step's ``_bookingResourceIdList`` becomes its
        list of resources; the engine's rules beside them."""
        self.templates: dict[str, dict] = {}
        self.template_rules: dict[str, TemplateRules] = {}
        for tpl in templates:
            self._check_id(tpl["id"], KINDS.booking_template)
            self._check_org(tpl)
            steps = [
                list(step.get("_bookingResourceIdList") or [])
                for step in tpl[_TEMPLATE.booking_step_list]
            ]
            for rid in (rid for step in steps for rid in step):
                if self.resource_org.get(rid) != tpl["_organizationId"]:
                    raise ValueError(f"template {tpl['id']}: step resource {rid} is unknown")
            public = _public(tpl)
            for public_step, ids in zip(public[_TEMPLATE.booking_step_list], steps, strict=True):
                public_step[_STEP.booking_resource_list] = [self.resources[r] for r in ids]
            self.templates[tpl["id"]] = public
            self.template_rules[tpl["id"]] = TemplateRules.from_entity(
                tpl, tpl["_organizationId"], steps
            )

    def _check_id(self, value: str, kind: str) -> None:
        if not is_id(value, kind):
            raise ValueError(f"demo data: {value!r} is not a valid {kind} id")

    def _check_org(self, record: Mapping) -> None:
        if record.get("_organizationId") not in self.organizations:
            raise ValueError(f"demo data: {record['id']} names an unknown _organizationId")

    @classmethod
    def load(cls, data_dir: str | Path | None = None) -> DemoData:
        """Read the data files: those in ``data_dir`` where it has them, the package's
        ``sandbox/data`` files for the rest."""
        path = Path(data_dir) if data_dir is not None else None
        if path is not None and not path.is_dir():
            raise ValueError(f"data_dir: {path} is not a folder")
        static = {kind: _load_json(path, f"static_{kind}.json") for kind in STATIC_LISTS}
        organizations = _load_json(path, "organizations.json")
        configs = _load_json(path, "module_configs.json")
        if path is not None and not (path / "module_configs.json").is_file():
            # the demo configs serve only the organizations these data files have
            known = {o.get("id") for o in organizations}
            configs = [c for c in configs if c.get(_CONFIG.organization_id) in known]
        return cls(
            organizations=organizations,
            templates=_load_json(path, "templates.json"),
            resources=_load_json(path, "resources.json"),
            clients=_load_json(path, "clients.json"),
            appointments=_load_json(path, "appointments.json"),
            static_lists=static,
            module_configs=configs,
        )

    def templates_of(self, organization_id: str) -> list[dict]:
        """The organization's BOOKING_TEMPLATEs in data-file order."""
        return [
            t
            for tid, t in self.templates.items()
            if self.template_rules[tid].organization_id == organization_id
        ]

    def resources_of(self, organization_id: str) -> list[dict]:
        """The organization's BOOKING_RESOURCEs in data-file order."""
        return [r for rid, r in self.resources.items() if self.resource_org[rid] == organization_id]

    def branches_of(self, organization_id: str) -> list[dict]:
        """The organization's branches (ORGANIZATIONs) in data-file order.

        Example:
            >>> data = DemoData.load()
            >>> [b["customId"] for b in data.branches_of(data.demo_organization_id)]
            ['mitte', 'potsdam']
        """
        return [self.organizations[b] for b, p in self.parent_of.items() if p == organization_id]

    def module_configs_of(self, organization_id: str) -> list[dict]:
        """The MODULE_CONFIGs of the organization in data-file order."""
        return [
            c for c in self.module_configs.values() if c[_CONFIG.organization_id] == organization_id
        ]


class BookingConflict(Exception):
    """A booking could not be made; ``parameter`` and ``key`` name the failure message."""

    def __init__(self, parameter: str | None, key: str, **fields: Any) -> None:
        super().__init__(key)
        self.parameter = parameter
        self.key = key
        self.fields = fields


@dataclass
class Appointment:
    """One booked appointment as the sandbox stores it (times in epoch seconds)."""

    id: str
    organization_id: str
    template_id: str
    start: int
    resource_ids: tuple[str, ...]
    customer: dict
    custom_id: str = ""
    address: dict | None = None
    notes: str = ""
    additional_data: dict | None = None
    canceled: bool = False
    moved: bool = False
    send_email: dict = field(default_factory=dict)
    created: str = ""


class AppointmentBook:
    """The appointments of one sandbox and the busy intervals they cause, behind one lock.

    Reads of :attr:`busy` take no lock: writers publish a fresh mapping after every change, so a
    reader sees either the state before or after a booking, never half of one.

    Example:
        >>> state = SandboxState(now="2026-12-01T09:00:00+01:00")
        >>> len(state.book.all(state.data.demo_organization_id)) >= 3
        True
    """

    def __init__(self, data: DemoData, clock: Clock, seed: int = 0) -> None:
        self._data = data
        self._clock = clock
        self._lock = threading.RLock()
        self._rng = random.Random(seed)
        self._appointments: dict[str, Appointment] = {}
        self._by_custom_id: dict[tuple[str, str], str] = {}
        self._blocks: dict[str, list[tuple[int, int, str]]] = {}
        self._busy: Busy = {}
        self._load_seed_appointments()

    @property
    def busy(self) -> Busy:
        """The current busy intervals: resource id -> (sorted block starts, block ends)."""
        return self._busy

    def _load_seed_appointments(self) -> None:
        # Seed appointments are placed relative to the sandbox's today so they stay upcoming.
        for raw in self._data.seed_appointments:
            tpl = self._data.template_rules[raw["templateId"]]
            tz = self._data.org_rules[tpl.organization_id].tz
            today = self._clock.now().astimezone(tz).date()
            day = today + timedelta(days=int(raw["dayOffset"]))
            hours, minutes = (int(x) for x in raw["time"].split(":"))
            start = int(
                datetime(day.year, day.month, day.day, hours, minutes, tzinfo=tz).timestamp()
            )
            appt = Appointment(
                id=raw["id"],
                organization_id=tpl.organization_id,
                template_id=tpl.id,
                start=start,
                resource_ids=tuple(raw["resourceIds"]),
                customer=dict(raw["customer"]),
                custom_id=raw.get(_ADD.custom_id, ""),  # the seed file's keys are the API's
                canceled=bool(raw.get("canceled", False)),
                created=self._clock.now().isoformat(),
            )
            self._store(appt)

    def _store(self, appt: Appointment) -> None:
        self._appointments[appt.id] = appt
        if appt.custom_id:
            self._by_custom_id[(appt.organization_id, appt.custom_id)] = appt.id
        if not appt.canceled:
            self._occupy(appt)

    def _occupy(self, appt: Appointment, also: Iterable[str] = ()) -> None:
        start, end = self._data.template_rules[appt.template_id].block(appt.start)
        for rid in appt.resource_ids:
            blocks = self._blocks.setdefault(rid, [])
            if any(s < end and start < e for s, e, _ in blocks):
                raise ValueError(f"appointment {appt.id} overlaps another one on {rid}")
            blocks.append((start, end, appt.id))
            blocks.sort()
        self._publish((*appt.resource_ids, *also))

    def _release(self, appt: Appointment, *, publish: bool = True) -> None:
        for rid in appt.resource_ids:
            self._blocks[rid] = [b for b in self._blocks.get(rid, []) if b[2] != appt.id]
        if publish:
            self._publish(appt.resource_ids)

    def _publish(self, resource_ids: Iterable[str]) -> None:
        busy = dict(self.busy)
        for rid in resource_ids:
            blocks = self._blocks.get(rid, [])
            busy[rid] = (tuple(b[0] for b in blocks), tuple(b[1] for b in blocks))
        self._busy = busy

    def _new_id(self) -> str:
        while True:
            new = "ed" + "".join(self._rng.choice(_ALPHANUMERIC) for _ in range(30))
            if new not in self._appointments:
                return new

    def get(self, organization_id: str, appointment_id: str) -> Appointment | None:
        """The appointment with this id in this organization, or ``None``."""
        appt = self._appointments.get(appointment_id)
        return appt if appt and appt.organization_id == organization_id else None

    def by_custom_id(self, organization_id: str, custom_id: str) -> Appointment | None:
        """The appointment with this customId in this organization, or ``None``."""
        found = self._by_custom_id.get((organization_id, custom_id))
        return self._appointments.get(found) if found else None

    def all(self, organization_id: str | None = None) -> list[Appointment]:
        """Every appointment (of one organization), canceled ones included, oldest first."""
        with self._lock:
            return [
                a
                for a in self._appointments.values()
                if organization_id is None or a.organization_id == organization_id
            ]

    def _check_slot(
        self, organization_id: str, slot_id: str, ignore: Appointment | None = None
    ) -> tuple[TemplateRules, int, tuple[str, ...]]:
        decoded = self._data.slot_codec.decode(slot_id)
        if decoded is None:
            raise BookingConflict(_SLOT_ID, "slot_unknown", value=slot_id)
        template_id, start, combo = decoded
        rules = self._data.template_rules[template_id]
        if rules.organization_id != organization_id or combo not in rules.combinations:
            raise BookingConflict(_SLOT_ID, "slot_unknown", value=slot_id)
        busy = self.busy
        if ignore is not None and not ignore.canceled:
            busy = dict(busy)
            for rid in ignore.resource_ids:
                blocks = [b for b in self._blocks.get(rid, []) if b[2] != ignore.id]
                busy[rid] = (tuple(b[0] for b in blocks), tuple(b[1] for b in blocks))
        org = self._data.org_rules[organization_id]
        now = int(self._clock.now().timestamp())
        # The slot is bookable iff the engine would list it right now.
        free = free_slots(org, rules, self._data.working_days, busy, start, start + 1, now)
        if (start, combo) not in free:
            raise BookingConflict(_SLOT_ID, "slot_unavailable")
        return rules, start, combo

    def add(self, organization_id: str, slot_id: str, fields: dict) -> Appointment:
        """Book ``slot_id`` atomically; raises :class:`BookingConflict` if it cannot be booked.

        ``fields`` holds the validated body: ``customer``, ``customId``, ``address``, ``notes``,
        ``additionalData`` and the ``send*Email`` flags.
        """
        with self._lock:
            custom_id = fields.get(_ADD.custom_id) or ""
            if custom_id and (organization_id, custom_id) in self._by_custom_id:
                raise BookingConflict(_ADD.custom_id, "custom_id_taken", value=custom_id)
            rules, start, combo = self._check_slot(organization_id, slot_id)
            appt = Appointment(
                id=self._new_id(),
                organization_id=organization_id,
                template_id=rules.id,
                start=start,
                resource_ids=combo,
                customer=copy.deepcopy(fields["customer"]),
                custom_id=custom_id,
                address=copy.deepcopy(fields.get("address")),
                notes=fields.get("notes") or "",
                additional_data=copy.deepcopy(fields.get(_ADD.additional_data)),
                send_email={
                    k: v for k, v in fields.items() if k.startswith("send") and k.endswith("Email")
                },
                created=self._clock.now().isoformat(),
            )
            self._store(appt)
            log.debug("booked %s at %s", appt.id, start)
            return appt

    def move(self, organization_id: str, appointment_id: str, slot_id: str) -> Appointment:
        """Move an appointment to ``slot_id`` (same template) atomically."""
        with self._lock:
            appt = self.get(organization_id, appointment_id)
            if appt is None:
                raise KeyError(appointment_id)
            if appt.canceled:
                raise BookingConflict(_APPOINTMENT_ID, "appointment_canceled")
            decoded = self._data.slot_codec.decode(slot_id)
            if decoded is not None and decoded[0] != appt.template_id:
                if self._data.template_rules[decoded[0]].organization_id == organization_id:
                    raise BookingConflict(_SLOT_ID, "slot_other_template")
            _, start, combo = self._check_slot(organization_id, slot_id, ignore=appt)
            # One publication for release and occupy: readers never see the move half done.
            old_resources = appt.resource_ids
            self._release(appt, publish=False)
            appt.start, appt.resource_ids, appt.moved = start, combo, True
            self._occupy(appt, also=old_resources)
            return appt

    def cancel(self, organization_id: str, appointment_id: str) -> tuple[Appointment, bool]:
        """Cancel an appointment, freeing its slot; returns it and whether it was already canceled."""
        with self._lock:
            appt = self.get(organization_id, appointment_id)
            if appt is None:
                raise KeyError(appointment_id)
            if appt.canceled:
                return appt, True
            self._release(appt)
            appt.canceled = True
            return appt, False


@dataclass(frozen=True)
class RequestRecord:
    """One request the sandbox answered (or dropped): what a client sent, and the outcome.

    ``status`` is the status the sandbox answered with, ``None`` when the connection was dropped
    before processing (fault ``"drop"``); ``dropped`` is true when no answer reached the client
    (``"drop"`` and ``"drop_after"``: then ``status`` is what the handler had decided). ``time``
    is the sandbox clock at arrival; ``grant_type`` is set for ``/oauth/token`` calls;
    ``organization_id`` is the organization in the URL (API) or form (token endpoint).

    Example:
        >>> from datetime import datetime, timezone
        >>> r = RequestRecord("POST", "/oauth/token", "", 200, datetime.now(timezone.utc),
        ...                   grant_type="client_credentials")
        >>> r.is_token_request, r.is_api_request
        (True, False)
    """

    method: str
    path: str
    query: str
    status: int | None
    time: datetime
    grant_type: str | None = None
    organization_id: str | None = None
    dropped: bool = False
    #: answered 429 by the sandbox's rate limit (``Sandbox(rate_limit=...)``), not by the API
    throttled: bool = False

    @property
    def is_token_request(self) -> bool:
        """Whether this was a call of the token endpoint."""
        return self.path == TOKEN_PATH

    @property
    def is_api_request(self) -> bool:
        """Whether this was a Module API call (``/module/v3/...``)."""
        return self.path.startswith(API_PREFIX)


class RequestLog:
    """A thread-safe list of the newest ``maxlen`` :class:`RequestRecord` (older ones drop out).

    ``maxlen=None`` keeps every record; a long-running sandbox should not do that.
    ``on_add``, when set, is called with every record as it is added (``bt-explore sandbox
    --request-log`` writes them to a file that way, for a process that is not the sandbox's).

    Example:
        >>> from datetime import datetime, timezone
        >>> log_ = RequestLog(maxlen=2)
        >>> for path in ("/a", "/b", "/c"):
        ...     log_.add(RequestRecord("GET", path, "", 404, datetime.now(timezone.utc)))
        >>> [r.path for r in log_.records()]
        ['/b', '/c']
    """

    def __init__(self, maxlen: int | None = DEFAULT_REQUEST_LOG_SIZE) -> None:
        if maxlen is not None and maxlen < 0:
            raise ValueError(f"request_log_size must be >= 0 or None, got {maxlen!r}")
        self._lock = threading.Lock()
        self._records: deque[RequestRecord] = deque(maxlen=maxlen)
        self.on_add: Callable[[RequestRecord], None] | None = None

    @property
    def maxlen(self) -> int | None:
        """How many records are kept (``None``: all)."""
        return self._records.maxlen

    def add(self, record: RequestRecord) -> None:
        """Append one record, forgetting the oldest one when the log is full."""
        with self._lock:
            self._records.append(record)
            if self.on_add is not None:
                self.on_add(record)

    def records(self) -> list[RequestRecord]:
        """A snapshot copy of the kept records, oldest first."""
        with self._lock:
            return list(self._records)

    def clear(self) -> None:
        """Forget every record."""
        with self._lock:
            self._records.clear()


_SCRIPT_WORDS = ("drop", "drop_after")


def _is_script_entry(entry: object) -> bool:
    """Whether ``entry`` may stand in a fault script: an HTTP error status (400-599, not a
    bool), one of ``_SCRIPT_WORDS`` or ``None`` (no fault)."""
    if entry is None or entry in _SCRIPT_WORDS:
        return True
    return isinstance(entry, int) and not isinstance(entry, bool) and 400 <= entry <= 599


@dataclass
class FaultSettings:
    """Injected faults: latency, a share of error answers and dropped connections, a script.

    See :meth:`bt_explore.sandbox.Sandbox.set_faults` for the meaning of each field.
    """

    latency_ms: float = 0.0
    slow_ms: float = 0.0
    rate: float = 0.0
    statuses: tuple[int, ...] = (500, 503, 429)
    drop_rate: float = 0.0
    script: list[int | str | None] = field(default_factory=list)
    retry_after: int = 1
    paths: re.Pattern[str] = field(default_factory=lambda: re.compile(r"^/module/"))
    rng: random.Random = field(default_factory=random.Random)

    @staticmethod
    def validate(
        rate: float, statuses: Iterable[int], drop_rate: float, script: Iterable | None
    ) -> tuple[tuple[int, ...], list]:
        """Checked ``statuses`` and ``script``; raises ``ValueError`` naming the bad field."""
        if not 0.0 <= rate <= 1.0:
            raise ValueError(f"rate must be between 0 and 1, got {rate!r}")
        if not 0.0 <= drop_rate <= 1.0 or rate + drop_rate > 1.0:
            raise ValueError(f"drop_rate must be between 0 and 1 - rate, got {drop_rate!r}")
        codes = tuple(int(s) for s in statuses)
        if rate and not codes:
            raise ValueError("statuses must name at least one status when rate > 0")
        for code in codes:
            if not 400 <= code <= 599:
                raise ValueError(f"statuses: {code} is not an HTTP error status (400-599)")
        entries = list(script or [])
        for entry in entries:
            if not _is_script_entry(entry):
                raise ValueError(
                    f"script: {entry!r} is not an error status (400-599), 'drop', 'drop_after' or None"
                )
        return codes, entries

    def decide(self, path: str) -> int | str | None:
        """The fault for a request to ``path``: a status, ``"drop"``, ``"drop_after"`` or None."""
        if not self.paths.search(path):
            return None
        if self.script:
            return self.script.pop(0)
        if self.rate or self.drop_rate:
            draw = self.rng.random()
            if draw < self.rate:
                return self.rng.choice(self.statuses)
            if draw < self.rate + self.drop_rate:
                return "drop"
        return None


class SandboxState:
    """The whole state of one sandbox: clock, data, tokens, appointments, faults, request log.

    ``max_body_size`` is the largest request body in bytes the sandbox accepts (larger ones are
    answered 413; ``None``: no limit); ``request_log_size`` how many of the newest requests the
    log keeps (``None``: all).

    Example:
        >>> state = SandboxState(now="2026-12-01T09:00:00+01:00", seed=1)
        >>> state.tokens.access_lifetime
        300
    """

    def __init__(
        self,
        now: str | datetime | None = None,
        *,
        latency_ms: float = 0,
        faults: Mapping[str, Any] | None = None,
        access_token_lifetime: int = 300,
        refresh_token_lifetime: int = 1800,
        seed: int = 0,
        data_dir: str | Path | None = None,
        max_body_size: int | None = DEFAULT_MAX_BODY_SIZE,
        request_log_size: int | None = DEFAULT_REQUEST_LOG_SIZE,
    ) -> None:
        if max_body_size is not None and max_body_size < 0:
            raise ValueError(f"max_body_size must be >= 0 or None, got {max_body_size!r}")
        self.data = DemoData.load(data_dir)
        attach_observed(self.data, data_dir)  # an offline twin's observed slots
        demo_tz = self.data.org_rules[self.data.demo_organization_id].tz
        self.clock = Clock(now, default_tz=demo_tz)
        self.tokens = TokenService(
            self.clock.now,
            access_lifetime=access_token_lifetime,
            refresh_lifetime=refresh_token_lifetime,
        )
        self.book = AppointmentBook(self.data, self.clock, seed=seed)
        #: the files attached to appointments (``file/add``), in memory
        self.files = FileStore(
            _seed_files(Path(data_dir) if data_dir is not None else None),
            {a.id: a.organization_id for a in self.book.all()}.get,
            self.clock.now,
            rng_seed=seed,
        )
        #: custom entities (``custom_entities.json``) and their links
        self.custom_entities = CustomEntityStore.load(
            self.data, self.clock.now, data_dir, seed=seed
        )
        #: demo users and pending authorization codes (``/oauth/authorize``)
        self.signins = SignIns(self.clock.now, data_dir)
        #: the booking categories (``booking_categories.json``, ``bookingCategory/tree``)
        self.categories = BookingCategories.load(self.data, data_dir, _load_json)
        self.log = RequestLog(request_log_size)
        #: The largest request body in bytes (``None``: no limit); larger bodies get 413.
        self.max_body_size = max_body_size
        self.seed = seed
        self._faults_lock = threading.Lock()
        self.faults = FaultSettings(rng=random.Random(seed))
        known = {
            "latency_ms",
            "slow_ms",
            "rate",
            "statuses",
            "drop_rate",
            "script",
            "retry_after",
            "paths",
            "seed",
        }
        unknown = sorted(set(faults or {}) - known)
        if unknown:
            raise ValueError(
                f"faults: unknown setting(s) {', '.join(unknown)}; known: {', '.join(sorted(known))}"
            )
        # A latency_ms inside faults wins over the latency_ms argument.
        self.set_faults(**{"latency_ms": latency_ms, **dict(faults or {})})
        self.started_monotonic = time.monotonic()
        #: the gateway's rate limit (``Sandbox(rate_limit=...)``), ``None``: unlimited
        self.rate_limiter: TokenBuckets | None = None

    def now(self) -> datetime:
        """The sandbox clock (aware UTC datetime)."""
        return self.clock.now()

    def today(self, organization_id: str) -> date:
        """Today's date in the organization's time zone."""
        return self.now().astimezone(self.data.org_rules[organization_id].tz).date()

    def set_faults(
        self,
        latency_ms: float | None = None,
        rate: float = 0.0,
        statuses: Iterable[int] = (500, 503, 429),
        drop_rate: float = 0.0,
        script: Iterable[int | str | None] | None = None,
        retry_after: int = 1,
        paths: str | None = None,
        seed: int | None = None,
        slow_ms: float = 0.0,
    ) -> None:
        """Replace the fault settings (``latency_ms=None`` keeps the current latency)."""
        codes, entries = FaultSettings.validate(rate, statuses, drop_rate, script)
        if latency_ms is not None and latency_ms < 0:
            raise ValueError(f"latency_ms must be >= 0, got {latency_ms!r}")
        if slow_ms < 0:
            raise ValueError(f"slow_ms must be >= 0, got {slow_ms!r}")
        if int(retry_after) < 0:
            raise ValueError(f"retry_after must be >= 0, got {retry_after!r}")
        pattern = re.compile(paths if paths is not None else r"^/module/")
        with self._faults_lock:
            self.faults = FaultSettings(
                latency_ms=self.faults.latency_ms if latency_ms is None else float(latency_ms),
                slow_ms=float(slow_ms),
                rate=float(rate),
                statuses=codes,
                drop_rate=float(drop_rate),
                script=entries,
                retry_after=int(retry_after),
                paths=pattern,
                rng=random.Random(self.seed if seed is None else seed),
            )

    def decide_fault(self, path: str) -> tuple[float, int | str | None, int]:
        """(delay ms, fault, retry_after) for one request; consumes a script entry.

        The delay is the latency of every request, plus ``slow_ms`` for those that match the
        fault ``paths``.
        """
        with self._faults_lock:
            faults = self.faults
            slow = faults.slow_ms if faults.slow_ms and faults.paths.search(path) else 0.0
            return faults.latency_ms + slow, faults.decide(path), faults.retry_after
