"""``Sandbox``: the emulator served over real HTTP on 127.0.0.1 from a background thread.

Example:
    >>> import requests
    >>> with Sandbox(now="2026-12-01T09:00:00+01:00") as sb:
    ...     answer = requests.post(sb.auth_url, data={
    ...         "grant_type": "client_credentials", "client_id": sb.client_id}, timeout=5)
    ...     answer.json()["expires_in"]
    1800
"""

from __future__ import annotations

import ipaddress
import logging
import math
import numbers
import socket
import threading
import weakref
from collections.abc import Iterable, Mapping
from datetime import datetime
from pathlib import Path
from typing import Any

from werkzeug.serving import BaseWSGIServer, WSGIRequestHandler, make_server

import bt_explore.sandbox.dialect as dialects
from bt_explore.sandbox.app import API_PREFIX, TOKEN_PATH, appointment_entity, create_app
from bt_explore.sandbox.authorize import AUTHORIZE_PATH
from bt_explore.sandbox.dialect import check_dialect
from bt_explore.sandbox.ratelimit import RateLimit, TokenBuckets
from bt_explore.sandbox.ratelimit import rate_limit as rate_limit_of
from bt_explore.sandbox.state import (
    DEFAULT_MAX_BODY_SIZE,
    DEFAULT_REQUEST_LOG_SIZE,
    RequestRecord,
    SandboxState,
)

__all__ = ["Sandbox"]

log = logging.getLogger("bt_explore.sandbox")


class _Connections:
    """The open connections of a server, so that stopping it can close keep-alive ones."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._open: set[socket.socket] = set()

    def add(self, conn: socket.socket) -> None:
        with self._lock:
            self._open.add(conn)

    def discard(self, conn: socket.socket) -> None:
        with self._lock:
            self._open.discard(conn)

    def close_all(self) -> None:
        with self._lock:
            conns = list(self._open)
        for conn in conns:
            try:
                conn.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass


#: Headers every answer carries (the consent page, JSON, downloads, errors alike): a browser
#: must not guess another type than the one declared (e.g. run a downloaded file as HTML).
_ALWAYS = {"X-Content-Type-Options": "nosniff"}
#: Added to an ``attachment`` answer (a download): nothing in it may run or load, even if a
#: browser were to show it.
_DOWNLOAD_CSP = "default-src 'none'; sandbox"


class _QuietHandler(WSGIRequestHandler):
    """werkzeug's handler, logging to ``bt_explore.sandbox`` at DEBUG instead of stderr, adding
    :data:`_ALWAYS` to every answer (and a CSP to downloads), and answering a request line
    longer than http.server reads (64 KiB) with 414."""

    def send_response(self, code: int, message: str | None = None) -> None:
        self._sent_headers: dict[str, str] = {}
        super().send_response(code, message)

    def send_header(self, keyword: str, value: str) -> None:
        sent = getattr(self, "_sent_headers", None)
        if sent is not None:
            sent[keyword.lower()] = value
        super().send_header(keyword, value)

    def end_headers(self) -> None:
        sent = getattr(self, "_sent_headers", None)
        if sent is not None:
            for name, value in _ALWAYS.items():
                if name.lower() not in sent:
                    super().send_header(name, value)
            attachment = sent.get("content-disposition", "").lower().startswith("attachment")
            if attachment and "content-security-policy" not in sent:
                super().send_header("Content-Security-Policy", _DOWNLOAD_CSP)
        super().end_headers()

    def setup(self) -> None:
        super().setup()
        open_connections: _Connections | None = getattr(self.server, "bt_connections", None)
        if open_connections is not None:
            open_connections.add(self.connection)

    def finish(self) -> None:
        open_connections: _Connections | None = getattr(self.server, "bt_connections", None)
        if open_connections is not None:
            open_connections.discard(self.connection)
        super().finish()

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        # an over-long request line is refused (414) before it is parsed: no command, no path
        path = getattr(self, "path", "") or "(request line not read)"
        log.debug("%s %s -> %s", getattr(self, "command", "") or "-", path.split("?", 1)[0], code)

    def log(self, type: str, message: str, *args: Any) -> None:  # noqa: A002 - werkzeug's name
        log.debug("werkzeug %s: " + message, type, *args)


def _check_loopback(host: str) -> None:
    if host == "localhost":
        return
    try:
        loopback = ipaddress.ip_address(host).is_loopback
    except ValueError:
        loopback = False
    if not loopback:
        raise ValueError(
            f"host: the sandbox only listens on loopback addresses (127.0.0.1, ::1), not {host!r}"
        )


def _stop_server(server: BaseWSGIServer, thread: threading.Thread) -> None:
    """Stop a serving werkzeug server and its thread; close its open keep-alive connections."""
    if threading.current_thread() is thread:
        # collected inside the serving thread itself: shutdown() there would wait for ever
        threading.Thread(target=_stop_server, args=(server, thread), daemon=True).start()
        return
    server.shutdown()
    server.server_close()
    server.bt_connections.close_all()  # type: ignore[attr-defined]
    thread.join(timeout=5)
    log.info("sandbox stopped")


class Sandbox:
    """A local, stateful emulator of bookingtime's auth server and Module API v3.

    ``with Sandbox() as sb:`` serves it on a free port of 127.0.0.1 in a daemon thread;
    ``sb.auth_url``, ``sb.api_url``, ``sb.client_id`` and ``sb.organization_id`` are what a
    client needs. ``now`` pins the clock (ISO string or aware datetime; naive values are read in
    the demo organization's time zone); without it the clock follows the wall clock.
    ``data_dir`` serves your own data instead of the demo practice: a folder with any of the
    files of ``bt_explore/sandbox/data/`` (``organizations.json``, ``templates.json``,
    ``resources.json``, ``appointments.json``, ``clients.json``, ``static_*.json``) in the same
    format; the files it lacks come from the demo data. ``max_body_size`` is the largest request
    body in bytes it accepts (default 1 MiB; larger ones get 413; ``None``: no limit);
    ``request_log_size`` how many of the newest requests :attr:`requests` keeps (default 10,000;
    ``None``: all). ``rate_limit`` enforces a gateway's limit (``"5/s"``, see
    :meth:`set_rate_limit`). It answers only requests whose ``Host`` header names a loopback address
    (``localhost``, 127.0.0.0/8, ``[::1]``, with or without port); others get 421, so a web
    page cannot reach it through DNS rebinding. ``dialect="php"`` answers the Module API in the
    shapes bookingtime's PHP backend sends (``"recordTotal": "1"``, ``[]`` for empty objects, a
    success message on reads, ``\\/``), ``"clean"`` in the walkthrough's (``None``: the default,
    ``bt_explore.sandbox.dialect.DEFAULT_DIALECT``, ``"clean"``).

    Example:
        >>> with Sandbox(now="2026-12-01T09:00:00+01:00") as sb:
        ...     sb.advance(60)
        ...     sb.now().isoformat()
        '2026-12-01T08:01:00+00:00'
    """

    def __init__(
        self,
        now: str | datetime | None = None,
        *,
        port: int = 0,
        host: str = "127.0.0.1",
        latency_ms: float = 0,
        faults: Mapping[str, Any] | None = None,
        access_token_lifetime: int = 300,
        refresh_token_lifetime: int = 1800,
        seed: int = 0,
        data_dir: str | Path | None = None,
        max_body_size: int | None = DEFAULT_MAX_BODY_SIZE,
        request_log_size: int | None = DEFAULT_REQUEST_LOG_SIZE,
        dialect: str | None = None,
        rate_limit: RateLimit | str | float | Mapping[str, Any] | None = None,
    ) -> None:
        _check_loopback(host)
        self.dialect = check_dialect(dialect if dialect is not None else dialects.DEFAULT_DIALECT)
        self.host = host
        if not 0 <= int(port) <= 65535:  # the OS would refuse -5 late and wrap 99999 silently
            raise ValueError(f"port: {port} is not a port: 0 (any free one) to 65535")
        self._requested_port = int(port)
        self.state = SandboxState(
            now,
            latency_ms=latency_ms,
            faults=faults,
            access_token_lifetime=access_token_lifetime,
            refresh_token_lifetime=refresh_token_lifetime,
            seed=seed,
            data_dir=data_dir,
            max_body_size=max_body_size,
            request_log_size=request_log_size,
        )
        self.set_rate_limit(rate_limit)
        self.app = create_app(self.state, dialect=self.dialect)
        self._server: BaseWSGIServer | None = None
        self._thread: threading.Thread | None = None
        self._finalizer: weakref.finalize | None = None

    # --- lifecycle ---------------------------------------------------------------------------
    def start(self) -> Sandbox:
        """Bind the port and serve in a daemon thread; returns ``self``.

        Example:
            >>> sb = Sandbox().start()
            >>> sb.base_url.startswith("http://127.0.0.1:")
            True
            >>> sb.stop()
        """
        if self._server is not None:
            return self
        _check_loopback(self.host)  # again: ``host`` may have been changed since __init__
        server = make_server(
            self.host, self._requested_port, self.app, threaded=True, request_handler=_QuietHandler
        )
        server.bt_connections = _Connections()  # type: ignore[attr-defined]
        # A short poll interval makes stop() (and so every test's teardown) quick.
        thread = threading.Thread(
            target=server.serve_forever,
            kwargs={"poll_interval": 0.05},
            name=f"bt-explore-sandbox-{server.port}",
            daemon=True,
        )
        thread.start()
        self._server, self._thread = server, thread
        # Stopped when the sandbox is collected or, at the latest, when the interpreter exits:
        # weakref.finalize runs at exit while the serving thread still runs (a __del__ that
        # waits for it during interpreter teardown would wait for ever).
        self._finalizer = weakref.finalize(self, _stop_server, server, thread)
        log.info("sandbox serving on %s", self.base_url)
        return self

    def stop(self) -> None:
        """Stop serving and close open keep-alive connections (idempotent).

        A sandbox that is never stopped is stopped when it is garbage collected or when the
        interpreter exits, so a script that forgets ``stop()`` still ends.
        """
        finalizer = getattr(self, "_finalizer", None)
        self._server = self._thread = self._finalizer = None
        if finalizer is not None:
            finalizer()  # runs _stop_server once, however often stop() is called

    @property
    def running(self) -> bool:
        """Whether the server is serving."""
        return self._server is not None

    def __enter__(self) -> Sandbox:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    def __repr__(self) -> str:
        where = self.base_url if self.running else "not started"
        mode = "pinned" if self.state.clock.pinned else "wall clock"
        return f"Sandbox({where}, now={self.now().isoformat()} [{mode}])"

    # --- addresses and demo credentials ------------------------------------------------------
    @property
    def port(self) -> int:
        """The TCP port being served (after :meth:`start`)."""
        if self._server is None:
            raise RuntimeError("Sandbox is not started: use `with Sandbox() as sb:` or sb.start()")
        return int(self._server.port)

    @property
    def base_url(self) -> str:
        """``http://127.0.0.1:PORT``."""
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"

    @property
    def auth_url(self) -> str:
        """The token endpoint, ``…/oauth/token``."""
        return self.base_url + TOKEN_PATH

    @property
    def authorize_url(self) -> str:
        """The authorization endpoint where a person signs in, ``…/oauth/authorize``."""
        return self.base_url + AUTHORIZE_PATH

    @property
    def api_url(self) -> str:
        """The Module API base without locale, ``…/module/v3/``."""
        return self.base_url + API_PREFIX

    @property
    def openapi_url(self) -> str:
        """The OpenAPI document of the emulated API, ``…/openapi.json``."""
        return self.base_url + "/openapi.json"

    @property
    def client_id(self) -> str:
        """The demo module's client id (prefix ``23``)."""
        return self.state.data.demo_client_id

    @property
    def client_secret(self) -> str:
        """The demo module's client secret: empty, modules are public clients."""
        return self.state.data.demo_client_secret

    @property
    def organization_id(self) -> str:
        """The demo organization the demo client may access."""
        return self.state.data.demo_organization_id

    @property
    def other_organization_id(self) -> str | None:
        """An organization that exists but the demo client may not access (403); ``None`` when
        the data (see ``data_dir``) has none."""
        return self.state.data.other_organization_id

    # --- clock -------------------------------------------------------------------------------
    def now(self) -> datetime:
        """The sandbox clock (aware UTC datetime)."""
        return self.state.now()

    def advance(self, seconds: float) -> None:
        """Move the sandbox clock by ``seconds`` (a number); tokens and slots follow it.

        Example:
            >>> sb = Sandbox(now="2026-12-01T09:00:00+01:00")
            >>> sb.advance(301)   # a 300 s access token issued at 09:00 is now expired
            >>> sb.now().isoformat()
            '2026-12-01T08:05:01+00:00'
        """
        if isinstance(seconds, bool) or not isinstance(seconds, numbers.Real):
            raise TypeError(f"seconds: expected a number of seconds, got {seconds!r}")
        if not math.isfinite(seconds):
            raise ValueError(f"seconds: expected a finite number of seconds, got {seconds!r}")
        self.state.clock.advance(float(seconds))

    # --- faults, tokens --------------------------------------------------------------------------
    def set_faults(
        self,
        latency_ms: float | None = None,
        rate: float = 0.0,
        statuses: Iterable[int] = (500, 503, 429),
        drop_rate: float = 0.0,
        script: Iterable[int | str | None] | None = None,
        retry_after: int = 1,
        paths: str | None = None,
        seed: int | None = None,
        slow_ms: float = 0.0,
    ) -> None:
        """Replace the injected faults (see the README's sandbox section).

        - ``latency_ms``: delay before every answer (``None``: keep the current latency);
        - ``slow_ms``: extra time the requests matching ``paths`` take before they are
          processed (a slow endpoint: a client that times out meanwhile leaves them running);
        - ``rate``: share of matching requests answered with a status drawn from ``statuses``
          (429 answers carry ``Retry-After: retry_after``);
        - ``drop_rate``: share of matching requests whose connection is closed unanswered;
        - ``script``: entries consumed one per matching request before the random faults: an
          int status, ``"drop"`` (closed, request not processed), ``"drop_after"`` (processed,
          e.g. the booking is made, then closed without an answer) or ``None`` (normal);
        - ``paths``: regex searched in the request path (default ``^/module/``: API calls, not
          the token endpoint); ``seed``: seed of the random draws (default: the sandbox seed).

        Example:
            >>> sb = Sandbox()
            >>> sb.set_faults(script=[503, None, "drop"])
        """
        self.state.set_faults(
            latency_ms=latency_ms,
            rate=rate,
            statuses=statuses,
            drop_rate=drop_rate,
            script=script,
            retry_after=retry_after,
            paths=paths,
            seed=seed,
            slow_ms=slow_ms,
        )

    def set_rate_limit(
        self, rate_limit: RateLimit | str | float | Mapping[str, Any] | None
    ) -> RateLimit | None:
        """Enforce a gateway's rate limit from now on (``None``: no limit); returns it.

        ``rate_limit`` is a :class:`~bt_explore.sandbox.ratelimit.RateLimit`, ``"5/s"``, a
        number of requests a second, or a dict of its fields (``rate``, ``burst``, ``per``:
        ``"client"`` or ``"organization"``, ``paths``). A refused request is answered 429 with
        ``Retry-After`` and the ``RateLimit-*`` headers and logged with ``throttled=True``.

        Example:
            >>> sb = Sandbox(rate_limit="5/s")
            >>> sb.set_rate_limit({"rate": 20, "burst": 10, "per": "organization"}).burst
            10
            >>> sb.set_rate_limit(None) is None
            True
        """
        limit = rate_limit_of(rate_limit)
        self.state.rate_limiter = None if limit is None else TokenBuckets(limit)
        return limit

    @property
    def rate_limit(self) -> RateLimit | None:
        """The rate limit being enforced (``None``: none)."""
        buckets = self.state.rate_limiter
        return None if buckets is None else buckets.limit

    def clear_faults(self) -> None:
        """Remove every injected fault, latency included."""
        self.state.set_faults(latency_ms=0)

    def expire_tokens(self) -> None:
        """Reject every token issued so far (forced expiry); new tokens work.

        Example:
            >>> sb = Sandbox()
            >>> sb.expire_tokens()   # API calls with older tokens now get 401
        """
        self.state.tokens.expire_all()

    # --- request log, appointments -------------------------------------------------------------
    @property
    def requests(self) -> list[RequestRecord]:
        """The newest requests (up to ``request_log_size``; a snapshot copy), oldest first."""
        return self.state.log.records()

    @property
    def token_requests(self) -> list[RequestRecord]:
        """The requests to ``/oauth/token``."""
        return [r for r in self.requests if r.is_token_request]

    @property
    def api_requests(self) -> list[RequestRecord]:
        """The Module API requests (``/module/v3/...``)."""
        return [r for r in self.requests if r.is_api_request]

    def clear_requests(self) -> None:
        """Forget the request log."""
        self.state.log.clear()

    def appointments(self, organization_id: str | None = None) -> list[dict]:
        """Every stored appointment as an APPOINTMENT dict (canceled ones included).

        Example:
            >>> sb = Sandbox(now="2026-12-01T09:00:00+01:00")
            >>> all(a["class"] == "APPOINTMENT" for a in sb.appointments())
            True
        """
        return [appointment_entity(self.state, a) for a in self.state.book.all(organization_id)]
