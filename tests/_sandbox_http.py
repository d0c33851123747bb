"""Raw-HTTP helpers for the sandbox tests, which exercise the server without bt_explore.Client."""

from __future__ import annotations

import requests

from bt_explore.sandbox import Sandbox


def token(sb: Sandbox, organization_id: str | None = "demo") -> str:
    """An access token for the demo organization (or none / another organization)."""
    refresh = requests.post(
        sb.auth_url, data={"grant_type": "client_credentials", "client_id": sb.client_id}, timeout=5
    ).json()["refresh_token"]
    form = {"grant_type": "refresh_token", "client_id": sb.client_id, "refresh_token": refresh}
    if organization_id is not None:
        form["organization_id"] = (
            sb.organization_id if organization_id == "demo" else organization_id
        )
    answer = requests.post(sb.auth_url, data=form, timeout=5)
    assert answer.status_code == 200, answer.text
    return answer.json()["access_token"]


def bearer(sb: Sandbox) -> dict[str, str]:
    """The ``Authorization`` header of a demo-organization call."""
    return {"Authorization": f"Bearer {token(sb)}"}
