"""What every ``bt-explore`` command does with a bad argument: one line on stderr, exit status 2.

argparse's own errors (an unknown option, ``--port abc``) go through :class:`Parser`; a value
that parses but that the library refuses (``Sandbox(latency_ms=-10)``) goes through
:func:`refuse`, which names the command-line option instead of the library's parameter.

Example:
    >>> port("8765")
    8765
    >>> statuses("500, 503")
    [500, 503]
"""

from __future__ import annotations

import argparse
import re
import sys
from collections.abc import Mapping
from typing import NoReturn


class Parser(argparse.ArgumentParser):
    """An ``ArgumentParser`` whose errors are one line on stderr (exit status 2), without the
    usage block: ``bt-explore sandbox: argument --port: ... (see bt-explore sandbox --help)``."""

    def error(self, message: str) -> NoReturn:
        print(f"{self.prog}: {message} (see {self.prog} --help)", file=sys.stderr)
        sys.exit(2)


def port(text: str) -> int:
    """A TCP port: 0 (any free one) to 65535.

    Example:
        >>> port("0")
        0
        >>> port("99999")
        Traceback (most recent call last):
        argparse.ArgumentTypeError: 99999 is not a port: 0 (any free one) to 65535
    """
    try:
        number = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a port number: {text!r}") from None
    if not 0 <= number <= 65535:
        raise argparse.ArgumentTypeError(f"{number} is not a port: 0 (any free one) to 65535")
    return number


def statuses(text: str) -> list[int]:
    """Comma-separated HTTP status codes (the library checks that they are error statuses).

    Example:
        >>> statuses("200,abc")
        Traceback (most recent call last):
        argparse.ArgumentTypeError: 'abc' is not a status code (e.g. 500,503,429)
    """
    codes = []
    for part in (p.strip() for p in text.split(",")):
        if not part:
            continue
        if not part.isdigit():
            raise argparse.ArgumentTypeError(f"{part!r} is not a status code (e.g. 500,503,429)")
        codes.append(int(part))
    return codes


def refuse(command: str, exc: Exception, options: Mapping[str, str] = {}) -> int:
    """Print the library's refusal as one line naming the option; return exit status 2.

    ``options`` maps the library's parameter names (as its messages start) to the options.

    Example:
        >>> import contextlib, io
        >>> with contextlib.redirect_stderr(io.StringIO()) as err:
        ...     refuse("sandbox", ValueError("latency_ms must be >= 0, got -10"), {"latency_ms": "--latency"})
        2
        >>> err.getvalue()
        'bt-explore sandbox: --latency must be >= 0, got -10\\n'
    """
    message = " ".join(str(exc).split())  # one line
    for name, option in options.items():
        message = re.sub(rf"^{re.escape(name)}\b", option, message)
    print(f"bt-explore {command}: {message}", file=sys.stderr)
    return 2
