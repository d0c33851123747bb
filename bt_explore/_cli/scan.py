"""``bt-explore scan``: every free slot of every template over the next weeks, from a terminal.

Example:
    $ bt-explore scan --weeks 4 --csv slots.csv
"""

from __future__ import annotations

import argparse
import sys
import time
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # pragma: no cover - pandas is imported only when the command runs
    import pandas as pd

HELP = "scan the free slots of every booking template over the next weeks (sandbox by default)"


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--weeks", type=int, default=4, help="how many weeks ahead to scan, from today (default 4)"
    )
    p.add_argument(
        "--csv", type=Path, metavar="FILE", help="also write every slot to this CSV file"
    )
    p.add_argument(
        "--live",
        action="store_true",
        help="scan bookingtime with your credentials (BOOKINGTIME_* variables or .env) "
        "instead of the built-in sandbox",
    )
    p.add_argument(
        "--template",
        action="append",
        metavar="ID",
        dest="templates",
        help="scan only this template id (repeatable; default: all templates)",
    )
    p.add_argument(
        "--organization",
        action="append",
        metavar="ID",
        dest="organizations",
        help="scan this organization (repeatable: several in one scan, e.g. a chain's branches; "
        "default: the configured one)",
    )
    p.add_argument(
        "--branches",
        action="store_true",
        help="also scan every branch of the organization(s) (organization/list)",
    )
    p.add_argument("--concurrency", type=int, default=8, help="parallel requests (default 8)")
    p.add_argument(
        "--checkpoint",
        type=Path,
        metavar="FILE",
        help="record each finished period in FILE; run the same scan again to send only what "
        "is missing (after a crash or Ctrl-C)",
    )
    p.add_argument("--no-progress", action="store_true", help="hide the progress bar")


def _summary(slots: pd.DataFrame) -> pd.DataFrame:
    """Per template (and organization, when several were scanned): slots, first and last slot,
    days with slots."""
    import pandas as pd

    keys = ["template_name", "template_id"]
    if "organization_id" in slots.columns:
        keys.insert(0, "organization_id")
    if slots.empty:
        columns = [*keys[:-2], "template", "template_id", "slots", "first", "last", "days"]
        return pd.DataFrame(columns=columns)
    grouped = slots.groupby(keys, sort=True)
    table = grouped.agg(
        slots=("slot_id", "size"),
        first=("start", "min"),
        last=("start", "max"),
        days=("start", lambda s: s.dt.date.nunique()),
    ).reset_index()
    table = table.rename(columns={"template_name": "template"})
    for col in ("first", "last"):
        table[col] = table[col].dt.strftime("%a %Y-%m-%d %H:%M")
    return table


def _organizations(client: Any, given: list[str] | None, branches: bool) -> list[str] | None:
    """The organizations to scan: ``given`` (default: the client's), plus their branches."""
    if not branches:
        return given
    chosen = list(given or [client.settings.organization_id])
    for organization_id in list(chosen):
        for branch in client.branches(organization_id=organization_id):
            if branch["id"] not in chosen:
                chosen.append(branch["id"])
    return chosen


def run(args: argparse.Namespace) -> int:
    from bt_explore.connection import connect
    from bt_explore.scan import pace_note, scan_slots

    if args.weeks < 1:
        print("bt-explore scan: --weeks must be at least 1", file=sys.stderr)
        return 2
    if args.concurrency < 1:
        print("bt-explore scan: --concurrency must be at least 1", file=sys.stderr)
        return 2
    if args.live:
        from bt_explore._cli import missing_live_settings

        problem = missing_live_settings("scan")
        if problem is not None:
            return problem
    client = connect(mode="live" if args.live else "sandbox")
    try:
        began = time.perf_counter()
        try:
            organizations = _organizations(client, args.organizations, args.branches)
            slots = scan_slots(
                client,
                args.templates,
                end=timedelta(weeks=args.weeks),
                concurrency=args.concurrency,
                progress=not args.no_progress,
                organization_id=organizations,
                checkpoint=args.checkpoint,
            )
        except ValueError as exc:  # an unknown --template id, a checkpoint of another scan
            print(f"bt-explore scan: {exc}", file=sys.stderr)
            return 2
        elapsed = time.perf_counter() - began
        pace = pace_note(client)
    finally:
        client.close()

    import pandas as pd

    with pd.option_context("display.width", 160, "display.max_columns", 10):
        table = _summary(slots)
        print(table.to_string(index=False) if len(table) else "no free slots in this range")
    print(
        f"\n{len(slots)} free slots in {slots['template_id'].nunique()} of "
        f"{slots.attrs.get('templates', 0)} template(s) over the next {args.weeks} week(s); "
        f"{slots.attrs.get('calls', 0)} slot calls in {elapsed:.2f} s"
        + (f" ({pace})" if pace else "")
    )
    if args.checkpoint:
        print(f"{slots.attrs.get('resumed', 0)} of them read from {args.checkpoint}")
    if args.csv:
        from bt_explore.export import save_frame

        save_frame(slots, args.csv)
        print(f"wrote {len(slots)} rows to {args.csv}")
    return 0
