"""The client's one request path: session, adapters, token auth, URLs, typed errors.

:class:`Transport` is the base of :class:`bt_explore.Client`: it builds an endpoint's URL from
:data:`bt_explore.endpoints.ENDPOINTS`, sends it with the token of its organization, turns
non-2xx answers into typed errors and keeps what the answers taught it (templates, slot ids,
time zones).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any, TypeVar
from urllib.parse import quote, urlsplit

import requests
from urllib3.util.retry import Retry

from bt_explore.auth import Clock, TokenAuth, now_seconds
from bt_explore.client.memory import SLOT_MEMORY, SlotMemory
from bt_explore.endpoints import ENDPOINTS
from bt_explore.errors import (
    Message,
    UnexpectedResponse,
    decode_envelope,
    raise_for_answer,
    short_url,
    timed_out,
    transport_failure,
)
from bt_explore.models import List, RangeList, RawBytes, wire_names
from bt_explore.pacing import PacedAdapter, RateController
from bt_explore.retry import default_retry, for_token_requests
from bt_explore.settings import Settings
from bt_explore.version import __version__

__all__ = ["ApiResult", "Transport", "segment", "summary", "timed_out"]

log = logging.getLogger(__name__)

# the wire names the client reads of the containers it answers with, from their models
_LIST = wire_names(List)
_RANGE = wire_names(RangeList)
_TAG = str(List.__struct_config__.tag_field)  # "class", as every container names its kind

_T = TypeVar("_T", bound="Transport")


@dataclass(frozen=True)
class ApiResult:
    """One answer of the Module API: its ``content`` and ``messages``, and the exchange.

    Example:
        >>> r = ApiResult({"class": "LIST", "recordList": [{"id": "fc1"}]}, (), 200, "GET", "u")
        >>> r.records
        [{'id': 'fc1'}]
    """

    content: Any
    messages: tuple[Message, ...]
    status_code: int
    method: str
    url: str

    @property
    def records(self) -> list[dict[str, Any]]:
        """The ``recordList`` of a LIST content (a list content as is; ``[]`` for none)."""
        return records_of(self.content)

    def __repr__(self) -> str:
        return (
            f"ApiResult(status_code={self.status_code}, method={self.method!r}, "
            f"url={short_url(self.url)!r}, messages={list(self.messages)!r}, "
            f"content={summary(self.content)})"
        )


def summary(content: Any) -> str:
    if isinstance(content, dict):
        cls = content.get(_TAG, "dict")
        for key in (_LIST.record_list, _RANGE.list):
            if key in content:
                return f"<{cls} of {len(content.get(key) or [])}>"
        return f"<{cls} {content.get('id', '')}>".replace(" >", ">")
    if isinstance(content, list):
        return f"<list of {len(content)}>"
    if isinstance(content, bytes):
        return f"<{len(content)} bytes>"
    return repr(content)


def records_of(content: Any) -> list[dict[str, Any]]:
    if content is None:
        return []
    if isinstance(content, list):
        return content
    if isinstance(content, dict):
        records = content.get(_LIST.record_list)
        if isinstance(records, list):
            return records
    raise TypeError(f"expected a LIST content, got {summary(content)}")


class Transport:
    """The session, auth and request path of a :class:`bt_explore.Client`."""

    def __init__(
        self,
        settings: Settings | None = None,
        *,
        session: requests.Session | None = None,
        clock: Clock | None = None,
        retry: Retry | None = None,
        pace: RateController | None = None,
    ) -> None:
        if settings is not None and not isinstance(settings, Settings):
            raise TypeError(
                f"settings must be a bt_explore.Settings, got {type(settings).__name__}"
                + (": use Client(Settings(client_id=...))" if isinstance(settings, str) else "")
            )
        if session is not None and not isinstance(session, requests.Session):
            raise TypeError(f"session must be a requests.Session, got {type(session).__name__}")
        if clock is not None and not callable(clock):
            raise TypeError(
                "clock must be a callable returning epoch seconds or an aware datetime "
                f"(e.g. time.time), got {type(clock).__name__}"
            )
        self.settings = (settings if settings is not None else Settings()).require()
        self.session = session if session is not None else requests.Session()
        self._owns_session = session is None
        retry = retry or default_retry()
        #: this client's pace, shared by all its threads and organizations (bt_explore.pacing)
        self.pace = pace if pace is not None else RateController()
        adapter = PacedAdapter(self.pace, pool_connections=4, pool_maxsize=32, max_retries=retry)
        for url in (self.settings.api_url, self.settings.auth_url):
            parts = urlsplit(url)
            self.session.mount(f"{parts.scheme}://{parts.netloc}/", adapter)
        # token requests create nothing: retried like GETs (the longest mounted prefix wins)
        self.session.mount(
            self.settings.auth_url,
            PacedAdapter(self.pace, max_retries=for_token_requests(retry), api=False),
        )
        #: what "now" is for this client: epoch seconds or an aware datetime (default
        #: :func:`time.time`); tokens expire, and "today" begins, by it
        self.clock: Clock = clock if clock is not None else time.time
        self.auth = TokenAuth(self.settings, session=self.session, clock=self.clock)
        self._headers = {
            "Accept": "application/json",
            "User-Agent": f"bt_explore/{__version__} {requests.utils.default_user_agent()}",
        }
        self._lock = threading.Lock()
        self._templates: dict[str, dict[str, Any]] = {}
        self._slot_templates = SlotMemory(SLOT_MEMORY)
        self._time_zones: dict[str, str] = {}
        self._closers: list[Callable[[], object]] = []
        self._closed = False
        #: the vcrpy cassette this client records to or replays from (``connect(mode=
        #: "record" | "replay")``), else ``None``; vcrpy is not thread-safe, so
        #: :func:`bt_explore.scan_slots` then scans on one thread
        self.cassette: Any = None

    def __repr__(self) -> str:
        return (
            f"Client(api_url={self.settings.api_url!r}, locale={self.settings.locale!r}, "
            f"organization_id={self.settings.organization_id!r})"
        )

    def now(self) -> datetime:
        """This client's :attr:`clock` as an aware UTC datetime.

        Example:
            >>> from bt_explore import Client, Settings
            >>> c = Client(Settings(client_id="23demo", env_file=None), clock=lambda: 0)
            >>> c.now().isoformat()
            '1970-01-01T00:00:00+00:00'
        """
        return datetime.fromtimestamp(now_seconds(self.clock), timezone.utc)

    @property
    def organization_id(self) -> str | None:
        """The default organization (from the settings)."""
        return self.settings.organization_id

    # -- life cycle -------------------------------------------------------------------------

    def close(self) -> None:
        """Close the connections and run the :meth:`on_close` callbacks (idempotent).

        Example:
            >>> from bt_explore import Client, Settings
            >>> client = Client(Settings(client_id="23demo", env_file=None)); client.close()
        """
        if self._closed:
            return
        self._closed = True
        try:
            if self._owns_session:
                self.session.close()
        finally:
            for callback in reversed(self._closers):
                callback()

    def on_close(self, callback: Callable[[], object]) -> None:
        """Call ``callback`` when this client closes (last registered, first called).

        Example:
            >>> from bt_explore import Client, Settings
            >>> client = Client(Settings(client_id="23demo", env_file=None))
            >>> client.on_close(lambda: print("bye")); client.close()
            bye
        """
        self._closers.append(callback)

    def __enter__(self: _T) -> _T:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    # -- the one request path -------------------------------------------------------------

    def url(self, endpoint_name: str, *, organization_id: str | None = None, **path: Any) -> str:
        """The full URL of an endpoint (``organization_id`` fills ``{org}``).

        Example:
            >>> from bt_explore import Client, Settings
            >>> c = Client(Settings(client_id="23demo", organization_id="f6demo", env_file=None))
            >>> c.url("template_show", template_id="fc1")
            'https://api.bookingtime.com/module/v3/en/organization/f6demo/bookingTemplate/fc1/show'
        """
        try:
            endpoint = ENDPOINTS[endpoint_name]
        except KeyError:
            raise ValueError(
                f"unknown endpoint {endpoint_name!r}; known: {', '.join(ENDPOINTS)}"
            ) from None
        values = {k: segment(k, v) for k, v in path.items()}
        if endpoint.organization_scoped:
            org = self.settings.require_organization(organization_id)
            values["org"] = segment("organization_id", org)
        missing = [f for f in endpoint.fields if f not in values]
        if missing:
            raise TypeError(f"{endpoint_name} needs {', '.join(missing)}=...")
        extra = set(values) - set(endpoint.fields)
        if extra:
            raise TypeError(f"{endpoint_name} takes no {', '.join(sorted(extra))}")
        return f"{self.settings.api_url}{self.settings.locale}/{endpoint.format(**values)}"

    def call(
        self,
        endpoint_name: str,
        *,
        json: Any = None,
        organization_id: str | None = None,
        params: dict[str, str] | None = None,
        **path: Any,
    ) -> ApiResult:
        """Call an endpoint of :data:`bt_explore.endpoints.ENDPOINTS` by name.

        ``params`` are the query parameters the endpoint's row names (``query``).

        Returns the :class:`ApiResult` (content, messages, status, method, URL) of any 2xx
        answer; raises the typed :class:`~bt_explore.ApiError` for the others and
        :class:`~bt_explore.TransportError` when no answer came.

        Example:
            >>> result = client.call("template_list")                    # doctest: +SKIP
            >>> result.status_code, len(result.records), result.messages  # doctest: +SKIP
            (200, 5, ())
        """
        url = self.url(endpoint_name, organization_id=organization_id, **path)
        endpoint = ENDPOINTS[endpoint_name]
        unknown = sorted(set(params or ()) - set(endpoint.query))
        if unknown:
            raise TypeError(f"{endpoint_name} reads no query parameter {', '.join(unknown)}")
        org = self._organization_of(endpoint_name, organization_id)
        response = self._send(endpoint.method, url, org, json=json, params=params)
        raise_for_answer(response)
        if endpoint.response is RawBytes:  # a download: the bytes are the content, no envelope
            return ApiResult(response.content, (), response.status_code, endpoint.method, url)
        content, messages = decode_envelope(response)
        return ApiResult(content, messages, response.status_code, endpoint.method, url)

    def _organization_of(self, endpoint_name: str, organization_id: str | None) -> str | None:
        """The organization a call of ``endpoint_name`` addresses (``None``: none, static)."""
        if not ENDPOINTS[endpoint_name].organization_scoped:
            return None
        return self.settings.require_organization(organization_id)

    def _send(
        self,
        method: str,
        url: str,
        organization_id: str | None,
        *,
        json: Any = None,
        params: dict[str, str] | None = None,
    ) -> requests.Response:
        if self._closed:
            raise RuntimeError("this Client is closed")
        started = time.perf_counter()
        try:
            response = self.session.request(
                method,
                url,
                json=json,
                params=params,
                headers=self._headers,
                auth=self.auth.for_organization(organization_id),
                timeout=self.settings.timeout,
            )
        except requests.RequestException as exc:
            raise transport_failure(exc, method=method, url=url) from exc
        log.debug(
            "%s %s -> %s (%.0f ms)",
            method,
            short_url(url),
            response.status_code,
            (time.perf_counter() - started) * 1000,
        )
        return response

    def _get(self, endpoint_name: str, organization_id: str | None, **path: Any) -> Any:
        return self.call(endpoint_name, organization_id=organization_id, **path).content

    def _list(
        self,
        endpoint_name: str,
        organization_id: str | None,
        *,
        params: dict[str, str] | None = None,
        **path: Any,
    ) -> list[dict]:
        result = self.call(endpoint_name, organization_id=organization_id, params=params, **path)
        try:
            return result.records
        except TypeError:
            raise UnexpectedResponse(
                result.status_code,
                result.method,
                result.url,
                excerpt=f"content is not a LIST: {summary(result.content)}",
            ) from None

    # -- memory of what the API said ----------------------------------------------------------

    def _remember_templates(self, records: Iterable[Any]) -> None:
        with self._lock:
            for record in records:
                if isinstance(record, dict) and record.get("id"):
                    self._templates[str(record["id"])] = record

    def _remember_time_zone(self, organization_id: str | None, zone: Any) -> None:
        """Keep the time zone a slot answer named for its organization (saves a request)."""
        org = organization_id or self.settings.organization_id
        if zone and org:
            with self._lock:
                self._time_zones[org] = str(zone)

    def _remember_slot_ids(self, template_id: str, slot_ids: Iterable[str]) -> None:
        batch = dict.fromkeys(slot_ids, template_id)
        with self._lock:
            self._slot_templates.add(batch)


def segment(name: str, value: Any) -> str:
    """One path segment: any text encoded so that it cannot change the route it is put in.

    ``/`` and the like are percent-encoded. ``.`` and ``..`` cannot be sent at all: HTTP
    libraries (requests, urllib3) and servers read them as "this" and "the parent" folder, even
    when encoded as ``%2E``, so the request would go to another route.
    """
    if isinstance(value, bool) or not isinstance(value, (str, int)):
        raise TypeError(f"{name} must be a string, got {type(value).__name__}: {value!r}")
    text = str(value)
    if not text.strip():
        raise ValueError(f"{name} must not be empty")
    if text in (".", ".."):
        raise ValueError(f"{name} cannot be {text!r}: in a URL it names a folder, not a value")
    return quote(text, safe="")
