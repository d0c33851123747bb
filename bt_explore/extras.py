"""The optional parts of bt_explore and the ``pip install`` that brings each.

The core — settings, auth, client, frames, scan, sandbox, CLI — needs only its own
dependencies. Each extra brings one part: ``widgets`` the booking explorer and notebook progress
bars (in the Jupyter you already have), ``plots`` :mod:`bt_explore.plots`, ``app`` the explorer
as a web page (``bt-explore app``, with Voilà), ``record`` record/replay, ``parquet`` Parquet files; ``notebook`` is the
all-in-one with JupyterLab. Importing a part whose extra is missing raises an ``ImportError``
that says which ``pip install`` fixes it.

Example:
    >>> print(missing_extra("ipywidgets", "bt_explore.widgets"))
    bt_explore.widgets needs ipywidgets, which is not installed: pip install 'bt_explore[widgets]'
"""

from __future__ import annotations

__all__ = ["EXTRAS", "PARTS", "missing_extra"]

#: importable module -> (the distribution to install, the extra of bt_explore that has it)
EXTRAS: dict[str, tuple[str, str]] = {
    "ipywidgets": ("ipywidgets", "widgets"),
    "tqdm": ("tqdm", "widgets"),
    "matplotlib": ("matplotlib", "plots"),
    "voila": ("voila", "app"),
    "vcr": ("vcrpy", "record"),
    "yaml": ("PyYAML", "record"),
    "nbformat": ("nbformat", "record"),
    "nbclient": ("nbclient", "record"),
    "pyarrow": ("pyarrow", "parquet"),
}


#: extra -> what it is for (``pyproject.toml``'s optional dependencies are these, plus ``dev``)
PARTS: dict[str, str] = {
    "widgets": "the booking explorer and notebook progress bars, in the Jupyter you have",
    "plots": "bt_explore.plots (matplotlib)",
    "app": "`bt-explore app`: the explorer as a web page (Voilà)",
    "record": "record/replay: connect(mode='replay' | 'record'), `bt-explore record`",
    "parquet": "bt_explore.save_frame(frame, 'x.parquet') (pyarrow)",
    "notebook": "the all-in-one: JupyterLab and every part the notebooks use",
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
