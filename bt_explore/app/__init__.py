"""The booking page: the booking explorer alone on a web page, served by Voilà on 127.0.0.1.

``bt-explore app`` runs a :class:`PageServer`: Voilà renders ``booking_app.ipynb`` (shipped in
this folder) with its sources stripped, so the page shows only what its one code cell displays —
:func:`booking_page`: a title, the organization, the :class:`~bt_explore.BookingExplorer` and
the bookings of this visit. No notebook text, no code, no tables of their own.

The page's kernel is a process of Voilà's; it learns where to book from its environment, which
:func:`kernel_environment` writes: ``BT_EXPLORE_MODE=live`` and the ``BOOKINGTIME_*`` settings
of either a sandbox the server started (offline, the default) or the caller's resolved
settings (``live=True``; read here, in the working directory with its ``.env``). So the page
simply calls :func:`bt_explore.connect`, and no setting is ever written into the page or a log.

The page answers only its own user: Voilà runs behind :mod:`bt_explore.app._voila` (Host
and Origin must be this loopback address, the page and its kernel websocket need a random
per-run token, which :attr:`PageServer.url` carries) and ends with the process that started
it, even on ``kill -9``.

Example:
    >>> from bt_explore.app import PageServer
    >>> with PageServer(port=0) as server:        # a sandbox and Voilà   # doctest: +SKIP
    ...     print(server.url)
    http://127.0.0.1:40211/?token=…
"""

from __future__ import annotations

import html
import importlib.util
import logging
import os
import secrets
import socket
import subprocess
import sys
import time
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from bt_explore._subprocess import parent_death_signal, stop_process
from bt_explore.errors import ConfigurationError
from bt_explore.settings import ENV_VARS, Settings, env

if TYPE_CHECKING:  # pragma: no cover
    from bt_explore.sandbox import Sandbox

__all__ = [
    "NOTEBOOK",
    "TITLE",
    "DEFAULT_PORT",
    "SANDBOX_ENV",
    "booking_page",
    "kernel_environment",
    "voila_command",
    "PageServer",
]

log = logging.getLogger("bt_explore.app")

#: The notebook Voilà serves: one code cell, ``booking_page()``.
NOTEBOOK = Path(__file__).with_name("booking_app.ipynb")
#: The page's heading (the browser tab shows the notebook's metadata title, the same words).
TITLE = "Book an appointment"
#: ``bt-explore app``'s port unless ``--port`` says otherwise (Voilà's own default).
DEFAULT_PORT = 8866
#: Set to ``1`` in the kernel's environment when it books on a sandbox: the page says so.
SANDBOX_ENV = "BT_EXPLORE_APP_SANDBOX"
#: How long the server may take to listen (Voilà imports JupyterLab's server parts).
START_TIMEOUT = 60.0


def booking_page(client: Any = None, *, title: str = TITLE, **explorer_args: Any) -> Any:
    """The page's widget: a heading with the organization's name, then the booking explorer.

    ``client`` defaults to :func:`bt_explore.connect` (which reads the mode and settings that
    :class:`PageServer` put in the environment). ``explorer_args`` go to
    :class:`~bt_explore.BookingExplorer` (``background=False`` runs its requests in the
    calling thread, for tests). The organization's name appears once the explorer has loaded
    it; on a sandbox the heading says that nothing real is booked.

    Example:
        >>> import bt_explore
        >>> with bt_explore.connect(mode="sandbox", now="2026-12-01T09:00:00+01:00") as client:
        ...     page = booking_page(client, background=False)
        ...     print(page.header.value)
        <h1 style='margin:0 0 2px'>Book an appointment</h1><div class='bt-organization' style='font-size:1.15em'>Praxis am Park (bt_explore demo)</div>
    """
    try:
        import ipywidgets as widgets
    except ImportError:
        from bt_explore.extras import missing_extra

        raise missing_extra("ipywidgets", "bt_explore.app.booking_page") from None
    from bt_explore.widgets import BookingExplorer

    if client is None:
        from bt_explore.connection import connect

        client = connect()
    header = widgets.HTML()
    header.add_class("bt-page-header")
    note = ""
    if env(SANDBOX_ENV) == "1":
        note = (
            "<div class='bt-sandbox-note' style='color:#666'>An offline demo on the local "
            "sandbox: nothing real is booked.</div>"
        )

    def show(controller: Any) -> None:
        name = (controller.organization or {}).get("name") or ""
        organization = (
            f"<div class='bt-organization' style='font-size:1.15em'>{html.escape(name)}</div>"
            if name
            else ""
        )
        header.value = f"<h1 style='margin:0 0 2px'>{html.escape(title)}</h1>{organization}{note}"

    explorer = BookingExplorer(client, load=False, **explorer_args)
    explorer.controller.add_listener(show)
    show(explorer.controller)
    explorer.reload()
    page = widgets.VBox([header, explorer], layout=widgets.Layout(width="100%", max_width="1100px"))
    page.add_class("bt-page")
    page.header, page.explorer = header, explorer  # what tests and callers look at
    return page


def kernel_environment(
    settings: Settings, *, sandbox: bool = False, base: Mapping[str, str] | None = None
) -> dict[str, str]:
    """The environment of the page's kernel: ``base`` (default ``os.environ``) with every
    ``BOOKINGTIME_*`` variable replaced by ``settings`` and ``BT_EXPLORE_MODE=live``.

    Example:
        >>> s = Settings(client_id="23x", client_secret="", env_file=None)
        >>> env = kernel_environment(s, base={"BOOKINGTIME_LOCALE": "de", "PATH": "/bin"})
        >>> env["BOOKINGTIME_CLIENT_ID"], env["BOOKINGTIME_LOCALE"], env["BT_EXPLORE_MODE"]
        ('23x', 'en', 'live')
    """
    from bt_explore.connection import MODE_ENV

    env = {
        k: v
        for k, v in (os.environ if base is None else base).items()
        if k not in ENV_VARS.values() and k not in (MODE_ENV, SANDBOX_ENV)
    }
    for name, variable in ENV_VARS.items():
        value = getattr(settings, name)
        if value is None:
            continue
        env[variable] = ",".join(map(str, value)) if isinstance(value, tuple) else str(value)
    env[MODE_ENV] = "live"
    if sandbox:
        env[SANDBOX_ENV] = "1"
    return env


def voila_command(port: int, *, parent: int | None = None, verbose: bool = False) -> list[str]:
    """The command that serves the page with Voilà on ``127.0.0.1:port`` for the process
    ``parent`` (default: this one; Voilà ends when it is gone): loopback only and with the
    token of ``TOKEN_ENV`` (see :mod:`bt_explore.app._voila`), sources stripped, no tracebacks
    on the page, no browser of its own, no other port when this one is taken.

    Example:
        >>> voila_command(8866, parent=4242)[1:4]
        ['-m', 'bt_explore.app._voila', '4242']
        >>> "--strip_sources=True" in voila_command(8866)
        True
    """
    return [
        sys.executable,
        "-m",
        "bt_explore.app._voila",
        str(os.getpid() if parent is None else parent),
        str(NOTEBOOK),
        "--no-browser",
        "--Voila.ip=127.0.0.1",
        f"--port={port}",
        "--Voila.port_retries=0",
        "--strip_sources=True",
        "--show_tracebacks=False",
        "--theme=light",
        f"--Voila.log_level={'DEBUG' if verbose else 'ERROR'}",
        "--KernelManager.transport=ipc",
    ]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _check_port(port: int) -> None:
    with socket.socket() as s:
        try:
            s.bind(("127.0.0.1", port))
        except OSError as exc:
            raise ConfigurationError(
                f"cannot serve the page on 127.0.0.1:{port} ({exc.strerror}); "
                "pick another with --port N, or --port 0 for any free one"
            ) from None


class PageServer:
    """Serves the booking page with Voilà on 127.0.0.1; stops Voilà, its kernels and the
    sandbox it started on :meth:`stop` (idempotent; also on leaving a ``with`` block).

    ``live=False`` (the default) starts a :class:`~bt_explore.Sandbox` in this process and
    books there; ``live=True`` books on bookingtime with ``settings`` (default:
    ``Settings()``, i.e. ``BOOKINGTIME_*`` variables or ``.env``) and raises
    :class:`~bt_explore.ConfigurationError` when no client id is configured. ``port=0`` picks
    a free port. :attr:`url` is the page's address once :meth:`start` returned.

    Example:
        >>> with PageServer(port=0) as server:                     # doctest: +SKIP
        ...     requests.get(server.url).status_code
        200
    """

    def __init__(
        self,
        *,
        live: bool = False,
        port: int = DEFAULT_PORT,
        settings: Settings | None = None,
        verbose: bool = False,
    ) -> None:
        if not 0 <= port <= 65535:
            raise ValueError(f"port must be 0 (any free one) to 65535, got {port}")
        self.live = live
        self.port = port
        self.verbose = verbose
        self._settings = settings
        self.sandbox: Sandbox | None = None
        self.process: subprocess.Popen[bytes] | None = None
        #: A new random token for each :meth:`start` (the page needs it, see :attr:`url`).
        self.token = ""

    def __repr__(self) -> str:  # never the token
        mode = "live" if self.live else "sandbox"
        return f"<PageServer {mode} {self.address}>"

    @property
    def address(self) -> str:
        """Where the page is served, ``http://127.0.0.1:PORT/`` (without its token: what logs
        may show)."""
        return f"http://127.0.0.1:{self.port}/"

    @property
    def url(self) -> str:
        """The page's address with this run's token, ``http://127.0.0.1:PORT/?token=…``:
        the only address that opens the page (one visit with it, then the browser's cookie)."""
        return f"{self.address}?token={self.token}"

    def start(self) -> PageServer:
        """Start the sandbox (unless live) and Voilà; return when the page can be opened."""
        if importlib.util.find_spec("voila") is None:  # say which extra, before any start
            from bt_explore.extras import missing_extra

            raise missing_extra("voila", "bt-explore app")
        settings = (self._settings or Settings()).require() if self.live else None
        self.port = _free_port() if self.port == 0 else self.port
        _check_port(self.port)
        try:
            if settings is None:
                from bt_explore.sandbox import Sandbox

                self.sandbox = Sandbox().start()
                settings = Settings(
                    client_id=self.sandbox.client_id,
                    client_secret=self.sandbox.client_secret,
                    organization_id=self.sandbox.organization_id,
                    auth_url=self.sandbox.auth_url,
                    api_url=self.sandbox.api_url,
                    env_file=None,
                )
            from bt_explore.app._voila import TOKEN_ENV  # not at import: it is Voilà's main

            self.token = secrets.token_urlsafe(32)
            env = kernel_environment(settings, sandbox=not self.live)
            env[TOKEN_ENV] = self.token  # Voilà takes it out before its kernels start
            self.process = subprocess.Popen(
                voila_command(self.port, verbose=self.verbose),
                env=env,
                stdin=subprocess.DEVNULL,
                # its own session: the terminal's Ctrl-C reaches only us, and we stop it
                start_new_session=True,
                # and it ends with us even when we are killed (kill -9): see _voila
                preexec_fn=parent_death_signal(),
            )
            self._wait_until_listening()
        except BaseException:
            self.stop()
            raise
        log.info("booking page served on %s", self.address)
        return self

    def _wait_until_listening(self) -> None:
        assert self.process is not None
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise ConfigurationError(
                    f"Voilà stopped with exit status {self.process.returncode} before serving "
                    "the page (its messages are above; -v shows more)"
                )
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=1):
                    return
            except OSError:
                time.sleep(0.1)
        raise ConfigurationError(
            f"Voilà did not listen on port {self.port} within {START_TIMEOUT:g} s"
        )

    def wait(self) -> int:
        """Wait until Voilà ends (it runs until :meth:`stop`); its exit status."""
        assert self.process is not None, "start() first"
        return self.process.wait()

    def stop(self) -> None:
        """Stop Voilà (SIGTERM: it shuts its kernels down; killed after 15 s) and the sandbox."""
        process, self.process = self.process, None
        if process is not None:
            stop_process(process)
        sandbox, self.sandbox = self.sandbox, None
        if sandbox is not None:
            sandbox.stop()

    def __enter__(self) -> PageServer:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()
