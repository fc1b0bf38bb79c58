"""`tandem serve`: the API, the projection runner, the SLA monitor, the recurrence policy, the
alert intake's flushes and, when configured, the Kafka relay."""

import logging
from typing import TYPE_CHECKING, Annotated

import typer

from adapters.bootstrap import (
    Settings,
    admin_token,
    kafka_relay,
    open_api,
    open_read_store,
    relay_settings,
)

if TYPE_CHECKING:  # FastAPI and uvicorn load when the server starts, not with every command
    from adapters.http.app import Api
    from adapters.http.server import PeriodicJob

PROJECTION_POLL_S = 0.2
RELAY_POLL_S = 0.5
PURGE_EVERY_S = 3600.0
SLA_EVERY_S = 30.0
RECURRENCE_EVERY_S = 60.0


def run(
    host: Annotated[str, typer.Option(help="Interface to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(min=1, max=65535, help="TCP port.")] = 8000,
    new_admin_token: Annotated[bool, typer.Option(
        "--new-admin-token", help="Replace the stored admin token with a new one (printed "
        "once); the old one stops working.")] = False,
    sla_interval: Annotated[float, typer.Option(
        min=0, help="Seconds between SLA monitor passes; 0: this server runs none.")]
    = SLA_EVERY_S,
    recurrence_interval: Annotated[float, typer.Option(
        min=0, help="Seconds between recurrence policy passes (when [recurrence] "
        "problem_candidates is on); 0: this server runs none.")] = RECURRENCE_EVERY_S,
    relay: Annotated[bool, typer.Option(
        "--relay/--no-relay", help="With TANDEM_KAFKA_BOOTSTRAP set: publish to Kafka from "
        "this server, or leave that to a dedicated `tandem relay kafka` and only report its "
        "lag on /metrics.")] = True,
) -> None:
    """Serve the HTTP API until SIGTERM (docs/http.md); /health answers without a token."""
    from adapters.http.jobs import (
        alert_intake_job,
        read_model_upgrade_job,
        recurrence_jobs,
        sla_monitor_jobs,
    )
    from adapters.http.server import PeriodicJob, serve

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    settings = Settings.from_environment()
    api = open_api(settings.database_url, config=settings.config(), admin=admin_token(),
                   renew_admin_token=new_admin_token)
    jobs = [PeriodicJob("projections", PROJECTION_POLL_S, api.reads.catch_up),
            read_model_upgrade_job(api),
            PeriodicJob("idempotency-purge", PURGE_EVERY_S, api.idempotency.purge),
            *sla_monitor_jobs(api, every=sla_interval),
            *recurrence_jobs(api, every=recurrence_interval),
            alert_intake_job(api),
            *_relay_jobs(api, settings.database_url, publish=relay)]
    url = f"http://{host}:{port}"
    typer.echo(f"Tandem API on {url} (store {settings.database_url}); "
               f"docs: {url}/docs with a token")
    if api.new_admin_token is not None:
        typer.echo(f"admin token (shown once, only its hash is kept): {api.new_admin_token}")
        typer.echo(f'  try: curl -H "Authorization: Bearer {api.new_admin_token}" '
                   f"{url}/incidents")
    try:
        serve(api.app, host=host, port=port, jobs=jobs,
              failed=lambda job: api.metrics.job_failures.labels(job).inc())
    finally:
        api.close()
    typer.echo("stopped")


def _relay_jobs(api: "Api", database_url: str, *, publish: bool) -> list["PeriodicJob"]:
    """The Kafka relay, when TANDEM_KAFKA_BOOTSTRAP is set; its lag goes to /metrics. Not
    publishing, the server reports the lag of the dedicated relay (its stored position)."""
    from adapters.http.server import PeriodicJob
    from adapters.kafka.positions import relay_lag
    from adapters.kafka.topics import ensure_topics
    from adapters.kafka.wire import dead_letter_topic

    kafka = relay_settings()
    if kafka is None:
        return []
    if not publish:
        api.metrics.watch_relay(
            lambda: relay_lag(api.reads.store(), api.reads.log, topic=kafka.topic).lag)
        return []
    relay = kafka_relay(api.desk, open_read_store(database_url), bootstrap=kafka.bootstrap,
                        topic=kafka.topic)
    api.metrics.watch_relay(lambda: relay.status().lag)
    topics_ready = False

    def publish_events() -> None:
        nonlocal topics_ready
        if not topics_ready:
            ensure_topics(kafka.bootstrap, [kafka.topic, dead_letter_topic(kafka.topic)],
                          partitions=kafka.partitions)
            topics_ready = True
        relay.catch_up()

    return [PeriodicJob("kafka-relay", RELAY_POLL_S, publish_events, stop=relay.close)]
