"""Benchmark: slot scans over 8 weeks — what the client does with latency, with a server's rate
limit, and with a million slots.

Every scan uses a cold client (it fetches its tokens too), the clock pinned to a Monday, and
connects over HTTP to a server in its own process, as to any server:

1. **Latency only — the client's own figure.** A stand-in (:mod:`benchmarks._standin`) serves
   answers recorded once from the sandbox (so they are real) and adds nothing but 50 ms per
   request: the CPU it spends is the real service's, not ours. The same scan runs sequentially
   (``concurrency=1``) and with ``concurrency=8``, median of ``--repeat`` runs, for the demo
   practice (11 templates, 19 slot calls; also planned as one ``listWeek`` per week, the naive
   plan) and a practice chain of its templates and staff at 4 and at ``--branches`` locations
   (default 8: 88 templates, 152 slot calls; data written by :func:`write_branch_data`). The
   largest is **the target scan**: at least 95 % of the speedup latency alone allows
   (:func:`ceiling`: 7.1× for 152 calls at 8 threads, so ≥ 6.75×).
2. **The sandbox as its own process — the second figure.** The target scan against
   ``bt-explore sandbox --latency 50 --data DIR --request-log FILE``: the sandbox's CPU per
   answer shares the machine with the client. It also checks the requests the sandbox counted
   (exactly the planned slot calls, each once; 2 setup calls; 1 client-credentials + 1 refresh
   token request shared by 8 threads) and survives 10 % of API answers replaced by 429/503
   (``--fault-rate``, seeded) with the identical frame and no period missing.
3. **Behind a rate limit.** The target scan (8 threads, cold client, library defaults) against
   the stand-in enforcing a gateway's token bucket of 5 and of 20 requests a second (429 +
   ``Retry-After`` + rate headers above it). Targets: 0 missing periods, 429 answers ≤ 5 % of the
   answered API calls, wall time ≤ 1.15 × the ideal (answered API calls ÷ rate). Once more
   behind each rate from a gateway that sends only 429 + ``Retry-After`` (no rate headers,
   what bookingtime documents: the client's measured pace alone), against the same targets.
4. **Memory for a million slots.** A scan of 50 templates × 8 weeks × 360 slots a day
   (1,008,000 slots) from synthetic answers, in a child process: its peak resident memory above
   what the process held before the scan, and the frame's own size.

Exit status 0 when every correctness check passes (frames identical across servers, plans,
thread counts, faults and rate limits; request counts exact; nothing missing), 1 otherwise; the
speed and rate verdicts are printed (PASS/FAIL).

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
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from importlib import resources
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pandas as pd
import requests

import bt_explore
import bt_explore.scan as scan_module
from benchmarks._docs import run_and_write as write_docs
from bt_explore import periods, scan_slots
from bt_explore._subprocess import stop_process
from bt_explore.frames import slot_piece
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
        >>> len(json.loads((folder / "templates.json").read_text()))   # 3 × 11 + 3 other organizations'
        36
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


class StandInProcess(SandboxProcess):
    """:mod:`benchmarks._standin` in a process of its own, serving ``recording`` with
    ``latency`` ms per request (and ``rate_limit``, e.g. ``"5/s"``): same interface as
    :class:`SandboxProcess` (``client()``, ``requests()``, ``log_size()``)."""

    def __init__(self, folder: Path, recording: Recording, *, latency: float,
                 rate_limit: str | None = None, rate_headers: bool = True) -> None:  # fmt: skip
        self.log_path = folder / f"standin-{os.getpid()}-{id(self)}.jsonl"
        self.command = [
            sys.executable, "-m", "benchmarks._standin", str(recording.path),
            "--latency", f"{latency:g}", "--request-log", str(self.log_path),
        ]  # fmt: skip
        if rate_limit:
            self.command += ["--rate-limit", rate_limit]
        if not rate_headers:
            self.command.append("--no-rate-headers")
        self.info = {}
        self._recording = recording
        self._process = None

    def _read_banner(self, timeout: float = 60.0) -> None:
        assert self._process is not None
        deadline = time.monotonic() + timeout
        while "listening on" not in (text := self._out_path.read_text()):
            if self._process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("the stand-in did not start:\n" + text)
            time.sleep(0.05)
        url = text.split("listening on", 1)[1].split()[0]
        self.info = {"token URL": url + "/oauth/token", "API URL": url + "/module/v3/",
                     "client id": self._recording.client_id,
                     "organization id": self._recording.organization_id}  # fmt: skip

    def _wait_until_answering(self, timeout: float = 30.0) -> None:
        pass  # the banner is printed once the socket listens


@dataclass
class Recording:
    """Answers recorded from the sandbox for the stand-in: a JSON file and the ids to use."""

    path: Path
    client_id: str
    organization_id: str


def record_answers(folder: Path, branches: int, weeks: int) -> Recording:
    """Record every answer a scan (and, for the demo practice, the naive weekly plan) gets
    from an in-process sandbox with the benchmark's data and clock, for :class:`StandInProcess`."""
    from benchmarks._standin import TOKEN_PATH, key

    data = None
    if branches > 1:
        data = folder / f"data-{branches}"
        data.mkdir(exist_ok=True)
        write_branch_data(data, branches)
    answers: dict[str, Any] = {}

    def keep(response: requests.Response, *args: Any, **kwargs: Any) -> None:
        parts = urlsplit(response.request.url or "")
        grant = None
        if parts.path == TOKEN_PATH:
            body = response.request.body or ""
            text = body.decode("latin-1") if isinstance(body, bytes) else body
            grant = parse_qs(text).get("grant_type", [None])[0]
        name = key(response.request.method or "GET", parts.path, parts.query, grant=grant)
        answers[name] = [response.status_code, response.headers.get("Content-Type", ""),
                         response.text]  # fmt: skip

    with bt_explore.Sandbox(now=NOW, data_dir=data) as sb:
        plans = [None, weekly_plan] if branches == 1 else [None]
        for plan in plans:
            with _planner(plan), bt_explore.connect(sandbox=sb) as client:
                client.session.hooks["response"].append(keep)
                scan_slots(client, end=timedelta(weeks=weeks), progress=False)
        client_id, organization_id = sb.client_id, sb.organization_id
    path = folder / f"recording-{branches}.json"
    path.write_text(json.dumps(answers), encoding="utf-8")
    return Recording(path, client_id, organization_id)


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


def _verdict(ok: bool) -> str:
    return "PASS" if ok else "FAIL"


def latency_only(folder: Path, args: argparse.Namespace) -> tuple[bool, dict[int, Any], Recording]:
    """Part 1: the stand-in at every size; returns (checks passed, results, target recording)."""
    ok = True
    sizes = sorted({1, max(1, args.branches // 2), args.branches})
    results: dict[int, dict[str, Any]] = {}
    recording = None
    for branches in sizes:
        recording = record_answers(folder, branches, args.weeks)
        name = ("demo practice" if branches == 1
                else f"practice chain, {branches} branches")  # fmt: skip
        with StandInProcess(folder, recording, latency=args.latency) as server:
            res = results[branches] = measure(server, f"{name} (stand-in)", args)
            same = all(f.equals(res["frames"][1]) for f in res["frames"].values())
            ok &= same
            print(f"  same frame with 1 and {args.concurrency} threads: {same}")
            if branches == 1:
                naive = measure(server, "demo practice, one listWeek per week (naive plan)",
                                args, weekly_plan)  # fmt: skip
                same = naive["frames"][1].equals(res["frames"][1])
                ok &= same
                print(
                    f"  scan_slots with {args.concurrency} threads is "
                    f"{naive['seq'] / res['conc']:.1f}× faster than this naive plan on 1 thread;"
                    f" same frame: {same}"
                )
    assert recording is not None
    return ok, results, recording


def sandbox_process(reference: pd.DataFrame, args: argparse.Namespace) -> tuple[bool, float]:
    """Part 2: the target scan against ``bt-explore sandbox`` as its own process."""
    with _sandbox(args.branches, args.latency) as sb:
        res = measure(sb, f"practice chain, {args.branches} branches (bt-explore sandbox "
                          "--data DIR: its CPU shares the machine)", args)  # fmt: skip
        same = all(f.equals(reference) for f in res["frames"].values())
        print(f"  same frame as from the stand-in, with 1 and {args.concurrency} threads: {same}")
        ok = same and _check_requests(res, args.concurrency)
    ok &= _check_faults(reference, args)
    return ok, res["speedup"]


def rate_limited(
    folder: Path, recording: Recording, reference: pd.DataFrame, args: argparse.Namespace
) -> tuple[bool, bool]:
    """Part 3: the target scan behind each ``--rate-limits`` rate, with rate headers and
    without (429 + Retry-After only: the client's measured pace alone), each against the
    targets; returns (checks, targets) passed."""
    ok = targets = True
    print()
    print(f"the target scan behind a gateway's rate limit (stand-in, {args.latency:g} ms, "
          f"{args.concurrency} threads, cold client, library defaults):")  # fmt: skip
    runs = [(rate, headers) for rate in args.rate_limits for headers in (True, False)]
    for rate, headers in runs:
        frame, wall, api, pace = _limited_scan(folder, recording, args, rate, headers)
        refused = sum(r["throttled"] for r in api)
        answered = len(api) - refused
        share, ratio = refused / answered, wall / (answered / rate)
        missing = len(frame.attrs["missing"])
        same = frame.equals(reference)
        ok &= same and not missing
        met = share <= 0.05 and ratio <= 1.15
        targets &= met
        verdict = _verdict(met and same and not missing)
        what = "" if headers else " with no rate headers (429 + Retry-After only)"
        print(
            f"  {rate:g} req/s{what}: {answered} API calls answered, {refused} × 429 "
            f"({share:.1%} of answered; target ≤ 5%), wall {wall:.1f} s vs ideal "
            f"{answered / rate:.1f} s ({ratio:.2f}×; target ≤ 1.15×), {missing} missing periods, "
            f"identical frame: {same}; {pace!r} — {verdict}"
        )
    return ok, targets


def _limited_scan(
    folder: Path, recording: Recording, args: argparse.Namespace, rate: float, headers: bool
) -> tuple[pd.DataFrame, float, list[dict[str, Any]], Any]:
    """One cold scan of the target behind a stand-in limited to ``rate``; the frame, the wall
    time, the API requests the stand-in logged and the client's pace at the end."""
    with StandInProcess(folder, recording, latency=args.latency, rate_limit=f"{rate:g}/s",
                        rate_headers=headers) as server:  # fmt: skip
        since = server.log_size()
        with server.client() as client:
            began = time.perf_counter()
            frame = scan_slots(client, end=timedelta(weeks=args.weeks),
                               concurrency=args.concurrency, progress=False, errors="report")  # fmt: skip
            wall = time.perf_counter() - began
            pace = client.pace
        api = [r for r in server.requests(since) if r["path"].startswith("/module/")]
    return frame, wall, api, pace


def memory_child(slots_per_day: int, templates: int, weeks: int) -> dict[str, float]:
    """Scan ``templates`` × ``weeks`` × ``slots_per_day`` synthetic slots in this process;
    the peak resident memory above the level before the scan, and the frame's size (MB)."""
    import resource

    client = _SyntheticClient(templates, slots_per_day, weeks)
    before = _resident_mb()
    began = time.perf_counter()
    frame = scan_slots(client, end=timedelta(weeks=weeks), progress=False)
    seconds = time.perf_counter() - began
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # kB on Linux
    return {
        "slots": len(frame),
        "calls": frame.attrs["calls"],
        "seconds": seconds,
        "peak_mb": peak - before,
        "frame_mb": frame.memory_usage(deep=True).sum() / 2**20,
    }


def _resident_mb() -> float:
    with open("/proc/self/statm") as stream:
        return int(stream.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


class _SyntheticClient:
    """A client-like object answering slot calls with synthetic bodies, as bytes (a scan's
    threads pass them to the frames' decoder like a real answer's content)."""

    cassette = None
    pace = None

    def __init__(self, templates: int, slots_per_day: int, weeks: int) -> None:
        self._now = datetime.fromisoformat(NOW)
        self._per_day = slots_per_day
        latest = weeks * 7 - 1
        self._templates = [
            {"class": "BOOKING_TEMPLATE", "id": f"fc{i:030d}", "name": f"Template {i}",
             "bookingDayEarliest": 0, "bookingDayLatest": latest}
            for i in range(templates)
        ]  # fmt: skip

    def now(self) -> datetime:
        return self._now

    def organization(self, organization_id: str | None = None) -> dict[str, Any]:
        return {"class": "ORGANIZATION", "id": "f6" + "0" * 30, "timeZone": "Europe/Berlin"}

    def templates(self, organization_id: str | None = None) -> list[dict[str, Any]]:
        return self._templates

    # the two halves of a period call a scan uses, as bt_explore.Client has them
    def _slot_period_answer(
        self, template_id: str, kind: str, day: date, organization_id: Any
    ) -> requests.Response:
        first, stop = periods.period(kind).span(day)
        items = []
        step = max(1, 720 // self._per_day)
        for n in range((stop - first).days):
            d = first + timedelta(days=n)
            for i in range(self._per_day):
                minutes = 8 * 60 + i * step
                items.append(
                    f'{{"class":"BOOKING_SLOT","id":"4f{template_id[-12:]}{d:%Y%m%d}{i:04d}xxxxxx",'
                    f'"timestamp":"{d.isoformat()}T{minutes // 60:02d}:{minutes % 60:02d}:00+01:00",'
                    f'"bookingResourceCombination":["br{i % 7:030d}"]}}'
                )
        response = requests.Response()
        response.status_code = 200
        response._content = ('{"messageList":[],"content":{"class":"RANGE_LIST",'
            '"timeZone":"Europe/Berlin","list":[' + ",".join(items) + "]}}").encode()  # fmt: skip
        return response

    def _slot_period_piece(
        self, template_id: str, answer: requests.Response, organization_id: Any = None
    ) -> Any:
        return slot_piece(answer.content)


def memory(args: argparse.Namespace) -> None:
    """Part 4: the million-slot scan in a child process (its own memory, nothing else's)."""
    command = [sys.executable, "-m", "benchmarks.scan", "--memory-child"]
    done = subprocess.run(command, capture_output=True, text=True, check=True, timeout=1800)
    figures = json.loads(done.stdout.strip().splitlines()[-1])
    print()
    print(
        f"memory: a scan of {figures['slots']:,} slots ({MEMORY_TEMPLATES} templates × 8 weeks × "
        f"{MEMORY_SLOTS_PER_DAY} a day, {figures['calls']} calls of synthetic answers) in "
        f"{figures['seconds']:.1f} s: peak resident memory +{figures['peak_mb']:.0f} MB over "
        f"the process before the scan; the frame itself {figures['frame_mb']:.0f} MB"
    )


MEMORY_TEMPLATES = 50
MEMORY_SLOTS_PER_DAY = 360


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
        "--rate-limits",
        type=float,
        nargs="*",
        default=[5.0, 20.0],
        metavar="N",
        help="requests a second of the rate-limited scenarios (default 5 20)",
    )
    parser.add_argument("--no-memory", action="store_true", help="skip the million-slot scan")
    parser.add_argument("--memory-child", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument(
        "--write-docs",
        action="store_true",
        help="also write the output into the scan-figures block of docs/performance.md",
    )
    args = parser.parse_args(argv)
    if args.memory_child:
        print(json.dumps(memory_child(MEMORY_SLOTS_PER_DAY, MEMORY_TEMPLATES, 8)))
        return 0
    if args.write_docs:
        return write_docs("scan-figures", main, argv)

    print(
        f"slot scans over {args.weeks} weeks from {NOW[:10]} (each template cut to its booking "
        f"window); {args.latency:g} ms latency per request; cold client per run; median of "
        f"{args.repeat} runs; every server is its own process; CPU = the client's process"
    )
    with tempfile.TemporaryDirectory(prefix="bt-explore-bench-") as tmp:
        folder = Path(tmp)
        ok, results, recording = latency_only(folder, args)
        target = results[args.branches]
        reference = target["frames"][1]
        ceiling_ = ceiling(target["calls"], args.concurrency)
        fast = target["speedup"] >= 0.95 * ceiling_
        checks, sandbox_speedup = sandbox_process(reference, args)
        ok &= checks
        checks, rates_met = rate_limited(folder, recording, reference, args)
        ok &= checks
    if not args.no_memory:
        memory(args)

    print()
    print(
        f"speedup by scan size (stand-in: latency only; cold client, {args.concurrency} threads vs 1):"
    )
    for _, res in sorted(results.items()):
        allows = ceiling(res["calls"], args.concurrency)
        print(
            f"  {res['frames'][1].attrs['templates']:3d} templates, {res['calls']:4d} slot calls: "
            f"{res['speedup']:5.2f}×   (latency alone allows {allows:.1f}×: {res['speedup'] / allows:.0%})"
        )
    print(
        f"target scan ({args.branches} branches): {target['speedup']:.2f}× = "
        f"{target['speedup'] / ceiling_:.0%} of the {ceiling_:.1f}× latency ceiling "
        f"(target ≥ 95%: ≥ {0.95 * ceiling_:.2f}×) — {_verdict(fast)}; against the sandbox "
        f"process {sandbox_speedup:.2f}× (its CPU shares the machine)"
    )
    print(f"rate limits {', '.join(f'{r:g}' for r in args.rate_limits)} req/s, with and "
          "without rate headers: "
          f"{_verdict(rates_met)}")  # fmt: skip
    print()
    print("all correctness checks passed" if ok else "SOME CHECKS FAILED")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
