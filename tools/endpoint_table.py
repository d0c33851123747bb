"""The endpoint reference of ``docs/client.md``, generated from the endpoint table.

Every row of :data:`bt_explore.endpoints.ENDPOINTS` becomes a row of the reference: the name
(bookingtime SDK's method, in snake case), verb and path, success status, request and answer
models (:mod:`bt_explore.models`) and the :class:`bt_explore.Client` methods that call it. The
docs hold the output between ``<!-- BEGIN endpoints -->`` and ``<!-- END endpoints -->``;
``tests/test_docs.py`` fails when they differ from what this prints.

Usage:
    python -m tools.endpoint_table               # print the table
    python -m tools.endpoint_table --write-docs  # put it into docs/client.md

Example:
    >>> "| `appointment_add` | POST `…/appointment/add` | 201 | `AppointmentAdd` |" in markdown()
    True
"""

from __future__ import annotations

import inspect
import re
import sys
from pathlib import Path
from typing import Any

from benchmarks._docs import replace_block
from bt_explore import Client, models
from bt_explore.endpoints import ENDPOINTS

CLIENT_PAGE = Path(__file__).resolve().parent.parent / "docs" / "client.md"
BLOCK = "endpoints"
_ORG_PREFIX = "organization/{org}/"
#: The client's methods that call any endpoint by its name (their examples name some).
GENERIC = ("call", "url")


def client_methods() -> dict[str, list[str]]:
    """Endpoint name -> the public ``Client`` methods whose code names it (sorted).

    ``static_error`` has none: it is reached with ``client.call("static_error", code=...)``.

    Example:
        >>> client_methods()["template_list"]
        ['templates']
    """
    sources = {
        name: inspect.getsource(member)
        for name, member in inspect.getmembers(Client, inspect.isfunction)
        if not name.startswith("_") and name not in GENERIC
    }
    return {
        endpoint: sorted(m for m, src in sources.items() if f'"{endpoint}"' in src)
        for endpoint in ENDPOINTS
    }


def _type_name(tp: Any) -> str:
    if tp is None:
        return "—"
    if tp is models.RawBytes:
        return "raw bytes"
    text = tp.__name__ if isinstance(tp, type) else str(tp)
    text = re.sub(r"\b[\w.]*models\.", "", text)
    text = text.replace("NoneType", "None").replace(" | ", " or ")
    return f"`{text.removeprefix('Envelope[').removesuffix(']') if text.startswith('Envelope[') else text}`"


def markdown() -> str:
    """The reference table as Markdown (one line per endpoint, a trailing newline)."""
    methods = client_methods()
    lines = [
        "| endpoint | HTTP | status | body | answer (`content`) | client |",
        "|---|---|---|---|---|---|",
    ]
    for ep in ENDPOINTS.values():
        rest = ep.path.removeprefix(_ORG_PREFIX)
        path = "…/" + rest if rest != ep.path and "/" in rest else ep.path
        if ep.query:
            path += "?" + "&".join(f"{q}=…" for q in ep.query)
        called = " · ".join(f"`{m}()`" for m in methods[ep.name]) or f'`call("{ep.name}", ...)`'
        lines.append(
            f"| `{ep.name}` | {ep.method} `{path}` | {ep.success_status} | "
            f"{_type_name(ep.request)} | {_type_name(ep.response)} | {called} |"
        )
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    """Print the table; with ``--write-docs`` also put it into ``docs/client.md``."""
    argv = sys.argv[1:] if argv is None else argv
    table = markdown()
    print(table, end="")
    if "--write-docs" in argv:
        CLIENT_PAGE.write_text(replace_block(CLIENT_PAGE.read_text(), BLOCK, table))
    return 0


if __name__ == "__main__":
    sys.exit(main())
