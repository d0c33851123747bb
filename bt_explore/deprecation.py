"""Old names kept for one release: each warns (``DeprecationWarning``) and calls its new name.

Example:
    >>> import warnings
    >>> class Thing:
    ...     def new(self):
    ...         return 42
    ...     old = renamed_method("old", "new")
    >>> with warnings.catch_warnings(record=True) as caught:
    ...     warnings.simplefilter("always")
    ...     Thing().old()
    42
    >>> str(caught[0].message)
    'old() is deprecated and goes in the next release: use new()'
"""

from __future__ import annotations

import functools
import warnings
from collections.abc import Callable
from typing import Any, TypeVar

__all__ = ["deprecated", "renamed_method", "renamed_function"]

_F = TypeVar("_F", bound=Callable[..., Any])


def deprecated(old: str, advice: str) -> None:
    """Warn that ``old`` goes in the next release, with ``advice`` (what to use instead).

    Example:
        >>> import warnings
        >>> with warnings.catch_warnings(record=True) as caught:
        ...     warnings.simplefilter("always")
        ...     deprecated("x()", "use y()")
        >>> caught[0].category.__name__
        'DeprecationWarning'
    """
    warnings.warn(
        f"{old} is deprecated and goes in the next release: {advice}",
        DeprecationWarning,
        stacklevel=3,
    )


def renamed_method(old: str, new: str, advice: str | None = None) -> Callable[..., Any]:
    """A method ``old`` that warns and calls the method ``new`` of the same object.

    Example:
        >>> class C:
        ...     def b(self): return 1
        ...     a = renamed_method("a", "b")
        >>> C.a.__doc__
        'Deprecated: use :meth:`b` (``a`` goes in the next release).'
    """

    def alias(self: Any, *args: Any, **kwargs: Any) -> Any:
        deprecated(f"{old}()", advice or f"use {new}()")
        return getattr(self, new)(*args, **kwargs)

    alias.__name__ = alias.__qualname__ = old
    alias.__doc__ = f"Deprecated: use :meth:`{new}` (``{old}`` goes in the next release)."
    return alias


def renamed_function(old: str, new: _F) -> _F:
    """A function ``old`` that warns and calls ``new``.

    Example:
        >>> def add(a, b): return a + b
        >>> plus = renamed_function("plus", add)
        >>> plus.__name__
        'plus'
    """

    @functools.wraps(new)
    def alias(*args: Any, **kwargs: Any) -> Any:
        deprecated(f"{old}()", f"use {new.__name__}()")
        return new(*args, **kwargs)

    alias.__name__ = alias.__qualname__ = old
    alias.__doc__ = f"Deprecated: use :func:`{new.__name__}` (``{old}`` goes in the next release)."
    return alias  # type: ignore[return-value]
