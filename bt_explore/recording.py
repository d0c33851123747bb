"""Record and replay HTTP traffic: the one vcrpy configuration of the project.

Tests, notebooks and ``bt-explore record`` all go through :func:`use_cassette`, so a cassette
recorded by one replays in the others:

- requests match on **method, path, query** and, for POST/PUT, the **body** — never on host or
  port, so a sandbox on a random port (or bookingtime's real hosts) replays the same cassette;
- secrets are scrubbed before anything is written: the ``Authorization`` header; the
  parameters of :data:`SECRET_PARAMETERS` (client id and secret, tokens, and a person's sign-in:
  ``password``, authorization ``code``, ``state``, ``code_verifier``, ``code_challenge``) in
  request bodies, query strings and redirect ``Location`` headers; tokens in token-endpoint
  answers; they become stable placeholders (``<ACCESS_TOKEN>`` …); HTML pages (the sign-in
  page repeats the form's hidden fields) are stored as a placeholder; any other JWT-shaped
  string in a body is replaced too, as defence in depth;
- bodies are stored decoded, volatile headers (``Date``, ``Server`` …) dropped;
- a cassette is written to a temporary file and moved into place only when the run succeeded,
  so a failed run never leaves a half-recorded cassette behind;
- each cassette carries a small ``bt_explore`` header (when and against what it was recorded,
  which organization), which replay uses to pin the clock to the recording's time.

Example:
    >>> from bt_explore import recording
    >>> with recording.use_cassette("walkthrough", mode="replay"):   # doctest: +SKIP
    ...     client.templates()
"""

from __future__ import annotations

import contextlib
import logging
import os
import re
import tempfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, quote, urlencode, urlsplit, urlunsplit

import msgspec

from bt_explore.extras import missing_extra

try:
    import vcr
    import yaml
    from vcr.matchers import body as _body_matcher
except ImportError as exc:  # pragma: no cover - depends on the installed extras
    raise missing_extra(
        exc.name if exc.name in ("vcr", "yaml") else "vcr", "record/replay"
    ) from exc

import bt_explore.times as times
from bt_explore.client import Client
from bt_explore.endpoints import API_PREFIX, TOKEN_PATH
from bt_explore.errors import BookingtimeError
from bt_explore.settings import Settings, env

__all__ = [
    "CASSETTE_DIR_ENV",
    "CassetteMissing",
    "PLACEHOLDERS",
    "SECRET_PARAMETERS",
    "RECORD_NOW",
    "SecretFinding",
    "cassette_dir",
    "cassette_path",
    "find_secrets",
    "make_vcr",
    "read_metadata",
    "record",
    "replay_client",
    "scrub_request",
    "scrub_response",
    "use_cassette",
]

log = logging.getLogger("bt_explore.recording")
# vcrpy logs whole request/response bodies (tokens included) at INFO: keep it quieter than that.
logging.getLogger("vcr").setLevel(logging.WARNING)

#: The pinned sandbox time every sandbox recording is made at (so recordings are reproducible).
RECORD_NOW = "2026-12-01T09:00:00+01:00"

#: Environment variable naming the cassette folder (default: the nearest ``cassettes/`` upwards
#: from the working directory, else the one beside the package's source tree).
CASSETTE_DIR_ENV = "BT_EXPLORE_CASSETTE_DIR"

#: What each secret is replaced with in a cassette.
PLACEHOLDERS: dict[str, str] = {
    "client_id": "<CLIENT_ID>",
    "client_secret": "<CLIENT_SECRET>",
    "refresh_token": "<REFRESH_TOKEN>",
    "access_token": "<ACCESS_TOKEN>",
    "jwt": "<JWT>",
    "code": "<AUTHORIZATION_CODE>",
    "code_verifier": "<CODE_VERIFIER>",
    "code_challenge": "<CODE_CHALLENGE>",
    "state": "<STATE>",
    "password": "<PASSWORD>",
    "token": "<TOKEN>",
    "id_token": "<ID_TOKEN>",
    "html": "<HTML PAGE>",
}

#: The parameters that are secrets wherever they appear in a form body, a JSON body, a query
#: string or a redirect's ``Location``: the application's credentials, tokens (``token`` is
#: RFC 7009's revocation parameter), and a person's sign-in (RFC 6749 §4.1 and RFC 7636: the
#: password typed on the sign-in page, the one-time ``code``, ``state`` and the PKCE pair).
SECRET_PARAMETERS = (
    "client_id",
    "client_secret",
    "refresh_token",
    "access_token",
    "id_token",
    "token",
    "code",
    "code_verifier",
    "code_challenge",
    "state",
    "password",
)
_TOKEN_RESPONSE_FIELDS = ("refresh_token", "access_token", "id_token")
_VOLATILE_HEADERS = {
    "date",
    "server",
    "set-cookie",
    "connection",
    "keep-alive",
    "content-length",
    "x-request-id",
    "x-runtime",
    "age",
    "etag",
    "last-modified",
    "expires",
    "via",
    "cf-ray",
}
#: Request headers worth keeping in a cassette (the rest vary by machine or library version).
_KEPT_REQUEST_HEADERS = {"content-type", "accept-language", "authorization"}
#: A loopback origin (a sandbox on a random port) is stored as this stable one.
SANDBOX_ORIGIN = "http://sandbox.local"
_LOOPBACK = re.compile(r"^https?://(127\.0\.0\.1|localhost|\[::1\])(:\d+)?(?=/|$)")
#: The module id (the client id) in a path: ``/module/v3/{locale}/module/{moduleId}/...``.
_MODULE_IN_PATH = re.compile(rf"({API_PREFIX}[^/?]+/module/)[^/?]+")
_JWT = re.compile(r"eyJ[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]*")
_BEARER = re.compile(r"Bearer\s+(?!<)[A-Za-z0-9._~+/=-]{8,}")
_PARAMETER_NAMES = "|".join(sorted(SECRET_PARAMETERS, key=len, reverse=True))
#: As JSON members, ``code``, ``state`` and ``token`` are ordinary API words (a time zone's
#: ``"code": "Europe/Berlin"``): the scan looks for the unambiguous names only.
_API_WORDS = {"code", "state", "token"}
_JSON_NAMES = "|".join(sorted(set(SECRET_PARAMETERS) - _API_WORDS, key=len, reverse=True))
#: The endpoints of a sign-in (authorize, token, revoke, the loopback callback), where ``code``,
#: ``state`` and ``token`` are secrets in bodies too; in API bodies they are ordinary fields.
_SIGN_IN_PATH = re.compile(r"/(oauth/[a-z]+|callback)/?(\?|$)")
#: A secret parameter with a value that is not a placeholder, in a query string or form body
#: (``?state=…``, ``&code=…``, a YAML ``body: password=…``) or as a JSON member.
_SECRET_PARAMETER = re.compile(
    rf"(?:[?&]|\bbody: '?|\bstring: '?)(?P<form>{_PARAMETER_NAMES})=(?!%3C|<)[^&\s'\"]{{4,}}"
    rf"|\"(?P<json>{_JSON_NAMES})\"\s*:\s*\"(?!<)[^\"]{{4,}}\""
)
#: A hidden form field holding a secret parameter (a saved sign-in page).
_SECRET_FIELD = re.compile(
    rf"name=\\?\"(?P<field>{_PARAMETER_NAMES})\\?\"\s+value=\\?\"(?!<)[^\"\\]{{4,}}"
)
_CASSETTE_SUFFIX = ".yaml"


class CassetteMissing(BookingtimeError, FileNotFoundError):
    """A replay was asked for a cassette that does not exist.

    The message says how to record it.

    Example:
        >>> print(CassetteMissing("demo", Path("cassettes/demo.yaml")))  # doctest: +ELLIPSIS
        cassette demo not found at cassettes/demo.yaml; record it with `bt-explore record`...
    """

    def __init__(self, name: str, path: Path) -> None:
        self.name = name
        self.path = path
        super().__init__(
            f"cassette {name} not found at {path}; record it with `bt-explore record` "
            f"(or once: BT_EXPLORE_MODE=record with connect(cassette={name!r}))"
        )


# --- where cassettes live -------------------------------------------------------------------


def cassette_dir() -> Path:
    """The folder holding the cassettes.

    ``$BT_EXPLORE_CASSETTE_DIR`` if set; else the nearest ``cassettes/`` folder in the working
    directory or one of its parents (a notebook kernel runs in ``notebooks/``); else
    ``cassettes/`` beside the package's source tree.

    Example:
        >>> cassette_dir().name
        'cassettes'
    """
    given = env(CASSETTE_DIR_ENV)
    if given:
        return Path(given)
    here = Path.cwd().resolve()
    for folder in (here, *here.parents):
        candidate = folder / "cassettes"
        if candidate.is_dir():
            return candidate
    return Path(__file__).resolve().parent.parent / "cassettes"


def cassette_path(name: str) -> Path:
    """The file of cassette ``name`` (a bare name, or a path ending in ``.yaml``).

    Example:
        >>> cassette_path("walkthrough").name
        'walkthrough.yaml'
    """
    if not name or not isinstance(name, str):
        raise ValueError(f"cassette: expected a non-empty name, got {name!r}")
    if name.endswith(_CASSETTE_SUFFIX) or os.sep in name or "/" in name:
        return Path(name)
    if not re.fullmatch(r"[A-Za-z0-9_.-]+", name):
        raise ValueError(f"cassette: name {name!r} may hold only letters, digits, '_', '-' and '.'")
    return cassette_dir() / f"{name}{_CASSETTE_SUFFIX}"


# --- scrubbing --------------------------------------------------------------------------------


def _placeholder(name: str) -> str:
    return PLACEHOLDERS.get(name, PLACEHOLDERS["jwt"])


def _scrub_query(query: str, fields: Iterable[str]) -> str:
    """A query string (or form body) with the values of ``fields`` replaced by placeholders."""
    fields = tuple(fields)
    pairs = parse_qsl(query, keep_blank_values=True)
    return urlencode(
        [(k, _placeholder(k) if k in fields and v else _scrub_text(v)) for k, v in pairs]
    )


def _scrub_url(url: str) -> str:
    """``url`` with the secret parameters of its query string replaced."""
    parts = urlsplit(url)
    if not parts.query:
        return url
    return urlunsplit(parts._replace(query=_scrub_query(parts.query, SECRET_PARAMETERS)))


def _scrub_text(text: str) -> str:
    text = _JWT.sub(PLACEHOLDERS["jwt"], text)
    return _BEARER.sub("Bearer " + PLACEHOLDERS["access_token"], text)


def _scrub_json(value: Any, fields: Iterable[str]) -> Any:
    fields = tuple(fields)
    if isinstance(value, dict):
        return {
            k: (_placeholder(k) if k in fields and v else _scrub_json(v, fields))
            for k, v in value.items()
        }
    if isinstance(value, list):
        return [_scrub_json(v, fields) for v in value]
    if isinstance(value, str):
        return _scrub_text(value)
    return value


def _scrub_body(body: bytes | str | None, content_type: str, fields: Iterable[str]) -> Any:
    if body is None:
        return None
    was_bytes = isinstance(body, bytes)
    try:
        text = body.decode("utf-8") if isinstance(body, bytes) else body
    except UnicodeDecodeError:
        return body
    fields = tuple(fields)
    if "json" in content_type or text[:1] in "{[":
        try:
            text = msgspec.json.encode(_scrub_json(msgspec.json.decode(text), fields)).decode()
        except ValueError:
            text = _scrub_text(text)
    elif "x-www-form-urlencoded" in content_type or ("=" in text and " " not in text):
        text = _scrub_query(text, fields)
    elif "text/html" in content_type:
        # the sign-in page repeats state, challenge and client id in hidden fields (and the
        # sandbox's shows its demo passwords); a replay needs only its status
        text = f"{PLACEHOLDERS['html']} ({len(text)} characters)"
    else:
        text = _scrub_text(text)
    return text.encode("utf-8") if was_bytes else text


def _header(headers: Any, name: str) -> str:
    for key, value in dict(headers or {}).items():
        if key.lower() == name:
            return value[0] if isinstance(value, list) else str(value)
    return ""


def scrub_request(request: Any) -> Any:
    """Replace secrets in a vcrpy request with placeholders (before matching and saving).

    ``Authorization`` becomes ``Bearer <ACCESS_TOKEN>``; the :data:`SECRET_PARAMETERS`
    (``client_id``, ``refresh_token``, a sign-in's ``password``, ``code``, ``state`` …) in form
    or JSON bodies and in the query string become ``<CLIENT_ID>`` … (so does the module id in
    a ``module/{moduleId}/`` path, which is the client id); headers that vary by
    machine are dropped and a loopback origin (the sandbox's random port) becomes
    :data:`SANDBOX_ORIGIN`, so recording twice gives the same file.

    Example:
        >>> from vcr.request import Request
        >>> r = Request("POST", "http://x/oauth/token", b"client_id=abc&grant_type=x",
        ...             {"Content-Type": "application/x-www-form-urlencoded"})
        >>> scrub_request(r).body
        b'client_id=%3CCLIENT_ID%3E&grant_type=x'
    """
    for key in list(request.headers):
        if key.lower() not in _KEPT_REQUEST_HEADERS:
            del request.headers[key]
        elif key.lower() == "authorization":
            del request.headers[key]
            request.headers["Authorization"] = "Bearer " + PLACEHOLDERS["access_token"]
    request.uri = _scrub_url(_LOOPBACK.sub(SANDBOX_ORIGIN, request.uri))
    request.uri = _MODULE_IN_PATH.sub(
        lambda m: m.group(1) + quote(PLACEHOLDERS["client_id"]), request.uri, count=1
    )
    fields: tuple[str, ...] = SECRET_PARAMETERS
    if not _SIGN_IN_PATH.search(urlsplit(request.uri).path):
        fields = tuple(f for f in SECRET_PARAMETERS if f not in _API_WORDS)
    request.body = _scrub_body(request.body, _header(request.headers, "content-type"), fields)
    return request


def scrub_response(response: dict[str, Any]) -> dict[str, Any]:
    """Scrub tokens from a vcrpy response dict and drop volatile headers (before saving).

    Tokens in a token answer become placeholders, so do the secret parameters of a redirect's
    ``Location`` (the sign-in's ``code`` and ``state``); an HTML page becomes one placeholder.

    Example:
        >>> r = {"status": {"code": 200}, "headers": {"Date": ["x"]},
        ...      "body": {"string": b'{"access_token": "eyJa.eyJb.c", "expires_in": 300}'}}
        >>> scrub_response(r)["body"]["string"]
        b'{"access_token":"<ACCESS_TOKEN>","expires_in":300}'
    """
    headers = response.get("headers") or {}
    response["headers"] = {
        k: [_scrub_url(x) for x in v] if k.lower() == "location" and isinstance(v, list) else v
        for k, v in headers.items()
        if k.lower() not in _VOLATILE_HEADERS
    }
    body = response.get("body") or {}
    if body.get("string") is not None:
        body["string"] = _scrub_body(
            body["string"], _header(headers, "content-type"), _TOKEN_RESPONSE_FIELDS
        )
    return response


# --- matching ---------------------------------------------------------------------------------


def _body_for_writes(r1: Any, r2: Any) -> None:
    """Compare bodies of POST/PUT/PATCH requests (after scrubbing); ignore them for reads."""
    if r1.method.upper() in {"POST", "PUT", "PATCH"}:
        _body_matcher(r1, r2)


# --- the cassette file format -----------------------------------------------------------------


class _Serializer:
    """vcrpy's YAML format plus a ``bt_explore`` header, with stable key order."""

    def __init__(self, metadata: dict[str, Any] | None = None) -> None:
        self.metadata = metadata or {}

    def deserialize(self, text: str) -> dict[str, Any]:
        return yaml.safe_load(text) or {"interactions": [], "version": 1}

    def serialize(self, data: dict[str, Any]) -> str:
        return yaml.safe_dump(
            {"bt_explore": self.metadata, **data}, sort_keys=True, allow_unicode=True, width=100
        )


def read_metadata(name: str) -> dict[str, Any]:
    """The ``bt_explore`` header of a cassette: ``recorded_at``, ``source``, ``organization_id``.

    Raises :class:`CassetteMissing` (saying how to record it) when the cassette does not exist.

    Example:
        >>> read_metadata("01_first_booking")["source"]   # doctest: +SKIP
        'sandbox'
    """
    path = cassette_path(name)
    if not path.exists():
        raise CassetteMissing(name, path)
    with path.open(encoding="utf-8") as fh:
        data = yaml.safe_load(fh) or {}
    meta = dict(data.get("bt_explore") or {})
    if not meta.get("organization_id"):
        for interaction in data.get("interactions") or []:
            m = re.search(r"/organization/([0-9A-Za-z]{32})/", interaction["request"]["uri"])
            if m:
                meta["organization_id"] = m.group(1)
                break
    return meta


def make_vcr(record_mode: str = "none", *, metadata: dict[str, Any] | None = None) -> vcr.VCR:
    """The project's vcrpy configuration (``record_mode``: ``"none"`` replays, ``"all"`` records).

    Example:
        >>> v = make_vcr("none")
        >>> v.match_on
        ('method', 'path', 'query', 'body_for_writes')
    """
    v = vcr.VCR(
        record_mode=record_mode,
        match_on=("method", "path", "query", "body_for_writes"),
        before_record_request=scrub_request,
        before_record_response=scrub_response,
        decode_compressed_response=True,
        serializer="bt_explore",
        record_on_exception=False,
    )
    v.register_matcher("body_for_writes", _body_for_writes)
    v.register_serializer("bt_explore", _Serializer(metadata))
    return v


@dataclass
class _Recording:
    final: Path
    partial: Path


@contextlib.contextmanager
def use_cassette(
    name: str, mode: str = "replay", *, metadata: dict[str, Any] | None = None
) -> Iterator[Any]:
    """Replay (``mode="replay"``) or record (``mode="record"``) HTTP traffic in a cassette.

    Replay never touches the network: a request that was not recorded raises. Record writes
    the cassette only when the block ends without an exception (atomically, via a temporary
    file), replacing any earlier recording.

    Example:
        >>> with use_cassette("walkthrough", mode="replay") as cassette:   # doctest: +SKIP
        ...     requests.get(...)
    """
    path = cassette_path(name)
    if mode == "replay":
        if not path.exists():
            raise CassetteMissing(name, path)
        with make_vcr("none").use_cassette(str(path)) as cassette:
            yield cassette
        return
    if mode != "record":
        raise ValueError(f"use_cassette: mode must be 'replay' or 'record', got {mode!r}")
    meta = {
        "recorded_at": datetime.now().astimezone().isoformat(timespec="seconds"),
        **(metadata or {}),
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.stem}.", suffix=".partial", dir=path.parent)
    os.close(fd)
    os.unlink(tmp)  # vcrpy must see no existing cassette to record from scratch
    rec = _Recording(final=path, partial=Path(tmp))
    try:
        with make_vcr("all", metadata=meta).use_cassette(str(rec.partial)) as cassette:
            yield cassette
    except BaseException:
        rec.partial.unlink(missing_ok=True)
        log.warning("recording of cassette %s failed; nothing was saved", name)
        raise
    if rec.partial.exists():
        os.replace(rec.partial, rec.final)
        log.info("recorded cassette %s (%d interactions)", path, len(cassette))
    else:
        log.warning("recording of cassette %s made no requests; nothing was saved", name)


# --- the secret scan --------------------------------------------------------------------------


@dataclass(frozen=True)
class SecretFinding:
    """One secret-looking string found in a file."""

    path: Path
    line: int
    kind: str

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: {self.kind}"


def find_secrets(paths: Iterable[Path | str], secrets: Iterable[str] = ()) -> list[SecretFinding]:
    """Scan files (folders recursively) for token-shaped strings and the given secret values.

    Finds JWTs, ``Bearer`` values that are not a placeholder, any of :data:`SECRET_PARAMETERS`
    with a value that is not a placeholder (in a query string, a form or JSON body, or a form's
    hidden field: kind ``"password parameter"``, ``"state parameter"`` …), and any of
    ``secrets`` (e.g. the demo client id). The finding names the file, line and kind, never the
    secret itself.

    Example:
        >>> find_secrets(["cassettes", "notebooks"], secrets=["23demo..."])   # doctest: +SKIP
        []
    """
    needles = [s for s in secrets if s]
    findings: list[SecretFinding] = []
    for f in _files_under(paths):
        try:
            text = f.read_text(encoding="utf-8")
        except (UnicodeDecodeError, OSError):
            continue
        for lineno, line in enumerate(text.splitlines(), 1):
            findings.extend(SecretFinding(f, lineno, kind) for kind in _secret_kinds(line, needles))
    return findings


def _files_under(paths: Iterable[Path | str]) -> list[Path]:
    """The files of ``paths``: a file itself, a folder's files recursively (sorted); paths that
    do not exist are skipped."""
    files: list[Path] = []
    for p in map(Path, paths):
        if p.is_dir():
            files.extend(f for f in sorted(p.rglob("*")) if f.is_file())
        elif p.is_file():
            files.append(p)
    return files


def _secret_kinds(line: str, needles: list[str]) -> list[str]:
    """The kinds of secret ``line`` holds (see :func:`find_secrets`), in the order they are
    reported; ``needles`` are the configured secret values."""
    kinds = []
    if _JWT.search(line):
        kinds.append("JWT")
    if _BEARER.search(line):
        kinds.append("Bearer value")
    named = {m.group("form") or m.group("json") for m in _SECRET_PARAMETER.finditer(line)}
    named.update(m.group("field") for m in _SECRET_FIELD.finditer(line))
    kinds.extend(f"{n} parameter" for n in sorted(named))
    kinds.extend(f"configured secret #{i + 1}" for i, n in enumerate(needles) if n in line)
    return kinds


# --- connect(mode="replay" | "record") ----------------------------------------------------------

#: Where a replayed client "sends" its requests: nothing listens there and vcrpy answers first.
REPLAY_BASE = "http://127.0.0.1:9"


def _sequential_custom_ids(cassette: str) -> Any:
    """Booking customIds that are the same in the recording and its replay."""
    stem = re.sub(r"[^0-9A-Za-z]", "", cassette)[:16] or "cassette"
    counter = iter(range(1, 1_000_000))
    return lambda: f"bt{stem}{next(counter):06d}"


def _attach(client: Client, cassette_cm: Any) -> Client:
    """Enter ``cassette_cm`` now and leave it when the client closes (or the process exits)."""
    import atexit
    import sys

    stack = contextlib.ExitStack()
    client.cassette = stack.enter_context(cassette_cm)

    def finish() -> None:
        atexit.unregister(client.close)  # closed by hand: don't keep the client until exit
        # Client.close() from a `with` block that is failing must not save the recording.
        exc = sys.exc_info()[1]
        if exc is not None and not isinstance(exc, (StopIteration, GeneratorExit)):
            stack.__exit__(type(exc), exc, exc.__traceback__)
        else:
            stack.close()

    client.on_close(finish)
    atexit.register(client.close)  # a notebook kernel never calls close(): save on exit
    return client


def replay_client(*, cassette: str | None = None, **kwargs: Any) -> Client:
    """A client that answers every call from ``cassettes/<cassette>.yaml``, with no network.

    The client's clock is pinned to the recording's time, so tokens are renewed exactly as
    recorded and "today" is the recording's day. A request that was not recorded raises
    ``vcr.errors.CannotOverwriteExistingCassetteException``; a missing cassette raises
    :class:`CassetteMissing`, saying how to record it.

    Example:
        >>> client = replay_client(cassette="01_first_booking")     # doctest: +SKIP
        >>> client.templates()[0]["name"]                           # doctest: +SKIP
        'Test AppointmentTemplate'
    """
    if not cassette:
        raise TypeError("connect(mode='replay') needs cassette='<name>' (a file in cassettes/)")
    meta = read_metadata(cassette)
    recorded_at = times.parse_timestamp(str(meta.get("recorded_at") or RECORD_NOW))
    allowed = {"organization_id", "locale", "timeout", "session", "retry"}
    unknown = set(kwargs) - allowed
    if unknown:
        raise TypeError(
            f"connect(mode='replay') got unexpected argument(s) {', '.join(sorted(unknown))}; "
            f"it takes cassette and {', '.join(sorted(allowed))}"
        )
    settings = Settings(
        client_id="replay",
        client_secret="",
        organization_id=kwargs.pop("organization_id", None) or meta.get("organization_id"),
        auth_url=REPLAY_BASE + TOKEN_PATH,
        api_url=REPLAY_BASE + API_PREFIX,
        locale=kwargs.pop("locale", None),
        timeout=kwargs.pop("timeout", None),
        env_file=None,
    )
    client = Client(settings, clock=lambda: recorded_at, **kwargs)
    client.custom_ids = _sequential_custom_ids(cassette)
    return _attach(client, use_cassette(cassette, "replay"))


def record(client: Client, cassette: str, *, source: str) -> Client:
    """Record ``client``'s traffic into ``cassettes/<cassette>.yaml`` (written, scrubbed of
    secrets, when the client closes); ``source`` (``"sandbox"`` or ``"live"``) goes into the
    cassette's metadata with the client's time and organization.

    ``connect(mode="record", cassette=...)`` does this for a sandbox pinned to
    :data:`RECORD_NOW` (so recording twice gives identical cassettes), or for bookingtime itself
    with ``BT_EXPLORE_RECORD_LIVE=1``.

    Example:
        >>> with bt_explore.connect(mode="record", cassette="walkthrough") as client:  # doctest: +SKIP
        ...     client.templates()
    """
    if source == "live":
        recorded_at = datetime.now().astimezone().isoformat(timespec="seconds")
    else:
        recorded_at = client.now().isoformat()
    meta = {
        "source": source,
        "recorded_at": recorded_at,
        "organization_id": client.organization_id,
    }
    client.custom_ids = _sequential_custom_ids(cassette)
    return _attach(client, use_cassette(cassette, "record", metadata=meta))
