"""``bookingCategory/tree``, the 43rd method: endpoint row, client method, sandbox route, data."""

from __future__ import annotations

import json

import pytest

import bt_explore
from bt_explore.endpoints import ENDPOINTS
from bt_explore.sandbox import Sandbox


def test_the_row_is_the_sdks_path():
    endpoint = ENDPOINTS["booking_category_tree"]
    assert (endpoint.method, endpoint.path) == ("GET", "organization/{org}/bookingCategory/tree")


def test_the_client_reads_the_demo_tree(sandbox):
    with bt_explore.connect(sandbox=sandbox) as client:
        tree = client.booking_categories()
        templates = {t["id"] for t in client.templates()}
    assert [c["name"] for c in tree] == ["Examinations", "Therapies", "Courses and rooms"]
    assert [c["name"] for c in tree[0]["bookingCategoryList"]] == ["Consultations"]
    assert all(c["class"] == "BOOKING_CATEGORY" for c in tree)
    listed = [t for c in tree for t in c["bookingTemplateIdList"]]
    assert set(listed) <= templates and "_organizationId" not in tree[0]


def test_a_branch_without_categories_answers_an_empty_list(sandbox):
    with bt_explore.connect(sandbox=sandbox) as client:
        branch = client.branches()[0]["id"]
        assert client.booking_categories(organization_id=branch) == []


def test_a_data_folder_brings_its_own_tree(tmp_path):
    org = "f6123456789101112131415aBCdeFgHi"
    records = [
        {"id": "root", "_organizationId": org, "_parentCategoryId": None, "name": "All"},
        {"id": "kid", "_organizationId": org, "_parentCategoryId": "root", "name": "Some",
         "bookingTemplateIdList": ["fc12345678910AbcDefGh1112131415a"]},
    ]  # fmt: skip
    (tmp_path / "booking_categories.json").write_text(json.dumps(records))
    with Sandbox(data_dir=tmp_path) as sb, bt_explore.connect(sandbox=sb) as client:
        tree = client.booking_categories()
    assert [(c["name"], [k["name"] for k in c["bookingCategoryList"]]) for c in tree] == [
        ("All", ["Some"])
    ]


def test_a_category_naming_an_unknown_parent_is_refused(tmp_path):
    org = "f6123456789101112131415aBCdeFgHi"
    records = [{"id": "kid", "_organizationId": org, "_parentCategoryId": "gone", "name": "x"}]
    (tmp_path / "booking_categories.json").write_text(json.dumps(records))
    with pytest.raises(ValueError, match="_parentCategoryId"):
        Sandbox(data_dir=tmp_path)
