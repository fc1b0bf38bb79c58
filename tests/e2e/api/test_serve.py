"""`tandem serve` as a user starts it: first-start admin token, /health, SIGTERM exits 0."""

import os
from pathlib import Path

import httpx

from tests.e2e.api.conftest import Served
from tests.e2e.conftest import base_environment


def test_first_start_prints_an_admin_token_that_keeps_working_after_a_restart(
        tmp_path: Path) -> None:
    env = base_environment(None)  # the embedded default store under the working directory
    env.pop("TANDEM_ADMIN_TOKEN", None)
    env.pop("TANDEM_KAFKA_BOOTSTRAP", None)
    first = Served(tmp_path, env)
    code, out = first.stop()
    assert code == 0
    assert f"Tandem API on {first.url}" in out
    token_lines = [line for line in out.splitlines() if line.startswith("admin token")]
    assert len(token_lines) == 1
    token = token_lines[0].rsplit(" ", 1)[1]
    assert token not in (tmp_path / "var" / "tandem.db").read_bytes().decode("latin-1")

    second = Served(tmp_path, env)
    try:
        bearer = {"Authorization": f"Bearer {token}"}
        opened = httpx.post(f"{second.url}/incidents", headers=bearer,
                            json={"title": "Wi-Fi down on floor 3", "service": "network"})
        assert opened.status_code == 201
        listed = httpx.get(f"{second.url}/incidents", headers=bearer).json()["items"]
        assert [item["number"] for item in listed] == ["INC0000001"]
        assert httpx.get(f"{second.url}/incidents").status_code == 401
        metrics = httpx.get(f"{second.url}/metrics", headers=bearer)
        assert 'tandem_http_requests_total{method="POST",route="/incidents",status="201"} 1.0' \
            in metrics.text
        assert 'tandem_projection_lag_events{projection="incidents"}' in metrics.text
    finally:
        code, out = second.stop()
    assert code == 0
    assert "admin token" not in out
    assert "stopped" in out


def test_tandem_admin_token_is_the_admin_bearer_token(tmp_path: Path) -> None:
    env = {**base_environment(f"sqlite:///{tmp_path / 'served.db'}"),
           "TANDEM_ADMIN_TOKEN": "s3cret-admin"}
    env.pop("TANDEM_KAFKA_BOOTSTRAP", None)
    served = Served(tmp_path, env)
    try:
        good, bad = (httpx.get(f"{served.url}/incidents",
                               headers={"Authorization": f"Bearer {token}"})
                     for token in ("s3cret-admin", "guess"))
    finally:
        code, out = served.stop()
    assert (good.status_code, bad.status_code, code) == (200, 401, 0)
    assert "admin token" not in out
    assert os.path.exists(tmp_path / "served.db")
