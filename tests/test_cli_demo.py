"""``bt-explore demo``: the walkthrough runs offline on the sandbox with no configuration."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from bt_explore._cli.demo import show
from bt_explore.cli import main
from bt_explore.settings import ENV_VARS


@pytest.fixture(autouse=True)
def no_configuration(monkeypatch, tmp_path):
    for var in [*ENV_VARS.values(), "BT_EXPLORE_MODE"]:
        monkeypatch.delenv(var, raising=False)
    monkeypatch.chdir(tmp_path)  # no .env from the checkout


def test_demo_walks_through_and_books(capsys):
    assert main(["demo"]) == 0
    out = capsys.readouterr().out
    for heading in ("1. Authenticate", "2. Booking templates", "3. Earliest free slot", "4. Book"):
        assert heading in out
    assert "Test AppointmentTemplate" in out
    assert "booked appointment ed" in out
    assert "Erika Mustermann" in out
    assert "the sandbox served 2 token and 6 API requests" in out
    from bt_explore.sandbox import Sandbox

    assert Sandbox().client_id not in out, "the demo shows only a masked client id"


def test_demo_no_book_stops_before_booking(capsys):
    assert main(["demo", "--no-book"]) == 0
    out = capsys.readouterr().out
    assert "3. Earliest free slot" in out
    assert "booked appointment" not in out
    assert "--no-book" in out


def test_demo_live_without_credentials_explains_what_is_missing(capsys):
    assert main(["demo", "--live"]) == 2
    out, err = capsys.readouterr()
    assert out == "" and err.count("\n") == 1
    # what to set, or to drop --live; where to get credentials; no Python advice
    assert "set BOOKINGTIME_CLIENT_ID and BOOKINGTIME_ORGANIZATION_ID" in err
    assert "drop --live to use the built-in sandbox" in err
    assert "docs/client.md#getting-credentials" in err
    assert "client_id=" not in err and "connect(" not in err


def test_scan_live_names_only_what_is_missing(capsys, monkeypatch):
    monkeypatch.setenv("BOOKINGTIME_CLIENT_ID", "23x")
    assert main(["scan", "--live"]) == 2
    err = capsys.readouterr().err
    assert "set BOOKINGTIME_ORGANIZATION_ID (" in err and "CLIENT_ID" not in err


def test_the_installed_command_works_with_no_configuration(tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith("BOOKINGTIME_")}
    env.pop("BT_EXPLORE_MODE", None)
    done = subprocess.run(
        [sys.executable, "-m", "bt_explore", "demo"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert "booked appointment" in done.stdout
    assert "connected in sandbox mode" in done.stderr


def test_show_prints_the_chosen_columns_with_their_headers_and_shortens():
    import pandas as pd

    frame = pd.DataFrame({"a": ["x" * 60, "y"], "b": [True, False], "c": [1.5, 2.5]})
    lines = show(frame, {"a": "A", "c": "C"}).splitlines()
    assert lines[0].split() == ["A", "C"]
    assert "..." in lines[1] and "b" not in lines[0]
    assert len(lines) == 3
