"""Stopping a child process: a signal, a grace period, then kill (servers the CLI, tests and
benchmarks start)."""

from __future__ import annotations

import signal
import subprocess
from typing import Any

__all__ = ["stop_process"]


def stop_process(
    process: subprocess.Popen[Any], *, timeout: float = 15, sig: int = signal.SIGTERM
) -> int:
    """Send ``sig`` to a running ``process``, kill it when it has not ended after ``timeout``
    seconds; its exit status (also when it had already ended).

    Example:
        >>> import sys
        >>> sleeper = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
        >>> stop_process(sleeper) == -signal.SIGTERM
        True
    """
    if process.poll() is None:
        process.send_signal(sig)
        try:
            process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
    return int(process.returncode)
