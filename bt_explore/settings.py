"""Settings for talking to bookingtime: arguments → environment → ``.env`` → defaults.

Each value is taken from the first place that has it:

1. an explicit argument to :class:`Settings`;
2. the environment: ``BOOKINGTIME_CLIENT_ID``, ``BOOKINGTIME_CLIENT_SECRET``,
   ``BOOKINGTIME_ORGANIZATION_ID``, ``BOOKINGTIME_AUTH_URL``, ``BOOKINGTIME_API_URL``,
   ``BOOKINGTIME_LOCALE``, ``BOOKINGTIME_TIMEOUT``;
3. a ``.env`` file: ``.env`` in the working directory, or the path given as ``env_file=``
   (read with python-dotenv; ``os.environ`` is left untouched; parent folders are not
   searched);
4. the defaults: bookingtime's real URLs, locale ``en``, timeouts of 5 s to connect and 30 s to
   read, an empty client secret (modules are public clients).

An empty client secret is a value like any other. For every other setting an empty string
counts as unset, so ``export BOOKINGTIME_LOCALE=`` falls through to the next source.

Example:
    >>> s = Settings(client_id="23demo", organization_id="f6demo", env_file=None)
    >>> s.api_url, s.locale, s.timeout
    ('https://api.bookingtime.com/module/v3/', 'en', (5.0, 30.0))
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from bt_explore.endpoints import API_PREFIX, TOKEN_PATH
from bt_explore.errors import ConfigurationError

__all__ = [
    "Settings",
    "DEFAULT_AUTH_URL",
    "DEFAULT_API_URL",
    "DEFAULT_TIMEOUT",
    "ENV_VARS",
    "VARIABLES",
    "Variable",
    "env",
    "variables_markdown",
]

DEFAULT_AUTH_URL = "https://auth.bookingtime.com" + TOKEN_PATH
DEFAULT_API_URL = "https://api.bookingtime.com" + API_PREFIX
DEFAULT_LOCALE = "en"
#: (connect, read) in seconds
DEFAULT_TIMEOUT: tuple[float, float] = (5.0, 30.0)


@dataclass(frozen=True)
class Variable:
    """One environment variable bt_explore reads: its name, what it means, its default, and the
    :class:`Settings` attribute it fills (``None``: read where it is used, through :func:`env`).

    Example:
        >>> VARIABLES["BOOKINGTIME_LOCALE"].setting
        'locale'
    """

    name: str
    meaning: str
    default: str
    setting: str | None = None


#: Every environment variable bt_explore reads, by name: the one table of configuration
#: (docs/configuration.md's list is generated from it).
VARIABLES: dict[str, Variable] = {
    v.name: v
    for v in (
        Variable(
            "BOOKINGTIME_CLIENT_ID",
            "the module's client id (a live client needs one)",
            "— (none: `connect()` uses the sandbox)",
            "client_id",
        ),
        Variable(
            "BOOKINGTIME_CLIENT_SECRET",
            "the client secret (modules are public clients; an empty secret is a value)",
            '`""`',
            "client_secret",
        ),
        Variable(
            "BOOKINGTIME_ORGANIZATION_ID",
            "the organization every call addresses unless given `organization_id=`",
            "—",
            "organization_id",
        ),
        Variable("BOOKINGTIME_AUTH_URL", "the token endpoint", f"`{DEFAULT_AUTH_URL}`", "auth_url"),
        Variable(
            "BOOKINGTIME_API_URL",
            "the Module API's base URL, without the locale",
            f"`{DEFAULT_API_URL}`",
            "api_url",
        ),
        Variable(
            "BOOKINGTIME_LOCALE",
            "the language of the API's messages (`en`, `de`, `de_DE`…)",
            f"`{DEFAULT_LOCALE}`",
            "locale",
        ),
        Variable(
            "BOOKINGTIME_TIMEOUT",
            "connect and read timeouts in seconds, `connect,read` or one number for both",
            "`5,30`",
            "timeout",
        ),
        Variable(
            "BT_EXPLORE_MODE",
            "how `connect()` connects without `mode=`: `live`, `sandbox`, `replay` or `record`",
            "live when a client id is configured, else sandbox",
        ),
        Variable(
            "BT_EXPLORE_RECORD_LIVE",
            '`1` (or `true`, `yes`): `mode="record"` records bookingtime itself, not the sandbox',
            "— (record a sandbox with a pinned clock)",
        ),
        Variable(
            "BT_EXPLORE_CASSETTE_DIR",
            "the folder of the recorded cassettes",
            "the nearest `cassettes/` upwards from the working directory",
        ),
        Variable(
            "BT_EXPLORE_CONFIG_DIR",
            "the folder of `signin.json` (a remembered sign-in)",
            "`$XDG_CONFIG_HOME/bt_explore` (`~/.config/bt_explore`; `%APPDATA%` on Windows)",
        ),
        Variable(
            "BT_EXPLORE_APP_SANDBOX",
            "`1` in the booking page's kernel when `bt-explore app` books on a sandbox "
            "(set by the command, not by you)",
            "—",
        ),
        Variable(
            "BT_EXPLORE_APP_TOKEN",
            "the booking page's per-run token, handed by `bt-explore app` to its Voilà process "
            "(which takes it out before kernels start; set by the command, not by you)",
            "—",
        ),
    )
}

#: setting -> environment variable
ENV_VARS: dict[str, str] = {v.setting: v.name for v in VARIABLES.values() if v.setting}


def env(name: str, environ: Mapping[str, str] | None = None) -> str | None:
    """The value of the declared environment variable ``name`` in ``environ`` (default:
    ``os.environ``), ``None`` when unset; a ``ValueError`` for a name :data:`VARIABLES` lacks.

    Example:
        >>> env("BT_EXPLORE_MODE", {"BT_EXPLORE_MODE": "replay"})
        'replay'
        >>> env("BT_EXPLORE_MOOD", {})
        Traceback (most recent call last):
        ValueError: BT_EXPLORE_MOOD is not one of bt_explore's environment variables (see bt_explore.settings.VARIABLES)
    """
    if name not in VARIABLES:
        raise ValueError(
            f"{name} is not one of bt_explore's environment variables "
            "(see bt_explore.settings.VARIABLES)"
        )
    return (os.environ if environ is None else environ).get(name)


def variables_markdown() -> str:
    """The Markdown table of :data:`VARIABLES` (docs/configuration.md holds it).

    Example:
        >>> variables_markdown().splitlines()[0]
        '| variable | meaning | default |'
    """
    rows = ["| variable | meaning | default |", "|---|---|---|"]
    for v in VARIABLES.values():
        setting = f" (`Settings.{v.setting}`)" if v.setting else ""
        rows.append(f"| `{v.name}` | {v.meaning}{setting} | {v.default} |")
    return "\n".join(rows) + "\n"


_LOCALE = re.compile(r"^[a-z]{2}(_[A-Z]{2})?$")

TimeoutLike = float | int | str | tuple[float, float] | None


def _parse_timeout(value: Any, source: str) -> tuple[float, float]:
    """``5`` → (5, 5); ``(5, 30)`` or ``"5,30"`` → (5, 30); must be positive numbers."""
    raw = value
    if isinstance(value, str):
        parts = [p.strip() for p in value.split(",")]
        if len(parts) not in (1, 2):
            raise ConfigurationError(
                f"timeout from {source} must be one number or 'connect,read' seconds, got {raw!r}"
            )
        value = tuple(parts) if len(parts) == 2 else parts[0]
    if isinstance(value, (tuple, list)):
        if len(value) != 2:
            raise ConfigurationError(
                f"timeout from {source} must be (connect, read) seconds, got {raw!r}"
            )
        pair = value
    else:
        pair = (value, value)
    try:
        result = (float(pair[0]), float(pair[1]))
    except (TypeError, ValueError):
        raise ConfigurationError(
            f"timeout from {source} must be seconds as numbers, got {raw!r}"
        ) from None
    if not all(t > 0 for t in result):
        raise ConfigurationError(f"timeout from {source} must be positive seconds, got {raw!r}")
    return result


def _check_url(name: str, value: str, source: str) -> str:
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ConfigurationError(
            f"{name} from {source} must be an http(s) URL like "
            f"{DEFAULT_AUTH_URL if name == 'auth_url' else DEFAULT_API_URL!r}, got {value!r}"
        )
    if parts.query or parts.fragment:
        raise ConfigurationError(f"{name} from {source} must not have a query or fragment")
    return value


def _dotenv_values(path: Path | None) -> dict[str, str | None]:
    """The values of the ``.env`` file at ``path`` (none if there is no such file), read
    without touching ``os.environ``. Only that path: a ``.env`` in a parent folder must not
    silently turn an offline run live."""
    if path is None or not path.is_file():
        return {}
    from dotenv import dotenv_values

    return dict(dotenv_values(path))


def _resolve(layers: list[tuple[str, Mapping[str, Any]]]) -> tuple[dict[str, Any], dict[str, str]]:
    """Each setting's value from the first layer that has one, and that layer's name
    (``"default"`` when none has). An empty secret is a value (public clients); for every other
    setting an empty string counts as unset."""
    resolved: dict[str, Any] = {}
    sources: dict[str, str] = {}
    for name in ENV_VARS:
        resolved[name], sources[name] = None, "default"
        for source, values in layers:
            value = values.get(name)
            blank = isinstance(value, str) and not value.strip() and name != "client_secret"
            if value is not None and not blank:
                resolved[name], sources[name] = value, source
                break
    return resolved, sources


def _where(name: str, source: str) -> str:
    """Where a setting came from, as an error message says it."""
    if source == "environment":
        return f"environment variable {ENV_VARS[name]}"
    if source == "argument":
        return f"argument {name}="
    return source


def _stripped(value: Any) -> str | None:
    return str(value).strip() if value is not None else None


def _check_locale(value: Any, source: str) -> str:
    locale = str(value or DEFAULT_LOCALE).strip()
    if not _LOCALE.match(locale):
        raise ConfigurationError(
            f"locale from {source} must look like 'en', 'de' or 'de_DE', got {locale!r}"
        )
    return locale


class Settings:
    """Where and as whom to talk to bookingtime, resolved once at construction.

    Arguments override environment variables, which override the ``.env`` file (``env_file``:
    by default ``.env`` in the working directory, never a parent folder's; ``env_file=None``
    skips it), which overrides the defaults. Nothing is sent anywhere.
    ``client_id`` may be missing here; :meth:`require` (called by :class:`~bt_explore.Client`)
    raises :class:`~bt_explore.ConfigurationError` naming both the argument and the variable.

    Example:
        >>> s = Settings(client_id="23demo", client_secret="", env_file=None)
        >>> s.client_secret == ""   # an empty secret is a value
        True
        >>> s.replace(locale="de").locale
        'de'
    """

    __slots__ = (
        "client_id",
        "client_secret",
        "organization_id",
        "auth_url",
        "api_url",
        "locale",
        "timeout",
        "env_file",
        "sources",
    )

    client_id: str | None
    client_secret: str
    organization_id: str | None
    auth_url: str
    api_url: str
    locale: str
    timeout: tuple[float, float]
    env_file: str | None
    #: setting -> where its value came from ("argument", "environment", ".env path", "default")
    sources: Mapping[str, str]

    def __init__(
        self,
        client_id: str | None = None,
        client_secret: str | None = None,
        organization_id: str | None = None,
        auth_url: str | None = None,
        api_url: str | None = None,
        locale: str | None = None,
        timeout: TimeoutLike = None,
        *,
        env_file: str | os.PathLike[str] | None = ".env",
    ) -> None:
        arguments = {
            "client_id": client_id,
            "client_secret": client_secret,
            "organization_id": organization_id,
            "auth_url": auth_url,
            "api_url": api_url,
            "locale": locale,
            "timeout": timeout,
        }
        env_path = None if env_file is None else Path(env_file)
        file_values = _dotenv_values(env_path)
        layers: list[tuple[str, Mapping[str, Any]]] = [
            ("argument", arguments),
            ("environment", {k: env(v) for k, v in ENV_VARS.items()}),
            (str(env_path), {k: file_values.get(v) for k, v in ENV_VARS.items()}),
        ]
        resolved, sources = _resolve(layers)

        def where(name: str) -> str:
            return _where(name, sources[name])

        set_ = object.__setattr__
        set_(self, "client_id", _stripped(resolved["client_id"]))
        secret = resolved["client_secret"]
        set_(self, "client_secret", "" if secret is None else str(secret))
        set_(self, "organization_id", _stripped(resolved["organization_id"]))
        auth = str(resolved["auth_url"] or DEFAULT_AUTH_URL)
        set_(self, "auth_url", _check_url("auth_url", auth, where("auth_url")))
        api = _check_url("api_url", str(resolved["api_url"] or DEFAULT_API_URL), where("api_url"))
        set_(self, "api_url", api if api.endswith("/") else api + "/")
        set_(self, "locale", _check_locale(resolved["locale"], where("locale")))
        raw_timeout = resolved["timeout"]
        timeout_ = (
            DEFAULT_TIMEOUT
            if raw_timeout is None
            else _parse_timeout(raw_timeout, where("timeout"))
        )
        set_(self, "timeout", timeout_)
        set_(self, "env_file", None if env_path is None else str(env_path))
        set_(self, "sources", dict(sources))

    def __setattr__(self, name: str, value: Any) -> None:
        raise AttributeError(f"Settings are read-only; use settings.replace({name}=...)")

    def require(self) -> Settings:
        """Return ``self`` if a client id is set, else raise :class:`ConfigurationError`.

        Example:
            >>> Settings(client_id=None, env_file=None).require()  # doctest: +SKIP
            Traceback (most recent call last):
            bt_explore.errors.ConfigurationError: no client id: pass client_id=... or set BOOKINGTIME_CLIENT_ID ...
        """
        if not self.client_id:
            raise ConfigurationError(
                "no client id: pass client_id=... or set BOOKINGTIME_CLIENT_ID "
                "(in the environment or a .env file); "
                "or use bt_explore.connect(mode='sandbox') to explore offline"
            )
        return self

    def require_organization(self, organization_id: str | None = None) -> str:
        """The organization to use: ``organization_id`` if given, else the configured one.

        Example:
            >>> Settings(client_id="23x", organization_id="f6x", env_file=None).require_organization()
            'f6x'
        """
        org = organization_id or self.organization_id
        if not org:
            raise ConfigurationError(
                "no organization id: pass organization_id=... or set "
                "BOOKINGTIME_ORGANIZATION_ID (in the environment or a .env file)"
            )
        return org

    def replace(self, **changes: Any) -> Settings:
        """A copy with some values changed (the others keep their resolved values).

        Example:
            >>> Settings(client_id="23x", env_file=None).replace(organization_id="f6y").organization_id
            'f6y'
        """
        unknown = set(changes) - set(ENV_VARS)
        if unknown:
            raise TypeError(f"Settings has no setting(s) {', '.join(sorted(unknown))}")
        values = {name: getattr(self, name) for name in ENV_VARS}
        values.update(changes)
        # env_file=None: resolved values are final, the file must not sneak back in.
        new = Settings(**values, env_file=None)
        sources = dict(self.sources)
        sources.update({k: "argument" for k in changes})
        object.__setattr__(new, "sources", sources)
        return new

    def as_dict(self) -> dict[str, Any]:
        """The settings as a dict, with the client secret masked.

        Example:
            >>> Settings(client_id="23x", client_secret="s3cret", env_file=None).as_dict()["client_secret"]
            '***'
        """
        values = {name: getattr(self, name) for name in ENV_VARS}
        values["client_secret"] = "***" if self.client_secret else ""
        return values

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Settings):
            return NotImplemented
        return all(getattr(self, n) == getattr(other, n) for n in ENV_VARS)

    def __hash__(self) -> int:
        return hash(tuple(getattr(self, n) for n in ENV_VARS))

    def __repr__(self) -> str:
        fields = ", ".join(f"{k}={v!r}" for k, v in self.as_dict().items())
        return f"Settings({fields})"
