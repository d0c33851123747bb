"""``bt-explore logout``: forget stored sign-ins.

Example:
    $ bt-explore logout                                   # every stored sign-in
    $ bt-explore logout --sandbox http://127.0.0.1:8765   # only that sandbox's
"""

from __future__ import annotations

import argparse

from bt_explore._cli.login import add_target_arguments

HELP = "forget the stored sign-in (every one, or that of --sandbox URL)"


def add_arguments(p: argparse.ArgumentParser) -> None:
    add_target_arguments(p)


def run(args: argparse.Namespace) -> int:
    from bt_explore._cli.login import sandbox_settings
    from bt_explore.signin import TokenStore

    store = TokenStore()
    if args.sandbox:
        settings = sandbox_settings(args.sandbox)
        removed = store.remove(settings["client_id"], settings["auth_url"])
    else:
        removed = store.remove()
    print("signed out" if removed else "nobody was signed in")
    return 0
