"""Benchmark: a slot scan of every demo template over 8 weeks, sequential vs concurrent.

Runs against an in-process ``Sandbox()`` that adds 50 ms of latency to every request, like a
far-away server. In one run it measures

- the same scan with ``concurrency=1`` and ``concurrency=8`` (median of ``--repeat`` runs each)
  and prints the speedup (target ≥ 5×; the ideal is 8×);
- the requests the scan sent, counted by the sandbox: slot calls (must equal the calls planned
  by :func:`bt_explore.scan.plan_slot_calls`), the two setup calls (organization, template list)
  and token requests (one client-credentials + one per organization for a cold client);
- the same scan with 10 % of the API answers replaced by 429/503 (seeded): the frame must be
  identical and no period missing.

Exit status 0 when every check passes and the target is met, 1 otherwise.

Example:
    $ python -m benchmarks.scan
    $ python -m benchmarks.scan --weeks 4 --repeat 1
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections import Counter
from datetime import timedelta
from typing import Any

import pandas as pd

from bt_explore import Client, Sandbox, Settings, scan_slots

TARGET_SPEEDUP = 5.0
#: The sandbox clock, pinned so every run scans the same days (a Monday morning in Berlin).
NOW = "2026-12-07T08:00:00+01:00"


def _client(sb: Sandbox) -> Client:
    """A cold client for the sandbox's demo organization (no token yet), on its clock."""
    settings = Settings(
        client_id=sb.client_id,
        client_secret=sb.client_secret,
        organization_id=sb.organization_id,
        auth_url=sb.auth_url,
        api_url=sb.api_url,
        env_file=None,
    )
    return Client(settings, clock=sb.now)


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

    ok = True
    with Sandbox(now=NOW) as sb:
        sb.set_faults(latency_ms=args.latency)
        times: dict[int, list[float]] = {1: [], args.concurrency: []}
        frames: dict[int, pd.DataFrame] = {}
        seen: dict[int, dict[str, Any]] = {}
        for _ in range(args.repeat):
            for conc in times:
                frame, elapsed, seen[conc] = _scan(sb, args.weeks, conc)
                times[conc].append(elapsed)
                frames.setdefault(conc, frame)
        reference = frames[1]
        n_templates = reference.attrs["templates"]
        planned = reference.attrs["calls"]

        seq, conc = (statistics.median(times[c]) for c in times)
        speedup = seq / conc
        rounds = -(-planned // args.concurrency)
        print(
            f"scan: {n_templates} templates × {args.weeks} weeks from {NOW[:10]} (each cut to its"
        )
        print(
            f"      bookable window) → {planned} planned slot calls, {len(reference)} free slots;"
        )
        print(
            f"      {args.latency:g} ms latency per request; median of {args.repeat} cold runs each"
        )
        print()
        for c in times:
            print(
                f"  concurrency={c:<3d} {statistics.median(times[c]):6.2f} s   "
                f"(CPU {seen[c]['cpu']:.2f} s, client and in-process sandbox together)"
            )
        verdict = "meets" if speedup >= TARGET_SPEEDUP else "BELOW"
        print(f"  speedup         {speedup:6.2f}×  ({verdict} the ≥ {TARGET_SPEEDUP:g}× target)")
        print(
            f"  floor at {args.concurrency} threads: {rounds} rounds × {args.latency:g} ms = "
            f"{rounds * args.latency / 1000:.2f} s of latency, and the CPU time above, which "
            "one GIL serialises"
        )
        ok &= speedup >= TARGET_SPEEDUP
        same = frames[1].equals(frames[args.concurrency])
        print(f"  same frame sequential and concurrent: {same}")
        ok &= same

        print()
        print("requests of one cold concurrent scan (counted by the sandbox):")
        s = seen[args.concurrency]
        exact = s["slot_requests"] == s["distinct_slot_calls"] == planned
        print(
            f"  slot calls      {s['slot_requests']:5d}  (planned {planned}; "
            f"{'exactly the planned calls' if exact else 'MISMATCH'})"
        )
        print(f"  setup calls     {s['setup_requests']:5d}  (organization + template list)")
        print(
            f"  token requests  {s['client_credentials'] + s['refresh']:5d}  "
            f"({s['client_credentials']} client credentials + {s['refresh']} refresh for 1 "
            "organization)"
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
        sb.set_faults(latency_ms=0)
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
    print("all checks passed" if ok else "SOME CHECKS FAILED")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
