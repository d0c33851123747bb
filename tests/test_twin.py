"""The offline twin: ``bt-explore verify --save DIR`` then ``bt-explore sandbox --data DIR``
serves the same organization, and inside the observed windows exactly the observed free slots."""

from __future__ import annotations

import json
from pathlib import Path

import requests
from _proxy import ProxyRules, proxy
from _sandbox_cli import sandbox_cli

import bt_explore
from bt_explore.cli import main
from bt_explore.sandbox import Sandbox
from conftest import SANDBOX_NOW


def _slots(client: bt_explore.Client, template_id: str, year: int, week: int) -> list[tuple]:
    answer = client.slots_week(template_id, year, week)
    return [(s["timestamp"], tuple(s["bookingResourceCombination"])) for s in answer["list"]]


def _save(url: str, folder: Path) -> int:
    return main(["verify", "--sandbox", url, "--save", str(folder), "--entity-type", "course"])


def test_a_saved_twin_serves_the_same_templates_and_the_observed_slots(tmp_path):
    folder = tmp_path / "twin"
    with Sandbox(now=SANDBOX_NOW) as original:
        assert _save(original.base_url, folder) == 0
        with bt_explore.connect(sandbox=original) as client:
            templates = [(t["id"], t["name"]) for t in client.templates()]
            organization = client.organization()
            observed = json.loads((folder / "observed_slots.json").read_text())
            windows = {
                (w["templateId"], w["rangeStart"][:10])
                for w in observed["windows"]
                if _days(w) == 7  # the week answers (not the day's or the month's)
            }
            weeks = [(tid, *_iso_week(start)) for tid, start in sorted(windows)]
            before = {w: _slots(client, *w) for w in weeks}
    assert len(before) == 4 and all(before.values())

    with sandbox_cli("--data", str(folder), "--now", SANDBOX_NOW) as twin:
        settings = bt_explore.Settings(
            client_id=twin.client_id, client_secret="", organization_id=twin.organization_id,
            auth_url=twin.root["auth_url"], api_url=twin.root["api_url"], env_file=None,
        )  # fmt: skip
        with bt_explore.Client(settings) as client:
            assert twin.organization_id == organization["id"]
            assert [(t["id"], t["name"]) for t in client.templates()] == templates
            served = client.organization()
            for key in ("name", "timeZone", "openingHours", "currency"):
                assert served[key] == organization[key], key
            assert {w: _slots(client, *w) for w in weeks} == before
            # minus what is booked in the twin
            template_id, year, week = weeks[0]
            slot = client.slots_week(template_id, year, week)["list"][0]
            customer = {"firstName": "Ada", "lastName": "Lovelace", "email": "ada@example.org"}
            client.book(slot["id"], customer, template=template_id)
            after = _slots(client, template_id, year, week)
            assert (slot["timestamp"], tuple(slot["bookingResourceCombination"])) not in after
            # outside the observed windows: the sandbox's own engine
            assert client.slots_week(template_id, year, week + 2)["list"]


def _days(window: dict) -> int:
    from datetime import datetime

    start, end = (datetime.fromisoformat(window[k]) for k in ("rangeStart", "rangeEnd"))
    return (end - start).days


def _iso_week(day: str) -> tuple[int, int]:
    from datetime import date

    year, week, _ = date.fromisoformat(day).isocalendar()
    return year, week


def test_the_twin_holds_no_customer_data_and_no_secret(tmp_path):
    folder = tmp_path / "twin"
    with Sandbox(now=SANDBOX_NOW) as original:
        assert _save(original.base_url, folder) == 0
    assert json.loads((folder / "appointments.json").read_text()) == []
    assert json.loads((folder / "users.json").read_text()) == []
    text = "".join(p.read_text() for p in folder.iterdir())
    for customer in ("Mustermann", "erika@example.org", "ada-demo"):
        assert customer not in text
    assert bt_explore.recording.find_secrets([folder]) == []


def test_a_walk_that_saw_too_little_writes_no_folder(tmp_path, capsys):
    folder = tmp_path / "twin"
    rules = ProxyRules(html=r"/bookingTemplate/list$")
    with Sandbox(now=SANDBOX_NOW) as original, proxy(original.base_url, rules) as url:
        assert _save(url, folder) == 2
    assert "cannot save a twin: template_list gave no LIST" in capsys.readouterr().err
    assert list(tmp_path.iterdir()) == []  # neither the folder nor a partial one


def test_an_existing_folder_is_never_overwritten(tmp_path, capsys):
    (tmp_path / "twin").mkdir()
    assert main(["verify", "--save", str(tmp_path / "twin")]) == 2
    assert "exists" in capsys.readouterr().err


def test_the_twin_answers_over_http_like_its_original(tmp_path):
    """A raw check: the twin's template list is the original's, record for record."""
    folder = tmp_path / "twin"
    with Sandbox(now=SANDBOX_NOW) as original:
        assert _save(original.base_url, folder) == 0
        with bt_explore.connect(sandbox=original) as client:
            first = client.templates()
    with Sandbox(now=SANDBOX_NOW, data_dir=folder) as twin:
        with bt_explore.connect(sandbox=twin) as client:
            assert client.templates() == first
            assert requests.get(twin.base_url + "/", timeout=5).json()["organization_id"] == (
                first and twin.organization_id
            )
