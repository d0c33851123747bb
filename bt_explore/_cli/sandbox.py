"""``bt-explore sandbox``: serve the local emulator until Ctrl-C.

Example:
    $ bt-explore sandbox --port 8765 --now 2026-12-01T09:00:00+01:00
"""

from __future__ import annotations

import argparse
import sys
import threading
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from bt_explore._cli import sigterm_as_ctrl_c
from bt_explore._cli.arguments import port, refuse, statuses

if TYPE_CHECKING:  # pragma: no cover
    from bt_explore.sandbox import Sandbox

HELP = "serve the local sandbox of bookingtime's auth server and Module API v3 until Ctrl-C"


def add_arguments(p: argparse.ArgumentParser) -> None:
    """Options of ``bt-explore sandbox``."""
    p.add_argument("--port", type=port, default=8765, help="TCP port (default 8765; 0 = any free)")
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
    p.add_argument(
        "--dialect",
        default="clean",
        metavar="NAME",
        help="answer in the walkthrough's clean JSON (default) or in the shapes bookingtime's "
        'PHP backend sends ("recordTotal": "1", [] for empty objects, \\/ in strings)',
    )
    p.add_argument(
        "--fault-rate",
        type=float,
        default=0.0,
        metavar="P",
        help="answer this share of API requests with an error status (0-1; seeded by --seed)",
    )
    p.add_argument(
        "--fault-statuses",
        type=statuses,
        default="500,503,429",
        metavar="CODES",
        help="the error statuses --fault-rate draws from (default 500,503,429)",
    )
    p.add_argument(
        "--rate-limit",
        default=None,
        metavar="N/s",
        help="answer 429 with Retry-After above N requests a second per client, like a gateway "
        "(token bucket; also N/min)",
    )
    p.add_argument(
        "--rate-limit-burst",
        type=int,
        default=None,
        metavar="N",
        help="requests a full bucket allows at once (default: one second's worth)",
    )
    p.add_argument(
        "--request-log",
        default=None,
        metavar="FILE",
        help="append every request to FILE as one JSON line (method, path, query, status, time, "
        "grant_type, organization_id, dropped), written before the answer is sent",
    )


def _line_writer(path: str) -> Callable[[Any], None]:
    """A callable appending a record to ``path`` as one JSON line, flushed at once."""
    import msgspec

    stream = open(path, "ab", buffering=0)  # noqa: SIM115 - open while the sandbox serves
    encode = msgspec.json.encode

    def write(record: Any) -> None:
        stream.write(encode(record) + b"\n")

    return write


def _block_until_interrupted() -> None:
    threading.Event().wait()


#: The library's parameter names (as its refusals start) -> this command's options.
OPTIONS = {
    "now": "--now",
    "port": "--port",
    "host": "--host",
    "latency_ms": "--latency",
    "data_dir": "--data",
    "dialect": "--dialect",
    "rate": "--fault-rate",
    "statuses": "--fault-statuses",
}


def _rate_limit(args: argparse.Namespace) -> Any:
    """``--rate-limit N/s [--rate-limit-burst N]`` as a ``RateLimit`` (``None``: no limit)."""
    if args.rate_limit is None and args.rate_limit_burst is None:
        return None
    from bt_explore.sandbox.ratelimit import RateLimit

    try:
        return RateLimit.parse(args.rate_limit or "", burst=args.rate_limit_burst)
    except ValueError as exc:  # name the option: "rate_limit: burst must …" → --rate-limit-burst
        where = "--rate-limit" + ("-burst" if "burst" in str(exc) else "")
        raise ValueError(str(exc).replace("rate_limit", where, 1)) from None


def _print_banner(sb: Sandbox, args: argparse.Namespace) -> None:
    """Print the running sandbox's URLs, demo credentials, clock and the settings in force."""
    from bt_explore.models import Organization, wire_names

    clock = "pinned" if sb.state.clock.pinned else "wall clock"
    custom_id = wire_names(Organization).custom_id
    print("bt_explore sandbox of bookingtime's auth server and Module API v3")
    print(f"  token URL        {sb.auth_url}")
    print(f"  API URL          {sb.api_url}  (+ locale: en/ or de/)")
    print(f"  OpenAPI          {sb.openapi_url}")
    print(f"  client id        {sb.client_id}")
    print("  client secret    (empty)")
    print(f"  organization id  {sb.organization_id}")
    for branch in sb.state.data.branches_of(sb.organization_id):
        print(f"  branch           {branch['id']}  ({branch[custom_id]}, also accessible)")
    if sb.other_organization_id:
        print(f"  no access (403)  {sb.other_organization_id}  (the client alone; a person may)")
    print(f"  sign-in page     {sb.authorize_url}")
    for user in sb.state.signins.users.values():
        orgs = len(user.organization_ids)
        print(f"  demo user        {user.username} / {user.password}  ({orgs} organization(s))")
    org_tz = sb.state.data.org_rules[sb.organization_id].tz
    print(f"  clock            {sb.now().astimezone(org_tz).isoformat()} ({clock}, {org_tz.key})")
    if args.dialect != "clean":
        print(f"  dialect          {args.dialect}")
    if args.latency:
        print(f"  latency          {args.latency:g} ms")
    if args.fault_rate:
        print(
            f"  faults           {args.fault_rate:.0%} of API answers are one of "
            f"{','.join(map(str, args.fault_statuses))} (seed {args.seed})"
        )
    if sb.rate_limit is not None:
        print(f"  rate limit       {sb.rate_limit.rate:g} requests/s per client, bursts of "
              f"{sb.rate_limit.burst} (429 + Retry-After above it)")  # fmt: skip
    if args.request_log:
        print(f"  request log      {args.request_log}")


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
            dialect=args.dialect,
            faults={"rate": args.fault_rate, "statuses": args.fault_statuses}
            if args.fault_rate
            else None,
        )
    except ValueError as exc:
        return refuse("sandbox", exc, OPTIONS)
    try:
        sb.set_rate_limit(_rate_limit(args))
    except ValueError as exc:
        return refuse("sandbox", exc)
    if args.request_log:
        sb.state.log.on_add = _line_writer(args.request_log)
    try:
        sb.start()
    except OSError as exc:
        print(
            f"bt-explore sandbox: cannot listen on {args.host}:{args.port}: {exc}", file=sys.stderr
        )
        return 1
    _print_banner(sb, args)
    print("Press Ctrl-C to stop.", flush=True)
    try:
        with sigterm_as_ctrl_c():
            _block_until_interrupted()
    except KeyboardInterrupt:
        pass
    finally:
        sb.stop()  # logs "sandbox stopped"
    return 0
