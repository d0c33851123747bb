"""bt_explore — explore the bookingtime appointment-booking API from Python and Jupyter.

Authenticate, list booking templates and free slots as pandas DataFrames, book appointments
(safely: never twice), interactively with ipywidgets, reproducibly from recorded traffic, and
offline against a local sandbox of bookingtime's servers.

Example:
    >>> import bt_explore
    >>> client = bt_explore.connect(mode="sandbox")        # doctest: +SKIP
    >>> client.templates_frame()[["name", "duration"]]         # doctest: +SKIP

Public names are imported lazily, so ``import bt_explore`` is quick and pulls in pandas, Flask
or ipywidgets only when a name that needs them is first used.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from bt_explore.version import __version__

# public name -> module that defines it
_EXPORTS: dict[str, str] = {
    # settings, auth, client
    "Settings": "bt_explore.settings",
    "TokenAuth": "bt_explore.auth",
    "Client": "bt_explore.client",
    "ApiResult": "bt_explore.client",
    "connect": "bt_explore.connection",
    "login": "bt_explore.connection",
    # errors
    "BookingtimeError": "bt_explore.errors",
    "ConfigurationError": "bt_explore.errors",
    "TransportError": "bt_explore.errors",
    "ApiError": "bt_explore.errors",
    "ValidationError": "bt_explore.errors",
    "SlotUnavailable": "bt_explore.errors",
    "AuthenticationError": "bt_explore.errors",
    "PermissionDenied": "bt_explore.errors",
    "NotFound": "bt_explore.errors",
    "RateLimited": "bt_explore.errors",
    "ServerError": "bt_explore.errors",
    "UnexpectedResponse": "bt_explore.errors",
    "BookingOutcomeUnknown": "bt_explore.errors",
    "SignInError": "bt_explore.errors",
    "Message": "bt_explore.errors",
    # sandbox
    "Sandbox": "bt_explore.sandbox",
    # frames
    "templates_frame": "bt_explore.frames",
    "slots_frame": "bt_explore.frames",
    "resources_frame": "bt_explore.frames",
    "appointments_frame": "bt_explore.frames",
    "template_resources_frame": "bt_explore.frames",
    "custom_entities_frame": "bt_explore.frames",
    "organizations_frame": "bt_explore.frames",
    "save_frame": "bt_explore.export",
    # analysis
    "scan_slots": "bt_explore.scan",
    "ScanError": "bt_explore.scan",
    # the real service: contract drift, offline twin
    "verify": "bt_explore.verification",
    "VerifyReport": "bt_explore.verification",
    "save_twin": "bt_explore.twin",
    # widgets
    "BookingExplorer": "bt_explore.widgets",
}

_SUBMODULES = ("plots", "recording", "endpoints", "frames", "widgets", "sandbox")

__all__ = sorted([*_EXPORTS, *_SUBMODULES, "__version__"])


def __getattr__(name: str) -> Any:
    if name in _EXPORTS:
        value = getattr(importlib.import_module(_EXPORTS[name]), name)
        globals()[name] = value
        return value
    if name in _SUBMODULES:
        return importlib.import_module(f"bt_explore.{name}")
    raise AttributeError(f"module 'bt_explore' has no attribute {name!r}")


def __dir__() -> list[str]:
    return __all__


if TYPE_CHECKING:  # pragma: no cover - for type checkers and IDEs only
    from bt_explore.auth import TokenAuth
    from bt_explore.client import ApiResult, Client
    from bt_explore.connection import connect, login
    from bt_explore.errors import (
        ApiError,
        AuthenticationError,
        BookingOutcomeUnknown,
        BookingtimeError,
        ConfigurationError,
        Message,
        NotFound,
        PermissionDenied,
        RateLimited,
        ServerError,
        SignInError,
        SlotUnavailable,
        TransportError,
        UnexpectedResponse,
        ValidationError,
    )
    from bt_explore.export import save_frame
    from bt_explore.frames import (
        appointments_frame,
        custom_entities_frame,
        organizations_frame,
        resources_frame,
        slots_frame,
        template_resources_frame,
        templates_frame,
    )
    from bt_explore.sandbox import Sandbox
    from bt_explore.scan import ScanError, scan_slots
    from bt_explore.widgets import BookingExplorer
