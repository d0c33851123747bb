"""``Sandbox(data_dir=...)`` / ``bt-explore sandbox --data DIR``: serving your own data files."""

from __future__ import annotations

import json
import re
from importlib import resources
from pathlib import Path

import pytest

import bt_explore
from bt_explore import Sandbox
from bt_explore.cli import build_parser

NOW = "2026-12-01T09:00:00+01:00"


def _demo(name: str) -> list[dict]:
    text = resources.files("bt_explore.sandbox").joinpath("data", name).read_text("utf-8")
    return json.loads(text)


def _only_the_demo_organization(folder: Path) -> str:
    """Write organizations/templates/resources/appointments of the demo organization only,
    with the first template renamed; returns that template's id."""
    org = _demo("clients.json")[0]["organizationIds"][0]
    for name in ("organizations.json", "templates.json", "resources.json"):
        records = [r for r in _demo(name) if org in (r.get("id"), r.get("_organizationId"))]
        if name == "templates.json":
            records[0]["name"] = "Own template"
            first = records[0]["id"]
        (folder / name).write_text(json.dumps(records), encoding="utf-8")
    (folder / "appointments.json").write_text("[]", encoding="utf-8")
    return first


def test_data_dir_serves_its_files_and_the_demo_ones_it_lacks(tmp_path: Path) -> None:
    first = _only_the_demo_organization(tmp_path)
    with Sandbox(now=NOW, data_dir=tmp_path) as sb, bt_explore.connect(sandbox=sb) as client:
        templates = client.templates()
        assert templates[0]["id"] == first and templates[0]["name"] == "Own template"
        # clients.json and the static lists came from the demo data
        assert client.static_list("currency")
        # no second organization in these files, and no seed appointments
        assert sb.other_organization_id is None
        assert sb.state.book.all(sb.organization_id) == []
        assert client.slots_month(first, 2026, 12)["list"]


def test_data_dir_problems_are_named(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="data_dir: .* is not a folder"):
        Sandbox(data_dir=tmp_path / "missing")
    (tmp_path / "templates.json").write_text("[{", encoding="utf-8")
    with pytest.raises(ValueError, match=r"templates\.json is not valid JSON"):
        Sandbox(data_dir=tmp_path)


def test_cli_passes_data_on(tmp_path: Path) -> None:
    args = build_parser().parse_args(["sandbox", "--data", str(tmp_path), "--port", "0"])
    assert args.data == str(tmp_path)


def test_the_organization_a_person_reaches_is_named_like_an_organization():
    """Ada signs in and books in the demo's second organization: its name is a name, not a note
    about the demo application's access ('Studio Wien (not accessible)' was printed right after
    she accessed it)."""
    from bt_explore.sandbox.authorize import headless_browser

    with Sandbox(now=NOW) as sb:
        ada = headless_browser("ada@example.com", "ada-demo")
        with bt_explore.login(sandbox=sb, open_browser=False, show_url=ada) as client:
            name = client.organization(organization_id=sb.other_organization_id)["name"]
    assert name == "Studio Wien"


def test_the_demo_templates_describe_themselves_in_words_a_person_reads() -> None:
    # the explorer shows the description: no placeholder text such as "Zeile1 Zeile2"
    data = resources.files("bt_explore.sandbox").joinpath("data", "templates.json")
    for template in json.loads(data.read_text(encoding="utf-8")):
        description = template.get("description") or ""
        assert not re.search(r"\b(Zeile|Line|Lorem)\s*\d|lorem ipsum", description, re.I), (
            template["name"],
            description,
        )
