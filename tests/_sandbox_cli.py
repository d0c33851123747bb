"""``bt-explore sandbox`` as a subprocess for the tests that must meet the command itself."""

from __future__ import annotations

import queue
import re
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import requests
from _browser import _lines

from bt_explore._subprocess import stop_process

ROOT = Path(__file__).resolve().parent.parent
#: How long the command may take to print its addresses.
START_TIMEOUT = 30.0


@dataclass
class SandboxProcess:
    """A running ``bt-explore sandbox``: its base URL, its root document and its output."""

    base_url: str
    root: dict[str, Any]
    process: subprocess.Popen[str]
    output: list[str]

    @property
    def client_id(self) -> str:
        return str(self.root["client_id"])

    @property
    def organization_id(self) -> str:
        return str(self.root["organization_id"])


@contextmanager
def sandbox_cli(*args: str) -> Iterator[SandboxProcess]:
    """``bt-explore sandbox --port 0 *args`` until the block ends, then Ctrl-C (it must end
    with status 0)."""
    process = subprocess.Popen(
        [sys.executable, "-m", "bt_explore", "sandbox", "--port", "0", *args],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    lines: queue.Queue[str] = queue.Queue()
    output: list[str] = []
    threading.Thread(target=_lines, args=(process.stdout, lines, output), daemon=True).start()
    try:
        deadline = time.monotonic() + START_TIMEOUT
        while True:
            if time.monotonic() > deadline or (process.poll() is not None and lines.empty()):
                raise RuntimeError("bt-explore sandbox did not start:\n" + "".join(output))
            try:
                line = lines.get(timeout=0.2)
            except queue.Empty:
                continue
            if line.startswith("Press Ctrl-C"):
                break
        found = re.search(r"token URL\s+(http://127\.0\.0\.1:\d+)/oauth/token", "".join(output))
        assert found, "".join(output)
        base = found.group(1)
        root = requests.get(base + "/", timeout=5).json()
        yield SandboxProcess(base, root, process, output)
    finally:
        status = stop_process(process, timeout=20, sig=signal.SIGINT)
    assert status == 0, f"bt-explore sandbox ended with {status}:\n{''.join(output)}"
