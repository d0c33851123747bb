"""An offline twin: what :func:`bt_explore.verify` saw, as a sandbox data folder.

``save_twin(report, folder)`` writes the organization (and its branches), its templates and
resources, the static lists, the module config, the custom entities read, the booking category
tree and the free slots observed (``observed_slots.json``) in the format of
``bt_explore/sandbox/data``; ``Sandbox(data_dir=folder)`` / ``bt-explore sandbox --data
folder`` then serves that organization: the same ids, names and settings, and inside the
observed windows exactly the observed free slots (minus what is booked in the twin).

No customer's personal data is saved: no appointments, no files, no sign-in users; the twin's
client is the module id the walk used, with no secret. The folder is written beside its target
under a temporary name, loaded once by a sandbox as a check, and only then renamed into place:
there is never a partial folder a sandbox would load as if complete.

Example:
    >>> import tempfile, bt_explore
    >>> from pathlib import Path
    >>> with bt_explore.Sandbox(now="2026-12-01T09:00:00+01:00") as sb:
    ...     with bt_explore.connect(sandbox=sb) as client:
    ...         report = bt_explore.verify(client)
    >>> folder = save_twin(report, Path(tempfile.mkdtemp()) / "twin", client_id=sb.client_id)
    >>> sorted(p.name for p in folder.iterdir())[:3]
    ['appointments.json', 'booking_categories.json', 'clients.json']
"""

from __future__ import annotations

import json
import shutil
import tempfile
from pathlib import Path
from typing import Any

from bt_explore import models
from bt_explore.endpoints import STATIC_LISTS
from bt_explore.verification import VerifyReport

__all__ = ["save_twin"]

_LIST = models.wire_names(models.List)
_ORGANIZATION = models.wire_names(models.Organization)
_TEMPLATE = models.wire_names(models.BookingTemplate)
_STEP = models.wire_names(models.BookingStep)
_RANGE = models.wire_names(models.RangeList)
_SLOT = models.wire_names(models.BookingSlot)
_CONFIG = models.wire_names(models.ModuleConfig)
_CATEGORY = models.wire_names(models.BookingCategory)


def _records(content: Any) -> list[dict[str, Any]]:
    listed = content.get(_LIST.record_list) if isinstance(content, dict) else None
    return [r for r in listed or [] if isinstance(r, dict) and isinstance(r.get("id"), str)]


def _steps(template: dict[str, Any]) -> list[dict[str, Any]]:
    steps = template.get(_TEMPLATE.booking_step_list)
    return [s for s in steps if isinstance(s, dict)] if isinstance(steps, list) else []


def _organization(data: dict[str, Any]) -> dict[str, Any]:
    """The organization the walk showed (``ValueError`` if it, its templates or its resources
    are missing)."""
    org = data.get("organization")
    if not isinstance(org, dict) or not all(
        org.get(k) for k in ("id", "name", _ORGANIZATION.time_zone)
    ):
        raise ValueError("cannot save a twin: organization_show gave no organization")
    if not isinstance(data.get("templates"), dict):
        raise ValueError("cannot save a twin: template_list gave no LIST")
    if not isinstance(data.get("resources"), dict):
        raise ValueError("cannot save a twin: resource_list gave no LIST")
    return org


def _saved_template(
    template: dict[str, Any], resources: dict[str, dict[str, Any]], org_id: str
) -> dict[str, Any]:
    """``template`` as the sandbox stores it: its steps name their resources by id; each
    resource a step lists is added to ``resources`` if the resource list lacked it."""
    steps = []
    for step in _steps(template):
        members = [r for r in step.get(_STEP.booking_resource_list) or [] if isinstance(r, dict)]
        for member in members:
            resources.setdefault(member["id"], {**member, "_organizationId": org_id})
        kept = {k: v for k, v in step.items() if k != _STEP.booking_resource_list}
        steps.append({**kept, "_bookingResourceIdList": [m["id"] for m in members]})
    return {**template, _TEMPLATE.booking_step_list: steps, "_organizationId": org_id}


def _observed_slots(answers: Any, template_ids: set[str]) -> dict[str, Any]:
    """The observed windows and their free slots (one per template, start and combination),
    for the templates the twin keeps."""
    windows: list[dict[str, Any]] = []
    slots: dict[tuple[Any, ...], dict[str, Any]] = {}
    for answer in answers or []:
        if answer.get("templateId") not in template_ids or not isinstance(answer.get("list"), list):
            continue
        windows.append(
            {
                k: answer.get(k)
                for k in ("templateId", _RANGE.range_start, _RANGE.range_end, _RANGE.time_zone)
            }
        )
        for slot in answer["list"]:
            if isinstance(slot, dict) and isinstance(slot.get("timestamp"), str):
                combo = list(slot.get(_SLOT.booking_resource_combination) or [])
                key = (answer["templateId"], slot["timestamp"], *combo)
                slots[key] = {
                    "templateId": answer["templateId"],
                    "timestamp": slot["timestamp"],
                    _SLOT.booking_resource_combination: combo,
                }
    return {"windows": windows, "slots": list(slots.values())}


def _categories(roots: Any, template_ids: set[str], org_id: str) -> list[dict[str, Any]]:
    """The booking category tree, flattened: each category names its parent and keeps only
    the templates the twin keeps."""
    categories: list[dict[str, Any]] = []

    def flatten(nodes: Any, parent: str | None) -> None:
        for node in nodes if isinstance(nodes, list) else []:
            if not isinstance(node, dict) or not isinstance(node.get("id"), str):
                continue
            kept = {
                k: v for k, v in node.items() if k not in ("class", _CATEGORY.booking_category_list)
            }
            kept[_CATEGORY.booking_template_id_list] = [
                t for t in node.get(_CATEGORY.booking_template_id_list) or [] if t in template_ids
            ]
            categories.append({**kept, "_organizationId": org_id, "_parentCategoryId": parent})
            flatten(node.get(_CATEGORY.booking_category_list), node["id"])

    flatten(roots, None)
    return categories


def _custom_entities(
    read: Any, template_ids: set[str], resources: dict[str, Any], org_id: str
) -> list[dict[str, Any]]:
    """The custom entities read, linked only to the templates and resources the twin keeps."""
    entities = []
    for kind, records in (read or {}).items():
        for entity in records:
            entities.append(
                {
                    **{k: v for k, v in entity.items() if not k.startswith("_")},
                    "type": kind,
                    "_organizationId": org_id,
                    "_bookingTemplateIds": [
                        t for t in entity.get("_bookingTemplateIds", []) if t in template_ids
                    ],
                    "_bookingResourceIds": [
                        r for r in entity.get("_bookingResourceIds", []) if r in resources
                    ],
                    "_appointmentIds": [],
                    "_customEntityIds": [],
                }
            )
    return entities


def _module_configs(config: Any, org_id: str) -> list[Any]:
    """The module config read, if it is the organization's."""
    if isinstance(config, dict) and config.get(_CONFIG.organization_id) == org_id:
        return [config]
    return []


def _twin_client(
    client_id: str | None, org: dict[str, Any], organizations: list[dict[str, Any]]
) -> dict[str, Any]:
    """The twin's one client: the module id the walk used (or a fixed one), with no secret."""
    return {
        "id": client_id or "23" + "0" * 30,
        "secret": "",
        "name": f"offline twin of {org['name']}",
        "organizationIds": [o["id"] for o in organizations],
        "redirectUris": ["http://127.0.0.1/callback", "http://[::1]/callback"],
    }


def twin_files(report: VerifyReport, client_id: str | None) -> dict[str, Any]:
    """The data files of the twin, by file name (``ValueError`` if the walk saw too little).

    Example:
        >>> twin_files(VerifyReport("x", "f6" + "a" * 30, [], 0, 0), None)
        Traceback (most recent call last):
        ...
        ValueError: cannot save a twin: organization_show gave no organization
    """
    data = report.data
    org = _organization(data)
    org_id = org["id"]
    branches = [{**b, "_parentOrganizationId": org_id} for b in _records(data.get("branches"))]
    details = {t["id"]: t for t in data.get("template_details") or [] if isinstance(t, dict)}
    templates = [details.get(t["id"], t) for t in _records(data["templates"])]
    resources = {r["id"]: {**r, "_organizationId": org_id} for r in _records(data["resources"])}
    saved_templates = [_saved_template(t, resources, org_id) for t in templates]
    template_ids = {t["id"] for t in saved_templates}
    organizations = [org, *branches]
    files: dict[str, Any] = {
        "organizations.json": organizations,
        "templates.json": saved_templates,
        "resources.json": list(resources.values()),
        "clients.json": [_twin_client(client_id, org, organizations)],
        # no customer's personal data: no appointments, files or sign-in users
        "appointments.json": [],
        "files.json": [],
        "users.json": [],
        "module_configs.json": _module_configs(data.get("module_config"), org_id),
        "custom_entities.json": _custom_entities(
            data.get("custom_entities"), template_ids, resources, org_id
        ),
        "booking_categories.json": _categories(
            _records(data.get("categories")), template_ids, org_id
        ),
        "observed_slots.json": _observed_slots(data.get("observed_slots"), template_ids),
    }
    for kind, records in (data.get("static") or {}).items():
        if kind in STATIC_LISTS and records:
            files[f"static_{kind}.json"] = records
    return files


def save_twin(report: VerifyReport, folder: str | Path, *, client_id: str | None = None) -> Path:
    """Write the twin of what ``report`` saw to ``folder`` (which must not exist); the folder.

    Raises ``ValueError`` when the walk saw too little for a twin or the folder exists; nothing
    is left behind then.

    Example:
        >>> import tempfile, bt_explore
        >>> with bt_explore.Sandbox(now="2026-12-01T09:00:00+01:00") as sb:
        ...     with bt_explore.connect(sandbox=sb) as client:
        ...         report = bt_explore.verify(client, max_records=1, slot_calls=3)
        >>> folder = save_twin(report, tempfile.mkdtemp() + "/twin", client_id=sb.client_id)
        >>> with bt_explore.Sandbox(data_dir=folder) as twin:
        ...     twin.organization_id == sb.organization_id
        True
    """
    target = Path(folder)
    if target.exists():
        raise ValueError(f"{target}: exists; name a folder that does not exist yet")
    files = twin_files(report, client_id)
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{target.name}.partial-", dir=target.parent))
    try:
        for name, content in files.items():
            text = json.dumps(content, indent=1, ensure_ascii=False) + "\n"
            (staging / name).write_text(text, encoding="utf-8")
        from bt_explore.sandbox.state import SandboxState

        try:  # a sandbox must load it before it counts as a twin
            SandboxState(data_dir=staging)
        except (ValueError, KeyError, TypeError) as exc:
            raise ValueError(f"cannot save a twin: a sandbox would not load it ({exc})") from None
        staging.rename(target)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return target
