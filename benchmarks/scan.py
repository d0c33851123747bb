"""Benchmark: a slot scan of every demo template over 8 weeks, sequential vs concurrent.

Runs against an in-process ``Sandbox()`` (clock pinned to a Monday) that adds 50 ms of latency
to every request, like a far-away server, with a cold client for every run. In one run it
measures

- the scan as users run it (the fewest month/week/day calls, :func:`bt_explore.scan.plan_calls`)
  with ``concurrency=1`` and ``concurrency=8``, median of ``--repeat`` runs each, and the speedup
  (target ≥ 5×; the ideal is 8×);
- for comparison, the same scan planned as one ``listWeek`` per ISO week (templates × weeks
  calls, the naive plan): more calls, so more for the threads to overlap, but slower overall;
- the requests of a concurrent scan, counted by the sandbox: slot calls (exactly the planned
  ones, each once), the two setup calls (organization, template list) and the token requests
  (one client-credentials + one refresh for the organization);
- the same scan with 10 % of the API answers replaced by 429/503 (seeded): the frame must be
  identical and no period missing.

Exit status 0 when every correctness check passes (frames identical across plans, thread counts
and faults; request counts exact), 1 otherwise; the speedup verdicts are printed.

Example:
    $ python -m benchmarks.scan
    $ python -m benchmarks.scan --weeks 4 --repeat 1
"""

from __future__ import annotations

import argparse
import contextlib
import statistics
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterator
from datetime import date, timedelta
from typing import Any

import pandas as pd

import bt_explore.scan as scan_module
from bt_explore import Client, Sandbox, scan_slots
from bt_explore.scan import SlotCall

TARGET_SPEEDUP = 5.0
#: The sandbox clock, pinned so every run scans the same days (a Monday morning in Berlin).
NOW = "2026-12-07T08:00:00+01:00"


def weekly_plan(start: date, end: date) -> list[SlotCall]:
    """One ``listWeek`` per ISO week touching ``[start, end)``: the naive plan, for comparison."""
    monday = start - timedelta(days=start.weekday())
    calls = []
    while monday < end:
        calls.append(SlotCall("week", monday, monday + timedelta(days=7)))
        monday += timedelta(days=7)
    return calls


PLANS: dict[str, Callable[[date, date], list[SlotCall]]] = {
    "fewest calls (what scan_slots does)": scan_module.plan_calls,
    "one listWeek per week (naive)": weekly_plan,
}


@contextlib.contextmanager
def _planner(plan: Callable[[date, date], list[SlotCall]]) -> Iterator[None]:
    original = scan_module.plan_calls
    scan_module.plan_calls = plan
    try:
        yield
    finally:
        scan_module.plan_calls = original


def _client(sb: Sandbox) -> Client:
    """A cold client for the sandbox's demo organization (no token yet), on its clock."""
    return sb.client()


def _scan(sb: Sandbox, weeks: int, concurrency: int) -> tuple[pd.DataFrame, float, dict[str, Any]]:
    """One cold scan; returns the frame, the seconds it took and what the sandbox saw."""
    sb.clear_requests()
    with _client(sb) as client:
        began, cpu = time.perf_counter(), time.process_time()
        frame = scan_slots(
            client, end=timedelta(weeks=weeks), concurrency=concurrency, progress=False
        )
        elapsed = time.perf_counter() - began
        cpu = time.process_time() - cpu
    records = sb.requests
    api = [r for r in records if r.path.startswith("/module/")]
    slot_paths = [r for r in api if "/bookingSlot/" in r.path]
    seen = {
        "slot_requests": len(slot_paths),
        "distinct_slot_calls": len({(r.path, r.query) for r in slot_paths}),
        "setup_requests": len(api) - len(slot_paths),
        "client_credentials": sum(r.grant_type == "client_credentials" for r in records),
        "refresh": sum(r.grant_type == "refresh_token" for r in records),
        "statuses": Counter(r.status for r in api),
        "cpu": cpu,
    }
    return frame, elapsed, seen


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.scan", description=__doc__)
    parser.add_argument("--weeks", type=int, default=8, help="scan range from today (default 8)")
    parser.add_argument("--latency", type=float, default=50, help="ms added per request")
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--repeat", type=int, default=3, help="runs per variant (median)")
    parser.add_argument("--fault-rate", type=float, default=0.1)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args(argv)
    threads = (1, args.concurrency)

    ok = True
    with Sandbox(now=NOW) as sb:
        sb.set_faults(latency_ms=args.latency)
        _scan(sb, args.weeks, args.concurrency)  # warm-up: imports, the sandbox's caches
        results: dict[str, dict[int, Any]] = {}
        for name, plan in PLANS.items():
            times: dict[int, list[float]] = {c: [] for c in threads}
            cpu: dict[int, list[float]] = {c: [] for c in threads}
            frames: dict[int, pd.DataFrame] = {}
            seen: dict[int, dict[str, Any]] = {}
            with _planner(plan):
                for _ in range(args.repeat):
                    for c in threads:
                        frame, elapsed, seen[c] = _scan(sb, args.weeks, c)
                        times[c].append(elapsed)
                        cpu[c].append(seen[c]["cpu"])
                        frames.setdefault(c, frame)
            results[name] = {"times": times, "cpu": cpu, "frames": frames, "seen": seen}

        fewest = results[next(iter(PLANS))]
        reference = fewest["frames"][1]
        print(
            f"scan: {reference.attrs['templates']} templates × {args.weeks} weeks from "
            f"{NOW[:10]} (each cut to its booking window), {len(reference)} free slots;"
        )
        print(
            f"      {args.latency:g} ms latency per request; cold client per run; median of "
            f"{args.repeat} runs; CPU = client and in-process sandbox together"
        )
        for name, res in results.items():
            calls = res["frames"][1].attrs["calls"]
            seq, conc = (statistics.median(res["times"][c]) for c in threads)
            speedup = seq / conc
            verdict = "meets" if speedup >= TARGET_SPEEDUP else "below"
            print()
            print(f"{name}: {calls} slot calls")
            for c in threads:
                print(
                    f"  concurrency={c:<3d} {statistics.median(res['times'][c]):6.2f} s   "
                    f"(CPU {statistics.median(res['cpu'][c]):.2f} s)"
                )
            print(
                f"  speedup         {speedup:6.2f}×  ({verdict} the ≥ {TARGET_SPEEDUP:g}× target)"
            )
            for c in threads:
                same = res["frames"][c].equals(reference)
                ok &= same
                if not same:
                    print(f"  FRAME DIFFERS from the reference at concurrency={c}")
        naive_seq = statistics.median(results[list(PLANS)[1]]["times"][1])
        best = statistics.median(fewest["times"][args.concurrency])
        print()
        print(
            f"scan_slots (fewest calls, {args.concurrency} threads) vs the naive sequential scan "
            f"(a listWeek per week, 1 thread): {naive_seq / best:.1f}× faster"
        )
        print("same frame for every plan and thread count:", ok)

        print()
        print("requests of one cold concurrent scan (counted by the sandbox):")
        s = fewest["seen"][args.concurrency]
        planned = reference.attrs["calls"]
        exact = s["slot_requests"] == s["distinct_slot_calls"] == planned
        print(
            f"  slot calls      {s['slot_requests']:5d}  (planned {planned}; "
            f"{'exactly the planned calls, each once' if exact else 'MISMATCH'})"
        )
        print(f"  setup calls     {s['setup_requests']:5d}  (organization + template list)")
        print(
            f"  token requests  {s['client_credentials'] + s['refresh']:5d}  "
            f"({s['client_credentials']} client credentials + {s['refresh']} refresh for 1 "
            f"organization, shared by {args.concurrency} threads)"
        )
        ok &= exact and s["setup_requests"] == 2
        ok &= s["client_credentials"] == 1 and s["refresh"] == 1

        print()
        sb.set_faults(
            latency_ms=args.latency,
            rate=args.fault_rate,
            statuses=(429, 503),
            seed=args.seed,
        )
        faulty, elapsed, s = _scan(sb, args.weeks, args.concurrency)
        sb.clear_faults()
        injected = s["statuses"][429] + s["statuses"][503]
        identical = faulty.equals(reference)
        missing = faulty.attrs.get("missing", [])
        print(
            f"with {args.fault_rate:.0%} of API answers replaced by 429/503 (seed {args.seed}): "
            f"{s['statuses'][429]} × 429 and {s['statuses'][503]} × 503 injected, "
            f"{s['slot_requests'] + s['setup_requests']} API requests, {elapsed:.2f} s"
        )
        print(f"  identical frame: {identical}; missing periods: {len(missing)}")
        ok &= identical and not missing and injected > 0
    print()
    print("all correctness checks passed" if ok else "SOME CHECKS FAILED")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
