"""The one retry policy: urllib3's ``Retry`` on the HTTP adapter, for requests that are safe to
send again.

API ``GET`` requests create nothing, and neither do token requests (a second client-credentials
or refresh answer only replaces the first), so both are retried on connection errors, 429
(honouring ``Retry-After``) and 502/503/504. ``appointment/add`` (POST) and move/cancel (PUT)
are never re-sent: :meth:`bt_explore.Client.book` settles a lost booking answer by asking
``identify`` instead.

Example:
    >>> retry = default_retry()
    >>> retry.total, sorted(retry.allowed_methods), sorted(retry.status_forcelist)
    (3, ['GET'], [429, 502, 503, 504])
    >>> sorted(for_token_requests(retry).allowed_methods)
    ['POST']
"""

from __future__ import annotations

from urllib3.util.retry import Retry

__all__ = ["RETRY_STATUSES", "default_retry", "for_token_requests"]

#: Statuses a safe request is retried on (besides connection errors).
RETRY_STATUSES = frozenset({429, 502, 503, 504})


def default_retry(total: int = 3, backoff_factor: float = 0.5) -> Retry:
    """The retry policy of :class:`~bt_explore.Client`: GET only, on connection errors, 429,
    502/503/504, at most ``total`` times with exponential backoff.

    Example:
        >>> default_retry().allowed_methods
        frozenset({'GET'})
    """
    return Retry(
        total=total,
        connect=total,
        read=total,
        status=total,
        other=0,
        status_forcelist=RETRY_STATUSES,
        # POST (appointment/add) and PUT (move, cancel) are not idempotent: never re-sent.
        allowed_methods=frozenset({"GET"}),
        backoff_factor=backoff_factor,
        respect_retry_after_header=True,
        # give the last answer back instead of raising, so errors.py can type it
        raise_on_status=False,
    )


def for_token_requests(retry: Retry) -> Retry:
    """``retry`` for the token endpoint: the same limits and backoff, for its POST requests.

    Example:
        >>> for_token_requests(default_retry(total=2)).total
        2
    """
    return retry.new(allowed_methods=frozenset({"POST"}))
