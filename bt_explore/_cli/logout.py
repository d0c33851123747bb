"""``bt-explore logout``: end stored sign-ins: revoke their refresh tokens, then forget them.

The refresh token is revoked at the auth server (RFC 7009) when the server advertises a
revocation endpoint (the sandbox does); otherwise logout says so and what to do. The sign-in
file is removed even when it cannot be read (logout says that too).

Example:
    $ bt-explore logout                                   # every stored sign-in
    $ bt-explore logout --sandbox http://127.0.0.1:8765   # only that sandbox's
"""

from __future__ import annotations

import argparse

from bt_explore._cli.login import add_target_arguments

HELP = "end the stored sign-in (every one, or that of --sandbox URL): revoke it, then forget it"


def add_arguments(p: argparse.ArgumentParser) -> None:
    add_target_arguments(p)


def _client_secret(client_id: str) -> str:
    """The configured secret of ``client_id`` (a confidential client revokes with it)."""
    from bt_explore.errors import ConfigurationError
    from bt_explore.settings import Settings

    try:
        settings = Settings()
    except ConfigurationError:
        return ""
    return settings.client_secret if settings.client_id == client_id else ""


def run(args: argparse.Namespace) -> int:
    from bt_explore._cli.login import sandbox_settings
    from bt_explore.signin import TokenStore, UnreadableStore, printable, revoke_sign_in

    store = TokenStore()
    try:
        if args.sandbox:
            settings = sandbox_settings(args.sandbox)
            taken = store.take(settings["client_id"], settings["auth_url"])
        else:
            taken = store.take()
    except UnreadableStore as exc:
        try:
            store.remove_file()
        except OSError as gone:
            print(f"{exc.path} cannot be read ({exc.problem}) nor removed ({gone.strerror})")
            print("remove it yourself; whatever sign-in it held was not revoked")
            return 1
        print(f"removed {exc.path}: it could not be read ({exc.problem})")
        print(
            "a sign-in it held could not be revoked: it ends when its refresh token expires "
            "(withdraw the application's access in your bookingtime account to end it now)"
        )
        return 0
    if not taken:
        print("nobody was signed in")
        return 0
    failed = False
    for entry in taken:
        who = printable(entry.get("user") or "(unknown person)")
        outcome, what = revoke_sign_in(
            entry["client_id"],
            entry["auth_url"],
            entry["refresh_token"],
            client_secret=_client_secret(entry["client_id"]),
        )
        print(f"signed out {who} at {printable(entry['auth_url'])}: {what}")
        failed = failed or outcome == "failed"
    return 1 if failed else 0
