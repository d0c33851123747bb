"""``bt-explore app``: the booking explorer as a web page (Voilà on 127.0.0.1) until Ctrl-C.

Offline on a sandbox it starts (and stops) by default; ``--live`` books on bookingtime with your
``BOOKINGTIME_*`` settings or ``.env``. The page shows only the app: a title, the organization,
the explorer and the bookings of this visit (see :mod:`bt_explore.app`).

Example:
    $ bt-explore app                       # http://127.0.0.1:8866/ opens in the browser
    $ bt-explore app --port 0 --no-browser # any free port; prints the address
    $ bt-explore app --live                # on bookingtime: books real appointments
"""

from __future__ import annotations

import argparse
import sys
import webbrowser

from bt_explore._cli import sigterm_as_ctrl_c

HELP = "serve the booking explorer as a web page (Voilà on 127.0.0.1) until Ctrl-C, on the sandbox by default"


def _port(text: str) -> int:
    try:
        port = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a port number: {text!r}") from None
    if not 0 <= port <= 65535:
        raise argparse.ArgumentTypeError(f"{port} is not a port: 0 (any free one) to 65535")
    return port


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
        type=_port,
        default=DEFAULT_PORT,
        help=f"TCP port on 127.0.0.1 (default {DEFAULT_PORT}; 0 = any free one)",
    )
    p.add_argument(
        "--no-browser", action="store_true", help="do not open a browser; only print the address"
    )


def run(args: argparse.Namespace) -> int:
    """Serve the page, print its address (and open it), wait for Ctrl-C, stop everything."""
    from bt_explore.app import PageServer

    server = PageServer(live=args.live, port=args.port, verbose=getattr(args, "verbose", False))
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
                webbrowser.open(server.url)
            status = server.wait()
        print(f"bt-explore app: Voilà stopped by itself (exit status {status})", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        pass
    finally:
        server.stop()
    print("booking page stopped", flush=True)
    return 0
