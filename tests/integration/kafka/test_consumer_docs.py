"""The analytics consumer of docs/consumers.md, run as written against published events."""

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

import adapters.kafka.consumer
from adapters.kafka.consumer import EventConsumer
from tests.conftest import FakeClock
from tests.integration.kafka.helpers import CONSUMER_TIMING
from tests.integration.kafka.test_relay_contract import publish

pytestmark = pytest.mark.kafka
DOCS = Path(__file__).resolve().parents[3] / "docs" / "consumers.md"


def test_the_documented_mttr_consumer_prints_the_mean_time_to_resolve(
        sqlite_url: str, clock: FakeClock, broker: str, topic: Callable[..., str],
        monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    from adapters.bootstrap import open_service_desk

    desk = open_service_desk(sqlite_url, clock=clock)
    quick = desk.open_incident(actor="sd", title="Mail queue stuck", service="email").number
    slow = desk.open_incident(actor="sd", title="Outlook cannot connect", service="email").number
    clock.advance(minutes=90)
    desk.resolve_incident(quick, actor="sd", code="solution_provided", notes="queue flushed")
    clock.advance(minutes=60)
    desk.resolve_incident(slow, actor="sd", code="workaround_provided", notes="webmail")
    name = topic(partitions=3)
    publish(sqlite_url, broker, name)
    printed: list[str] = []

    class OnTheTestBroker(EventConsumer):
        """The docs' consumer with this test's broker and topic; `run` stops after both."""

        def __init__(self, handler: Callable[..., Any], *, bootstrap: str,
                     group_id: str) -> None:
            assert bootstrap == "localhost:9094"  # compose's broker, as the docs say
            super().__init__(handler, bootstrap=broker, group_id=group_id, topic=name,
                             consumer_config=CONSUMER_TIMING)

        def run(self, **_: Any) -> None:
            deadline = time.monotonic() + 30

            def stop() -> bool:
                printed.extend(capsys.readouterr().out.splitlines())
                return len(printed) >= 2 or time.monotonic() > deadline

            super().run(stop=stop, timeout_ms=200)
            self.close()

    monkeypatch.setattr(adapters.kafka.consumer, "EventConsumer", OnTheTestBroker)
    snippet = DOCS.read_text().split("```python\n", 1)[1].split("```", 1)[0]

    exec(compile(snippet, str(DOCS), "exec"), {"__name__": "docs_consumer"})

    # The two incidents' events may come from different partitions, in either order.
    assert printed in (["email 1.5 h", "email 2.0 h"], ["email 2.5 h", "email 2.0 h"])
