"""The curated public API: every name in ``bt_explore.__all__`` resolves, and nothing else is
public."""

from __future__ import annotations

import subprocess
import sys

import pytest

import bt_explore

PUBLIC = sorted(bt_explore.__all__)


@pytest.mark.parametrize("name", PUBLIC)
def test_every_public_name_resolves(name):
    assert getattr(bt_explore, name) is not None


def test_dir_is_exactly_all():
    assert dir(bt_explore) == PUBLIC
    assert len(set(PUBLIC)) == len(PUBLIC)


def test_star_import_gives_exactly_all():
    namespace: dict = {}
    exec("from bt_explore import *", namespace)
    assert sorted(k for k in namespace if k != "__builtins__") == PUBLIC


def test_unknown_names_raise_attribute_error():
    with pytest.raises(AttributeError, match="no attribute 'Clientt'"):
        bt_explore.Clientt  # noqa: B018


def test_exported_objects_live_where_the_table_says():
    for name, module in bt_explore._EXPORTS.items():
        assert getattr(bt_explore, name).__module__.startswith(module), name


def test_import_is_light():
    """``import bt_explore`` pulls in neither pandas, Flask, ipywidgets nor requests."""
    code = (
        "import sys, bt_explore; "
        "print(sorted(m for m in ('pandas', 'flask', 'ipywidgets', 'requests', 'matplotlib') "
        "if m in sys.modules))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert done.stdout.strip() == "[]", done.stderr


def test_client_names_are_public():
    for name in ("Settings", "TokenAuth", "Client", "ApiResult", "connect", "Message"):
        assert name in PUBLIC


def test_every_endpoint_has_a_client_method():
    """Each row of the endpoint table is reached through a public Client method (its name in
    the method's code); ``static_error`` — the API's error envelope for a status — is the one
    reached through ``client.call("static_error", code=...)``, as docs/client.md shows."""
    from tools.endpoint_table import client_methods

    reached = client_methods()
    assert [e for e, methods in reached.items() if not methods] == ["static_error"]
