"""Write a benchmark's figures into ``docs/performance.md``, so the docs never hold typed ones.

``docs/performance.md`` has one marked block per benchmark::

    <!-- BEGIN scan-figures -->
    ...replaced by `python -m benchmarks.scan --write-docs`...
    <!-- END scan-figures -->

:func:`run_and_write` runs a benchmark's ``main`` once (its output still goes to the terminal)
and puts exactly what it printed, with the command, the date and the machine, between the
markers.

Example:
    >>> replace_block("a\\n<!-- BEGIN x -->\\nold\\n<!-- END x -->\\nb\\n", "x", "new\\n")
    'a\\n<!-- BEGIN x -->\\nnew\\n<!-- END x -->\\nb\\n'
"""

from __future__ import annotations

import contextlib
import datetime as dt
import io
import os
import platform
import sys
from collections.abc import Callable
from pathlib import Path

PERFORMANCE_PAGE = Path(__file__).resolve().parent.parent / "docs" / "performance.md"
FLAG = "--write-docs"


def replace_block(text: str, name: str, body: str) -> str:
    """``text`` with everything between ``<!-- BEGIN name -->`` and ``<!-- END name -->``
    replaced by ``body``; raises ``ValueError`` when the markers are missing."""
    begin, end = f"<!-- BEGIN {name} -->\n", f"<!-- END {name} -->"
    if text.count(begin) != 1 or text.count(end) != 1 or text.index(begin) > text.index(end):
        raise ValueError(f"expected one {begin.strip()} … {end} block")
    head, rest = text.split(begin)
    return head + begin + body + end + rest.split(end, 1)[1]


class _Tee(io.TextIOBase):
    def __init__(self, *streams: io.TextIOBase) -> None:
        self.streams = streams

    def write(self, s: str) -> int:
        for stream in self.streams:
            stream.write(s)
        return len(s)

    def flush(self) -> None:
        for stream in self.streams:
            stream.flush()


def run_and_write(
    name: str,
    main: Callable[[list[str]], int],
    argv: list[str] | None,
    page: Path = PERFORMANCE_PAGE,
) -> int:
    """Run ``main`` with ``argv`` minus ``--write-docs``, then write what it printed into the
    ``name`` block of ``page``; returns ``main``'s exit status (the block is written either way:
    a missed target is a figure too, and the output says so)."""
    args = [a for a in (sys.argv[1:] if argv is None else argv) if a != FLAG]
    captured = io.StringIO()
    with contextlib.redirect_stdout(_Tee(sys.stdout, captured)):
        status = main(args)
    spec = getattr(sys.modules.get(main.__module__), "__spec__", None)  # "__main__" under -m
    command = " ".join(["python -m", spec.name if spec else main.__module__, *args])
    body = (
        f"Written by `{command} {FLAG}` on {dt.date.today().isoformat()}: "
        f"{os.cpu_count()} cores ({platform.machine()}, {platform.system()}), "
        f"Python {platform.python_version()}; exit status {status}.\n\n"
        f"```text\n$ {command}\n{captured.getvalue().rstrip()}\n```\n"
    )
    page.write_text(replace_block(page.read_text(encoding="utf-8"), name, body), encoding="utf-8")
    print(f"wrote the {name} block of {page}")
    return status
