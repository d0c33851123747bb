"""Every ``bt-explore`` argument error: one line on stderr naming the option, exit status 2, no
traceback, nothing on stdout, nothing started."""

from __future__ import annotations

import subprocess
import sys

import pytest

from bt_explore.cli import main

BAD = {
    "sandbox --port -5": "--port: -5 is not a port",
    "sandbox --port 99999": "--port: 99999 is not a port",
    "sandbox --port abc": "--port: not a port number: 'abc'",
    "sandbox --now yesterday": "--now: 'yesterday' is not an ISO 8601 timestamp",
    "sandbox --host 0.0.0.0": "--host: the sandbox only listens on loopback addresses",
    "sandbox --fault-rate 2": "--fault-rate must be between 0 and 1",
    "sandbox --latency -10": "--latency must be >= 0",
    "sandbox --data /nonexistent/bt-explore": "--data: /nonexistent/bt-explore is not a folder",
    "sandbox --fault-statuses 200,abc": "--fault-statuses: 'abc' is not a status code",
    "sandbox --fault-rate 0.5 --fault-statuses 200": "--fault-statuses: 200 is not an HTTP error status",
    "sandbox --bogus": "unrecognized arguments: --bogus",
    "app --port 99999": "--port: 99999 is not a port",
    "scan --weeks 0": "--weeks must be at least 1",
    "scan --concurrency 0": "--concurrency must be at least 1",
    "scan --weeks x": "--weeks: invalid int value: 'x'",
    "nosuchcommand": "invalid choice: 'nosuchcommand'",
}


@pytest.mark.parametrize("argv", list(BAD), ids=list(BAD))
def test_an_argument_error_is_one_line_on_stderr_with_status_2(argv, capsys):
    try:
        status = main(argv.split())
    except SystemExit as exc:  # argparse's own errors
        status = exc.code
    out, err = capsys.readouterr()
    assert status == 2
    assert out == ""
    assert err.count("\n") == 1 and err.startswith("bt-explore"), err
    assert BAD[argv] in err
    assert "Traceback" not in err


def test_the_installed_command_refuses_a_bad_port_without_a_traceback():
    done = subprocess.run(
        [sys.executable, "-m", "bt_explore", "sandbox", "--port", "-5"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 2
    assert done.stdout == ""
    assert done.stderr.strip().splitlines() == [
        "bt-explore sandbox: argument --port: -5 is not a port: 0 (any free one) to 65535"
        " (see bt-explore sandbox --help)"
    ]
