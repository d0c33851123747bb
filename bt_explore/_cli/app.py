"""``bt-explore app``: the booking explorer as a web page (Voilà on 127.0.0.1) until Ctrl-C.

Offline on a sandbox it starts (and stops) by default; ``--live`` books on bookingtime with your
``BOOKINGTIME_*`` settings or ``.env``. The page shows only the app: a title, the organization,
the explorer and the bookings of this visit (see :mod:`bt_explore.app`).

Example:
    $ bt-explore app                       # http://127.0.0.1:8866/?token=… opens in the browser
    $ bt-explore app --port 0 --no-browser # any free port; prints the address
    $ bt-explore app --live                # on bookingtime: books real appointments
"""

from __future__ import annotations

import argparse
import html
import shutil
import sys
import tempfile
import webbrowser
from collections.abc import Callable
from pathlib import Path

from bt_explore._cli import sigterm_as_ctrl_c
from bt_explore._cli.arguments import port

HELP = "serve the booking explorer as a web page (Voilà on 127.0.0.1) until Ctrl-C, on the sandbox by default"


def add_arguments(p: argparse.ArgumentParser) -> None:
    """Options of ``bt-explore app``."""
    from bt_explore.app import DEFAULT_PORT

    p.add_argument(
        "--live",
        action="store_true",
        help="book on bookingtime with your credentials (BOOKINGTIME_* variables or .env): "
        "real appointments",
    )
    p.add_argument(
        "--port",
        type=port,
        default=DEFAULT_PORT,
        help=f"TCP port on 127.0.0.1 (default {DEFAULT_PORT}; 0 = any free one)",
    )
    p.add_argument(
        "--no-browser", action="store_true", help="do not open a browser; only print the address"
    )


def open_in_browser(url: str, folder: Path, opener: Callable[[str], object] | None = None) -> Path:
    """Open ``url`` in the browser through a redirecting file in ``folder`` (readable by its
    owner only), as Jupyter does: the browser's command line, which ``ps`` shows every user
    of the machine, then names that file, not the page's token. The file.

    Example:
        >>> opened = []
        >>> page = open_in_browser(
        ...     "http://127.0.0.1:8866/?token=abc", Path(tempfile.mkdtemp()), opened.append
        ... )
        >>> opened == [page.as_uri()], "abc" in opened[0]
        (True, False)
        >>> oct(page.stat().st_mode & 0o777), "?token=abc" in page.read_text()
        ('0o600', True)
    """
    page = folder / "open-booking-page.html"
    page.touch(mode=0o600)
    target = html.escape(url, quote=True)
    page.write_text(
        "<!doctype html><meta charset='utf-8'>"
        f"<meta http-equiv='refresh' content='0;url={target}'>"
        f"<p><a href='{target}'>Open the booking page</a></p>\n",
        encoding="utf-8",
    )
    (opener or webbrowser.open)(page.as_uri())
    return page


def run(args: argparse.Namespace) -> int:
    """Serve the page, print its address (and open it), wait for Ctrl-C, stop everything."""
    from bt_explore.app import PageServer

    server = PageServer(live=args.live, port=args.port, verbose=getattr(args, "verbose", False))
    folder = Path(tempfile.mkdtemp(prefix="bt-explore-app-"))  # 0700; removed on the way out
    try:
        with sigterm_as_ctrl_c():
            try:
                server.start()
            except ImportError as exc:  # the extra with Voilà is not installed
                print(f"bt-explore app: {exc}", file=sys.stderr)
                return 1
            where = "bookingtime (live)" if args.live else "the built-in sandbox (offline)"
            print(f"The booking page, on {where}: {server.url}")
            print("Press Ctrl-C to stop.", flush=True)
            if not args.no_browser:
                open_in_browser(server.url, folder)
            status = server.wait()
        print(f"bt-explore app: Voilà stopped by itself (exit status {status})", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        pass
    finally:
        server.stop()
        shutil.rmtree(folder, ignore_errors=True)
    print("booking page stopped", flush=True)
    return 0
