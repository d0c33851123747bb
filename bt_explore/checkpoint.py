"""Checkpoints of long scans: every finished period's answer, on disk, as it completes.

``scan_slots(..., checkpoint=PATH)`` keeps one :class:`Checkpoint` file: an SQLite database
whose rows are the raw answers of the slot calls that succeeded, each written in its own
transaction. A kill at any moment — also in the middle of a write — leaves every period whose
transaction committed, and nothing half-written (SQLite's journal rolls an unfinished write
back the next time the file is opened). Run the same scan again with the same file and it sends
only the calls that are missing, then builds the frame from the stored answers and the new
ones, exactly as an uninterrupted scan would.

A file belongs to one scan: the server, the organizations, templates, periods and days asked
for (so "today" too). Opening it for another scan is an error that says so; delete the file or
choose another to start over.

Example:
    >>> import tempfile, pathlib
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "scan.sqlite"
    >>> with Checkpoint(path, "scan-1") as book:
    ...     book.put("org|tpl|month|2026-12-01", b'{"list": []}')
    >>> with Checkpoint(path, "scan-1") as book:
    ...     book.done()
    {'org|tpl|month|2026-12-01': b'{"list": []}'}
"""

from __future__ import annotations

import hashlib
import os
import sqlite3
from collections.abc import Iterable
from pathlib import Path

__all__ = ["Checkpoint", "scan_identity"]


def scan_identity(parts: Iterable[str]) -> str:
    """A short fingerprint of a scan from the strings that define it (order matters).

    Example:
        >>> scan_identity(["a", "b"]) == scan_identity(["a", "b"]) != scan_identity(["b", "a"])
        True
    """
    digest = hashlib.sha256()
    for part in parts:
        digest.update(part.encode("utf-8") + b"\0")
    return digest.hexdigest()[:32]


class Checkpoint:
    """The finished periods of one scan in an SQLite file at ``path`` (created if missing).

    ``scan`` is the scan's identity (:func:`scan_identity`); a file made by another scan raises
    ``ValueError`` naming the path. One thread uses it (the scan's own).
    """

    def __init__(self, path: str | os.PathLike[str], scan: str, *, description: str = "") -> None:
        self.path = Path(path)
        if self.path.is_dir():
            raise ValueError(f"checkpoint: {self.path} is a folder; give a file path")
        try:
            self._db = sqlite3.connect(self.path, isolation_level=None)
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=NORMAL")  # a process kill loses nothing committed
            self._db.execute("CREATE TABLE IF NOT EXISTS scan (identity TEXT, description TEXT)")
            self._db.execute(
                "CREATE TABLE IF NOT EXISTS period (key TEXT PRIMARY KEY, answer BLOB NOT NULL)"
            )
            stored = self._db.execute("SELECT identity, description FROM scan").fetchone()
        except sqlite3.DatabaseError as exc:
            raise ValueError(f"checkpoint: {self.path} is not a scan checkpoint ({exc})") from None
        if stored is None:
            self._db.execute("INSERT INTO scan VALUES (?, ?)", (scan, description))
        elif stored[0] != scan:
            self._db.close()
            raise ValueError(
                f"checkpoint: {self.path} belongs to another scan ({stored[1] or stored[0]}); "
                "delete it or choose another file to start this one"
            )

    def done(self) -> dict[str, bytes]:
        """The stored answers by period key."""
        return {key: bytes(answer) for key, answer in self._db.execute("SELECT * FROM period")}

    def put(self, key: str, answer: bytes) -> None:
        """Store one finished period's answer (one transaction: all of it or nothing)."""
        self._db.execute("INSERT OR REPLACE INTO period VALUES (?, ?)", (key, answer))

    def __len__(self) -> int:
        return int(self._db.execute("SELECT count(*) FROM period").fetchone()[0])

    def close(self) -> None:
        """Close the file (idempotent)."""
        self._db.close()

    def __enter__(self) -> Checkpoint:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"Checkpoint({str(self.path)!r})"
