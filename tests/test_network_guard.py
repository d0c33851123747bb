"""The test run reaches nothing but 127.0.0.1 (see the root conftest)."""

import pytest
import requests


def test_outside_is_refused():
    with pytest.raises(requests.ConnectionError, match="127.0.0.1"):
        requests.get("http://example.com/", timeout=2)
