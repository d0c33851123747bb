"""The Module API client: one method per endpoint, typed errors, retries, safe booking.

:class:`Client` talks to bookingtime's Module API v3 over a pooled ``requests.Session``.
Its methods return plain Python data — the envelope's ``content``: entities are dicts, LIST
endpoints return their ``recordList`` as ``list[dict]``, slot calls return the range dict
(``rangeStart``, ``rangeEnd``, ``timeZone`` and the slots: ``list`` for day/week/month,
``bookingSlotList`` for the earliest slot, as bookingtime names them). :meth:`Client.call`
returns an :class:`ApiResult` that also carries the envelope's messages.

GET requests are retried with backoff on connection errors, 429 (honouring ``Retry-After``)
and 502/503/504 by urllib3's ``Retry``; POST and PUT never are. :meth:`Client.book` gives every
booking a ``customId`` and, when an answer is lost, asks ``appointment/{customId}/identify``
whether the booking exists instead of booking again.

Example:
    >>> import bt_explore
    >>> with bt_explore.connect(mode="sandbox") as client:                # doctest: +SKIP
    ...     template = client.templates()[0]
    ...     slot = client.earliest_slot(template["id"])["bookingSlotList"][0]
    ...     appointment = client.book(slot["id"], {"firstName": "Ada", "lastName": "Lovelace",
    ...                                            "email": "ada@example.com"})
"""

from __future__ import annotations

from bt_explore.client.booking import BookingMethods, new_custom_id
from bt_explore.client.custom_entities import CustomEntityMethods
from bt_explore.client.slots import SlotMethods, plan_slot_calls
from bt_explore.client.transport import ApiResult
from bt_explore.retry import default_retry

__all__ = ["Client", "ApiResult", "default_retry", "plan_slot_calls", "new_custom_id"]


class Client(BookingMethods, SlotMethods, CustomEntityMethods):
    """A client for bookingtime's Module API v3.

    ``settings`` default to :class:`Settings()` (arguments → environment → ``.env``); a client
    id is required. ``session`` is a ``requests.Session`` to use (the client mounts its pooled,
    retrying adapter on the API's and the auth server's addresses). ``clock`` drives token
    expiry (epoch seconds or aware datetimes). Nothing is sent until the first call.

    Every organization-scoped method takes ``organization_id=`` (default: the settings').

    Example:
        >>> from bt_explore import Client, Settings
        >>> client = Client(Settings(client_id="23demo", organization_id="f6demo", env_file=None))
        >>> client
        Client(api_url='https://api.bookingtime.com/module/v3/', locale='en', organization_id='f6demo')
    """
