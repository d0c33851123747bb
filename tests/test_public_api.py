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


#: Client methods renamed in this release: old name -> new name (the old ones warn for a release).
RENAMED_METHODS = {
    "templates_df": "templates_frame",
    "organizations_df": "branches_frame",
    "resources_df": "resources_frame",
    "slots_df": "slots_frame",
    "earliest_slot_df": "earliest_slot_frame",
    "slot_period_df": "slot_period_frame",
    "appointment_df": "appointment_frame",
    "custom_entities_df": "custom_entities_frame",
    "slot_period_answer": "_slot_period_answer",
    "slot_period_piece": "_slot_period_piece",
}


def _client_methods() -> dict[str, object]:
    import inspect

    from bt_explore import Client

    return dict(inspect.getmembers(Client, inspect.isfunction))


def test_dataframe_methods_are_named_like_the_frames_functions():
    """A Client method that answers a DataFrame ends in ``_frame``, as the functions of
    bt_explore.frames do (``templates_frame``); none ends in ``_df`` but the old aliases."""
    import inspect

    methods = _client_methods()
    frames = [
        n for n, m in methods.items() if inspect.signature(m).return_annotation == "pd.DataFrame"
    ]
    assert frames and all(n.endswith("_frame") for n in frames), frames
    assert {n for n in methods if n.endswith("_df")} <= set(RENAMED_METHODS)


@pytest.mark.parametrize("old, new", sorted(RENAMED_METHODS.items()))
def test_a_renamed_method_warns_and_calls_its_new_name(old, new):
    from bt_explore import Client, Settings

    client = Client(Settings(client_id="23demo", organization_id="f6demo", env_file=None))
    calls = []
    setattr(client, new, lambda *a, **k: calls.append((a, k)) or "answer")
    with pytest.deprecated_call(match=rf"{old}\(\) is deprecated"):
        assert getattr(client, old)("x", organization_id="f6b") == "answer"
    assert calls == [(("x",), {"organization_id": "f6b"})]
    assert new in _client_methods()
