"""Every error bt_explore raises, rooted at :class:`BookingtimeError`.

::

    BookingtimeError
    ├── ConfigurationError        settings missing or invalid (nothing was sent)
    ├── TransportError            timeout, refused or dropped connection (no answer)
    ├── BookingOutcomeUnknown     a booking's answer was lost and could not be verified
    ├── SignInError               a person's sign-in did not complete (no token was requested)
    └── ApiError                  the API answered with a non-2xx status or an unusable body
        ├── ValidationError       400: which fields are wrong (also raised before sending)
        │   └── SlotUnavailable   400 on bookingSlotId: the slot is no longer free
        ├── AuthenticationError   401, or the token endpoint refused the credentials
        ├── PermissionDenied      403: the client may not access this organization
        ├── NotFound              404: unknown entity or route
        ├── RateLimited           429: too many requests (``retry_after`` seconds)
        ├── ServerError           5xx: trouble on the server
        └── UnexpectedResponse    a body that is not JSON or not an envelope

An :class:`ApiError` carries the exchange — ``status_code``, ``method``, ``url`` and the
envelope's ``messages`` (:class:`Message` ``type``, ``parameter``, ``text``) — and never a token,
a secret or an ``Authorization`` value. :func:`raise_for_answer` is the one place that turns a
non-2xx answer into one of these.

Example:
    >>> err = ValidationError(400, "POST",
    ...     "https://api.bookingtime.com/module/v3/en/organization/f6x/appointment/add",
    ...     [Message("failure", "customer.email", "This parameter is invalid.")])
    >>> str(err)
    '400 Bad Request for POST …/organization/f6x/appointment/add: customer.email: This parameter is invalid.'
    >>> err.fields
    ('customer.email',)
"""

from __future__ import annotations

import http
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import msgspec
import requests
from urllib3.exceptions import (
    ConnectTimeoutError,
    NameResolutionError,
    NewConnectionError,
    ReadTimeoutError,
)

from bt_explore.models import AppointmentAdd, Envelope, wire_names
from bt_explore.pacing import retry_after

__all__ = [
    "BookingtimeError",
    "ConfigurationError",
    "TransportError",
    "BookingOutcomeUnknown",
    "SignInError",
    "ApiError",
    "ValidationError",
    "SlotUnavailable",
    "AuthenticationError",
    "PermissionDenied",
    "NotFound",
    "RateLimited",
    "ServerError",
    "UnexpectedResponse",
    "Message",
    "raise_for_answer",
    "decode_envelope",
    "short_url",
    "redact",
]

#: The envelope's keys (``messageList``, ``content``).
_ENVELOPE = wire_names(Envelope)
#: The body field (and the failure's parameter) naming the slot a booking asked for.
_SLOT_ID = wire_names(AppointmentAdd).booking_slot_id

#: How much of an unusable body an :class:`UnexpectedResponse` quotes.
EXCERPT_CHARS = 200

# Anything that looks like a bearer token, a JWT or a credential field (as JSON or as a form) is
# cut out of text quoted from a server, so that an echo of a request (say, a token endpoint's
# error repeating the form it got) can never carry a credential into an exception.
_SECRET_SHAPES = re.compile(
    r"(Bearer\s+)\S+|eyJ[0-9A-Za-z_-]+\.[0-9A-Za-z_-]+\.[0-9A-Za-z_-]*"
    r"|((?:access_token|refresh_token|client_secret|code_verifier|password)"
    r'["\']?\s*[:=]\s*["\']?)[^"\'&\s,;}]*'
)


def redact(text: str, secrets: Iterable[str | None] = ()) -> str:
    """``text`` with credentials replaced by ``[redacted]``: the given ``secrets`` wherever they
    occur, and anything shaped like a bearer token, a JWT or a credential field.

    Example:
        >>> redact("bad form: grant_type=x&client_secret=s3cr3t&client_id=23a")
        'bad form: grant_type=x&client_secret=[redacted]&client_id=23a'
        >>> redact("secret 'hunter22' rejected", secrets=["hunter22"])
        "secret '[redacted]' rejected"
    """
    for secret in secrets:
        if secret and len(secret) >= 4:  # shorter values would blank out ordinary words
            text = text.replace(secret, "[redacted]")
    return _SECRET_SHAPES.sub(lambda m: (m.group(1) or m.group(2) or "") + "[redacted]", text)


@dataclass(frozen=True)
class Message:
    """One entry of an envelope's ``messageList``: ``type``, ``parameter`` and ``text``.

    Example:
        >>> Message.from_json({"type": "failure", "parameter": "customer.email", "text": "Bad."})
        Message(type='failure', parameter='customer.email', text='Bad.')
        >>> str(Message("failure", "customer.email", "Bad."))
        'customer.email: Bad.'
    """

    type: str
    parameter: str | None
    text: str

    @classmethod
    def from_json(cls, data: Any) -> Message:
        """A message from its JSON form; tolerates missing keys and plain strings."""
        # a server's text may quote the request it got: never let it carry a credential
        if isinstance(data, dict):
            parameter = data.get("parameter")
            return cls(
                type=str(data.get("type") or ""),
                parameter=redact(str(parameter)) if parameter not in (None, "") else None,
                text=redact(str(data.get("text") or "")),
            )
        return cls(type="", parameter=None, text=redact(str(data)))

    def __str__(self) -> str:
        return f"{self.parameter}: {self.text}" if self.parameter else self.text


class BookingtimeError(Exception):
    """Root of every error bt_explore raises.

    Example:
        >>> issubclass(NotFound, BookingtimeError)
        True
    """


class ConfigurationError(BookingtimeError, ValueError):
    """Settings are missing or invalid; raised before anything is sent.

    Example:
        >>> raise ConfigurationError("client_id is missing")
        Traceback (most recent call last):
        bt_explore.errors.ConfigurationError: client_id is missing
    """


class TransportError(BookingtimeError):
    """No usable answer: a timeout, a refused or a dropped connection.

    ``method`` and ``url`` name the request (the URL without host details beyond the path).

    Example:
        >>> str(TransportError("connection dropped", method="GET", url="http://h/module/v3/en/x"))
        'GET …/x: connection dropped'
    """

    def __init__(
        self,
        message: str,
        *,
        method: str | None = None,
        url: str | None = None,
        sent: bool | None = None,
    ):
        self.method = method
        self.url = url
        self.detail = message
        #: ``False`` when the request certainly never reached the server (connect failure);
        #: ``None`` when it may have been processed (read timeout, dropped answer).
        self.sent = sent
        prefix = f"{method} {short_url(url)}: " if method and url else ""
        super().__init__(prefix + message)


def _cause(exc: requests.RequestException) -> Any:
    """The urllib3 error beneath a requests error (inside ``MaxRetryError`` after retries)."""
    cause: Any = exc.args[0] if exc.args else None
    return getattr(cause, "reason", cause)


def maybe_sent(exc: requests.RequestException) -> bool:
    """Whether a failed request may have reached the server (False only when it surely did not).

    Example:
        >>> maybe_sent(requests.ConnectTimeout())
        False
    """
    if isinstance(exc, requests.ConnectTimeout):
        return False
    return not isinstance(_cause(exc), (NewConnectionError, ConnectTimeoutError))


def timed_out(exc: requests.RequestException) -> bool:
    """Whether the server took longer than the read timeout (it may still be working).

    Example:
        >>> timed_out(requests.ReadTimeout())
        True
    """
    return isinstance(exc, requests.ReadTimeout) or isinstance(_cause(exc), ReadTimeoutError)


def transport_failure(
    exc: requests.RequestException, *, method: str, url: str, what: str = ""
) -> TransportError:
    """The :class:`TransportError` for a request that got no usable answer: what happened,
    naming the host when it could not be reached, and whether the request surely was not sent.

    ``what`` names the request for the reader (``"token request"``). The host is named, never
    a token or a query.

    Example:
        >>> err = transport_failure(requests.ConnectTimeout(), method="GET", url="http://h:81/x")
        >>> str(err), err.sent
        ('GET …/x: timed out connecting to h:81', False)
    """
    parts = urlsplit(url)
    where = parts.hostname or "the server"
    if parts.port:
        where = f"{where}:{parts.port}"
    cause = _cause(exc)
    if isinstance(cause, NameResolutionError):
        detail = f"cannot resolve the host {parts.hostname} (no network, or a wrong URL?)"
    elif not maybe_sent(exc):
        # urllib3's NewConnectionError (refused, unreachable) is a kind of ConnectTimeoutError
        refused = isinstance(cause, NewConnectionError)
        detail = f"connection refused by {where}" if refused else f"timed out connecting to {where}"
    elif timed_out(exc):
        detail = "timed out waiting for the answer"
    elif isinstance(exc, requests.ConnectionError):
        detail = "connection dropped without an answer"
    else:
        detail = f"request failed ({type(exc).__name__})"
    sent = None if maybe_sent(exc) else False
    return TransportError(
        f"{what}: {detail}" if what else detail, method=method, url=url, sent=sent
    )


class BookingOutcomeUnknown(BookingtimeError):
    """A booking's answer was lost and looking it up by ``custom_id`` failed too.

    The appointment may or may not exist: look it up later with
    ``client.appointment_by_custom_id(err.custom_id)`` before booking again.

    Example:
        >>> err = BookingOutcomeUnknown("bt1234", "connection dropped")
        >>> err.custom_id
        'bt1234'
    """

    def __init__(self, custom_id: str, reason: str = ""):
        self.custom_id = custom_id
        self.reason = reason
        text = (
            f"the booking with customId {custom_id!r} may or may not have been made"
            + (f" ({reason})" if reason else "")
            + f"; check with appointment_by_custom_id({custom_id!r}) before booking again"
        )
        super().__init__(text)


class SignInError(BookingtimeError):
    """A person's sign-in in the browser did not complete: declined, timed out, a wrong or
    missing ``state``, an error sent back by the authorization server. ``reason`` is the
    OAuth error code (``access_denied``, ``timeout``, ``state_mismatch``…). No token was
    requested.

    Example:
        >>> str(SignInError("access_denied", "the person declined"))
        'sign-in failed (access_denied): the person declined'
    """

    def __init__(self, reason: str, detail: str = ""):
        self.reason = reason
        self.detail = detail
        super().__init__(f"sign-in failed ({reason})" + (f": {detail}" if detail else ""))


class ApiError(BookingtimeError):
    """The API answered with a non-2xx status (or a body that cannot be used).

    Attributes: ``status_code`` (``None`` when the request was refused before sending),
    ``method``, ``url``, ``messages`` (a tuple of :class:`Message`) and ``sent``: ``False``
    when the API call this error stopped was certainly never sent (refused before sending, or
    the token endpoint failed while fetching the token the call needed).

    Example:
        >>> err = NotFound(404, "GET", "http://h/module/v3/en/organization/f6x/show",
        ...                [Message("failure", None, "Not found.")])
        >>> str(err)
        '404 Not Found for GET …/organization/f6x/show: Not found.'
    """

    def __init__(
        self,
        status_code: int | None,
        method: str,
        url: str,
        messages: Iterable[Message] = (),
        *,
        note: str = "",
        sent: bool | None = None,
    ):
        self.status_code = status_code
        self.method = method
        self.url = url
        self.messages: tuple[Message, ...] = tuple(messages)
        self.note = note
        self.sent: bool = (status_code is not None) if sent is None else sent
        super().__init__(self._text())

    @property
    def failures(self) -> tuple[Message, ...]:
        """The messages of type ``failure`` (all messages when none is typed)."""
        typed = tuple(m for m in self.messages if m.type == "failure")
        return typed or tuple(m for m in self.messages if m.type != "success")

    def _head(self) -> str:
        if self.status_code is None:
            return f"not sent: {self.method} {short_url(self.url)}"
        try:
            phrase = http.HTTPStatus(self.status_code).phrase
        except ValueError:
            phrase = "Error"
        return f"{self.status_code} {phrase} for {self.method} {short_url(self.url)}"

    def _detail(self) -> str:
        return "; ".join(str(m) for m in self.failures if str(m))

    def _text(self) -> str:
        detail = self._detail()
        text = self._head() + (f": {detail}" if detail else "")
        return text + (f" ({self.note})" if self.note else "")

    def __str__(self) -> str:
        return self._text()

    def __reduce__(self):  # keeps keyword-only fields when pickled (multiprocessing, joblib)
        return (_rebuild, (type(self), self.__dict__.copy()))


def _rebuild(cls: type[ApiError], state: dict[str, Any]) -> ApiError:
    err = Exception.__new__(cls)
    err.__dict__.update(state)
    Exception.__init__(err, err._text())
    return err


class ValidationError(ApiError):
    """400: the request is invalid; ``fields`` names the parameters at fault.

    Also raised by ``Client.book()`` before sending (``status_code`` is ``None`` then).

    Example:
        >>> err = ValidationError(None, "POST", "http://h/module/v3/en/appointment/add",
        ...                       [Message("failure", "customer.lastName", "Required.")])
        >>> str(err)
        'not sent: POST …/appointment/add: customer.lastName: Required.'
    """

    @property
    def fields(self) -> tuple[str, ...]:
        """The parameters the failure messages name, in order, without duplicates."""
        return tuple(dict.fromkeys(m.parameter for m in self.failures if m.parameter))


class SlotUnavailable(ValidationError):
    """400 naming ``bookingSlotId``: the slot is no longer free (or never was).

    Example:
        >>> err = SlotUnavailable(400, "POST", "http://h/module/v3/en/appointment/add",
        ...                       [Message("failure", "bookingSlotId", "No longer available.")])
        >>> err.fields
        ('bookingSlotId',)
    """


class AuthenticationError(ApiError):
    """401, or the token endpoint refused the client id, secret or refresh token.

    Example:
        >>> str(AuthenticationError(401, "POST", "http://h/oauth/token",
        ...                         [Message("failure", "invalid_client", "Unknown client.")]))
        '401 Unauthorized for POST …/oauth/token: invalid_client: Unknown client.'
    """


class PermissionDenied(ApiError):
    """403: the credentials may not access this organization."""


class NotFound(ApiError):
    """404: unknown entity (id or customId) or route."""


class RateLimited(ApiError):
    """429: too many requests; ``retry_after`` is the server's wait in seconds (or ``None``).

    Example:
        >>> RateLimited(429, "GET", "http://h/x", retry_after=2.0).retry_after
        2.0
    """

    def __init__(self, *args: Any, retry_after: float | None = None, **kwargs: Any):
        self.retry_after = retry_after
        super().__init__(*args, **kwargs)

    def _text(self) -> str:
        text = super()._text()
        return text + (f" (retry after {self.retry_after:g} s)" if self.retry_after else "")


class ServerError(ApiError):
    """5xx: the server failed; the request may or may not have been processed."""


class UnexpectedResponse(ApiError):
    """An answer whose body is not JSON or not an envelope; ``excerpt`` quotes its start.

    Example:
        >>> err = UnexpectedResponse(502, "GET", "http://h/module/v3/en/x",
        ...                          excerpt="<html>Bad gateway</html>")
        >>> str(err)
        "502 Bad Gateway for GET …/x: unexpected body: '<html>Bad gateway</html>'"
    """

    def __init__(self, *args: Any, excerpt: str = "", **kwargs: Any):
        self.excerpt = excerpt
        super().__init__(*args, **kwargs)

    def _detail(self) -> str:
        detail = super()._detail()
        body = f"unexpected body: {self.excerpt!r}" if self.excerpt else "unexpected empty body"
        return f"{detail}; {body}" if detail else body


_BY_STATUS: dict[int, type[ApiError]] = {
    400: ValidationError,
    401: AuthenticationError,
    403: PermissionDenied,
    404: NotFound,
    429: RateLimited,
}


def short_url(url: str | None) -> str:
    """The part of a URL worth showing: the path below ``/module/v3/{locale}/``, no query.

    Example:
        >>> short_url("https://api.bookingtime.com/module/v3/en/organization/f6x/show?a=1")
        '…/organization/f6x/show'
        >>> short_url("https://auth.bookingtime.com/oauth/token")
        '…/oauth/token'
    """
    if not url:
        return ""
    path = urlsplit(url).path
    match = re.search(r"/module/v\d+/[A-Za-z_]+/(.*)$", path)
    return "…/" + (match.group(1) if match else path.lstrip("/"))


def _excerpt(response: requests.Response) -> str:
    try:
        text = response.text
    except Exception:  # undecodable bytes: quote them as latin-1 rather than fail again
        text = response.content.decode("latin-1", errors="replace")
    text = redact(" ".join(text.split()))
    return text[:EXCERPT_CHARS] + ("…" if len(text) > EXCERPT_CHARS else "")


def decode_envelope(response: requests.Response) -> tuple[Any, tuple[Message, ...]]:
    """The ``(content, messages)`` of an answer's envelope, whatever its status.

    A JSON object with neither ``content`` nor ``messageList`` is taken as bare content (some
    of bookingtime's examples omit the envelope). Anything else raises
    :class:`UnexpectedResponse` with the status and a short excerpt — never a bare
    ``JSONDecodeError``.

    Example:
        >>> r = requests.Response(); r.status_code = 200; r.url = "http://h/x"
        >>> r._content = b'{"messageList": [], "content": {"id": "f6x"}}'
        >>> decode_envelope(r)
        ({'id': 'f6x'}, ())
    """
    method = response.request.method if response.request is not None else "GET"
    try:
        data = _loads(response.content) if response.content else None
    except ValueError:
        data = None
        malformed = True
    else:
        malformed = not isinstance(data, dict)
    if malformed or not isinstance(data, dict):
        raise UnexpectedResponse(
            response.status_code, method or "GET", response.url, excerpt=_excerpt(response)
        )
    if _ENVELOPE.content not in data and _ENVELOPE.message_list not in data:
        return data, ()
    raw_messages = data.get(_ENVELOPE.message_list) or []
    if not isinstance(raw_messages, list):
        raise UnexpectedResponse(
            response.status_code, method or "GET", response.url, excerpt=_excerpt(response)
        )
    return data.get(_ENVELOPE.content), tuple(Message.from_json(m) for m in raw_messages)


def error_for(
    status_code: int,
    method: str,
    url: str,
    messages: Sequence[Message],
    *,
    retry_after: float | None = None,
    slot_sent: bool = True,
) -> ApiError:
    """The typed :class:`ApiError` for a non-2xx status and its messages.

    A 400 naming ``bookingSlotId`` is :class:`SlotUnavailable` when a slot id was sent
    (``slot_sent``): the API refused that slot. Without one it is a plain validation error.

    Example:
        >>> type(error_for(400, "POST", "http://h/x", [Message("failure", "bookingSlotId", "Gone")]))
        <class 'bt_explore.errors.SlotUnavailable'>
        >>> type(error_for(503, "GET", "http://h/x", []))
        <class 'bt_explore.errors.ServerError'>
    """
    if status_code == 429:
        return RateLimited(status_code, method, url, messages, retry_after=retry_after)
    cls = _BY_STATUS.get(status_code)
    if cls is None:
        cls = ServerError if status_code >= 500 else ApiError
    if (
        cls is ValidationError
        and slot_sent
        and any(m.parameter == _SLOT_ID for m in messages if m.type in ("failure", ""))
    ):
        cls = SlotUnavailable
    return cls(status_code, method, url, messages)


def raise_for_answer(response: requests.Response) -> None:
    """Raise the typed error for a non-2xx answer; return quietly for any 2xx.

    Example:
        >>> r = requests.Response(); r.status_code = 404; r.url = "http://h/module/v3/en/x"
        >>> r._content = b'{"messageList": [{"type": "failure", "text": "Not found."}], "content": null}'
        >>> raise_for_answer(r)
        Traceback (most recent call last):
        bt_explore.errors.NotFound: 404 Not Found for GET …/x: Not found.
    """
    if 200 <= response.status_code < 300:
        return
    method = (response.request.method if response.request is not None else None) or "GET"
    _, messages = decode_envelope(response)
    raise error_for(
        response.status_code,
        method,
        response.url,
        messages,
        retry_after=retry_after(response.headers),
        slot_sent=_sent_slot_id(response.request),
    )


def _loads(body: bytes | str) -> Any:
    """Parse a JSON body (msgspec: fast on large slot lists, exact for integers of any size);
    ``ValueError`` for a body that is not JSON."""
    return msgspec.json.decode(body)


def _sent_slot_id(request: requests.PreparedRequest | None) -> bool:
    """Whether the request's JSON body named a slot (``bookingSlotId``: a non-empty string)."""
    body = getattr(request, "body", None)
    if not body:
        return False
    try:
        data = _loads(body)
    except (ValueError, TypeError):
        return False
    slot = data.get(_SLOT_ID) if isinstance(data, dict) else None
    return isinstance(slot, str) and bool(slot.strip())
