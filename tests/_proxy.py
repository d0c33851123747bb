"""A test proxy in front of a sandbox that answers like a drifted or broken service.

It forwards every request to the sandbox and serves the sandbox's root document with its own
address, so ``bt-explore verify --sandbox PROXY_URL`` walks through it. ``drift=True`` gives
every BOOKING_TEMPLATE in an answer an undeclared field (``color``) and a field of another type
(``duration`` as a string); ``html``, ``slow`` and ``deny`` name paths (regular expressions)
answered with an HTML page, after ``slow_seconds``, or with 403.
"""

from __future__ import annotations

import json
import re
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import requests
from werkzeug.serving import make_server
from werkzeug.wrappers import Request, Response


@dataclass
class ProxyRules:
    drift: bool = False
    html: str | None = None
    slow: str | None = None
    slow_seconds: float = 3.0
    deny: str | None = None
    seen: list[tuple[str, str]] = field(default_factory=list)


def _drift(value: Any) -> Any:
    if isinstance(value, dict):
        value = {k: _drift(v) for k, v in value.items()}
        if value.get("class") == "BOOKING_TEMPLATE":
            value["color"] = "#ff0000"
            value["duration"] = str(value["duration"])
        return value
    if isinstance(value, list):
        return [_drift(v) for v in value]
    return value


@contextmanager
def proxy(upstream: str, rules: ProxyRules) -> Iterator[str]:
    """A proxy on a free loopback port in front of ``upstream``; yields its base URL."""
    session = requests.Session()
    session.trust_env = False
    base: dict[str, str] = {}

    @Request.application
    def app(request: Request) -> Response:
        path = request.path
        rules.seen.append((request.method, path))
        if path == "/":
            root = session.get(upstream + "/", timeout=10).json()
            text = json.dumps(root).replace(upstream, base["url"])
            return Response(text, content_type="application/json")
        if rules.deny and re.search(rules.deny, path):
            return Response(
                '{"messageList":[],"content":null}', 403, content_type="application/json"
            )
        if rules.html and re.search(rules.html, path):
            return Response("<html><body>Bad gateway</body></html>", 502, content_type="text/html")
        if rules.slow and re.search(rules.slow, path):
            time.sleep(rules.slow_seconds)
        headers = {
            k: v
            for k, v in request.headers.items()
            if k.lower() in ("authorization", "content-type")
        }
        answer = session.request(
            request.method, upstream + request.full_path.rstrip("?"), headers=headers,
            data=request.get_data(), timeout=10,
        )  # fmt: skip
        body = answer.content
        kind = answer.headers.get("Content-Type", "")
        if rules.drift and kind.startswith("application/json") and path.startswith("/module/"):
            body = json.dumps(_drift(answer.json())).encode()
        return Response(body, answer.status_code, content_type=kind)

    server = make_server("127.0.0.1", 0, app, threaded=True)
    base["url"] = f"http://127.0.0.1:{server.port}"
    thread = threading.Thread(
        target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
    )
    thread.start()
    try:
        yield base["url"]
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
