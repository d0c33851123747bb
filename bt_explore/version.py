"""The version of bt_explore (also ``bt_explore.__version__``).

Example:
    >>> from bt_explore.version import __version__
    >>> __version__.count(".") >= 1
    True
"""

__all__ = ["__version__"]

__version__ = "0.1.0"
