"""Benchmark: slot scans over 8 weeks, sequential (``concurrency=1``) vs ``concurrency=8``.

Runs against the sandbox as its own process, as a real server would be: ``bt-explore sandbox
--port 0 --now ... --latency 50 [--data DIR] --request-log FILE`` (clock pinned to a Monday,
50 ms of latency on every request, like a far-away server), started with :mod:`subprocess`,
waited for until it answers and stopped at the end. The client connects to it over HTTP as to
any server, with a cold client for every run (so each scan also fetches its tokens). ``scan_slots`` always plans the fewest month/week/day calls that cover each
template's window (:func:`bt_explore.scan.plan_calls`). In one run it measures, median of
``--repeat`` runs each, the same scan at three sizes:

- the demo practice itself (``Sandbox()``: 11 templates, 19 slot calls), and, for comparison,
  that scan planned as one ``listWeek`` per ISO week (the naive plan: more calls, slower);
- a practice chain: the demo practice's templates and staff/rooms at 4 and at ``--branches``
  locations (default 8: 88 templates, 152 slot calls), served from a data folder written by
  :func:`write_branch_data` (``--data DIR``). The largest is **the target scan**:
  speedup target ≥ 5.5× (the ideal is 8×).

For every size it prints the ceiling that latency alone allows. A cold concurrent scan waits
for at least 2 token round trips, 1 setup round trip (organization and template list at once)
and ⌈calls / 8⌉ rounds of slot calls, where the sequential scan waits for 2 + 2 + calls: 19
calls allow at most 3.8× whatever the implementation, 152 calls allow 7.1×. The speedup of a
thread pool is a property of scans with many more calls than threads, hence the chain.

For the target scan it also checks the requests of a concurrent scan, counted by the sandbox in
its request log (exactly the planned slot calls, each once; the two setup calls; one
client-credentials + one refresh token request shared by the 8 threads), and runs it against a
second sandbox process that answers 10 % of the API requests with 429/503 (``--fault-rate``,
seeded): the frame must be identical and no period missing.

Exit status 0 when every correctness check passes (frames identical across plans, thread counts
and faults; request counts exact), 1 otherwise; the speedup verdicts are printed.

Example:
    $ python -m benchmarks.scan
    $ python -m benchmarks.scan --branches 4 --repeat 1
"""

from __future__ import annotations

import argparse
import contextlib
import copy
import json
import math
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Iterator
from datetime import date, datetime, timedelta
from importlib import resources
from pathlib import Path
from typing import Any

import pandas as pd
import requests

import bt_explore
import bt_explore.scan as scan_module
from benchmarks._docs import run_and_write as write_docs
from bt_explore import scan_slots
from bt_explore._subprocess import stop_process
from bt_explore.scan import SlotCall

TARGET_SPEEDUP = 5.5
#: The sandbox clock, pinned so every run scans the same days (a Monday morning in Berlin).
NOW = "2026-12-07T08:00:00+01:00"
#: Round trips before the first slot call: client credentials, then the organization's token.
TOKEN_ROUND_TRIPS = 2
#: Setup calls of a scan (organization for its time zone, template list): one round when
#: concurrent, two when sequential.
SETUP_CALLS = 2


class SandboxProcess:
    """``bt-explore sandbox`` in a process of its own: started, waited for, stopped.

    The sandbox writes every request it answers to a request log file, which :meth:`requests`
    reads: the counts come from the server, as with ``Sandbox.requests``.
    """

    def __init__(self, folder: Path, *, latency: float, data: Path | None = None,
                 fault_rate: float = 0.0, statuses: str = "429,503", seed: int = 0) -> None:  # fmt: skip
        self.log_path = folder / f"requests-{os.getpid()}-{id(self)}.jsonl"
        self.command = [
            sys.executable, "-m", "bt_explore", "sandbox", "--port", "0", "--now", NOW,
            "--latency", f"{latency:g}", "--seed", str(seed), "--request-log", str(self.log_path),
        ]  # fmt: skip
        if data is not None:
            self.command += ["--data", str(data)]
        if fault_rate:
            self.command += ["--fault-rate", str(fault_rate), "--fault-statuses", statuses]
        self.info: dict[str, str] = {}
        self._process: subprocess.Popen[bytes] | None = None

    def __enter__(self) -> SandboxProcess:
        # Output to a file, not a pipe: a pipe nobody reads would block a chatty sandbox.
        self._out_path = self.log_path.with_suffix(".out")
        with self._out_path.open("w") as out:
            self._process = subprocess.Popen(self.command, stdout=out, stderr=subprocess.STDOUT)
        try:
            self._read_banner()
            self._wait_until_answering()
        except BaseException:
            self.stop()
            raise
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    def _read_banner(self, timeout: float = 60.0) -> None:
        """Wait for the banner the sandbox prints once it listens; keep its URLs and ids."""
        assert self._process is not None
        deadline = time.monotonic() + timeout
        while True:
            text = self._out_path.read_text()
            if "Press Ctrl-C" in text:
                break
            if self._process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("bt-explore sandbox did not start:\n" + text)
            time.sleep(0.05)
        for line in text.splitlines():
            name, _, value = line.strip().partition("  ")
            if value.strip():
                self.info[name] = value.split()[0]

    def _wait_until_answering(self, timeout: float = 30.0) -> None:
        deadline = time.monotonic() + timeout
        while True:
            try:
                if requests.get(self.base_url + "/", timeout=2).status_code == 200:
                    return
            except requests.ConnectionError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(f"the sandbox at {self.base_url} does not answer")
            time.sleep(0.05)

    @property
    def base_url(self) -> str:
        return self.info["token URL"].removesuffix("/oauth/token")

    def stop(self) -> None:
        """SIGTERM (the sandbox stops as on Ctrl-C), then kill if it does not end in 10 s."""
        process, self._process = self._process, None
        if process is not None:
            stop_process(process, timeout=10)

    def client(self) -> bt_explore.Client:
        """A cold client of the sandbox's demo organization, as of any server over HTTP."""
        pinned = datetime.fromisoformat(NOW)
        return bt_explore.connect(
            mode="live", client_id=self.info["client id"], client_secret="",
            organization_id=self.info["organization id"], auth_url=self.info["token URL"],
            api_url=self.info["API URL"], env_file=None, clock=lambda: pinned,
        )  # fmt: skip

    def log_size(self) -> int:
        return self.log_path.stat().st_size if self.log_path.exists() else 0

    def requests(self, since: int = 0) -> list[dict[str, Any]]:
        """The requests the sandbox logged after byte ``since`` of its log (see log_size)."""
        with self.log_path.open("rb") as stream:
            stream.seek(since)
            return [json.loads(line) for line in stream if line.strip()]


def write_branch_data(folder: Path, branches: int) -> None:
    """Write sandbox data files (``Sandbox(data_dir=folder)``) for the demo practice with
    ``branches`` locations: location 1 is the demo practice as it is; locations 2… copy its
    templates and staff/rooms (new ids, names ending in "(branch N)"), each copy booking its
    own copies of the resources. Everything else comes from the demo data.

    Example:
        >>> import tempfile
        >>> folder = Path(tempfile.mkdtemp())
        >>> write_branch_data(folder, 3)
        >>> len(json.loads((folder / "templates.json").read_text()))   # 3 × 11 + Studio Wien's
        34
    """
    data = resources.files("bt_explore.sandbox").joinpath("data")

    def load(name: str) -> list[dict[str, Any]]:
        return json.loads(data.joinpath(name).read_text(encoding="utf-8"))

    organization = load("clients.json")[0]["organizationIds"][0]
    templates, staff = load("templates.json"), load("resources.json")
    all_templates, all_staff = list(templates), list(staff)
    for branch in range(2, branches + 1):
        all_staff += [
            _branch_copy(r, branch) for r in staff if r["_organizationId"] == organization
        ]
        for template in templates:
            if template["_organizationId"] != organization:
                continue
            twin = _branch_copy(template, branch)
            for step in twin["bookingStepList"]:
                step["_bookingResourceIdList"] = [
                    _branch_id(r, branch) for r in step.get("_bookingResourceIdList") or []
                ]
            all_templates.append(twin)
    ids = [r["id"] for r in all_templates + all_staff]
    assert len(ids) == len(set(ids)), "branch ids collide with demo ids"
    (folder / "templates.json").write_text(json.dumps(all_templates), encoding="utf-8")
    (folder / "resources.json").write_text(json.dumps(all_staff), encoding="utf-8")


def _branch_id(original: str, branch: int) -> str:
    # same prefix and length; "x" + two digits never occur there in the demo ids
    return f"{original[:2]}x{branch:02d}{original[5:]}"


def _branch_copy(record: dict[str, Any], branch: int) -> dict[str, Any]:
    twin = copy.deepcopy(record)
    twin["id"] = _branch_id(record["id"], branch)
    twin["name"] = f"{record['name']} (branch {branch})"
    if record.get("customId"):
        twin["customId"] = f"{record['customId']}-{branch}"
    return twin


def weekly_plan(start: date, end: date) -> list[SlotCall]:
    """One ``listWeek`` per ISO week touching ``[start, end)``: the naive plan, for comparison."""
    monday = start - timedelta(days=start.weekday())
    calls = []
    while monday < end:
        calls.append(SlotCall("week", monday, monday + timedelta(days=7)))
        monday += timedelta(days=7)
    return calls


@contextlib.contextmanager
def _planner(plan: Callable[[date, date], list[SlotCall]] | None) -> Iterator[None]:
    original = scan_module.plan_calls
    if plan is not None:
        scan_module.plan_calls = plan
    try:
        yield
    finally:
        scan_module.plan_calls = original


def _scan(
    sb: SandboxProcess, weeks: int, concurrency: int
) -> tuple[pd.DataFrame, float, dict[str, Any]]:
    """One scan with a cold client; returns the frame, the seconds it took and what the
    sandbox saw."""
    since = sb.log_size()
    with sb.client() as client:
        began, cpu = time.perf_counter(), time.process_time()
        frame = scan_slots(
            client, end=timedelta(weeks=weeks), concurrency=concurrency, progress=False
        )
        elapsed = time.perf_counter() - began
        cpu = time.process_time() - cpu
    records = sb.requests(since)
    api = [r for r in records if r["path"].startswith("/module/")]
    slot_paths = [r for r in api if "/bookingSlot/" in r["path"]]
    seen = {
        "slot_requests": len(slot_paths),
        "distinct_slot_calls": len({(r["path"], r["query"]) for r in slot_paths}),
        "setup_requests": len(api) - len(slot_paths),
        "client_credentials": sum(r["grant_type"] == "client_credentials" for r in records),
        "refresh": sum(r["grant_type"] == "refresh_token" for r in records),
        "statuses": Counter(r["status"] for r in api),
        "cpu": cpu,
    }
    return frame, elapsed, seen


def ceiling(calls: int, concurrency: int) -> float:
    """The speedup latency alone allows a cold scan of ``calls`` slot calls (zero CPU).

    Example:
        >>> round(ceiling(19, 8), 2), round(ceiling(152, 8), 2)
        (3.83, 7.09)
    """
    sequential = TOKEN_ROUND_TRIPS + SETUP_CALLS + calls
    concurrent = TOKEN_ROUND_TRIPS + 1 + math.ceil(calls / concurrency)
    return sequential / concurrent


def measure(
    sb: SandboxProcess,
    name: str,
    args: argparse.Namespace,
    plan: Callable[[date, date], list[SlotCall]] | None = None,
) -> dict[str, Any]:
    """Scan ``args.repeat`` times per thread count, alternating; print and return the figures."""
    threads = (1, args.concurrency)
    times: dict[int, list[float]] = {c: [] for c in threads}
    cpu: dict[int, list[float]] = {c: [] for c in threads}
    frames: dict[int, pd.DataFrame] = {}
    seen: dict[int, dict[str, Any]] = {}
    with _planner(plan):
        _scan(sb, args.weeks, args.concurrency)  # warm-up: imports on both sides
        for _ in range(args.repeat):
            for c in threads:
                frame, elapsed, seen[c] = _scan(sb, args.weeks, c)
                times[c].append(elapsed)
                cpu[c].append(seen[c]["cpu"])
                frames.setdefault(c, frame)
    calls = frames[1].attrs["calls"]
    seq, conc = (statistics.median(times[c]) for c in threads)
    speedup = seq / conc
    print()
    print(
        f"{name}: {frames[1].attrs['templates']} templates, {calls} slot calls, "
        f"{len(frames[1])} free slots"
    )
    for c in threads:
        print(
            f"  concurrency={c:<3d} {statistics.median(times[c]):6.2f} s   "
            f"(CPU {statistics.median(cpu[c]):.2f} s)"
        )
    print(
        f"  speedup         {speedup:6.2f}×  (latency alone allows at most "
        f"{ceiling(calls, args.concurrency):.1f}×)"
    )
    return {
        "speedup": speedup, "frames": frames, "seen": seen, "calls": calls, "seq": seq,
        "conc": conc,
    }  # fmt: skip


@contextlib.contextmanager
def _sandbox(branches: int, latency: float, **faults: Any) -> Iterator[SandboxProcess]:
    """A sandbox process serving the demo practice (``branches == 1``: the demo data) or a
    chain of it; ``faults`` are :class:`SandboxProcess` fault arguments."""
    with tempfile.TemporaryDirectory(prefix="bt-explore-bench-") as folder:
        data = None
        if branches > 1:
            data = Path(folder) / "data"
            data.mkdir()
            write_branch_data(data, branches)
        with SandboxProcess(Path(folder), latency=latency, data=data, **faults) as sb:
            yield sb


def _check_requests(res: dict[str, Any], concurrency: int) -> bool:
    print()
    print("requests of one cold concurrent scan of the target (counted by the sandbox):")
    s = res["seen"][concurrency]
    planned = res["calls"]
    exact = s["slot_requests"] == s["distinct_slot_calls"] == planned
    print(
        f"  slot calls      {s['slot_requests']:5d}  (planned {planned}; "
        f"{'exactly the planned calls, each once' if exact else 'MISMATCH'})"
    )
    print(f"  setup calls     {s['setup_requests']:5d}  (organization + template list)")
    print(
        f"  token requests  {s['client_credentials'] + s['refresh']:5d}  "
        f"({s['client_credentials']} client credentials + {s['refresh']} refresh for 1 "
        f"organization, shared by {concurrency} threads)"
    )
    return (
        exact
        and s["setup_requests"] == SETUP_CALLS
        and s["client_credentials"] == 1
        and s["refresh"] == 1
    )


def _check_faults(reference: pd.DataFrame, args: argparse.Namespace) -> bool:
    print()
    faults = {"fault_rate": args.fault_rate, "statuses": "429,503", "seed": args.seed}
    with _sandbox(args.branches, args.latency, **faults) as sb:
        faulty, elapsed, s = _scan(sb, args.weeks, args.concurrency)
    injected = s["statuses"][429] + s["statuses"][503]
    identical = faulty.equals(reference)
    missing = faulty.attrs.get("missing", [])
    print(
        f"the target scan with {args.fault_rate:.0%} of API answers replaced by 429/503 "
        f"(seed {args.seed}): {s['statuses'][429]} × 429 and {s['statuses'][503]} × 503 "
        f"injected, {s['slot_requests'] + s['setup_requests']} API requests, {elapsed:.2f} s"
    )
    print(f"  identical frame: {identical}; missing periods: {len(missing)}")
    return identical and not missing and injected > 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.scan", description=__doc__)
    parser.add_argument("--weeks", type=int, default=8, help="scan range from today (default 8)")
    parser.add_argument(
        "--branches",
        type=int,
        default=8,
        help="locations of the practice chain of the target scan (default 8: 88 templates)",
    )
    parser.add_argument("--latency", type=float, default=50, help="ms added per request")
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--repeat", type=int, default=3, help="runs per variant (median)")
    parser.add_argument("--fault-rate", type=float, default=0.1)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument(
        "--write-docs",
        action="store_true",
        help="also write the output into the scan-figures block of docs/performance.md",
    )
    args = parser.parse_args(argv)
    if args.write_docs:
        return write_docs("scan-figures", main, argv)

    print(
        f"slot scans over {args.weeks} weeks from {NOW[:10]} (each template cut to its booking "
        f"window); {args.latency:g} ms latency per request; cold client per run; median of "
        f"{args.repeat} runs; the sandbox is its own process (bt-explore sandbox); "
        f"CPU = the client's process"
    )
    ok = True
    sizes = sorted({1, max(1, args.branches // 2), args.branches})
    results: dict[int, dict[str, Any]] = {}
    for branches in sizes:
        name = (
            "demo practice (bt-explore sandbox)"
            if branches == 1
            else f"practice chain, {branches} branches (bt-explore sandbox --data DIR)"
        )
        with _sandbox(branches, args.latency) as sb:
            res = results[branches] = measure(sb, name, args)
            same = all(f.equals(res["frames"][1]) for f in res["frames"].values())
            ok &= same
            print(f"  same frame with 1 and {args.concurrency} threads: {same}")
            if branches == 1:
                naive = measure(sb, "demo practice, one listWeek per week (naive plan)", args,
                                weekly_plan)  # fmt: skip
                same = naive["frames"][1].equals(res["frames"][1])
                ok &= same
                print(
                    f"  scan_slots with {args.concurrency} threads is "
                    f"{naive['seq'] / res['conc']:.1f}× faster than this naive plan on 1 thread;"
                    f" same frame: {same}"
                )
            if branches == args.branches:
                target = res
                verdict = "meets" if res["speedup"] >= TARGET_SPEEDUP else "BELOW"
                print(f"  → the target scan: {verdict} the ≥ {TARGET_SPEEDUP:g}× target")
                ok &= _check_requests(res, args.concurrency)
                ok &= _check_faults(res["frames"][1], args)

    print()
    print("speedup by scan size (cold client, 8 threads vs 1):")
    for branches in sizes:
        res = results[branches]
        print(
            f"  {res['frames'][1].attrs['templates']:3d} templates, {res['calls']:4d} slot calls: "
            f"{res['speedup']:5.2f}×   (latency alone allows {ceiling(res['calls'], args.concurrency):.1f}×)"
        )
    verdict = "meets" if target["speedup"] >= TARGET_SPEEDUP else "is BELOW"
    print(f"target scan ({args.branches} branches): {target['speedup']:.2f}× {verdict} the "
          f"≥ {TARGET_SPEEDUP:g}× target")  # fmt: skip
    print()
    print("all correctness checks passed" if ok else "SOME CHECKS FAILED")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
