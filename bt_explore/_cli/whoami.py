"""``bt-explore whoami``: who is signed in, for which client and until when (never a token).

Validity is judged on the auth server's clock (a pinned sandbox's may be days off this
computer's); names are printed without terminal control characters.

Example:
    $ bt-explore whoami
    ada for client 2312…12 at http://127.0.0.1:8765/oauth/token — valid until 2026-12-01T09:30:00+00:00
"""

from __future__ import annotations

import argparse

HELP = "show the stored sign-ins: person, client, auth server, valid until (never a token)"


def add_arguments(p: argparse.ArgumentParser) -> None:
    pass


def run(args: argparse.Namespace) -> int:
    from bt_explore._cli.login import describe
    from bt_explore.signin import TokenStore, UnreadableStore

    try:
        entries = TokenStore().entries()
    except UnreadableStore as exc:
        print(f"the stored sign-ins cannot be read: {exc.problem} ({exc.path})")
        print("`bt-explore logout` removes the file; then `bt-explore login`")
        return 1
    if not entries:
        print("nobody is signed in; run `bt-explore login`")
        return 1
    for entry in entries:
        print(describe(entry, entry["server_now"]))
    return 0
