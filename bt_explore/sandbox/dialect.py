"""Answer dialects: the sandbox's clean JSON, or the shapes bookingtime's PHP backend sends.

bookingtime's service is written in PHP, and its PHP SDK's mock data (the only canned answers
bookingtime publishes besides the walkthrough) show what PHP's ``json_encode`` makes of the
service's arrays: counts as numeric strings (``"recordTotal": "1"`` in every LIST), an empty
object as ``[]`` (``customer``, ``address``, ``additionalData``, the ``…I18nList`` fields: PHP
has one array type, and an empty one is encoded as a list), a ``success`` message on reads, and
``\\/``-escaped slashes (and ``\\u00fc`` for non-ASCII, ``json_encode``'s default).

The ``php`` dialect is a transform of the encoded clean answer, applied to every Module API
answer (``/module/v3/…``, JSON only) by :class:`DialectMiddleware`; the token endpoint, the
sign-in page and file downloads are left alone. Code that reads the sandbox in both dialects
reads the service's shapes too.

Example:
    >>> php_body(b'{"messageList":[],"content":{"class":"LIST","recordTotal":1,"recordList":[]}}', 200)
    b'{"messageList":[{"class":"MESSAGE","type":"success","parameter":null,"text":""}],"content":{"class":"LIST","recordTotal":"1","recordList":[]}}'
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from typing import Any

import msgspec

from bt_explore.models import Appointment, Envelope, List, Message, wire_names

__all__ = ["DEFAULT_DIALECT", "DIALECTS", "DialectMiddleware", "check_dialect", "php_body"]

#: The dialects the sandbox answers in.
DIALECTS: tuple[str, ...] = ("clean", "php")
#: The sandbox's default: the shapes of bookingtime's walkthrough (see docs/sandbox.md); the
#: test suite's ``--sandbox-dialect php`` changes it for a whole run.
DEFAULT_DIALECT = "clean"

_APPOINTMENT, _ENVELOPE, _LIST = wire_names(Appointment), wire_names(Envelope), wire_names(List)
#: The fields PHP sends as ``[]`` when they hold nothing (``null`` in the clean dialect).
_EMPTY_AS_LIST = (_APPOINTMENT.customer, _APPOINTMENT.additional_data)
#: The success message the SDK's mock data carry on reads.
_SUCCESS = msgspec.to_builtins(Message(type="success"))


def check_dialect(dialect: str) -> str:
    """``dialect`` if the sandbox knows it; a ``ValueError`` naming the choices otherwise.

    Example:
        >>> check_dialect("php")
        'php'
        >>> check_dialect("perl")
        Traceback (most recent call last):
        ...
        ValueError: dialect: 'perl' is not one of clean, php
    """
    if dialect not in DIALECTS:
        raise ValueError(f"dialect: {dialect!r} is not one of {', '.join(DIALECTS)}")
    return dialect


def _php_value(value: Any, key: str = "") -> Any:
    if isinstance(value, dict):
        if not value:
            return []
        out = {k: _php_value(v, k) for k, v in value.items()}
        total, config = _LIST.record_total, List.__struct_config__
        if out.get(config.tag_field) == config.tag and isinstance(out.get(total), int):
            out[total] = str(out[total])
        return out
    if isinstance(value, list):
        return [_php_value(v) for v in value]
    if value is None and key in _EMPTY_AS_LIST:
        return []
    if value == "" and key.endswith("I18nList"):
        return []
    return value


def php_body(body: bytes, status: int) -> bytes:
    """A clean Module API answer re-encoded as bookingtime's PHP backend would send it.

    Example:
        >>> php_body(b'{"messageList":[],"content":{"customer":{},"nameI18nList":"","url":"a/b"}}', 200)
        b'{"messageList":[{"class":"MESSAGE","type":"success","parameter":null,"text":""}],"content":{"customer":[],"nameI18nList":[],"url":"a\\\\/b"}}'
    """
    try:
        value = json.loads(body)
    except ValueError:
        return body
    if isinstance(value, dict):
        if 200 <= status < 300 and value.get(_ENVELOPE.message_list) == []:
            value[_ENVELOPE.message_list] = [dict(_SUCCESS)]
        value = {k: _php_value(v, k) for k, v in value.items()}
    text = json.dumps(value, ensure_ascii=True, separators=(",", ":"), allow_nan=False)
    # "/" occurs only inside JSON strings, where PHP escapes it
    return text.replace("/", "\\/").encode("ascii")


class DialectMiddleware:
    """WSGI middleware that answers every JSON answer below ``prefix`` in the PHP dialect.

    Example:
        >>> def app(environ, start_response):
        ...     start_response("200 OK", [("Content-Type", "application/json")])
        ...     return [b'{"messageList":[],"content":{"a":"x/y"}}']
        >>> out = DialectMiddleware(app, "/module/v3/")(
        ...     {"PATH_INFO": "/module/v3/en/x"}, lambda status, headers, exc=None: None)
        >>> b"".join(out)
        b'{"messageList":[{"class":"MESSAGE","type":"success","parameter":null,"text":""}],"content":{"a":"x\\\\/y"}}'
    """

    def __init__(self, app: Callable[..., Iterable[bytes]], prefix: str) -> None:
        self.app = app
        self.prefix = prefix

    def __call__(self, environ: dict, start_response: Callable) -> Iterable[bytes]:
        if not environ.get("PATH_INFO", "").startswith(self.prefix):
            return self.app(environ, start_response)
        seen: dict[str, Any] = {}

        def capture(status: str, headers: list, exc_info: Any = None) -> Callable:
            seen.update(status=status, headers=headers, exc_info=exc_info)
            return lambda _data: None

        result = self.app(environ, capture)
        try:
            body = b"".join(result)
        finally:
            if hasattr(result, "close"):
                result.close()
        headers = seen["headers"]
        kind = next((v for k, v in headers if k.lower() == "content-type"), "")
        if kind.split(";")[0].strip() == "application/json":
            body = php_body(body, int(seen["status"].split(" ", 1)[0]))
            headers = [(k, v) for k, v in headers if k.lower() != "content-length"]
            headers.append(("Content-Length", str(len(body))))
        start_response(seen["status"], headers, seen["exc_info"])
        return [body]
