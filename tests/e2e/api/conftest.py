"""A real uvicorn server on a free port, in a thread, over a real store; clients per role."""

import signal
import socket
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn

from adapters.bootstrap import open_api
from adapters.config import TandemConfig
from adapters.http.access import AuthConfig, PrincipalConfig, Role, token_hash
from adapters.http.app import Api
from adapters.http.server import Jobs, PeriodicJob
from tests.e2e.conftest import TANDEM

ADMIN_TOKEN = "admin-token-for-tests"
ROLE_TOKENS = {role: f"token-of-a-{role.value}" for role in Role}
NAMES = {Role.REPORTER: "rita", Role.AGENT: "alex", Role.MANAGER: "mona",
         Role.AUDITOR: "audrey", Role.ADMIN: "ada", Role.MONITOR: "prometheus"}
CONFIG = TandemConfig(auth=AuthConfig(principals=[
    PrincipalConfig(name=NAMES[role], roles=[role], token_sha256=token_hash(token))
    for role, token in ROLE_TOKENS.items()]))
STARTUP_TIMEOUT_S = 20.0


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


class ApiServer:
    """`open_api` served by uvicorn in a thread, with the projection job running."""

    def __init__(self, database_url: str) -> None:
        self.api: Api = open_api(database_url, config=CONFIG, admin=ADMIN_TOKEN)
        self.url = f"http://127.0.0.1:{free_port()}"
        port = int(self.url.rsplit(":", 1)[1])
        self.server = uvicorn.Server(uvicorn.Config(
            self.api.app, host="127.0.0.1", port=port, lifespan="off", log_level="warning"))
        self.jobs = Jobs([PeriodicJob("projections", 0.2, self.api.reads.catch_up)])
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    def start(self) -> "ApiServer":
        self.thread.start()
        self.jobs.start()
        deadline = time.monotonic() + STARTUP_TIMEOUT_S
        while not self.server.started:
            assert time.monotonic() < deadline, "the API server did not start"
            assert self.thread.is_alive(), "the API server thread died"
            time.sleep(0.01)
        return self

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)
        self.jobs.stop()
        self.api.close()

    def client(self, token: str | None = ADMIN_TOKEN, **options: Any) -> httpx.Client:
        headers = {"Authorization": f"Bearer {token}"} if token is not None else {}
        return httpx.Client(base_url=self.url, headers=headers, timeout=30, **options)


SERVE_STARTUP_TIMEOUT_S = 30.0


class Served:
    """A `tandem serve` subprocess on a free port; its stdout lines so far."""

    def __init__(self, tmp_path: Path, env: dict[str, str], *options: str) -> None:
        assert TANDEM is not None
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.process = subprocess.Popen(
            [TANDEM, "serve", "--port", str(self.port), *options], cwd=tmp_path, env=env,
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        deadline = time.monotonic() + SERVE_STARTUP_TIMEOUT_S
        while True:
            assert self.process.poll() is None, self.process.communicate()
            assert time.monotonic() < deadline, "tandem serve did not answer /health"
            try:
                if httpx.get(f"{self.url}/health").status_code == 200:
                    return
            except httpx.TransportError:
                time.sleep(0.05)

    def stop(self) -> tuple[int, str]:
        self.process.send_signal(signal.SIGTERM)
        out, _ = self.process.communicate(timeout=30)
        return self.process.returncode, out


@pytest.fixture
def start_server() -> Iterator[Callable[[str], ApiServer]]:
    started: list[ApiServer] = []

    def start(database_url: str) -> ApiServer:
        server = ApiServer(database_url).start()
        started.append(server)
        return server

    yield start
    for server in started:
        server.stop()


@pytest.fixture
def server(start_server: Callable[[str], ApiServer], sqlite_url: str) -> ApiServer:
    return start_server(sqlite_url)


@pytest.fixture
def admin(server: ApiServer) -> Iterator[httpx.Client]:
    with server.client() as client:
        yield client


def opened(client: httpx.Client, **fields: Any) -> dict[str, Any]:
    """POST /incidents that must succeed; the new incident's view."""
    response = client.post("/incidents", json={"title": "Mail relay queue stuck",
                                               "service": "email", **fields})
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body
