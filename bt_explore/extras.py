"""The optional parts of bt_explore and the ``pip install`` that brings each.

The core — settings, auth, client, frames, scan, sandbox, CLI — needs only its own
dependencies. The booking explorer, its web page (``bt-explore app``), plots and progress bars
need the ``notebook`` extra; record/replay needs ``record``. Importing a part whose extra is missing raises an
``ImportError`` that says which ``pip install`` fixes it.

Example:
    >>> print(missing_extra("ipywidgets", "bt_explore.widgets"))
    bt_explore.widgets needs ipywidgets, which is not installed: pip install 'bt_explore[notebook]'
"""

from __future__ import annotations

__all__ = ["EXTRAS", "missing_extra"]

#: importable module -> (the distribution to install, the extra of bt_explore that has it)
EXTRAS: dict[str, tuple[str, str]] = {
    "ipywidgets": ("ipywidgets", "notebook"),
    "matplotlib": ("matplotlib", "notebook"),
    "tqdm": ("tqdm", "notebook"),
    "voila": ("voila", "notebook"),
    "vcr": ("vcrpy", "record"),
    "yaml": ("PyYAML", "record"),
    "nbformat": ("nbformat", "record"),
    "nbclient": ("nbclient", "record"),
}


def missing_extra(module: str, feature: str) -> ImportError:
    """The error for ``feature`` (a module or function of bt_explore) when ``module`` is not
    installed: it names the extra to install.

    Example:
        >>> missing_extra("vcr", "connect(mode='replay')").name
        'vcr'
    """
    distribution, extra = EXTRAS[module]
    return ImportError(
        f"{feature} needs {distribution}, which is not installed: "
        f"pip install 'bt_explore[{extra}]'",
        name=module,
    )
