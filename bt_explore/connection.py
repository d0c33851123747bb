"""``connect()``: one call to get a ready :class:`~bt_explore.Client`, live or on the sandbox.

Modes:

- ``"live"``: bookingtime's servers with your credentials (:class:`~bt_explore.Settings`:
  arguments, ``BOOKINGTIME_*`` environment variables or a ``.env`` file);
- ``"sandbox"``: starts an in-process :class:`~bt_explore.Sandbox` and connects to its demo
  organization; the sandbox is stopped when the client closes. ``connect(sandbox=sb)``
  connects to a sandbox you started yourself instead (and leaves it running);
- ``"replay"`` / ``"record"``: the traffic of ``cassettes/<cassette>.yaml`` (see
  :mod:`bt_explore.recording`).

Without ``mode``, ``BT_EXPLORE_MODE`` decides; without that, live when a client id is
configured, else sandbox.

Example:
    >>> import bt_explore
    >>> with bt_explore.connect(mode="sandbox", now="2026-12-01T09:00:00+01:00") as client:
    ...     print(client.organization()["name"])
    Praxis am Park (bt_explore demo)
"""

from __future__ import annotations

import inspect
import logging
from typing import TYPE_CHECKING, Any

from bt_explore.client import Client
from bt_explore.errors import ConfigurationError
from bt_explore.settings import ENV_VARS, Settings, env

if TYPE_CHECKING:  # pragma: no cover
    from bt_explore.sandbox import Sandbox

__all__ = [
    "connect",
    "login",
    "SIGN_IN_KWARGS",
    "modes",
    "live_client",
    "sandbox_client",
    "MODE_ENV",
    "RECORD_LIVE_ENV",
    "SETTINGS_KWARGS",
    "CLIENT_KWARGS",
]

log = logging.getLogger("bt_explore.connection")

#: Environment variable that selects the mode when ``connect()`` is given none.
MODE_ENV = "BT_EXPLORE_MODE"
#: Environment variable that makes ``connect(mode="record")`` record bookingtime itself instead
#: of the sandbox (``bt-explore record --live`` sets it).
RECORD_LIVE_ENV = "BT_EXPLORE_RECORD_LIVE"
#: Keyword arguments of ``connect()`` that go to :class:`Settings`.
SETTINGS_KWARGS = frozenset({*ENV_VARS, "env_file"})
#: Keyword arguments of ``connect()`` that go to :class:`Client`.
CLIENT_KWARGS = frozenset({"session", "clock", "retry", "pace"})
#: Keyword arguments of ``connect(auth="user")`` / ``login()`` that go to the sign-in
#: (:func:`bt_explore.signin.sign_in`; its ``timeout`` is called ``sign_in_timeout`` here).
SIGN_IN_KWARGS = frozenset({"open_browser", "show_url", "remember", "sign_in_timeout"})
#: Settings arguments that also make sense for a sandbox's client.
_SANDBOX_SETTINGS = frozenset({"organization_id", "locale", "timeout"})

_MODES = ("live", "sandbox", "replay", "record")


def modes() -> list[str]:
    """The modes ``connect()`` accepts.

    Example:
        >>> modes()
        ['live', 'record', 'replay', 'sandbox']
    """
    return sorted(_MODES)


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


def sandbox_client(sandbox: Sandbox | None = None, **kwargs: Any) -> Client:
    """A client of a sandbox's demo organization: of ``sandbox`` (started, left running when
    the client closes), else of a new sandbox that the client stops when it closes.

    ``kwargs`` are Client arguments, ``organization_id``/``locale``/``timeout`` for the
    Settings and, for a new sandbox, Sandbox arguments (``now=``, ``latency_ms=``…).
    Credentials never come from the environment or a ``.env`` file. The client's clock is the
    sandbox's clock, so tokens and "today" follow a pinned or advanced ``now``.

    Example:
        >>> from bt_explore import Sandbox
        >>> with Sandbox(now="2026-12-01T09:00:00+01:00") as sb:
        ...     with sandbox_client(sb) as client:
        ...         client.organization()["id"] == sb.organization_id
        True
    """
    from bt_explore.sandbox import Sandbox

    own = sandbox is None
    sandbox_args = _sandbox_kwargs() if own else frozenset()
    _split(kwargs, sandbox_args | _SANDBOX_SETTINGS | CLIENT_KWARGS, "mode='sandbox'")
    if sandbox is None:
        sandbox = Sandbox(**{k: v for k, v in kwargs.items() if k in sandbox_args}).start()
    elif not isinstance(sandbox, Sandbox):
        raise TypeError(f"sandbox must be a bt_explore.Sandbox, got {type(sandbox).__name__}")
    elif not sandbox.running:
        raise ValueError("sandbox: start it first (`with Sandbox() as sb:` or sb.start())")
    try:
        settings = Settings(
            client_id=sandbox.client_id,
            client_secret=sandbox.client_secret,
            organization_id=kwargs.get("organization_id") or sandbox.organization_id,
            auth_url=sandbox.auth_url,
            api_url=sandbox.api_url,
            locale=kwargs.get("locale"),
            timeout=kwargs.get("timeout"),
            env_file=None,
        )
        client_args = {k: v for k, v in kwargs.items() if k in CLIENT_KWARGS}
        client_args.setdefault("clock", sandbox.now)
        client = Client(settings, **client_args)
    except BaseException:
        if own:
            sandbox.stop()
        raise
    if own:
        client.on_close(sandbox.stop)
    return client


def _record_client(cassette: str | None, **kwargs: Any) -> Client:
    """A client (live with ``BT_EXPLORE_RECORD_LIVE=1``, else a pinned sandbox) whose traffic
    is recorded into ``cassettes/<cassette>.yaml``."""
    import bt_explore.recording as recording

    if not cassette:
        raise TypeError("connect(mode='record') needs cassette='<name>' (a file in cassettes/)")
    live = (env(RECORD_LIVE_ENV) or "").strip().lower() in {"1", "true", "yes"}
    if live:
        client = live_client(**kwargs)
    else:
        kwargs.setdefault("now", recording.RECORD_NOW)
        client = sandbox_client(**kwargs)
    try:
        return recording.record(client, cassette, source="live" if live else "sandbox")
    except BaseException:
        client.close()
        raise


def _default_mode(kwargs: dict[str, Any]) -> str:
    env_mode = (env(MODE_ENV) or "").strip()
    if env_mode:
        return env_mode
    settings_args = {k: v for k, v in kwargs.items() if k in SETTINGS_KWARGS}
    try:
        configured = Settings(**settings_args).client_id
    except ConfigurationError:
        configured = kwargs.get("client_id")
    return "live" if configured else "sandbox"


def _chosen_mode(mode: Any, sandbox: Sandbox | None, kwargs: dict[str, Any]) -> str:
    """The mode ``connect()`` runs in: ``mode``, else ``"sandbox"`` with ``sandbox=``, else
    :func:`_default_mode`; checked, with the error naming where a bad one came from."""
    chosen = mode if mode is not None else "sandbox" if sandbox is not None else None
    if chosen is None:
        chosen = _default_mode(kwargs)
    if not isinstance(chosen, str):
        raise TypeError(f"mode must be a string such as 'sandbox', got {type(chosen).__name__}")
    chosen = chosen.strip().lower()
    if sandbox is not None and chosen != "sandbox":
        raise ValueError(f"sandbox= only goes with mode='sandbox', not {chosen!r}")
    if chosen not in _MODES:
        source = "" if mode is not None else f" (from {MODE_ENV})"
        raise ValueError(
            f"unknown connect mode {chosen!r}{source}; valid modes: {', '.join(modes())}"
        )
    return chosen


def _open(
    chosen: str, cassette: str | None, sandbox: Sandbox | None, kwargs: dict[str, Any]
) -> Client:
    """A client in the (checked) mode ``chosen``."""
    if chosen == "live":
        return live_client(**kwargs)
    if chosen == "sandbox":
        return sandbox_client(sandbox, **kwargs)
    if chosen == "replay":
        from bt_explore.recording import replay_client

        return replay_client(cassette=cassette, **kwargs)
    return _record_client(cassette, **kwargs)


def _sign_in(client: Client, sign_in_args: dict[str, Any]) -> None:
    """Let a person sign in for ``client``; the client is closed if that fails."""
    from bt_explore.signin import sign_in

    if "sign_in_timeout" in sign_in_args:
        sign_in_args["timeout"] = sign_in_args.pop("sign_in_timeout")
    try:
        sign_in(client, **sign_in_args)
    except BaseException:
        client.close()
        raise


def connect(
    mode: str | None = None,
    *,
    cassette: str | None = None,
    sandbox: Sandbox | None = None,
    auth: str = "app",
    **kwargs: Any,
) -> Client:
    """A ready :class:`~bt_explore.Client`: ``"live"``, ``"sandbox"``, ``"replay"`` or
    ``"record"``.

    ``auth="app"`` authenticates the application alone (client credentials: for test
    applications); ``auth="user"`` lets a person sign in first (see :func:`login`, which takes
    the sign-in arguments ``open_browser=``, ``show_url=``, ``remember=``,
    ``sign_in_timeout=``).

    ``mode=None`` reads ``BT_EXPLORE_MODE``, else picks live when a client id is configured
    and the sandbox otherwise. ``kwargs`` are Settings arguments (``client_id=``,
    ``organization_id=``…), Client arguments (``session=``, ``clock=``) and, for the sandbox,
    Sandbox arguments (``now=``, ``latency_ms=``…), or ``sandbox=`` a started
    :class:`~bt_explore.Sandbox` of yours (the mode is then ``"sandbox"``, and closing the
    client leaves it running). ``cassette="name"`` names the recording
    used by the ``"replay"`` and ``"record"`` modes (``cassettes/name.yaml``); live and sandbox
    runs ignore it, so one notebook line serves every mode. Logs one INFO line naming the mode
    and the organization. Nothing is sent to bookingtime until the first call.

    Example:
        >>> import bt_explore
        >>> client = bt_explore.connect(mode="sandbox")                 # doctest: +SKIP
        >>> client.templates()[0]["name"]  # doctest: +SKIP
        'Test AppointmentTemplate'
        >>> client.close()                                              # stops the sandbox  # doctest: +SKIP
        >>> with bt_explore.Sandbox() as sb, bt_explore.connect(sandbox=sb) as client:
        ...     sb.set_faults(script=[503])            # the next API call gets a 503, retried
        ...     len(client.templates()) > 0
        True
    """
    if auth not in ("app", "user"):
        raise ValueError(f"auth must be 'app' or 'user', got {auth!r}")
    sign_in_args = {k: kwargs.pop(k) for k in SIGN_IN_KWARGS & set(kwargs)}
    if sign_in_args and auth != "user":
        raise TypeError(f"{', '.join(sorted(sign_in_args))} only go with auth='user'")
    chosen = _chosen_mode(mode, sandbox, kwargs)
    # ``cassette=`` names the recording a notebook replays in tests; live and sandbox runs of
    # the same notebook line simply don't use it.
    client = _open(chosen, cassette, sandbox, kwargs)
    if auth == "user":
        _sign_in(client, sign_in_args)
    where = client.settings.api_url
    organization = client.organization_id or "(none configured)"
    if chosen == "live" and _on_this_machine(where):
        # e.g. `--sandbox URL`: a server of this machine, not bookingtime
        log.info(
            "connected to the server at %s on this machine, organization %s", where, organization
        )
    else:
        log.info("connected in %s mode to organization %s (%s)", chosen, organization, where)
    return client


def _on_this_machine(url: str) -> bool:
    """Whether ``url`` names a loopback host (a local sandbox or proxy, not bookingtime).

    Example:
        >>> _on_this_machine("http://127.0.0.1:8765/module/v3/"), _on_this_machine("https://api.bookingtime.com/")
        (True, False)
    """
    import ipaddress
    from urllib.parse import urlsplit

    host = urlsplit(url).hostname or ""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def login(mode: str | None = None, **kwargs: Any) -> Client:
    """A client that acts for a person who signs in in the browser: ``connect(mode,
    auth="user", **kwargs)``, bookingtime's Authorization Code Flow with PKCE.

    The system browser opens on the sign-in page (``open_browser=False``: the address is only
    shown; ``show_url=`` replaces how). A notebook shows a link and the cell completes when the
    sign-in does. ``remember=True`` reuses and keeps the sign-in in the user's config folder
    (``bt-explore login``/``logout``/``whoami``). ``sign_in_timeout=`` bounds the wait (300 s).
    Raises :class:`~bt_explore.SignInError` when the sign-in does not complete.

    Example:
        >>> import bt_explore
        >>> from bt_explore.sandbox.authorize import headless_browser
        >>> with bt_explore.Sandbox() as sb:
        ...     person = headless_browser("ada@example.com", "ada-demo")
        ...     with bt_explore.login(sandbox=sb, open_browser=False, show_url=person) as client:
        ...         print(client.organization(organization_id=sb.other_organization_id)["name"])
        Studio Wien
    """
    return connect(mode, auth="user", **kwargs)
