"""The sandbox's files: stored in memory, attached to appointments, served back as raw bytes.

``file/add`` takes a ``FileAdd`` body whose ``fileContent`` is base64; :func:`file_problems`
checks it (names, base64 that decodes, the size limit, customId shape) and gives the decoded
bytes. :class:`FileStore` keeps the files of one sandbox (demo files from ``files.json`` plus the
added ones) behind a lock; nothing is written to disk.

Example:
    >>> problems, content = file_problems(
    ...     {"name": "Note", "fileName": "note.txt", "fileContent": "aGk=",
    ...      "appointmentId": "ed" + "0" * 30},
    ...     max_size=10,
    ... )
    >>> problems, content
    ([], b'hi')
"""

from __future__ import annotations

import base64
import binascii
import mimetypes
import random
import re
import string
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from bt_explore.endpoints import is_id
from bt_explore.models import FileAdd, wire_names
from bt_explore.rules import Problem, body_problems

__all__ = ["DEFAULT_MAX_FILE_SIZE", "FileStore", "StoredFile", "file_problems", "mime_type"]

#: The largest decoded file ``file/add`` accepts, in bytes (a larger one: 400 naming fileContent).
DEFAULT_MAX_FILE_SIZE = 512 * 1024

_ALPHANUMERIC = string.digits + string.ascii_letters
#: Characters a file name may not hold: path separators, control characters (C0, DEL, C1) and
#: the bidirectional controls that make ``txt.exe`` look like ``exe.txt`` (right-to-left override
#: and its kin).
_BAD_NAME = re.compile(r"[/\\\x00-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]")
#: Names that are folders, not files, wherever they are saved.
_NOT_FILE_NAMES = {"", ".", ".."}
_WHITESPACE = re.compile(r"\s+")
_FILE = wire_names(FileAdd)


def mime_type(file_name: str) -> str:
    """The Content-Type of a file by its name (``application/octet-stream`` when unknown).

    Example:
        >>> mime_type("scan.pdf"), mime_type("notes"), mime_type("a.txt")
        ('application/pdf', 'application/octet-stream', 'text/plain')
    """
    return mimetypes.guess_type(file_name, strict=False)[0] or "application/octet-stream"


def file_problems(body: dict, max_size: int) -> tuple[list[Problem], bytes]:
    """The problems of a ``file/add`` body (apart from the appointment's existence and the
    customId's uniqueness) and the decoded file (``b""`` when it does not decode).

    Example:
        >>> [(p.parameter, p.key) for p in file_problems({"fileName": "a/b", "fileContent": "%%"}, 10)[0]]
        [('name', 'required'), ('appointmentId', 'required'), ('fileName', 'file_name_invalid'), ('fileContent', 'base64_invalid')]

    The body's shape is :class:`~bt_explore.models.FileAdd`'s (:func:`~bt_explore.rules.body_problems`);
    this adds the file name's characters, the base64 and the size.
    """  # noqa: E501
    problems = body_problems(body, FileAdd)
    named = {p.parameter for p in problems}
    name, encoded = _FILE.file_name, _FILE.file_content
    if name not in named and (
        _BAD_NAME.search(body[name]) or body[name].strip() in _NOT_FILE_NAMES
    ):
        problems.append(Problem(name, "file_name_invalid"))
    content = b""
    if encoded not in named:
        try:
            content = base64.b64decode(_WHITESPACE.sub("", body[encoded]), validate=True)
        except (binascii.Error, ValueError):
            problems.append(Problem(encoded, "base64_invalid"))
        else:
            if len(content) > max_size:
                problems.append(Problem(encoded, "file_too_large", {"max": max_size}))
    return problems, content


@dataclass(frozen=True)
class StoredFile:
    """One file as the sandbox keeps it."""

    id: str
    organization_id: str
    appointment_id: str
    name: str
    file_name: str
    content: bytes
    added: datetime
    custom_id: str = ""

    @property
    def mime_type(self) -> str:
        return mime_type(self.file_name)


class FileCustomIdTaken(Exception):
    """A file with this customId exists in the organization already."""


class FileStore:
    """The files of one sandbox, in memory, by id and by appointment.

    ``seed`` records come from ``files.json``: ``id``, ``appointmentId``, ``name``,
    ``fileName``, ``customId`` and the content as ``text`` (UTF-8) or ``fileContent`` (base64).
    ``organization_of`` maps an appointment id to its organization (``None``: unknown).

    Example:
        >>> from datetime import timezone
        >>> store = FileStore([], lambda a: "f6" + "a" * 30, lambda: datetime.now(timezone.utc))
        >>> f = store.add("f6" + "a" * 30, "ed" + "b" * 30, "Note", "note.txt", b"hi")
        >>> store.get("f6" + "a" * 30, f.id).content, f.mime_type
        (b'hi', 'text/plain')
    """

    def __init__(
        self,
        seed: list[dict],
        organization_of: Callable[[str], str | None],
        now: Callable[[], datetime],
        *,
        rng_seed: int = 0,
        max_size: int = DEFAULT_MAX_FILE_SIZE,
    ) -> None:
        self._now = now
        self._lock = threading.Lock()
        self._rng = random.Random(rng_seed)
        self._files: dict[str, StoredFile] = {}
        self._by_custom_id: dict[tuple[str, str], str] = {}
        #: The largest decoded file in bytes that ``file/add`` accepts.
        self.max_size = max_size
        for raw in seed:
            if not is_id(raw.get("id"), "file"):
                raise ValueError(f"demo data: {raw.get('id')!r} is not a valid file id")
            org = organization_of(raw.get(_FILE.appointment_id, ""))
            if org is None:
                raise ValueError(f"demo data: file {raw['id']} names an unknown appointmentId")
            if _FILE.file_content in raw:
                content = base64.b64decode(raw[_FILE.file_content], validate=True)
            else:
                content = str(raw.get("text", "")).encode("utf-8")
            self._store(
                StoredFile(
                    id=raw["id"],
                    organization_id=org,
                    appointment_id=raw[_FILE.appointment_id],
                    name=raw.get("name", ""),
                    file_name=raw[_FILE.file_name],
                    content=content,
                    added=now(),
                    custom_id=raw.get(_FILE.custom_id, ""),
                )
            )

    def _store(self, stored: StoredFile) -> None:
        self._files[stored.id] = stored
        if stored.custom_id:
            self._by_custom_id[(stored.organization_id, stored.custom_id)] = stored.id

    def add(
        self,
        organization_id: str,
        appointment_id: str,
        name: str,
        file_name: str,
        content: bytes,
        custom_id: str = "",
    ) -> StoredFile:
        """Store a file; raises :class:`FileCustomIdTaken` for a customId in use."""
        with self._lock:
            if custom_id and (organization_id, custom_id) in self._by_custom_id:
                raise FileCustomIdTaken(custom_id)
            while True:
                new = "w1" + "".join(self._rng.choice(_ALPHANUMERIC) for _ in range(30))
                if new not in self._files:
                    break
            stored = StoredFile(
                new, organization_id, appointment_id, name, file_name, content, self._now(),
                custom_id,
            )  # fmt: skip
            self._store(stored)
            return stored

    def get(self, organization_id: str, file_id: str) -> StoredFile | None:
        """The file with this id in this organization, or ``None``."""
        found = self._files.get(file_id)
        return found if found and found.organization_id == organization_id else None

    def of_appointment(self, appointment_id: str) -> list[StoredFile]:
        """The appointment's files, oldest first."""
        with self._lock:
            return [f for f in self._files.values() if f.appointment_id == appointment_id]
