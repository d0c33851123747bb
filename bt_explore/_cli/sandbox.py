"""``bt-explore sandbox``: serve the local emulator until Ctrl-C.

Example:
    $ bt-explore sandbox --port 8765 --now 2026-12-01T09:00:00+01:00
"""

from __future__ import annotations

import argparse
import signal
import threading
from typing import Any

HELP = "serve the local sandbox of bookingtime's auth server and Module API v3 until Ctrl-C"


def add_arguments(p: argparse.ArgumentParser) -> None:
    """Options of ``bt-explore sandbox``."""
    p.add_argument("--port", type=int, default=8765, help="TCP port (default 8765; 0 = any free)")
    p.add_argument(
        "--host",
        default="127.0.0.1",
        help="loopback address to listen on (default 127.0.0.1; other hosts are refused)",
    )
    p.add_argument(
        "--now",
        default=None,
        metavar="ISO",
        help="pin the sandbox clock, e.g. 2026-12-01T09:00:00+01:00 (default: wall clock)",
    )
    p.add_argument(
        "--latency", type=float, default=0, metavar="MS", help="delay every answer by MS ms"
    )
    p.add_argument("--seed", type=int, default=0, help="seed for appointment ids and random faults")
    p.add_argument(
        "--data",
        default=None,
        metavar="DIR",
        help="serve the JSON data files in DIR (same format as the demo's; missing ones come "
        "from the demo data) instead of the demo practice",
    )


def _block_until_interrupted() -> None:
    threading.Event().wait()


def _interrupt(_signum: int, _frame: Any) -> None:
    raise KeyboardInterrupt


def run(args: argparse.Namespace) -> int:
    """Start the sandbox, print its URLs and demo credentials, serve until Ctrl-C."""
    from bt_explore.sandbox import Sandbox

    try:
        sb = Sandbox(
            now=args.now,
            port=args.port,
            host=args.host,
            latency_ms=args.latency,
            seed=args.seed,
            data_dir=args.data,
        )
    except ValueError as exc:
        print(f"bt-explore sandbox: {exc}")
        return 2
    try:
        sb.start()
    except OSError as exc:
        print(f"bt-explore sandbox: cannot listen on {args.host}:{args.port}: {exc}")
        return 1
    clock = "pinned" if sb.state.clock.pinned else "wall clock"
    print("bt_explore sandbox of bookingtime's auth server and Module API v3")
    print(f"  token URL        {sb.auth_url}")
    print(f"  API URL          {sb.api_url}  (+ locale: en/ or de/)")
    print(f"  OpenAPI          {sb.openapi_url}")
    print(f"  client id        {sb.client_id}")
    print("  client secret    (empty)")
    print(f"  organization id  {sb.organization_id}")
    if sb.other_organization_id:
        print(f"  no access (403)  {sb.other_organization_id}  (the client alone; a person may)")
    print(f"  sign-in page     {sb.authorize_url}")
    for user in sb.state.signins.users.values():
        orgs = len(user.organization_ids)
        print(f"  demo user        {user.username} / {user.password}  ({orgs} organization(s))")
    org_tz = sb.state.data.org_rules[sb.organization_id].tz
    print(f"  clock            {sb.now().astimezone(org_tz).isoformat()} ({clock}, {org_tz.key})")
    if args.latency:
        print(f"  latency          {args.latency:g} ms")
    print("Press Ctrl-C to stop.", flush=True)
    # SIGTERM (e.g. `kill`) stops as cleanly as Ctrl-C; background jobs may ignore SIGINT.
    try:
        previous = signal.signal(signal.SIGTERM, _interrupt)
    except ValueError:  # not the main thread: Ctrl-C handling is the caller's
        previous = None
    try:
        _block_until_interrupted()
    except KeyboardInterrupt:
        pass
    finally:
        if previous is not None:
            signal.signal(signal.SIGTERM, previous)
        sb.stop()
    print("sandbox stopped")
    return 0
