"""The ``bt-explore`` command: thin layers over library calls.

Each subcommand lives in its own module under ``bt_explore/_cli/`` exposing ``HELP``,
``add_arguments(parser)`` and ``run(args) -> int``.

Example:
    $ bt-explore sandbox --port 8765
    $ bt-explore demo
    $ bt-explore app
"""

from __future__ import annotations

import argparse
import importlib
import logging
import sys

from bt_explore._cli.arguments import Parser
from bt_explore.version import __version__

#: subcommand -> module under bt_explore._cli
COMMANDS: dict[str, str] = {
    "sandbox": "sandbox",
    "demo": "demo",
    "app": "app",
    "scan": "scan",
    "record": "record",
    "login": "login",
    "logout": "logout",
    "whoami": "whoami",
    "verify": "verify",
}


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of ``bt-explore`` with every subcommand."""
    parser = Parser(
        prog="bt-explore",
        description="Explore the bookingtime appointment-booking API (offline on a sandbox by default).",
    )
    parser.add_argument("--version", action="version", version=f"bt-explore {__version__}")
    parser.add_argument("-v", "--verbose", action="store_true", help="log debug details to stderr")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name, module_name in COMMANDS.items():
        module = importlib.import_module(f"bt_explore._cli.{module_name}")
        p = sub.add_parser(name, help=module.HELP, description=module.HELP)
        module.add_arguments(p)
        p.set_defaults(_run=module.run)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run ``bt-explore`` with ``argv`` (default: ``sys.argv[1:]``); returns the exit code."""
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.INFO,
        format="%(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )
    # urllib3 logs each retry as a warning with the raw exception: the command's own error line
    # says what failed, and -v shows the retries
    logging.getLogger("urllib3").setLevel(logging.DEBUG if args.verbose else logging.ERROR)
    if not getattr(args, "_run", None):
        parser.print_help()
        return 2
    from bt_explore.errors import BookingtimeError

    try:
        return int(args._run(args) or 0)
    except KeyboardInterrupt:
        return 130
    except BookingtimeError as exc:
        print(f"bt-explore {args.command}: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
