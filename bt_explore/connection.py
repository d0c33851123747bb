"""``connect()``: one call to get a ready :class:`~bt_explore.Client`, live or on the sandbox.

Modes:

- ``"live"``: bookingtime's servers with your credentials (:class:`~bt_explore.Settings`:
  arguments, ``BOOKINGTIME_*`` environment variables or a ``.env`` file);
- ``"sandbox"``: starts an in-process :class:`~bt_explore.Sandbox` and connects to its demo
  organization; the client owns it and stops it on ``close()``;
- more modes (``"replay"``, ``"record"``) are registered by :mod:`bt_explore.recording` with
  :func:`register_mode`; :func:`connect` imports that module when asked for a mode it does not
  know yet.

Without ``mode``, ``BT_EXPLORE_MODE`` decides; without that, live when a client id is
configured, else sandbox.

Example:
    >>> import bt_explore
    >>> with bt_explore.connect(mode="sandbox", now="2026-12-01T09:00:00+01:00") as client:  # doctest: +SKIP
    ...     print(client.organization()["name"])
"""

from __future__ import annotations

import importlib
import inspect
import logging
import os
from collections.abc import Callable
from typing import Any

from bt_explore.client import Client
from bt_explore.errors import ConfigurationError
from bt_explore.settings import ENV_VARS, Settings

__all__ = [
    "connect",
    "register_mode",
    "modes",
    "live_client",
    "sandbox_client",
    "MODE_ENV",
    "SETTINGS_KWARGS",
    "CLIENT_KWARGS",
]

log = logging.getLogger("bt_explore.connection")

#: Environment variable that selects the mode when ``connect()`` is given none.
MODE_ENV = "BT_EXPLORE_MODE"
#: Keyword arguments of ``connect()`` that go to :class:`Settings`.
SETTINGS_KWARGS = frozenset({*ENV_VARS, "env_file"})
#: Keyword arguments of ``connect()`` that go to :class:`Client`.
CLIENT_KWARGS = frozenset({"session", "clock", "retry"})

#: A mode: called with ``cassette=`` and the remaining keyword arguments; returns a Client.
ModeFactory = Callable[..., Client]

_MODES: dict[str, ModeFactory] = {}
# Modes provided by other modules, imported on first use so that connect() stays light.
_PROVIDERS: dict[str, str] = {"replay": "bt_explore.recording", "record": "bt_explore.recording"}


def register_mode(name: str, factory: ModeFactory) -> None:
    """Make ``connect(mode=name)`` call ``factory(cassette=..., **kwargs)``.

    Example:
        >>> register_mode("staging", lambda cassette=None, **kw: live_client(  # doctest: +SKIP
        ...     api_url="https://staging.example/module/v3/", **kw))
    """
    _MODES[name] = factory


def modes() -> list[str]:
    """The modes ``connect()`` accepts.

    Example:
        >>> {"live", "sandbox"} <= set(modes())
        True
    """
    return sorted({*_MODES, *_PROVIDERS})


def _split(kwargs: dict[str, Any], allowed: frozenset[str], what: str) -> dict[str, Any]:
    unknown = set(kwargs) - allowed
    if unknown:
        raise TypeError(
            f"connect({what}) got unexpected argument(s) {', '.join(sorted(unknown))}; "
            f"it takes {', '.join(sorted(allowed))}"
        )
    return kwargs


def live_client(**kwargs: Any) -> Client:
    """A client for bookingtime's servers; ``kwargs`` are Settings and Client arguments.

    Example:
        >>> client = live_client(client_id="23demo", organization_id="f6demo", env_file=None)
        >>> client.settings.api_url
        'https://api.bookingtime.com/module/v3/'
    """
    _split(kwargs, SETTINGS_KWARGS | CLIENT_KWARGS, "mode='live'")
    settings = Settings(**{k: v for k, v in kwargs.items() if k in SETTINGS_KWARGS})
    if not settings.client_id:
        settings.require()  # raises the error naming client_id and BOOKINGTIME_CLIENT_ID
    return Client(settings, **{k: v for k, v in kwargs.items() if k in CLIENT_KWARGS})


def _sandbox_kwargs() -> frozenset[str]:
    from bt_explore.sandbox import Sandbox

    params = inspect.signature(Sandbox).parameters
    return frozenset(name for name in params if name != "self")


def sandbox_client(**kwargs: Any) -> Client:
    """Start a :class:`~bt_explore.Sandbox` and return a client of its demo organization.

    ``kwargs`` are Sandbox arguments (``now=``, ``latency_ms=``, ``faults=``…), Client
    arguments, and ``organization_id``/``locale``/``timeout`` for the Settings. The client's
    token clock follows the sandbox's clock, so a pinned ``now`` stays consistent.

    Example:
        >>> client = sandbox_client(now="2026-12-01T09:00:00+01:00")   # doctest: +SKIP
        >>> client.sandbox.organization_id == client.organization_id  # doctest: +SKIP
        True
    """
    from bt_explore.sandbox import Sandbox

    sandbox_args = _sandbox_kwargs()
    settings_args = frozenset({"organization_id", "locale", "timeout"})
    _split(kwargs, sandbox_args | settings_args | CLIENT_KWARGS, "mode='sandbox'")
    sb = Sandbox(**{k: v for k, v in kwargs.items() if k in sandbox_args})
    sb.start()
    try:
        client = sb.client(
            **{k: v for k, v in kwargs.items() if k in settings_args | CLIENT_KWARGS}
        )
    except BaseException:
        sb.stop()
        raise
    client.sandbox = sb
    return client


# ``cassette=`` names the recording a notebook replays in tests; live and sandbox runs of the
# same notebook line simply don't use it.
def _live(*, cassette: str | None = None, **kwargs: Any) -> Client:
    return live_client(**kwargs)


def _sandbox(*, cassette: str | None = None, **kwargs: Any) -> Client:
    return sandbox_client(**kwargs)


register_mode("live", _live)
register_mode("sandbox", _sandbox)


def _default_mode(kwargs: dict[str, Any]) -> str:
    env_mode = os.environ.get(MODE_ENV, "").strip()
    if env_mode:
        return env_mode
    settings_args = {k: v for k, v in kwargs.items() if k in SETTINGS_KWARGS}
    try:
        configured = Settings(**settings_args).client_id
    except ConfigurationError:
        configured = kwargs.get("client_id")
    return "live" if configured else "sandbox"


def connect(mode: str | None = None, *, cassette: str | None = None, **kwargs: Any) -> Client:
    """A ready :class:`~bt_explore.Client`: ``"live"``, ``"sandbox"`` or a registered mode.

    ``mode=None`` reads ``BT_EXPLORE_MODE``, else picks live when a client id is configured
    and the sandbox otherwise. ``kwargs`` are Settings arguments (``client_id=``,
    ``organization_id=``…), Client arguments (``session=``, ``clock=``) and, for the sandbox,
    Sandbox arguments (``now=``, ``latency_ms=``…). ``cassette="name"`` names the recording
    used by the ``"replay"`` and ``"record"`` modes (``cassettes/name.yaml``); live and sandbox
    runs ignore it, so one notebook line serves every mode. Logs one INFO line naming the mode
    and the organization. Nothing is sent to bookingtime until the first call.

    Example:
        >>> import bt_explore
        >>> client = bt_explore.connect(mode="sandbox")                 # doctest: +SKIP
        >>> client.templates()[0]["name"]  # doctest: +SKIP
        'Test AppointmentTemplate'
        >>> client.close()                                              # stops the sandbox  # doctest: +SKIP
    """
    chosen = mode if mode is not None else _default_mode(kwargs)
    if not isinstance(chosen, str):
        raise TypeError(f"mode must be a string such as 'sandbox', got {type(chosen).__name__}")
    chosen = chosen.strip().lower()
    factory = _MODES.get(chosen)
    if factory is None and chosen in _PROVIDERS:
        try:
            importlib.import_module(_PROVIDERS[chosen])
        except ImportError as exc:
            raise ConfigurationError(
                f"connect(mode={chosen!r}) needs {_PROVIDERS[chosen]}, which failed to import: {exc}"
            ) from exc
        factory = _MODES.get(chosen)
        if factory is None:
            raise ConfigurationError(
                f"connect(mode={chosen!r}) is not available: {_PROVIDERS[chosen]} does not "
                f"register it"
            )
    if factory is None:
        source = "" if mode is not None else f" (from {MODE_ENV})"
        raise ValueError(
            f"unknown connect mode {chosen!r}{source}; valid modes: {', '.join(modes())}"
        )
    client = factory(cassette=cassette, **kwargs)
    where = client.settings.api_url
    log.info(
        "connected in %s mode to organization %s (%s)",
        chosen,
        client.organization_id or "(none configured)",
        where,
    )
    return client
