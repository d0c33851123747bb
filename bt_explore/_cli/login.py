"""``bt-explore login``: sign in as a person in the browser and remember it.

bookingtime's Authorization Code Flow with PKCE (see docs/signin.md): the browser opens on the
sign-in page, and the refresh token it gives is kept in ``signin.json`` in your config folder
(owner-only permissions) for ``bt-explore demo --user``, ``whoami`` and ``logout``.

Example:
    $ bt-explore sandbox --port 8765                          # in one terminal
    $ bt-explore login --sandbox http://127.0.0.1:8765         # sign in as ada@example.com
    $ bt-explore demo --user --sandbox http://127.0.0.1:8765   # the walkthrough, as Ada
"""

from __future__ import annotations

import argparse
from typing import Any

HELP = "sign in as a person in the browser (Authorization Code Flow) and remember the sign-in"


def add_target_arguments(p: argparse.ArgumentParser) -> None:
    """``--sandbox URL``: which auth server; without it, bookingtime with BOOKINGTIME_*."""
    p.add_argument(
        "--sandbox",
        metavar="URL",
        default=None,
        help="a running `bt-explore sandbox`, e.g. http://127.0.0.1:8765 (default: bookingtime "
        "with your BOOKINGTIME_* settings)",
    )


def add_sign_in_arguments(p: argparse.ArgumentParser) -> None:
    """The options of a sign-in: ``--no-browser`` and ``--timeout``."""
    p.add_argument(
        "--no-browser",
        action="store_true",
        help="do not open a browser; print the address (paste the redirected one back)",
    )
    p.add_argument(
        "--timeout",
        type=float,
        default=300.0,
        metavar="S",
        help="give up when the browser has not come back after S seconds (default 300)",
    )


def add_arguments(p: argparse.ArgumentParser) -> None:
    add_target_arguments(p)
    add_sign_in_arguments(p)
    p.add_argument(
        "--organization",
        metavar="ID",
        default=None,
        help="ask for access to this organization only (default: all of yours)",
    )


def sandbox_settings(url: str) -> dict[str, Any]:
    """Settings arguments for the sandbox serving at ``url`` (read from its ``GET /``)."""
    import requests

    from bt_explore.errors import ConfigurationError

    base = url.rstrip("/")
    try:
        with requests.Session() as session:
            session.trust_env = False
            info = session.get(base + "/", timeout=5).json()
        return {
            "client_id": info["client_id"],
            "auth_url": info["auth_url"],
            "api_url": info["api_url"],
            "organization_id": info.get("other_organization_id") or info["organization_id"],
            "env_file": None,
        }
    except (requests.RequestException, ValueError, KeyError, TypeError) as exc:
        raise ConfigurationError(
            f"--sandbox {url}: no bt_explore sandbox answers there ({type(exc).__name__}); "
            "start one with `bt-explore sandbox`"
        ) from None


def target_settings(args: argparse.Namespace) -> dict[str, Any]:
    """Settings arguments for ``--sandbox URL``, or none (bookingtime with BOOKINGTIME_*)."""
    return sandbox_settings(args.sandbox) if args.sandbox else {}


def describe(entry: dict[str, Any], now: float) -> str:
    """One stored sign-in as a line (never its token; no terminal control characters);
    ``now``: the auth server's clock, in epoch seconds."""
    from datetime import datetime, timezone

    from bt_explore.signin import printable

    client = printable(entry.get("client_id") or "")
    masked = f"{client[:4]}…{client[-2:]}" if len(client) > 8 else "…"
    user = printable(entry.get("user") or "") or "(unknown person)"
    line = f"{user} for client {masked} at {printable(entry.get('auth_url'))}"
    expires = entry.get("expires_at")
    if isinstance(expires, (int, float)):
        until = datetime.fromtimestamp(expires, timezone.utc).isoformat(timespec="seconds")
        state = "valid" if expires > now else "expired"
        line += f" — {state} until {until}"
    return line


def run(args: argparse.Namespace) -> int:
    from bt_explore.connection import live_client
    from bt_explore.signin import TokenStore, UnreadableStore, sign_in

    store = TokenStore()
    with live_client(**target_settings(args)) as client:
        try:
            store.remove(client.settings.client_id, client.settings.auth_url)
        except UnreadableStore as exc:
            print(f"warning: {exc}; the new sign-in replaces it")
        sign_in(
            client,
            open_browser=not args.no_browser,
            timeout=args.timeout,
            organization_id=args.organization,
            remember=True,
            store=store,
        )
        entry = store.entries()
        saved = [e for e in entry if e.get("auth_url") == client.settings.auth_url]
        print("signed in: " + describe(saved[0], saved[0]["server_now"]))
        print(f"the sign-in is kept in {store.path} (only you can read it)")
    return 0
