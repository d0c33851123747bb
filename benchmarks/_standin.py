"""A stand-in server for the scan benchmark: recorded sandbox answers, served with latency only.

The sandbox computes every slot listing (≈10 ms of CPU per answer under one interpreter lock),
which on a 2-core machine is CPU the real service does not take from the client. This server
answers from a recording of the sandbox's own answers (so they are real), adding nothing but a
fixed latency per request, and optionally a gateway's rate limit (the sandbox's
:class:`~bt_explore.sandbox.ratelimit.TokenBuckets`: 429 + ``Retry-After`` + rate headers),
decided as a gateway in front of an API does: when a request arrives, refusing it at once and
passing on what it lets through, which then takes the latency.

Run it as its own process (``python -m benchmarks._standin RECORDING --latency 50``): it prints
``listening on http://127.0.0.1:PORT`` and serves until killed; ``--request-log FILE`` appends one
JSON line per request (``path``, ``query``, ``status``, ``grant_type``, ``throttled``), like
``bt-explore sandbox --request-log``.

A recording is a JSON object: ``"GET /path?query"`` → ``[status, content type, body]`` for the
API, ``"POST /oauth/token grant_type"`` → the same for the token endpoint (see
:func:`record_answers` in :mod:`benchmarks.scan`).

Example:
    >>> key("GET", "/module/v3/en/x", "a=1"), key("POST", "/oauth/token", grant="refresh_token")
    ('GET /module/v3/en/x?a=1', 'POST /oauth/token refresh_token')
"""

from __future__ import annotations

import argparse
import json
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

TOKEN_PATH = "/oauth/token"


def key(method: str, path: str, query: str = "", *, grant: str | None = None) -> str:
    """The recording's key of a request."""
    if path == TOKEN_PATH:
        return f"{method} {path} {grant}"
    return f"{method} {path}" + (f"?{query}" if query else "")


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, as the client's connection pool expects
    server: _StandIn

    def do_GET(self) -> None:  # noqa: N802 - http.server's name
        self._answer()

    def do_POST(self) -> None:  # noqa: N802 - http.server's name
        self._answer()

    def _answer(self) -> None:
        path, _, query = self.path.partition("?")
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        grant = parse_qs(body.decode("latin-1")).get("grant_type", [None])[0]
        headers: list[tuple[str, str]] = []
        throttled = False
        buckets = self.server.buckets
        if buckets is not None and buckets.applies(path):  # the gateway decides on arrival
            verdict = buckets.take(self.headers.get("Authorization", "-"))
            headers = verdict.headers(buckets.limit)
            if not self.server.rate_headers:  # a gateway that says only 429 + Retry-After
                headers = [h for h in headers if h[0] == "Retry-After"]
            throttled = not verdict.allowed
        if throttled:  # the gateway's own answer, at once
            status, kind, text = 429, "application/json", '{"messageList": [], "content": null}'
        else:  # what it lets through takes the API's latency
            time.sleep(self.server.latency)
            found = self.server.answers.get(key(self.command, path, query, grant=grant))
            status, kind, text = found or (404, "application/json", '{"messageList": []}')
        payload = text.encode("utf-8")
        self.server.log(path, query, status, grant, throttled)
        self.send_response(status)
        for name, value in [("Content-Type", kind), *headers]:
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - http.server's name
        pass


class _StandIn(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, answers: dict[str, Any], latency: float, buckets: Any, log: Path | None,
                 rate_headers: bool = True):  # fmt: skip
        super().__init__(("127.0.0.1", 0), _Handler)
        self.rate_headers = rate_headers
        self.answers = answers
        self.latency = latency
        self.buckets = buckets
        self._log = None if log is None else log.open("a", buffering=1)
        self._lock = threading.Lock()

    def log(self, path: str, query: str, status: int, grant: str | None, throttled: bool) -> None:
        if self._log is None:
            return
        line = json.dumps({"path": path, "query": query, "status": status,
                           "grant_type": grant, "throttled": throttled})  # fmt: skip
        with self._lock:
            self._log.write(line + "\n")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks._standin", description=__doc__)
    parser.add_argument("recording", type=Path)
    parser.add_argument("--latency", type=float, default=50, help="ms added per request")
    parser.add_argument("--rate-limit", default=None, metavar="N/s")
    parser.add_argument("--request-log", type=Path, default=None)
    parser.add_argument(
        "--no-rate-headers",
        action="store_true",
        help="with --rate-limit: send only Retry-After on a 429, no RateLimit-* headers",
    )
    args = parser.parse_args(argv)
    buckets = None
    if args.rate_limit:
        from bt_explore.sandbox.ratelimit import RateLimit, TokenBuckets

        buckets = TokenBuckets(RateLimit.parse(args.rate_limit))
    answers = json.loads(args.recording.read_text(encoding="utf-8"))
    server = _StandIn(
        answers, args.latency / 1000, buckets, args.request_log, not args.no_rate_headers
    )
    print(f"listening on http://127.0.0.1:{server.server_address[1]}", flush=True)
    try:
        server.serve_forever(poll_interval=0.05)
    except KeyboardInterrupt:
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
