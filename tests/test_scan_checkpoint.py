"""Resumable scans: scan_slots(checkpoint=PATH) records each finished period; a scan killed
halfway (a real SIGKILL of another process) resumes with only what is missing."""

from __future__ import annotations

import re
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pandas as pd
import pytest

import bt_explore
from bt_explore import Sandbox
from bt_explore.checkpoint import Checkpoint
from bt_explore.retry import default_retry
from bt_explore.scan import ScanError, scan_slots

NOW = "2026-12-06T09:00:00+01:00"  # a scan that crosses the month end

_PERIOD = re.compile(
    r"/bookingTemplate/(?P<template>[^/]+)/bookingSlot/year/(?P<year>\d+)"
    r"(?:/month/(?P<month>\d+)(?:/day/(?P<day>\d+))?|/week/(?P<week>\d+))/list(?P<kind>\w+)"
)


def _period(path: str) -> tuple[str, str, date]:
    """(template, kind, first day) of one slot request of the sandbox's log."""
    m = _PERIOD.search(path)
    assert m is not None, path
    year = int(m["year"])
    if m["week"]:
        return m["template"], "week", date.fromisocalendar(year, int(m["week"]), 1)
    if m["day"]:
        return m["template"], "day", date(year, int(m["month"]), int(m["day"]))
    return m["template"], "month", date(year, int(m["month"]), 1)


def _slot_periods(sb: Sandbox) -> list[tuple[str, str, date]]:
    return [_period(r.path) for r in sb.api_requests if "/bookingSlot/" in r.path]


def _stored(path: Path) -> set[tuple[str, str, date]]:
    """The periods a checkpoint file holds, read as another program would."""
    with sqlite3.connect(path) as db:
        try:
            keys = [k for (k,) in db.execute("SELECT key FROM period")]
        except sqlite3.OperationalError:  # the scan has created the file, not yet its tables
            return set()
    periods = set()
    for key in keys:
        _org, template, kind, first = key.split("|")
        periods.add((template, kind, date.fromisoformat(first)))
    return periods


@pytest.fixture
def sb() -> Iterator[Sandbox]:
    with Sandbox(now=NOW) as sandbox:
        yield sandbox


def _client(sb: Sandbox) -> bt_explore.Client:
    return bt_explore.connect(sandbox=sb, retry=default_retry(backoff_factor=0))


_KILLED_SCAN = """
import sys
from datetime import datetime

import bt_explore

url, client_id, org, checkpoint, now = sys.argv[1:]
pinned = datetime.fromisoformat(now)
client = bt_explore.connect(
    mode="live", client_id=client_id, client_secret="", organization_id=org,
    auth_url=url + "/oauth/token", api_url=url + "/module/v3/", env_file=None,
    clock=lambda: pinned,
)
bt_explore.scan_slots(client, concurrency=2, checkpoint=checkpoint, progress=False)
print("finished")
"""


def test_a_killed_scan_resumes_with_only_the_missing_periods_and_the_same_frame(
    sb: Sandbox, tmp_path: Path
) -> None:
    with _client(sb) as client:
        reference = scan_slots(client, concurrency=2, progress=False)
    planned = reference.attrs["calls"]
    assert planned >= 12
    sb.clear_requests()
    sb.set_faults(latency_ms=400)  # slow enough to kill the scan halfway, even on a busy machine
    checkpoint = tmp_path / "scan.sqlite"
    command = [sys.executable, "-c", _KILLED_SCAN, sb.base_url, sb.client_id,
               sb.organization_id, str(checkpoint), NOW]  # fmt: skip
    scan = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 60
        while not (checkpoint.exists() and len(_stored(checkpoint)) >= planned // 3):
            assert scan.poll() is None, scan.stdout.read() if scan.stdout else ""
            assert time.monotonic() < deadline, "the scan recorded nothing"
            time.sleep(0.05)
    finally:
        scan.kill()  # SIGKILL: no handler, no cleanup
        output = scan.communicate(timeout=30)[0]
    assert b"finished" not in output
    done = _stored(checkpoint)
    assert planned // 3 <= len(done) < planned  # really halfway
    # the killed scan's last requests are still being answered (400 ms): let them land
    settled = -1
    while settled != len(sb.requests):
        settled = len(sb.requests)
        time.sleep(1.0)
    first_run = _slot_periods(sb)
    sb.clear_requests()
    sb.set_faults(latency_ms=0)

    with _client(sb) as client:
        resumed = scan_slots(client, concurrency=2, checkpoint=checkpoint, progress=False)
    second_run = _slot_periods(sb)
    pd.testing.assert_frame_equal(resumed, reference)
    assert resumed.attrs["resumed"] == len(done)
    assert resumed.attrs["missing"] == []
    # no period that was recorded is fetched again, and each missing one once
    assert not done & set(second_run)
    assert len(second_run) == len(set(second_run)) == planned - len(done)
    # periods fetched twice overall: at most the calls in flight at the kill (2 threads)
    twice = set(first_run) & set(second_run)
    assert len(twice) <= 2, twice
    assert len(_stored(checkpoint)) == planned
    # and a third run sends nothing at all
    sb.clear_requests()
    with _client(sb) as client:
        again = scan_slots(client, checkpoint=checkpoint, progress=False)
    pd.testing.assert_frame_equal(again, reference)
    assert _slot_periods(sb) == []


def test_a_failed_period_is_left_out_of_the_checkpoint_and_sent_again(
    sb: Sandbox, tmp_path: Path
) -> None:
    checkpoint = tmp_path / "scan.sqlite"
    with _client(sb) as client:
        victim = client.templates()[0]["id"]
        sb.set_faults(rate=1.0, statuses=(503,), paths=rf"/bookingTemplate/{victim}/bookingSlot/")
        with pytest.raises(ScanError):
            scan_slots(client, checkpoint=checkpoint, progress=False)
        sb.clear_faults()
        sb.clear_requests()
        frame = scan_slots(client, checkpoint=checkpoint, progress=False)
    assert {template for template, _, _ in _slot_periods(sb)} == {victim}
    assert frame.attrs["missing"] == [] and victim in set(frame["template_id"])


def test_a_checkpoint_of_another_scan_or_not_a_checkpoint_is_refused_by_name(
    sb: Sandbox, tmp_path: Path
) -> None:
    checkpoint = tmp_path / "scan.sqlite"
    with _client(sb) as client:
        scan_slots(client, end=date(2026, 12, 20), checkpoint=checkpoint, progress=False)
        with pytest.raises(ValueError, match=r"checkpoint: .*scan.sqlite belongs to another scan"):
            scan_slots(client, end=date(2026, 12, 27), checkpoint=checkpoint, progress=False)
        junk = tmp_path / "notes.txt"
        junk.write_text("not a database, just notes\n" * 100)
        with pytest.raises(ValueError, match=r"checkpoint: .*notes.txt is not a scan checkpoint"):
            scan_slots(client, checkpoint=junk, progress=False)
        with pytest.raises(ValueError, match="is a folder"):
            scan_slots(client, checkpoint=tmp_path, progress=False)
        with pytest.raises(TypeError, match="checkpoint: must be a file path"):
            scan_slots(client, checkpoint=3, progress=False)  # type: ignore[arg-type]


def test_checkpoint_stores_and_reads_periods(tmp_path: Path) -> None:
    with Checkpoint(tmp_path / "c.sqlite", "scan-a", description="test") as book:
        assert len(book) == 0
        book.put("k1", b"one")
        book.put("k1", b"uno")
        book.put("k2", b"two")
        assert len(book) == 2 and repr(book).startswith("Checkpoint(")
    with Checkpoint(tmp_path / "c.sqlite", "scan-a") as book:
        assert book.done() == {"k1": b"uno", "k2": b"two"}
    with pytest.raises(ValueError, match=r"belongs to another scan \(test\)"):
        Checkpoint(tmp_path / "c.sqlite", "scan-b")


def test_cli_scan_checkpoint_resumes(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from bt_explore.cli import main

    checkpoint = tmp_path / "cli.sqlite"
    assert main(["scan", "--weeks", "1", "--no-progress", "--checkpoint", str(checkpoint)]) == 0
    first = capsys.readouterr().out
    assert main(["scan", "--weeks", "1", "--no-progress", "--checkpoint", str(checkpoint)]) == 0
    second = capsys.readouterr().out
    calls = int(re.search(r"(\d+) slot calls", first)[1])  # type: ignore[index]
    assert f"0 of them read from {checkpoint}" in first
    assert f"{calls} of them read from {checkpoint}" in second
    assert first.split("\n\n")[0] == second.split("\n\n")[0]  # the same summary table
