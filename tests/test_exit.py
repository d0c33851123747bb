"""A script that starts a sandbox (or connects) and never closes still exits promptly."""

from __future__ import annotations

import gc
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from bt_explore.sandbox import Sandbox

ROOT = Path(__file__).resolve().parent.parent

SCRIPTS = {
    "connect, never closed": (
        "import bt_explore\nc = bt_explore.connect(mode='sandbox')\nprint(len(c.templates()))\n"
    ),
    "sandbox started, never stopped, a keep-alive connection open": (
        "import requests, bt_explore\n"
        "sb = bt_explore.Sandbox().start()\n"
        "s = requests.Session()\n"
        "r = s.post(sb.auth_url, data={'grant_type': 'client_credentials',"
        " 'client_id': sb.client_id}, timeout=5)\n"
        "print(r.status_code)\n"
    ),
    "a scan, never closed": (
        "import bt_explore\n"
        "c = bt_explore.connect(mode='sandbox', now='2026-12-01T09:00:00+01:00')\n"
        "df = bt_explore.scan_slots(c, end='2026-12-15', progress=False)\n"
        "print(len(df) > 0)\n"
    ),
}


@pytest.mark.parametrize("script", SCRIPTS.values(), ids=list(SCRIPTS))
def test_a_script_that_never_closes_exits_within_seconds(script, tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("BOOKINGTIME_", "BT_EXPLORE_"))}
    env["PYTHONPATH"] = str(ROOT) + os.pathsep + env.get("PYTHONPATH", "")
    started = time.monotonic()
    done = subprocess.run(
        [sys.executable, "-c", script],
        cwd=tmp_path,  # no .env to find there
        env=env,
        capture_output=True,
        text=True,
        timeout=20,  # the defect: it hung for ever
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() and done.stdout.strip() != "0", done.stdout
    assert time.monotonic() - started < 10


def test_a_collected_sandbox_stops_serving():
    sb = Sandbox().start()
    thread = sb._thread
    assert thread is not None and thread.is_alive()
    del sb
    gc.collect()
    thread.join(timeout=5)
    assert not thread.is_alive()


def test_stop_is_idempotent_and_a_stopped_sandbox_can_start_again():
    sb = Sandbox().start()
    sb.stop()
    sb.stop()
    assert not sb.running
    sb.start()
    try:
        assert sb.running
    finally:
        sb.stop()
