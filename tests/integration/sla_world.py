"""A desk, its read models and the SLA rules, with a clock the test moves: SLA tests' setting."""

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from adapters.bootstrap import open_read_store, open_service_desk, projection_runner
from adapters.config import TandemConfig, load_config
from adapters.sla_monitor import Recorded, SlaMonitor
from domain.service_desk import ServiceDesk
from projections import sla_reads
from projections.runner import ProjectionRunner
from projections.store import ReadStore
from tests.conftest import FakeClock


@dataclass
class SlaWorld:
    desk: ServiceDesk
    clock: FakeClock
    store: ReadStore
    runner: ProjectionRunner
    config: TandemConfig

    @classmethod
    def start(cls, url: str, clock: FakeClock,
              config: TandemConfig | None = None) -> "SlaWorld":
        config = config or TandemConfig()
        desk = open_service_desk(url, clock=clock)
        store = open_read_store(url)
        return cls(desk, clock, store, projection_runner(desk, store, config=config), config)

    def with_config(self, config: TandemConfig) -> "SlaWorld":
        """The same store read by a process started with another configuration."""
        runner = projection_runner(self.desk, self.store, config=config)
        return SlaWorld(self.desk, self.clock, self.store, runner, config)

    def clocks(self, number: str, now: datetime | None = None) -> dict[str, dict[str, Any]]:
        """The incident's clocks by target, as `sla show` computes them at `now`."""
        self.runner.catch_up()
        rows = sla_reads.clocks(self.store, [str(self.desk.incident(number).id)])
        rules = self.config.sla.rules()
        return {row["target"]: sla_reads.view(row, rules, now or self.clock())
                for row in rows}

    def monitor(self) -> SlaMonitor:
        return SlaMonitor(self.desk, self.store, self.config.sla.rules())

    def tick(self) -> list[Recorded]:
        """What `tandem sla tick` does: catch up, then one pass at the clock's time."""
        self.runner.catch_up()
        return self.monitor().tick(self.clock())

    def incident(self, **fields: Any) -> str:
        """Open an incident (on `email`, P5 unless told) and give its number."""
        fields = {"title": "Mail down", "service": "email", **fields}
        return self.desk.open_incident(actor="sd", **fields).number


def config_file(tmp_path: Path, text: str) -> TandemConfig:
    path = tmp_path / "tandem.toml"
    path.write_text(text)
    return load_config(path)
