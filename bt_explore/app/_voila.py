"""The booking page's Voilà process (``python -m bt_explore.app._voila PARENT_PID ARGS…``):
Voilà that answers only its own user and ends with the ``bt-explore app`` that started it.

- **Only its own user.** Voilà's stand-alone server turns jupyter_server's Host check off
  (``allow_remote_access=True``) and runs without a token. Here the Host check is back on,
  every handler first refuses a request whose ``Host`` is not this server's loopback address
  or whose ``Origin`` is another site (:func:`refusal`: DNS rebinding, a web page posting or
  opening a websocket from elsewhere), and the page and its kernel websocket need the per-run
  token (jupyter_server's identity provider: ``?token=`` once, then its cookie). The token
  comes in the environment (``TOKEN_ENV``, never on the command line where ``ps`` shows it)
  and is removed from it before any kernel starts.
- **Ends with its parent.** ``bt-explore app`` starts this process with a parent-death signal
  (:func:`bt_explore._subprocess.parent_death_signal`); the watchdog here
  (:func:`bt_explore._subprocess.watch_parent`) covers the rest: when the parent is gone,
  Voilà stops as on SIGTERM (its kernels shut down) and exits at the latest
  :data:`GRACE` seconds later. Kernels are never restarted (a page whose kernel died is over).
- **Nothing from other hosts.** The page uses the ``bt-page`` template (``jupyter/`` here):
  Voilà's ``lab`` template without its two Font Awesome links to a CDN (``voila-style.js``
  brings Font Awesome already). (The widgets' JupyterLab extension matches Voilà's JupyterLab
  packages through the ``ipywidgets`` pin in ``pyproject.toml``: no "Unsatisfied version"
  warnings.)

Example:
    >>> refusal("127.0.0.1:8866", None, 8866) is None
    True
    >>> refusal("attacker.example:8866", None, 8866)
    "Host 'attacker.example:8866' is not this server's loopback address"
    >>> refusal("localhost:8866", "http://attacker.example:8866", 8866)
    "Origin 'http://attacker.example:8866' is not this page's"
"""

from __future__ import annotations

import functools
import os
import signal
import sys
import threading
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

#: The names of this machine's loopback addresses (a Host or Origin must use one of them).
LOOPBACK_NAMES = ("127.0.0.1", "localhost", "::1")
#: Where the per-run token comes from (removed from the environment before kernels start).
TOKEN_ENV = "BT_EXPLORE_APP_TOKEN"
#: The page's template (in :data:`TEMPLATES`): Voilà's ``lab`` without links to other hosts.
TEMPLATE = "bt-page"
#: A Jupyter data folder holding ``voila/templates/bt-page`` (prepended to ``JUPYTER_PATH``).
TEMPLATES = Path(__file__).with_name("jupyter")
#: Seconds between the parent's death and this process's exit at the latest.
GRACE = 3.0


def _loopback(name: str | None, port: int | None, expected_port: int) -> bool:
    return name in LOOPBACK_NAMES and port == expected_port


def refusal(host: str | None, origin: str | None, port: int) -> str | None:
    """Why a request with these ``Host`` and ``Origin`` headers may not reach the page
    served on loopback ``port``; ``None`` when it may. ``Host`` must name a loopback address
    with the port; an ``Origin``, when sent (browsers send it with websockets and posts), must
    be ``http://`` on a loopback address with the port.

    Example:
        >>> refusal("[::1]:8866", "http://[::1]:8866", 8866) is None
        True
        >>> refusal("127.0.0.1:8866", "null", 8866)
        "Origin 'null' is not this page's"
    """
    if host is None:
        return "no Host header"
    try:
        where = urlsplit(f"//{host}")
        host_ok = _loopback(where.hostname, where.port, port)
    except ValueError:
        host_ok = False
    if not host_ok:
        return f"Host {host!r} is not this server's loopback address"
    if origin is not None:
        try:
            source = urlsplit(origin)
            origin_ok = source.scheme == "http" and _loopback(source.hostname, source.port, port)
        except ValueError:
            origin_ok = False
        if not origin_ok:
            return f"Origin {origin!r} is not this page's"
    return None


def _guarded(handler: Any, port: int) -> type:
    """``handler`` with a ``prepare`` that answers 403 to what :func:`refusal` refuses (before
    the handler's own ``prepare``: nothing of the page's runs for a refused request)."""

    def prepare(self: Any, *args: Any, **kwargs: Any) -> Any:
        why = refusal(self.request.headers.get("Host"), self.request.headers.get("Origin"), port)
        if why is None:
            return handler.prepare(self, *args, **kwargs)
        self.log.warning("refused %s %s: %s", self.request.method, self.request.path, why)
        self.set_status(403)
        self.set_header("Content-Type", "text/plain; charset=utf-8")
        self.set_header("X-Content-Type-Options", "nosniff")
        self.finish(f"403 Forbidden: {why}\n")
        return None

    return type(handler.__name__, (handler,), {"prepare": prepare})


def _voila_class() -> Any:
    from jupyter_server.log import log_request
    from voila.app import Voila  # type: ignore[import-untyped]

    class LoopbackVoila(Voila):
        """Voilà with the Host check on and every handler behind :func:`refusal`."""

        def init_settings(self) -> dict[str, Any]:
            settings: dict[str, Any] = super().init_settings()
            settings["allow_remote_access"] = False  # Voilà's stand-alone app sets True
            settings["local_hostnames"] = ["localhost"]
            # jupyter_server's request log (Voilà keeps tornado's): it scrubs ?token= from the
            # URLs it logs, e.g. of a refused or redirected request
            # jupyter_server gives tornado its pings in milliseconds (30000, 90000) and tornado
            # takes seconds, clamps the timeout to the interval and prints a warning on every
            # visit: the clamped value, set here, keeps the behaviour without the warning
            settings["ws_ping_timeout"] = settings.get("ws_ping_interval", 30000)
            settings["log_function"] = functools.partial(
                log_request, record_prometheus_metrics=False
            )
            return settings

        def init_handlers(self) -> list[Any]:
            return [
                (rule[0], _guarded(rule[1], self.port), *rule[2:])
                for rule in super().init_handlers()
            ]

    return LoopbackVoila


def main(argv: list[str] | None = None) -> None:
    """Serve with Voilà: ``argv`` is ``[PARENT_PID, voila arguments…]``."""
    from bt_explore._subprocess import watch_parent

    parent, *voila_args = sys.argv[1:] if argv is None else argv
    token = os.environ.pop(TOKEN_ENV, "")
    if not token:
        raise SystemExit(f"{TOKEN_ENV} is not set: the page would need no token")
    os.environ["JUPYTER_PATH"] = os.pathsep.join(
        p for p in (str(TEMPLATES), os.environ.get("JUPYTER_PATH")) if p
    )

    def parent_gone() -> None:
        os.kill(os.getpid(), signal.SIGTERM)  # Voilà's own handler: stop, shut kernels down
        deadline = threading.Timer(GRACE, os._exit, args=(1,))
        deadline.daemon = True
        deadline.start()

    watch_parent(int(parent), parent_gone)
    _voila_class().launch_instance(
        argv=[
            *voila_args,
            f"--Voila.token={token}",
            f"--template={TEMPLATE}",
            "--KernelManager.autorestart=False",
        ]
    )


if __name__ == "__main__":  # pragma: no cover - run by PageServer
    main()
