"""Child processes of ours (servers the CLI, tests and benchmarks start): how they stop, and how
they end with their parent even when it is killed (``kill -9``) and cannot stop them."""

from __future__ import annotations

import ctypes
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from typing import Any

__all__ = ["stop_process", "parent_death_signal", "watch_parent"]

#: linux/prctl.h: deliver a signal to this process when its parent (thread) ends.
_PR_SET_PDEATHSIG = 1


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


def parent_death_signal(sig: int = signal.SIGTERM) -> Callable[[], None] | None:
    """A ``preexec_fn`` for :class:`subprocess.Popen` that makes the child receive ``sig``
    when this process dies, however it dies (Linux ``prctl(PR_SET_PDEATHSIG)``); ``None``
    where that is not available (not Linux) or not safe (called outside the main thread:
    the kernel sends the signal when the *thread* that started the child ends). Pair it with
    :func:`watch_parent` in the child, which covers the other cases.

    Example:
        >>> import sys
        >>> child = subprocess.Popen(
        ...     [sys.executable, "-c", "pass"], preexec_fn=parent_death_signal()
        ... )
        >>> child.wait()
        0
    """
    if not sys.platform.startswith("linux"):
        return None
    if threading.current_thread() is not threading.main_thread():
        return None
    try:
        # looked up here, in the parent: the child between fork and exec must not import
        prctl = ctypes.CDLL(None, use_errno=True).prctl
    except (OSError, AttributeError):  # pragma: no cover - a libc without prctl
        return None
    parent = os.getpid()

    def preexec() -> None:
        prctl(_PR_SET_PDEATHSIG, int(sig))
        if os.getppid() != parent:  # the parent died before prctl took effect
            os.kill(os.getpid(), sig)

    return preexec


def watch_parent(
    parent: int, on_gone: Callable[[], object], *, interval: float = 0.25
) -> threading.Thread:
    """Start a daemon thread that calls ``on_gone()`` once this process's parent is no longer
    ``parent`` (it died: the process was handed to init or a subreaper); the thread.

    Example:
        >>> thread = watch_parent(os.getppid(), lambda: print("orphaned"), interval=0.01)
        >>> thread.daemon
        True
    """

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(interval)
        on_gone()

    thread = threading.Thread(target=watch, name="bt-explore-watch-parent", daemon=True)
    thread.start()
    return thread
