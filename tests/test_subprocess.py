"""bt_explore._subprocess: a child started with a parent-death signal, or watching its parent,
ends when its parent is killed with ``kill -9`` (which the parent cannot handle)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time

import pytest
from _browser import alive

from bt_explore._subprocess import parent_death_signal, stop_process, watch_parent

linux_only = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="Linux prctl")

#: A parent that starts a sleeping child the given way, prints the child's pid, then waits.
PARENT = """
import subprocess, sys, time
from bt_explore._subprocess import parent_death_signal
child = subprocess.Popen([sys.executable, "-c", {child!r}], preexec_fn={preexec})
print(child.pid, flush=True)
time.sleep(120)
"""
SLEEPER = "import time; time.sleep(120)"
WATCHER = (
    "import os, time\n"
    "from bt_explore._subprocess import watch_parent\n"
    "watch_parent(os.getppid(), lambda: os._exit(0), interval=0.05)\n"
    "time.sleep(120)\n"
)


def _orphan_ends(child: str, preexec: str) -> bool:
    """Start PARENT with ``child``, kill -9 the parent: does the child end within 5 s?"""
    parent = subprocess.Popen(
        [sys.executable, "-c", textwrap.dedent(PARENT.format(child=child, preexec=preexec))],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert parent.stdout is not None
    pid = int(parent.stdout.readline())
    try:
        time.sleep(0.3)
        assert alive(pid)
        parent.kill()
        parent.wait()
        deadline = time.monotonic() + 5
        while alive(pid) and time.monotonic() < deadline:
            time.sleep(0.05)
        return not alive(pid)
    finally:
        if alive(pid):
            os.kill(pid, signal.SIGKILL)


@linux_only
def test_a_child_with_the_parent_death_signal_ends_with_its_killed_parent():
    assert _orphan_ends(SLEEPER, "parent_death_signal()")


@linux_only
def test_without_it_the_child_outlives_its_killed_parent():
    """The control: what the signal (or the watchdog) is there for."""
    assert not _orphan_ends(SLEEPER, "None")


@linux_only
def test_a_child_watching_its_parent_ends_with_it():
    assert _orphan_ends(WATCHER, "None")


def test_no_parent_death_signal_outside_the_main_thread():
    """The kernel signals when the starting *thread* ends: a worker thread would kill the
    child early, so there it gives none."""
    import threading

    got = []
    worker = threading.Thread(target=lambda: got.append(parent_death_signal()))
    worker.start()
    worker.join()
    assert got == [None]


def test_watch_parent_calls_back_once_the_parent_is_not_the_one_given():
    called = []
    thread = watch_parent(os.getppid() + 1_000_000, lambda: called.append(True), interval=0.01)
    thread.join(timeout=5)
    assert called == [True]


def test_stop_process_returns_the_status_of_an_ended_process():
    done = subprocess.Popen([sys.executable, "-c", "raise SystemExit(3)"])
    done.wait()
    assert stop_process(done) == 3
