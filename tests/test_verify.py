"""``bt_explore.verify`` and ``bt-explore verify``: a read-only walk that names where a server's
answers differ from the declared models."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
from _proxy import ProxyRules, proxy
from _sandbox_cli import ROOT, sandbox_cli

import bt_explore
from bt_explore.cli import main
from bt_explore.models import Price
from bt_explore.sandbox import Sandbox
from bt_explore.verification import compare, mask
from conftest import SANDBOX_NOW

TYPES = ["course", "equipment"]


def _findings(report: dict) -> set[tuple[str, str]]:
    """(kind, last path segment) of every finding of a JSON report."""
    return {
        (f["kind"], f["path"].rsplit(".", 1)[-1])
        for check in report["endpoints"]
        for f in check["findings"]
    }


@pytest.mark.parametrize("dialect", ["clean", "php"])
def test_the_demo_sandbox_verifies_clean_in_both_dialects(dialect, tmp_path):
    """The command itself against ``bt-explore sandbox --dialect D``: exit 0, no difference."""
    out = tmp_path / "report.json"
    with sandbox_cli("--now", SANDBOX_NOW, "--dialect", dialect) as sb:
        run = subprocess.run(
            [sys.executable, "-m", "bt_explore", "verify", "--sandbox", sb.base_url,
             "--json", str(out), *(a for t in TYPES for a in ("--entity-type", t))],
            cwd=ROOT, capture_output=True, text=True, timeout=120,
        )  # fmt: skip
    assert run.returncode == 0, run.stdout + run.stderr
    report = json.loads(out.read_text())
    assert report["ok"] is True and _findings(report) == set()
    assert "no difference" in run.stdout
    assert report["requests_sent"] <= report["request_budget"]
    walked = {c["endpoint"] for c in report["endpoints"]}
    gets = {name for name, e in bt_explore.endpoints.ENDPOINTS.items() if e.method == "GET"}
    # every GET endpoint but those that need an appointment or a file (customer data)
    assert gets - walked == {
        "appointment_show", "appointment_identify", "appointment_showProtected",
        "appointment_custom_entity_list", "resource_custom_entity_list",
        "custom_entity_custom_entity_list", "file_download", "static_error",
    }  # fmt: skip


def test_a_drifted_template_answer_names_exactly_the_two_differences(tmp_path, capsys):
    rules = ProxyRules(drift=True)
    with Sandbox(now=SANDBOX_NOW) as sb, proxy(sb.base_url, rules) as url:
        status = main(["verify", "--sandbox", url, "--json", str(tmp_path / "r.json")])
    printed = capsys.readouterr().out
    assert status == 1
    report = json.loads((tmp_path / "r.json").read_text())
    assert _findings(report) == {("undeclared", "color"), ("type", "duration")}
    differing = {c["endpoint"] for c in report["endpoints"] if c["outcome"] == "differs"}
    assert {"template_list", "template_show", "template_identify"} <= differing
    assert "undeclared content.recordList[].color: string" in printed
    assert "type content.recordList[].duration: string, declared integer" in printed
    assert '(e.g. "60")' in printed
    # read-only: nothing but GETs to the API (and the token endpoint's POSTs)
    assert {m for m, p in rules.seen if p.startswith("/module/")} == {"GET"}
    assert {p for m, p in rules.seen if m != "GET"} == {"/oauth/token"}


def test_html_timeouts_and_denials_are_reported_and_the_rest_is_walked(tmp_path, capsys):
    rules = ProxyRules(
        html=r"/bookingResource/list$", slow=r"/static/currency/", deny=r"/moduleConfig/"
    )
    rules.slow_seconds = 2.5
    with Sandbox(now=SANDBOX_NOW) as sb, proxy(sb.base_url, rules) as url:
        status = main(
            ["verify", "--sandbox", url, "--timeout", "1", "--json", str(tmp_path / "r.json")]
        )
    report = json.loads((tmp_path / "r.json").read_text())
    outcome = {c["endpoint"] + " " + c["path"]: c["outcome"] for c in report["endpoints"]}
    assert status == 1
    assert outcome["resource_list …/bookingResource/list"] == "html"
    assert outcome["static_list static/currency/list"] == "timeout"
    assert outcome["moduleConfig_module_show module/{module_id}/…/moduleConfig/show"] == "denied"
    assert outcome["booking_category_tree …/bookingCategory/tree"] == "ok"  # walked after them
    assert outcome["static_list static/sector/list"] == "ok"
    printed = capsys.readouterr().out
    assert "not JSON (text/html" in printed and "no answer in time" in printed


def test_a_denied_endpoint_alone_is_not_a_difference(capsys):
    rules = ProxyRules(deny=r"/moduleConfig/")
    with Sandbox(now=SANDBOX_NOW) as sb, proxy(sb.base_url, rules) as url:
        assert main(["verify", "--sandbox", url]) == 0
    assert "denied" in capsys.readouterr().out


def test_the_report_holds_no_token_secret_or_customer_data(tmp_path):
    with Sandbox(now=SANDBOX_NOW) as sb, proxy(sb.base_url, ProxyRules(drift=True)) as url:
        main(["verify", "--sandbox", url, "--json", str(tmp_path / "r.json")])
        text = (tmp_path / "r.json").read_text()
        assert sb.client_id not in text  # the module id is named {module_id}
    assert "eyJ" not in text and "Bearer" not in text
    assert bt_explore.recording.find_secrets([tmp_path / "r.json"]) == []


def test_bad_input_is_named():
    assert main(["verify", "--max-records", "-1"]) == 2
    assert main(["verify", "--timeout", "0"]) == 2
    with Sandbox(now=SANDBOX_NOW) as sb:
        assert main(["verify", "--sandbox", sb.base_url + "/openapi.json/x"]) == 2


def test_the_root_document_must_be_the_sandboxs(capsys):
    with Sandbox(now=SANDBOX_NOW) as sb, proxy(sb.base_url, ProxyRules(html="^/$")):
        pass
    rules = ProxyRules()
    with Sandbox(now=SANDBOX_NOW) as sb, proxy(sb.base_url, rules) as url:
        assert main(["verify", "--sandbox", url + "/oauth/authorize"]) == 2
    assert "not the sandbox's JSON root document" in capsys.readouterr().err


def test_compare_names_undeclared_missing_and_type_differences():
    found = {f.line() for f in compare({"priceGross": "9", "taxRate": 19, "x": "Jane"}, Price)}
    assert found == {
        'type priceGross: string, declared number (e.g. "9")',
        "undeclared x: string (e.g. <text, 4 characters>)",
    }
    from bt_explore.models import BookingResource

    missing = compare({"class": "BOOKING_RESOURCE", "id": "br" + "a" * 30}, BookingResource)
    assert [f.line() for f in missing] == ["missing name: declared string"]


def test_examples_mask_personal_data():
    assert mask("Jane Doe", "lastName") == "<string>"
    assert mask("jane@example.org", "customerEmail") == "<string>"
    assert mask("Please call me at home after six", "remark") == "<text, 32 characters>"
    assert mask("fc" + "a" * 30) == '"' + "fc" + "a" * 30 + '"'
