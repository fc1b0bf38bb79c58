"""Every `tandem` call imports the CLI app first: the libraries only some commands or some stores
need (Kafka, PostgreSQL, rich tables, alert parsing, fuzzy matching, holidays, worker
processes) must load in those commands, not with the app, or every call pays for them."""

import subprocess
import sys

DEFERRED = {"kafka", "psycopg", "psycopg_pool", "eventsourcing.postgres", "rich", "drain3",
            "rapidfuzz", "holidays", "multiprocessing", "adapters.alerts.alertmanager",
            "adapters.alerts.generic", "adapters.kafka.topics", "adapters.kafka.projector",
            "adapters.rebuild_workers", "projections.suggestions"}

LOADED = ("import sys; import adapters.cli.app; "
          "print('\\n'.join(sorted(sys.modules)))")


def test_the_cli_app_loads_no_library_that_only_some_commands_need() -> None:
    done = subprocess.run([sys.executable, "-c", LOADED], capture_output=True, text=True,
                          check=True)
    modules = set(done.stdout.split())
    assert "adapters.cli.app" in modules
    loaded = {name for name in DEFERRED
              if any(m == name or m.startswith(name + ".") for m in modules)}
    assert loaded == set(), f"imported with the CLI app: {sorted(loaded)}"
