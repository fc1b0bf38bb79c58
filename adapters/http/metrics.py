"""Prometheus metrics: requests by route, events appended, projection lag, relay lag."""

import time
from collections.abc import Callable, Iterator
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Histogram
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from adapters.http.reads import ReadModels

LagSource = Callable[[], int]


class Metrics:
    """One registry per app (tests start several apps in one process)."""

    def __init__(self, reads: ReadModels) -> None:
        self.registry = CollectorRegistry()
        self.requests = Counter("tandem_http_requests", "HTTP requests answered",
                                ["route", "method", "status"], registry=self.registry)
        self.latency = Histogram("tandem_http_request_duration_seconds",
                                 "Time to answer an HTTP request", ["route", "method"],
                                 registry=self.registry)
        self.alerts_received = Counter("tandem_alerts_received", "Alerts the webhooks took",
                                       ["source", "outcome"], registry=self.registry)
        self.sla_recorded = Counter("tandem_sla_recorded", "SLA warnings and breaches the "
                                    "monitor recorded", ["target", "kind"],
                                    registry=self.registry)
        self.problems_raised = Counter("tandem_problem_candidates_raised", "Problems the "
                                       "recurrence policy opened", registry=self.registry)
        self.job_failures = Counter("tandem_job_failures", "Failed runs of a background job",
                                    ["job"], registry=self.registry)
        self.store = _StoreCollector(reads)
        self.registry.register(self.store)

    def watch_relay(self, lag: LagSource) -> None:
        """Report the Kafka relay's lag (when `tandem serve` runs one)."""
        self.store.relay_lag = lag


class _StoreCollector(Collector):
    """Read at scrape time from the store itself, so every writer's events count."""

    def __init__(self, reads: ReadModels) -> None:
        self.reads = reads
        self.relay_lag: LagSource | None = None

    def collect(self) -> Iterator[Metric]:
        appended = CounterMetricFamily(
            "tandem_events_appended", "Events appended to the store's log (its last position)")
        appended.add_metric([], self.reads.log.max_notification_id() or 0)
        yield appended
        lag = GaugeMetricFamily("tandem_projection_lag_events",
                                "Events a read model has still to apply", labels=["projection"])
        for name, behind in self.reads.lag().items():
            lag.add_metric([name], behind)
        yield lag
        if self.relay_lag is not None:
            yield GaugeMetricFamily("tandem_relay_lag_events",
                                    "Events the Kafka relay has still to publish",
                                    value=self.relay_lag())


class MetricsMiddleware:
    """Counts and times every request under its route template (`/incidents/{ref}`)."""

    def __init__(self, app: ASGIApp, metrics: Metrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500

        async def sending(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, sending)
        finally:
            route: Any = scope.get("route")
            path = getattr(route, "path", "unmatched")
            method = scope["method"]
            self.metrics.requests.labels(path, method, str(status)).inc()
            self.metrics.latency.labels(path, method).observe(time.perf_counter() - started)
