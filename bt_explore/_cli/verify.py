"""``bt-explore verify``: where the service's answers differ from the declared models.

Example:
    $ bt-explore verify --live --json report.json
    $ bt-explore verify --sandbox http://127.0.0.1:8765 --entity-type course
    $ bt-explore verify --live --save my-organization/   # then: bt-explore sandbox --data my-organization/
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

HELP = (
    "walk every GET endpoint read-only and report where the answers differ from the declared "
    "models (exit 1 on a difference); --save DIR writes an offline twin"
)


def add_arguments(p: argparse.ArgumentParser) -> None:
    """Options of ``bt-explore verify``."""
    where = p.add_mutually_exclusive_group()
    where.add_argument(
        "--live",
        action="store_true",
        help="verify bookingtime with your credentials (BOOKINGTIME_* variables or .env)",
    )
    where.add_argument(
        "--sandbox",
        metavar="URL",
        help="verify the server at URL, which answers the sandbox's root document (GET URL/: "
        "auth_url, api_url, client_id, organization_id), e.g. bt-explore sandbox or a proxy "
        "in front of it (default: a built-in sandbox)",
    )
    p.add_argument("--organization", metavar="ID", help="the organization (default: configured)")
    p.add_argument(
        "--entity-type",
        action="append",
        default=[],
        metavar="TYPE",
        dest="entity_types",
        help="also read the custom entities of this type (repeatable; the API cannot list types)",
    )
    p.add_argument(
        "--max-records",
        type=int,
        default=5,
        metavar="N",
        help="show/identify calls per list (default 5)",
    )
    p.add_argument(
        "--slot-calls",
        type=int,
        default=7,
        metavar="N",
        help="slot calls: earliest, today and this month of the first template, then this and "
        "next week per template (default 7)",
    )
    p.add_argument("--timeout", type=float, default=10.0, metavar="S", help="per request (10 s)")
    p.add_argument("--json", type=Path, metavar="FILE", help="also write the report as JSON")
    p.add_argument(
        "--save",
        type=Path,
        metavar="DIR",
        help="write what was seen as a sandbox data folder (an offline twin, no customer data) "
        "for bt-explore sandbox --data DIR; DIR must not exist yet",
    )


def _error(text: str) -> int:
    print(f"bt-explore verify: {text}", file=sys.stderr)
    return 2


def _root_document(url: str, timeout: float) -> dict[str, Any]:
    """The sandbox root document at ``url`` (``ValueError`` saying what is wrong)."""
    import requests

    try:
        answer = requests.get(url.rstrip("/") + "/", timeout=timeout)
    except requests.RequestException as exc:
        raise ValueError(f"--sandbox {url}: no answer ({type(exc).__name__})") from None
    try:
        root = answer.json()
    except ValueError:
        raise ValueError(
            f"--sandbox {url}: GET / answered {answer.status_code} "
            f"{answer.headers.get('Content-Type', '')}, not the sandbox's JSON root document"
        ) from None
    missing = [k for k in ("auth_url", "api_url", "client_id", "organization_id") if k not in root]
    if not isinstance(root, dict) or missing:
        raise ValueError(f"--sandbox {url}: the root document lacks {', '.join(missing)}")
    return root


def _server_clock(root: dict[str, Any]) -> Callable[[], float]:
    """The server's clock as the root document tells it (``now``; a pinned sandbox's "today"
    decides which weeks the walk lists), moving on with the wall clock."""
    from bt_explore.times import parse_timestamp

    try:
        offset = parse_timestamp(str(root["now"])).timestamp() - time.time()
    except (KeyError, TypeError, ValueError):
        offset = 0.0
    return lambda: time.time() + offset


def run(args: argparse.Namespace) -> int:
    """Connect, walk, print the table; write ``--json`` and ``--save``."""
    from bt_explore.client import Client
    from bt_explore.connection import connect
    from bt_explore.settings import Settings
    from bt_explore.verification import verify

    for name in ("max_records", "slot_calls"):
        if getattr(args, name) < 0:
            return _error(f"--{name.replace('_', '-')} must be 0 or more")
    if args.timeout <= 0:
        return _error("--timeout must be more than 0 seconds")
    if args.save is not None and args.save.exists():
        return _error(f"--save {args.save}: exists; name a folder that does not exist yet")
    if args.sandbox:
        try:
            root = _root_document(args.sandbox, args.timeout)
        except ValueError as exc:
            return _error(str(exc))
        settings = Settings(
            client_id=root["client_id"],
            client_secret="",
            organization_id=root["organization_id"],
            auth_url=root["auth_url"],
            api_url=root["api_url"],
            timeout=args.timeout,
            env_file=None,
        )
        client = Client(settings, clock=_server_clock(root))
        source = f"sandbox {args.sandbox}"
    elif args.live:
        client = connect(mode="live", timeout=args.timeout)
        source = "live"
    else:
        client = connect(mode="sandbox", timeout=args.timeout)
        source = "built-in sandbox"
    try:
        report = verify(
            client,
            organization_id=args.organization,
            max_records=args.max_records,
            slot_calls=args.slot_calls,
            custom_entity_types=args.entity_types,
            source=source,
        )
        saved = None
        if args.save is not None:
            from bt_explore.twin import save_twin

            try:
                saved = save_twin(report, args.save, client_id=client.settings.client_id)
            except ValueError as exc:
                print(report.table())
                return _error(str(exc))
    finally:
        client.close()
    print(f"bt-explore verify: {source}, organization {report.organization_id}")
    print(report.table())
    if args.json:
        args.json.write_text(json.dumps(report.to_dict(), indent=2) + "\n", encoding="utf-8")
        print(f"wrote the report to {args.json}")
    if saved is not None:
        print(f"wrote an offline twin to {saved}: bt-explore sandbox --data {saved}")
    return 0 if report.ok else 1
